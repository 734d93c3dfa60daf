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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol

from topcontact_mail.domain.message import Acknowledgement, IncomingMessage
from topcontact_mail.domain.screening import ScreeningHistory

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
        self, record: MessageRecord, now: datetime, acknowledgement: Acknowledgement | None = None
    ) -> None:
        """Store a decision; with an acknowledgement this is the intent, written before sending."""
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
