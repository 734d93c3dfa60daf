"""`topcontact-mail check-config`: validate the configuration and show what is in effect."""

from __future__ import annotations

import json
from pathlib import Path

import click

from topcontact_mail.config import masked, resolve_config_path
from topcontact_mail.entrypoints.common import config_option, settings_or_exit


@click.command("check-config")
@config_option
def check_config(config_path: Path | None) -> None:
    """Validate the configuration and print it as JSON with secrets masked.

    Exit status 0 when the configuration is valid, 2 when it is not (the
    message names the key and the problem, never a secret's value).

    \b
    Example:
      topcontact-mail check-config --config /etc/topcontact-mail/topcontact.toml
    """
    settings = settings_or_exit(config_path, connects=True)
    file, required = resolve_config_path(config_path)
    origin = str(file) if file is not None and (required or file.exists()) else "built-in defaults"
    click.echo(f"# configuration OK ({origin}); secrets are shown as ********", err=True)
    click.echo(json.dumps(masked(settings), indent=2, ensure_ascii=False))
