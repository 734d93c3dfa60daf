"""Following booked callbacks up: declines, cancellations, moves, done marks and missed slots.

The callback service runs `FollowUp.run` every `check_interval`, and at once
when a meeting message (a response) was recorded in the shared mailbox. It
reads the planned meetings back from the organiser's calendar (and the
colleague's own copy, for a done category) and lets the domain's follow-up
table (`domain/callbacks/followup.py`) say what each state means; this module
carries it out: a new slot (or the fallback colleague) and a reply to the
booker, or the question to contact the tenant; the callback closed as done or
missed; a moved meeting's new time kept. A superseded meeting still in the
organiser's calendar is cancelled, so the colleague never has two.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from topcontact_mail.domain.callbacks import StaffMember
from topcontact_mail.domain.callbacks import texts as domain_texts
from topcontact_mail.domain.callbacks.followup import Action, Planned, Seen, assess
from topcontact_mail.domain.screening.reasons import Reason
from topcontact_mail.ports.calendar import (
    CallbackRecord,
    MeetingLookup,
    MeetingRecord,
    MeetingResponse,
    MeetingState,
)
from topcontact_mail.services.callback_plans import declined_slot, request_of

if TYPE_CHECKING:
    from topcontact_mail.services.callbacks import CallbackService, CallbackSummary

#: The colleague's own copy is read for a done category only from this long before the slot.
DONE_LOOKAHEAD = timedelta(hours=2)
#: How many meeting messages are looked at per pass.
MESSAGES_PER_PASS = 200


class FollowUp:
    """The follow-up steps of one callback service."""

    def __init__(self, service: CallbackService) -> None:
        self.service = service
        self.store = service.store
        self.calendars = service.calendars
        self.log = service.log
        self._last_check: datetime | None = None

    def due(self, now: datetime) -> bool:
        if (
            self._last_check is None
            or now - self._last_check >= self.service.options.check_interval
        ):
            return True
        return bool(self.store.meeting_messages(Reason.MEETING_MESSAGE, 1))

    # -- the check ------------------------------------------------------------------------

    def run(self, summary: CallbackSummary, *, force: bool) -> None:
        now = self.service.clock.now()
        if not force and not self.due(now):
            return
        responses = self._responses(now)
        planned = {c.id: c for c in self.store.callbacks(("planned",))}
        active = [m for m in self.store.meetings(states=("sent",)) if m.callback_id in planned]
        self._last_check = now
        if not active:
            return
        found = self.calendars.find_meetings(
            [MeetingLookup(m.ref, m.item_id, m.slot_start, m.slot_end) for m in active]
        )
        per_colleague = Counter(m.colleague.casefold() for m in active)
        for meeting in active:
            callback = planned[meeting.callback_id]
            state = found.get(meeting.ref)
            alone = per_colleague[meeting.colleague.casefold()] == 1
            seen = self._seen(meeting, state, responses, now, alone=alone)
            result = assess(
                Planned(
                    meeting.slot_start, meeting.slot_end, callback.callback_by or meeting.slot_end
                ),
                seen,
                now=now,
                policy=self.service.options.follow_up,
            )
            if result.action is not Action.KEEP:
                self.log.info(
                    "callback follow-up",
                    callback=callback.id,
                    rule=result.rule,
                    detail=result.detail,
                )
            if result.action is Action.DONE:
                self.store.set_callback_state(callback.id, "done", now)
                summary.closed += 1
            elif result.action is Action.MISSED:
                self.store.set_callback_state(callback.id, "missed", now)
                summary.closed += 1
            elif result.action is Action.MOVED and result.start and result.end:
                self.store.move_meeting(meeting.ref, result.start, result.end)
            elif result.action is Action.REBOOK:
                self.rebook(callback, meeting, result.rule, summary)

    def _responses(self, now: datetime) -> dict[str, MeetingResponse]:
        """The latest response per meeting (by UID and by the organiser's item id) among the
        meeting messages recorded since last time."""
        ids = self.store.meeting_messages(Reason.MEETING_MESSAGE, MESSAGES_PER_PASS)
        if not ids:
            return {}
        found: dict[str, MeetingResponse] = {}
        for response in self.calendars.read_responses(ids):
            # Without the meeting's ids (a backend that cannot tell) the attendee must do.
            keys = [response.uid, response.meeting_item_id]
            if not any(keys):
                keys = [f"attendee:{response.attendee.casefold()}"]
            for key in keys:
                if key:
                    found[key] = response
        self.store.seen_meeting_messages(ids, now)
        return found

    def _seen(
        self,
        meeting: MeetingRecord,
        state: MeetingState | None,
        responses: dict[str, MeetingResponse],
        now: datetime,
        *,
        alone: bool,
    ) -> Seen:
        if state is None:
            return Seen(found=False)
        colleague = meeting.colleague.casefold()
        response = state.responses.get(colleague, "none")
        routed = responses.get(state.uid) or responses.get(state.item_id)
        if routed is None and alone:
            routed = responses.get(f"attendee:{colleague}")
        if routed is not None and routed.attendee.casefold() == colleague:
            response = routed.response
        categories = tuple(state.categories)
        if state.uid and now >= state.start - DONE_LOOKAHEAD:
            own = self.calendars.attendee_categories(
                meeting.colleague, state.uid, state.start, state.end
            )
            categories += own or ()
        return Seen(
            found=True,
            cancelled=state.cancelled,
            start=state.start,
            end=state.end,
            response=response,
            categories=categories,
        )

    # -- acting on it ---------------------------------------------------------------------

    def rebook(
        self,
        callback: CallbackRecord,
        meeting: MeetingRecord,
        why: str,
        summary: CallbackSummary,
    ) -> None:
        """The next free slot (or the fallback colleague) for a callback whose meeting fell through."""
        service = self.service
        now = service.clock.now()
        plan = None
        if callback.rebookings < service.options.max_rebookings and callback.callback_by:
            request = request_of(
                callback.details, service.staff, callback.booked_by, callback.booked_at
            )
            chosen = service.planner.choose(
                request,
                now=now,
                callback_by=callback.callback_by,
                avoid=[declined_slot(meeting.slot_start, meeting.slot_end)],
                colleague=self._member(meeting),
            )
            plan = chosen if chosen.choice.slot is not None and not chosen.unreadable else None
        context = self._why(service._context(callback, dict(callback.details), plan), meeting, why)
        reply_to = callback.booking_message_id
        cancel_old = why not in ("cancelled", "not_created")
        if plan is None:
            replies = service._replies_for(callback, "impossible", context, reply_to)
            self.store.rebook(
                callback.id, meeting.ref, why, now, None, replies, "failed", cancel_old=cancel_old
            )
            self.log.warning(
                "callback cannot be booked anew; the booker is asked to act", callback=callback.id
            )
        else:
            new = service._meeting_record(callback, plan, dict(callback.details))
            replies = service._replies_for(
                callback, "rebooked", context, reply_to, waits_for=new.ref
            )
            self.store.rebook(
                callback.id, meeting.ref, why, now, new, replies, "planned", cancel_old=cancel_old
            )
            summary.rebooked += 1

    def _member(self, meeting: MeetingRecord) -> StaffMember:
        return next(
            (m for m in self.service.staff if m.address.casefold() == meeting.colleague.casefold()),
            StaffMember(meeting.colleague_name or meeting.colleague, meeting.colleague),
        )

    def _why(self, context: dict[str, Any], meeting: MeetingRecord, why: str) -> dict[str, Any]:
        tz = self.service.calendar.tz
        start, end = meeting.slot_start.astimezone(tz), meeting.slot_end.astimezone(tz)
        context["why"] = why
        context["previous_colleague"] = meeting.colleague_name or meeting.colleague
        context["previous_slot"] = (
            f"{domain_texts.day_text(start.date())} {start:%H:%M}-{end:%H:%M}"
        )
        return context

    def not_created(self, ref: str, error: str) -> None:
        """A meeting given up for good: its confirmation is dropped, the booker asked to act."""
        meeting = self.store.get_meeting(ref)
        if meeting is None:
            return
        callback = self.store.get_callback(meeting.callback_id)
        self.store.drop_replies_waiting_for(ref)
        if callback is None:
            return
        self.log.error("meeting request given up", callback=callback.id, error=error)
        service = self.service
        context = self._why(
            service._context(callback, dict(callback.details), None), meeting, "not_created"
        )
        replies = service._replies_for(callback, "impossible", context, callback.booking_message_id)
        self.store.rebook(
            callback.id,
            ref,
            "not_created",
            service.clock.now(),
            None,
            replies,
            "failed",
            cancel_old=False,
        )

    def cancel_superseded(self) -> None:
        """Meetings replaced by a new one, still in Outlook: cancelled (the colleague is told)."""
        for meeting in self.store.meetings_to_cancel():
            outcome = self.calendars.cancel_meeting(
                meeting.ref, meeting.item_id or "", "Dit terugbelverzoek is opnieuw ingepland."
            )
            if outcome.ok:
                self.store.meeting_cancelled(meeting.ref)
            else:
                self.log.warning(
                    "cancelling a replaced meeting failed", ref=meeting.ref, error=outcome.error
                )

    def cancel(self, callback: CallbackRecord) -> bool:
        """The command line's cancel: the live meeting cancelled in Outlook, the callback closed."""
        now = self.service.clock.now()
        for meeting in self.store.meetings(callback.id, states=("sent", "intent")):
            self.store.rebook(
                callback.id, meeting.ref, "cli", now, None, (), "cancelled", cancel_old=True
            )
        self.store.set_callback_state(callback.id, "cancelled", now)
        self.cancel_superseded()
        return not any(m.callback_id == callback.id for m in self.store.meetings_to_cancel())
