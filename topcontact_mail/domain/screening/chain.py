"""The screening policy as an ordered table of rules; the first rule that applies decides.

Read `RULES` top to bottom as the policy: loop protection first, then every
sign that a machine wrote the message (most certain signs before weaker ones),
then spam and colleagues, and the limits last. A message no rule claims was
written by a person and is acknowledged with reason `person`.
"""

from __future__ import annotations

from topcontact_mail.domain.message import IncomingMessage
from topcontact_mail.domain.screening.evidence import sender_address
from topcontact_mail.domain.screening.model import (
    PERSON,
    Rule,
    ScreeningHistory,
    ScreeningPolicy,
    Verdict,
)
from topcontact_mail.domain.screening.rules import (
    autoreply,
    autosubmitted,
    forwarding,
    internal,
    limits,
    lists,
    meetings,
    own,
    reports,
    senders,
    spam,
)

RULES: tuple[Rule, ...] = (
    Rule("own_message", "own_message",
         "our marker header, one of our own addresses, or a Message-ID of our own domain",
         own.sent_by_us),
    Rule("own_rule_forward", "own_rule_forward",
         "forwarded by an inbox rule of our own mailbox; the author is only in the body",
         forwarding.forwarded_by_own_rule),
    Rule("auto_submitted", "auto_submitted",
         "Auto-Submitted other than 'no' (except our own inbox rule's stamp on a redirect)",
         autosubmitted.auto_submitted),
    Rule("read_receipt", "read_receipt",
         "a read or not-read notification (RFC 8098 report, Exchange IPNRN/IPNNRN)",
         reports.read_receipt),
    Rule("delivery_report", "delivery_report",
         "a bounce or delivery report (multipart/report, delivery-status, REPORT.* item class)",
         reports.delivery_report),
    Rule("null_return_path", "null_return_path",
         "Return-Path <> or empty",
         senders.null_return_path),
    Rule("failed_recipients", "failed_recipients",
         "X-Failed-Recipients present (bounce)",
         reports.failed_recipients),
    Rule("machine_sender", "machine_sender",
         "MAILER-DAEMON, postmaster, no-reply, bounce or list-administration sender",
         senders.machine_sender),
    Rule("auto_reply_header", "auto_reply_header",
         "X-Autoreply/X-Autorespond/X-Autoresponder, X-Auto-Response-Suppress All/AutoReply/OOF, "
         "Exchange OOF or reply-template item class",
         autoreply.auto_reply_header),
    Rule("bulk_precedence", "bulk_precedence",
         "Precedence or X-Precedence bulk, list, junk or auto_reply",
         autoreply.bulk_precedence),
    Rule("mailing_list", "mailing_list",
         "List-Id, List-Unsubscribe or List-Post present",
         lists.mailing_list),
    Rule("meeting_message", "meeting_message",
         "meeting request, response or cancellation",
         meetings.meeting_message),
    Rule("message_recall", "message_recall",
         "Outlook message recall",
         meetings.message_recall),
    Rule("auto_reply_subject", "auto_reply_subject",
         "out-of-office or auto-reply subject in Dutch, English, German or French",
         autoreply.auto_reply_subject),
    Rule("spam", "spam",
         "Exchange SCL at or above the threshold (SCL -1 is trusted), or X-Spam-Flag: YES",
         spam.spam),
    Rule("no_sender", "no_sender",
         "no usable From address",
         senders.no_sender),
    Rule("internal_sender", "internal_sender",
         "a colleague from an internal domain, unless colleagues are acknowledged",
         internal.internal_sender),
    Rule("conversation_already_acknowledged", "conversation_already_acknowledged",
         "this conversation already had an acknowledgement",
         limits.conversation_already_acknowledged),
    Rule("sender_daily_limit", "sender_daily_limit",
         "the sender reached the daily number of acknowledgements",
         limits.sender_daily_limit),
    Rule("global_hourly_cap", "global_hourly_cap",
         "the hourly cap of acknowledgements is reached (the service alerts)",
         limits.global_hourly_cap),
)  # fmt: skip


def screen(
    message: IncomingMessage,
    policy: ScreeningPolicy,
    history: ScreeningHistory = ScreeningHistory(),  # noqa: B008 - frozen value, safe to share
) -> Verdict:
    """Decide whether `message` gets an acknowledgement; pure, and never raises."""
    for rule in RULES:
        try:
            verdict = rule(message, policy, history)
        except Exception as exc:
            # A rule bug must not stop the service; not answering is the safe side of a loop.
            return Verdict(
                acknowledge=False,
                reason="screening_error",
                detail=f"rule {rule.name} failed ({type(exc).__name__}); not acknowledged to be safe",
                rule=rule.name,
            )
        if verdict is not None:
            return verdict
    return Verdict(acknowledge=True, reason=PERSON, detail=_person_detail(message, policy), rule="")


def _person_detail(message: IncomingMessage, policy: ScreeningPolicy) -> str:
    detail = f"no rule applies: written by a person ({sender_address(message)})"
    mailbox = forwarding.redirected_by_own_rule(message, policy)
    if mailbox:
        detail += (
            f"; redirected to us by the inbox rule of our own mailbox {mailbox}, "
            f"whose Exchange stamps were not taken for an auto-reply"
        )
    return detail
