"""Rule `internal_sender`: colleagues get no acknowledgement unless the policy says they should."""

from __future__ import annotations

from topcontact_mail.domain.message import IncomingMessage
from topcontact_mail.domain.screening.evidence import domain_of, in_domains, sender_address
from topcontact_mail.domain.screening.model import ScreeningHistory, ScreeningPolicy


def internal_sender(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    if policy.acknowledge_internal:
        return None
    sender = sender_address(message)
    domain = domain_of(sender)
    if in_domains(domain, policy.internal_domains):
        return f"{sender} is in the internal domain {domain} and colleagues are not acknowledged"
    return None
