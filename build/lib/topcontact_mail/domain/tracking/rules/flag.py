"""Rule `flag_completed`: a colleague marked the follow-up flag complete.

The service put a follow-up flag on the message, due at the answer term; a
colleague who answered by phone or letter marks it complete. Exchange keeps
the completion time; without one the last change of the message (or the
moment of observation) is the latest it can have happened.
"""

from __future__ import annotations

from topcontact_mail.domain.tracking.model import AnsweredPolicy, Evidence, Observation


def flag_completed(observation: Observation, policy: AnsweredPolicy) -> Evidence | None:
    if not observation.flag_complete:
        return None
    if observation.flag_completed_at is not None:
        return Evidence(observation.flag_completed_at, "the follow-up flag is marked complete")
    return Evidence(
        observation.changed_at,
        "the follow-up flag is marked complete (no completion time: its last change is used)",
    )
