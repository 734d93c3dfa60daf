"""Rules `reply_verb` and `forward_verb`: Outlook's "last verb executed" says it was answered.

PidTagLastVerbExecuted (0x1081) is 102 after a reply, 103 after reply-to-all
and 104 after a forward; PidTagLastVerbExecutionTime (0x1082) says when. Only
the *last* verb is kept, so it may show a later reply than the first. The
service's own acknowledgement is sent as a reply and sets the verb too: a verb
within `acknowledgement_verb_window` of the acknowledgement's send time is the
acknowledgement's, and a verb without a time cannot be told apart from it.
"""

from __future__ import annotations

from topcontact_mail.domain.tracking.model import (
    VERB_FORWARD,
    VERB_REPLY_TO_ALL,
    VERB_REPLY_TO_SENDER,
    AnsweredPolicy,
    Evidence,
    Observation,
    utc,
)

_REPLY_VERBS = frozenset({VERB_REPLY_TO_SENDER, VERB_REPLY_TO_ALL})
_FORWARD_VERBS = frozenset({VERB_FORWARD})


def _verb(
    observation: Observation, policy: AnsweredPolicy, verbs: frozenset[int]
) -> Evidence | None:
    if observation.last_verb not in verbs or observation.last_verb_at is None:
        return None
    at = utc(observation.last_verb_at)
    if at < utc(observation.received):
        return None
    ack = observation.acknowledgement_sent_at
    if ack is not None and abs(at - utc(ack)) <= policy.acknowledgement_verb_window:
        return None
    return Evidence(
        observation.last_verb_at, f"Outlook's last verb is {observation.last_verb} (0x1081)"
    )


def reply_verb(observation: Observation, policy: AnsweredPolicy) -> Evidence | None:
    return _verb(observation, policy, _REPLY_VERBS)


def forward_verb(observation: Observation, policy: AnsweredPolicy) -> Evidence | None:
    return _verb(observation, policy, _FORWARD_VERBS)
