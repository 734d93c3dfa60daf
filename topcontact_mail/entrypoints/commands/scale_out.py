"""`topcontact-mail scale-out`: one of several instances sharing a folder of mailboxes by leases."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

import click

from topcontact_mail.adapters.sqlite_store import StoreError
from topcontact_mail.entrypoints.common import config_option, fail, settings_or_exit
from topcontact_mail.entrypoints.health import Health, serve_health
from topcontact_mail.entrypoints.systemd import Notifier
from topcontact_mail.logs import configure_logging, get_logger


@click.command("scale-out")
@config_option
def scale_out(config_path: Path | None) -> None:
    """Work the mailboxes of `[scale_out] mailboxes_dir` together with other instances: each
    mailbox by one instance at a time (a lease in the `[postgresql]` database), taken over
    when an instance stops or dies (docs/scale-out.md). `/health` and `/metrics` on
    `service.health_listen` show the mailboxes whose lease this instance holds.

    Exit status 0 after SIGTERM or SIGINT (the leases are given back), 2 for an invalid
    configuration or a database that cannot be used.

    \b
    Example:
      topcontact-mail scale-out --config /etc/topcontact-mail/instance.toml
    """
    from topcontact_mail.entrypoints.scale_out import Instance, ScaleOutError, load_mailboxes

    settings = settings_or_exit(config_path)
    if settings.service.store != "postgresql":
        fail(
            f"{config_path or 'the configuration'}: scale-out shares the mailboxes through the "
            'database: set [service] store = "postgresql" and the [postgresql] section'
        )
    configure_logging(settings.service.log_level)
    log = get_logger("scale-out")
    try:
        mailboxes = load_mailboxes(settings)
    except ScaleOutError as exc:
        fail(str(exc))
    health = Health()
    try:
        serve_health(settings.service.health_listen, health)
    except OSError as exc:
        fail(
            f"cannot serve health on {settings.service.health_listen} ({exc.strerror}); "
            "set service.health_listen (each instance on a machine its own port, or empty)"
        )
    stop = threading.Event()

    def handler(signum: int, _: FrameType | None) -> None:
        log.info("stop requested; giving the leases back", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    try:
        instance = Instance(settings, mailboxes, stop, Notifier(), health)
    except (StoreError, ScaleOutError) as exc:
        fail(str(exc))
    instance.run()
