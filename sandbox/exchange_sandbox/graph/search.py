"""``$search`` on messages in the sandbox Graph endpoint (a test double): a small part of KQL.

As documented ("Use the $search query parameter", messages): the value is in double quotes;
a bare term looks in the default properties ``from``, ``subject`` and ``body``; a property
restriction ``name:value`` looks in one of ``from``, ``to``, ``cc``, ``bcc``,
``participants``, ``recipients``, ``subject``, ``body``, ``importance``, ``received`` and
``sent`` (a date, also with ``>=``, ``<=``, ``>``, ``<``); terms are joined by ``AND`` (also
implicit), ``OR`` and ``NOT``. Text matches word prefixes, without regard to case. Results
come newest sent first, at most 1000. What the sandbox does not understand (parentheses,
other properties such as ``attachment``, ``size`` or ``kind``) is refused with 400 rather
than ignored; Exchange also refuses ``$search`` together with ``$filter`` or ``$orderby``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime

from exchange_sandbox.graph.errors import GraphError, bad_request
from exchange_sandbox.graph.render import body_preview
from exchange_sandbox.store import Address, Item

MAX_RESULTS = 1000
Test = Callable[[Item], bool]

_TOKEN = re.compile(r'(\w+)(:|>=|<=|>|<)("[^"]*"|\S+)|"[^"]*"|\S+')
_EPOCH = datetime.min.replace(tzinfo=UTC)


def _invalid(detail: str) -> GraphError:
    return bad_request(f"Invalid $search value: {detail}", "ErrorInvalidUrlQuery")


def parse_search(value: str) -> Test:
    """A predicate for a ``$search`` value (with its double quotes)."""
    text = value.strip()
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        raise _invalid("the search string must be enclosed in double quotes.")
    text = text[1:-1].strip()
    if not text:
        raise _invalid("the search string is empty.")
    if "(" in text or ")" in text:
        raise _invalid("parentheses are not supported by the sandbox.")
    alternatives: list[list[Test]] = [[]]
    negate = False
    for match in _TOKEN.finditer(text.replace("'", '"')):
        word = match.group(0)
        if word in ("AND",):
            continue
        if word == "OR":
            alternatives.append([])
            continue
        if word == "NOT":
            negate = True
            continue
        test = _restriction(match) if match.group(1) else _free_text(word.strip('"'))
        alternatives[-1].append(_negated(test) if negate else test)
        negate = False
    if any(not group for group in alternatives):
        raise _invalid("an operator lacks a term.")
    return lambda it: any(all(t(it) for t in group) for group in alternatives)


def _negated(test: Test) -> Test:
    return lambda it: not test(it)


def _words(text: str) -> list[str]:
    return re.findall(r"[\w.@+-]+", text.lower())


def _prefix_match(needle: str, haystack: str) -> bool:
    wanted = _words(needle)
    words = _words(haystack)
    return bool(wanted) and all(any(w.startswith(n) for w in words) for n in wanted)


def _addresses(addresses: tuple[Address, ...]) -> str:
    return " ".join(f"{a.name} {a.email} {a.email.split('@')[0]}" for a in addresses)


def _text(item: Item, prop: str) -> str:
    sender = tuple(a for a in (item.from_ or item.sender,) if a is not None)
    fields = {
        "from": _addresses(sender),
        "to": _addresses(item.to),
        "cc": _addresses(item.cc),
        "bcc": _addresses(item.bcc),
        "recipients": _addresses(item.to + item.cc + item.bcc),
        "participants": _addresses(sender + item.to + item.cc + item.bcc),
        "subject": item.subject,
        "body": body_preview(item) if item.body_type.upper() == "HTML" else item.body,
        "importance": item.importance,
    }
    return fields[prop]


def _free_text(term: str) -> Test:
    return lambda it: any(_prefix_match(term, _text(it, p)) for p in ("from", "subject", "body"))


def _restriction(match: re.Match[str]) -> Test:
    prop, op, raw = match.group(1).lower(), match.group(2), match.group(3).strip('"')
    if prop in ("received", "sent"):
        day = _date(raw)
        attr = "date_received" if prop == "received" else "date_sent"

        def on(item: Item) -> bool:
            moment = getattr(item, attr) or _EPOCH
            got = moment.astimezone(UTC).date()
            return {":": got == day, ">=": got >= day, "<=": got <= day}.get(
                op, got > day if op == ">" else got < day
            )

        return on
    if op != ":":
        raise _invalid(f"'{prop}' takes ':' only.")
    if prop == "importance":
        level = {"low": "low", "medium": "normal", "normal": "normal", "high": "high"}.get(
            raw.lower()
        )
        if level is None:
            raise _invalid(f"importance must be low, medium or high, not '{raw}'.")
        return lambda it: it.importance.lower() == level
    if prop in ("from", "to", "cc", "bcc", "participants", "recipients", "subject", "body"):
        return lambda it: _prefix_match(raw, _text(it, prop))
    raise _invalid(f"the property '{prop}' is not supported by the sandbox.")


def _date(raw: str) -> date:
    for pattern in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(raw, pattern).replace(tzinfo=UTC).date()
        except ValueError:
            continue
    raise _invalid(f"'{raw}' is not a date (YYYY-MM-DD or MM/DD/YYYY).")
