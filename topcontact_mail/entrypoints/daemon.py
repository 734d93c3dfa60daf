"""The daemon: runs the acknowledge service over the mailbox until told to stop, and the tracking.

The loop reacts to the mailbox's notifications for low latency and syncs on a
timer as a safety net (APScheduler). The tracking service's timed work is
APScheduler's too: a pass at start, one at the moment the last pass named as
its `next_wakeup` (a warning, an overdue target, an opening, an overview), and
one every `tracking.observe_interval_seconds` to see answers. The jobs only
raise a flag; the passes run on the loop's thread, one at a time, so nothing
else touches the mailbox meanwhile. The schedule is derived from the state:
after a restart the first pass finds what is due. SIGTERM and SIGINT let the
message in hand finish; `--once` drains what is there, then makes one tracking
pass, and exits.

Between messages and passes the loop looks at the mailbox's conditions (`/health`'s)
and alerts the administrator by mail about those a person must act on
(services/alerts.py).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any

from topcontact_mail.config import Settings
from topcontact_mail.domain.screening.reasons import Reason
from topcontact_mail.entrypoints.systemd import Notifier
from topcontact_mail.logs import get_logger
from topcontact_mail.ports import CredentialsRejected, Mailbox, MailboxUnavailable, WatermarkExpired
from topcontact_mail.services.acknowledge import WATERMARK, AcknowledgeService, Summary

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

    from topcontact_mail.entrypoints.health import MailboxHealth
    from topcontact_mail.services.callbacks import CallbackService
    from topcontact_mail.services.tracking import TrackingService, TrackingSummary

#: How long one wait for notifications lasts before the stop flag is looked at again.
WAIT_SLICE_SECONDS = 1.0
#: Back-off after the mailbox could not be reached, doubling up to the maximum.
RETRY_START_SECONDS = 2.0
RETRY_MAX_SECONDS = 300.0
#: `--once` is watched by a person or a script: it retries sooner than the daemon does.
DRAIN_RETRY_MAX_SECONDS = 30.0
#: How often the mailbox's conditions are looked at for the administrator's alerts (seconds).
WATCH_SECONDS = 5.0


@dataclass
class Daemon:
    """Runs the acknowledge service until told to stop."""

    settings: Settings
    service: AcknowledgeService
    mailbox: Mailbox
    on_pass: Callable[[Summary], None] | None = None
    health: MailboxHealth | None = None
    tracking: TrackingService | None = None
    notifier: Notifier = field(default_factory=Notifier)
    #: Books callbacks in the same pass (docs/callbacks.md); None when callbacks are off.
    callbacks: CallbackService | None = None
    #: Several mailboxes in one process: a pass (or tracking pass) runs only while holding
    #: one of these turns (`service.max_concurrent_mailboxes`); waiting for mail needs none.
    slots: threading.Semaphore | None = None

    def __post_init__(self) -> None:
        self.stop = threading.Event()
        self.sync_due = threading.Event()
        self.tracking_due = threading.Event()
        self.log = get_logger("daemon", mailbox=self.settings.connection.shared_mailbox)
        self.total = Summary()
        self.last_tracking: TrackingSummary | None = None
        self._scheduler: BackgroundScheduler | None = None
        self._watched = float("-inf")
        if self.health is not None and self.service.alerts is not None:
            # What was mailed outlives this daemon: a restarted loop does not mail it again.
            self.service.alerts.memory = self.health.alerts

    def watch(self, *, now: bool = False) -> None:
        """Tell the administrator about the conditions a person must act on (services/alerts.py);
        looked at every `WATCH_SECONDS`, or `now`."""
        alerts = self.service.alerts
        if self.health is None or alerts is None:
            return
        if not now and time.monotonic() - self._watched < WATCH_SECONDS:
            return
        self._watched = time.monotonic()
        try:
            alerts.watch(self.health.alert_conditions(time.time()))
        except Exception as exc:  # an alert must never stop the work it reports on
            self.log.exception("alerts could not be looked at", error=type(exc).__name__)

    def _quarantined(self, count: int) -> None:
        """Messages set aside in this pass: a colleague must handle them (an alert)."""
        if not count or self.service.alerts is None:
            return
        try:
            self.service.alerts.quarantined(count)
        except Exception as exc:  # an alert must never stop the work it reports on
            self.log.exception("the quarantine alert failed", error=type(exc).__name__)

    def track(self) -> TrackingSummary | None:
        """One tracking pass; the next is armed at its `next_wakeup`. A failure in it is logged
        and never stops the acknowledgements."""
        if self.tracking is None:
            return None
        try:
            with self._turn():
                summary = self.tracking.run_once(should_stop=self.stop.is_set)
        except Exception as exc:  # tracking trouble must never stop the acknowledgements
            self.log.exception("tracking pass failed", error=type(exc).__name__)
            return None
        if self.health is not None:
            self.health.tracked(summary)
            self._standing(self.tracking)
        self.log.info(
            "tracking pass",
            observed=summary.observed,
            answered=summary.answered,
            warned=summary.warned,
            overdue=summary.overdue,
            escalated=summary.escalated,
            overviews=summary.overviews,
            mails_sent=summary.notices_sent,
            interrupted=summary.interrupted,
            next_wakeup=summary.next_wakeup.isoformat() if summary.next_wakeup else None,
        )
        if self._scheduler is not None and summary.next_wakeup is not None:
            self._scheduler.add_job(
                self.tracking_due.set,
                "date",
                run_date=summary.next_wakeup,
                id="tracking-wakeup",
                replace_existing=True,
            )
        self.last_tracking = summary  # last: whoever sees it sees the next wakeup armed too
        return summary

    def _standing(self, tracking: TrackingService) -> None:
        """The open targets by state and the callbacks, for `/metrics` (as `status` counts them)."""
        if self.health is None:
            return
        from topcontact_mail.reports.status import status  # after the first tracking pass

        try:
            view = status(
                tracking.store.targets(open_only=True),
                tracking.callbacks.tracked_callbacks(),
                tracking.clock.now(),
                tracking.calendar,
                tracking.options.schedule,
            )
        except Exception as exc:  # the figures are a courtesy; never let them stop the loop
            self.log.warning("cannot count the open targets", error=type(exc).__name__)
            return
        self.health.standing(
            {"on_time": view.on_time, "warning": view.warning, "overdue": view.overdue},
            {"planned": len(view.callbacks_planned), "missed": len(view.callbacks_missed)},
        )

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """Hold one of the process's turns for a pass (none needed with one mailbox)."""
        if self.slots is None:
            yield
            return
        while not self.slots.acquire(timeout=WAIT_SLICE_SECONDS):
            self.notifier.heartbeat()  # waiting for a turn is not a hang
        try:
            yield
        finally:
            self.slots.release()

    def install_signal_handlers(self) -> None:
        def handler(signum: int, _: FrameType | None) -> None:
            self.log.info(
                "stop requested; finishing the message in hand", signal=signal.Signals(signum).name
            )
            self.stop.set()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def _should_stop(self) -> bool:
        """Asked between messages: the watchdog hears from a pass that is working."""
        self.notifier.heartbeat()
        self.watch()  # a long pass (a big catch-up) is looked at too
        return self.stop.is_set()

    def _pause(self, seconds: float) -> None:
        """Wait (for the stop flag) in slices, so the watchdog keeps hearing from the loop."""
        deadline = time.monotonic() + seconds
        while not self.stop.is_set() and time.monotonic() < deadline:
            self.notifier.heartbeat()
            self.stop.wait(min(WAIT_SLICE_SECONDS, max(0.0, deadline - time.monotonic())))

    def one_pass(self) -> Summary:
        """One catch-up pass; a lost watermark starts a full sync (markers prevent double work)."""
        with self._turn():
            try:
                summary = self.service.run_once(should_stop=self._should_stop)
            except WatermarkExpired as exc:
                self.log.warning("watermark expired, starting a full sync", reason=str(exc))
                self.service.store.clear_watermark(WATERMARK)
                summary = self.service.run_once(should_stop=self._should_stop)
            if self.callbacks is not None:
                # Booking mails and meeting responses were just recorded: taken up at once.
                self.callbacks.run_once(should_stop=self._should_stop)
        self.total.add(summary)
        if self.health is not None:
            self.health.passed(summary)
        self._quarantined(summary.reasons.get(Reason.QUARANTINED, 0))
        self.watch(now=True)
        if self.on_pass is not None:
            self.on_pass(summary)
        return summary

    def pending(self) -> bool:
        """Whether acknowledgements, marks, meetings or replies wait to be done."""
        return self.service.has_pending() or (
            self.callbacks is not None and self.callbacks.has_pending()
        )

    def _unavailable(self, exc: MailboxUnavailable, retry_in: float) -> None:
        """Report loudly: a refused credential is an administrator's job, not a passing fault."""
        if isinstance(exc, CredentialsRejected):
            self.log.error(
                "the server refuses the service's credentials; nothing is handled until they are fixed",
                code=exc.code,
                error=str(exc),
                retry_in=retry_in,
            )
            if self.health is not None:
                self.health.credentials_refused(f"credentials refused: {exc}")
            elif self.service.alerts is not None:
                self.service.alerts.raise_alert("credentials", detail=str(exc))
            self.watch(now=True)
            return
        self.log.warning("mailbox unavailable", error=str(exc), retry_in=retry_in)
        if self.health is not None:
            self.health.degraded(f"mailbox unavailable: {exc}")
        self.watch(now=True)

    def drain(self, max_seconds: float = 600.0) -> Summary:
        """`--once`: work until nothing is pending (retrying transient failures), then return."""
        deadline = time.monotonic() + max_seconds
        delay = RETRY_START_SECONDS
        while not self.stop.is_set():
            try:
                summary = self.one_pass()
            except MailboxUnavailable as exc:
                self._unavailable(exc, delay)
            else:
                if not self.pending():
                    self.track()
                    break
                if summary.sent or summary.marked:
                    delay = RETRY_START_SECONDS  # progress: the trouble is passing
                    continue
            if time.monotonic() + delay > deadline:
                self.log.error("giving up draining: work is still pending", pending=self.pending())
                break
            self.stop.wait(delay)
            delay = min(delay * 2, DRAIN_RETRY_MAX_SECONDS)
        return self.total

    def run_forever(self) -> Summary:
        # Imported here: `run --once` never schedules, and `run` starts faster without it.
        from apscheduler.schedulers.background import BackgroundScheduler

        from topcontact_mail.entrypoints.retention_job import schedule_purge

        scheduler = BackgroundScheduler(timezone=self.settings.calendar.timezone)
        scheduler.add_job(
            self.sync_due.set,
            "interval",
            seconds=self.settings.service.sync_interval_seconds,
            id="safety-net-sync",
            max_instances=1,
            coalesce=True,
        )
        if self.tracking is not None:
            scheduler.add_job(
                self.tracking_due.set,
                "interval",
                seconds=self.settings.tracking.observe_interval_seconds,
                id="tracking-observe",
                max_instances=1,
                coalesce=True,
            )
        schedule_purge(scheduler, self.settings, self.service.store)  # retention, every night
        self._scheduler = scheduler
        scheduler.start()
        self.log.info(
            "daemon started",
            backend=self.settings.connection.backend,
            dry_run=self.settings.service.dry_run,
        )
        self.notifier.ready(f"watching {self.settings.connection.shared_mailbox}")
        delay = RETRY_START_SECONDS
        retry_at = 0.0  # when pending work that made no progress is tried again
        self.sync_due.set()
        self.tracking_due.set()  # the schedule follows from the state: look at once
        try:
            while not self.stop.is_set():
                self.notifier.heartbeat()
                self.watch()
                try:
                    changed = self.mailbox.wait_for_changes(WAIT_SLICE_SECONDS)
                    retry_due = time.monotonic() >= retry_at and self.pending()
                    callbacks_due = self.callbacks is not None and self.callbacks.due()
                    if changed or self.sync_due.is_set() or retry_due or callbacks_due:
                        self.sync_due.clear()
                        summary = self.one_pass()
                        if self.pending() and not (summary.sent or summary.marked):
                            retry_at = time.monotonic() + delay
                            delay = min(delay * 2, RETRY_MAX_SECONDS)
                        else:
                            delay = RETRY_START_SECONDS
                    if self.tracking_due.is_set() and not self.stop.is_set():
                        self.tracking_due.clear()
                        self.track()
                except MailboxUnavailable as exc:
                    self._unavailable(exc, delay)
                    self.notifier.status(f"mailbox unavailable, retrying in {delay:.0f} s")
                    self._pause(delay)
                    delay = min(delay * 2, RETRY_MAX_SECONDS)
        finally:
            self.notifier.stopping()
            self._scheduler = None
            scheduler.shutdown(wait=False)
            self.log.info("daemon stopped", **_summary_fields(self.total))
        return self.total


def _summary_fields(summary: Summary) -> dict[str, Any]:
    return {
        "seen": summary.seen,
        "recorded": summary.recorded,
        "sent": summary.sent,
        "marked": summary.marked,
        "failed": summary.failed,
    }
