"""Helpers every command shares: loading the configuration, choosing the mailboxes, failing cleanly.

Every command that reads or writes a mailbox or its state takes `--mailbox ADDRESS`
(`mailbox_option`) and resolves it here, so the option means the same everywhere:

- a command that acts on one mailbox (`one_mailbox`) uses the one configured, or the one
  named; with several configured it must be named;
- a command that can act on every mailbox (`every_mailbox`) does so unless one is named,
  and then groups its output per mailbox: a heading per mailbox, `--json` keyed by the
  mailbox's address (one object), or a `"mailbox"` key on each line (JSON lines);
- an address that is not configured is exit status 2, naming the configured ones.

A mailbox whose part cannot be done (no state file yet, say) is a `Problem`: the command
says so, goes on with the other mailboxes and ends with exit status 2.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NoReturn, TypeVar

import click

from topcontact_mail.config import ConfigError, Settings, load_settings, resolve_config_path
from topcontact_mail.entrypoints.shared_store import (
    mailbox_key as mailbox_key,  # re-exported: one key
)

#: Exit status for bad input or configuration, as the issues and the admin guide promise.
EXIT_USAGE = 2
#: Exit status for problems found (something late, a right missing, work left).
EXIT_FOUND = 1

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Configuration file (default: $TOPCONTACT_CONFIG or config/topcontact.toml).",
)

_F = TypeVar("_F", bound=Callable[..., Any])

_MAILBOX_HELP = {
    "every": "Only this mailbox (its address in [[mailboxes]]); default: every configured mailbox.",
    "one": "The mailbox (its address in [[mailboxes]]); needed when several are configured.",
}


def mailbox_option(scope: Literal["one", "every"]) -> Callable[[_F], _F]:
    """`--mailbox ADDRESS`, as every command that reads or writes a mailbox takes it; the
    command's parameter is `only`. `scope` says what the command does without it."""
    return click.option(
        "--mailbox", "only", metavar="ADDRESS", default=None, help=_MAILBOX_HELP[scope]
    )


def fail(message: str) -> NoReturn:
    click.echo(f"topcontact-mail: {message}", err=True)
    raise SystemExit(EXIT_USAGE)


@dataclass(frozen=True)
class Problem:
    """Why one mailbox's part of a command could not be done (exit status 2)."""

    text: str


def configuration(path: Path | None, *, connects: bool = False) -> Settings | Problem:
    """The validated configuration, or what is wrong with it (the file, the key, never a secret).

    `connects`: the command talks to Exchange, so every mailbox's backend section must be there.
    """
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        return Problem(str(exc))
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
            return Problem(f"{origin}: the configuration is not valid:\n  connection: {problem}")
    return settings


def settings_or_exit(path: Path | None, *, connects: bool = False) -> Settings:
    """The validated configuration, or a clear message and exit status 2 (never a traceback)."""
    settings = configuration(path, connects=connects)
    if isinstance(settings, Problem):
        fail(settings.text)
    return settings


# -- which mailboxes a command acts on -----------------------------------------------------------


@dataclass(frozen=True)
class Chosen:
    """The mailboxes a command acts on; `grouped`: every mailbox of a `[[mailboxes]]`
    configuration, so the output is per mailbox (also when only one table is there, so a
    script's view stays the same when a second is added)."""

    mailboxes: tuple[Settings, ...]
    grouped: bool

    def label(self, settings: Settings, text: str) -> str:
        """`text` about `settings`'s mailbox, naming it when the output covers several."""
        return f"mailbox {mailbox_key(settings)}: {text}" if self.grouped else text

    def heading(self, settings: Settings) -> None:
        """The line that opens a mailbox's part of grouped human output."""
        if self.grouped:
            click.echo(f"== {mailbox_key(settings)}")

    def problem(self, settings: Settings, problem: Problem) -> int:
        """Say on standard error what kept the mailbox's part from being done; exit status 2."""
        click.echo(f"topcontact-mail: {self.label(settings, problem.text)}", err=True)
        return EXIT_USAGE

    @staticmethod
    def keyed(objects: Mapping[str, dict[str, Any] | Problem]) -> dict[str, dict[str, Any]]:
        """Grouped JSON: each mailbox's object under its address, a mailbox that could not be
        done as `{"error": ...}`."""
        return {
            key: {"error": value.text} if isinstance(value, Problem) else value
            for key, value in objects.items()
        }

    def echo_json(self, objects: Mapping[str, dict[str, Any] | Problem]) -> None:
        """One JSON object: the mailbox's own, or (grouped) `keyed`."""
        if self.grouped:
            click.echo(json.dumps(self.keyed(objects), ensure_ascii=False))
            return
        for value in objects.values():
            if not isinstance(value, Problem):
                click.echo(json.dumps(value, ensure_ascii=False))

    def json_line(self, settings: Settings, data: dict[str, Any]) -> str:
        """One line of JSON lines output; grouped, it names its mailbox (`"mailbox"` first)."""
        if self.grouped:
            data = {"mailbox": mailbox_key(settings), **data}
        return json.dumps(data, ensure_ascii=False)


def _named(settings: Settings, address: str) -> Settings:
    try:
        return settings.for_mailbox(address)
    except ConfigError as exc:
        fail(str(exc))


def every_mailbox(settings: Settings, only: str | None) -> Chosen:
    """Every configured mailbox, or the one `--mailbox` names (exit status 2 when it is not
    configured, naming the ones that are)."""
    if only is None:
        return Chosen(settings.mailbox_settings(), grouped=bool(settings.mailboxes))
    return Chosen((_named(settings, only),), grouped=False)


def one_mailbox(settings: Settings, only: str | None) -> Settings:
    """The mailbox `--mailbox` names, or the only one configured; with several and none
    named, exit status 2 naming them."""
    if only is not None:
        return _named(settings, only)
    every = settings.mailbox_settings()
    if len(every) > 1:
        known = ", ".join(one.connection.shared_mailbox for one in every)
        fail(f"{len(every)} mailboxes are configured: name one with --mailbox ADDRESS ({known})")
    return every[0]


def exit_with(statuses: Iterable[int]) -> None:
    """End with the worst status of the mailboxes' parts: 2 over 1 over 0."""
    worst = max(statuses, default=0)
    if worst:
        raise SystemExit(worst)
