"""EWS XML basics of the sandbox (a test double): namespaces, the hardened parser, element helpers."""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
TNS = "http://schemas.microsoft.com/exchange/services/2006/types"
MNS = "http://schemas.microsoft.com/exchange/services/2006/messages"
ENS = "http://schemas.microsoft.com/exchange/services/2006/errors"
NSMAP = {"m": MNS, "t": TNS}

Element = etree._Element

# Requests come from the network: no entity expansion, no fetching of external documents.
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)


def t(tag: str) -> str:
    return f"{{{TNS}}}{tag}"


def m(tag: str) -> str:
    return f"{{{MNS}}}{tag}"


def sub(parent: Element, tag: str, text: str | None = None, **attrs: str) -> Element:
    el = etree.SubElement(parent, tag, attrib=attrs or None)
    if text is not None:
        el.text = text
    return el


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S")


def boolean(text: str | None) -> bool:
    return (text or "").strip().lower() in ("true", "1")


def text_of(parent: Element, tag: str) -> str | None:
    el = parent.find(tag)
    return el.text if el is not None else None


def xs_bool(value: bool) -> str:
    """An xs:boolean as EWS writes it."""
    return "true" if value else "false"
