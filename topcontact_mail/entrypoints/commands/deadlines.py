"""`topcontact-mail deadlines`: when is something received at a given moment due?"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from topcontact_mail.domain.calendar import BusinessCalendar, ResponseTerms
from topcontact_mail.domain.dates import clock, long_date
from topcontact_mail.entrypoints.common import (
    EXIT_USAGE,
    config_option,
    every_mailbox,
    fail,
    mailbox_option,
    settings_or_exit,
)


def parse_timestamp(text: str, calendar: BusinessCalendar) -> datetime:
    """An ISO 8601 timestamp; one without an offset is local time in the calendar's zone."""
    value = text.strip()
    if value.endswith(("z", "Z")):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    return calendar.local(moment)


def terms_dict(terms: ResponseTerms) -> dict[str, str]:
    return {
        "received": terms.received.isoformat(),
        "reception_day": terms.reception_day.isoformat(),
        "acknowledge_by": terms.acknowledge_by.isoformat(),
        "answer_by": terms.answer_by.isoformat(),
        "callback_by": terms.callback_by.isoformat(),
    }


def terms_as_json(terms: ResponseTerms) -> str:
    return json.dumps(terms_dict(terms))


def _human(moment: datetime) -> str:
    return f"{long_date(moment.date())} {clock(moment)}"


def _inputs(timestamps: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(where, text) pairs; `-` reads standard input, one timestamp per line, blanks skipped."""
    for argument in timestamps:
        if argument == "-":
            for number, line in enumerate(sys.stdin, start=1):
                if line.strip():
                    yield f"stdin line {number}", line
        else:
            yield "argument", argument


def _compute(
    inputs: Iterable[tuple[str, str]], calendar: BusinessCalendar
) -> Iterator[ResponseTerms | str]:
    for where, text in inputs:
        try:
            yield calendar.terms(parse_timestamp(text, calendar))
        except ValueError:
            yield (
                f"{where}: {text.strip()!r} is not an ISO 8601 timestamp "
                "(expected e.g. 2026-11-27T10:00 or 2026-11-27T10:00:00+01:00)"
            )


@click.command()
@config_option
@mailbox_option("every")
@click.option(
    "--json", "as_json", is_flag=True, help="JSON lines (the default), one per timestamp."
)
@click.option("--human", is_flag=True, help="Print a readable Dutch table instead of JSON lines.")
@click.argument("timestamps", nargs=-1, required=True)
def deadlines(
    config_path: Path | None,
    only: str | None,
    as_json: bool,
    human: bool,
    timestamps: tuple[str, ...],
) -> None:
    """Print the response terms for each TIMESTAMP (ISO 8601, or - to read standard input).

    One JSON object per timestamp (or a Dutch table with --human). With [[mailboxes]]
    the terms by every mailbox's calendar (its holidays and closures), each line with a
    "mailbox" key (a table per mailbox), unless --mailbox names one.

    Exit status 0 when every timestamp was read, 2 when one was not (the others are
    still printed) or the configuration is invalid.

    \b
    Examples:
      topcontact-mail deadlines --human 2026-12-24T16:30 2026-12-31T09:00
      topcontact-mail deadlines --mailbox verhuur@example.nl 2026-12-24T16:30
    """
    if as_json and human:
        fail("--json and --human exclude each other")
    settings = settings_or_exit(config_path)
    chosen = every_mailbox(settings, only)
    inputs = list(_inputs(timestamps))  # standard input is read once for every mailbox
    errors = 0
    for number, one in enumerate(chosen.mailboxes):
        table = Table(
            "Ontvangen", "Telt vanaf", "Bevestiging vóór", "Antwoord vóór", "Terugbellen vóór"
        )
        for result in _compute(inputs, one.calendar.build()):
            if isinstance(result, str):
                if number == 0:  # the same for every mailbox: said once
                    errors += 1
                    click.echo(f"topcontact-mail: {result}", err=True)
            elif human:
                table.add_row(
                    _human(result.received),
                    long_date(result.reception_day),
                    _human(result.acknowledge_by),
                    _human(result.answer_by),
                    _human(result.callback_by),
                )
            else:
                click.echo(chosen.json_line(one, terms_dict(result)))
        if human:
            chosen.heading(one)
            console = Console()
            if not console.is_terminal:
                console.width = 200  # a file or pipe gets whole lines, not cells wrapped at 80
            console.print(table)
    if errors:
        raise SystemExit(EXIT_USAGE)
