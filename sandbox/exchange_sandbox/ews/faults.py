"""EWS errors of the sandbox (a test double): the EwsFault exception and SOAP fault documents.

An :class:`EwsFault` raised while answering one id becomes an error response message;
raised for the request as a whole it becomes a SOAP fault (HTTP 500), as Exchange sends
for throttling, schema violations and request-level errors.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from exchange_sandbox.ews.xml import ENS, SOAP_NS, TNS, Element, serialized, sub, t, writable


class EwsFault(Exception):
    """An error answered as a response message (or SOAP fault) with an EWS response code."""

    def __init__(
        self,
        code: str,
        text: str = "",
        values: dict[str, str] | None = None,
        field_uri: str | None = None,
    ) -> None:
        super().__init__(f"{code}: {text}")
        self.code = code
        self.text = text or code
        self.values = values or {}
        self.field_uri = field_uri
        """The property an error is about (MessageXml/FieldURI), as Exchange names it."""


def serialize(env: Element) -> bytes:
    return serialized(env)


def soap_fault(
    code: str,
    text: str,
    values: dict[str, str] | None = None,
    details: Sequence[tuple[str, str]] | None = None,
    faultstring: str | None = None,
) -> bytes:
    """A SOAP fault as Exchange sends for throttling and request-level errors (HTTP 500).

    Unlike a normal answer it has no soap:Header (no ServerVersionInfo), as in Microsoft's
    published faults; exchangelib reads the version from normal answers only.
    """
    env = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"s": SOAP_NS})
    body = sub(env, f"{{{SOAP_NS}}}Body")
    fault = sub(body, f"{{{SOAP_NS}}}Fault")
    code_el = etree.SubElement(fault, "faultcode", nsmap={"a": TNS})
    code_el.text = f"a:{code}"
    fs = sub(fault, "faultstring", faultstring or text)
    fs.set("{http://www.w3.org/XML/1998/namespace}lang", "en-US")
    detail = sub(fault, "detail")
    etree.SubElement(detail, f"{{{ENS}}}ResponseCode", nsmap={"e": ENS}).text = code
    etree.SubElement(detail, f"{{{ENS}}}Message", nsmap={"e": ENS}).text = writable(text)
    if values or details:
        mx = etree.SubElement(detail, f"{{{TNS}}}MessageXml", nsmap={"t": TNS})
        for name, value in (values or {}).items():
            sub(mx, t("Value"), value, Name=name)
        for name, value in details or ():
            sub(mx, t(name), value)
    return serialize(env)


def schema_fault(violation: str, line: int, position: int) -> bytes:
    """ErrorSchemaValidation as Exchange sends it: where in the request, and what is wrong
    (the faultstring repeats the violation, as in ecederstrand/exchangelib#501)."""
    return soap_fault(
        "ErrorSchemaValidation",
        "The request failed schema validation.",
        faultstring=f"The request failed schema validation: {violation}",
        details=(
            ("LineNumber", str(line)),
            ("LinePosition", str(position)),
            ("Violation", violation),
        ),
    )


def syntax_fault(exc: etree.XMLSyntaxError) -> bytes:
    """ErrorSchemaValidation for a request that is not well-formed XML."""
    line, column = exc.position if exc.position else (exc.lineno or 0, 0)
    return schema_fault(str(exc.msg or exc), line, column)


def server_busy(back_off_ms: int) -> bytes:
    """ErrorServerBusy, Exchange's throttling answer, with the back-off the client must wait."""
    return soap_fault(
        "ErrorServerBusy",
        "The server cannot service this request right now. Try again later.",
        {"BackOffMilliseconds": str(back_off_ms)},
    )


def fault_of(exc: EwsFault) -> bytes:
    return soap_fault(exc.code, exc.text, exc.values)
