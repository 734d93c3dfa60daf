"""`topcontact-mail run`: the daemon, or one draining pass with `--once`."""

from __future__ import annotations

import time
from pathlib import Path

import click

from topcontact_mail.adapters.sqlite_store import SqliteStore, StoreError
from topcontact_mail.adapters.texts import TemplateProblem, TextRenderer
from topcontact_mail.config import Settings
from topcontact_mail.entrypoints.common import config_option, fail, settings_or_exit
from topcontact_mail.entrypoints.daemon import RETRY_MAX_SECONDS, RETRY_START_SECONDS, Daemon
from topcontact_mail.entrypoints.health import Health, serve_health
from topcontact_mail.entrypoints.wiring import (
    build_callbacks,
    build_service,
    open_calendars,
    open_callback_mailbox,
    open_mailbox,
    open_store,
)
from topcontact_mail.logs import configure_logging, get_logger
from topcontact_mail.ports import CredentialsRejected, Mailbox, MailboxUnavailable
from topcontact_mail.ports.calendar import CallbackBackend
from topcontact_mail.services.callbacks import CallbackService

#: How long `--once` keeps trying to connect (the back-off doubles up to this) before giving up.
ONCE_CONNECT_PATIENCE = 30.0


@click.command()
@config_option
@click.option("--once", is_flag=True, help="Drain what is there (send, mark, retry) and exit.")
def run(config_path: Path | None, once: bool) -> None:
    """Watch the shared mailbox: acknowledge, flag and record every new message."""
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
    delay = RETRY_START_SECONDS
    while True:
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
            time.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)
    calendars, callbacks = _callbacks(settings, mailbox, store)
    daemon = Daemon(
        settings,
        build_service(settings, mailbox, store),
        mailbox,
        health=health,
        callbacks=callbacks,
    )
    daemon.install_signal_handlers()
    try:
        summary = daemon.drain() if once else daemon.run_forever()
        unfinished = once and daemon.pending()
    finally:
        if callbacks is not None and callbacks.mailbox is not mailbox:
            callbacks.mailbox.close()
        if calendars is not None:
            calendars.close()
        mailbox.close()
        store.close()
    log.info(
        "done", seen=summary.seen, sent=summary.sent, marked=summary.marked, failed=summary.failed
    )
    if unfinished:
        raise SystemExit(1)


def _callbacks(
    settings: Settings, mailbox: Mailbox, store: SqliteStore
) -> tuple[CallbackBackend | None, CallbackService | None]:
    """The callback service when callbacks are on (docs/callbacks.md); nothing connects before."""
    if not settings.callbacks.enabled:
        return None, None
    calendars = open_calendars(settings)
    try:
        bookings = open_callback_mailbox(settings, mailbox)
    except MailboxUnavailable as exc:
        fail(f"cannot open the callback mailbox {settings.callbacks.mailbox}: {exc}")
    return calendars, build_callbacks(settings, bookings, store, calendars)
