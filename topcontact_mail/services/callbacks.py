"""Callbacks: a promised call-back becomes a meeting request in the colleague's Outlook calendar.

The concept ("Onze reactietermijnen — Telefonisch"): a callback happens before
the end of the next workday; the booker checks the colleague's agenda and plans
it as an Outlook meeting request with the tenant's details. One pass
(docs/callbacks.md):

1. *intake*: booking mails (the shared mailbox's messages screening recorded as
   `callback_request`, or every message of a callback mailbox of its own) are
   read: the form, the colleague (staff list, then the directory), the slot
   (free/busy, working hours, `choose_slot`, the fallback colleague). The
   callback, its meeting and the reply to the booker are recorded in one
   transaction: the intent, with the meeting's ref chosen now;
2. *claim*: the booking mail gets the service's marker naming the callback and
   the meeting's ref (and, when it could not be booked, a category);
3. *act and verify* (services/exactly_once.py): a meeting request is created
   once the attempt is recorded; one whose outcome is unknown is looked for in
   the organiser's calendar by its ref and created again only after the
   in-doubt window. Replies to the booker go the same way, after the meeting;
4. *follow-up*: every `check_interval` (and at once when a meeting response
   came in) the planned meetings are read back: a decline, a cancellation or a
   move past the term books the next free slot (or the fallback colleague) and
   tells the booker; when nothing is possible the booker is asked to contact
   the tenant. A done category closes the callback; a slot that passed
   without one makes it missed, for the tracking service's daily overview.

`book` does steps 1 and 3 at once for the command line.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from topcontact_mail.domain.calendar import BusinessCalendar
from topcontact_mail.domain.callbacks import Booking, CallbackRequest, StaffMember
from topcontact_mail.domain.callbacks.followup import FollowUpPolicy
from topcontact_mail.domain.message import MARKER_HEADER, Acknowledgement, Address
from topcontact_mail.domain.screening import ScreeningPolicy, screen
from topcontact_mail.domain.screening.reasons import Reason
from topcontact_mail.domain.tracking.model import CallbackState, TrackedCallback
from topcontact_mail.logs import get_logger
from topcontact_mail.ports import (
    Clock,
    FetchedMessage,
    Mailbox,
    MailboxUnavailable,
    Mark,
    Outcome,
    OutgoingAcknowledgement,
    PendingSend,
    SendResult,
    WatermarkExpired,
)
from topcontact_mail.ports.calendar import (
    Calendars,
    CalendarUnavailable,
    CallbackRecord,
    CallbackStore,
    MailBodies,
    MeetingLookup,
    MeetingOutcome,
    MeetingRecord,
    ReplyRecord,
)
from topcontact_mail.services.callback_followup import FollowUp
from topcontact_mail.services.callback_plans import (
    CALENDAR_UNREADABLE,
    Plan,
    Planner,
    details_of,
)
from topcontact_mail.services.exactly_once import IN_DOUBT_SECONDS, Round

#: The watermark of a callback mailbox of its own.
WATERMARK = "callbacks"
#: The loop-protection headers of every reply to a booker (as an acknowledgement's, our own marker).
REPLY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Auto-Submitted", "auto-replied"),
    ("X-Auto-Response-Suppress", "All"),
    (MARKER_HEADER, "callback"),
)
#: Screening reasons that make a message in a callback mailbox of its own a booking.
BOOKING_REASONS = frozenset({Reason.INTERNAL_SENDER, Reason.CALLBACK_REQUEST})


@dataclass(frozen=True)
class CallbackOptions:
    keyword: str = "Terugbelverzoek"
    #: Booking mails come to a mailbox of their own, which this service reads itself.
    own_mailbox: bool = False
    rejected_category: str = "Top Contact: terugbelverzoek niet ingepland"
    follow_up: FollowUpPolicy = field(default_factory=FollowUpPolicy)
    check_interval: timedelta = timedelta(seconds=300)
    max_rebookings: int = 3
    time_zone: str = "Europe/Amsterdam"
    dry_run: bool = False
    in_doubt_seconds: float = IN_DOUBT_SECONDS
    max_attempts: int = 5
    batch_size: int = 50
    #: How often a callback mailbox of its own is read for new booking mails.
    poll_interval: timedelta = timedelta(seconds=10)


@dataclass
class CallbackSummary:
    """What one pass did."""

    booked: int = 0
    rejected: int = 0
    meetings_sent: int = 0
    replies_sent: int = 0
    rebooked: int = 0
    closed: int = 0
    waiting: int = 0
    failed: int = 0

    @property
    def progress(self) -> bool:
        return bool(self.booked + self.rejected + self.meetings_sent + self.replies_sent)


@dataclass(frozen=True)
class BookingResult:
    """What `book` (the command line) did: the callback, or the problems that stopped it."""

    booking: Booking
    callback: CallbackRecord | None = None
    plan: Plan | None = None
    meeting: MeetingRecord | None = None
    #: The meeting is in the organiser's calendar (verified); False: it waits for the daemon.
    sent: bool = False
    #: "Jan de Vries belt ... terug op ..." (empty without a slot).
    sentence: str = ""


def new_ref() -> str:
    return uuid.uuid4().hex


def new_id() -> str:
    """A callback's short id, for people ("cb-3f9a1c0e"): shown in mails and on the command line."""
    return f"cb-{uuid.uuid4().hex[:8]}"


def marker_value(callback: CallbackRecord, meeting_ref: str | None, now: datetime) -> str:
    """The marker on a booking mail: handled as a callback, and by which meeting (its claim)."""
    return json.dumps(
        {
            "v": 2,
            "decision": "callback",
            "reason": Reason.CALLBACK_REQUEST.value,
            "callback": callback.id,
            "state": callback.state,
            "ref": meeting_ref,
            "claimed": now.isoformat(),
        },
        separators=(",", ":"),
    )


class CallbackService:
    """Books callbacks as meeting requests and follows them up, through the ports."""

    def __init__(
        self,
        *,
        mailbox: Mailbox,
        calendars: Calendars,
        bodies: MailBodies,
        store: CallbackStore,
        planner: Planner,
        clock: Clock,
        calendar: BusinessCalendar,
        policy: ScreeningPolicy,
        options: CallbackOptions = CallbackOptions(),
    ) -> None:
        self.mailbox = mailbox
        self.calendars = calendars
        self.bodies = bodies
        self.store = store
        self.planner = planner
        self.clock = clock
        self.calendar = calendar
        self.policy = policy
        self.options = options
        self.log = get_logger("callbacks", mailbox=mailbox.address.email)
        self.follow_up = FollowUp(self)
        self._created: dict[str, MeetingOutcome] = {}
        self._last_intake: datetime | None = None

    @property
    def staff(self) -> tuple[StaffMember, ...]:
        return self.planner.staff

    # -- the whole pass -----------------------------------------------------------------

    def run_once(self, should_stop: Callable[[], bool] = lambda: False) -> CallbackSummary:
        """Take up new booking mails, claim, send meetings and replies, follow up when due.

        A mailbox or calendar that cannot be reached ends the pass (what was done
        is recorded; the rest waits for the next pass): `MailboxUnavailable`.
        """
        summary = CallbackSummary()
        try:
            self._intake(summary, should_stop)
            if self.options.dry_run:
                return summary
            self.flush(summary)
            self.follow_up.run(summary, force=False)
            self.flush(summary)
        except CalendarUnavailable as exc:
            raise MailboxUnavailable(f"calendars: {exc}") from exc
        return summary

    def flush(self, summary: CallbackSummary) -> None:
        """Claims, then meetings, then the replies that wait for them."""
        while self._claim_batch():
            pass
        self._meetings(summary)
        self._replies(summary)
        self.follow_up.cancel_superseded()

    def has_pending(self) -> bool:
        if self.options.dry_run:
            return False
        return bool(
            self.store.unclaimed_callbacks(1)
            or self.store.pending_meetings(1, attempted=False)
            or self.store.pending_meetings(1, attempted=True)
            or self.store.pending_replies(1, attempted=False)
            or self.store.pending_replies(1, attempted=True)
            or (
                not self.options.own_mailbox
                and self.store.callback_candidates(Reason.CALLBACK_REQUEST, 1)
            )
        )

    def due(self) -> bool:
        """Whether the follow-up check (or a callback mailbox of its own) wants a pass now."""
        now = self.clock.now()
        if self.follow_up.due(now):
            return True
        return self.options.own_mailbox and (
            self._last_intake is None or now - self._last_intake >= self.options.poll_interval
        )

    # -- 1. intake ----------------------------------------------------------------------

    def _intake(self, summary: CallbackSummary, should_stop: Callable[[], bool]) -> None:
        self._last_intake = self.clock.now()
        if self.options.own_mailbox:
            try:
                self._intake_own_mailbox(summary, should_stop)
            except WatermarkExpired as exc:
                # Known mails are recognised by their marker or their record: start over.
                self.log.warning(
                    "callback mailbox watermark expired, reading it again", reason=str(exc)
                )
                self.store.clear_watermark(WATERMARK)
                self._intake_own_mailbox(summary, should_stop)
            return
        while not should_stop():
            ids = self.store.callback_candidates(Reason.CALLBACK_REQUEST, self.options.batch_size)
            if not ids:
                return
            found = {f.message.item_id: f for f in self.mailbox.read(ids)}
            for item_id in ids:
                fetched = found.get(item_id)
                if fetched is None:
                    self._gone(item_id)
                else:
                    self._take(fetched, summary)

    def _intake_own_mailbox(
        self, summary: CallbackSummary, should_stop: Callable[[], bool]
    ) -> None:
        while not should_stop():
            page = self.mailbox.fetch_changes(self.store.watermark(WATERMARK))
            for fetched in page.messages:
                item_id = fetched.message.item_id
                if item_id is None or fetched.marker is not None:
                    continue  # our own claim coming back, or handled before
                if self.store.callback_for_item(item_id) is not None:
                    continue
                if fetched.partial:
                    whole = self.mailbox.read([item_id])
                    if not whole or whole[0].partial:
                        continue
                    fetched = whole[0]
                verdict = screen(fetched.message, self.policy)
                if verdict.reason in BOOKING_REASONS:
                    self._take(fetched, summary)
                else:
                    self._refuse(fetched, verdict.reason)
            self.store.set_watermark(WATERMARK, page.watermark, self.clock.now())
            if not page.more:
                return

    def _gone(self, item_id: str) -> None:
        now = self.clock.now()
        self.store.record_callback(
            CallbackRecord(
                id=new_id(),
                source="mail",
                booked_by="",
                booked_at=now,
                state="refused",
                booking_item_id=item_id,
                booking_mailbox=self.mailbox.address.email,
                problems=("message_gone",),
            ),
            now,
        )

    def _refuse(self, fetched: FetchedMessage, reason: str) -> None:
        """A message in the callback mailbox that is no colleague's booking: kept, marked, no reply."""
        now = self.clock.now()
        message = fetched.message
        self.log.warning(
            "message in the callback mailbox is no booking; left alone",
            item_id=message.item_id,
            reason=reason,
        )
        self.store.record_callback(
            CallbackRecord(
                id=new_id(),
                source="mail",
                booked_by=message.sender.email if message.sender else "",
                booked_at=message.received or now,
                state="refused",
                booking_item_id=message.item_id,
                booking_mailbox=self.mailbox.address.email,
                booking_message_id=message.message_id,
                problems=(reason,),
                claimed=False,
            ),
            now,
        )

    def _take(self, fetched: FetchedMessage, summary: CallbackSummary) -> None:
        """Read one booking mail and record what it asks for (the intent), never raising on bad input."""
        message = fetched.message
        item_id = message.item_id or ""
        now = self.clock.now()
        booked_at = message.received or now
        sender = message.sender
        booked_by = sender.email if sender else ""
        body = self.bodies.read_body(self.mailbox.address.email, item_id)
        booking = self.planner.read_mail(body, booked_by, booked_at)
        base = CallbackRecord(
            id=new_id(),
            source="mail",
            booked_by=booked_by,
            booked_at=booked_at,
            state="rejected",
            callback_by=self.calendar.terms(booked_at).callback_by,
            booking_item_id=item_id,
            booking_mailbox=self.mailbox.address.email,
            booking_message_id=message.message_id,
            claimed=False,
        )
        if booking.request is None:
            self._reject(base, booking, message.message_id, summary)
            return
        plan = self._plan(booking.request, now, base)
        if plan.unreadable:
            problem = f"We kunnen de agenda van {plan.member.display_name} niet inzien."
            self._reject(base, booking, message.message_id, summary, extra=(problem,))
            return
        self._record_plan(base, booking.request, plan, now, summary, reply_to=message.message_id)

    def _plan(self, request: CallbackRequest, now: datetime, base: CallbackRecord) -> Plan:
        assert base.callback_by is not None
        return self.planner.choose(request, now=now, callback_by=base.callback_by)

    def _reject(
        self,
        base: CallbackRecord,
        booking: Booking,
        reply_to: str | None,
        summary: CallbackSummary,
        *,
        extra: Sequence[str] = (),
    ) -> None:
        problems = [p for p in booking.problems if p.blocking]
        codes = tuple(p.code for p in problems) + ((CALENDAR_UNREADABLE,) if extra else ())
        callback = replace(base, state="rejected", problems=codes)
        context = self._context(callback, {}, None)
        context["problems"] = [p.text for p in problems] + list(extra)
        self.store.record_callback(
            callback,
            self.clock.now(),
            replies=[self._reply(callback, "problems", context, reply_to)],
        )
        summary.rejected += 1
        self.log.info("booking mail could not be booked; the booker is told", codes=list(codes))

    def _record_plan(
        self,
        base: CallbackRecord,
        request: CallbackRequest,
        plan: Plan,
        now: datetime,
        summary: CallbackSummary,
        *,
        reply_to: str | None,
        attempting: bool = False,
        confirm: bool = True,
    ) -> tuple[CallbackRecord, MeetingRecord | None]:
        details = details_of(request)
        slot = plan.choice.slot
        if self.options.dry_run:
            self.store.record_callback(
                replace(base, state="dry_run", details=details, claimed=True), now
            )
            self.log.info(
                "dry run: would book a callback", slot=slot.start.isoformat() if slot else None
            )
            return base, None
        if slot is None:
            callback = replace(base, state="failed", details=details)
            context = self._context(callback, details, plan)
            replies = (
                self._replies_for(callback, "impossible", context, reply_to) if confirm else []
            )
            self.store.record_callback(callback, now, replies=replies)
            summary.rejected += 1
            return callback, None
        callback = replace(base, state="planned", details=details)
        meeting = self._meeting_record(callback, plan, details)
        context = self._context(callback, details, plan)
        replies = (
            self._replies_for(callback, "confirmation", context, reply_to, waits_for=meeting.ref)
            if confirm
            else []
        )
        self.store.record_callback(callback, now, meeting, replies, attempting=attempting)
        summary.booked += 1
        self.log.info(
            "callback planned",
            callback=callback.id,
            colleague=plan.member.address,
            slot=slot.start.isoformat(),
            at_risk=plan.choice.at_risk,
        )
        return callback, meeting

    def _meeting_record(
        self, callback: CallbackRecord, plan: Plan, details: dict[str, Any]
    ) -> MeetingRecord:
        slot = plan.choice.slot
        assert slot is not None
        ref = new_ref()
        context = self._context(callback, details, plan)
        return MeetingRecord(
            ref=ref,
            callback_id=callback.id,
            colleague=plan.member.address,
            colleague_name=plan.member.display_name,
            slot_start=slot.start,
            slot_end=slot.end,
            at_risk=plan.choice.at_risk,
            state="intent",
            outgoing=self.planner.meeting(ref, plan, context, self.options.time_zone),
        )

    def _context(
        self, callback: CallbackRecord, details: dict[str, Any], plan: Plan | None
    ) -> dict[str, Any]:
        context = self.planner.context(
            details,
            callback_id=callback.id,
            booked_by=callback.booked_by,
            booked_at=callback.booked_at,
            callback_by=callback.callback_by,
            plan=plan,
        )
        context["keyword"] = self.options.keyword
        return context

    def _replies_for(
        self,
        callback: CallbackRecord,
        kind: str,
        context: dict[str, Any],
        reply_to: str | None,
        *,
        waits_for: str | None = None,
    ) -> list[ReplyRecord]:
        """The mail to the booker, when there is one to write to."""
        if not callback.booked_by or "@" not in callback.booked_by:
            return []
        return [self._reply(callback, kind, context, reply_to, waits_for=waits_for)]

    def _reply(
        self,
        callback: CallbackRecord,
        kind: str,
        context: dict[str, Any],
        reply_to: str | None,
        *,
        waits_for: str | None = None,
    ) -> ReplyRecord:
        rendered = self.planner.render(kind, context)
        ref = new_ref()
        domain = self.mailbox.address.domain or "topcontact.invalid"
        mail = Acknowledgement(
            recipient=Address(callback.booked_by),
            subject=rendered.subject,
            text_body=rendered.text,
            html_body=rendered.html,
            language="nl",
            in_reply_to=reply_to,
            references=(reply_to,) if reply_to else (),
            headers=REPLY_HEADERS,
        )
        return ReplyRecord(
            ref=ref,
            callback_id=callback.id,
            kind=kind,
            message_id=f"<{ref}@{domain}>",
            state="intent",
            original_item_id=callback.booking_item_id if callback.source == "mail" else None,
            mail=mail,
            waits_for=waits_for,
        )

    # -- 2. claim -------------------------------------------------------------------------

    def _claim_batch(self) -> bool:
        pending = self.store.unclaimed_callbacks(self.options.batch_size)
        if not pending:
            return False
        now = self.clock.now()
        marks = []
        for callback in pending:
            meeting = next(iter(self.store.meetings(callback.id)), None)
            marks.append(
                Mark(
                    item_id=callback.booking_item_id or "",
                    marker=marker_value(callback, meeting.ref if meeting else None, now),
                    category=self.options.rejected_category
                    if callback.state in ("rejected", "failed")
                    else None,
                )
            )
        by_item = {c.booking_item_id: c for c in pending}
        progress = False
        for outcome in self.mailbox.mark(marks):
            callback = by_item[outcome.key]
            if outcome.ok:
                self.store.set_callback_claimed(callback.id)
                progress = True
            else:
                gave_up = self.store.callback_claim_failed(
                    callback.id, outcome.error, self.options.max_attempts
                )
                progress = progress or gave_up
                self.log.warning(
                    "claiming the booking mail failed", callback=callback.id, error=outcome.error
                )
        return progress

    # -- 3. meetings and replies, exactly once ---------------------------------------------

    def _meeting_round(self) -> Round[PendingSend]:
        return Round(
            find=self._find_refs,
            act=self._create,
            attempting=self.store.attempting_sends,
            in_doubt=timedelta(seconds=self.options.in_doubt_seconds),
            max_attempts=self.options.max_attempts,
            kind="meeting request",
        )

    def _find_refs(self, refs: Collection[str], since: datetime) -> set[str]:
        lookups = [
            MeetingLookup(m.ref, m.item_id, m.slot_start, m.slot_end)
            for m in self.store.meetings(states=("intent",))
            if m.ref in refs
        ]
        found = self.calendars.find_meetings(lookups)
        for ref, state in found.items():
            self.store.set_meeting_ids(ref, state.item_id, state.uid)
        return set(found)

    def _create(self, batch: Sequence[PendingSend]) -> list[Outcome]:
        outgoing = self.store.meeting_outgoing([p.ref for p in batch])
        ready = [outgoing[p.ref] for p in batch if p.ref in outgoing]
        outcomes: list[Outcome] = list(self.calendars.create_meetings(ready))
        for outcome in outcomes:
            if isinstance(outcome, MeetingOutcome) and outcome.ok:
                self._created[outcome.key] = outcome
        missing = [p.ref for p in batch if p.ref not in outgoing]
        outcomes.extend(Outcome(ref, False, "the meeting's text is gone") for ref in missing)
        return outcomes

    def _meetings(self, summary: CallbackSummary) -> None:
        rounds = self._meeting_round()
        unsure = self.store.pending_meetings(self.options.batch_size, attempted=True)
        if unsure:
            now = self.clock.now()
            verified, again = rounds.verify(unsure, now)
            sent = rounds.send(again, now)
            self._settle_meetings([*verified.results, *sent.results], summary)
            summary.waiting += verified.waiting
        while True:
            pending = self.store.pending_meetings(self.options.batch_size, attempted=False)
            if not pending:
                return
            result = rounds.send(pending, self.clock.now())
            self._settle_meetings(result.results, summary)
            if not result.progress:
                return

    def _settle_meetings(self, results: Sequence[SendResult], summary: CallbackSummary) -> None:
        self.store.settle_sends(results, self.clock.now())
        for result in results:
            created = self._created.pop(result.item_id, None)
            if created is not None:
                self.store.set_meeting_ids(result.item_id, created.item_id, created.uid)
            if result.outcome == "sent":
                summary.meetings_sent += 1
            elif result.outcome == "failed":
                summary.failed += 1
                self.follow_up.not_created(result.item_id, result.error)

    def _reply_round(self) -> Round[PendingSend]:
        return Round(
            find=self.mailbox.sent_refs,
            act=self._send_replies,
            attempting=self.store.attempting_sends,
            in_doubt=timedelta(seconds=self.options.in_doubt_seconds),
            max_attempts=self.options.max_attempts,
            kind="reply to a booker",
        )

    def _send_replies(self, batch: Sequence[PendingSend]) -> list[Outcome]:
        records = self.store.reply_records([p.ref for p in batch])
        threaded = []
        outcomes: list[Outcome] = []
        for pending in batch:
            record = records.get(pending.ref)
            if record is None or pending.acknowledgement is None:
                outcomes.append(Outcome(pending.ref, False, "the reply's text is gone"))
            elif record.original_item_id:
                threaded.append(
                    OutgoingAcknowledgement(
                        pending.ref,
                        pending.message_id,
                        record.original_item_id,
                        pending.acknowledgement,
                    )
                )
            else:
                outcomes.append(self._notice(pending.ref, pending.acknowledgement))
        if threaded:
            outcomes.extend(self.mailbox.send_acknowledgements(threaded))
        return outcomes

    def _notice(self, ref: str, mail: Acknowledgement) -> Outcome:
        """A notice without a booking mail to answer (a callback booked on the command line)."""
        try:
            self.mailbox.send_notice(mail.recipient, mail.subject, mail.text_body)
        except MailboxUnavailable as exc:
            return Outcome(ref, False, str(exc), transient=True, clean=True)
        return Outcome(ref, True)

    def _replies(self, summary: CallbackSummary) -> None:
        rounds = self._reply_round()
        unsure = self.store.pending_replies(self.options.batch_size, attempted=True)
        if unsure:
            now = self.clock.now()
            # A notice carries no ref to look for: its unknown outcome counts as sent.
            records = self.store.reply_records([p.ref for p in unsure])
            notices = [p for p in unsure if not records[p.ref].original_item_id]
            threaded = [p for p in unsure if records[p.ref].original_item_id]
            verified, again = rounds.verify(threaded, now)
            sent = rounds.send(again, now)
            results = [*verified.results, *sent.results]
            results += [SendResult(p.item_id, "sent") for p in notices]
            self.store.settle_sends(results, self.clock.now())
            summary.replies_sent += sum(1 for r in results if r.outcome == "sent")
            summary.waiting += verified.waiting
        while True:
            pending = self.store.pending_replies(self.options.batch_size, attempted=False)
            if not pending:
                return
            result = rounds.send(pending, self.clock.now())
            self.store.settle_sends(result.results, self.clock.now())
            summary.replies_sent += result.sent
            if not result.progress:
                return

    # -- the command line --------------------------------------------------------------------

    def book(
        self,
        *,
        colleague: str,
        tenant_name: str,
        phone: str,
        subject: str,
        notes: str = "",
        preference: str = "",
        booked_by: str = "",
    ) -> BookingResult:
        """Book a callback now (intent, attempt, act, verify), as `callback book` does."""
        now = self.clock.now()
        booking = self.planner.read_fields(
            colleague=colleague,
            tenant_name=tenant_name,
            phone=phone,
            subject=subject,
            notes=notes,
            preference=preference,
            booked_by=booked_by,
            booked_at=now,
        )
        if booking.request is None:
            return BookingResult(booking)
        base = CallbackRecord(
            id=new_id(),
            source="cli",
            booked_by=booked_by,
            booked_at=now,
            state="planned",
            callback_by=self.calendar.terms(now).callback_by,
        )
        plan = self._plan(booking.request, now, base)
        if plan.unreadable:
            return BookingResult(booking, plan=plan)
        # Recorded as attempting at once: a daemon running beside us looks before it creates.
        # The confirmation is this command's output; a booker's address gets the follow-ups.
        callback, meeting = self._record_plan(
            base,
            booking.request,
            plan,
            now,
            CallbackSummary(),
            reply_to=None,
            attempting=True,
            confirm=False,
        )
        sentence = ""
        if plan.choice.slot is not None:
            sentence = self.planner.render(
                "sentence", self._context(callback, {**callback.details}, plan)
            ).text.strip()
        if meeting is None:
            return BookingResult(booking, callback, plan, sentence=sentence)
        sent = self._create_now(meeting)
        return BookingResult(booking, callback, plan, meeting, sent=sent, sentence=sentence)

    def _create_now(self, meeting: MeetingRecord) -> bool:
        pending = PendingSend(meeting.ref, meeting.ref, "", None, 1, self.clock.now())
        outcomes = self._create([pending])
        outcome = outcomes[0]
        if outcome.ok:
            result = SendResult(meeting.ref, "sent")
        elif outcome.transient and not outcome.clean:
            found = self._find_refs({meeting.ref}, self.clock.now())
            result = (
                SendResult(meeting.ref, "sent")
                if found
                else SendResult(meeting.ref, "retry", outcome.error)
            )
        else:
            result = SendResult(meeting.ref, "retry", outcome.error, not_sent=True)
        self._settle_meetings([result], CallbackSummary())
        return result.outcome == "sent"

    def cancel(self, callback_id: str) -> tuple[bool, str]:
        """Cancel a callback's meeting (the colleague is told); (done, what happened)."""
        callback = self.store.get_callback(callback_id)
        if callback is None:
            return False, f"no callback {callback_id}"
        if callback.state not in ("planned", "missed"):
            return False, f"callback {callback_id} is {callback.state}: nothing to cancel"
        return self.follow_up.cancel(callback), f"callback {callback_id} cancelled"


# -- for the tracking service ----------------------------------------------------------------

#: Why a meeting was replaced that counts as a rebooking (the domain's follow-up rules).
REBOOKED_BECAUSE = frozenset({"cancelled", "declined", "moved_late"})
_TRACKED = {
    "planned": CallbackState.PLANNED,
    "done": CallbackState.DONE,
    "missed": CallbackState.MISSED,
}


def tracked_callbacks(store: CallbackStore) -> list[TrackedCallback]:
    """Every booked callback as the daily overview and the reports see it.

    One per meeting request: the live one with the callback's state (planned,
    done, missed), each one replaced by a rebooking as `rebooked`. Callbacks that
    never got a meeting (a form that could not be booked) are not listed.
    """
    tracked: list[TrackedCallback] = []
    callbacks = {c.id: c for c in store.callbacks()}
    for meeting in store.meetings(states=("intent", "sent", "superseded")):
        callback = callbacks.get(meeting.callback_id)
        if callback is None or callback.callback_by is None:
            continue
        if meeting.state == "superseded":
            if meeting.why not in REBOOKED_BECAUSE:
                continue  # cancelled on the command line, or never created
            state = CallbackState.REBOOKED
        else:
            found = _TRACKED.get(callback.state)
            if found is None:
                continue
            state = found
        tracked.append(
            TrackedCallback(
                ref=meeting.ref,
                booked_at=callback.booked_at,
                callback_by=callback.callback_by,
                slot_start=meeting.slot_start,
                state=state,
                colleague=meeting.colleague_name or meeting.colleague,
                tenant=str(callback.details.get("tenant_name", "")),
            )
        )
    return tracked


@dataclass(frozen=True)
class StoreCallbacks:
    """The tracking service's callback source: the callbacks booked in the state store."""

    store: CallbackStore

    def tracked_callbacks(self) -> list[TrackedCallback]:
        return tracked_callbacks(self.store)
