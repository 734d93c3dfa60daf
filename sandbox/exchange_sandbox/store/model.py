"""Value types of the sandbox mailbox store (a test double): items, folders, changes, errors."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal

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
    "outbox": ("Outbox", "msgfolderroot"),
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


class FolderExists(StoreError):
    """A folder of that name is already there (names are unique among siblings, any case)."""


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
    #: The attendee's answer as the organizer's item tracks it (EWS ResponseTypeType):
    #: Unknown (none yet), Accept, Tentative, Decline, NoResponseReceived, Organizer.
    response: str = "Unknown"
    #: When that answer reached the organizer (LastResponseTime; Graph status.time).
    response_time: datetime | None = None


@dataclass(frozen=True)
class CalendarFields:
    """The calendar part of an appointment, a meeting or a meeting message.

    On a calendar item the values are its own; on a meeting message (request, response,
    cancellation) they are the meeting as the message carried it.
    """

    start: datetime
    end: datetime
    organizer: Address
    attendees: tuple[Attendee, ...] = ()
    #: Free, Tentative, Busy, OOF, WorkingElsewhere or NoData (EWS LegacyFreeBusyType).
    free_busy: str = "Busy"
    location: str = ""
    uid: str = ""
    is_all_day: bool = False
    #: The mailbox owner's own answer (MyResponseType): Organizer, NoResponseReceived, Accept,
    #: Tentative, Decline, Unknown; on a meeting response the answer it carries. "" = derived.
    my_response: str = ""
    #: The organizer's version of the meeting (AppointmentSequenceNumber); updates raise it.
    sequence: int = 0
    is_cancelled: bool = False
    #: On a meeting request: the organizer's free/busy status, which an acceptance takes.
    intended_free_busy: str = ""
    #: On a meeting request: NewMeetingRequest, FullUpdate or InformationalUpdate.
    request_type: str = ""
    #: Windows time zones the item was made in (StartTimeZone/EndTimeZone); "" = UTC.
    start_zone: str = ""
    end_zone: str = ""
    #: When the owner answered (AppointmentReplyTime).
    reply_time: datetime | None = None
    response_requested: bool = True
    meeting_request_sent: bool = False
    #: On an update: the times the meeting had before.
    previous_start: datetime | None = None
    previous_end: datetime | None = None
    #: The reminder (EWS ReminderIsSet/ReminderMinutesBeforeStart, Graph isReminderOn/
    #: reminderMinutesBeforeStart; MAPI PidLidReminderSet/PidLidReminderDelta). Exchange's
    #: default for a new calendar item is on, 15 minutes (Set-MailboxCalendarConfiguration
    #: RemindersEnabled, DefaultReminderTime); a request carries the organizer's to the attendee.
    reminder_set: bool = True
    reminder_minutes: int = 15


@dataclass(frozen=True)
class RespondsTo:
    """What a reply, reply-all or forward answers: the original and the verb its sending sets.

    ``verb`` is PidTagLastVerbExecuted's value (102 reply, 103 reply to all, 104 forward);
    ``message_id`` finds the original again when it was moved (a new id) before the send.
    """

    item_id: str
    message_id: str
    verb: int


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
    #: On a reply or forward not sent yet: the original it answers (its verb is set on send).
    responds_to: RespondsTo | None = None

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
    #: A reply or forward: its original gets the last verb when the message is submitted.
    responds_to: RespondsTo | None = None
    #: The conversation index (``Thread-Index``, base64) when no MIME gives one: a forward
    #: joins its original's conversation by it.
    thread_index: str = ""


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
    #: The folder's class (PR_CONTAINER_CLASS) when it is not a distinguished folder's own;
    #: "" for a folder made without one.
    folder_class: str = ""
    #: Whether a user made it (CreateFolder, Graph childFolders), not a distinguished folder.
    user_made: bool = False


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def in_utc(item: Item) -> Item:
    """The same item with every datetime in UTC, as the store's API promises."""
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
        else replace(
            cal,
            start=_utc(cal.start) or cal.start,
            end=_utc(cal.end) or cal.end,
            reply_time=_utc(cal.reply_time),
            previous_start=_utc(cal.previous_start),
            previous_end=_utc(cal.previous_end),
            attendees=tuple(replace(a, response_time=_utc(a.response_time)) for a in cal.attendees),
        ),
    )
