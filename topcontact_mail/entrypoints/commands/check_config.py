"""`topcontact-mail check-config`: validate the configuration and show what is in effect."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from topcontact_mail.config import ConfigError, Settings, masked, resolve_config_path
from topcontact_mail.entrypoints.common import (
    EXIT_USAGE,
    Chosen,
    Problem,
    config_option,
    configuration,
    every_mailbox,
    mailbox_key,
    mailbox_option,
)


def _origin(config_path: Path | None) -> str:
    file, required = resolve_config_path(config_path)
    return str(file) if file is not None and (required or file.exists()) else "built-in defaults"


def _checked(settings: Settings | Problem, only: str | None) -> Chosen | Problem:
    """The chosen mailboxes when each is fit to run (its backend's section, its templates), or
    the first problem, naming the mailbox."""
    from topcontact_mail.entrypoints.mailboxes import check_mailbox

    if isinstance(settings, Problem):
        return settings
    try:
        if only is not None:
            settings.for_mailbox(only)  # an unknown address is a verdict too (with --json)
        chosen = every_mailbox(settings, only)
        for one in chosen.mailboxes:
            check_mailbox(one)
    except ConfigError as exc:
        return Problem(str(exc))
    return chosen


@click.command("check-config")
@config_option
@mailbox_option("every")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='One JSON verdict: {"valid", "file", "problem", "mailboxes": {address: settings}}.',
)
def check_config(config_path: Path | None, only: str | None, as_json: bool) -> None:
    """Validate the configuration and print it as JSON with secrets masked.

    With `[[mailboxes]]` every mailbox is checked (its sections over the top level's, its
    templates), a problem names the mailbox at fault, and each mailbox's effective
    configuration is printed under `effective_mailboxes`; --mailbox checks and prints only
    that one's. --json prints a verdict a script can read, also when the configuration is
    not valid. Exit status 0 when the configuration is valid, 2 when it is not (the message
    names the key and the problem, never a secret's value).

    \b
    Examples:
      topcontact-mail check-config --config /etc/topcontact-mail/topcontact.toml
      topcontact-mail check-config --json | jq .valid
      topcontact-mail check-config --mailbox verhuur@example.nl
    """
    settings = configuration(config_path, connects=True)
    chosen = _checked(settings, only)
    origin = _origin(config_path)
    if as_json:
        verdict: dict[str, Any] = {"valid": False, "file": origin, "problem": None, "mailboxes": {}}
        if isinstance(chosen, Problem):
            verdict["problem"] = chosen.text
        else:
            verdict["valid"] = True
            verdict["mailboxes"] = {mailbox_key(one): masked(one) for one in chosen.mailboxes}
        click.echo(json.dumps(verdict, indent=2, ensure_ascii=False))
    if isinstance(chosen, Problem):
        click.echo(f"topcontact-mail: {chosen.text}", err=True)
        raise SystemExit(EXIT_USAGE)
    if as_json:
        return
    assert isinstance(settings, Settings)  # no problem: the configuration was loaded
    click.echo(f"# configuration OK ({origin}); secrets are shown as ********", err=True)
    if only is not None:
        shown = masked(chosen.mailboxes[0])
    else:
        shown = masked(settings)
        if settings.mailboxes:
            shown["effective_mailboxes"] = [masked(one) for one in settings.mailbox_settings()]
    click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
