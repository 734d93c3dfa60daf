"""`topcontact-mail run`: the daemon, or one draining pass with `--once`."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

import click

from topcontact_mail.adapters.progress import progress_for
from topcontact_mail.adapters.sqlite_store import StoreError
from topcontact_mail.adapters.texts import TemplateProblem, TextRenderer
from topcontact_mail.entrypoints.common import config_option, fail, settings_or_exit
from topcontact_mail.entrypoints.daemon import RETRY_MAX_SECONDS, RETRY_START_SECONDS, Daemon
from topcontact_mail.entrypoints.health import Health, serve_health
from topcontact_mail.entrypoints.systemd import Notifier
from topcontact_mail.entrypoints.wiring import build_daemon, open_mailbox, open_store
from topcontact_mail.logs import configure_logging, get_logger
from topcontact_mail.ports import CredentialsRejected, MailboxUnavailable

#: How long `--once` keeps trying to connect (the back-off doubles up to this) before giving up.
ONCE_CONNECT_PATIENCE = 30.0


def _stop_on_signals(stop: threading.Event, log: Any) -> None:
    """SIGTERM and SIGINT let the message in hand finish, then the process ends (status 0)."""

    def handler(signum: int, _: FrameType | None) -> None:
        log.info(
            "stop requested; finishing the message in hand", signal=signal.Signals(signum).name
        )
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


@click.command()
@config_option
@click.option(
    "--once",
    is_flag=True,
    help="Drain what is there (send, mark, retry), make one tracking pass, and exit.",
)
def run(config_path: Path | None, once: bool) -> None:
    """Watch the shared mailbox: acknowledge, flag and record every new message, and keep the
    promise (warnings, escalations, the daily overview).

    Exit status 0 when done, 1 when work is left (with --once) or the mailbox cannot be
    reached, 2 for an invalid configuration.

    \b
    Example:
      topcontact-mail run --config /etc/topcontact-mail/topcontact.toml --once
    """
    settings = settings_or_exit(config_path, connects=True)
    configure_logging(settings.service.log_level)
    log = get_logger("run")
    try:
        TextRenderer.from_settings(settings).check()
    except TemplateProblem as exc:
        fail(str(exc))
    try:
        store = open_store(settings)
    except StoreError as exc:
        fail(str(exc))
    health = Health()
    try:
        serve_health(settings.service.health_listen, health)
    except OSError as exc:
        fail(
            f"cannot serve health on {settings.service.health_listen} ({exc.strerror}); set service.health_listen"
        )
    notifier = Notifier()
    stop = threading.Event()
    _stop_on_signals(stop, log)
    # Started as far as systemd is concerned: a mailbox that cannot be reached yet is the
    # daemon's to keep trying (its status says so), not a start-up that times out and loops.
    notifier.ready(f"connecting to {settings.connection.shared_mailbox}")
    delay = RETRY_START_SECONDS
    while True:
        if stop.is_set():
            notifier.stopping()
            store.close()
            return
        try:
            mailbox = open_mailbox(settings)
            break
        except MailboxUnavailable as exc:
            if once and (isinstance(exc, CredentialsRejected) or delay > ONCE_CONNECT_PATIENCE):
                log.error("cannot reach the mailbox", error=str(exc))
                raise SystemExit(1) from None
            # A daemon keeps trying instead of crash-looping under systemd, and says why.
            if isinstance(exc, CredentialsRejected):
                log.error(
                    "the server refuses the service's credentials", code=exc.code, error=str(exc)
                )
                health.credentials_refused(str(exc))
            else:
                log.warning("cannot reach the mailbox yet", error=str(exc), retry_in=delay)
                health.degraded(f"cannot reach the mailbox: {exc}")
            notifier.status(f"cannot reach the mailbox, retrying in {delay:.0f} s")
            deadline = time.monotonic() + delay
            while not stop.is_set() and time.monotonic() < deadline:
                notifier.heartbeat()
                stop.wait(min(1.0, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, RETRY_MAX_SECONDS)
    try:
        daemon = build_daemon(
            settings,
            mailbox,
            store,
            kind=Daemon,
            health=health,
            notifier=notifier,
            # A backlog caught up shows a bar on a terminal, a log line every few seconds off one.
            progress=progress_for(settings.service.progress_interval_seconds),
        )
    except MailboxUnavailable as exc:
        mailbox.close()
        store.close()
        fail(f"cannot open the callback mailbox {settings.callbacks.mailbox}: {exc}")
    daemon.stop = stop
    try:
        summary = daemon.drain() if once else daemon.run_forever()
        tracking_left = (daemon.tracking is not None and daemon.tracking.has_pending()) or (
            daemon.last_tracking is not None and daemon.last_tracking.interrupted
        )
        unfinished = once and (daemon.pending() or tracking_left)
    finally:
        daemon.close()
        mailbox.close()
        store.close()
    log.info(
        "done", seen=summary.seen, sent=summary.sent, marked=summary.marked, failed=summary.failed
    )
    if unfinished:
        raise SystemExit(1)
