"""Helpers the sandbox tests share: the shipped mailboxes, exchangelib accounts, small messages."""

from __future__ import annotations

import itertools
from pathlib import Path

import requests
from exchangelib import (
    BASIC,
    DELEGATE,
    Account,
    Build,
    Configuration,
    Credentials,
    Version,
)
from lxml import etree

from exchange_sandbox.server import SandboxHandle

SHARED = "klantcontact@woonservice.example"
DEVRIES = "j.devries@woonservice.example"
BAKKER = "a.bakker@woonservice.example"
SERVICE_USER = "svc-topcontact"
PASSWORD = "Sandbox-Demo-2026!"
VERSION = Version(build=Build(15, 1, 2507, 6))
#: Microsoft's EWS schema, shipped with the sandbox (it validates requests and answers with it).
SCHEMA_DIR = Path(__file__).resolve().parents[1] / "exchange_sandbox" / "schema"

_counter = itertools.count(1)


def make_config(
    handle: SandboxHandle,
    user: str = SERVICE_USER,
    password: str = PASSWORD,
    auth_type: str = BASIC,
    probe: bool = False,
) -> Configuration:
    return Configuration(
        service_endpoint=handle.ews_url,
        credentials=Credentials(user, password),
        auth_type=auth_type,
        version=None if probe else VERSION,
    )


def account(
    handle: SandboxHandle,
    address: str = SHARED,
    access_type: str = DELEGATE,
    **config_kwargs: object,
) -> Account:
    return Account(
        address,
        config=make_config(handle, **config_kwargs),  # type: ignore[arg-type]  # test helper passes through
        autodiscover=False,
        access_type=access_type,
    )


def eml(
    subject: str = "Lekkage in de badkamer",
    sender: str = "Piet Jansen <piet@example.org>",
    to: str = SHARED,
    extra: str = "",
    body: str = "Goedemiddag, er lekt water.",
) -> bytes:
    """A small RFC 5322 message with a unique Message-ID."""
    n = next(_counter)
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <msg{n}.{id(body)}@example.org>\r\n"
        f"Date: Fri, 27 Nov 2026 10:00:00 +0100\r\n{extra}"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{body}\r\n"
    ).encode()


def folder_items(handle: SandboxHandle, mailbox: str, folder: str) -> list[dict[str, object]]:
    resp = requests.get(f"{handle.url}/_sandbox/mailboxes/{mailbox}/{folder}", timeout=10)
    resp.raise_for_status()
    result: list[dict[str, object]] = resp.json()
    return result


SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
MNS = "http://schemas.microsoft.com/exchange/services/2006/messages"
TNS = "http://schemas.microsoft.com/exchange/services/2006/types"
ENS = "http://schemas.microsoft.com/exchange/services/2006/errors"


def envelope(body: str, header: str = "", version: str | None = "Exchange2016") -> bytes:
    """A SOAP request as exchangelib writes it (one line), with a RequestServerVersion header."""
    version_header = f'<t:RequestServerVersion Version="{version}"/>' if version else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP_NS}" xmlns:m="{MNS}" xmlns:t="{TNS}">'
        f"<soap:Header>{version_header}{header}</soap:Header>"
        f"<soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()


def post_soap(
    handle: SandboxHandle,
    body: str | bytes,
    header: str = "",
    user: str = SERVICE_USER,
    version: str | None = "Exchange2016",
) -> requests.Response:
    """POST one SOAP request (a body fragment, or a whole envelope as bytes) with Basic auth."""
    data = body if isinstance(body, bytes) else envelope(body, header, version)
    return requests.post(
        handle.ews_url,
        data=data,
        auth=(user, PASSWORD),
        headers={"Content-Type": "text/xml; charset=utf-8"},
        timeout=10,
    )


def fault_code(response: requests.Response) -> str:
    """The EWS ResponseCode of a SOAP fault (HTTP 500), or "" when the answer is no fault."""
    root = etree.fromstring(response.content)
    code = root.findtext(f"{{{SOAP_NS}}}Body/{{{SOAP_NS}}}Fault/detail/{{{ENS}}}ResponseCode")
    return code or ""


def response_codes(response: requests.Response) -> list[str]:
    """The ResponseCode of every response message of a normal answer, in order."""
    root = etree.fromstring(response.content)
    return [el.text or "" for el in root.iter(f"{{{MNS}}}ResponseCode")]


_RECOVER = etree.XMLParser(recover=True, resolve_entities=False)


def answer_problem(operation: str, request: bytes, response: bytes) -> str | None:
    """Why an EWS answer is not what Exchange could send (schema-invalid), or None.

    Exchange writes characters XML 1.0 cannot carry as character references (``&#x0;``);
    clients parse such answers leniently, so the lenient parse is what is validated then.
    """
    from exchange_sandbox.ews.validation import ews_schema

    try:
        root = etree.fromstring(response)
    except etree.XMLSyntaxError:
        if b"&#x" not in response:
            return f"{operation}: the answer is not XML: {response[:300]!r}"
        root = etree.fromstring(response, _RECOVER)
    body = root.find(f"{{{SOAP_NS}}}Body")
    if body is None or len(body) != 1:
        return f"{operation}: no single SOAP body element"
    header = root.find(f"{{{SOAP_NS}}}Header")
    fault = body.find(f"{{{SOAP_NS}}}Fault")
    parts = [body[0]] if fault is None else []
    if fault is None and header is None:
        return f"{operation}: an answer without ServerVersionInfo"
    if fault is not None:
        if header is not None:
            return f"{operation}: a SOAP fault with a soap:Header"
        if not fault.findtext(f"detail/{{{ENS}}}ResponseCode"):
            return f"{operation}: a SOAP fault without an EWS ResponseCode"
        # detail/MessageXml has no global declaration (its content is lax "any" in the schema).
    parts += list(header) if header is not None else []
    schema = ews_schema()
    for part in parts:
        if not schema.validate(part):
            errors = "; ".join(str(e) for e in list(schema.error_log)[:3])
            return f"{operation}: {etree.QName(part).localname} is schema-invalid: {errors}"
    return None


def check_answers(handle: SandboxHandle) -> list[str]:
    """Check every EWS answer of ``handle`` from now on; the list collects the problems."""
    problems: list[str] = []

    def check(operation: str, request: bytes, response: bytes) -> None:
        problem = answer_problem(operation, request, response)
        if problem:
            problems.append(problem)

    handle.server.recorder = check
    return problems
