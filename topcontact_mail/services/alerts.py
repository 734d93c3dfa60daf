"""Alerts to the administrator: a mail when a person must act, at most one per kind an hour.

Two sorts of alert, both per mailbox (each mailbox has its own `Alerts`):

- an *event* (`raise_alert`): the hourly cap met (a storm), messages quarantined;
- a *condition* that lasts (`watch`, given the mailbox's current conditions each
  time its loop looks): refused credentials, the mailbox unreachable, the sync
  lagging, the loop failing again and again. It is mailed once it has lasted its
  grace time (`GRACE_SECONDS`: a short fault passes by itself), and when one that
  was mailed clears, a short "opgelost" mail follows (one per mailed alert).

The same kind is mailed at most once an hour (`REPEAT_SECONDS`). What was mailed
and since when a condition lasts is kept in an `AlertMemory` that the mailbox's
health keeps, so a restart of the mailbox's loop (a new daemon, a new `Alerts`)
does not mail again. When the mail cannot go out (the mailbox itself is down),
the log line says so; `/health` carries the condition anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from topcontact_mail.domain.message import Address
from topcontact_mail.logs import get_logger
from topcontact_mail.ports import Clock, Mailbox, MailboxUnavailable

#: The same alert is mailed again only after this many seconds.
REPEAT_SECONDS = 3600
#: How long a condition must last before it is mailed (seconds); a kind not named: at once.
GRACE_SECONDS: dict[str, float] = {
    # Nothing is handled until a person acts: no reason to wait.
    "credentials": 0.0,
    # Exchange restarts, a network hiccup: the adapter's retries and the loop's back-off
    # bridge those; ten minutes without the mailbox is an outage.
    "mailbox_unreachable": 600.0,
    # Lagging starts after `service.sync_lag_seconds` already; ten more minutes rule out a
    # large but healthy catch-up.
    "sync_lagging": 600.0,
    # The condition itself is "failed again and again" (`LOOP_FAILURES` in an hour).
    "loop_failed": 0.0,
}
#: The kind of the "opgelost" mail (its template names the condition as `condition`).
RESOLVED = "resolved"


class AlertTexts(Protocol):
    def alert(self, kind: str, **context: Any) -> tuple[str, str]: ...


@dataclass
class AlertMemory:
    """What was mailed when, and since when each condition lasts; outlives the mailbox's loop."""

    #: The last mail (or attempt) per kind.
    mailed: dict[str, datetime] = field(default_factory=dict)
    #: Since when each current condition lasts.
    since: dict[str, datetime] = field(default_factory=dict)
    #: Conditions mailed that have not cleared yet: their clearing is mailed too.
    open: set[str] = field(default_factory=set)
    #: Messages quarantined since the last quarantine mail.
    quarantined: int = 0


@dataclass
class Alerts:
    """Tells the administrator about trouble; the log and /health always, a mail when possible."""

    mailbox: Mailbox
    texts: AlertTexts
    clock: Clock
    admin: Address | None
    memory: AlertMemory = field(default_factory=AlertMemory)

    def __post_init__(self) -> None:
        self.log = get_logger("alerts", mailbox=self.mailbox.address.email)

    def raise_alert(self, kind: str, **context: Any) -> bool:
        """Mail the administrator about `kind`; True when a mail went out."""
        now = self.clock.now()
        last = self.memory.mailed.get(kind)
        if self.admin is None or (
            last is not None and (now - last).total_seconds() < REPEAT_SECONDS
        ):
            return False
        self.memory.mailed[kind] = now
        return self._mail(kind, now, **context)

    def quarantined(self, count: int) -> bool:
        """`count` messages were quarantined: a mail with the number since the last one."""
        self.memory.quarantined += count
        self.log.error("messages quarantined: a colleague must handle them", count=count)
        if self.raise_alert("quarantined", count=self.memory.quarantined):
            self.memory.quarantined = 0
            return True
        return False

    def watch(self, conditions: Mapping[str, str]) -> None:
        """The mailbox's conditions now (kind -> detail): mail those past their grace time,
        and the clearing of those mailed."""
        now = self.clock.now()
        for kind, detail in conditions.items():
            since = self.memory.since.setdefault(kind, now)
            lasted = (now - since).total_seconds()
            if lasted < GRACE_SECONDS.get(kind, 0.0) or kind in self.memory.open:
                continue
            # Mailed once per occurrence; one that could not be mailed is tried once an hour.
            if self.raise_alert(kind, detail=detail, since=_moment(since)):
                self.memory.open.add(kind)
        for kind in [k for k in self.memory.since if k not in conditions]:
            del self.memory.since[kind]
            if kind in self.memory.open:
                self.memory.open.discard(kind)
                self.log.info("condition cleared", kind=kind)
                if self.admin is not None:
                    self._mail(RESOLVED, now, condition=kind)

    def _mail(self, kind: str, now: datetime, **context: Any) -> bool:
        assert self.admin is not None
        subject, text = self.texts.alert(
            kind,
            mailbox=self.mailbox.address.email,
            moment=_moment(now),
            **context,
        )
        try:
            self.mailbox.send_notice(self.admin, subject, text)
        except MailboxUnavailable as exc:
            # Typical for refused credentials: the same account cannot send either.
            self.log.error("alert mail could not be sent", kind=kind, error=str(exc))
            return False
        self.log.info("alert mailed to the administrator", kind=kind)
        return True


def _moment(when: datetime) -> str:
    return when.isoformat(timespec="seconds")
