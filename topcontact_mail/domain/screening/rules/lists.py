"""Rule `mailing_list`: mail distributed by a list or newsletter (RFC 2369 / RFC 2919 headers)."""

from __future__ import annotations

from topcontact_mail.domain.message import IncomingMessage
from topcontact_mail.domain.screening.evidence import shown
from topcontact_mail.domain.screening.model import ScreeningHistory, ScreeningPolicy

_LIST_HEADERS = ("List-Id", "List-Unsubscribe", "List-Post")


def mailing_list(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    for name in _LIST_HEADERS:
        value = message.header(name)
        if value is not None:
            return f"{name}: {shown(value) or '(empty)'}"
    return None
