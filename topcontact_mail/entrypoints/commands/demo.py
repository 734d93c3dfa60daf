"""`topcontact-mail demo`: the main job on the embedded sandbox, end to end."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from topcontact_mail.domain.dates import clock, long_date
from topcontact_mail.entrypoints.commands.deadlines import parse_timestamp
from topcontact_mail.entrypoints.common import config_option, settings_or_exit

SAMPLE_MOMENTS = (
    "2026-11-27T10:00",  # a Friday morning
    "2026-11-27T18:00",  # the same Friday after closing
    "2026-12-24T16:59",  # Christmas Eve, just before closing
    "2026-12-24T17:00",  # Christmas Eve at closing: counts from 28 December
    "2027-04-26T09:00",  # the day before King's Day
)


@click.command()
@config_option
@click.option("--backend", type=click.Choice(["ews", "graph"]), default="ews", show_default=True)
def demo(config_path: Path | None, backend: str) -> None:
    """Show what the service does, on sample data (no real mailbox is touched)."""
    calendar = settings_or_exit(config_path).calendar.build()
    console = Console()
    console.print(
        "[bold]topcontact-mail demo[/bold]: the sandbox Exchange server is not built yet, "
        f"so this demo (backend {backend}) shows the response terms for a few sample moments."
    )
    table = Table("Ontvangen", "Bevestiging vóór", "Antwoord vóór")
    for text in SAMPLE_MOMENTS:
        terms = calendar.terms(parse_timestamp(text, calendar))
        table.add_row(
            f"{long_date(terms.received.date())} {clock(terms.received)}",
            f"{long_date(terms.acknowledge_by.date())} {clock(terms.acknowledge_by)}",
            f"{long_date(terms.answer_by.date())} {clock(terms.answer_by)}",
        )
    console.print(table)
