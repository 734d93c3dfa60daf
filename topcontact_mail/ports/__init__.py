"""Narrow protocols the services need from the outside world: mailbox, store, texts, clock.

Every adapter behind a port honours the same contract, and the same contract
tests run against each (in-memory, EWS, Graph). Values crossing a port are the
domain's value types plus the small records defined here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol

from topcontact_mail.domain.calendar import ResponseTerms
from topcontact_mail.domain.message import Acknowledgement, Address, IncomingMessage
from topcontact_mail.domain.screening import ScreeningHistory


@dataclass(frozen=True)
class FetchedMessage:
    """A message read from the shared inbox, with the service's own marker if it carries one."""

    message: IncomingMessage
    #: The value of the service's marker property on the item (None: never handled).
    marker: str | None = None


@dataclass(frozen=True)
class ChangePage:
    """One page of new or changed inbox messages since a watermark."""

    messages: Sequence[FetchedMessage]
    #: Where the next call continues; persist it once the page's messages are recorded.
    watermark: str
    #: True when more changes wait right away.
    more: bool


@dataclass(frozen=True)
class OutgoingAcknowledgement:
    """An acknowledgement ready to send, with the identity that makes sending idempotent."""

    ref: str
    message_id: str
    original_item_id: str
    acknowledgement: Acknowledgement


@dataclass(frozen=True)
class Mark:
    """What the service puts on a handled message in Outlook."""

    item_id: str
    #: The marker property's value: the recorded decision, so a re-run can tell what was done.
    marker: str
    #: Follow-up flag: start at reception, due at the answer term; None for no flag.
    flag_start: datetime | None = None
    flag_due: datetime | None = None
    category: str | None = None


@dataclass(frozen=True)
class Outcome:
    """The result of one item of a batch: done, or why not and whether trying again may help."""

    key: str
    ok: bool
    error: str = ""
    transient: bool = False


class MailboxUnavailable(Exception):
    """The mailbox could not be reached at all (after the adapter's own retries)."""


class CredentialsRejected(MailboxUnavailable):
    """The server refuses the service's credential: nothing works until an administrator acts.

    Not a passing fault; the daemon reports it loudly (log, health, metrics).
    """

    def __init__(self, message: str, *, code: str = "", error: str = "") -> None:
        super().__init__(message)
        #: A machine-readable code where the server gives one (an AADSTS number for Entra ID).
        self.code = code
        self.error = error


class WatermarkExpired(Exception):
    """The server no longer knows the watermark; a full resynchronisation is needed."""


class Mailbox(Protocol):
    """The shared mailbox as the acknowledge-and-track service needs it."""

    @property
    def address(self) -> Address: ...

    def fetch_changes(self, watermark: str | None) -> ChangePage:
        """New and changed inbox messages after `watermark` (None: from the beginning)."""
        ...

    def send_acknowledgements(self, batch: Sequence[OutgoingAcknowledgement]) -> list[Outcome]:
        """Send as the shared mailbox, saving a copy in its Sent Items; one outcome per `ref`."""
        ...

    def sent_refs(self, refs: Collection[str], since: datetime) -> set[str]:
        """Which of these acknowledgements are already in Sent Items (sent at or after `since`)."""
        ...

    def mark(self, marks: Sequence[Mark]) -> list[Outcome]:
        """Put flag, category and marker on messages; one outcome per `item_id`."""
        ...

    def send_notice(self, to: Address, subject: str, text: str) -> None:
        """Send a plain internal notice (an alert to the administrator) from the shared mailbox.

        Raises `MailboxUnavailable` when it cannot be sent.
        """
        ...

    def wait_for_changes(self, timeout: float) -> bool:
        """Block until the server signals new mail or `timeout` seconds pass; True on a signal."""
        ...

    def close(self) -> None: ...


class Texts(Protocol):
    """Renders the tenant-facing texts (subject, plain and HTML bodies) from templates."""

    def acknowledgement(
        self, message: IncomingMessage, terms: ResponseTerms, language: str
    ) -> tuple[str, str, str]:
        """(subject, text body, html body) of the acknowledgement of `message`."""
        ...


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware."""
        ...


AckState = Literal["none", "intent", "sent", "dry_run", "failed"]
#: States that count as "acknowledged" for the screening limits: sent, or on its way.
COUNTS_AS_ACKNOWLEDGED: frozenset[AckState] = frozenset({"intent", "sent", "dry_run"})


@dataclass(frozen=True)
class MessageRecord:
    """What the state store keeps of one message (never the tenant's subject or body).

    `outbox` holds the ready-made acknowledgement (JSON) between the intent and
    the send, so a crash loses nothing; it is cleared once the mail is sent.
    """

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
    marked: bool = False
    attempts: int = 0
    last_error: str = ""
    outbox: str | None = None


class StateStore(Protocol):
    """The service's memory: decisions, acknowledgement intents and outcomes, watermarks.

    Every write is its own transaction; an intent is durable before the mail leaves.
    """

    def get(self, item_id: str) -> MessageRecord | None: ...

    def record(self, rec: MessageRecord, now: datetime) -> None: ...

    def history(
        self, message: IncomingMessage, day_start: datetime, now: datetime, hour_cap: int
    ) -> ScreeningHistory:
        """What screening weighs of earlier work (all but the marker, which the mailbox knows).

        An earlier record with the same Message-ID, whether the conversation was
        acknowledged, the sender's acknowledgements since `day_start`, and all
        acknowledgements in the hour before `now` (counted up to `hour_cap`).
        """
        ...

    def pending_acknowledgements(self, limit: int) -> list[MessageRecord]: ...

    def begin_attempt(self, item_ids: Sequence[str], now: datetime) -> None: ...

    def earliest_attempt(self, item_ids: Sequence[str]) -> datetime | None: ...

    def set_ack_state(
        self, item_id: str, state: AckState, now: datetime, error: str = ""
    ) -> None: ...

    def set_ack_states(self, outcomes: Sequence[tuple[str, AckState, str]], now: datetime) -> None:
        """The outcomes of one send batch, in one transaction: (item id, state, error)."""
        ...

    def note_error(self, item_id: str, error: str) -> None: ...

    def outbox(self, item_id: str) -> str: ...

    def pending_marks(self, limit: int) -> list[MessageRecord]: ...

    def set_marked(self, item_ids: Sequence[str]) -> None: ...

    def mark_failed(self, item_id: str, error: str, give_up_after: int) -> bool: ...

    def records(self) -> list[MessageRecord]: ...

    def watermark(self, name: str) -> str | None: ...

    def set_watermark(self, name: str, value: str, now: datetime) -> None: ...

    def clear_watermark(self, name: str) -> None: ...
