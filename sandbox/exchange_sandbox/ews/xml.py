"""EWS XML basics of the sandbox (a test double): namespaces, the hardened parser, element helpers."""

from __future__ import annotations

import re
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


# Characters XML 1.0 cannot carry. Exchange writes them as character references all the same
# ("&#x0;", "&#x1A;": OfficeDev/ews-java-api#156 and #233, ews-managed-api#136), which lenient
# parsers such as exchangelib's drop; the sandbox writes them so too. lxml refuses them in a
# tree, so they stand in as code points of plane 16 until the document is serialized.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_STAND_IN = 0x10FF00
_STAND_INS = re.compile(b"\xf4\x8f\xbc([\x80-\xa1])")


def _stand_in(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"  # a lone surrogate has no UTF-8 form at all
    return chr(_STAND_IN + (code if code < 0x20 else 0x20 + code - 0xFFFE))


def writable(text: str) -> str:
    """``text`` with the characters XML 1.0 cannot carry replaced by stand-ins (see serialized)."""
    return _UNWRITABLE.sub(_stand_in, text) if _UNWRITABLE.search(text) else text


def _reference(match: re.Match[bytes]) -> bytes:
    offset = match.group(1)[0] - 0x80
    code = offset if offset < 0x20 else 0xFFFE + offset - 0x20
    return f"&#x{code:X};".encode()


def serialized(root: Element) -> bytes:
    """The document as Exchange writes it: UTF-8, unwritable characters as references."""
    data = bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))
    return _STAND_INS.sub(_reference, data) if b"\xf4\x8f\xbc" in data else data


def sub(parent: Element, tag: str, text: str | None = None, **attrs: str) -> Element:
    el = etree.SubElement(
        parent, tag, attrib={k: writable(v) for k, v in attrs.items()} if attrs else None
    )
    if text is not None:
        el.text = writable(text)
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
