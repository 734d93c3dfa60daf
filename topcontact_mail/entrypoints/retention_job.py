"""The daemon's nightly retention purge (docs/retention.md): one APScheduler job, self-contained.

The purge runs on the scheduler's thread: it touches only rows no open work
needs, in one transaction of its own, so the loop's passes go on beside it (a
SQLite store waits for it, a PostgreSQL store's writes are fenced by the
mailbox's lease as always). It runs every night at `retention.purge_time`
(local), and once a few minutes after start, for a machine that is off at night.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from topcontact_mail.config import Settings
from topcontact_mail.logs import get_logger
from topcontact_mail.ports import StateStore
from topcontact_mail.services.retention import RetentionService

if TYPE_CHECKING:  # apscheduler is imported by the daemon's run_forever, not by `run --once`
    from apscheduler.schedulers.base import BaseScheduler

#: The first purge after start waits this long (a start is busy enough).
FIRST_PURGE_DELAY = timedelta(minutes=10)


class _SystemClock:
    def now(self) -> datetime:
        return datetime.now().astimezone()


def schedule_purge(scheduler: BaseScheduler, settings: Settings, store: StateStore) -> None:
    """Add the nightly purge of `store` to `scheduler` (which runs in the calendar's zone)."""
    calendar = settings.calendar.build()
    service = RetentionService(store, settings.retention.policy(), _SystemClock(), calendar.tz)
    log = get_logger("retention")

    def purge() -> None:
        try:
            service.purge()
        except Exception as exc:  # a failed purge is tried again the next night
            log.exception("retention purge failed", error=type(exc).__name__)

    at = settings.retention.purge_at()
    scheduler.add_job(
        purge,
        "cron",
        hour=at.hour,
        minute=at.minute,
        id="retention-purge",
        replace_existing=True,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=3600,
    )
    scheduler.add_job(
        purge,
        "date",
        run_date=datetime.now().astimezone() + FIRST_PURGE_DELAY,
        id="retention-purge-at-start",
        replace_existing=True,
    )
