"""EWS answers of the sandbox (a test double): the envelope and one response message per request id.

Exchange answers every id of a request with its own response message, ``ResponseClass``
Success or Error; one failing id never fails the others.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from exchange_sandbox.ews.faults import EwsFault
from exchange_sandbox.ews.versions import server_schema_version
from exchange_sandbox.ews.xml import NSMAP, SOAP_NS, TNS, Element, m, sub, t
from exchange_sandbox.store import ReadOnlyProperty

Build = tuple[int, int, int, int]


def envelope(build: Build) -> tuple[Element, Element]:
    """A SOAP envelope with the ServerVersionInfo header of ``build``; returns (envelope, body)."""
    env = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"s": SOAP_NS})
    header = sub(env, f"{{{SOAP_NS}}}Header")
    major, minor, number, rev = build
    etree.SubElement(
        header,
        f"{{{TNS}}}ServerVersionInfo",
        nsmap={"h": TNS},
        attrib={
            "MajorVersion": str(major),
            "MinorVersion": str(minor),
            "MajorBuildNumber": str(number),
            "MinorBuildNumber": str(rev),
            "Version": server_schema_version(build),
        },
    )
    body = etree.SubElement(env, f"{{{SOAP_NS}}}Body", nsmap=NSMAP)
    return env, body


def response_message(op: str, parent: Element, error: EwsFault | None = None) -> Element:
    msg = sub(parent, m(f"{op}ResponseMessage"), ResponseClass="Error" if error else "Success")
    if error is not None:
        sub(msg, m("MessageText"), error.text)
        sub(msg, m("ResponseCode"), error.code)
        sub(msg, m("DescriptiveLinkKey"), "0")
        if error.values or error.field_uri:
            mx = sub(msg, m("MessageXml"))
            if error.field_uri:
                sub(mx, t("FieldURI"), FieldURI=error.field_uri)
            for name, value in error.values.items():
                sub(mx, t("Value"), value, Name=name)
    else:
        sub(msg, m("ResponseCode"), "NoError")
    return msg


def each(
    op: str,
    elements: list[Element],
    build: Callable[[Element, Element], None],
    error_tail: Callable[[Element], None] | None = None,
) -> Element:
    """The ``{op}Response`` with one message per element, built by ``build(element, message)``.

    ``error_tail`` adds what Exchange keeps (empty) in a failed message of this operation.
    """
    resp = etree.Element(m(f"{op}Response"), nsmap=NSMAP)
    msgs = sub(resp, m("ResponseMessages"))
    for el in elements:
        try:
            # Render into a scratch element first, so an error leaves no half-built message.
            scratch = etree.Element(m("scratch"))
            build(el, scratch)
        except (EwsFault, ReadOnlyProperty) as exc:
            fault = (
                exc
                if isinstance(exc, EwsFault)
                else EwsFault("ErrorInvalidPropertySet", f"{exc} is read-only.")
            )
            msg = response_message(op, msgs, fault)
            if error_tail is not None:
                error_tail(msg)
            continue
        msg = response_message(op, msgs)
        for child in scratch:
            msg.append(child)
    return resp


def empty_items(msg: Element) -> None:
    """Exchange keeps an empty Items element in a failed GetItem/CreateItem message."""
    sub(msg, m("Items"))
