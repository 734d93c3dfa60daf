"""The service's memory: one record per message, the acknowledgement on its way, watermarks.

The store speaks in domain values: a decision is a `MessageRecord`, the
acknowledgement waiting to be sent is an `Acknowledgement`, the history that
screening weighs is a `ScreeningHistory`. How it keeps them (SQLite, JSON
columns) is the adapter's business.

The exactly-once protocol (docs/exactly-once.md) lives in three facts per
acknowledgement: the intent (recorded with the decision, before anything is
sent), the claim (`marked`: the marker naming the acknowledgement's ref is on
the message in the mailbox) and the attempts (`attempts`, `last_attempt`: a
send was started, so its outcome may be unknown until the mailbox shows it).
The team's mails (escalations, the daily overview) follow the same protocol
without the claim.

Keeping the promise (docs/tracking.md) adds the answer targets
(`TrackedTarget`, with how and when each was answered), what was done about
each (`TargetProgress`: the warning and overdue categories, the last
escalation) and those team mails (`PendingNotice`), from which the day of the
last overview follows. All of it is state, so a restart repeats nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol

from topcontact_mail.domain.message import Acknowledgement, IncomingMessage
from topcontact_mail.domain.retention import Cutoffs, PurgeCounts
from topcontact_mail.domain.screening import ScreeningHistory
from topcontact_mail.domain.tracking.model import Answered, TrackedTarget
from topcontact_mail.ports.mailbox import OutgoingNotice

AckState = Literal["none", "intent", "sent", "dry_run", "failed"]
#: States that count as "acknowledged" for the screening limits: sent, or on its way.
COUNTS_AS_ACKNOWLEDGED: frozenset[AckState] = frozenset({"intent", "sent", "dry_run"})
#: `marked` values: not yet, done, given up (the message is left unmarked, the reason recorded).
MarkState = Literal[0, 1, -1]


@dataclass(frozen=True)
class MessageRecord:
    """What the state store keeps of one message (never the tenant's subject or body)."""

    item_id: str
    internet_message_id: str | None
    conversation_id: str | None
    sender: str | None
    received: datetime
    reception_day: date
    answer_by: datetime
    acknowledge: bool
    reason: str
    detail: str
    needs_answer: bool
    ack_state: AckState = "none"
    ack_ref: str | None = None
    ack_message_id: str | None = None
    ack_sent_at: datetime | None = None
    #: Whether the service's marker is on the message in the mailbox (for an intent: its claim).
    marked: bool = False
    attempts: int = 0
    last_attempt: datetime | None = None
    last_error: str = ""


@dataclass(frozen=True)
class PendingSend:
    """An acknowledgement that is claimed in the mailbox and waits to be sent (or confirmed)."""

    item_id: str
    ref: str
    message_id: str
    #: None only for a claim adopted after the local state was lost: composed again if needed.
    acknowledgement: Acknowledgement | None
    #: Send attempts started so far; more than none means the outcome of the last may be unknown.
    attempts: int
    last_attempt: datetime | None


SendOutcome = Literal["sent", "failed", "retry"]


@dataclass(frozen=True)
class SendResult:
    """What became of one pending acknowledgement: sent, given up, or to be tried again."""

    item_id: str
    outcome: SendOutcome
    error: str = ""
    #: For "retry": the attempt certainly did not go out, so the next needs no lookup first.
    not_sent: bool = False


#: Which of the service's tracking categories is on a message: none yet, the warning, the
#: overdue one, or none any more because the message was answered ("cleared").
CategoryState = Literal["none", "warning", "overdue", "cleared"]
NoticeKind = Literal["escalation", "overview"]


@dataclass(frozen=True)
class TargetProgress:
    """What the tracking service did so far about one target."""

    item_id: str
    category: CategoryState = "none"
    #: When the warning category was put on it (once per message).
    warned_at: datetime | None = None
    #: When it was last listed in an escalation (at most once per workday).
    last_escalated: datetime | None = None


@dataclass(frozen=True)
class PendingNotice:
    """A team mail recorded before sending (its intent), waiting to be sent or confirmed."""

    notice: OutgoingNotice
    kind: NoticeKind
    #: The workday it belongs to (for the overview: the day it is the overview of).
    day: date
    attempts: int = 0
    last_attempt: datetime | None = None

    @property
    def ref(self) -> str:
        return self.notice.ref

    @property
    def item_id(self) -> str:
        """The key its outcomes are settled by (`SendResult.item_id`): the ref."""
        return self.notice.ref


@dataclass(frozen=True)
class ToObserve:
    """An open target as the mailbox is asked about it, with the acknowledgement the
    "answered?" rules must not mistake for an answer."""

    item_id: str
    internet_message_id: str | None
    acknowledgement_message_id: str | None
    acknowledgement_sent_at: datetime | None


class StateStore(Protocol):
    """The service's memory. Every write is its own transaction, durable before it returns."""

    def get(self, item_id: str) -> MessageRecord | None: ...

    def get_by_ref(self, ref: str) -> MessageRecord | None:
        """The message whose acknowledgement has this ref (it may have moved to a new item id)."""
        ...

    def history(
        self, message: IncomingMessage, day_start: datetime, now: datetime, hour_cap: int
    ) -> ScreeningHistory:
        """What screening weighs of earlier work (all but the marker, which the mailbox knows).

        An earlier record with the same Message-ID, whether the conversation (or
        a message this one refers to) was acknowledged, the sender's
        acknowledgements since `day_start`, and all acknowledgements in the hour
        before `now` (counted up to `hour_cap`).
        """
        ...

    def record(
        self,
        record: MessageRecord,
        now: datetime,
        acknowledgement: Acknowledgement | None = None,
        target: TrackedTarget | None = None,
    ) -> None:
        """Store a decision; with an acknowledgement this is the intent, written before sending.

        With a target, the message's answer target is stored in the same transaction.
        """
        ...

    def pending_marks(self, limit: int) -> list[MessageRecord]:
        """Decisions whose marker is not yet on the message (skips, and intents to be claimed)."""
        ...

    def set_marked(self, item_ids: Sequence[str]) -> None:
        """The markers are on these messages (for intents: they are claimed)."""
        ...

    def mark_failed(self, item_id: str, error: str, give_up_after: int) -> bool:
        """Count a failed mark; True when it is given up (the message stays unmarked, recorded)."""
        ...

    def pending_sends(self, limit: int, *, attempted: bool) -> list[PendingSend]:
        """Claimed intents (or intents whose claim was given up), oldest reception first.

        `attempted`: only those with an attempt of unknown outcome (to be looked
        for before anything else), or only those never attempted.
        """
        ...

    def attempting(self, item_ids: Sequence[str], now: datetime) -> None:
        """A send is about to start: after this, its outcome counts as unknown until settled."""
        ...

    def settle(self, results: Sequence[SendResult], now: datetime) -> None:
        """The outcomes of one round of sends, in one transaction."""
        ...

    def records(self) -> list[MessageRecord]: ...

    def watermark(self, name: str) -> str | None: ...

    def set_watermark(self, name: str, value: str, now: datetime) -> None: ...

    def clear_watermark(self, name: str) -> None: ...

    # -- keeping the promise ------------------------------------------------------------

    def targets(self, *, open_only: bool = False) -> list[TrackedTarget]:
        """Every answer target (or only those not answered yet), oldest reception first."""
        ...

    def conversation_targets(self, conversation_id: str) -> list[TrackedTarget]:
        """The targets of the messages in one conversation."""
        ...

    def add_targets(self, targets: Sequence[TrackedTarget], now: datetime) -> None:
        """Store targets of messages that have none yet (a target already there stays as it is)."""
        ...

    def to_observe(self) -> list[ToObserve]:
        """The open targets, oldest reception first, with what observing them needs."""
        ...

    def records_without_target(self, limit: int) -> list[MessageRecord]:
        """Decisions that need an answer but have no target yet, oldest reception first."""
        ...

    def record_answers(self, answers: Mapping[str, Answered], now: datetime) -> None:
        """These targets are answered: when and how, in one transaction (an answer stays)."""
        ...

    def retarget(self, item_id: str, new_item_id: str) -> None:
        """The message moved and has a new id (EWS): its target and progress follow it."""
        ...

    def progress(self) -> dict[str, TargetProgress]:
        """What was done about every open target, and about answered ones still carrying a
        tracking category."""
        ...

    def set_category(self, item_ids: Sequence[str], state: CategoryState, now: datetime) -> None:
        """These messages now carry this tracking category (the warning: warned at `now`)."""
        ...

    def queue_notice(self, notice: PendingNotice, escalated: Sequence[str], now: datetime) -> None:
        """Record a team mail's intent and, in the same transaction, that these targets were
        escalated at `now`."""
        ...

    def last_overview_day(self) -> date | None:
        """The last workday whose overview was recorded (sent, or on its way)."""
        ...

    def pending_notices(self, limit: int, *, attempted: bool) -> list[PendingNotice]:
        """Team mails not yet sent: with an attempt of unknown outcome, or never attempted."""
        ...

    def notices_attempting(self, refs: Sequence[str], now: datetime) -> None:
        """A send of these notices is about to start (durably, before it leaves)."""
        ...

    def settle_notices(self, results: Sequence[SendResult], now: datetime) -> None:
        """The outcomes of one round of notice sends (`SendResult.item_id` is the ref)."""
        ...

    # -- retention (docs/retention.md) ---------------------------------------------------

    def purge(self, cutoffs: Cutoffs, *, dry_run: bool = False) -> PurgeCounts:
        """Remove what is past its retention, in one transaction, and say how much per kind.

        Rows received (booked, made) before `cutoffs.details_before` lose their
        details about contacts and keep their figures; rows received before
        `cutoffs.figures_before` go entirely. Nothing recorded at or after
        `cutoffs.recorded_before` and nothing open work needs is touched. A dry run
        counts the same and changes nothing.
        """
        ...
