"""EWS restrictions and sort orders of the sandbox (a test double), evaluated on store items.

FindItem's Restriction (And, Or, Not, Exists, Contains, comparisons) and SortOrder over the
properties the sandbox can query; any other property is ErrorUnsupportedPathForQuery.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from lxml import etree

from exchange_sandbox.ews.faults import EwsFault
from exchange_sandbox.ews.fields import parse_dt, property_key
from exchange_sandbox.ews.ids import conversation_id
from exchange_sandbox.ews.xml import Element, boolean, t
from exchange_sandbox.store import Item, read_property


def getter(uri: Element) -> Callable[[Item], Any]:
    if uri.tag == t("ExtendedFieldURI"):
        key = property_key(uri)

        def ext(it: Item) -> Any:
            return read_property(it, key)

        return ext
    name = uri.get("FieldURI", "").split(":", 1)[-1]
    getters: dict[str, Callable[[Item], Any]] = {
        "Subject": lambda it: it.subject,
        "DateTimeReceived": lambda it: it.date_received,
        "DateTimeSent": lambda it: it.date_sent,
        "DateTimeCreated": lambda it: it.date_created,
        "LastModifiedTime": lambda it: it.last_modified,
        "IsRead": lambda it: it.is_read,
        "IsDraft": lambda it: it.is_draft,
        "InternetMessageId": lambda it: it.message_id,
        "ItemClass": lambda it: it.item_class,
        "Categories": lambda it: it.categories,
        "Importance": lambda it: it.importance,
        "From": lambda it: it.from_.email if it.from_ else None,
        "Sender": lambda it: it.sender.email if it.sender else None,
        "Start": lambda it: it.calendar.start if it.calendar else None,
        "End": lambda it: it.calendar.end if it.calendar else None,
        # Compared as EWS shows it (the id structure around the GUID), not the bare GUID.
        "ConversationId": lambda it: (
            conversation_id(it.conversation_id) if it.conversation_id else None
        ),
    }
    if name not in getters:
        raise EwsFault("ErrorUnsupportedPathForQuery", f"The sandbox cannot query {name}.")
    return getters[name]


def sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, datetime):
        return (1, value.timestamp())
    return (1, value)


def _coerce(constant: str, sample: Any) -> Any:
    if isinstance(sample, bool):
        return boolean(constant)
    if isinstance(sample, datetime):
        return parse_dt(constant)
    return constant


def matches(expr: Element, item: Item) -> bool:
    name = etree.QName(expr).localname
    if name == "And":
        return all(matches(e, item) for e in expr)
    if name == "Or":
        return any(matches(e, item) for e in expr)
    if name == "Not":
        return not matches(expr[0], item)
    if name == "Exists":
        return getter(expr[0])(item) not in (None, "", ())
    if name == "Contains":
        value = getter(expr[0])(item)
        const = expr.find(t("Constant"))
        needle = const.get("Value", "") if const is not None else ""
        hay = " ".join(value) if isinstance(value, tuple) else str(value or "")
        if expr.get("ContainmentComparison", "Exact") != "Exact":
            hay, needle = hay.lower(), needle.lower()
        mode = expr.get("ContainmentMode", "FullString")
        if isinstance(value, tuple) and mode == "FullString":
            return any(v.lower() == needle.lower() for v in value)
        return {"FullString": hay == needle, "Prefixed": hay.startswith(needle)}.get(
            mode, needle in hay
        )
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "IsEqualTo": lambda a, b: a == b,
        "IsNotEqualTo": lambda a, b: a != b,
        "IsGreaterThan": lambda a, b: a > b,
        "IsGreaterThanOrEqualTo": lambda a, b: a >= b,
        "IsLessThan": lambda a, b: a < b,
        "IsLessThanOrEqualTo": lambda a, b: a <= b,
    }
    if name not in ops:
        raise EwsFault(
            "ErrorInvalidRestriction", f"The sandbox does not support {name} restrictions."
        )
    value = getter(expr[0])(item)
    const_box = expr.find(t("FieldURIOrConstant"))
    const = const_box.find(t("Constant")) if const_box is not None else None
    if const is None:
        raise EwsFault("ErrorInvalidRestriction", "Comparisons need a constant.")
    if value is None:
        return name == "IsNotEqualTo"
    if isinstance(value, tuple):
        return any(ops[name](v, const.get("Value", "")) for v in value)
    return ops[name](value, _coerce(const.get("Value", ""), value))
