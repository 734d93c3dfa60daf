"""OData query options of the sandbox Graph endpoint (a test double): $select, $expand, $filter, paging.

The sandbox understands the forms its clients use and answers Graph's 400 for any other,
rather than ignoring an option it does not know.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from exchange_sandbox.graph import render
from exchange_sandbox.graph.errors import GraphError, bad_request
from exchange_sandbox.graph.meetings import graph_property
from exchange_sandbox.graph.request import Request
from exchange_sandbox.graph.schema import (
    EVENT_MESSAGE_PROPERTIES,
    EVENT_PROPERTIES,
    MAIL_FOLDER_PROPERTIES,
    MESSAGE_PROPERTIES,
)
from exchange_sandbox.store import Item, PropertyKey


def unknown_property(name: str, entity: str = "message") -> GraphError:
    """Graph's answer for a property the type does not have (in $select, $filter, $orderby)."""
    return GraphError(
        400,
        "RequestBroker--ParseUri",
        f"Could not find a property named '{name}' on type 'microsoft.graph.{entity}'.",
    )


def _known(name: str, entity: str) -> bool:
    if entity == "mailFolder":
        return name in MAIL_FOLDER_PROPERTIES
    if entity == "event":
        return name in EVENT_PROPERTIES
    if "/" not in name:
        return name in MESSAGE_PROPERTIES
    cast, prop = name.rsplit("/", 1)
    kind = cast.removeprefix("microsoft.graph.")
    owned = set(MESSAGE_PROPERTIES) | EVENT_MESSAGE_PROPERTIES["eventmessage"]
    if kind != "eventmessage":
        owned |= EVENT_MESSAGE_PROPERTIES.get(kind, frozenset())
    return kind in EVENT_MESSAGE_PROPERTIES and prop in owned


def parse_select(text: str | None, entity: str = "message") -> set[str] | None:
    """The lower-case names of a $select; 400 for a property the type does not have."""
    if not text:
        return None
    names = [s.strip() for s in text.split(",") if s.strip()]
    for name in names:
        if not _known(name.lower(), entity):
            raise unknown_property(name, entity)
    return {n.lower() for n in names}


_EXPAND = re.compile(r"^singleValueExtendedProperties(?:\((.*)\))?$", re.IGNORECASE)
_EVENT_NAVIGATION = re.compile(
    r"^microsoft\.graph\.eventMessage/event(?:\((.*)\))?$", re.IGNORECASE
)


@dataclass(frozen=True)
class MessageExpand:
    """What a message's ``$expand`` asks for: extended properties (as :func:`parse_expand`
    gives them) and, for a meeting message, the event it is about (with a nested ``$select``)."""

    properties: list[str] | None = None
    event: bool = False
    event_select: set[str] | None = None


def _top_level(text: str) -> list[str]:
    """The comma-separated items of a query option, commas inside parentheses kept."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    parts.append(current.strip())
    return [p for p in parts if p]


def parse_message_expand(text: str | None) -> MessageExpand:
    """A message's ``$expand``: ``singleValueExtendedProperties(...)`` and the eventMessage's
    ``event`` navigation, which needs the type cast ("Get eventMessage": ``$expand=
    microsoft.graph.eventMessage/event``); 400 for anything else."""
    if not text:
        return MessageExpand()
    properties: list[str] | None = None
    event, event_select = False, None
    for part in _top_level(text):
        navigation = _EVENT_NAVIGATION.match(part)
        if navigation is not None:
            event = True
            inner = navigation.group(1)
            if inner is not None:
                chosen = re.match(r"^\s*\$select=(.*)$", inner, re.IGNORECASE)
                if chosen is None:
                    raise bad_request(
                        "Only $select is supported inside $expand of an event.", "BadRequest"
                    )
                event_select = {n.strip().lower() for n in chosen.group(1).split(",") if n.strip()}
                unknown = sorted(event_select - EVENT_PROPERTIES)
                if unknown:
                    raise unknown_property(unknown[0], "event")
            continue
        if part.split("(", 1)[0].strip().lower() in ("event", "eventmessage/event"):
            raise unknown_property(part.split("(", 1)[0].strip())
        found = parse_expand(part)
        if properties is None:
            properties = found
        else:  # an empty list asks for every property
            properties = [*properties, *found] if properties and found else []
    return MessageExpand(properties, event, event_select)


def parse_expand(text: str | None) -> list[str] | None:
    if not text:
        return None
    match = _EXPAND.match(text.strip())
    if match is None:
        raise bad_request(
            f"Parsing OData Select and Expand failed: '{text}' is not supported.", "BadRequest"
        )
    if not match.group(1):
        return []
    filt = re.match(r"^\s*\$filter=(.*)$", match.group(1), re.IGNORECASE)
    if filt is None:
        raise bad_request("Only $filter is supported inside $expand.", "BadRequest")
    ids = re.findall(r"id\s+eq\s+'([^']*)'", filt.group(1), re.IGNORECASE)
    if not ids:
        raise bad_request("The $filter of an extended property must compare its id.", "BadRequest")
    for prop in ids:
        render.parse_property_id(prop)
    return ids


_ANY = re.compile(
    r"^singleValueExtendedProperties/any\(\s*(\w+)\s*:\s*\1/id\s+eq\s+'([^']*)'\s+and\s+\1/value\s+eq\s+'([^']*)'\s*\)$",
    re.IGNORECASE,
)
_CMP = re.compile(r"^(\w+)\s+(eq|ne|ge|gt|le|lt)\s+(.+)$", re.IGNORECASE)


def parse_filter(text: str | None) -> Callable[[Item], bool]:
    """A predicate for the few ``$filter`` forms the sandbox understands."""
    if not text:
        return lambda _item: True
    clauses = [c.strip() for c in re.split(r"\s+and\s+(?![^()]*\))", text.strip())]
    tests: list[Callable[[Item], bool]] = []
    for clause in clauses:
        any_match = _ANY.match(clause)
        if any_match:
            key = render.parse_property_id(any_match.group(2))
            wanted = any_match.group(3)
            tests.append(_has_property(key, wanted))
            continue
        cmp_match = _CMP.match(clause)
        if cmp_match is None:
            raise bad_request("Invalid filter clause", "ErrorInvalidUrlQueryFilter")
        prop, op, literal = (
            cmp_match.group(1).lower(),
            cmp_match.group(2).lower(),
            cmp_match.group(3).strip(),
        )
        tests.append(_comparison(prop, op, literal))
    return lambda it: all(t(it) for t in tests)


def _has_property(key: PropertyKey, wanted: str) -> Callable[[Item], bool]:
    def test(item: Item) -> bool:
        return graph_property(item, key) == wanted

    return test


def _comparison(prop: str, op: str, literal: str) -> Callable[[Item], bool]:
    def compare(a: Any, b: Any) -> bool:
        if a is None:
            return op == "ne"
        return bool(
            {"eq": a == b, "ne": a != b, "ge": a >= b, "gt": a > b, "le": a <= b, "lt": a < b}[op]
        )

    if prop in ("receiveddatetime", "sentdatetime", "createddatetime", "lastmodifieddatetime"):
        moment = render.parse_datetime(literal)
        attr = {
            "receiveddatetime": "date_received",
            "sentdatetime": "date_sent",
            "createddatetime": "date_created",
            "lastmodifieddatetime": "last_modified",
        }[prop]
        return lambda it: compare(getattr(it, attr), moment)
    if prop in ("isread", "isdraft"):
        if literal.lower() not in ("true", "false"):
            raise bad_request("Invalid filter clause", "ErrorInvalidUrlQueryFilter")
        flag = literal.lower() == "true"
        attr = "is_read" if prop == "isread" else "is_draft"
        return lambda it: compare(getattr(it, attr), flag)
    if (
        literal.startswith("'")
        and literal.endswith("'")
        and prop in ("internetmessageid", "subject", "conversationid")
    ):
        text = literal[1:-1].replace("''", "'")
        if prop == "internetmessageid":
            return lambda it: compare(it.message_id, text)
        if prop == "subject":
            return lambda it: compare(it.subject, text)
        return lambda it: compare(render.conversation_id(it), text)
    if prop not in MESSAGE_PROPERTIES:
        raise unknown_property(prop)
    raise bad_request(
        f"The property '{prop}' cannot be used in a $filter in the sandbox.",
        "ErrorInvalidUrlQueryFilter",
    )


def top_skip(req: Request, default: int) -> tuple[int, int]:
    try:
        top = int(req.query.get("top", default))
        skip = int(req.query.get("skip", 0))
    except ValueError as exc:
        raise bad_request("$top and $skip must be integers.", "BadRequest") from exc
    if top < 1 or skip < 0:
        raise bad_request("$top must be positive and $skip not negative.", "BadRequest")
    return min(top, 1000), skip


def next_link(req: Request, changes: dict[str, str]) -> str:
    params = {("$" + k if k in _ODATA else k): v for k, v in req.query.items()}
    params.update(changes)
    return f"{req.base}{req.path}?{urlencode(params, safe='$,()/: ')}"


_ODATA = {"select", "expand", "filter", "orderby", "top", "skip", "skiptoken", "count", "search"}
