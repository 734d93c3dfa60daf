"""Schema validation of EWS requests in the sandbox (a test double): Microsoft's schema, compiled once.

Exchange validates every request against its schema before it runs it and refuses an
invalid one as a whole with ErrorSchemaValidation (a SOAP fault naming the line, the position
and the violation). The sandbox does the same with the schema it ships (``schema/``): the
operation element and the EWS header elements are validated; the schema is compiled once per
process (about 0.15 s) and a request then costs microseconds.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any, cast

from lxml import etree

from exchange_sandbox.ews.xml import MNS, SOAP_NS, TNS, Element

_ROOT = "sandbox-schema:/"
_WRAPPER = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
<xs:import namespace="{MNS}" schemaLocation="{_ROOT}messages.xsd"/>
<xs:import namespace="{TNS}" schemaLocation="{_ROOT}types.xsd"/>
</xs:schema>""".encode()
_XML_IMPORT = b'<xs:import namespace="http://www.w3.org/XML/1998/namespace"/>'


class _PackagedSchema(etree.Resolver):
    """Serves the schema files from the package; types.xsd's xml: import gets the local stub."""

    def resolve(self, system_url: str, public_id: str, context: Any = None) -> Any:
        name = system_url.rsplit("/", 1)[-1]
        if name not in ("messages.xsd", "types.xsd", "xml.xsd"):
            return None  # nothing else is fetched: no network, no file system
        text = resources.files("exchange_sandbox").joinpath("schema", name).read_bytes()
        if name == "types.xsd":
            text = text.replace(
                _XML_IMPORT, _XML_IMPORT[:-2] + f' schemaLocation="{_ROOT}xml.xsd"/>'.encode()
            )
        return self.resolve_string(text, context, base_url=_ROOT + name)


_lock = threading.Lock()
_schema: etree.XMLSchema | None = None


def ews_schema() -> etree.XMLSchema:
    """Microsoft's EWS schema (messages and types), compiled on first use."""
    global _schema
    with _lock:
        if _schema is None:
            parser = etree.XMLParser(no_network=True, resolve_entities=False)
            parser.resolvers.add(_PackagedSchema())
            wrapper = etree.fromstring(_WRAPPER, parser, base_url=_ROOT + "all.xsd")
            _schema = etree.XMLSchema(etree.ElementTree(wrapper))
        return _schema


@dataclass(frozen=True)
class Violation:
    """What ErrorSchemaValidation reports: the first violation and where it is."""

    text: str
    line: int
    position: int


def violation(root: Element, request: bytes) -> Violation | None:
    """The first schema violation of a SOAP request (its body and its EWS headers), or None."""
    schema = ews_schema()
    header = root.find(f"{{{SOAP_NS}}}Header")
    body = root.find(f"{{{SOAP_NS}}}Body")
    parts = [h for h in (header if header is not None else []) if _is_ews(h)]
    parts += list(body) if body is not None else []
    for part in parts:
        # One validation at a time: an XMLSchema keeps its error log on the object.
        with _lock:
            valid = schema.validate(part)
            errors = list(cast(Iterable[Any], schema.error_log))  # lxml-stubs: not iterable
        if not valid and errors:
            return _describe(part, errors[0], request)
    return None


def _is_ews(el: Element) -> bool:
    tag = el.tag
    return isinstance(tag, str) and tag.startswith((f"{{{TNS}}}", f"{{{MNS}}}"))


_NAME = re.compile(r"\{([^}]*)\}([\w.-]+)")
_HEAD = re.compile(r"Element '(?:\{([^}]*)\})?([\w.-]+)'(?:, attribute '([\w:.-]+)')?: (.*)$", re.S)


def _names(text: str) -> list[tuple[str, str]]:
    return _NAME.findall(text)


def _describe(part: Element, error: Any, request: bytes) -> Violation:
    """The violation as .NET words it for the common cases (libxml2's words otherwise)."""
    message = str(error.message)
    line = int(error.line or 0)
    head = _HEAD.match(message)
    ns, local = (head.group(1) or "", head.group(2)) if head else ("", "")
    attribute = head.group(3) if head else None
    if head:
        message = head.group(4)
    element = _find(part, line, ns, local)
    if element is not None and isinstance(element.sourceline, int):
        line = element.sourceline
    text = message
    parent = element.getparent() if element is not None else None
    if "This element is not expected" in message and parent is not None:
        expected = _names(message.split("Expected is", 1)[1]) if "Expected is" in message else []
        pns, plocal = etree.QName(parent).namespace or "", etree.QName(parent).localname
        text = (
            f"The element '{plocal}' in namespace '{pns}' has invalid child element '{local}' "
            f"in namespace '{ns}'."
        )
        if expected:
            text += " List of possible elements expected: " + _listed(expected) + "."
    elif "Missing child element" in message:
        expected = _names(message.split("Expected is", 1)[1]) if "Expected is" in message else []
        text = f"The element '{local}' in namespace '{ns}' has incomplete content."
        if expected:
            text += " List of possible elements expected: " + _listed(expected) + "."
    elif facet := re.search(r"\[facet '(\w+)'\]", message):
        value = re.search(r"The value '([^']*)'", message)
        what = f"The '{attribute}' attribute" if attribute else f"The '{ns}:{local}' element"
        found = value.group(1) if value else ""
        constraint = facet.group(1)[0].upper() + facet.group(1)[1:]
        text = (
            f"{what} is invalid - The value '{found}' is invalid according to its datatype - "
            f"The {constraint} constraint failed."
        )
    return Violation(text, line, _position(request, line, element, attribute))


def _listed(names: list[tuple[str, str]]) -> str:
    by_ns: dict[str, list[str]] = {}
    for ns, local in names:
        by_ns.setdefault(ns, []).append(local)
    return " as well as ".join(
        f"'{', '.join(locals_)}' in namespace '{ns}'" for ns, locals_ in by_ns.items()
    )


def _find(part: Element, line: int, ns: str, local: str) -> Element | None:
    """The element an error is about: its name, on the error's line when there are several."""
    if not local:
        return None
    tag = f"{{{ns}}}{local}" if ns else local
    found = None
    for el in part.iter(tag):
        if found is None:
            found = el
        if isinstance(el.sourceline, int) and el.sourceline == line:
            return el
    return found


def _position(request: bytes, line: int, element: Element | None, attribute: str | None) -> int:
    """1-based position on the line of the element's name (or the attribute's), as .NET counts."""
    lines = request.splitlines()
    if not 0 < line <= len(lines) or element is None:
        return 0
    text = lines[line - 1]
    prefix = element.prefix
    name = etree.QName(element).localname
    qname = f"{prefix}:{name}" if prefix else name
    start = text.find(f"<{qname}".encode())
    if start < 0:
        return 0
    if attribute is not None:
        at = text.find(f" {attribute}=".encode(), start)
        return at + 2 if at >= 0 else start + 2
    return start + 2
