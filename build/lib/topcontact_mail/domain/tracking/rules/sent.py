"""Rules `reply_sent` and `forward_sent`: the shared mailbox sent a reply or forward in the conversation.

The surest sign: a message the team sent, found in Sent Items, in the same
conversation, at or after the tracked message arrived. The service's own
acknowledgement is in that conversation too and never counts: it carries the
service's marker, or has the Message-ID the service recorded for it.
"""

from __future__ import annotations

import re

from topcontact_mail.domain.tracking.model import (
    AnsweredPolicy,
    Evidence,
    Observation,
    SentKind,
    SentMessage,
    utc,
)

_REPLIES = frozenset({SentKind.REPLY, SentKind.REPLY_ALL})
_FORWARDS = frozenset({SentKind.FORWARD})
#: Forward prefixes Outlook writes in the languages of the region ("FW:", Dutch "Doorst:",
#: German "WG:", French "TR:", Spanish "RV:", Scandinavian "VS:"/"VB:"), and "Fwd:".
_FORWARD_PREFIX = re.compile(r"^\s*(?:fw|fwd|doorst|wg|tr|rv|vs|vb)\s*:", re.IGNORECASE)


def kind_from_subject(subject: str) -> SentKind:
    """What a sent message in a tracked conversation was, as far as its subject tells.

    Sent Items does not say whether a message was a reply or a forward; Outlook's
    forward prefix does. Anything else sent in the conversation is a reply (the
    rules treat reply and reply-all alike).
    """
    return SentKind.FORWARD if _FORWARD_PREFIX.match(subject or "") else SentKind.REPLY


def _message_id_key(value: str | None) -> str:
    return (value or "").strip().strip("<>").strip().lower()


def _ours(sent: SentMessage, observation: Observation) -> bool:
    if sent.from_service:
        return True
    own = _message_id_key(observation.acknowledgement_message_id)
    return bool(own) and _message_id_key(sent.message_id) == own


def _first(observation: Observation, kinds: frozenset[SentKind]) -> SentMessage | None:
    arrived = utc(observation.received)
    candidates = [
        s
        for s in observation.sent
        if s.kind in kinds and utc(s.sent_at) >= arrived and not _ours(s, observation)
    ]
    return min(candidates, key=lambda s: utc(s.sent_at), default=None)


def reply_sent(observation: Observation, policy: AnsweredPolicy) -> Evidence | None:
    first = _first(observation, _REPLIES)
    if first is None:
        return None
    what = "reply to all" if first.kind is SentKind.REPLY_ALL else "reply"
    return Evidence(first.sent_at, f"a {what} was sent from the shared mailbox in the conversation")


def forward_sent(observation: Observation, policy: AnsweredPolicy) -> Evidence | None:
    first = _first(observation, _FORWARDS)
    if first is None:
        return None
    return Evidence(first.sent_at, "the message was forwarded from the shared mailbox")
