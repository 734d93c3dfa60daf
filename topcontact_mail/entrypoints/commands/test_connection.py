"""`topcontact-mail test-connection`: does the configured account have every right the service needs?

Runs the configured backend's diagnosis (sign-in, reading the shared mailbox,
send-as, marking, the colleagues' calendars) and prints one line per check
with the fix for what is missing. Nothing is sent and nothing is left behind.
Settings no API shows (whether the shared mailbox keeps a copy of what staff
send as it: MessageCopyForSentAsEnabled) are listed as "check by hand", with
the PowerShell to check them.
Exit status: 0 all ok, 1 something missing, 2 the configuration is not valid.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from topcontact_mail.config import Settings
from topcontact_mail.entrypoints.common import (
    EXIT_FOUND,
    config_option,
    every_mailbox,
    exit_with,
    mailbox_option,
    settings_or_exit,
)
from topcontact_mail.logs import configure_logging
from topcontact_mail.ports.diagnostics import Check, sent_copies

EXIT_MISSING = EXIT_FOUND
_STYLE = {"ok": "green", "missing": "bold red", "not run": "yellow", "check by hand": "cyan"}


def run_diagnosis(settings: Settings) -> list[Check]:
    """The configured backend's checks (imported here so no backend loads unless chosen)."""
    if settings.connection.backend == "graph":
        from topcontact_mail.adapters.graph.diagnose import diagnose as diagnose_graph

        return diagnose_graph(settings)
    from topcontact_mail.adapters.ews.diagnose import diagnose as diagnose_ews

    return diagnose_ews(settings)


def _table(settings: Settings, checks: list[Check]) -> Table:
    connection = settings.connection
    table = Table(
        title=f"test-connection: {connection.backend.upper()}, {connection.shared_mailbox}",
        show_lines=True,
    )
    table.add_column("check", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("detail")
    table.add_column("fix")
    for check in checks:
        status = check.status
        table.add_row(
            check.name,
            f"[{_STYLE[status]}]{status}[/]",
            check.detail,
            check.fix if (check.manual or not check.ok) else "",
        )
    return table


@click.command("test-connection")
@config_option
@mailbox_option("every")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per check, one per line.")
def test_connection(config_path: Path | None, only: str | None, as_json: bool) -> None:
    """Check sign-in, mailbox, send-as, marking and calendar rights.

    With [[mailboxes]]: every mailbox, a table each (--json: each line with a "mailbox"
    key), unless --mailbox names one.

    Exit status 0 when every check passed, 1 when one failed (the table says
    what to fix), 2 for an invalid configuration.

    \b
    Examples:
      topcontact-mail test-connection --config /etc/topcontact-mail/topcontact.toml
      topcontact-mail test-connection --json | jq 'select(.ok | not)'
      topcontact-mail test-connection --mailbox verhuur@example.nl
    """
    settings = settings_or_exit(config_path, connects=True)
    chosen = every_mailbox(settings, only)
    # The checks carry every failure; the adapters' own error logs would only repeat them.
    configure_logging("critical")
    statuses: list[int] = []
    for one in chosen.mailboxes:
        checks = [*run_diagnosis(one), sent_copies(one.connection.shared_mailbox)]
        if as_json:
            for check in checks:
                click.echo(chosen.json_line(one, {**asdict(check), "status": check.status}))
        else:
            chosen.heading(one)
            Console(soft_wrap=False).print(_table(one, checks))
            if not one.connection.colleague_mailboxes:
                click.echo(
                    chosen.label(
                        one, "No colleague_mailboxes configured: no calendar was checked."
                    ),
                    err=True,
                )
        statuses.append(0 if all(check.ok for check in checks) else EXIT_MISSING)
    exit_with(statuses)
