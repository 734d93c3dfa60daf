"""Rules `conversation_already_acknowledged`, `sender_daily_limit` and `global_hourly_cap`.

These weigh what the service already sent, counted by the caller into
`ScreeningHistory`; they come last so that a machine's message is always named
for what it is, not for a limit it happened to hit.
"""

from __future__ import annotations

from topcontact_mail.domain.message import IncomingMessage
from topcontact_mail.domain.screening.model import ScreeningHistory, ScreeningPolicy


def conversation_already_acknowledged(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    if history.conversation_acknowledged:
        return "this conversation already had its acknowledgement"
    return None


def sender_daily_limit(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    if history.sender_acknowledged_today >= policy.per_sender_per_day:
        return (
            f"this sender already got {history.sender_acknowledged_today} acknowledgements today "
            f"(limit {policy.per_sender_per_day})"
        )
    return None


def global_hourly_cap(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    if history.acknowledged_last_hour >= policy.global_per_hour:
        return (
            f"{history.acknowledged_last_hour} acknowledgements in the last hour reached the cap of "
            f"{policy.global_per_hour}; acknowledging stops until the hour has passed"
        )
    return None
