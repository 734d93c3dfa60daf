"""Rule `own_message`: never answer what this service or the organisation's own mailboxes sent.

This is the first guard against mail loops: an acknowledgement that comes back
(bounced, forwarded, or delivered to the shared mailbox itself) carries our
marker header, or is from one of our own addresses, or has a Message-ID minted
in one of our own domains.
"""

from __future__ import annotations

from topcontact_mail.domain.message import MARKER_HEADER, IncomingMessage
from topcontact_mail.domain.screening.evidence import message_id_domain, sender_address, shown
from topcontact_mail.domain.screening.model import ScreeningHistory, ScreeningPolicy


def sent_by_us(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    marker = message.header(MARKER_HEADER)
    if marker is not None:
        return f"carries the service's own marker header {MARKER_HEADER}: {shown(marker)!r}"
    sender = sender_address(message)
    if sender and sender in policy.own_addresses:
        return f"sent from our own address {sender}"
    domain = message_id_domain(message.message_id)
    # Exactly our domain: a colleague's Exchange server mints ids in subdomains (ex01.<domain>).
    if domain and domain in policy.own_domains:
        return (
            f"Message-ID {shown(message.message_id or '')} was created in our own domain {domain}"
        )
    return None
