"""Acknowledge new mail and put the answer target on it: the product's main job.

The flow per message is one-way and recorded at every step (DESIGN.md,
"Reliability promises"):

1. *intake*: a new inbox message is screened and its decision recorded in one
   transaction; for an acknowledgement that record is the intent, carrying the
   ready-made reply and a Message-ID chosen before anything is sent;
2. *send*: intents go out in batches; an intent that was ever attempted is first
   looked up in Sent Items, so a crash between sending and recording never
   sends twice;
3. *mark*: the message gets its follow-up flag, category and the service's
   marker, so staff see the target and a re-run can tell what was done.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

from topcontact_mail.domain.acknowledgement import (
    build_acknowledgement,
    choose_language,
)
from topcontact_mail.domain.calendar import BusinessCalendar, ResponseTerms
from topcontact_mail.domain.dates import short_date
from topcontact_mail.domain.message import Acknowledgement, Address, IncomingMessage
from topcontact_mail.domain.screening import ScreeningHistory, ScreeningPolicy, Verdict, screen
from topcontact_mail.domain.screening.reasons import Reason, needs_answer
from topcontact_mail.logs import get_logger
from topcontact_mail.ports import (
    AckState,
    Clock,
    FetchedMessage,
    Mailbox,
    MailboxUnavailable,
    Mark,
    MessageRecord,
    OutgoingAcknowledgement,
    StateStore,
    Texts,
)
from topcontact_mail.services.alerts import Alerts

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


@dataclass
class Summary:
    """What one pass did; the demo and the logs show it."""

    seen: int = 0
    recorded: int = 0
    sent: int = 0
    marked: int = 0
    failed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    #: True when the mailbox failed midway; the rest is left for the next pass.
    interrupted: bool = False

    def add(self, other: Summary) -> None:
        self.seen += other.seen
        self.recorded += other.recorded
        self.sent += other.sent
        self.marked += other.marked
        self.failed += other.failed
        self.reasons.update(other.reasons)
        self.interrupted = self.interrupted or other.interrupted


def _ack_to_json(ack: Acknowledgement) -> str:
    return json.dumps(asdict(ack), ensure_ascii=False)


def _ack_from_json(text: str) -> Acknowledgement:
    data = json.loads(text)
    data["recipient"] = Address(**data["recipient"])
    data["references"] = tuple(data["references"])
    data["headers"] = tuple(tuple(h) for h in data["headers"])
    return Acknowledgement(**data)


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
    ) -> None:
        self.mailbox = mailbox
        self.store = store
        self.texts = texts
        self.clock = clock
        self.calendar = calendar
        self.policy = policy
        self.options = options
        self.alerts = alerts
        self.log = get_logger("acknowledge", mailbox=mailbox.address.email)
        self._own_domain = mailbox.address.domain or "topcontact.invalid"
        self._cap_alerted_hour: datetime | None = None

    # -- the whole pass -------------------------------------------------------------

    def run_once(self, should_stop: Callable[[], bool] = lambda: False) -> Summary:
        """Catch up from the watermark, then send and mark everything pending.

        `should_stop` is asked between messages: a stop lets the message in hand
        finish, leaves the watermark where the recorded work ends, and returns.
        """
        summary = Summary()
        while True:
            page = self.mailbox.fetch_changes(self.store.watermark(WATERMARK))
            for fetched in page.messages:
                if should_stop():
                    # The page is not finished: keep the old watermark, known items are skipped next time.
                    summary.add(self.flush())
                    return summary
                summary.seen += 1
                reason = self.intake(fetched)
                if reason is not None:
                    summary.recorded += 1
                    summary.reasons[reason] += 1
            # Only now: every message of the page is recorded, so none is lost on a crash.
            self.store.set_watermark(WATERMARK, page.watermark, self.clock.now())
            summary.add(self.flush())
            if not page.more or should_stop():
                return summary

    def has_pending(self) -> bool:
        """Whether acknowledgements or marks wait to be done."""
        if self.options.dry_run:
            return False
        return bool(self.store.pending_acknowledgements(1) or self.store.pending_marks(1))

    # -- 1. intake --------------------------------------------------------------------

    def intake(self, fetched: FetchedMessage) -> str | None:
        """Screen and record one message; returns the reason, or None when it was known already."""
        message = fetched.message
        item_id = message.item_id
        if item_id is None or self.store.get(item_id) is not None:
            return None  # our own update coming back, or a change seen twice
        log = self.log.bind(item_id=item_id)
        now = self.clock.now()
        try:
            record = self._decide(message, fetched.marker, now)
        except Exception as exc:  # one bad message must never stop the others
            log.exception("message quarantined", error=type(exc).__name__)
            record = self._quarantine(message, now, exc)
        self.store.record(record, now)
        log.info(
            "message screened",
            acknowledge=record.acknowledge,
            reason=record.reason,
            detail=record.detail,
            answer_by=record.answer_by.isoformat(),
            dry_run=record.ack_state == "dry_run",
        )
        return record.reason

    def _decide(self, message: IncomingMessage, marker: str | None, now: datetime) -> MessageRecord:
        received = message.received or now
        terms = self.calendar.terms(received)
        verdict = screen(message, self.policy, self.history(message, marker, now))
        record = self._base(
            message, terms, verdict, marked=verdict.reason == Reason.ALREADY_HANDLED
        )
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
            return record
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
        return replace(
            record,
            ack_state=state,
            ack_ref=ref,
            ack_message_id=ack_message_id,
            outbox=_ack_to_json(ack),
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

    def _quarantine(self, message: IncomingMessage, now: datetime, exc: Exception) -> MessageRecord:
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
            detail=f"processing failed: {type(exc).__name__}",
            needs_answer=False,
            marked=True,  # left alone in the mailbox; the record tells the administrator
        )

    # -- 2. send and 3. mark --------------------------------------------------------------

    def flush(self) -> Summary:
        """Send pending acknowledgements, then set pending marks, in batches."""
        summary = Summary()
        if self.options.dry_run:
            return summary
        try:
            while self._send_batch(summary):
                pass
            while self._mark_batch(summary):
                pass
        except MailboxUnavailable as exc:
            # What was done is recorded; the rest waits for the next pass.
            self.log.warning(
                "mailbox unavailable, the rest waits for the next pass", error=str(exc)
            )
            summary.interrupted = True
        return summary

    def _send_batch(self, summary: Summary) -> bool:
        """Send one batch; True when it made progress and more may be pending."""
        pending = self.store.pending_acknowledgements(self.options.batch_size)
        if not pending:
            return False
        now = self.clock.now()
        try:
            pending = self._drop_already_sent(pending, summary)
        except MailboxUnavailable as exc:
            # Never send an attempted one blind: it waits until Sent Items can be read.
            self.log.warning(
                "cannot look in Sent Items now; attempted acknowledgements wait", error=str(exc)
            )
            pending = [r for r in pending if r.attempts == 0]
            if not pending:
                return False
        if not pending:
            return True
        outgoing = {
            r.ack_ref or "": OutgoingAcknowledgement(
                ref=r.ack_ref or "",
                message_id=r.ack_message_id or "",
                original_item_id=r.item_id,
                acknowledgement=_ack_from_json(self.store.outbox(r.item_id)),
            )
            for r in pending
        }
        by_ref = {r.ack_ref: r for r in pending}
        self.store.begin_attempt([r.item_id for r in pending], now)
        settled: list[tuple[str, AckState, str]] = []
        for outcome in self.mailbox.send_acknowledgements(list(outgoing.values())):
            record = by_ref[outcome.key]
            log = self.log.bind(item_id=record.item_id)
            if outcome.ok:
                settled.append((record.item_id, "sent", ""))
                summary.sent += 1
                log.info("acknowledgement sent", ack_message_id=record.ack_message_id)
            elif outcome.transient:
                self.store.note_error(record.item_id, outcome.error)
                log.warning("acknowledgement not sent yet, will retry", error=outcome.error)
            elif record.attempts + 1 >= self.options.max_attempts:
                settled.append((record.item_id, "failed", outcome.error))
                summary.failed += 1
                log.error(
                    "acknowledgement given up", error=outcome.error, attempts=record.attempts + 1
                )
            else:
                self.store.note_error(record.item_id, outcome.error)
                log.warning("acknowledgement refused, will retry", error=outcome.error)
        # One transaction for the batch's outcomes; a crash before it is what reconciling is for.
        self.store.set_ack_states(settled, self.clock.now())
        return bool(settled)

    def _drop_already_sent(
        self, pending: Sequence[MessageRecord], summary: Summary
    ) -> list[MessageRecord]:
        """Reconcile: intents attempted before (maybe sent just before a crash) are looked up first."""
        attempted = [r for r in pending if r.attempts > 0]
        if not attempted:
            return list(pending)
        since = self.store.earliest_attempt([r.item_id for r in attempted]) or self.clock.now()
        found = self.mailbox.sent_refs({r.ack_ref or "" for r in attempted}, since)
        for record in attempted:
            if record.ack_ref in found:
                self.store.set_ack_state(record.item_id, "sent", self.clock.now())
                summary.sent += 1
                self.log.info("acknowledgement found in Sent Items", item_id=record.item_id)
        return [r for r in pending if r.ack_ref not in found]

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
        marker = json.dumps(
            {
                "v": 1,
                "decision": "acknowledged" if record.ack_state == "sent" else "skipped",
                "reason": record.reason,
                "answer_by": record.answer_by.isoformat(),
                "ack": record.ack_message_id,
            },
            separators=(",", ":"),
        )
        if not record.needs_answer:
            return Mark(item_id=record.item_id, marker=marker)
        return Mark(
            item_id=record.item_id,
            marker=marker,
            flag_start=record.received,
            flag_due=record.answer_by,
            category=self.options.category.format(date=short_date(record.answer_by.date())),
        )
