"""The value types of promise tracking: what the adapters observe, the policy, and the targets.

All frozen and pure. Datetimes are instants: a naive one is a programming error
and is refused, because "when was it answered" compared with "by when" must
never depend on a guess of the zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum


def require_aware(name: str, moment: datetime | None) -> None:
    """Refuse a naive datetime (None passes: the value is optional)."""
    if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")


def utc(moment: datetime) -> datetime:
    """`moment` in UTC: compare instants there (same-zone comparison is by wall clock)."""
    return moment.astimezone(UTC)


# -- what the adapters observe ---------------------------------------------------------------


class AnswerMethod(StrEnum):
    """The ways staff can show that a message is answered; `AnsweredPolicy.methods` picks them."""

    REPLY = "reply"
    FORWARD = "forward"
    FLAG_COMPLETE = "flag_complete"
    DONE_FOLDER = "done_folder"
    DONE_CATEGORY = "done_category"


class SentKind(StrEnum):
    """What a message sent from the shared mailbox was, as Outlook records the verb."""

    REPLY = "reply"
    REPLY_ALL = "reply_all"
    FORWARD = "forward"


#: PidTagLastVerbExecuted (0x1081) values: what was last done with a message.
VERB_REPLY_TO_SENDER = 102
VERB_REPLY_TO_ALL = 103
VERB_FORWARD = 104


@dataclass(frozen=True)
class SentMessage:
    """A message sent from the shared mailbox in the conversation of a tracked message."""

    kind: SentKind
    sent_at: datetime
    #: Its Message-ID when the copy in Sent Items has one (Exchange may add it late).
    message_id: str | None = None
    #: It carries the service's marker (header or property): an acknowledgement or a notice.
    from_service: bool = False

    def __post_init__(self) -> None:
        require_aware("sent_at", self.sent_at)


@dataclass(frozen=True)
class Observation:
    """What the adapter saw of one tracked message and its conversation at `observed_at`.

    Plain facts only; the rules in `answered` decide what they mean.
    """

    item_id: str
    #: When the message arrived in the shared mailbox.
    received: datetime
    #: When the adapter looked (the latest moment anything seen can have happened).
    observed_at: datetime
    #: Replies and forwards sent from the shared mailbox in the same conversation, any time.
    sent: tuple[SentMessage, ...] = ()
    #: The service's own acknowledgement of this message, when one was sent.
    acknowledgement_message_id: str | None = None
    acknowledgement_sent_at: datetime | None = None
    #: PidTagLastVerbExecuted (0x1081) and PidTagLastVerbExecutionTime (0x1082) of the message.
    last_verb: int | None = None
    last_verb_at: datetime | None = None
    #: The follow-up flag is marked complete, and when (Exchange's completed date-time).
    flag_complete: bool = False
    flag_completed_at: datetime | None = None
    #: The folder the message is in now: its path from the mailbox root ("Inbox/Afgehandeld").
    folder: str = ""
    categories: tuple[str, ...] = ()
    #: The message's last change (PidTagLastModificationTime), when the backend gives it.
    last_modified: datetime | None = None

    def __post_init__(self) -> None:
        for name in (
            "received",
            "observed_at",
            "acknowledgement_sent_at",
            "last_verb_at",
            "flag_completed_at",
            "last_modified",
        ):
            require_aware(name, getattr(self, name))

    @property
    def changed_at(self) -> datetime:
        """When a change of folder or category happened at the latest: the last change, or now."""
        return self.last_modified if self.last_modified is not None else self.observed_at


@dataclass(frozen=True)
class AnsweredPolicy:
    """Which signs count as "answered"; folder and category names as configured (any case)."""

    methods: frozenset[AnswerMethod] = frozenset(AnswerMethod)
    done_folders: frozenset[str] = frozenset()
    done_categories: frozenset[str] = frozenset()
    #: A last verb this close to the acknowledgement's send time is the acknowledgement's own.
    acknowledgement_verb_window: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class Evidence:
    """What one "answered" rule found: the moment it shows, and a sentence for `explain`."""

    when: datetime
    detail: str


@dataclass(frozen=True)
class Answered:
    """A message is answered: when, by which rule (`how`, stored), and in words (`detail`)."""

    when: datetime
    how: str
    method: AnswerMethod
    detail: str


# -- what the tracking service keeps -------------------------------------------------------


@dataclass(frozen=True)
class TrackedTarget:
    """One message with an answer target, as the tracking service keeps it.

    `answer_by` is the target in force: the message's own term, or the term of
    the earlier open message of the same tenant in the conversation it joined
    (`joined_to`, see `conversation.choose_target`).
    """

    item_id: str
    received: datetime
    reception_day: date
    answer_by: datetime
    conversation_id: str | None = None
    #: The tenant's address, lower-case.
    sender: str | None = None
    #: The item whose target this message shares; None when it is a target of its own.
    joined_to: str | None = None
    answered_at: datetime | None = None
    #: The `Answered.how` (rule name) that closed the target.
    answered_how: str | None = None

    def __post_init__(self) -> None:
        for name in ("received", "answer_by", "answered_at"):
            require_aware(name, getattr(self, name))

    def open_at(self, now: datetime) -> bool:
        """Still waiting for an answer at `now`."""
        return self.answered_at is None or utc(self.answered_at) > utc(now)

    def answered(self, answer: Answered) -> TrackedTarget:
        """This target closed by `answer`."""
        return TrackedTarget(
            item_id=self.item_id,
            received=self.received,
            reception_day=self.reception_day,
            answer_by=self.answer_by,
            conversation_id=self.conversation_id,
            sender=self.sender,
            joined_to=self.joined_to,
            answered_at=answer.when,
            answered_how=answer.how,
        )


class CallbackState(StrEnum):
    PLANNED = "planned"
    DONE = "done"
    MISSED = "missed"
    REBOOKED = "rebooked"


@dataclass(frozen=True)
class TrackedCallback:
    """A callback booked as a meeting request, as the reports and the daily overview see it."""

    ref: str
    booked_at: datetime
    callback_by: datetime
    slot_start: datetime
    state: CallbackState = CallbackState.PLANNED
    #: The colleague who calls back (display name), for the daily overview.
    colleague: str = ""
    #: The tenant to call (name as booked), for the daily overview; never in the figures.
    tenant: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        for name in ("booked_at", "callback_by", "slot_start"):
            require_aware(name, getattr(self, name))

    @property
    def planned_in_time(self) -> bool:
        """The call was planned to start before the deadline."""
        return utc(self.slot_start) < utc(self.callback_by)
