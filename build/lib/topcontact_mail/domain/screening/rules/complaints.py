"""Rules `complaint_report` and `aggregate_report`: reports providers send to a domain's postmaster.

A `multipart/report` is already a `delivery_report`. These rules take the
reports sent in other shapes:

- `complaint_report`: feedback-loop complaints (a recipient pressed "this is
  spam") and DMARC failure reports sent as an ordinary message with the
  original attached — Microsoft's JMRP ("complaint about message from
  <IP>"), an ARF `message/feedback-report` part inside `multipart/mixed`, an
  abuse report's fixed wording.
- `aggregate_report`: DMARC aggregate reports (RFC 7489 section 7.2.1.1:
  subject "Report Domain: <domain> Submitter: <org> Report-ID: <id>", a zip
  or gzip attachment) and SMTP TLS reports (RFC 8460: `TLS-Report-Domain`,
  `TLS-Report-Submitter`, an `application/tlsrpt+*` attachment).
"""

from __future__ import annotations

import re

from topcontact_mail.domain.message import IncomingMessage
from topcontact_mail.domain.screening.evidence import (
    body_start,
    local_part,
    part_types,
    phrase_pattern,
    phrases,
    plain_text,
    sender_address,
    shown,
)
from topcontact_mail.domain.screening.model import ScreeningHistory, ScreeningPolicy

_FEEDBACK_PARTS = frozenset({"message/feedback-report"})
_ATTACHED_MESSAGE_PARTS = frozenset({"message/rfc822", "text/rfc822-headers", "message/global"})
#: Headers that only feedback-loop reports carry at the top level.
_FEEDBACK_HEADERS = ("X-HmXmrOriginalRecipient", "X-Arf-Feedback-Type", "X-Feedback-Type")
#: Subjects of complaint reports; "complaint about message from" is followed by an IP address.
_COMPLAINT_SUBJECT = re.compile(
    r"complaint about message from \S*\d|\bfeedback[- ]loop\b|\b(?:fbl|arf)\b.*\breport\b"
    r"|\babuse report\b|\bspam (?:complaint|report)\b|\bdmarc (?:failure|forensic) report\b"
)
#: Wording of an abuse or authentication-failure report's human-readable part.
_COMPLAINT_TEXT = phrase_pattern(
    phrases(
        """
        this is an email abuse report
        this is an abuse report
        this is an opt-out report
        this is an e-mail abuse report
        this is a spf/dkim authentication-failure report
        this is an authentication failure report
        feedback-type:
        a message claiming to be from you has failed
        """
    )
)
#: Local parts of feedback-loop senders.
_FBL_SENDERS = frozenset({"staff", "fbl", "feedbackloop", "feedback-loop", "scomp", "arf", "abuse"})


def complaint_report(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    types = {mime_type for mime_type, _ in part_types(message)}
    if types & _FEEDBACK_PARTS:
        return "contains a message/feedback-report part (ARF complaint outside multipart/report)"
    for name in _FEEDBACK_HEADERS:
        value = message.header(name)
        if value is not None:
            return f"{name}: {shown(value) or '(empty)'} (feedback-loop report)"
    subject = plain_text(message.subject)
    text = _COMPLAINT_TEXT.search(body_start(message))
    if text is not None:
        return f"the body starts like an abuse report: {text.group(0)!r}"
    subject_match = _COMPLAINT_SUBJECT.search(subject)
    if subject_match is None:
        return None
    sender = local_part(sender_address(message))
    if types & _ATTACHED_MESSAGE_PARTS or sender in _FBL_SENDERS:
        return (
            f"subject {shown(message.subject)!r} is a complaint report's "
            f"({subject_match.group(0)!r}), sent with the original message or from {sender!r}"
        )
    return None


_REPORT_SUBJECT = re.compile(r"report[ -]?domain\s*:\s*\S+.*\bsubmitter\s*:\s*\S+")
_TLS_HEADERS = ("TLS-Report-Domain", "TLS-Report-Submitter")
_TLS_PARTS = ("application/tlsrpt+gzip", "application/tlsrpt+json")
_ARCHIVE_PARTS = frozenset(
    {"application/zip", "application/gzip", "application/x-gzip", "application/x-zip-compressed"}
)
_AGGREGATE_TEXT = phrase_pattern(
    phrases(
        """
        this is an aggregate report
        this is a dmarc aggregate report
        dmarc aggregate report
        aggregate tls report
        report domain:
        """
    )
)


def aggregate_report(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    for name in _TLS_HEADERS:
        value = message.header(name)
        if value is not None:
            return f"{name}: {shown(value)} (SMTP TLS report, RFC 8460)"
    subject = plain_text(message.subject)
    if _REPORT_SUBJECT.search(subject):
        return (
            f"subject {shown(message.subject)!r} is the form of a DMARC or TLS aggregate "
            "report (RFC 7489 section 7.2.1.1, RFC 8460)"
        )
    mime_types = [mime_type for mime_type, _ in part_types(message)]
    top = (message.content_type or "").split(";", 1)[0].strip().lower()
    for mime_type in [top, *mime_types]:
        if mime_type in _TLS_PARTS:
            return f"contains a {mime_type} part (SMTP TLS report)"
    if "dmarc" in subject and "report" in subject:
        archive = next((t for t in [top, *mime_types] if t in _ARCHIVE_PARTS), None)
        text = _AGGREGATE_TEXT.search(body_start(message))
        if archive or text:
            evidence = f"a {archive} attachment" if archive else repr(text.group(0) if text else "")
            return f"subject {shown(message.subject)!r} with {evidence} (DMARC aggregate report)"
    return None
