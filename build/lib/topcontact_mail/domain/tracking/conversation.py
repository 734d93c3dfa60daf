"""Which answer target a new message gets when its conversation already has one.

Writing again must not push a tenant back: a newer message from the same
tenant in the same conversation, while an earlier one is still open, shares
the earlier message's target (the earliest open one). A reply that says no
more than thanks (see `thanks.classify_reply`) gets no target at all, so the
tenant's "Bedankt!" after the acknowledgement or after the answer starts
nothing. In every other case the message gets its own target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from topcontact_mail.domain.tracking.model import TrackedTarget, utc
from topcontact_mail.domain.tracking.thanks import ReplyClassification


class ChoiceKind(StrEnum):
    #: The message gets its own target: `answer_by` is its own term.
    NEW = "new"
    #: The message shares the target of `joined_to`: `answer_by` is that target's.
    JOINED = "joined"
    #: The message gets no target: it only thanks.
    NONE = "none"


@dataclass(frozen=True)
class TargetChoice:
    kind: ChoiceKind
    #: The target in force for the message; None when it gets none.
    answer_by: datetime | None
    #: The item whose target it shares (the first of the conversation's open targets).
    joined_to: str | None
    reason: str


def _same_tenant(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return a.strip().lower() == b.strip().lower()


def choose_target(
    new: TrackedTarget,
    conversation: Sequence[TrackedTarget],
    reply: ReplyClassification | None = None,
) -> TargetChoice:
    """The target for `new` (its own term in `new.answer_by`) among `conversation`'s targets.

    `conversation` holds the tracked messages the service knows in the same
    conversation (others are ignored, as is `new` itself); `reply` is the
    classification of `new`'s text when it is a reply in that conversation.
    """
    if not new.conversation_id:
        return TargetChoice(ChoiceKind.NEW, new.answer_by, None, "no conversation")
    arrived = utc(new.received)
    earlier = [
        t
        for t in conversation
        if t.item_id != new.item_id
        and t.conversation_id == new.conversation_id
        and _same_tenant(t.sender, new.sender)
        and utc(t.received) <= arrived
    ]
    if not earlier:
        return TargetChoice(
            ChoiceKind.NEW, new.answer_by, None, "the first message of this tenant here"
        )
    if reply is not None and reply.thanks_only:
        return TargetChoice(ChoiceKind.NONE, None, None, "a reply that only thanks")
    open_then = [t for t in earlier if t.open_at(new.received)]
    if not open_then:
        return TargetChoice(
            ChoiceKind.NEW, new.answer_by, None, "the tenant's earlier messages were answered"
        )
    first = min(open_then, key=lambda t: (utc(t.answer_by), utc(t.received)))
    root = first.joined_to or first.item_id
    if utc(first.answer_by) > utc(new.answer_by):
        # Cannot happen with one calendar; with a changed one the earlier promise must not slip.
        return TargetChoice(ChoiceKind.NEW, new.answer_by, None, "its own term is earlier")
    return TargetChoice(
        ChoiceKind.JOINED,
        first.answer_by,
        root,
        "the tenant wrote again while an earlier message was open: the target stays",
    )
