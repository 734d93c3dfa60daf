"""`topcontact-mail run`: the daemon for every configured mailbox, or one draining pass with `--once`."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

import click

from topcontact_mail.adapters.progress import progress_for
from topcontact_mail.adapters.retry import waiting_as
from topcontact_mail.adapters.sqlite_store import StoreError
from topcontact_mail.config import ConfigError, Settings
from topcontact_mail.entrypoints.common import (
    config_option,
    fail,
    mailbox_option,
    settings_or_exit,
)
from topcontact_mail.entrypoints.daemon import RETRY_MAX_SECONDS, RETRY_START_SECONDS
from topcontact_mail.entrypoints.health import Health, serve_health
from topcontact_mail.entrypoints.mailboxes import (
    MeteredMailbox,
    Supervisor,
    build_daemon,
    check_mailbox,
    lag_limit,
    mailbox_key,
    open_callback_parts,
    select,
)
from topcontact_mail.entrypoints.systemd import Notifier
from topcontact_mail.entrypoints.wiring import open_mailbox, open_store
from topcontact_mail.logs import configure_logging, get_logger
from topcontact_mail.ports import CredentialsRejected, MailboxUnavailable

#: How long `--once` keeps trying to connect (the back-off doubles up to this) before giving up.
ONCE_CONNECT_PATIENCE = 30.0


def _on_signals(stop: threading.Event, reload: threading.Event | None, log: Any) -> None:
    """SIGTERM and SIGINT let the message in hand finish, then the process ends (status 0);
    SIGHUP reads the configuration again (the daemon; `--once` ignores it)."""

    def handler(signum: int, _: FrameType | None) -> None:
        log.info(
            "stop requested; finishing the message in hand", signal=signal.Signals(signum).name
        )
        stop.set()

    def hangup(signum: int, _: FrameType | None) -> None:
        if reload is None:
            log.info("SIGHUP ignored: --once reads its configuration once")
        else:
            reload.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGHUP, hangup)


@click.command()
@config_option
@click.option(
    "--once",
    is_flag=True,
    help="Drain what is there (send, mark, retry), make one tracking pass, and exit.",
)
@mailbox_option("every")
def run(config_path: Path | None, once: bool, only: str | None) -> None:
    """Watch the shared mailboxes: acknowledge, flag and record every new message, and keep the
    promise (warnings, escalations, the daily overview). SIGHUP reloads the configuration and
    the templates (an invalid one is refused and the old one keeps running). With
    [[mailboxes]]: every mailbox, each on a thread of its own, unless --mailbox names one.

    Exit status 0 when done, 1 when work is left (with --once) or the mailbox cannot be
    reached, 2 for an invalid configuration.

    \b
    Examples:
      topcontact-mail run --config /etc/topcontact-mail/topcontact.toml --once
      topcontact-mail run --config /etc/topcontact-mail/topcontact.toml --mailbox verhuur@example.nl
    """
    settings = settings_or_exit(config_path, connects=True)
    configure_logging(settings.service.log_level)
    log = get_logger("run")
    try:
        mailboxes = select(settings, only)
        for one in mailboxes:
            check_mailbox(one)
    except ConfigError as exc:
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
    if once:
        _on_signals(stop, None, log)
        unfinished = False
        for one in mailboxes:
            if stop.is_set():
                break
            with waiting_as(notifier.heartbeat, stop.is_set):  # a long back-off hears a stop
                unfinished = (
                    _drain(one, health, notifier, stop, several=len(mailboxes) > 1) or unfinished
                )
        if unfinished:
            raise SystemExit(1)
        return
    supervisor = Supervisor(
        settings, config_path=config_path, only=only, health=health, notifier=notifier, stop=stop
    )
    # Before the states open (a lease may take a while): a signal meanwhile waits for the loop.
    _on_signals(stop, supervisor.reload_due, log)
    try:
        supervisor.open(mailboxes)
    except StoreError as exc:
        fail(str(exc))
    # Started as far as systemd is concerned: a mailbox that cannot be reached yet is its
    # worker's to keep trying (the status says so), not a start-up that times out and loops.
    first = mailboxes[0].connection.shared_mailbox
    notifier.ready(
        f"connecting to {first}"
        if len(mailboxes) == 1
        else f"connecting to {len(mailboxes)} mailboxes"
    )
    supervisor.run()
    log.info("done", mailboxes=len(mailboxes))
    if supervisor.failed is not None:
        raise SystemExit(1)


def _drain(
    settings: Settings, health: Health, notifier: Notifier, stop: threading.Event, *, several: bool
) -> bool:
    """`--once` for one mailbox: drain, one tracking pass; True when work is left."""
    key = mailbox_key(settings)
    log = get_logger("run", mailbox=key)
    try:
        store = open_store(settings)
    except StoreError as exc:
        fail(f"mailbox {key}: {exc}" if several else str(exc))
    box = health.mailbox(key, lag_limit=lag_limit(settings))
    notifier.ready(f"connecting to {settings.connection.shared_mailbox}")
    delay = RETRY_START_SECONDS
    while True:
        if stop.is_set():
            notifier.stopping()
            store.close()
            return False
        try:
            mailbox = MeteredMailbox(open_mailbox(settings), box)
            box.connected()
            break
        except MailboxUnavailable as exc:
            if isinstance(exc, CredentialsRejected) or delay > ONCE_CONNECT_PATIENCE:
                log.error("cannot reach the mailbox", error=str(exc))
                store.close()
                if several:
                    return True  # the other mailboxes are drained all the same
                raise SystemExit(1) from None
            log.warning("cannot reach the mailbox yet", error=str(exc), retry_in=delay)
            box.degraded(f"cannot reach the mailbox: {exc}")
            notifier.status(f"cannot reach the mailbox, retrying in {delay:.0f} s")
            deadline = time.monotonic() + delay
            while not stop.is_set() and time.monotonic() < deadline:
                notifier.heartbeat()
                stop.wait(min(1.0, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, RETRY_MAX_SECONDS)
    try:
        parts = open_callback_parts(settings, mailbox)
    except MailboxUnavailable as exc:
        mailbox.close()
        store.close()
        fail(f"cannot open the callback mailbox {settings.callbacks.mailbox}: {exc}")
    daemon = build_daemon(
        settings,
        mailbox,
        store,
        callbacks=parts,
        health=box,
        notifier=notifier,
        # A backlog caught up shows a bar on a terminal, a log line every few seconds off one.
        progress=progress_for(settings.service.progress_interval_seconds),
    )
    daemon.stop = stop
    try:
        summary = daemon.drain()
        tracking = daemon.tracking
        tracking_left = (tracking is not None and tracking.has_pending()) or (
            daemon.last_tracking is not None and daemon.last_tracking.interrupted
        )
        unfinished = daemon.pending() or tracking_left
    finally:
        if parts is not None:
            parts.close(mailbox)
        mailbox.close()
        store.close()
    log.info(
        "done", seen=summary.seen, sent=summary.sent, marked=summary.marked, failed=summary.failed
    )
    return unfinished
