"""Narrow protocols the services need from the outside world: mailbox, store, texts, clock.

Every adapter behind a port honours the same contract, and the same contract
tests run against each (in-memory, EWS, Graph; tests/contract/). Values
crossing a port are the domain's value types plus the small records defined
beside each port.
"""

from topcontact_mail.ports.clock import Clock
from topcontact_mail.ports.mailbox import (
    ChangePage,
    CredentialsRejected,
    FetchedMessage,
    Mailbox,
    MailboxUnavailable,
    Mark,
    Observed,
    Outcome,
    OutgoingAcknowledgement,
    OutgoingNotice,
    Watched,
    WatermarkExpired,
)
from topcontact_mail.ports.store import (
    COUNTS_AS_ACKNOWLEDGED,
    AckState,
    CategoryState,
    MessageRecord,
    NoticeKind,
    PendingNotice,
    PendingSend,
    SendOutcome,
    SendResult,
    StateStore,
    TargetProgress,
    ToObserve,
)
from topcontact_mail.ports.texts import Texts

__all__ = [
    "COUNTS_AS_ACKNOWLEDGED",
    "AckState",
    "CategoryState",
    "ChangePage",
    "Clock",
    "CredentialsRejected",
    "FetchedMessage",
    "Mailbox",
    "MailboxUnavailable",
    "Mark",
    "MessageRecord",
    "NoticeKind",
    "Observed",
    "Outcome",
    "OutgoingAcknowledgement",
    "OutgoingNotice",
    "PendingNotice",
    "PendingSend",
    "SendOutcome",
    "SendResult",
    "StateStore",
    "TargetProgress",
    "Texts",
    "ToObserve",
    "Watched",
    "WatermarkExpired",
]
