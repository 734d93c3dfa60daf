"""Acknowledge new mail and put the answer target on it: the product's main job.

The flow per message is one-way and recorded at every step (docs/exactly-once.md):

1. *intake*: a new inbox message is screened and its decision recorded in one
   transaction; for an acknowledgement that record is the intent, carrying the
   ready-made reply and a ref (and Message-ID) chosen before anything is sent;
2. *mark*: the message gets its follow-up flag, category and the service's
   marker, so staff see the target; for an acknowledgement the marker names its
   ref, which claims the message in the mailbox before anything is sent;
3. *send*: claimed intents go out in batches; one whose earlier attempt has an
   unknown outcome is looked for in the mailbox first and sent again only after
   the in-doubt window (services/exactly_once.py).

With a `TargetChooser` (the tracking service), a message that needs an answer
gets its answer target in the same transaction as its decision (step 1): a
newer message of the same tenant keeps the conversation's open target, a reply
that only thanks gets none (services/tracking.py).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from topcontact_mail.domain.acknowledgement import (
    build_acknowledgement,
    choose_language,
)
from topcontact_mail.domain.calendar import BusinessCalendar, ResponseTerms
from topcontact_mail.domain.dates import short_date
from topcontact_mail.domain.message import Acknowledgement, IncomingMessage
from topcontact_mail.domain.screening import ScreeningHistory, ScreeningPolicy, Verdict, screen
from topcontact_mail.domain.screening.reasons import Reason, needs_answer
from topcontact_mail.domain.tracking.model import TrackedTarget
from topcontact_mail.logs import get_logger
from topcontact_mail.ports import (
    AckState,
    Clock,
    FetchedMessage,
    Mailbox,
    MailboxUnavailable,
    Mark,
    MessageRecord,
    Outcome,
    OutgoingAcknowledgement,
    PendingSend,
    SendResult,
    StateStore,
    Texts,
)
from topcontact_mail.ports.progress import Progress, ProgressUpdate, no_progress
from topcontact_mail.services.alerts import Alerts
from topcontact_mail.services.exactly_once import IN_DOUBT_SECONDS, Round
from topcontact_mail.services.markers import Claim, marker_value, read_claim

WATERMARK = "inbox"


@dataclass(frozen=True)
class Options:
    dry_run: bool = False
    category: str = "Top Contact: antwoord vóór {date}"
    languages: tuple[str, ...] = ("nl", "en")
    default_language: str = "nl"
    language_rule: str = "detect"
    #: Records taken from the store per send or mark round; the adapter splits them into requests.
    batch_size: int = 500
    #: A message whose acknowledgement keeps failing permanently is given up after this many tries.
    max_attempts: int = 5
    #: How long a send with an unknown outcome waits for its copy before it is tried again.
    in_doubt_seconds: float = IN_DOUBT_SECONDS


@dataclass
class Summary:
    """What one pass did; the demo and the logs show it."""

    seen: int = 0
    recorded: int = 0
    sent: int = 0
    marked: int = 0
    failed: int = 0
    #: Sends with an unknown outcome still waiting for their copy (or their in-doubt window).
    waiting: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    #: True when the mailbox failed midway; the rest is left for the next pass.
    interrupted: bool = False

    def add(self, other: Summary) -> None:
        self.seen += other.seen
        self.recorded += other.recorded
        self.sent += other.sent
        self.marked += other.marked
        self.failed += other.failed
        self.waiting += other.waiting
        self.reasons.update(other.reasons)
        self.interrupted = self.interrupted or other.interrupted


def compose_acknowledgement(
    message: IncomingMessage,
    terms: ResponseTerms,
    texts: Texts,
    options: Options,
    own_domain: str,
) -> Acknowledgement:
    """The acknowledgement of `message` in its language (`explain` shows the same one)."""
    language = choose_language(
        message, options.language_rule, options.languages, options.default_language
    )
    subject, text, html = texts.acknowledgement(message, terms, language)
    return build_acknowledgement(
        message,
        subject=subject,
        text_body=text,
        html_body=html,
        language=language,
        own_domain=own_domain,
    )


def look_up_history(
    store: StateStore,
    message: IncomingMessage,
    marker: str | None,
    day_start: datetime,
    now: datetime,
    hour_cap: int,
) -> ScreeningHistory:
    """The history screening weighs for `message`: its marker and what the store remembers."""
    return replace(store.history(message, day_start, now, hour_cap), marker=marker)


class TargetChooser(Protocol):
    def target_for(
        self, message: IncomingMessage, record: MessageRecord
    ) -> tuple[MessageRecord, TrackedTarget | None]:
        """The decision as it is to be recorded, and the message's answer target (or none)."""
        ...


class AcknowledgeService:
    """Screens, acknowledges and marks the shared inbox through the ports."""

    def __init__(
        self,
        *,
        mailbox: Mailbox,
        store: StateStore,
        texts: Texts,
        clock: Clock,
        calendar: BusinessCalendar,
        policy: ScreeningPolicy,
        options: Options = Options(),
        alerts: Alerts | None = None,
        targets: TargetChooser | None = None,
        progress: Progress = no_progress,
    ) -> None:
        self.mailbox = mailbox
        self.store = store
        self.texts = texts
        self.clock = clock
        self.calendar = calendar
        self.policy = policy
        self.options = options
        self.alerts = alerts
        self.targets = targets
        #: Told how a pass goes, per message and per batch (a bar, or log lines: a backlog).
        self.progress = progress
        self.log = get_logger("acknowledge", mailbox=mailbox.address.email)
        self._own_domain = mailbox.address.domain or "topcontact.invalid"
        self._cap_alerted_hour: datetime | None = None

    # -- the whole pass -------------------------------------------------------------

    def run_once(self, should_stop: Callable[[], bool] = lambda: False) -> Summary:
        """Catch up from the watermark, then send and mark everything pending.

        `should_stop` is asked between messages: a stop lets the message in hand
        finish, leaves the watermark where the recorded work ends, and returns.
        The progress hears of every message read and every batch marked or sent.
        """
        summary = Summary()
        try:
            return self._catch_up(summary, should_stop)
        finally:
            self._report(summary, finished=True)

    def _catch_up(self, summary: Summary, should_stop: Callable[[], bool]) -> Summary:
        while True:
            page = self.mailbox.fetch_changes(self.store.watermark(WATERMARK))
            for fetched in page.messages:
                if should_stop():
                    # The page is not finished: keep the old watermark, known items are skipped next time.
                    summary.add(self.flush(summary))
                    return summary
                summary.seen += 1
                reason = self.intake(fetched)
                if reason is not None:
                    summary.recorded += 1
                    summary.reasons[reason] += 1
                self._report(summary, stage="reading the inbox")
            # Only now: every message of the page is recorded, so none is lost on a crash.
            self.store.set_watermark(WATERMARK, page.watermark, self.clock.now())
            summary.add(self.flush(summary))
            if not page.more or should_stop():
                return summary

    def _report(
        self,
        summary: Summary,
        flushed: Summary | None = None,
        *,
        stage: str = "",
        finished: bool = False,
    ) -> None:
        """Tell the progress where the pass stands (never failing the pass)."""
        later = flushed or Summary()
        try:
            self.progress(
                ProgressUpdate(
                    task="catch-up",
                    done=summary.seen,
                    unit="messages",
                    stage=stage,
                    counts={
                        "recorded": summary.recorded,
                        "marked": summary.marked + later.marked,
                        "sent": summary.sent + later.sent,
                        "failed": summary.failed + later.failed,
                    },
                    finished=finished,
                )
            )
        except Exception as exc:  # showing progress must never cost the work
            self.log.warning("progress could not be shown", error=type(exc).__name__)

    def has_pending(self) -> bool:
        """Whether marks or acknowledgements (sure or unsure) wait to be done."""
        if self.options.dry_run:
            return False
        return bool(
            self.store.pending_marks(1)
            or self.store.pending_sends(1, attempted=False)
            or self.store.pending_sends(1, attempted=True)
        )

    # -- 1. intake --------------------------------------------------------------------

    def intake(self, fetched: FetchedMessage) -> str | None:
        """Screen and record one message; returns the reason, or None when it was known already."""
        message = fetched.message
        item_id = message.item_id
        if item_id is None or self.store.get(item_id) is not None:
            return None  # our own update coming back, or a change seen twice
        if fetched.partial:
            # A change of a message this store has not seen: read it whole before deciding.
            whole = self.mailbox.read([item_id])
            if not whole or whole[0].partial:
                return None  # gone since, or still unreadable in full: a later change brings it
            fetched = whole[0]
            message = fetched.message
        log = self.log.bind(item_id=item_id)
        now = self.clock.now()
        ack: Acknowledgement | None = None
        claim = read_claim(fetched.marker) if fetched.marker is not None else None
        if claim is not None and self.store.get_by_ref(claim.ref) is not None:
            claim = None  # our own claim on a message staff moved: handled, as any marker says
        if fetched.unreadable is not None:
            log.error("message quarantined: it cannot be read", error=fetched.unreadable)
            record = self._quarantine(message, now, f"cannot be read: {fetched.unreadable}")
        elif claim is not None:
            record = self._adopt(item_id, claim)
            log.warning(
                "an earlier run claimed this message and its state is gone: "
                "its acknowledgement is looked for before anything is sent",
                ref=claim.ref,
            )
        else:
            try:
                record, ack = self._decide(message, fetched.marker, now)
            except Exception as exc:  # one bad message must never stop the others
                log.exception("message quarantined", error=type(exc).__name__)
                record = self._quarantine(message, now, f"processing failed: {type(exc).__name__}")
        target: TrackedTarget | None = None
        if self.targets is not None:
            # May join the conversation's open target (the flag then shows that date) or drop
            # the target of a thanks-only reply. An acknowledgement composed above keeps its own
            # date: one is only composed when the conversation had none, a rare case.
            record, target = self.targets.target_for(message, record)
        self.store.record(record, now, ack, target)
        log.info(
            "message screened",
            acknowledge=record.acknowledge,
            reason=record.reason,
            detail=record.detail,
            answer_by=record.answer_by.isoformat(),
            dry_run=record.ack_state == "dry_run",
        )
        return record.reason

    def _decide(
        self, message: IncomingMessage, marker: str | None, now: datetime
    ) -> tuple[MessageRecord, Acknowledgement | None]:
        received = message.received or now
        terms = self.calendar.terms(received)
        verdict = screen(message, self.policy, self.history(message, marker, now))
        # A booking mail is the callback service's to mark: its marker is the callback's claim.
        handled_elsewhere = (Reason.ALREADY_HANDLED, Reason.CALLBACK_REQUEST)
        record = self._base(message, terms, verdict, marked=verdict.reason in handled_elsewhere)
        if not verdict.acknowledge:
            if verdict.global_cap_reached and self._cap_alerted_hour != now.replace(
                minute=0, second=0, microsecond=0
            ):
                # Once an hour is an alert; once per message would drown it.
                self._cap_alerted_hour = now.replace(minute=0, second=0, microsecond=0)
                self.log.error(
                    "global hourly cap reached: acknowledgements paused (a mail storm, or a backlog "
                    "larger than screening.global_per_hour)",
                    cap=self.policy.global_per_hour,
                )
                if self.alerts is not None:
                    self.alerts.raise_alert("storm", limit=self.policy.global_per_hour)
            return record, None
        ack = self._build(message, terms)
        ref = uuid.uuid4().hex
        ack_message_id = f"<{ref}@{self._own_domain}>"
        state: AckState = "dry_run" if self.options.dry_run else "intent"
        if self.options.dry_run:
            self.log.info(
                "dry run: would acknowledge",
                item_id=message.item_id,
                answer_by=terms.answer_by.isoformat(),
            )
        return (
            replace(record, ack_state=state, ack_ref=ref, ack_message_id=ack_message_id),
            ack,
        )

    def history(
        self, message: IncomingMessage, marker: str | None, now: datetime
    ) -> ScreeningHistory:
        """What the service did before that matters for `message` (`explain` asks the same)."""
        local = self.calendar.local(now)
        day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return look_up_history(
            self.store, message, marker, day_start, now, self.policy.global_per_hour
        )

    def _build(self, message: IncomingMessage, terms: ResponseTerms) -> Acknowledgement:
        return compose_acknowledgement(message, terms, self.texts, self.options, self._own_domain)

    def _base(
        self,
        message: IncomingMessage,
        terms: ResponseTerms,
        verdict: Verdict,
        *,
        marked: bool = False,
    ) -> MessageRecord:
        return MessageRecord(
            item_id=message.item_id or "",
            internet_message_id=message.message_id,
            conversation_id=message.conversation_id,
            sender=message.sender.key if message.sender else None,
            received=terms.received,
            reception_day=terms.reception_day,
            answer_by=terms.answer_by,
            acknowledge=verdict.acknowledge,
            reason=verdict.reason,
            detail=verdict.detail,
            needs_answer=needs_answer(verdict.reason),
            marked=marked or self.options.dry_run,
        )

    def _adopt(self, item_id: str, claim: Claim) -> MessageRecord:
        """The record of a message an earlier run claimed (the local state was lost).

        Its acknowledgement may have gone out: it counts as attempted at the claim,
        so it is looked for first and only sent (composed anew) after the window.
        """
        terms = self.calendar.terms(claim.received)
        return MessageRecord(
            item_id=item_id,
            internet_message_id=None,
            conversation_id=None,
            sender=None,
            received=terms.received,
            reception_day=terms.reception_day,
            answer_by=claim.answer_by,
            acknowledge=True,
            reason=claim.reason,
            detail="claimed by an earlier run whose state is gone; verified in the mailbox",
            needs_answer=True,
            ack_state="intent",
            ack_ref=claim.ref,
            ack_message_id=claim.message_id,
            marked=True,
            attempts=1,
            last_attempt=claim.claimed,
        )

    def _quarantine(self, message: IncomingMessage, now: datetime, why: str) -> MessageRecord:
        received = message.received or now
        return MessageRecord(
            item_id=message.item_id or "",
            internet_message_id=message.message_id,
            conversation_id=message.conversation_id,
            sender=message.sender.key if message.sender else None,
            received=self.calendar.local(received),
            reception_day=self.calendar.local(received).date(),
            answer_by=self.calendar.local(received),
            acknowledge=False,
            reason=Reason.QUARANTINED,
            detail=why,
            needs_answer=False,
            marked=True,  # left alone in the mailbox; the record tells the administrator
        )

    # -- 2. mark (the claim) and 3. send ------------------------------------------------

    def flush(self, running: Summary | None = None) -> Summary:
        """Set pending marks (claims), then send what is claimed, in batches.

        `running`: the pass so far, for the progress reported after each batch."""
        summary = Summary()
        if self.options.dry_run:
            return summary
        base = running or Summary()
        try:
            while self._mark_batch(summary):
                self._report(base, summary, stage="marking")
            self._verify_unsure(summary)
            while self._send_batch(summary):
                self._report(base, summary, stage="sending")
        except MailboxUnavailable as exc:
            # What was done is recorded; the rest waits for the next pass.
            self.log.warning(
                "mailbox unavailable, the rest waits for the next pass", error=str(exc)
            )
            summary.interrupted = True
        return summary

    def _round(self) -> Round[PendingSend]:
        return Round(
            find=self.mailbox.sent_refs,
            act=self._send,
            attempting=self.store.attempting,
            in_doubt=timedelta(seconds=self.options.in_doubt_seconds),
            max_attempts=self.options.max_attempts,
        )

    def _send(self, batch: Sequence[PendingSend]) -> list[Outcome]:
        return self.mailbox.send_acknowledgements(
            [
                OutgoingAcknowledgement(
                    ref=p.ref,
                    message_id=p.message_id,
                    original_item_id=p.item_id,
                    acknowledgement=p.acknowledgement,
                )
                for p in batch
                if p.acknowledgement is not None
            ]
        )

    def _verify_unsure(self, summary: Summary) -> None:
        """Attempts whose outcome is unknown: look for them; send again those past the window."""
        rounds = self._round()
        offset_seen: set[str] = set()
        while True:
            unsure = [
                p
                for p in self.store.pending_sends(self.options.batch_size, attempted=True)
                if p.item_id not in offset_seen
            ]
            if not unsure:
                return
            offset_seen.update(p.item_id for p in unsure)
            now = self.clock.now()
            verified, again = rounds.verify(unsure, now)
            again, gone = self._composed(again)
            sent = rounds.send(again, now)
            self.store.settle([*verified.results, *gone, *sent.results], self.clock.now())
            summary.sent += verified.sent + sent.sent
            summary.failed += sent.failed
            summary.waiting += verified.waiting + sum(
                1 for r in sent.results if r.outcome == "retry" and not r.not_sent
            )

    def _composed(self, batch: Sequence[PendingSend]) -> tuple[list[PendingSend], list[SendResult]]:
        """Claims adopted after a lost state have no text yet: read the message and compose it."""
        missing = [p.item_id for p in batch if p.acknowledgement is None]
        if not missing:
            return list(batch), []
        messages = {f.message.item_id: f.message for f in self.mailbox.read(missing)}
        ready: list[PendingSend] = []
        gone: list[SendResult] = []
        for pending in batch:
            if pending.acknowledgement is not None:
                ready.append(pending)
                continue
            message = messages.get(pending.item_id)
            if message is None:
                gone.append(
                    SendResult(pending.item_id, "failed", "the message is no longer in the mailbox")
                )
                continue
            terms = self.calendar.terms(message.received or self.clock.now())
            ready.append(replace(pending, acknowledgement=self._build(message, terms)))
        return ready, gone

    def _send_batch(self, summary: Summary) -> bool:
        """Send one batch of claimed intents never tried; True when it made progress."""
        pending = self.store.pending_sends(self.options.batch_size, attempted=False)
        if not pending:
            return False
        result = self._round().send(pending, self.clock.now())
        # One transaction for the batch's outcomes; a crash before it is what verifying is for.
        self.store.settle(result.results, self.clock.now())
        summary.sent += result.sent
        summary.failed += result.failed
        return result.progress

    def _mark_batch(self, summary: Summary) -> bool:
        pending = self.store.pending_marks(self.options.batch_size)
        if not pending:
            return False
        marks = [self._mark_for(r) for r in pending]
        progress = False
        done: list[str] = []
        for outcome in self.mailbox.mark(marks):
            if outcome.ok:
                done.append(outcome.key)
                summary.marked += 1
                progress = True
            else:
                gave_up = self.store.mark_failed(
                    outcome.key, outcome.error, self.options.max_attempts
                )
                progress = progress or gave_up
                self.log.warning(
                    "marking failed", item_id=outcome.key, error=outcome.error, gave_up=gave_up
                )
        self.store.set_marked(done)
        return progress

    def _mark_for(self, record: MessageRecord) -> Mark:
        marker = marker_value(record, self.clock.now())
        if not record.needs_answer:
            return Mark(item_id=record.item_id, marker=marker)
        return Mark(
            item_id=record.item_id,
            marker=marker,
            flag_start=record.received,
            flag_due=record.answer_by,
            category=self.options.category.format(date=short_date(record.answer_by.date())),
        )
