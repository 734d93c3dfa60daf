"""Keeping the promise: track every open answer target until it is met, warn, escalate, report.

The decisions are the pure core's (`domain/tracking/`); this service reads the
mailbox, keeps the state and sends the team's mails through the ports. Every
step is derived from the state store and the moment `now`, so the service can
stop and start at any time, mid-day included, without doing anything twice or
missing anything (docs/tracking.md).

- **Intake** (`target_for`, called by the acknowledge service before a decision
  is recorded): a message that needs an answer gets its target, stored with the
  decision. A newer message of the same tenant in the same conversation keeps
  the open target; a reply that only thanks gets none.
- **A pass** (`run_once`), when `next_wakeup` says or on the observe interval:
  1. decisions without a target (recorded before tracking existed, or adopted
     after a lost state) get their own;
  2. the open targets are observed in the mailbox in batches; the earliest sign
     of an answer closes a target, with when and how;
  3. a message in its warning period gets the warning category (office hours,
     once), an overdue one the overdue category, an answered one loses them;
  4. while the office is open: the escalation to the team lead (each overdue
     message at most once per workday) and the daily overview to the team (once
     per workday), each recorded as an intent before it is sent;
  5. the team's mails go out exactly once (`services/exactly_once.py`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TypeVar

from topcontact_mail.domain.calendar import BusinessCalendar
from topcontact_mail.domain.message import Address, IncomingMessage
from topcontact_mail.domain.tracking import (
    Answered,
    AnsweredPolicy,
    ChoiceKind,
    SchedulePolicy,
    TargetState,
    TrackedTarget,
    answered,
    choose_target,
    classify_reply,
    daily_overview,
    escalations_due,
    next_wakeup,
    overview_due,
    state_at,
    warnings_due,
)
from topcontact_mail.logs import get_logger
from topcontact_mail.ports import (
    Clock,
    Mailbox,
    MailboxUnavailable,
    Mark,
    MessageRecord,
    NoticeKind,
    Observed,
    OutgoingNotice,
    PendingNotice,
    StateStore,
    TargetProgress,
    ToObserve,
    Watched,
)
from topcontact_mail.ports.callbacks import CallbackSource, NoCallbacks
from topcontact_mail.ports.texts import MessageDetails, TeamMailTexts
from topcontact_mail.services.exactly_once import IN_DOUBT_SECONDS, Round

#: Observing stops for this pass after this many failed requests in a row (the mailbox is away).
FAILURES_IN_A_ROW = 3
_T = TypeVar("_T")


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class TrackingOptions:
    """How the tracking service works, as the configuration (`[tracking]`) sets it."""

    answered: AnsweredPolicy = field(default_factory=AnsweredPolicy)
    schedule: SchedulePolicy = field(default_factory=SchedulePolicy)
    #: Off: targets are recorded at intake, but nothing is observed, marked or mailed.
    enabled: bool = True
    #: The acknowledge service's category ("... {date}"): the service's own, never "flagged by".
    answer_category: str = "Top Contact: antwoord vóór {date}"
    warning_category: str = "Top Contact: bijna te laat"
    overdue_category: str = "Top Contact: te laat"
    team_lead: Address | None = None
    team: Address | None = None
    #: Names that may stand in a thanks-only reply (the team's and the organisation's).
    own_names: tuple[str, ...] = ()
    dry_run: bool = False
    #: Messages per observe call (the adapters split them further into requests).
    batch_size: int = 50
    in_doubt_seconds: float = IN_DOUBT_SECONDS
    max_attempts: int = 5


@dataclass
class TrackingSummary:
    """What one pass did; the daemon logs it and the demo shows it."""

    targets_added: int = 0
    observed: int = 0
    #: Watched messages the mailbox no longer has (deleted for good).
    missing: int = 0
    answered: int = 0
    warned: int = 0
    overdue: int = 0
    cleared: int = 0
    escalated: int = 0
    overviews: int = 0
    notices_sent: int = 0
    notices_failed: int = 0
    #: Team mails whose outcome is unknown, waiting for their copy (or their in-doubt window).
    notices_waiting: int = 0
    #: True when the mailbox failed midway; the rest is left for the next pass.
    interrupted: bool = False
    #: When the next pass is due (a warning, an overdue target, an opening, an overview).
    next_wakeup: datetime | None = None
    answers: dict[str, int] = field(default_factory=dict)


class TrackingService:
    """Tracks the answer targets through the ports; see the module docstring."""

    def __init__(
        self,
        *,
        mailbox: Mailbox,
        store: StateStore,
        clock: Clock,
        calendar: BusinessCalendar,
        texts: TeamMailTexts,
        options: TrackingOptions = TrackingOptions(),
        callbacks: CallbackSource | None = None,
    ) -> None:
        self.mailbox = mailbox
        self.store = store
        self.clock = clock
        self.calendar = calendar
        self.texts = texts
        self.options = options
        self.callbacks: CallbackSource = callbacks if callbacks is not None else NoCallbacks()
        self.log = get_logger("tracking", mailbox=mailbox.address.email)
        self._answer_prefix = options.answer_category.split("{", 1)[0].strip().casefold()

    # -- intake ----------------------------------------------------------------------------

    def target_for(
        self, message: IncomingMessage, record: MessageRecord
    ) -> tuple[MessageRecord, TrackedTarget | None]:
        """The decision as it is to be recorded, and the message's target (None: it gets none).

        Joined: the record carries the earlier target's `answer_by`, so the flag
        and category in Outlook show the promise in force. Thanks only: the record
        no longer needs an answer. Never raises: on any trouble the message keeps
        its own target (a needless target is better than a missed question).
        """
        own = TrackedTarget(
            item_id=record.item_id,
            received=record.received,
            reception_day=record.reception_day,
            answer_by=record.answer_by,
            conversation_id=record.conversation_id,
            sender=record.sender,
        )
        if not record.needs_answer:
            return record, None
        if not record.conversation_id:
            return record, own
        try:
            conversation = self.store.conversation_targets(record.conversation_id)
            reply = None
            if conversation:
                names = [message.sender.name] if message.sender and message.sender.name else []
                reply = classify_reply(
                    message.text_sample,
                    [*names, *self.options.own_names],
                    has_attachments=_has_attachments(message),
                )
            choice = choose_target(own, conversation, reply)
        except Exception as exc:  # the target must never cost the acknowledgement
            self.log.exception(
                "choosing the target failed; the message keeps its own",
                item_id=record.item_id,
                error=type(exc).__name__,
            )
            return record, own
        if choice.kind is ChoiceKind.NONE:
            self.log.info("a reply that only thanks: no answer target", item_id=record.item_id)
            detail = f"{record.detail}; {choice.reason}: no answer target".lstrip("; ")
            return replace(record, needs_answer=False, detail=detail), None
        if choice.kind is ChoiceKind.JOINED and choice.answer_by is not None:
            self.log.info(
                "the tenant wrote again: the earlier target stays",
                item_id=record.item_id,
                joined_to=choice.joined_to,
                answer_by=choice.answer_by.isoformat(),
            )
            return (
                replace(record, answer_by=choice.answer_by),
                replace(own, answer_by=choice.answer_by, joined_to=choice.joined_to),
            )
        return record, own

    # -- the pass --------------------------------------------------------------------------

    def run_once(self, should_stop: Callable[[], bool] = lambda: False) -> TrackingSummary:
        """One tracking pass (module docstring); returns what it did and when to look again."""
        summary = TrackingSummary()
        now = self.clock.now()
        self._add_missing_targets(now, summary)
        if self.options.enabled:
            try:
                details = self._observe(now, summary, should_stop)
                if not should_stop():
                    self._categories(now, summary)
                if not should_stop() and self.calendar.is_open(now):
                    self._escalate(now, details, summary)
                    self._overview(now, details, summary)
                if not should_stop():
                    self._send_notices(summary)
            except MailboxUnavailable as exc:
                self.log.warning(
                    "mailbox unavailable, tracking continues in the next pass", error=str(exc)
                )
                summary.interrupted = True
        summary.next_wakeup = self.next_wakeup(self.clock.now())
        return summary

    def next_wakeup(self, now: datetime) -> datetime:
        """When the next pass is due: a target's next step, an opening, an overview, or a team
        mail's in-doubt window ending."""
        moment = next_wakeup(
            self.store.targets(open_only=True), now, self.calendar, self.options.schedule
        )
        window = timedelta(seconds=self.options.in_doubt_seconds)
        for pending in self.store.pending_notices(100, attempted=True):
            if pending.last_attempt is not None and pending.last_attempt + window > now:
                moment = min(moment, pending.last_attempt + window)
        return self.calendar.local(moment)

    def has_pending(self) -> bool:
        """Whether team mails wait to be sent or confirmed."""
        return bool(
            self.store.pending_notices(1, attempted=False)
            or self.store.pending_notices(1, attempted=True)
        )

    # -- 1. targets --------------------------------------------------------------------------

    def _add_missing_targets(self, now: datetime, summary: TrackingSummary) -> None:
        while True:
            records = self.store.records_without_target(self.options.batch_size)
            if not records:
                return
            targets = [
                TrackedTarget(
                    item_id=r.item_id,
                    received=r.received,
                    reception_day=r.reception_day,
                    answer_by=r.answer_by,
                    conversation_id=r.conversation_id,
                    sender=r.sender,
                )
                for r in records
            ]
            self.store.add_targets(targets, now)
            summary.targets_added += len(targets)

    # -- 2. observe --------------------------------------------------------------------------

    def _observe(
        self, now: datetime, summary: TrackingSummary, should_stop: Callable[[], bool]
    ) -> dict[str, MessageDetails]:
        """Look at every open target; record the answers found. Returns what the mails show."""
        details: dict[str, MessageDetails] = {}
        failures = [0]
        for chunk in _chunks(self.store.to_observe(), self.options.batch_size):
            if should_stop():
                break
            seen = self._observe_isolating(list(chunk), failures)
            answers: dict[str, Answered] = {}
            for wanted in chunk:
                found = seen.get(wanted.item_id)
                if found is None:
                    summary.missing += 1
                    continue
                item_id = self._follow(wanted.item_id, found)
                summary.observed += 1
                observation = replace(
                    found.observation,
                    item_id=item_id,
                    observed_at=now,
                    acknowledgement_message_id=wanted.acknowledgement_message_id,
                    acknowledgement_sent_at=wanted.acknowledgement_sent_at,
                )
                details[item_id] = MessageDetails(
                    subject=found.subject,
                    tenant=found.tenant,
                    flagged_by=self._flagged_by(observation.categories),
                    link=found.link,
                )
                try:
                    answer = answered(observation, self.options.answered)
                except Exception as exc:  # one odd message must not stop the others
                    self.log.exception(
                        "reading the answer failed", item_id=item_id, error=type(exc).__name__
                    )
                    continue
                if answer is not None:
                    answers[item_id] = answer
                    summary.answers[answer.how] = summary.answers.get(answer.how, 0) + 1
                    self.log.info(
                        "answered",
                        item_id=item_id,
                        how=answer.how,
                        at=answer.when.isoformat(),
                        detail=answer.detail,
                    )
            if answers:
                self.store.record_answers(answers, now)
                summary.answered += len(answers)
        return details

    def _observe_isolating(
        self, chunk: list[ToObserve], failures: list[int]
    ) -> dict[str, Observed]:
        """Observe a batch; a batch the mailbox fails on is halved until the message that makes
        it fail stands alone and is skipped this pass. Several failures in a row: the mailbox
        itself is away, and the pass stops."""
        try:
            seen = self.mailbox.observe([Watched(w.item_id, w.internet_message_id) for w in chunk])
        except MailboxUnavailable as exc:
            failures[0] += 1
            if failures[0] >= FAILURES_IN_A_ROW:
                raise
            if len(chunk) == 1:
                self.log.warning(
                    "message cannot be observed; skipped this pass",
                    item_id=chunk[0].item_id,
                    error=str(exc),
                )
                return {}
            middle = len(chunk) // 2
            return {
                **self._observe_isolating(chunk[:middle], failures),
                **self._observe_isolating(chunk[middle:], failures),
            }
        failures[0] = 0
        return seen

    def _follow(self, item_id: str, found: Observed) -> str:
        """The message's id now; a message EWS moved has a new one, and its target follows."""
        current = found.observation.item_id or item_id
        if current != item_id:
            self.log.info("the message moved; its target follows it", item_id=item_id, now=current)
            self.store.retarget(item_id, current)
        return current

    def _flagged_by(self, categories: Sequence[str]) -> str:
        """Who has the message: the categories staff gave it (not the service's own, not done)."""
        own = {
            self.options.warning_category.casefold(),
            self.options.overdue_category.casefold(),
            *(c.strip().casefold() for c in self.options.answered.done_categories),
        }
        staff = [
            c
            for c in categories
            if c.strip().casefold() not in own
            and not (self._answer_prefix and c.casefold().startswith(self._answer_prefix))
        ]
        return ", ".join(staff)

    # -- 3. categories -----------------------------------------------------------------------

    def _categories(self, now: datetime, summary: TrackingSummary) -> None:
        progress = self.store.progress()
        open_targets = [t for t in self.store.targets(open_only=True) if t.open_at(now)]
        open_ids = {t.item_id for t in open_targets}
        warned = {i for i, p in progress.items() if p.warned_at is not None or p.category != "none"}
        warn = warnings_due(open_targets, warned, now, self.calendar, self.options.schedule)
        overdue = [
            t
            for t in open_targets
            if progress.get(t.item_id, TargetProgress(t.item_id)).category in ("none", "warning")
            and state_at(t.answer_by, now, self.calendar, self.options.schedule)
            is TargetState.OVERDUE
        ]
        # Answered (the store keeps those still carrying a tracking category in the progress).
        cleared = [
            item_id
            for item_id, p in progress.items()
            if item_id not in open_ids and p.category in ("warning", "overdue")
        ]
        options = self.options
        summary.warned += self._mark(
            [Mark(t.item_id, None, category=options.warning_category) for t in warn],
            "warning",
            now,
        )
        summary.overdue += self._mark(
            [
                Mark(
                    t.item_id,
                    None,
                    category=options.overdue_category,
                    remove_categories=(options.warning_category,),
                )
                for t in overdue
            ],
            "overdue",
            now,
        )
        summary.cleared += self._mark(
            [
                Mark(
                    item_id,
                    None,
                    remove_categories=(options.warning_category, options.overdue_category),
                )
                for item_id in cleared
            ],
            "cleared",
            now,
        )

    def _mark(self, marks: list[Mark], state: str, now: datetime) -> int:
        """Put one tracking category on messages; returns how many now carry it."""
        if not marks:
            return 0
        if self.options.dry_run:
            self.log.info(f"dry run: would mark {state}", items=[m.item_id for m in marks])
            return 0
        done: list[str] = []
        for chunk in _chunks(marks, self.options.batch_size):
            for outcome in self.mailbox.mark(chunk):
                if outcome.ok:
                    done.append(outcome.key)
                elif not outcome.transient:
                    # Gone or refused for good: recorded, so it is not tried every pass.
                    self.log.warning(
                        f"{state} category could not be set; left as it is",
                        item_id=outcome.key,
                        error=outcome.error,
                    )
                    done.append(outcome.key)
                else:
                    self.log.warning(
                        f"{state} category not set yet", item_id=outcome.key, error=outcome.error
                    )
        if state == "warning":
            self.store.set_category(done, "warning", now)
        elif state == "overdue":
            self.store.set_category(done, "overdue", now)
        else:
            self.store.set_category(done, "cleared", now)
        return len(done)

    # -- 4. the team's mails -----------------------------------------------------------------

    def _escalate(
        self, now: datetime, details: Mapping[str, MessageDetails], summary: TrackingSummary
    ) -> None:
        lead = self.options.team_lead
        if lead is None:
            return
        progress = self.store.progress()
        last = {i: p.last_escalated for i, p in progress.items() if p.last_escalated is not None}
        due = escalations_due(self.store.targets(open_only=True), last, now, self.calendar)
        if not due:
            return
        mail = self.texts.escalation(due, details, now)
        if self._queue("escalation", lead, mail, due, now):
            summary.escalated += len(due)

    def _overview(
        self, now: datetime, details: Mapping[str, MessageDetails], summary: TrackingSummary
    ) -> None:
        team = self.options.team
        if team is None:
            return
        day = overview_due(now, self.calendar, self.store.last_overview_day())
        if day is None:
            return
        open_targets = self.store.targets(open_only=True)
        overview = daily_overview(
            open_targets, self.callbacks.tracked_callbacks(), now, self.calendar
        )
        listed = {t.item_id for t in (*overview.due_today, *overview.due_next_workday)}
        soon = [
            t
            for t in open_targets
            if t.item_id not in listed
            and state_at(t.answer_by, now, self.calendar, self.options.schedule)
            is TargetState.WARNING
        ]
        mail = self.texts.overview(overview, details, now, soon)
        if self._queue("overview", team, mail, [], now):
            summary.overviews += 1

    def _queue(
        self,
        kind: NoticeKind,
        to: Address,
        mail: tuple[str, str],
        escalated: Sequence[TrackedTarget],
        now: datetime,
    ) -> bool:
        """Record a team mail's intent (with the targets it escalates); sent by `_send_notices`."""
        subject, text = mail
        if self.options.dry_run:
            self.log.info(f"dry run: would mail the {kind}", to=to.email, subject=subject)
            return False
        notice = PendingNotice(
            OutgoingNotice(uuid.uuid4().hex, (to,), subject, text),
            kind,
            self.calendar.local(now).date(),
        )
        self.store.queue_notice(notice, [t.item_id for t in escalated], now)
        self.log.info(f"{kind} recorded", to=to.email, escalated=len(escalated), ref=notice.ref)
        return True

    # -- 5. send -----------------------------------------------------------------------------

    def _round(self) -> Round[PendingNotice]:
        return Round(
            find=self.mailbox.sent_refs,
            act=lambda batch: self.mailbox.send_notices([p.notice for p in batch]),
            attempting=self.store.notices_attempting,
            in_doubt=timedelta(seconds=self.options.in_doubt_seconds),
            max_attempts=self.options.max_attempts,
            kind="team mail",
        )

    def _send_notices(self, summary: TrackingSummary) -> None:
        if self.options.dry_run:
            return
        rounds = self._round()
        unsure = self.store.pending_notices(self.options.batch_size, attempted=True)
        if unsure:
            now = self.clock.now()
            verified, again = rounds.verify(unsure, now)
            sent = rounds.send(again, now)
            self.store.settle_notices([*verified.results, *sent.results], self.clock.now())
            summary.notices_sent += verified.sent + sent.sent
            summary.notices_failed += sent.failed
            summary.notices_waiting += verified.waiting
        fresh = self.store.pending_notices(self.options.batch_size, attempted=False)
        if fresh:
            result = rounds.send(fresh, self.clock.now())
            self.store.settle_notices(result.results, self.clock.now())
            summary.notices_sent += result.sent
            summary.notices_failed += result.failed


def _has_attachments(message: IncomingMessage) -> bool:
    return any(
        not kind.startswith(("text/plain", "text/html", "multipart/"))
        for kind in message.part_types
    )
