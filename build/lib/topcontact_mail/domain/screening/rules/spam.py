"""Rule `spam`: Exchange (or a gateway in front of it) already judged the message to be spam.

Exchange's spam confidence level (SCL) runs from 0 to 9; -1 means the message
bypassed filtering as trusted (internal or a safe sender) and is never spam.
"""

from __future__ import annotations

from topcontact_mail.domain.message import IncomingMessage
from topcontact_mail.domain.screening.model import ScreeningHistory, ScreeningPolicy

SCL_HEADER = "X-MS-Exchange-Organization-SCL"


def _scl(message: IncomingMessage) -> int | None:
    if message.spam_confidence is not None:
        return message.spam_confidence
    value = (message.header(SCL_HEADER) or "").strip()
    try:
        return int(value)
    except ValueError:
        return None


def spam(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    scl = _scl(message)
    if scl is not None and scl != -1 and scl >= policy.spam_threshold:
        return f"Exchange spam confidence level {scl} is at or above the threshold {policy.spam_threshold}"
    flag = (message.header("X-Spam-Flag") or "").strip().lower()
    if flag == "yes":
        return "X-Spam-Flag: YES (marked as spam by a filter in front of Exchange)"
    return None
