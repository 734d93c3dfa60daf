"""`topcontact-mail report`: the month's figures for management, from the state store.

HTML (one self-contained page with charts), CSV (a row per ISO week and a
total, as a Dutch spreadsheet opens it) or JSON (stable keys). The figures
come from the state store only (`reports/figures.py`), so they stay the same
across restarts, backends and configuration changes, and never hold a
message's content. With `tracking.report_privacy = "identified"` the late
and overdue messages are listed with sender and subject; the subjects are read
from the mailbox for this report only and never stored.
Exit status: 0 written, 1 the mailbox could not be read for an identified
report (it is written without subjects), 2 bad month, configuration or state.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from topcontact_mail.config import Settings
from topcontact_mail.entrypoints import wiring
from topcontact_mail.entrypoints.common import config_option, fail, settings_or_exit
from topcontact_mail.entrypoints.state import moment, open_state
from topcontact_mail.logs import configure_logging
from topcontact_mail.ports import MailboxUnavailable
from topcontact_mail.reports.figures import MonthReport, Privacy, month_bounds, month_report
from topcontact_mail.reports.render import to_csv, to_html, to_json
from topcontact_mail.reports.templating import report_environment

EXIT_PARTIAL = 1


def _subjects(settings: Settings, item_ids: list[str]) -> dict[str, str] | None:
    """Subjects of the listed messages, read now (None when the mailbox cannot be read)."""
    if not item_ids:
        return {}
    if settings.connection.missing_section() is not None:
        return None
    configure_logging("error")  # the adapters' warnings would only repeat the one line below
    try:
        mailbox = wiring.open_mailbox(settings)
    except MailboxUnavailable:
        return None
    try:
        return {
            f.message.item_id or "": f.message.subject
            for f in mailbox.read(item_ids)
            if f.message.item_id
        }
    except MailboxUnavailable:
        return None
    finally:
        mailbox.close()


def build_report(settings: Settings, month: str, as_of: str | None) -> tuple[MonthReport, bool]:
    """The month's report, and whether it is complete (an identified report has its subjects)."""
    calendar = settings.calendar.build()
    now = moment(as_of, calendar)
    try:
        month_bounds(month)
    except ValueError as exc:
        fail(str(exc))
    privacy = Privacy(settings.tracking.report_privacy)
    store = open_state(settings)
    try:
        records, targets = store.records(), store.targets()
        callbacks = wiring.callback_source(settings, store).tracked_callbacks()
    finally:
        store.close()
    report = month_report(records, targets, callbacks, month, calendar, now, privacy=privacy)
    if privacy is not Privacy.IDENTIFIED or not report.messages:
        return report, True
    subjects = _subjects(settings, [m.item_id for m in report.messages])
    if subjects is None:
        click.echo(
            "topcontact-mail: the mailbox could not be read: the report lists no subjects",
            err=True,
        )
        return report, False
    report = month_report(
        records, targets, callbacks, month, calendar, now, privacy=privacy, subjects=subjects
    )
    return report, True


@click.command()
@config_option
@click.option(
    "--month", required=True, metavar="YYYY-MM", help="The month, e.g. 2026-12 (local dates)."
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["html", "csv", "json"]),
    default="html",
    show_default=True,
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write to this file (default: standard output).",
)
@click.option(
    "--as-of", default=None, metavar="ISO", help="Report as known at this moment (default: now)."
)
def report(
    config_path: Path | None,
    month: str,
    output_format: str,
    output: Path | None,
    as_of: str | None,
) -> None:
    """The month's figures: acknowledged in time, answered in time, workdays to answer (median
    and p90), overdue, skipped by reason, callbacks; per ISO week and in total.

    Exit status 0 when written, 1 when an identified report could not read its subjects
    (written without), 2 for a bad month, configuration or state file.

    \b
    Example:
      topcontact-mail report --month 2026-12 --output december.html
      topcontact-mail report --month 2026-12 --format csv --output december.csv
    """
    settings = settings_or_exit(config_path)
    result, complete = build_report(settings, month, as_of)
    if output_format == "json":
        text = to_json(result)
    elif output_format == "csv":
        text = to_csv(result)
    else:
        text = to_html(
            result,
            report_environment(settings.acknowledgement.templates_dir),
            team_name=settings.team.name,
        )
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            # utf-8-sig: a spreadsheet then recognises the CSV's accents.
            output.write_text(text, encoding="utf-8-sig" if output_format == "csv" else "utf-8")
        except OSError as exc:
            fail(f"{output}: cannot write the report: {exc.strerror}")
        click.echo(f"{output}: {output_format} report of {month} written", err=True)
    if not complete:
        raise SystemExit(EXIT_PARTIAL)
