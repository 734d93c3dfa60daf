"""Helpers every command shares: loading the configuration and failing cleanly."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click

from topcontact_mail.config import ConfigError, Settings, load_settings, resolve_config_path

#: Exit status for bad input or configuration, as the issues and the admin guide promise.
EXIT_USAGE = 2

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Configuration file (default: $TOPCONTACT_CONFIG or config/topcontact.toml).",
)


def fail(message: str) -> NoReturn:
    click.echo(f"topcontact-mail: {message}", err=True)
    raise SystemExit(EXIT_USAGE)


def settings_or_exit(path: Path | None, *, connects: bool = False) -> Settings:
    """The validated configuration, or a clear message and exit status 2 (never a traceback).

    `connects`: the command talks to Exchange, so the backend's section must be there.
    """
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        fail(str(exc))
    if not connects:
        return settings
    several = bool(settings.mailboxes)
    for one in settings.mailbox_settings():
        problem = one.connection.missing_section()
        if problem is not None:
            file, required = resolve_config_path(path)
            origin = str(file) if file is not None and (required or file.exists()) else "defaults"
            if several:
                origin += f": mailboxes ({one.connection.shared_mailbox})"
            fail(f"{origin}: the configuration is not valid:\n  connection: {problem}")
    return settings
