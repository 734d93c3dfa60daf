"""Every reason code a decision can carry: stored with each message, shown by `explain`.

The codes are stable (an administrator's queries and the reports depend on
them) and each is documented in docs/screening.md; a test holds the two
together.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why a message was or was not acknowledged."""

    #: No rule applies: a person wrote, and gets an acknowledgement.
    PERSON = "person"

    # -- the screening rules, in the order of the table (chain.RULES) --
    OWN_MESSAGE = "own_message"
    OWN_RULE_FORWARD = "own_rule_forward"
    AUTO_SUBMITTED = "auto_submitted"
    READ_RECEIPT = "read_receipt"
    DELIVERY_REPORT = "delivery_report"
    NULL_RETURN_PATH = "null_return_path"
    FAILED_RECIPIENTS = "failed_recipients"
    MACHINE_SENDER = "machine_sender"
    AUTO_REPLY_HEADER = "auto_reply_header"
    BULK_PRECEDENCE = "bulk_precedence"
    MAILING_LIST = "mailing_list"
    LIST_MANAGER = "list_manager"
    MEETING_MESSAGE = "meeting_message"
    MESSAGE_RECALL = "message_recall"
    COMPLAINT_REPORT = "complaint_report"
    AGGREGATE_REPORT = "aggregate_report"
    CHALLENGE_RESPONSE = "challenge_response"
    AUTO_REPLY_SUBJECT = "auto_reply_subject"
    AUTO_REPLY_TEXT = "auto_reply_text"
    BOUNCE_TEXT = "bounce_text"
    BULK_SENDER = "bulk_sender"
    SPAM = "spam"
    NO_SENDER = "no_sender"
    CALLBACK_REQUEST = "callback_request"
    INTERNAL_SENDER = "internal_sender"
    CONVERSATION_ALREADY_ACKNOWLEDGED = "conversation_already_acknowledged"
    SENDER_DAILY_LIMIT = "sender_daily_limit"
    GLOBAL_HOURLY_CAP = "global_hourly_cap"

    # -- around the table: the message's history, and what screening cannot decide --
    #: The message already carries the service's marker: an earlier run handled it.
    ALREADY_HANDLED = "already_handled"
    #: A message with the same Message-ID was recorded before (a copy, or staff moved it back).
    DUPLICATE_MESSAGE = "duplicate_message"
    #: A person wrote, but there is no single valid address to answer.
    UNANSWERABLE = "unanswerable"
    #: A screening rule failed; not acknowledged, to be safe.
    SCREENING_ERROR = "screening_error"
    #: Handling the message failed; it is left alone and recorded for the administrator.
    QUARANTINED = "quarantined"
    #: The bytes are not a mail message (`explain` only; the mailbox always gives messages).
    UNREADABLE = "unreadable"
    #: `explain` could not read the file.
    FILE_ERROR = "file_error"


#: Skips that are still a person's message: no acknowledgement, but the answer target applies.
STILL_A_PERSON = frozenset(
    {
        Reason.PERSON,
        Reason.CONVERSATION_ALREADY_ACKNOWLEDGED,
        Reason.SENDER_DAILY_LIMIT,
        Reason.GLOBAL_HOURLY_CAP,
        Reason.UNANSWERABLE,
    }
)


def needs_answer(reason: str) -> bool:
    """Whether a message decided with `reason` gets the answer target (flag, tracking)."""
    return reason in STILL_A_PERSON
