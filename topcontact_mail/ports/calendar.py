"""Calendars, the directory and booking mail as the callback service needs them.

- `Calendars`: free/busy with working hours of colleagues, meeting requests
  created by the organiser with a ref (exactly once: docs/exactly-once.md),
  found again by that ref, their changes and the attendees' responses read, and
  cancelled;
- `Directory`: who a name in a form means, when the configured staff list does
  not know it (EWS ResolveNames, Graph users);
- `MailBodies`: the whole body of a booking mail (the mailbox port reads only
  the start of a body, for screening);
- `CallbackTexts`: the Dutch texts of meetings and of replies to bookers;
- `CallbackStore`: what the service keeps of callbacks, meetings and replies;
- `ServiceStore`: the whole state store a command opens (StateStore and
  CallbackStore), SQLite or PostgreSQL.

Every adapter behind these ports is held to the same contract
(tests/contract/test_calendar_contract.py): in memory, EWS and Graph.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from topcontact_mail.domain.callbacks import BusyPeriod, WorkingHours
from topcontact_mail.domain.message import Acknowledgement, Address
from topcontact_mail.ports.mailbox import Outcome
from topcontact_mail.ports.store import PendingSend, SendResult, StateStore

#: An attendee's answer to a meeting request, as both backends report it.
ResponseKind = Literal["none", "accepted", "tentative", "declined"]


@dataclass(frozen=True)
class Availability:
    """A colleague's free/busy in a window and the working hours their mailbox reports.

    `working_hours` are wall-clock intervals in the business calendar's zone,
    None when the server told none. `error` is the server's reason when the
    mailbox's free/busy could not be read (unknown mailbox, no rights): then
    `busy` is empty and means nothing.
    """

    mailbox: str
    busy: tuple[BusyPeriod, ...] = ()
    working_hours: WorkingHours | None = None
    error: str = ""


@dataclass(frozen=True)
class OutgoingMeeting:
    """A meeting request ready to be created in the organiser's calendar, with its ref."""

    ref: str
    attendee: Address
    subject: str
    text_body: str
    html_body: str
    start: datetime
    end: datetime
    #: IANA name of the zone the meeting is written in; adapters give Exchange its Windows name.
    time_zone: str
    categories: tuple[str, ...] = ()
    reminder_minutes: int = 15
    #: Shown as the meeting's place: how the call is made ("Telefonisch: 06 12345678").
    location: str = ""


@dataclass(frozen=True)
class MeetingOutcome(Outcome):
    """The outcome of creating one meeting; on success its ids in the organiser's calendar."""

    item_id: str = ""
    uid: str = ""


@dataclass(frozen=True)
class MeetingLookup:
    """A meeting to find by its ref: its id where known, and the time it was booked for."""

    ref: str
    item_id: str | None
    start: datetime
    end: datetime


@dataclass(frozen=True)
class MeetingState:
    """How a meeting stands in the organiser's calendar.

    `cancelled`: the organiser's side cancelled or deleted it (it may still be
    in Deleted Items, which keeps its ref findable). `responses` are the
    attendees' answers as the organiser's copy tracks them, by lower-case
    address.
    """

    ref: str
    item_id: str
    uid: str
    start: datetime
    end: datetime
    cancelled: bool = False
    responses: Mapping[str, ResponseKind] = field(default_factory=dict)
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class MeetingResponse:
    """An attendee's response message in the organiser's mailbox (accept, tentative, decline)."""

    item_id: str
    #: The meeting's UID (iCalendar UID / Exchange's clean global object id), where told.
    uid: str
    attendee: str
    response: ResponseKind
    #: The organiser's calendar item the response is about, where the backend tells it.
    meeting_item_id: str = ""


@dataclass(frozen=True)
class DirectoryEntry:
    """A person the directory knows: a display name and a mailbox."""

    name: str
    address: str


@dataclass(frozen=True)
class MailBody:
    """The body of a mail as its author wrote it: plain text, or HTML (`html`)."""

    content: str
    html: bool


class CalendarUnavailable(Exception):
    """Calendars or free/busy could not be reached now (after the adapter's own retries)."""


class Calendars(Protocol):
    """The organiser's calendar and the colleagues' free/busy."""

    @property
    def organiser(self) -> Address: ...

    def availability(
        self, mailboxes: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, Availability]:
        """Free/busy of each mailbox in [start, end), with its working hours; one per mailbox.

        Raises `CalendarUnavailable` when the server cannot be asked now.
        """
        ...

    def create_meetings(self, batch: Sequence[OutgoingMeeting]) -> list[MeetingOutcome]:
        """Create meeting requests from the organiser, invitations sent; one outcome per ref.

        The ref travels on the organiser's item as a property (on Graph also as the
        `transactionId`), so `find_meetings` finds a meeting whose answer was lost.
        """
        ...

    def find_meetings(self, lookups: Sequence[MeetingLookup]) -> dict[str, MeetingState]:
        """The organiser's meetings with these refs, also when cancelled; by ref.

        Raises `CalendarUnavailable` when the calendar cannot be searched now.
        """
        ...

    def attendee_categories(
        self, attendee: str, uid: str, start: datetime, end: datetime
    ) -> tuple[str, ...] | None:
        """The categories on the attendee's own copy of meeting `uid` (None: no copy found)."""
        ...

    def read_responses(self, item_ids: Sequence[str]) -> list[MeetingResponse]:
        """The meeting responses among these messages of the organiser's mailbox."""
        ...

    def cancel_meeting(self, ref: str, item_id: str, comment: str) -> Outcome:
        """Cancel a meeting as its organiser (the attendee is told); done when already gone."""
        ...

    def close(self) -> None: ...


class Directory(Protocol):
    def resolve_names(self, query: str) -> list[DirectoryEntry]:
        """People whose name or address matches `query` (empty when nobody does)."""
        ...


class MailBodies(Protocol):
    def read_body(self, mailbox: str, item_id: str) -> MailBody | None:
        """The whole body of a message in `mailbox` (None: the message is gone)."""
        ...


class CallbackBackend(Calendars, Directory, MailBodies, Protocol):
    """What one backend adapter (memory, EWS, Graph) offers the callback service."""


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


class CallbackTexts(Protocol):
    def callback_text(self, kind: str, context: Mapping[str, Any]) -> RenderedMail:
        """The texts of `kind` ("meeting", "confirmation", "problems", ...) from the templates."""
        ...


# -- what the service keeps ------------------------------------------------------------------

CallbackStateName = Literal[
    "rejected", "planned", "done", "missed", "failed", "cancelled", "refused", "dry_run"
]
#: States of one outgoing thing (a meeting request or a reply to the booker).
SendState = Literal["intent", "sent", "failed", "superseded", "dropped"]


@dataclass(frozen=True)
class CallbackRecord:
    """One callback request: who asked, for whom, and where it stands.

    `details` holds what the meeting needs (the tenant's name, phone, subject,
    notes, preference; the colleague); it is the only tenant data the service
    keeps, and only while the callback is open (docs/callbacks.md).
    """

    id: str
    source: Literal["mail", "cli"]
    booked_by: str
    booked_at: datetime
    state: CallbackStateName
    callback_by: datetime | None = None
    booking_item_id: str | None = None
    booking_mailbox: str | None = None
    booking_message_id: str | None = None
    problems: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    #: Whether the booking mail carries the service's marker (its claim); True without a mail.
    claimed: bool = True
    rebookings: int = 0


@dataclass(frozen=True)
class MeetingRecord:
    """One meeting request of a callback (a rebooking makes a new one, with a new ref)."""

    ref: str
    callback_id: str
    colleague: str
    colleague_name: str
    slot_start: datetime
    slot_end: datetime
    at_risk: bool
    state: SendState
    item_id: str | None = None
    uid: str | None = None
    outgoing: OutgoingMeeting | None = None
    attempts: int = 0
    last_attempt: datetime | None = None
    last_error: str = ""
    why: str = ""
    sent_at: datetime | None = None


@dataclass(frozen=True)
class ReplyRecord:
    """A mail to the booker: sent (once) when the meeting it waits for is in the calendar."""

    ref: str
    callback_id: str
    kind: str
    message_id: str
    state: SendState
    #: The booking mail it answers (threaded); None: a plain notice (a callback booked by CLI).
    original_item_id: str | None
    mail: Acknowledgement | None
    #: The meeting whose creation it reports; it waits until that one is sent.
    waits_for: str | None = None
    attempts: int = 0
    last_attempt: datetime | None = None


class CallbackStore(Protocol):
    """The callbacks' part of the state store (`adapters/sqlite_store.py`,
    `adapters/postgres/store.py`; contract: tests/contract/test_callback_store_contract.py).

    Every write is one transaction. Meetings and replies are kept by their ref,
    which is also their key in the exactly-once round (`PendingSend.item_id`).
    """

    def callback_candidates(self, reason: str, limit: int) -> list[str]:
        """Item ids of messages screening recorded with `reason`, not yet taken up as callbacks."""
        ...

    def meeting_messages(self, reason: str, limit: int) -> list[str]:
        """Item ids of messages recorded with `reason` (meeting messages) not looked at yet."""
        ...

    def seen_meeting_messages(self, item_ids: Sequence[str], now: datetime) -> None: ...

    def record_callback(
        self,
        callback: CallbackRecord,
        now: datetime,
        meeting: MeetingRecord | None = None,
        replies: Sequence[ReplyRecord] = (),
        *,
        attempting: bool = False,
    ) -> None:
        """A new callback with its first meeting and replies: the intent, in one transaction."""
        ...

    def get_callback(self, callback_id: str) -> CallbackRecord | None: ...

    def callback_for_item(self, item_id: str) -> CallbackRecord | None: ...

    def callbacks(self, states: Collection[str] | None = None) -> list[CallbackRecord]: ...

    def unclaimed_callbacks(self, limit: int) -> list[CallbackRecord]: ...

    def set_callback_claimed(self, callback_id: str) -> None: ...

    def callback_claim_failed(self, callback_id: str, error: str, give_up_after: int) -> bool: ...

    def set_callback_state(self, callback_id: str, state: str, now: datetime) -> None: ...

    def rebook(
        self,
        callback_id: str,
        old_ref: str,
        why: str,
        now: datetime,
        meeting: MeetingRecord | None,
        replies: Sequence[ReplyRecord],
        state: str,
        *,
        cancel_old: bool,
    ) -> None:
        """Meeting `old_ref` superseded by `meeting` (None: by nothing), replies, state: one go."""
        ...

    def meetings(
        self, callback_id: str | None = None, states: Collection[str] | None = None
    ) -> list[MeetingRecord]: ...

    def get_meeting(self, ref: str) -> MeetingRecord | None: ...

    def meetings_to_cancel(self) -> list[MeetingRecord]: ...

    def meeting_cancelled(self, ref: str) -> None: ...

    def pending_meetings(self, limit: int, *, attempted: bool) -> list[PendingSend]:
        """Meeting intents of claimed callbacks: never attempted, or of unknown outcome."""
        ...

    def meeting_outgoing(self, refs: Sequence[str]) -> dict[str, OutgoingMeeting]: ...

    def pending_replies(self, limit: int, *, attempted: bool) -> list[PendingSend]:
        """Replies whose meeting (if any) is sent: never attempted, or of unknown outcome."""
        ...

    def reply_records(self, refs: Sequence[str]) -> dict[str, ReplyRecord]: ...

    def replies(self, callback_id: str) -> list[ReplyRecord]: ...

    def attempting_sends(self, refs: Sequence[str], now: datetime) -> None: ...

    def settle_sends(self, results: Sequence[SendResult], now: datetime) -> None: ...

    def set_meeting_ids(self, ref: str, item_id: str, uid: str) -> None: ...

    def move_meeting(self, ref: str, start: datetime, end: datetime) -> None: ...

    def drop_replies_waiting_for(self, ref: str) -> list[str]:
        """Replies waiting for meeting `ref` (given up) are dropped; their callbacks' ids."""
        ...

    def watermark(self, name: str) -> str | None: ...

    def set_watermark(self, name: str, value: str, now: datetime) -> None: ...

    def clear_watermark(self, name: str) -> None: ...


class ServiceStore(StateStore, CallbackStore, Protocol):
    """The state store as the commands open it: the acknowledgements' and tracking's state,
    the callbacks', and closing it (SQLite, or PostgreSQL under the mailbox's lease)."""

    def close(self) -> None: ...
