"""The values screening works with: the policy it applies, the history it weighs, the verdict it gives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from topcontact_mail.domain.message import IncomingMessage
from topcontact_mail.domain.screening.reasons import Reason

if TYPE_CHECKING:
    # Only for the signature of `from_settings`: the domain must not need config at runtime.
    from topcontact_mail.config import ScreeningSettings

#: The reason given when no rule decides: a person wrote, so the person gets an acknowledgement.
PERSON = Reason.PERSON
#: The reason of the global cap; the service raises an alert when it sees it.
GLOBAL_HOURLY_CAP = Reason.GLOBAL_HOURLY_CAP


@dataclass(frozen=True)
class ScreeningPolicy:
    """The tunables of screening as plain values; addresses and domains lower-case."""

    own_addresses: frozenset[str] = frozenset()
    own_domains: frozenset[str] = frozenset()
    #: The shared mailbox's domain: a Reply-To there is never answered (it would answer ourselves).
    mailbox_domain: str = ""
    internal_domains: frozenset[str] = frozenset()
    acknowledge_internal: bool = False
    spam_threshold: int = 5
    per_sender_per_day: int = 3
    global_per_hour: int = 200
    #: A colleague's mail with this word in its subject books a callback (docs/callbacks.md);
    #: empty: callbacks are not booked through the shared mailbox.
    callback_keyword: str = ""

    @classmethod
    def from_settings(cls, screening: ScreeningSettings, shared_mailbox: str) -> ScreeningPolicy:
        """The policy for a configuration; the shared mailbox counts as our own address and domain.

        The shared mailbox's domain is also an internal domain: a colleague writing
        from it is a colleague even when `internal_domains` was left empty.
        """
        mailbox = shared_mailbox.strip().lower()
        mailbox_domain = mailbox.rpartition("@")[2]
        own = {mailbox, *(a.strip().lower() for a in screening.own_addresses)}
        internal = {d.strip().lower().lstrip("@") for d in screening.internal_domains}
        return cls(
            own_addresses=frozenset(a for a in own if a),
            own_domains=frozenset({mailbox_domain} if mailbox_domain else ()),
            mailbox_domain=mailbox_domain,
            internal_domains=frozenset(d for d in internal | {mailbox_domain} if d),
            acknowledge_internal=screening.acknowledge_internal,
            spam_threshold=screening.spam_threshold,
            per_sender_per_day=screening.per_sender_per_day,
            global_per_hour=screening.global_per_hour,
        )


@dataclass(frozen=True)
class ScreeningHistory:
    """What the service already did that matters for this message; the caller looks it up.

    The same history gives the same verdict in the daemon and in `explain`.
    """

    #: The service's marker found on the mailbox item (an earlier run handled it), or None.
    marker: str | None = None
    #: The reason recorded for an earlier message with the same Message-ID, or None.
    earlier_reason: str | None = None
    conversation_acknowledged: bool = False
    sender_acknowledged_today: int = 0
    acknowledged_last_hour: int = 0


@dataclass(frozen=True)
class Verdict:
    """The outcome of screening: acknowledge or not, why (stable code), and which rule said so."""

    acknowledge: bool
    reason: str
    detail: str
    rule: str

    @property
    def global_cap_reached(self) -> bool:
        """True when the hourly cap stopped this acknowledgement; the service should alert."""
        return self.reason == GLOBAL_HOURLY_CAP


#: A rule's test: a detail sentence when the rule applies to the message, None when it has no opinion.
Check = Callable[[IncomingMessage, ScreeningPolicy, ScreeningHistory], "str | None"]


@dataclass(frozen=True)
class Rule:
    """One line of the screening table: a named check that, when it applies, skips the message."""

    name: str
    reason: str
    summary: str
    check: Check

    def __call__(
        self, message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
    ) -> Verdict | None:
        """A decisive verdict when the check applies, None for "no opinion"."""
        detail = self.check(message, policy, history)
        if detail is None:
            return None
        return Verdict(acknowledge=False, reason=self.reason, detail=detail, rule=self.name)
