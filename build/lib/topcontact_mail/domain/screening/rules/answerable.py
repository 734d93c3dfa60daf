"""Rule `unanswerable`: a person wrote, but there is no single valid address to answer.

It comes last: only a message every other rule let through would be answered,
and this one could not be. The answer target still applies (a person wrote).
"""

from __future__ import annotations

from topcontact_mail.domain.acknowledgement import reply_address
from topcontact_mail.domain.message import IncomingMessage
from topcontact_mail.domain.screening.model import ScreeningHistory, ScreeningPolicy


def no_reply_address(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    if reply_address(message, policy.mailbox_domain) is None:
        return "the message has no single valid address to answer"
    return None
