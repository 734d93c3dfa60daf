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
from topcontact_mail.entrypoints.common import EXIT_USAGE, config_option, settings_or_exit


def parse_timestamp(text: str, calendar: BusinessCalendar) -> datetime:
    """An ISO 8601 timestamp; one without an offset is local time in the calendar's zone."""
    value = text.strip()
    if value.endswith(("z", "Z")):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    return calendar.local(moment)


def terms_as_json(terms: ResponseTerms) -> str:
    return json.dumps(
        {
            "received": terms.received.isoformat(),
            "reception_day": terms.reception_day.isoformat(),
            "acknowledge_by": terms.acknowledge_by.isoformat(),
            "answer_by": terms.answer_by.isoformat(),
            "callback_by": terms.callback_by.isoformat(),
        }
    )


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
@click.option("--human", is_flag=True, help="Print a readable Dutch table instead of JSON lines.")
@click.argument("timestamps", nargs=-1, required=True)
def deadlines(config_path: Path | None, human: bool, timestamps: tuple[str, ...]) -> None:
    """Print the response terms for each TIMESTAMP (ISO 8601, or - to read standard input).

    One JSON object per timestamp (or a Dutch table with --human). Exit status
    0 when every timestamp was read, 2 when one was not (the others are still
    printed) or the configuration is invalid.

    \b
    Example:
      topcontact-mail deadlines --human 2026-12-24T16:30 2026-12-31T09:00
    """
    calendar = settings_or_exit(config_path).calendar.build()
    table = Table(
        "Ontvangen", "Telt vanaf", "Bevestiging vóór", "Antwoord vóór", "Terugbellen vóór"
    )
    errors = 0
    for result in _compute(_inputs(timestamps), calendar):
        if isinstance(result, str):
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
            click.echo(terms_as_json(result))
    if human:
        console = Console()
        if not console.is_terminal:
            console.width = 200  # a file or pipe gets whole lines, not cells wrapped at 80
        console.print(table)
    if errors:
        raise SystemExit(EXIT_USAGE)
