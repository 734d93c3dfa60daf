"""A small world for the tracking service's tests: the memory mailbox, a real SQLite file, a clock.

The acknowledge service takes the mail in (and gives each message its target),
the tracking service keeps the promise; both read the same controllable clock,
and the memory mailbox dates what staff and the service do by it. `restart()`
throws both services and the store object away and opens the file again, as a
new process would.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from topcontact_mail.adapters.memory import MemoryMailbox, SentNotice
from topcontact_mail.adapters.sqlite_store import SqliteStore
from topcontact_mail.adapters.texts import TextRenderer
from topcontact_mail.config import Settings
from topcontact_mail.domain.calendar import BusinessCalendar, default_calendar
from topcontact_mail.domain.message import Address, IncomingMessage
from topcontact_mail.domain.screening import ScreeningPolicy
from topcontact_mail.domain.tracking import TrackedTarget
from topcontact_mail.ports import TargetProgress
from topcontact_mail.ports.callbacks import CallbackSource
from topcontact_mail.reports.mails import TeamMails
from topcontact_mail.reports.templating import report_environment
from topcontact_mail.services.acknowledge import AcknowledgeService
from topcontact_mail.services.tracking import TrackingOptions, TrackingService, TrackingSummary

from ..tracking.support import at

SHARED = Address("klantcontact@woonservice.example", "Team Klantcontact")
LEAD = Address("teamleider@woonservice.example")
TEAM = Address("team@woonservice.example")


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


def tenant_mail(
    n: int,
    received: datetime,
    *,
    sender: str = "",
    conversation: str | None = None,
    text: str = "Beste medewerker, mijn kraan lekt al een week. Kunt u iemand sturen?",
    name: str = "",
    subject: str = "",
) -> IncomingMessage:
    address = sender or f"huurder{n}@example.nl"
    return IncomingMessage(
        subject=subject or f"Vraag {n}",
        sender=Address(address, name or f"Huurder {n}"),
        recipients=(SHARED,),
        headers=(
            ("From", f"Huurder {n} <{address}>"),
            ("To", SHARED.email),
            ("Subject", subject or f"Vraag {n}"),
            ("Message-ID", f"<m{n}@example.nl>"),
        ),
        message_id=f"<m{n}@example.nl>",
        received=received,
        item_id=f"item-{n}",
        conversation_id=conversation or f"conv-{n}",
        text_sample=text,
    )


class World:
    """The two services over one memory mailbox and one state file, on one clock."""

    def __init__(
        self,
        path: Path,
        start: str,
        *,
        calendar: BusinessCalendar | None = None,
        callbacks: CallbackSource | None = None,
        **options: Any,
    ) -> None:
        self.path = path
        self.calendar = calendar or default_calendar()
        self.callbacks = callbacks
        self.options = TrackingOptions(**{"team_lead": LEAD, "team": TEAM, **options})
        self.clock = Clock(at(start))
        self.mailbox = MemoryMailbox(SHARED, page_size=10)
        self.mailbox.clock_now = self.clock.moment
        self._open()

    def _open(self) -> None:
        self.store = SqliteStore(self.path)
        settings = Settings()
        self.tracking = TrackingService(
            mailbox=self.mailbox,
            store=self.store,
            clock=self.clock,
            calendar=self.calendar,
            texts=TeamMails(report_environment(), self.calendar, "Team Klantcontact"),
            options=self.options,
            callbacks=self.callbacks,
        )
        self.acknowledge = AcknowledgeService(
            mailbox=self.mailbox,
            store=self.store,
            texts=TextRenderer.from_settings(settings),
            clock=self.clock,
            calendar=self.calendar,
            policy=ScreeningPolicy.from_settings(settings.screening, SHARED.email),
            targets=self.tracking,
        )

    def restart(self) -> None:
        """As a new process: new services, the state file opened again."""
        self.store.close()
        self._open()

    def at(self, moment: str | datetime) -> None:
        self.clock.moment = at(moment) if isinstance(moment, str) else moment
        self.mailbox.clock_now = self.clock.moment

    def deliver(self, n: int, received: str | None = None, **kw: Any) -> str:
        """A tenant's mail, received at `received` (default: now), taken in at once."""
        moment = at(received) if received else self.clock.moment
        self.mailbox.deliver(tenant_mail(n, moment, **kw))
        self.acknowledge.run_once()
        return f"item-{n}"

    def track(self, moment: str | datetime | None = None) -> TrackingSummary:
        if moment is not None:
            self.at(moment)
        return self.tracking.run_once()

    def run_until(self, end: str, *, step: timedelta | None = None) -> list[datetime]:
        """Drive the tracking service as the daemon does: a pass, then sleep until its
        `next_wakeup` (or `step`, if shorter), until `end`. Returns the moments of the passes."""
        stop = at(end)
        passes = []
        while self.clock.moment < stop:
            summary = self.tracking.run_once()
            passes.append(self.clock.moment)
            assert summary.next_wakeup is not None
            assert summary.next_wakeup > self.clock.moment
            following = summary.next_wakeup
            if step is not None:
                following = min(following, self.clock.moment + step)
            self.at(min(following, stop))
        return passes

    def target(self, item_id: str) -> TrackedTarget:
        return next(t for t in self.store.targets() if t.item_id == item_id)

    def progress(self, item_id: str) -> TargetProgress:
        return self.store.progress().get(item_id, TargetProgress(item_id))

    def categories(self, item_id: str) -> list[str]:
        return list(self.mailbox.items[item_id].categories)

    def mails(self, to: Address | None = None) -> list[SentNotice]:
        return [m for m in self.mailbox.team_mails if to is None or to in m.notice.to]

    def escalations(self) -> list[SentNotice]:
        return self.mails(LEAD)

    def overviews(self) -> list[SentNotice]:
        return self.mails(TEAM)


def local(world: World, moment: datetime) -> str:
    """A moment as "vr 4 dec 2026 17:00" in the world's zone, for readable assertions."""
    days = ("ma", "di", "wo", "do", "vr", "za", "zo")
    months = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
    value = world.calendar.local(moment)
    return (
        f"{days[value.weekday()]} {value.day} {months[value.month - 1]} {value.year} {value:%H:%M}"
    )


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


__all__ = ["LEAD", "SHARED", "TEAM", "World", "local", "replace", "tenant_mail", "utc"]
