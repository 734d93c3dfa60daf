"""Extended (MAPI) properties of sandbox items (a test double): well-known ones are views of fields.

Exchange stores the follow-up flag, read state, categories and headers as MAPI properties;
:func:`read_property` and :func:`write_property` keep those views in step with the item's
fields, so EWS and Graph clients see the same state whichever way they ask.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from exchange_sandbox.store.model import (
    DISTINGUISHED_PROPERTY_SETS,
    ExtendedValue,
    Flag,
    FlagStatus,
    Item,
    PropertyKey,
    ReadOnlyProperty,
)

_TASK = DISTINGUISHED_PROPERTY_SETS["Task"]
_PUBLIC = DISTINGUISHED_PROPERTY_SETS["PublicStrings"]
_HEADERS = DISTINGUISHED_PROPERTY_SETS["InternetHeaders"]
K_FLAG_STATUS = "tag:0x1090:Integer"  # PidTagFlagStatus: absent/0, 1 complete, 2 flagged
K_FLAG_COMPLETE = "tag:0x1091:SystemTime"  # PidTagFlagCompleteTime
K_FOLLOWUP_ICON = "tag:0x1095:Integer"  # PidTagFollowupIcon
K_TASK_START = f"set:{_TASK}:id:0x8104:SystemTime"  # PidLidTaskStartDate
K_TASK_DUE = f"set:{_TASK}:id:0x8105:SystemTime"  # PidLidTaskDueDate
K_MESSAGE_FLAGS = "tag:0x0e07:Integer"  # PidTagMessageFlags: 0x1 read, 0x8 unsent
K_KEYWORDS = f"set:{_PUBLIC}:name:Keywords:StringArray"  # PidNameKeywords = categories
K_TRANSPORT_HEADERS = "tag:0x007d:String"  # PidTagTransportMessageHeaders
K_CONVERSATION_INDEX = "tag:0x0071:Binary"  # PidTagConversationIndex
K_MESSAGE_ID = "tag:0x1035:String"  # PidTagInternetMessageId
_FLAG_CODES: dict[str, str | None] = {"NotFlagged": None, "Complete": "1", "Flagged": "2"}


def _mapi_time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def read_property(item: Item, key: PropertyKey) -> ExtendedValue | None:
    """Value of an extended (MAPI) property; well-known ones are views of the item's fields.

    Exchange stores the follow-up flag, read state, categories and headers as MAPI
    properties, so EWS clients that read them as extended properties (exchangelib has no
    Flag field) see the same state as the Flag element or Graph's ``flag``.
    """
    canon = key.canonical
    computed: dict[str, Callable[[], ExtendedValue | None]] = {
        K_FLAG_STATUS: lambda: _FLAG_CODES[item.flag.status],
        K_FLAG_COMPLETE: lambda: _mapi_time(item.flag.complete),
        K_FOLLOWUP_ICON: lambda: "6" if item.flag.status == "Flagged" else None,
        K_TASK_START: lambda: _mapi_time(item.flag.start),
        K_TASK_DUE: lambda: _mapi_time(item.flag.due),
        K_MESSAGE_FLAGS: lambda: str((1 if item.is_read else 0) | (8 if item.is_draft else 0)),
        K_KEYWORDS: lambda: item.categories or None,
        K_TRANSPORT_HEADERS: lambda: "".join(f"{k}: {v}\r\n" for k, v in item.headers) or None,
        K_CONVERSATION_INDEX: lambda: base64.b64encode(item.conversation_index).decode() or None,
        K_MESSAGE_ID: lambda: item.message_id or None,
    }
    if canon in computed:
        return computed[canon]()
    if canon.startswith(f"set:{_HEADERS}:name:") and key.property_name:
        wanted = key.property_name.lower()
        values = [v for k, v in item.headers if k.lower() == wanted]
        return values[0] if values else None
    found = item.extended.get(canon)
    return found[1] if found is not None else None


def _parse_mapi_time(value: ExtendedValue) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def write_property(item: Item, key: PropertyKey, value: ExtendedValue | None) -> Item:
    """Set (``value`` not None) or remove an extended property, keeping mapped fields in step."""
    canon = key.canonical
    flag = item.flag
    if canon == K_FLAG_STATUS:
        code = None if value is None else str(value)
        status: FlagStatus = {"1": "Complete", "2": "Flagged"}.get(code or "", "NotFlagged")  # type: ignore[assignment]  # the dict's values are FlagStatus literals
        if status == "NotFlagged":
            return replace(item, flag=Flag())
        return replace(item, flag=replace(flag, status=status))
    if canon in (K_FLAG_COMPLETE, K_TASK_START, K_TASK_DUE):
        moment = _parse_mapi_time(value) if value is not None else None
        if canon == K_FLAG_COMPLETE:
            return replace(item, flag=replace(flag, complete=moment))
        if canon == K_TASK_START:
            return replace(item, flag=replace(flag, start=moment))
        return replace(item, flag=replace(flag, due=moment))
    if canon == K_FOLLOWUP_ICON:
        return item
    if canon == K_MESSAGE_FLAGS:
        bits = int(str(value or "0"), 0)
        return replace(item, is_read=bool(bits & 1), is_draft=bool(bits & 8))
    if canon == K_KEYWORDS:
        cats = value if isinstance(value, tuple) else (() if value is None else (value,))
        return replace(item, categories=cats)
    if canon in (K_TRANSPORT_HEADERS, K_CONVERSATION_INDEX, K_MESSAGE_ID) or canon.startswith(
        f"set:{_HEADERS}:"
    ):
        raise ReadOnlyProperty(canon)
    extended = dict(item.extended)
    if value is None:
        extended.pop(canon, None)
    else:
        extended[canon] = (key, value)
    return replace(item, extended=extended)
