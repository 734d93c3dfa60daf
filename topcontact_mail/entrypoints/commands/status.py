"""`topcontact-mail status`: where the promises stand now, for a team lead, in ten seconds.

From the state store only (it works while the mailbox is away): the open
messages with their due moment and state, worst first, the counts, and the
callbacks planned and missed. Exit status: 0 nothing is late, 1 something is
(an overdue message or a missed callback), 2 configuration or state unusable.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from topcontact_mail.config import Settings
from topcontact_mail.domain.calendar import BusinessCalendar
from topcontact_mail.domain.dates import clock, short_day
from topcontact_mail.domain.tracking import SchedulePolicy, TargetState
from topcontact_mail.entrypoints import wiring
from topcontact_mail.entrypoints.common import (
    EXIT_FOUND,
    Problem,
    config_option,
    every_mailbox,
    exit_with,
    mailbox_key,
    mailbox_option,
    settings_or_exit,
)
from topcontact_mail.entrypoints.state import moment, state_or_problem
from topcontact_mail.reports.status import Status, status, status_dict

EXIT_LATE = EXIT_FOUND
_LABEL = {
    TargetState.OVERDUE: ("te laat", "bold red"),
    TargetState.WARNING: ("waarschuwing", "yellow"),
    TargetState.ON_TIME: ("op tijd", "green"),
}


def _when(value: datetime) -> str:
    return f"{short_day(value.date())} {clock(value)}"


def headline(view: Status) -> Text:
    """The counts in one line, red when something is late."""
    return Text(
        f"Top Contact, stand op {_when(view.as_of)}: "
        f"{view.overdue} te laat, {view.warning} waarschuwing, {view.on_time} op tijd"
        f" ({view.answered_today} vandaag beantwoord)",
        style="bold red" if view.overdue else "bold",
    )


def status_table(view: Status) -> Table:
    """The open messages, worst first."""
    table = Table()
    for column in ("Status", "Antwoord vóór", "Ontvangen", "Van"):
        table.add_column(column, no_wrap=True)
    for row in view.rows:
        label, style = _LABEL[row.state]
        if row.workdays_overdue:
            days = row.workdays_overdue
            label += f", {days} werkdag{'en' if days > 1 else ''}"
        sender = row.sender or "?"
        if row.joined:
            sender += f" (+{len(row.joined)} later bericht{'en' if len(row.joined) > 1 else ''})"
        table.add_row(Text(label, style=style), _when(row.answer_by), _when(row.received), sender)
    if not view.rows:
        table.add_row(Text("niets open", style="green"), "", "", "")
    return table


def callbacks_headline(view: Status) -> Text:
    missed = len(view.callbacks_missed)
    return Text(
        f"Terugbellen: {len(view.callbacks_planned)} gepland, {missed} gemist",
        style="bold red" if missed else "bold",
    )


def callbacks_table(view: Status) -> Table:
    table = Table()
    for column in ("Status", "Moment", "Collega"):
        table.add_column(column, no_wrap=True)
    for c in view.callbacks_missed:
        table.add_row(Text("gemist", style="bold red"), _when(c.slot_start), c.colleague)
    for c in view.callbacks_planned:
        table.add_row("gepland", _when(c.slot_start), c.colleague)
    if not (view.callbacks_missed or view.callbacks_planned):
        table.add_row("geen", "", "")
    return table


def print_status(console: Console, view: Status) -> None:
    console.print(headline(view))
    console.print(status_table(view))
    console.print(callbacks_headline(view))
    console.print(callbacks_table(view))


def mailbox_status(
    settings: Settings, as_of: str | None
) -> tuple[Status, BusinessCalendar] | Problem:
    """One mailbox's status from its state (`settings` is the mailbox's own)."""
    calendar = settings.calendar.build()
    now = moment(as_of, calendar)
    store = state_or_problem(settings)
    if isinstance(store, Problem):
        return store
    try:
        view = status(
            store.targets(),
            wiring.callback_source(settings, store).tracked_callbacks(),
            now,
            calendar,
            SchedulePolicy(warn_workdays_before=settings.tracking.warn_workdays_before),
        )
    finally:
        store.close()
    return view, calendar


@click.command()
@config_option
@mailbox_option("every")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (stable keys).")
@click.option(
    "--as-of", default=None, metavar="ISO", help="The moment to show (default: now; local time)."
)
def status_command(
    config_path: Path | None, only: str | None, as_json: bool, as_of: str | None
) -> None:
    """Open messages with their due moment and state (on time, warning, overdue), and the
    callbacks planned and missed, from the state store.

    With [[mailboxes]]: every mailbox, each under its address (--json: one object keyed by
    the address), unless --mailbox names one.

    Exit status 0 when nothing is late, 1 when a message is overdue or a callback was
    missed (in any mailbox shown), 2 when the configuration or a state file cannot be used
    (the other mailboxes are still shown).

    \b
    Examples:
      topcontact-mail status --config /etc/topcontact-mail/topcontact.toml
      topcontact-mail status --json | jq .counts
      topcontact-mail status --mailbox verhuur@example.nl
    """
    settings = settings_or_exit(config_path)
    chosen = every_mailbox(settings, only)
    console = Console()
    if not console.is_terminal:
        console.width = 160  # a file or pipe gets whole rows
    statuses: list[int] = []
    found: dict[str, dict[str, Any] | Problem] = {}
    for one in chosen.mailboxes:
        result = mailbox_status(one, as_of)
        if isinstance(result, Problem):
            found[mailbox_key(one)] = result
            if not as_json:
                chosen.heading(one)
            statuses.append(chosen.problem(one, result))
            continue
        view, calendar = result
        statuses.append(EXIT_LATE if view.needs_attention else 0)
        if as_json:
            found[mailbox_key(one)] = status_dict(view, calendar)
        else:
            chosen.heading(one)
            print_status(console, view)
    if as_json:
        chosen.echo_json(found)
    exit_with(statuses)
