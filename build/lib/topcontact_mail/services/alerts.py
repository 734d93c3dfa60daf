"""Alerts to the administrator: a mail when mail can still be sent, at most one per kind an hour."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from topcontact_mail.domain.message import Address
from topcontact_mail.logs import get_logger
from topcontact_mail.ports import Clock, Mailbox, MailboxUnavailable

#: The same alert is mailed again only after this many seconds.
REPEAT_SECONDS = 3600


class AlertTexts(Protocol):
    def alert(self, kind: str, **context: Any) -> tuple[str, str]: ...


@dataclass
class Alerts:
    """Tells the administrator about trouble; the log and /health always, a mail when possible."""

    mailbox: Mailbox
    texts: AlertTexts
    clock: Clock
    admin: Address | None
    _last: dict[str, datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.log = get_logger("alerts")

    def raise_alert(self, kind: str, **context: Any) -> bool:
        """Mail the administrator about `kind`; True when a mail went out."""
        now = self.clock.now()
        last = self._last.get(kind)
        if self.admin is None or (
            last is not None and (now - last).total_seconds() < REPEAT_SECONDS
        ):
            return False
        self._last[kind] = now
        subject, text = self.texts.alert(
            kind,
            mailbox=self.mailbox.address.email,
            moment=now.isoformat(timespec="seconds"),
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
