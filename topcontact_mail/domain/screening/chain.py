"""The screening policy as an ordered table of rules; the first rule that applies decides.

Read `RULES` top to bottom as the policy: what the service did before first
(its marker, a copy of a recorded message), then loop protection, then every
sign that a machine wrote the message (most certain signs before weaker ones),
then spam and colleagues, the limits, and last whether there is anyone to
answer. A message no rule claims was written by a person and is acknowledged
with reason `person`.

`screen` is the one decision path: the daemon and `explain` both call it, with
the message's history as the caller found it.
"""

from __future__ import annotations

from topcontact_mail.domain.message import IncomingMessage
from topcontact_mail.domain.screening.evidence import sender_address
from topcontact_mail.domain.screening.model import (
    Rule,
    ScreeningHistory,
    ScreeningPolicy,
    Verdict,
)
from topcontact_mail.domain.screening.reasons import Reason
from topcontact_mail.domain.screening.rules import (
    answerable,
    autoreply,
    autosubmitted,
    bounces,
    bulk,
    callbacks,
    challenge,
    complaints,
    forwarding,
    history,
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
    Rule("already_handled", Reason.ALREADY_HANDLED,
         "the message carries the service's marker: an earlier run handled it",
         history.already_handled),
    Rule("duplicate_message", Reason.DUPLICATE_MESSAGE,
         "a message with the same Message-ID was recorded before",
         history.duplicate_message),
    Rule("own_message", Reason.OWN_MESSAGE,
         "our marker header, one of our own addresses, or a Message-ID of our own domain",
         own.sent_by_us),
    Rule("own_rule_forward", Reason.OWN_RULE_FORWARD,
         "forwarded by an inbox rule of our own mailbox; the author is only in the body",
         forwarding.forwarded_by_own_rule),
    Rule("auto_submitted", Reason.AUTO_SUBMITTED,
         "Auto-Submitted other than 'no' (except our own inbox rule's stamp on a redirect)",
         autosubmitted.auto_submitted),
    Rule("read_receipt", Reason.READ_RECEIPT,
         "a read or not-read notification (RFC 8098 report, Exchange IPNRN/IPNNRN)",
         reports.read_receipt),
    Rule("delivery_report", Reason.DELIVERY_REPORT,
         "a bounce or delivery report (multipart/report, delivery-status, REPORT.* item class)",
         reports.delivery_report),
    Rule("null_return_path", Reason.NULL_RETURN_PATH,
         "Return-Path <> or empty",
         senders.null_return_path),
    Rule("failed_recipients", Reason.FAILED_RECIPIENTS,
         "X-Failed-Recipients present (bounce)",
         reports.failed_recipients),
    Rule("machine_sender", Reason.MACHINE_SENDER,
         "MAILER-DAEMON, postmaster, no-reply, bounce or list-administration sender",
         senders.machine_sender),
    Rule("auto_reply_header", Reason.AUTO_REPLY_HEADER,
         "X-Autoreply/X-Autorespond/X-Autoresponder, X-Auto-Response-Suppress All/AutoReply/OOF, "
         "Exchange OOF or reply-template item class",
         autoreply.auto_reply_header),
    Rule("bulk_precedence", Reason.BULK_PRECEDENCE,
         "Precedence or X-Precedence bulk, list, junk or auto_reply",
         autoreply.bulk_precedence),
    Rule("mailing_list", Reason.MAILING_LIST,
         "a list header: List-*, Mailing-List, X-Mailman-Version, X-BeenThere, X-Loop, ezmlm Delivered-To",
         lists.mailing_list),
    Rule("list_manager", Reason.LIST_MANAGER,
         "a list program's address, or a list -admin address sending a list notice",
         lists.list_manager),
    Rule("meeting_message", Reason.MEETING_MESSAGE,
         "meeting request, response or cancellation",
         meetings.meeting_message),
    Rule("message_recall", Reason.MESSAGE_RECALL,
         "Outlook message recall",
         meetings.message_recall),
    Rule("complaint_report", Reason.COMPLAINT_REPORT,
         "a feedback-loop complaint or DMARC failure report outside multipart/report",
         complaints.complaint_report),
    Rule("aggregate_report", Reason.AGGREGATE_REPORT,
         "a DMARC aggregate or SMTP TLS report",
         complaints.aggregate_report),
    Rule("challenge_response", Reason.CHALLENGE_RESPONSE,
         "a challenge-response filter asking the sender to verify before delivery",
         challenge.challenge_response),
    Rule("auto_reply_subject", Reason.AUTO_REPLY_SUBJECT,
         "out-of-office or auto-reply subject (Outlook's forms in the EU languages and more, Lotus AUTO:)",
         autoreply.auto_reply_subject),
    Rule("auto_reply_text", Reason.AUTO_REPLY_TEXT,
         "an absence notice: absence at the body's start, words about the mail, a fitting subject",
         autoreply.auto_reply_text),
    Rule("bounce_text", Reason.BOUNCE_TEXT,
         "a plain-text non-delivery report or delay warning: report subject and delivery clue, "
         "or delivery software's boilerplate",
         bounces.bounce_text),
    Rule("bulk_sender", Reason.BULK_SENDER,
         "bulk mail: two independent mailing-service fingerprints",
         bulk.bulk_sender),
    Rule("spam", Reason.SPAM,
         "Exchange SCL at or above the threshold (SCL -1 is trusted), or X-Spam-Flag: YES",
         spam.spam),
    Rule("no_sender", Reason.NO_SENDER,
         "no usable From address",
         senders.no_sender),
    Rule("callback_request", Reason.CALLBACK_REQUEST,
         "a colleague's callback booking: the configured keyword in the subject, an internal sender",
         callbacks.callback_request),
    Rule("internal_sender", Reason.INTERNAL_SENDER,
         "a colleague from an internal domain, unless colleagues are acknowledged",
         internal.internal_sender),
    Rule("conversation_already_acknowledged", Reason.CONVERSATION_ALREADY_ACKNOWLEDGED,
         "this conversation already had an acknowledgement",
         limits.conversation_already_acknowledged),
    Rule("sender_daily_limit", Reason.SENDER_DAILY_LIMIT,
         "the sender reached the daily number of acknowledgements",
         limits.sender_daily_limit),
    Rule("global_hourly_cap", Reason.GLOBAL_HOURLY_CAP,
         "the hourly cap of acknowledgements is reached (the service alerts)",
         limits.global_hourly_cap),
    Rule("unanswerable", Reason.UNANSWERABLE,
         "a person wrote, but there is no single valid address to answer",
         answerable.no_reply_address),
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
                reason=Reason.SCREENING_ERROR,
                detail=f"rule {rule.name} failed ({type(exc).__name__}); not acknowledged to be safe",
                rule=rule.name,
            )
        if verdict is not None:
            return verdict
    return Verdict(
        acknowledge=True, reason=Reason.PERSON, detail=_person_detail(message, policy), rule=""
    )


def _person_detail(message: IncomingMessage, policy: ScreeningPolicy) -> str:
    detail = f"no rule applies: written by a person ({sender_address(message)})"
    mailbox = forwarding.redirected_by_own_rule(message, policy)
    if mailbox:
        detail += (
            f"; redirected to us by the inbox rule of our own mailbox {mailbox}, "
            f"whose Exchange stamps were not taken for an auto-reply"
        )
    return detail
