"""In-memory calendars, directory and booking-mail bodies that honour the callback ports, for tests.

It behaves like the real backends where the service can tell: the organiser's
meetings carry their ref and are found by it (also when cancelled), each
attendee gets a tentative copy with the same UID and a meeting request, free/busy
includes those copies, a declined meeting leaves the attendee's calendar and
puts a response in the organiser's inbox, a cancelled one stays in it marked
cancelled (and free) with a cancellation in the inbox. Failures can be injected: refused
creates, busy servers (nothing done), lost answers (done, outcome unknown), an
unreachable server.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from topcontact_mail.domain.callbacks import BusyKind, BusyPeriod, WorkingHours
from topcontact_mail.domain.message import Address
from topcontact_mail.ports import Outcome
from topcontact_mail.ports.calendar import (
    Availability,
    CalendarUnavailable,
    DirectoryEntry,
    MailBody,
    MeetingLookup,
    MeetingOutcome,
    MeetingResponse,
    MeetingState,
    OutgoingMeeting,
    ResponseKind,
)


@dataclass
class Event:
    """A meeting in the organiser's calendar, or an attendee's copy of it."""

    item_id: str
    uid: str
    subject: str
    start: datetime
    end: datetime
    attendee: str
    ref: str = ""
    text_body: str = ""
    html_body: str = ""
    categories: list[str] = field(default_factory=list)
    reminder_minutes: int = 0
    location: str = ""
    time_zone: str = ""
    cancelled: bool = False
    response: ResponseKind = "none"


class MemoryCalendars:
    """The Calendars, Directory and MailBodies ports in a few dicts; thread-safe."""

    def __init__(self, organiser: Address) -> None:
        self._organiser = organiser
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        #: The organiser's meetings by item id.
        self.meetings: dict[str, Event] = {}
        #: Each attendee's calendar (their copies) and inbox (meeting requests, cancellations).
        self.copies: dict[str, list[Event]] = {}
        self.inboxes: dict[str, list[tuple[str, str]]] = {}
        #: Busy periods of colleagues besides their meeting copies, and their working hours.
        self.busy: dict[str, list[BusyPeriod]] = {}
        self.working_hours: dict[str, WorkingHours] = {}
        #: Mailboxes whose free/busy the server refuses, with its error.
        self.refused: dict[str, str] = {}
        self.people: list[DirectoryEntry] = []
        self.bodies: dict[tuple[str, str], MailBody] = {}
        #: Meeting responses in the organiser's mailbox, by message item id.
        self.responses: dict[str, MeetingResponse] = {}
        self.refuse: set[str] = set()
        self.transient_failures = 0
        self.lost_answers = 0
        #: Creates whose request broke off before the server got it (outcome unknown, not done).
        self.dropped_answers = 0
        self.unreachable = False
        self.requests: dict[str, int] = {}

    @property
    def organiser(self) -> Address:
        return self._organiser

    def _count(self, operation: str) -> None:
        self.requests[operation] = self.requests.get(operation, 0) + 1
        if self.unreachable:
            raise CalendarUnavailable(f"{operation}: the server cannot be reached")

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"

    # -- Calendars ----------------------------------------------------------------------

    def availability(
        self, mailboxes: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, Availability]:
        self._count("availability")
        result = {}
        with self._lock:
            for mailbox in mailboxes:
                key = mailbox.casefold()
                if key in self.refused:
                    result[mailbox] = Availability(mailbox, error=self.refused[key])
                    continue
                periods = [*self.busy.get(key, [])] + [
                    BusyPeriod(e.start, e.end, BusyKind.TENTATIVE)
                    for e in self.copies.get(key, [])
                    if not e.cancelled
                ]
                result[mailbox] = Availability(
                    mailbox,
                    busy=tuple(p for p in periods if p.overlaps(start, end)),
                    working_hours=self.working_hours.get(key),
                )
        return result

    def create_meetings(self, batch: Sequence[OutgoingMeeting]) -> list[MeetingOutcome]:
        self._count("create")
        outcomes = []
        for meeting in batch:
            if meeting.ref in self.refuse:
                outcomes.append(MeetingOutcome(meeting.ref, False, "ErrorInvalidRecipients"))
                continue
            if self.transient_failures > 0:
                self.transient_failures -= 1
                outcomes.append(
                    MeetingOutcome(meeting.ref, False, "server busy", transient=True, clean=True)
                )
                continue
            if self.dropped_answers > 0:
                self.dropped_answers -= 1
                outcomes.append(
                    MeetingOutcome(meeting.ref, False, "connection reset", transient=True)
                )
                continue
            event = self._create(meeting)
            if self.lost_answers > 0:
                self.lost_answers -= 1
                outcomes.append(MeetingOutcome(meeting.ref, False, "answer lost", transient=True))
                continue
            outcomes.append(MeetingOutcome(meeting.ref, True, item_id=event.item_id, uid=event.uid))
        return outcomes

    def _create(self, meeting: OutgoingMeeting) -> Event:
        attendee = meeting.attendee.email.casefold()
        with self._lock:
            event = Event(
                item_id=self._new_id("meeting"),
                uid=uuid.uuid4().hex.upper(),
                subject=meeting.subject,
                start=meeting.start,
                end=meeting.end,
                attendee=attendee,
                ref=meeting.ref,
                text_body=meeting.text_body,
                html_body=meeting.html_body,
                categories=list(meeting.categories),
                reminder_minutes=meeting.reminder_minutes,
                location=meeting.location,
                time_zone=meeting.time_zone,
            )
            self.meetings[event.item_id] = event
            copy = replace(event, item_id=self._new_id("copy"), ref="", categories=[])
            self.copies.setdefault(attendee, []).append(copy)
            self.inboxes.setdefault(attendee, []).append(("request", event.subject))
        return event

    def find_meetings(self, lookups: Sequence[MeetingLookup]) -> dict[str, MeetingState]:
        self._count("find")
        found = {}
        with self._lock:
            for lookup in lookups:
                event = next(
                    (
                        e
                        for e in self.meetings.values()
                        if e.ref == lookup.ref or (lookup.item_id and e.item_id == lookup.item_id)
                    ),
                    None,
                )
                if event is not None:
                    found[lookup.ref] = MeetingState(
                        ref=lookup.ref,
                        item_id=event.item_id,
                        uid=event.uid,
                        start=event.start,
                        end=event.end,
                        cancelled=event.cancelled,
                        responses={event.attendee: event.response},
                        categories=tuple(event.categories),
                    )
        return found

    def attendee_categories(
        self, attendee: str, uid: str, start: datetime, end: datetime
    ) -> tuple[str, ...] | None:
        self._count("attendee_copy")
        with self._lock:
            copy = next((e for e in self.copies.get(attendee.casefold(), []) if e.uid == uid), None)
            return tuple(copy.categories) if copy is not None else None

    def read_responses(self, item_ids: Sequence[str]) -> list[MeetingResponse]:
        self._count("responses")
        with self._lock:
            return [self.responses[i] for i in item_ids if i in self.responses]

    def cancel_meeting(self, ref: str, item_id: str, comment: str) -> Outcome:
        self._count("cancel")
        with self._lock:
            for event in self.meetings.values():
                if (event.ref == ref or event.item_id == item_id) and not event.cancelled:
                    event.cancelled = True
                    # As Exchange's calendar attendant: the copy stays, cancelled and free.
                    for copy in self.copies.get(event.attendee, []):
                        if copy.uid == event.uid:
                            copy.cancelled = True
                            copy.subject = f"Canceled: {copy.subject}"
                    self.inboxes.setdefault(event.attendee, []).append(("cancelled", event.subject))
        return Outcome(ref, True)

    def close(self) -> None:
        pass

    # -- Directory and MailBodies ---------------------------------------------------------

    def resolve_names(self, query: str) -> list[DirectoryEntry]:
        self._count("resolve_names")
        wanted = query.strip().casefold()
        return [
            p
            for p in self.people
            if wanted and (wanted in p.name.casefold() or wanted in p.address)
        ]

    def read_body(self, mailbox: str, item_id: str) -> MailBody | None:
        self._count("read_body")
        return self.bodies.get((mailbox.casefold(), item_id))

    # -- what people do in Outlook, for tests -----------------------------------------------

    def by_ref(self, ref: str) -> Event:
        return next(e for e in self.meetings.values() if e.ref == ref)

    def live(self) -> list[Event]:
        """The organiser's meetings that are not cancelled."""
        return [e for e in self.meetings.values() if not e.cancelled]

    def respond(self, ref: str, response: ResponseKind) -> str:
        """The attendee answers: the organiser's copy tracks it, a response message arrives.

        Returns the response message's item id (in the organiser's inbox)."""
        with self._lock:
            event = self.by_ref(ref)
            event.response = response
            if response == "declined":
                self.copies[event.attendee] = [
                    c for c in self.copies.get(event.attendee, []) if c.uid != event.uid
                ]
            item_id = self._new_id("response")
            self.responses[item_id] = MeetingResponse(
                item_id, event.uid, event.attendee, response, meeting_item_id=event.item_id
            )
        return item_id

    def move(self, ref: str, start: datetime, end: datetime) -> None:
        """Staff move the meeting in the organiser's calendar (the attendee's copy follows)."""
        with self._lock:
            event = self.by_ref(ref)
            event.start, event.end = start, end
            for copy in self.copies.get(event.attendee, []):
                if copy.uid == event.uid:
                    copy.start, copy.end = start, end

    def delete(self, ref: str) -> None:
        """Staff delete the meeting from the organiser's calendar for good."""
        with self._lock:
            event = self.by_ref(ref)
            del self.meetings[event.item_id]

    def categorise(self, attendee: str, ref: str, *categories: str) -> None:
        """The colleague sets categories on their own copy."""
        with self._lock:
            uid = self.by_ref(ref).uid
            for copy in self.copies.get(attendee.casefold(), []):
                if copy.uid == uid:
                    copy.categories.extend(categories)
