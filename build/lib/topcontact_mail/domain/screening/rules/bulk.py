"""Rule `bulk_sender`: marketing and bulk mail sent through a mailing service, without list headers.

Newsletters without `List-Unsubscribe` or `Precedence` still carry the
fingerprints of the service that sent them. One fingerprint is not enough:
people send through such services too (Amazon WorkMail through Amazon SES,
Proton Mail with its own `Feedback-ID`, HEY through Postmark). Two independent
signals are needed, from different families:

- the sending service: `Feedback-ID` (set by the service for Gmail's feedback
  loop), a mailing service's own headers (`X-SES-Outgoing`, `X-Mailgun-*`,
  `X-SG-EID`, `X-MC-User`, `X-MSYS-API`, `X-SFMC-Stack`, `X-Mailjet-*`, ...)
  or its bounce domain; all of these together count once, since one service
  writes them all;
- one-click unsubscribe (`List-Unsubscribe-Post`, RFC 8058);
- a campaign header (`X-Campaign`, `X-CampaignID`, `X-Mailjet-Campaign`, ...);
- `X-CSA-Complaints` (the Certified Senders Alliance's bulk senders) or
  `X-Report-Abuse`;
- a bulk mailing program in `X-Mailer` (phpList, Mailchimp, Sendy, ...);
- a VERP return path: the recipient's own address encoded in the bounce
  address (`bounces+klantcontact=woonservice.example@...`).
"""

from __future__ import annotations

import re

from topcontact_mail.domain.message import IncomingMessage
from topcontact_mail.domain.screening.evidence import (
    bare_address,
    domain_of,
    header_names,
    in_domains,
    local_part,
)
from topcontact_mail.domain.screening.model import ScreeningHistory, ScreeningPolicy

#: Marks that a bulk sender puts on its mail, each its own signal.
_BULK_MARKS = {
    "list-unsubscribe-post": "one-click unsubscribe (List-Unsubscribe-Post)",
    "x-csa-complaints": "X-CSA-Complaints",
    "x-report-abuse": "X-Report-Abuse",
    "x-report-abuse-to": "X-Report-Abuse",
}
_CAMPAIGN = re.compile(r"^x-(?:\w+-)?campaign(?:-?id|name|-name)?$|^x-newsletter|^x-mailing-id$")
#: Mailing services by their own headers (prefixes) and bounce domains.
_SERVICES: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "Amazon SES": (("x-ses-",), frozenset({"amazonses.com"})),
    "Mailgun": (("x-mailgun-",), frozenset({"mailgun.org", "mailgun.net"})),
    "SendGrid": (("x-sg-eid", "x-sg-id"), frozenset({"sendgrid.net"})),
    "Mailchimp": (("x-mc-user", "x-mandrill-", "x-mailchimp-"), frozenset({"mcsv.net", "mandrillapp.com", "mcdlv.net"})),
    "SparkPost": (("x-msys-",), frozenset({"sparkpostmail.com"})),
    "Salesforce Marketing Cloud": (("x-sfmc-",), frozenset({"exacttarget.com", "s4.exacttarget.com"})),
    "Mailjet": (("x-mj-", "x-mailjet-"), frozenset({"mailjet.com", "bnc3.mailjet.com"})),
    "Brevo": (("x-mailin-", "x-sib-", "x-brevo-"), frozenset({"sendinblue.com", "brevo.com"})),
    # Postmark's X-PM-* headers are not used: Proton Mail writes X-Pm-Message-ID for people.
    "Postmark": ((), frozenset({"mtasv.net"})),
    "Campaign Monitor": (("x-cmail-",), frozenset({"cmail19.com", "cmail20.com", "createsend.com"})),
}  # fmt: skip
_BULK_MAILERS = ("phplist", "mailchimp", "campaign monitor", "sendy", "acumbamail", "laposta")


def bulk_sender(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    signals = _signals(message)
    if len(signals) < 2:
        return None
    return "bulk mail without list headers: " + "; ".join(sorted(signals.values()))


def _signals(message: IncomingMessage) -> dict[str, str]:
    """Independent signals by family; the same service seen twice counts once."""
    found: dict[str, str] = {}
    names = header_names(message)
    for name in names:
        if name in _BULK_MARKS:
            found[_BULK_MARKS[name]] = _BULK_MARKS[name]
        elif _CAMPAIGN.match(name):
            found["campaign"] = f"campaign header {name}"
    mailer = " ".join(message.header_values("X-Mailer")).lower()
    if any(m in mailer for m in _BULK_MAILERS):
        found["mailer"] = f"bulk mailing program in X-Mailer ({mailer[:40]})"
    path = bare_address(message.return_path or message.header("Return-Path") or "")
    path_domain = domain_of(path)
    services: list[str] = []
    if "feedback-id" in names:
        services.append("Feedback-ID")
    for service, (prefixes, domains) in _SERVICES.items():
        header = next((n for n in names if prefixes and n.startswith(prefixes)), None)
        if header:
            services.append(f"{service} header {header}")
        elif in_domains(path_domain, domains):
            services.append(f"{service} bounce domain {path_domain}")
    if services:
        found["service"] = "sending service: " + ", ".join(services)
    if _verp(path, message):
        found["verp"] = f"VERP return path {path}"
    return found


def _verp(path: str, message: IncomingMessage) -> bool:
    """Whether the return path encodes one of the recipients ("...+user=domain@...")."""
    local = local_part(path)
    if "=" not in local:
        return False
    return any(f"{r.local_part}={r.domain}" in local for r in message.recipients if "@" in r.key)
