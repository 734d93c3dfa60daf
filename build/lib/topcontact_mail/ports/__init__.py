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
    Outcome,
    OutgoingAcknowledgement,
    WatermarkExpired,
)
from topcontact_mail.ports.store import (
    COUNTS_AS_ACKNOWLEDGED,
    AckState,
    MessageRecord,
    PendingSend,
    SendOutcome,
    SendResult,
    StateStore,
)
from topcontact_mail.ports.texts import Texts

__all__ = [
    "COUNTS_AS_ACKNOWLEDGED",
    "AckState",
    "ChangePage",
    "Clock",
    "CredentialsRejected",
    "FetchedMessage",
    "Mailbox",
    "MailboxUnavailable",
    "Mark",
    "MessageRecord",
    "Outcome",
    "OutgoingAcknowledgement",
    "PendingSend",
    "SendOutcome",
    "SendResult",
    "StateStore",
    "Texts",
    "WatermarkExpired",
]
