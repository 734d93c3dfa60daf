"""Rule `auto_submitted`: RFC 3834 says any `Auto-Submitted` value but `no` marks a machine's message."""

from __future__ import annotations

from topcontact_mail.domain.message import IncomingMessage
from topcontact_mail.domain.screening.evidence import first_token, shown
from topcontact_mail.domain.screening.model import ScreeningHistory, ScreeningPolicy
from topcontact_mail.domain.screening.rules.forwarding import RULE_STAMPS, redirected_by_own_rule


def auto_submitted(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    values = message.header_values("Auto-Submitted")
    if not values:
        return None
    redirecting_mailbox = redirected_by_own_rule(message, policy)
    for value in values:
        keyword = first_token(value)
        if keyword == "no":
            continue
        if redirecting_mailbox and keyword in RULE_STAMPS:
            # Our own Exchange rule stamped it while redirecting a person's mail (forwarding.py).
            continue
        return f"Auto-Submitted: {shown(value) or '(empty)'}"
    return None
