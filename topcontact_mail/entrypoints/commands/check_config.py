"""`topcontact-mail check-config`: validate the configuration and show what is in effect."""

from __future__ import annotations

import json
from pathlib import Path

import click

from topcontact_mail.config import ConfigError, masked, resolve_config_path
from topcontact_mail.entrypoints.common import config_option, fail, settings_or_exit


@click.command("check-config")
@config_option
def check_config(config_path: Path | None) -> None:
    """Validate the configuration and print it as JSON with secrets masked.

    With `[[mailboxes]]` every mailbox is checked (its sections over the top level's, its
    templates), a problem names the mailbox at fault, and each mailbox's effective
    configuration is printed under `effective_mailboxes`. Exit status 0 when the
    configuration is valid, 2 when it is not (the message names the key and the problem,
    never a secret's value).

    \b
    Example:
      topcontact-mail check-config --config /etc/topcontact-mail/topcontact.toml
    """
    from topcontact_mail.entrypoints.mailboxes import check_mailbox

    settings = settings_or_exit(config_path, connects=True)
    try:
        for one in settings.mailbox_settings():
            check_mailbox(one)
    except ConfigError as exc:
        fail(str(exc))
    file, required = resolve_config_path(config_path)
    origin = str(file) if file is not None and (required or file.exists()) else "built-in defaults"
    click.echo(f"# configuration OK ({origin}); secrets are shown as ********", err=True)
    shown = masked(settings)
    if settings.mailboxes:
        shown["effective_mailboxes"] = [masked(one) for one in settings.mailbox_settings()]
    click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
