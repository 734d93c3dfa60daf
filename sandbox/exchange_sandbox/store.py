"""Mailbox model of the sandbox Exchange server (a test double), shared by its EWS and Graph fronts.

Nothing here knows SOAP or JSON: the protocol front-ends translate their requests into
calls on :class:`MailStore` and render the immutable :class:`Item` values it returns.

Public API (stable; the Graph front-end builds on it)
------------------------------------------------------
Value types (frozen dataclasses, datetimes always timezone-aware UTC):

- ``Address(email, name="")``
- ``Flag(status="NotFlagged"|"Flagged"|"Complete", start=None, due=None, complete=None)``
- ``PropertyKey(property_type, property_set_id=None, distinguished_set_id=None,
  property_name=None, property_id=None, property_tag=None)``; ``key.canonical`` is a stable
  string used as dictionary key; values of extended properties are strings (or tuples of
  strings for array types) in the EWS/Graph string notation.
- ``Attendee(address, required=True, response="Unknown")``
- ``CalendarFields(start, end, organizer, attendees=(), free_busy="Busy", location="",
  uid="", is_all_day=False)``
- ``Item``: id, change_key, mailbox, folder, item_class, mime, headers, subject, sender,
  from_, to, cc, bcc, message_id, in_reply_to, references, conversation_id (32 hex digits),
  conversation_index (bytes), date_received, date_sent, date_created, last_modified,
  is_read, is_draft, flag, categories, extended (canonical key -> (PropertyKey, value)),
  calendar (CalendarFields | None), body, body_type ("Text"|"HTML"), importance.
- ``read_property(item, key)`` / ``write_property(item, key, value_or_None)``: extended
  (MAPI) properties. Well-known ones are views of item fields, as in Exchange: PidTagFlagStatus
  (0x1090), PidTagFlagCompleteTime (0x1091), PidLidTaskStartDate/DueDate (Task set, 0x8104 /
  0x8105) map to ``flag``; PidTagMessageFlags (0x0E07) to is_read/is_draft; Keywords
  (PublicStrings) to categories; PidTagTransportMessageHeaders (0x007D), the InternetHeaders
  set, PidTagConversationIndex (0x0071) and PidTagInternetMessageId (0x1035) are read-only.
  Front-ends go through these two functions, never ``item.extended`` directly.
- ``Change(seq, mailbox, folder, item_id, kind, is_read)`` with kind one of
  ``"create" | "update" | "read_flag" | "delete"``; ``ChangePage(changes, last_seq, more)``.
- ``FolderInfo(id, mailbox, name, display_name, parent_name, total, unread, child_count)``.

``MailStore(state_dir=None)``: SQLite file ``sandbox.sqlite3`` in ``state_dir`` (survives
restarts and client crashes) or an in-memory database. Every method is thread-safe.

- mailboxes: ``ensure_mailbox(address, display_name="")``, ``has_mailbox(address)``,
  ``mailbox_name(address)``, ``mailboxes()``; addresses are case-insensitive.
- folders (distinguished names ``root``, ``msgfolderroot``, ``inbox``, ``sentitems``,
  ``calendar``, ``drafts``, ``deleteditems``): ``folder(address, name)``,
  ``folder_by_id(folder_id)``, ``child_folders(address, name)``.
- items: ``create(address, folder, draft: NewItem) -> Item``, ``get(item_id)``,
  ``items(address, folder)``, ``update(item_id, mutate, expected_change_key=None)``
  (``mutate`` maps the old Item to the new one; the store bumps change key and
  last-modified and logs an update or read-flag change), ``move(item_id, folder)`` (new id,
  as in Exchange), ``delete(item_id)``, ``calendar_between(address, start, end)``.
- transport: ``deliver(address, mime, received=None)`` (as Exchange transport does into
  the Inbox), ``send(address, draft: NewItem, save_copy=True)`` (MIME composed when missing,
  Message-ID/Date/From added when missing; Sent Items copy; delivery without Bcc to every
  recipient that is a sandbox mailbox), ``send_meeting(item_id)`` (meeting request into each
  attendee's Inbox plus a tentative calendar item).
- errors: ``StoreError`` and its subclasses ``MailboxNotFound``, ``FolderNotFound``,
  ``ItemNotFound``, ``ChangeKeyMismatch``, ``ReadOnlyProperty``.
- change log: ``latest_seq()``, ``changes_since(address, folders, after_seq, limit=None)``.
  The sequence number is global and monotonically increasing, hence also per folder.

Conversation threading
----------------------
Exchange computes PidTagConversationId ([MS-OXOMSG] 2.2.1.2): when the conversation index
(the ``Thread-Index`` header, base64) is at least 22 bytes long and starts with 0x01, the
conversation id is its GUID part (bytes 6..21). Internet mail without ``Thread-Index`` gets a
conversation index from Exchange transport: it joins the conversation of an earlier message
in the same mailbox whose Message-ID appears in ``In-Reply-To``/``References``, else a new
conversation index with a fresh GUID is made. The sandbox follows these rules; it does not
implement the MD5-of-topic fallback that MAPI clients use for items without index tracking.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import email.utils
import json
import sqlite3
import struct
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from pathlib import Path
from typing import Any, Literal

FlagStatus = Literal["NotFlagged", "Flagged", "Complete"]
ChangeKind = Literal["create", "update", "read_flag", "delete"]
ExtendedValue = str | tuple[str, ...]

DISTINGUISHED_FOLDERS: dict[str, tuple[str, str | None]] = {
    # name -> (display name, parent name); mirrors a fresh Exchange mailbox in English
    "root": ("", None),
    "msgfolderroot": ("Top of Information Store", "root"),
    "inbox": ("Inbox", "msgfolderroot"),
    "sentitems": ("Sent Items", "msgfolderroot"),
    "calendar": ("Calendar", "msgfolderroot"),
    "drafts": ("Drafts", "msgfolderroot"),
    "deleteditems": ("Deleted Items", "msgfolderroot"),
}
ITEM_FOLDERS = tuple(n for n in DISTINGUISHED_FOLDERS if n not in ("root", "msgfolderroot"))


class StoreError(Exception):
    """Base of the store's errors; front-ends map them to protocol error codes."""


class MailboxNotFound(StoreError):
    pass


class FolderNotFound(StoreError):
    pass


class ItemNotFound(StoreError):
    pass


class ChangeKeyMismatch(StoreError):
    pass


class ReadOnlyProperty(StoreError):
    """A computed MAPI property (headers, conversation index, ...) cannot be written."""


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Address:
    email: str
    name: str = ""


@dataclass(frozen=True)
class Flag:
    status: FlagStatus = "NotFlagged"
    start: datetime | None = None
    due: datetime | None = None
    complete: datetime | None = None


# Named property sets by their EWS DistinguishedPropertySetId ([MS-OXPROPS] 1.3.2).
DISTINGUISHED_PROPERTY_SETS = {
    "Meeting": "6ed8da90-450b-101b-98da-00aa003f1305",
    "Appointment": "00062002-0000-0000-c000-000000000046",
    "Common": "00062008-0000-0000-c000-000000000046",
    "PublicStrings": "00020329-0000-0000-c000-000000000046",
    "Address": "00062004-0000-0000-c000-000000000046",
    "InternetHeaders": "00020386-0000-0000-c000-000000000046",
    "CalendarAssistant": "11000e07-b51b-40d6-af21-caa85edab1d0",
    "UnifiedMessaging": "4442858e-a9e3-4e80-b900-317a210cc15b",
    "Task": "00062003-0000-0000-c000-000000000046",
    "Sharing": "00062040-0000-0000-c000-000000000046",
}


@dataclass(frozen=True)
class PropertyKey:
    property_type: str
    property_set_id: str | None = None
    distinguished_set_id: str | None = None
    property_name: str | None = None
    property_id: int | None = None
    property_tag: int | None = None

    @property
    def canonical(self) -> str:
        if self.property_tag is not None:
            head = f"tag:0x{self.property_tag:04x}"
        else:
            guid = self.property_set_id or DISTINGUISHED_PROPERTY_SETS.get(
                self.distinguished_set_id or "", self.distinguished_set_id or ""
            )
            pset = f"set:{guid.lower()}"
            name = (
                f"name:{self.property_name}"
                if self.property_name is not None
                else f"id:0x{(self.property_id or 0):04x}"
            )
            head = f"{pset}:{name}"
        return f"{head}:{self.property_type}"


@dataclass(frozen=True)
class Attendee:
    address: Address
    required: bool = True
    response: str = "Unknown"


@dataclass(frozen=True)
class CalendarFields:
    start: datetime
    end: datetime
    organizer: Address
    attendees: tuple[Attendee, ...] = ()
    free_busy: str = "Busy"
    location: str = ""
    uid: str = ""
    is_all_day: bool = False


@dataclass(frozen=True)
class Item:
    id: str
    change_key: str
    mailbox: str
    folder: str
    item_class: str = "IPM.Note"
    mime: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    subject: str = ""
    sender: Address | None = None
    from_: Address | None = None
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    bcc: tuple[Address, ...] = ()
    message_id: str = ""
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    conversation_id: str = ""
    conversation_index: bytes = b""
    date_received: datetime | None = None
    date_sent: datetime | None = None
    date_created: datetime | None = None
    last_modified: datetime | None = None
    is_read: bool = False
    is_draft: bool = False
    flag: Flag = field(default_factory=Flag)
    categories: tuple[str, ...] = ()
    extended: dict[str, tuple[PropertyKey, ExtendedValue]] = field(default_factory=dict)
    calendar: CalendarFields | None = None
    body: str = ""
    body_type: str = "Text"
    importance: str = "Normal"

    @property
    def size(self) -> int:
        return len(self.mime) if self.mime is not None else len(self.body.encode()) + 200


@dataclass(frozen=True)
class NewItem:
    """What a front-end supplies to create an item; MIME, when given, fills the rest."""

    item_class: str = "IPM.Note"
    mime: bytes | None = None
    subject: str = ""
    from_: Address | None = None
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    bcc: tuple[Address, ...] = ()
    body: str = ""
    body_type: str = "Text"
    is_read: bool = False
    is_draft: bool = False
    flag: Flag = field(default_factory=Flag)
    categories: tuple[str, ...] = ()
    extended: dict[str, tuple[PropertyKey, ExtendedValue]] = field(default_factory=dict)
    calendar: CalendarFields | None = None
    importance: str = "Normal"
    date_received: datetime | None = None
    in_reply_to: str = ""
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class Change:
    seq: int
    mailbox: str
    folder: str
    item_id: str
    kind: ChangeKind
    is_read: bool


@dataclass(frozen=True)
class ChangePage:
    changes: tuple[Change, ...]
    last_seq: int
    more: bool


@dataclass(frozen=True)
class FolderInfo:
    id: str
    mailbox: str
    name: str
    display_name: str
    parent_name: str | None
    total: int
    unread: int
    child_count: int


# ---------------------------------------------------------------- MAPI properties

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


# ---------------------------------------------------------------- MIME helpers


def _decode(value: str) -> str:
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError):
        # Broken encoded-words are shown raw, as Exchange does with undecodable headers.
        return value


def _addresses(msg: Message, name: str) -> tuple[Address, ...]:
    values = msg.get_all(name) or []
    pairs = email.utils.getaddresses([_decode(str(v)) for v in values])
    return tuple(Address(email=addr, name=disp) for disp, addr in pairs if addr)


def _msgids(value: str) -> tuple[str, ...]:
    return tuple(tok for tok in value.replace(",", " ").split() if tok.startswith("<"))


def parse_mime(mime: bytes) -> dict[str, Any]:
    """Header fields of an RFC 5322 message, tolerant of malformed input."""
    msg = BytesParser(policy=policy.compat32).parsebytes(mime, headersonly=False)
    headers = tuple((k, " ".join(str(v).split())) for k, v in msg.items())
    from_ = _addresses(msg, "From")
    sender = _addresses(msg, "Sender")
    date_sent: datetime | None = None
    if msg.get("Date"):
        try:
            parsed = email.utils.parsedate_to_datetime(str(msg["Date"]))
            date_sent = parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except (TypeError, ValueError):
            date_sent = None
    body = ""
    body_type = "Text"
    try:
        part = msg
        if msg.is_multipart():
            for sub in msg.walk():
                if sub.get_content_maintype() == "text":
                    part = sub
                    break
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            body = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
            body_type = "HTML" if part.get_content_subtype() == "html" else "Text"
    except (LookupError, ValueError):
        body = ""
    importance = {"high": "High", "low": "Low"}.get(
        str(msg.get("Importance", "")).strip().lower(), "Normal"
    )
    return {
        "headers": headers,
        "subject": _decode(str(msg.get("Subject", ""))).strip(),
        "from_": from_[0] if from_ else None,
        "sender": sender[0] if sender else (from_[0] if from_ else None),
        "to": _addresses(msg, "To"),
        "cc": _addresses(msg, "Cc"),
        "bcc": _addresses(msg, "Bcc"),
        "message_id": str(msg.get("Message-ID", "")).strip(),
        "in_reply_to": " ".join(_msgids(str(msg.get("In-Reply-To", "")))),
        "references": _msgids(str(msg.get("References", ""))),
        "thread_index": str(msg.get("Thread-Index", "")).strip(),
        "date_sent": date_sent,
        "body": body,
        "body_type": body_type,
        "importance": importance,
    }


def conversation_guid_from_index(index: bytes) -> str | None:
    """GUID part of a conversation index per [MS-OXOMSG] 2.2.1.2, or None if not usable."""
    if len(index) >= 22 and index[0] == 0x01:
        return index[6:22].hex()
    return None


def new_conversation_index(guid_hex: str | None = None, at: datetime | None = None) -> bytes:
    """A 22-byte conversation index header block as ScCreateConversationIndex builds it."""
    moment = at or utcnow()
    filetime = int((moment.timestamp() + 11644473600) * 10_000_000)
    # The header keeps the 5 most significant bytes of the 8-byte FILETIME.
    stamp = struct.pack(">Q", filetime)[:5]
    guid = bytes.fromhex(guid_hex) if guid_hex else uuid.uuid4().bytes
    return b"\x01" + stamp + guid


# ---------------------------------------------------------------- (de)serialisation


def _dt(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _pdt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _addr_json(a: Address | None) -> list[str] | None:
    return [a.email, a.name] if a is not None else None


def _addr_load(v: Any) -> Address | None:
    return Address(email=v[0], name=v[1]) if v else None


def _item_to_json(item: Item) -> str:
    cal = item.calendar
    data: dict[str, Any] = {
        "item_class": item.item_class,
        "headers": [list(h) for h in item.headers],
        "subject": item.subject,
        "sender": _addr_json(item.sender),
        "from_": _addr_json(item.from_),
        "to": [_addr_json(a) for a in item.to],
        "cc": [_addr_json(a) for a in item.cc],
        "bcc": [_addr_json(a) for a in item.bcc],
        "message_id": item.message_id,
        "in_reply_to": item.in_reply_to,
        "references": list(item.references),
        "conversation_id": item.conversation_id,
        "conversation_index": item.conversation_index.hex(),
        "date_received": _dt(item.date_received),
        "date_sent": _dt(item.date_sent),
        "date_created": _dt(item.date_created),
        "last_modified": _dt(item.last_modified),
        "is_read": item.is_read,
        "is_draft": item.is_draft,
        "flag": [
            item.flag.status,
            _dt(item.flag.start),
            _dt(item.flag.due),
            _dt(item.flag.complete),
        ],
        "categories": list(item.categories),
        "extended": [
            [dataclasses.asdict(k), list(v) if isinstance(v, tuple) else v]
            for k, v in item.extended.values()
        ],
        "calendar": None
        if cal is None
        else {
            "start": _dt(cal.start),
            "end": _dt(cal.end),
            "organizer": _addr_json(cal.organizer),
            "attendees": [[_addr_json(a.address), a.required, a.response] for a in cal.attendees],
            "free_busy": cal.free_busy,
            "location": cal.location,
            "uid": cal.uid,
            "is_all_day": cal.is_all_day,
        },
        "body": item.body,
        "body_type": item.body_type,
        "importance": item.importance,
    }
    return json.dumps(data)


def _item_from_row(row: sqlite3.Row) -> Item:
    d = json.loads(row["data"])
    cal = d["calendar"]
    extended: dict[str, tuple[PropertyKey, ExtendedValue]] = {}
    for kd, v in d["extended"]:
        key = PropertyKey(**kd)
        extended[key.canonical] = (key, tuple(v) if isinstance(v, list) else v)
    organizer = _addr_load(cal["organizer"]) if cal else None
    return Item(
        id=row["id"],
        change_key=row["change_key"],
        mailbox=row["mailbox"],
        folder=row["folder"],
        mime=row["mime"],
        item_class=d["item_class"],
        headers=tuple((h[0], h[1]) for h in d["headers"]),
        subject=d["subject"],
        sender=_addr_load(d["sender"]),
        from_=_addr_load(d["from_"]),
        to=tuple(a for a in (_addr_load(x) for x in d["to"]) if a),
        cc=tuple(a for a in (_addr_load(x) for x in d["cc"]) if a),
        bcc=tuple(a for a in (_addr_load(x) for x in d["bcc"]) if a),
        message_id=d["message_id"],
        in_reply_to=d["in_reply_to"],
        references=tuple(d["references"]),
        conversation_id=d["conversation_id"],
        conversation_index=bytes.fromhex(d["conversation_index"]),
        date_received=_pdt(d["date_received"]),
        date_sent=_pdt(d["date_sent"]),
        date_created=_pdt(d["date_created"]),
        last_modified=_pdt(d["last_modified"]),
        is_read=d["is_read"],
        is_draft=d["is_draft"],
        flag=Flag(
            status=d["flag"][0],
            start=_pdt(d["flag"][1]),
            due=_pdt(d["flag"][2]),
            complete=_pdt(d["flag"][3]),
        ),
        categories=tuple(d["categories"]),
        extended=extended,
        calendar=None
        if cal is None or organizer is None
        else CalendarFields(
            start=_pdt(cal["start"]) or utcnow(),
            end=_pdt(cal["end"]) or utcnow(),
            organizer=organizer,
            attendees=tuple(
                Attendee(address=_addr_load(a[0]) or Address(""), required=a[1], response=a[2])
                for a in cal["attendees"]
            ),
            free_busy=cal["free_busy"],
            location=cal["location"],
            uid=cal["uid"],
            is_all_day=cal["is_all_day"],
        ),
        body=d["body"],
        body_type=d["body_type"],
        importance=d["importance"],
    )


_SCHEMA = """
CREATE TABLE IF NOT EXISTS mailboxes (address TEXT PRIMARY KEY, display_name TEXT NOT NULL,
    guid TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY, mailbox TEXT NOT NULL,
    folder TEXT NOT NULL, change_key TEXT NOT NULL, created_seq INTEGER NOT NULL,
    message_id TEXT NOT NULL, conversation_id TEXT NOT NULL, mime BLOB, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS items_folder ON items (mailbox, folder, created_seq);
CREATE INDEX IF NOT EXISTS items_msgid ON items (mailbox, message_id);
CREATE TABLE IF NOT EXISTS changes (seq INTEGER PRIMARY KEY AUTOINCREMENT,
    mailbox TEXT NOT NULL, folder TEXT NOT NULL, item_id TEXT NOT NULL, kind TEXT NOT NULL,
    is_read INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS changes_folder ON changes (mailbox, folder, seq);
"""


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _normalized(item: Item) -> Item:
    """The same item with every datetime in UTC, as the API promises."""
    cal = item.calendar
    return replace(
        item,
        date_received=_utc(item.date_received),
        date_sent=_utc(item.date_sent),
        flag=replace(
            item.flag,
            start=_utc(item.flag.start),
            due=_utc(item.flag.due),
            complete=_utc(item.flag.complete),
        ),
        calendar=None
        if cal is None
        else replace(cal, start=_utc(cal.start) or cal.start, end=_utc(cal.end) or cal.end),
    )


def _without_header(mime: bytes, name: str) -> bytes:
    """The message without one header field (and its folded continuation lines)."""
    head, sep, body = mime.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = mime.partition(b"\n\n")
    newline = b"\r\n" if sep == b"\r\n\r\n" else b"\n"
    kept: list[bytes] = []
    skipping = False
    for line in head.split(newline):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        skipping = line.split(b":", 1)[0].strip().lower() == name.lower().encode()
        if not skipping:
            kept.append(line)
    return newline.join(kept) + sep + body


def _new_item_id(mailbox_guid: str) -> str:
    # Looks like an Exchange store id: opaque base64 carrying the mailbox and a unique part.
    raw = b"\x00\x00\x00\x00" + bytes.fromhex(mailbox_guid) + b"\x07\x00" + uuid.uuid4().bytes
    return base64.b64encode(raw).decode()


def _new_change_key() -> str:
    # Exchange change keys of messages start with the bytes 09 00 00 00 16 00 00 00.
    raw = b"\x09\x00\x00\x00\x16\x00\x00\x00" + uuid.uuid4().bytes[:10]
    return base64.b64encode(raw).decode()


class MailStore:
    """Thread-safe mailbox store, persisted in SQLite when given a state directory."""

    def __init__(self, state_dir: Path | None = None) -> None:
        self._lock = threading.RLock()
        if state_dir is not None:
            state_dir.mkdir(parents=True, exist_ok=True)
            target = str(state_dir / "sandbox.sqlite3")
        else:
            target = ":memory:"
        # One connection guarded by a lock: the HTTP server's threads share it.
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        if state_dir is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One explicit transaction (the caller holds the lock): committed, or rolled back."""
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------ mailboxes

    def ensure_mailbox(self, address: str, display_name: str = "") -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO mailboxes (address, display_name, guid) VALUES (?, ?, ?)",
                (address.lower(), display_name, uuid.uuid4().hex),
            )
            if display_name:
                self._db.execute(
                    "UPDATE mailboxes SET display_name = ? WHERE address = ?",
                    (display_name, address.lower()),
                )

    def has_mailbox(self, address: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM mailboxes WHERE address = ?", (address.lower(),)
            ).fetchone()
            return row is not None

    def mailbox_name(self, address: str) -> str:
        return self._mailbox_row(address)["display_name"]  # type: ignore[no-any-return]  # sqlite3.Row is untyped

    def mailboxes(self) -> list[Address]:
        with self._lock:
            rows = self._db.execute(
                "SELECT address, display_name FROM mailboxes ORDER BY address"
            ).fetchall()
            return [Address(email=r["address"], name=r["display_name"]) for r in rows]

    def _mailbox_row(self, address: str) -> sqlite3.Row:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM mailboxes WHERE address = ?", (address.lower(),)
            ).fetchone()
        if row is None:
            raise MailboxNotFound(address)
        return row  # type: ignore[no-any-return]  # sqlite3 rows are typed Any

    # ------------------------------------------------------------ folders

    def _folder_id(self, mailbox: str, name: str) -> str:
        guid = self._mailbox_row(mailbox)["guid"]
        index = list(DISTINGUISHED_FOLDERS).index(name)
        raw = b"\x00\x00\x00\x00" + bytes.fromhex(guid) + b"\x01\x00" + bytes([index + 1]) * 4
        return base64.b64encode(raw).decode()

    def folder(self, mailbox: str, name: str) -> FolderInfo:
        if name not in DISTINGUISHED_FOLDERS:
            raise FolderNotFound(name)
        mailbox = mailbox.lower()
        display, parent = DISTINGUISHED_FOLDERS[name]
        with self._lock:
            fid = self._folder_id(mailbox, name)
            row = self._db.execute(
                "SELECT COUNT(*) AS n, COALESCE(SUM(json_extract(data, '$.is_read') = 0), 0) AS u"
                " FROM items WHERE mailbox = ? AND folder = ?",
                (mailbox, name),
            ).fetchone()
        children = sum(1 for _, (_, p) in DISTINGUISHED_FOLDERS.items() if p == name)
        return FolderInfo(
            id=fid,
            mailbox=mailbox,
            name=name,
            display_name=display,
            parent_name=parent,
            total=int(row["n"]),
            unread=int(row["u"]),
            child_count=children,
        )

    def folder_by_id(self, folder_id: str) -> FolderInfo:
        try:
            raw = base64.b64decode(folder_id, validate=True)
        except ValueError as exc:
            raise FolderNotFound(folder_id) from exc
        if len(raw) != 26 or raw[20:22] != b"\x01\x00":
            raise FolderNotFound(folder_id)
        guid = raw[4:20].hex()
        index = raw[22] - 1
        with self._lock:
            row = self._db.execute(
                "SELECT address FROM mailboxes WHERE guid = ?", (guid,)
            ).fetchone()
        names = list(DISTINGUISHED_FOLDERS)
        if row is None or not 0 <= index < len(names):
            raise FolderNotFound(folder_id)
        return self.folder(row["address"], names[index])

    def child_folders(self, mailbox: str, name: str) -> list[FolderInfo]:
        return [
            self.folder(mailbox, n)
            for n, (_, parent) in DISTINGUISHED_FOLDERS.items()
            if parent == name
        ]

    # ------------------------------------------------------------ items

    def _log(self, item: Item, kind: ChangeKind) -> int:
        cur = self._db.execute(
            "INSERT INTO changes (mailbox, folder, item_id, kind, is_read) VALUES (?, ?, ?, ?, ?)",
            (item.mailbox, item.folder, item.id, kind, int(item.is_read)),
        )
        return int(cur.lastrowid or 0)

    def _write(self, item: Item, created_seq: int | None = None) -> None:
        if created_seq is None:
            self._db.execute(
                "UPDATE items SET folder = ?, change_key = ?, message_id = ?, conversation_id = ?,"
                " mime = ?, data = ? WHERE id = ?",
                (
                    item.folder,
                    item.change_key,
                    item.message_id,
                    item.conversation_id,
                    item.mime,
                    _item_to_json(item),
                    item.id,
                ),
            )
        else:
            self._db.execute(
                "INSERT INTO items (id, mailbox, folder, change_key, created_seq, message_id,"
                " conversation_id, mime, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    item.id,
                    item.mailbox,
                    item.folder,
                    item.change_key,
                    created_seq,
                    item.message_id,
                    item.conversation_id,
                    item.mime,
                    _item_to_json(item),
                ),
            )

    def _conversation(
        self, mailbox: str, thread_index: str, parents: Iterable[str]
    ) -> tuple[str, bytes]:
        if thread_index:
            try:
                index = base64.b64decode(thread_index)
            except ValueError:
                index = b""
            guid = conversation_guid_from_index(index)
            if guid is not None:
                return guid, index
        for msgid in parents:
            row = self._db.execute(
                "SELECT conversation_id FROM items WHERE mailbox = ? AND message_id = ? LIMIT 1",
                (mailbox, msgid),
            ).fetchone()
            if row is not None and row["conversation_id"]:
                guid = str(row["conversation_id"])
                return guid, new_conversation_index(guid)
        index = new_conversation_index()
        return index[6:22].hex(), index

    def create(self, mailbox: str, folder: str, draft: NewItem) -> Item:
        """Store a new item; MIME content, when present, supplies headers and addresses."""
        if folder not in ITEM_FOLDERS:
            raise FolderNotFound(folder)
        mailbox = mailbox.lower()
        now = utcnow()
        fields: dict[str, Any] = {
            "subject": draft.subject,
            "from_": draft.from_,
            "sender": draft.from_,
            "to": draft.to,
            "cc": draft.cc,
            "bcc": draft.bcc,
            "body": draft.body,
            "body_type": draft.body_type,
            "importance": draft.importance,
            "in_reply_to": draft.in_reply_to,
            "references": draft.references,
        }
        thread_index = ""
        headers: tuple[tuple[str, str], ...] = ()
        message_id = ""
        date_sent: datetime | None = None
        if draft.mime is not None:
            parsed = parse_mime(draft.mime)
            thread_index = parsed.pop("thread_index")
            headers = parsed.pop("headers")
            message_id = parsed.pop("message_id")
            date_sent = parsed.pop("date_sent")
            for key, value in parsed.items():
                # Explicit fields win over MIME, like EWS properties set next to MimeContent.
                if value and not fields.get(key):
                    fields[key] = value
        with self._lock:
            guid = self._mailbox_row(mailbox)["guid"]
            parents = [
                *([fields["in_reply_to"]] if fields["in_reply_to"] else []),
                *reversed(fields["references"]),
            ]
            conv_id, conv_index = self._conversation(mailbox, thread_index, parents)
            item = Item(
                id=_new_item_id(guid),
                change_key=_new_change_key(),
                mailbox=mailbox,
                folder=folder,
                item_class=draft.item_class,
                mime=draft.mime,
                headers=headers,
                message_id=message_id,
                conversation_id=conv_id,
                conversation_index=conv_index,
                date_received=draft.date_received or now,
                date_sent=date_sent or (None if draft.is_draft else now),
                date_created=now,
                last_modified=now,
                is_read=draft.is_read,
                is_draft=draft.is_draft,
                flag=draft.flag,
                categories=draft.categories,
                calendar=draft.calendar,
                **fields,
            )
            for prop_key, prop_value in draft.extended.values():
                item = write_property(item, prop_key, prop_value)
            item = _normalized(item)
            with self._transaction():
                seq = self._log(item, "create")
                self._write(item, created_seq=seq)
            return item

    def get(self, item_id: str) -> Item:
        with self._lock:
            row = self._db.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise ItemNotFound(item_id)
        return _item_from_row(row)

    def items(self, mailbox: str, folder: str) -> list[Item]:
        """Items of a folder, newest first (as Exchange's default DateTimeReceived order)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM items WHERE mailbox = ? AND folder = ? ORDER BY created_seq DESC",
                (mailbox.lower(), folder),
            ).fetchall()
        return [_item_from_row(r) for r in rows]

    def update(
        self,
        item_id: str,
        mutate: Callable[[Item], Item],
        expected_change_key: str | None = None,
    ) -> Item:
        """Apply ``mutate`` atomically; a stale ``expected_change_key`` raises ChangeKeyMismatch."""
        with self._lock:
            old = self.get(item_id)
            if expected_change_key is not None and expected_change_key != old.change_key:
                raise ChangeKeyMismatch(item_id)
            new = _normalized(mutate(old))
            new = replace(
                new,
                id=old.id,
                mailbox=old.mailbox,
                folder=old.folder,
                change_key=_new_change_key(),
                last_modified=utcnow(),
            )
            only_read = replace(old, is_read=new.is_read) == replace(
                new, change_key=old.change_key, last_modified=old.last_modified
            )
            kind: ChangeKind = "read_flag" if only_read and old.is_read != new.is_read else "update"
            with self._transaction():
                self._log(new, kind)
                self._write(new)
            return new

    def move(self, item_id: str, folder: str) -> Item:
        """Move to another folder of the same mailbox; like Exchange, the item gets a new id."""
        if folder not in ITEM_FOLDERS:
            raise FolderNotFound(folder)
        with self._lock:
            old = self.get(item_id)
            guid = self._mailbox_row(old.mailbox)["guid"]
            new = replace(old, id=_new_item_id(guid), folder=folder, change_key=_new_change_key())
            with self._transaction():
                self._log(old, "delete")
                self._db.execute("DELETE FROM items WHERE id = ?", (old.id,))
                seq = self._log(new, "create")
                self._write(new, created_seq=seq)
            return new

    def delete(self, item_id: str) -> None:
        with self._lock:
            old = self.get(item_id)
            with self._transaction():
                self._log(old, "delete")
                self._db.execute("DELETE FROM items WHERE id = ?", (old.id,))

    def calendar_between(self, mailbox: str, start: datetime, end: datetime) -> list[Item]:
        """Calendar items of a mailbox that overlap [start, end), earliest first."""
        found = [
            it
            for it in self.items(mailbox, "calendar")
            if it.calendar is not None and it.calendar.start < end and it.calendar.end > start
        ]
        return sorted(found, key=lambda it: it.calendar.start if it.calendar else start)

    # ------------------------------------------------------------ transport

    def deliver(self, mailbox: str, mime: bytes, received: datetime | None = None) -> Item:
        """Deliver raw RFC 5322 bytes into a mailbox's Inbox, as Exchange transport would."""
        return self.create(mailbox, "inbox", NewItem(mime=mime, date_received=received or utcnow()))

    def send(self, mailbox: str, draft: NewItem, save_copy: bool = True) -> Item | None:
        """Send a message from ``mailbox``: copy in Sent Items and delivery to sandbox recipients.

        Like Exchange transport, the message gets MIME content when it had none, and a
        Message-ID, Date and From header when they are missing; recipients' copies lose the
        Bcc header. Returns the Sent Items copy, or None when no copy was requested.
        """
        mime = self._submitted_mime(mailbox, draft)
        parsed = parse_mime(mime)
        sent = replace(draft, mime=mime, is_read=True, is_draft=False)
        saved = self.create(mailbox, "sentitems", sent) if save_copy else None
        recipients: tuple[Address, ...] = (
            draft.to + draft.cc + draft.bcc + parsed["to"] + parsed["cc"] + parsed["bcc"]
        )
        delivered = replace(
            draft,
            mime=_without_header(mime, "Bcc"),
            bcc=(),
            is_read=False,
            is_draft=False,
            flag=Flag(),
            categories=(),
            date_received=utcnow(),
        )
        seen: set[str] = set()
        for rcpt in recipients:
            addr = rcpt.email.lower()
            if addr in seen or not self.has_mailbox(addr):
                continue
            seen.add(addr)
            self.create(addr, "inbox", delivered)
        return saved

    def _submitted_mime(self, mailbox: str, draft: NewItem) -> bytes:
        domain = mailbox.rsplit("@", 1)[-1]
        message_id = f"<{uuid.uuid4().hex}@sandbox-ex01.{domain}>"
        date = email.utils.format_datetime(utcnow())
        if draft.mime is None:
            msg = EmailMessage()
            sender = draft.from_ or Address(mailbox, self.mailbox_name(mailbox))
            msg["From"] = email.utils.formataddr((sender.name, sender.email))
            for header, addrs in (("To", draft.to), ("Cc", draft.cc), ("Bcc", draft.bcc)):
                if addrs:
                    msg[header] = ", ".join(
                        email.utils.formataddr((a.name, a.email)) for a in addrs
                    )
            msg["Subject"] = draft.subject
            msg["Date"] = date
            msg["Message-ID"] = message_id
            if draft.in_reply_to:
                msg["In-Reply-To"] = draft.in_reply_to
            if draft.references:
                msg["References"] = " ".join(draft.references)
            msg.set_content(draft.body, subtype="html" if draft.body_type == "HTML" else "plain")
            return msg.as_bytes(policy=policy.SMTP)
        present = {k.lower() for k, _ in parse_mime(draft.mime)["headers"]}
        extra = b""
        if "message-id" not in present:
            extra += f"Message-ID: {message_id}\r\n".encode()
        if "date" not in present:
            extra += f"Date: {date}\r\n".encode()
        if "from" not in present:
            extra += f"From: {mailbox}\r\n".encode()
        return extra + draft.mime

    def send_meeting(self, item_id: str) -> list[Item]:
        """Deliver a meeting request for a calendar item to each attendee that is a sandbox mailbox.

        Each attendee gets an IPM.Schedule.Meeting.Request in the Inbox and a tentative
        calendar item, as Exchange's calendar attendant does. Returns the requests.
        """
        organizer_item = self.get(item_id)
        cal = organizer_item.calendar
        if cal is None:
            raise ItemNotFound(item_id)
        requests: list[Item] = []
        for att in cal.attendees:
            addr = att.address.email.lower()
            if not self.has_mailbox(addr) or addr == organizer_item.mailbox:
                continue
            tentative = replace(cal, free_busy="Tentative")
            base = NewItem(
                subject=organizer_item.subject,
                from_=cal.organizer,
                to=tuple(a.address for a in cal.attendees if a.required),
                cc=tuple(a.address for a in cal.attendees if not a.required),
                body=organizer_item.body,
                body_type=organizer_item.body_type,
                calendar=tentative,
                references=(),
            )
            requests.append(
                self.create(addr, "inbox", replace(base, item_class="IPM.Schedule.Meeting.Request"))
            )
            self.create(addr, "calendar", replace(base, item_class="IPM.Appointment", is_read=True))
        return requests

    # ------------------------------------------------------------ change log

    def latest_seq(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT COALESCE(MAX(seq), 0) AS s FROM changes").fetchone()
        return int(row["s"])

    def changes_since(
        self,
        mailbox: str,
        folders: Sequence[str] | None,
        after_seq: int,
        limit: int | None = None,
    ) -> ChangePage:
        """Raw change log entries after ``after_seq`` for some folders (all when None)."""
        sql = "SELECT * FROM changes WHERE mailbox = ? AND seq > ?"
        args: list[Any] = [mailbox.lower(), after_seq]
        if folders is not None:
            sql += f" AND folder IN ({','.join('?' * len(folders))})"
            args.extend(folders)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit + 1)
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        more = limit is not None and len(rows) > limit
        rows = rows[:limit] if limit is not None else rows
        changes = tuple(
            Change(
                seq=r["seq"],
                mailbox=r["mailbox"],
                folder=r["folder"],
                item_id=r["item_id"],
                kind=r["kind"],
                is_read=bool(r["is_read"]),
            )
            for r in rows
        )
        last = changes[-1].seq if changes else max(after_seq, 0)
        return ChangePage(changes=changes, last_seq=last, more=more)
