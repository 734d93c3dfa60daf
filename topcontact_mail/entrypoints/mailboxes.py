"""One or more shared mailboxes in one process: a mailbox's daemon, its thread, and their supervisor.

- `build_daemon` is the one way a mailbox's daemon is put together (the
  acknowledge service, the tracking, the callbacks when they are on), for `run`,
  `scale-out` and the demo.
- `MailboxWorker` runs one mailbox's daemon on a thread of its own: it connects
  (retrying, with the reason in `/health`), runs the loop until told to stop, and
  when the loop fails it logs, reports and starts it again after a back-off. One
  mailbox's trouble (unreachable, credentials refused, a crash) stays its own.
- `Supervisor` is `topcontact-mail run` without `--once`: a worker per
  configured mailbox, at most `service.max_concurrent_mailboxes` passes at the
  same moment, systemd's heartbeat only while every loop beats, and SIGHUP: the
  configuration read again; an invalid one is refused (a log line naming the
  problem, never a secret) and the old one keeps running; a valid one stops
  removed mailboxes, starts added ones and restarts changed ones (and those with
  their own templates, which may have changed), each between two messages.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from topcontact_mail.adapters.retry import waiting_as
from topcontact_mail.adapters.sqlite_store import StoreError
from topcontact_mail.adapters.texts import TemplateProblem, TextRenderer
from topcontact_mail.config import ConfigError, Settings, load_settings
from topcontact_mail.domain.message import Address
from topcontact_mail.entrypoints.daemon import RETRY_MAX_SECONDS, RETRY_START_SECONDS, Daemon
from topcontact_mail.entrypoints.health import Health, MailboxHealth
from topcontact_mail.entrypoints.systemd import LoopBeat, Notifier
from topcontact_mail.entrypoints.wiring import (
    build_callbacks,
    build_service,
    build_tracking,
    open_calendars,
    open_callback_mailbox,
    open_mailbox,
    open_store,
)
from topcontact_mail.logs import configure_logging, get_logger
from topcontact_mail.ports import (
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
from topcontact_mail.ports.calendar import CallbackBackend, ServiceStore
from topcontact_mail.ports.progress import Progress, no_progress

#: How long a mailbox's loop may take to finish the message in hand when told to stop.
STOP_PATIENCE_SECONDS = 60.0
#: How often the supervisor looks at its mailboxes (and beats for the watchdog).
SUPERVISE_SECONDS = 0.25


def mailbox_key(settings: Settings) -> str:
    """A mailbox's key: its address, lower-case (state, metrics, logs)."""
    return settings.connection.shared_mailbox.lower()


def lag_limit(settings: Settings) -> float:
    """After how long without a successful sync a mailbox counts as lagging."""
    service = settings.service
    return service.sync_lag_seconds or 3 * service.sync_interval_seconds


def check_mailbox(settings: Settings) -> None:
    """What `run` needs of a mailbox beyond a valid file: its backend's section and texts.

    Raises `ConfigError` naming the mailbox and the problem.
    """
    key = mailbox_key(settings)
    problem = settings.connection.missing_section()
    if problem is not None:
        raise ConfigError(
            f"mailbox {key}: the configuration is not valid:\n  connection: {problem}"
        )
    try:
        TextRenderer.from_settings(settings).check()
    except TemplateProblem as exc:
        raise ConfigError(f"mailbox {key}: {exc}") from None


def select(settings: Settings, only: str | None) -> tuple[Settings, ...]:
    """The mailboxes to serve: all configured, or the one `--mailbox` names."""
    if only is None:
        return settings.mailbox_settings()
    return (settings.for_mailbox(only),)


# -- counting the calls of the mailbox port ---------------------------------------------------


def _error_kind(exc: BaseException) -> str:
    if isinstance(exc, CredentialsRejected):
        return "credentials"
    if isinstance(exc, MailboxUnavailable):
        return "unreachable"
    if isinstance(exc, WatermarkExpired):
        return "watermark"
    return "other"


class MeteredMailbox:
    """The mailbox port, each call counted by operation for `/metrics` (and its failures)."""

    def __init__(self, inner: Mailbox, health: MailboxHealth) -> None:
        self.inner = inner
        self.health = health

    def __getattr__(self, name: str) -> Any:  # what an adapter offers beyond the port
        return getattr(self.inner, name)

    @property
    def address(self) -> Address:
        return self.inner.address

    def _call(self, operation: str, call: Callable[[], Any]) -> Any:
        try:
            result = call()
        except Exception as exc:
            self.health.call(operation, _error_kind(exc))
            raise
        self.health.call(operation)
        if isinstance(result, list):
            failed = sum(1 for r in result if isinstance(r, Outcome) and not r.ok)
            if failed:
                self.health.call(operation, "item", failed)
        return result

    def fetch_changes(self, watermark: str | None) -> ChangePage:
        result: ChangePage = self._call(
            "fetch_changes", lambda: self.inner.fetch_changes(watermark)
        )
        return result

    def read(self, item_ids: Sequence[str]) -> list[FetchedMessage]:
        result: list[FetchedMessage] = self._call("read", lambda: self.inner.read(item_ids))
        return result

    def send_acknowledgements(self, batch: Sequence[OutgoingAcknowledgement]) -> list[Outcome]:
        result: list[Outcome] = self._call(
            "send_acknowledgements", lambda: self.inner.send_acknowledgements(batch)
        )
        return result

    def sent_refs(self, refs: Collection[str], since: datetime) -> set[str]:
        result: set[str] = self._call("sent_refs", lambda: self.inner.sent_refs(refs, since))
        return result

    def mark(self, marks: Sequence[Mark]) -> list[Outcome]:
        result: list[Outcome] = self._call("mark", lambda: self.inner.mark(marks))
        return result

    def observe(self, watched: Sequence[Watched]) -> dict[str, Observed]:
        result: dict[str, Observed] = self._call("observe", lambda: self.inner.observe(watched))
        return result

    def send_notices(self, batch: Sequence[OutgoingNotice]) -> list[Outcome]:
        result: list[Outcome] = self._call("send_notices", lambda: self.inner.send_notices(batch))
        return result

    def send_notice(self, to: Address, subject: str, text: str) -> None:
        self._call("send_notice", lambda: self.inner.send_notice(to, subject, text))

    def wait_for_changes(self, timeout: float) -> bool:
        return self.inner.wait_for_changes(timeout)

    def close(self) -> None:
        self.inner.close()


# -- one mailbox's daemon ---------------------------------------------------------------------


@dataclass
class CallbackParts:
    """What callbacks connect to besides the shared mailbox; closed with the daemon."""

    calendars: CallbackBackend
    bookings: Mailbox

    def close(self, shared: Mailbox) -> None:
        if self.bookings is not shared:
            self.bookings.close()
        self.calendars.close()


def open_callback_parts(settings: Settings, mailbox: Mailbox) -> CallbackParts | None:
    """The calendars and the booking mailbox when callbacks are on (docs/callbacks.md)."""
    if not settings.callbacks.enabled:
        return None
    calendars = open_calendars(settings)
    try:
        bookings = open_callback_mailbox(settings, mailbox)
    except Exception:
        calendars.close()
        raise
    return CallbackParts(calendars, bookings)


def build_daemon(
    settings: Settings,
    mailbox: Mailbox,
    store: ServiceStore,
    *,
    callbacks: CallbackParts | None = None,
    health: MailboxHealth | None = None,
    notifier: Notifier | None = None,
    slots: threading.Semaphore | None = None,
    daemon_class: type[Daemon] = Daemon,
    progress: Progress = no_progress,
) -> Daemon:
    """A mailbox's daemon: the acknowledge service, the tracking and (with `callbacks`) the
    callbacks over `mailbox` and `store`; the one way `run`, `scale-out` and the demo make it.
    `progress` is told how a catch-up goes (`adapters.progress.progress_for`)."""
    tracking = build_tracking(settings, mailbox, store)
    booking = None
    if callbacks is not None:
        booking = build_callbacks(settings, callbacks.bookings, store, callbacks.calendars)
    return daemon_class(
        settings,
        build_service(settings, mailbox, store, tracking, progress),
        mailbox,
        health=health,
        tracking=tracking,
        notifier=notifier if notifier is not None else Notifier(environ={}),
        callbacks=booking,
        slots=slots,
    )


@dataclass
class MailboxWorker:
    """One mailbox's daemon on a thread: connect, run, restart after a failure, until stopped.

    `keep_going` is asked before connecting and restarting (scale-out: the lease still
    holds); an exception of `fatal` ends the worker (kept in `error`) instead of a restart.
    `prepare` sees the daemon before it runs (scale-out gives it the lease).
    """

    settings: Settings
    store: ServiceStore
    health: MailboxHealth | None = None
    slots: threading.Semaphore | None = None
    daemon_class: type[Daemon] = Daemon
    prepare: Callable[[Daemon], None] | None = None
    keep_going: Callable[[], bool] = lambda: True
    fatal: tuple[type[BaseException], ...] = ()
    with_callbacks: bool = True
    stop: threading.Event = field(default_factory=threading.Event)
    beat: LoopBeat = field(default_factory=LoopBeat)
    thread: threading.Thread | None = None
    ended: str = ""
    error: BaseException | None = None

    @property
    def key(self) -> str:
        return mailbox_key(self.settings)

    def start(self) -> MailboxWorker:
        self.thread = threading.Thread(target=self._run, name=f"mailbox-{self.key}", daemon=True)
        self.thread.start()
        return self

    @property
    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def join(self, timeout: float = STOP_PATIENCE_SECONDS) -> bool:
        """Wait for the loop to end (after `stop`); False when it did not in time."""
        if self.thread is not None:
            self.thread.join(timeout=timeout)
        return not self.alive

    def _wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stop.is_set() and time.monotonic() < deadline:
            self.beat.beat()
            self.stop.wait(min(1.0, max(0.0, deadline - time.monotonic())))

    def _connect(self) -> Mailbox | None:
        log = get_logger("mailbox", mailbox=self.key)
        delay = RETRY_START_SECONDS
        while not self.stop.is_set() and self.keep_going():
            try:
                mailbox = open_mailbox(self.settings)
            except MailboxUnavailable as exc:
                if self.health is not None:
                    self.health.call("connect", _error_kind(exc))
                if isinstance(exc, CredentialsRejected):
                    log.error(
                        "the server refuses the service's credentials",
                        code=exc.code,
                        error=str(exc),
                        retry_in=delay,
                    )
                    if self.health is not None:
                        self.health.credentials_refused(f"credentials refused: {exc}")
                else:
                    log.warning("cannot reach the mailbox yet", error=str(exc), retry_in=delay)
                    if self.health is not None:
                        self.health.degraded(f"cannot reach the mailbox: {exc}")
                self.beat.status(f"cannot reach the mailbox, retrying in {delay:.0f} s")
                self._wait(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
                continue
            if self.health is not None:
                self.health.call("connect")
                self.health.connected()
                return MeteredMailbox(mailbox, self.health)
            return mailbox
        return None

    def _run(self) -> None:
        # A back-off the server asked for beats like a loop turn and ends at a stop (the
        # watchdog would otherwise restart the whole process during a long one).
        with waiting_as(self.beat.beat, self.stop.is_set):
            self._serve()

    def _serve(self) -> None:
        log = get_logger("mailbox", mailbox=self.key)
        delay = RETRY_START_SECONDS
        try:
            while not self.stop.is_set() and self.keep_going():
                mailbox = self._connect()
                if mailbox is None:
                    break
                parts: CallbackParts | None = None
                started = time.monotonic()
                try:
                    if self.with_callbacks:
                        parts = open_callback_parts(self.settings, mailbox)
                    daemon = build_daemon(
                        self.settings,
                        mailbox,
                        self.store,
                        callbacks=parts,
                        health=self.health,
                        notifier=self.beat,
                        slots=self.slots,
                        daemon_class=self.daemon_class,
                    )
                    daemon.stop = self.stop
                    if self.prepare is not None:
                        self.prepare(daemon)
                    daemon.run_forever()
                    self.ended = "stopped"
                    return
                except self.fatal as exc:
                    self.error = exc
                    self.ended = f"{type(exc).__name__}: {exc}"
                    return
                except MailboxUnavailable as exc:
                    # The callback mailbox or the calendars could not be reached: a fault of
                    # the server, not of the loop; connected again after the back-off.
                    log.warning("cannot reach the mailbox yet", error=str(exc), retry_in=delay)
                    if self.health is not None:
                        if isinstance(exc, CredentialsRejected):
                            self.health.credentials_refused(f"credentials refused: {exc}")
                        else:
                            self.health.degraded(f"cannot reach the mailbox: {exc}")
                    self.ended = f"unreachable: {exc}"
                except Exception as exc:  # one mailbox's trouble must never stop the others
                    if time.monotonic() - started > RETRY_MAX_SECONDS:
                        delay = RETRY_START_SECONDS  # it ran a good while: a fresh failure
                    log.exception(
                        "the mailbox's loop failed; it starts again",
                        error=type(exc).__name__,
                        retry_in=delay,
                    )
                    if self.health is not None:
                        self.health.loop_failed(f"the loop failed: {type(exc).__name__}")
                    self.ended = f"failed: {type(exc).__name__}: {exc}"
                finally:
                    if parts is not None:
                        parts.close(mailbox)
                    mailbox.close()
                self.beat.status(f"starting again in {delay:.0f} s: {self.ended}")
                self._wait(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
            self.ended = self.ended or "stopped"
        finally:
            self.beat.stopping()


# -- `run`: the mailboxes of one configuration --------------------------------------------------


@dataclass
class Served:
    """A mailbox `run` serves: its settings, its state, its worker."""

    settings: Settings
    store: ServiceStore
    worker: MailboxWorker


class Supervisor:
    """`topcontact-mail run`: every configured mailbox on its worker, until SIGTERM (module doc)."""

    def __init__(
        self,
        settings: Settings,
        *,
        config_path: Path | None,
        only: str | None,
        health: Health,
        notifier: Notifier,
        stop: threading.Event,
    ) -> None:
        self.settings = settings
        self.config_path = config_path
        self.only = only
        self.health = health
        self.notifier = notifier
        self.stop = stop
        self.reload_due = threading.Event()
        self.slots = threading.BoundedSemaphore(settings.service.max_concurrent_mailboxes)
        self.served: dict[str, Served] = {}
        self.log = get_logger("run")
        #: Set when a mailbox's loop ended in a way the process must end for (a lost lease).
        self.failed: BaseException | None = None
        self._told = ""

    # -- start and stop ---------------------------------------------------------------------

    def open(self, mailboxes: Sequence[Settings]) -> None:
        """Open every mailbox's state (raises `StoreError` naming the mailbox; nothing stays
        open then)."""
        opened: dict[str, tuple[Settings, ServiceStore]] = {}
        try:
            for one in mailboxes:
                opened[mailbox_key(one)] = (one, self._open_store(one))
        except StoreError:
            for _, store in opened.values():
                store.close()
            raise
        for key, (one, store) in opened.items():
            self.served[key] = Served(one, store, self._worker(one, store))

    def _open_store(self, settings: Settings) -> ServiceStore:
        try:
            return open_store(settings)
        except StoreError as exc:
            if len(self.settings.mailbox_settings()) > 1:
                raise StoreError(f"mailbox {mailbox_key(settings)}: {exc}") from None
            raise

    def _worker(self, settings: Settings, store: ServiceStore) -> MailboxWorker:
        fatal: tuple[type[BaseException], ...] = ()
        if settings.service.store == "postgresql":
            # Its lease lost, `run` ends (status 1) and systemd starts it again to wait for it.
            from topcontact_mail.adapters.postgres import LeaseLost

            fatal = (LeaseLost,)
        return MailboxWorker(
            settings,
            store,
            health=self.health.mailbox(mailbox_key(settings), lag_limit=lag_limit(settings)),
            slots=self.slots,
            fatal=fatal,
        )

    def run(self) -> None:
        """Start every worker, supervise until `stop`, then stop them all (bounded)."""
        for served in self.served.values():
            served.worker.start()
        self.log.info(
            "serving",
            mailboxes=sorted(self.served),
            concurrent=self.settings.service.max_concurrent_mailboxes,
        )
        try:
            while not self.stop.is_set():
                if self.reload_due.is_set():
                    self.reload_due.clear()
                    self.reload()
                self._supervise()
                self.stop.wait(SUPERVISE_SECONDS)
        finally:
            self.notifier.stopping()
            self._stop_all(list(self.served))

    def _supervise(self) -> None:
        for key, served in self.served.items():
            worker = served.worker
            if worker.error is not None and self.failed is None:
                self.failed = worker.error
                self.log.error(
                    "a mailbox's loop ended; the process ends", mailbox=key, why=worker.ended
                )
                self.stop.set()
        self._heartbeat()
        self._tell_status()

    def _heartbeat(self) -> None:
        """WATCHDOG=1 only while every running loop has beaten within the watchdog's time."""
        interval = self.notifier.interval
        if interval is None:
            return
        now = time.monotonic()
        stalled = [
            key
            for key, s in self.served.items()
            if s.worker.alive
            and not s.worker.beat.ended
            and now - s.worker.beat.last_beat > 2 * interval
        ]
        if not stalled:
            self.notifier.heartbeat()

    def _tell_status(self) -> None:
        if len(self.served) == 1:
            (served,) = self.served.values()
            text = (
                served.worker.beat.last_status
                or f"connecting to {served.settings.connection.shared_mailbox}"
            )
        else:
            # As `/health` sees them: a loop's own status line is not cleared when it recovers.
            now = time.time()
            states = {key: self.health.mailbox(key).status(now) for key in self.served}
            working = sum(1 for state in states.values() if state == "ok")
            text = f"watching {working} of {len(self.served)} mailboxes"
            troubled = sorted(k for k, state in states.items() if state in ("degraded", "failing"))
            if troubled:
                text += f"; trouble: {', '.join(troubled)}"
        if text != self._told:
            self._told = text
            self.notifier.status(text)

    def _stop_all(self, keys: Collection[str]) -> None:
        """Stop these mailboxes' loops together (each finishes the message in hand), then close
        their state."""
        stopping = [self.served.pop(key) for key in keys if key in self.served]
        for served in stopping:
            served.worker.stop.set()
        deadline = time.monotonic() + STOP_PATIENCE_SECONDS
        for served in stopping:
            if not served.worker.join(timeout=max(0.0, deadline - time.monotonic())):
                self.log.warning("a mailbox's loop did not stop in time", mailbox=served.worker.key)
                continue  # its state stays open: the loop may still write
            served.store.close()

    # -- SIGHUP ---------------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the configuration again; apply it, or refuse it and keep the old one."""
        self.notifier.reloading()
        self.log.info("reloading the configuration")
        try:
            new = load_settings(self.config_path)
            wanted_list = select(new, self.only)
            for one in wanted_list:
                check_mailbox(one)
        except ConfigError as exc:
            self.health.reloaded(False)
            self.log.error(
                "the new configuration is refused; the old one keeps running", problem=str(exc)
            )
            self.notifier.reloaded(self._told)
            return
        self._warn_needs_restart(new)
        configure_logging(new.service.log_level)
        wanted = {mailbox_key(one): one for one in wanted_list}
        removed = [key for key in self.served if key not in wanted]
        changed = [
            key
            for key, one in wanted.items()
            if key in self.served
            and (one != self.served[key].settings or one.acknowledgement.templates_dir is not None)
        ]
        added = [key for key in wanted if key not in self.served]
        self._stop_all([*removed, *changed])
        for key in removed:
            self.health.forget(key)
        self.settings = new
        started, refused = [], []
        for key in [*changed, *added]:
            try:
                store = self._open_store(wanted[key])
            except StoreError as exc:
                refused.append(key)
                self.log.error(
                    "cannot open the mailbox's state; it is not served", mailbox=key, error=str(exc)
                )
                continue
            worker = self._worker(wanted[key], store)
            self.served[key] = Served(wanted[key], store, worker)
            worker.start()
            started.append(key)
        self.health.reloaded(True)
        self.log.info(
            "configuration reloaded",
            removed=removed,
            restarted=[k for k in changed if k in started],
            added=[k for k in added if k in started],
            not_served=refused,
        )
        self._told = ""
        self._tell_status()
        self.notifier.reloaded(self._told)

    def _warn_needs_restart(self, new: Settings) -> None:
        old = self.settings.service
        for name in ("health_listen", "max_concurrent_mailboxes", "store"):
            if getattr(old, name) != getattr(new.service, name):
                self.log.warning(
                    "takes effect at the next start, not at a reload", key=f"service.{name}"
                )
        if self.settings.postgresql != new.postgresql:
            self.log.warning("takes effect at the next start, not at a reload", key="postgresql")
