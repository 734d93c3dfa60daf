"""Rule `callback_request`: a colleague books a callback by mail; the callback service takes it.

A booking mail ("Terugbelverzoek" in the subject, a form in the body) is no
tenant's mail: it gets no acknowledgement, and the callback service books the
meeting and answers the booker (docs/callbacks.md). Both signs are needed: the
configured keyword as a word of the subject (also in a reply, "RE:
Terugbelverzoek"), and a sender in an internal domain, so a tenant who writes
"terugbelverzoek" is still acknowledged as a person.
"""

from __future__ import annotations

import re

from topcontact_mail.domain.message import IncomingMessage
from topcontact_mail.domain.screening.evidence import domain_of, in_domains, sender_address
from topcontact_mail.domain.screening.model import ScreeningHistory, ScreeningPolicy


def has_keyword(subject: str, keyword: str) -> bool:
    """Whether `keyword` is a word of `subject`, case and surrounding punctuation ignored."""
    word = keyword.strip()
    if not word:
        return False
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", subject, re.IGNORECASE) is not None


def callback_request(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    if not has_keyword(message.subject, policy.callback_keyword):
        return None
    sender = sender_address(message)
    domain = domain_of(sender)
    if not in_domains(domain, policy.internal_domains):
        return None
    return (
        f"{sender} (internal domain {domain}) wrote {policy.callback_keyword!r} in the subject: "
        "a callback booking for the callback service"
    )
