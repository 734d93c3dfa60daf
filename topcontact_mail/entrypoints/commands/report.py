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
from datetime import datetime
from pathlib import Path

import click

from topcontact_mail.adapters.progress import progress_for
from topcontact_mail.config import Settings
from topcontact_mail.entrypoints import wiring
from topcontact_mail.entrypoints.common import config_option, fail, settings_or_exit
from topcontact_mail.entrypoints.state import moment, open_state
from topcontact_mail.logs import configure_logging
from topcontact_mail.ports import MailboxUnavailable
from topcontact_mail.ports.progress import Progress, ProgressUpdate, no_progress
from topcontact_mail.reports.figures import (
    MonthReport,
    Privacy,
    figure_blocks,
    month_bounds,
    month_report,
)
from topcontact_mail.reports.render import to_csv, to_html, to_json
from topcontact_mail.reports.templating import report_environment

EXIT_PARTIAL = 1


def _note_purged(settings: Settings, month: str) -> None:
    """Say so when the month's figures are gone by the retention (the report is then empty)."""
    calendar = settings.calendar.build()
    cutoffs = settings.retention.policy().cutoffs(datetime.now().astimezone(), calendar.tz)
    if month < cutoffs.first_month_kept:
        click.echo(
            f"topcontact-mail: the figures of months before {cutoffs.first_month_kept} are "
            f"purged (retention.figures_months = {settings.retention.figures_months}): "
            f"the report of {month} holds nothing",
            err=True,
        )


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


class _Steps:
    """The report's progress: reading the state, each block of figures, writing it out."""

    def __init__(self, progress: Progress, month: str) -> None:
        self.progress = progress
        self.month = month
        self.done = 0
        self.total = self.total_for(month)

    @staticmethod
    def total_for(month: str) -> int:
        """Reading the state, each block of figures, making the output (0: not a month)."""
        try:
            return figure_blocks(month) + 2
        except ValueError:
            return 0

    def tell(self, stage: str, *, step: bool = True, finished: bool = False) -> None:
        self.done += step
        self.progress(
            ProgressUpdate(
                task=f"report {self.month}",
                done=min(self.done, self.total),
                total=self.total,
                unit="steps",
                stage=stage,
                finished=finished,
            )
        )


def build_report(
    settings: Settings, month: str, as_of: str | None, progress: Progress = no_progress
) -> tuple[MonthReport, bool]:
    """The month's report, and whether it is complete (an identified report has its subjects)."""
    calendar = settings.calendar.build()
    now = moment(as_of, calendar)
    try:
        month_bounds(month)
    except ValueError as exc:
        fail(str(exc))
    steps = _Steps(progress, month)
    steps.tell("reading the state", step=False)
    privacy = Privacy(settings.tracking.report_privacy)
    store = open_state(settings)
    try:
        records, targets = store.records(), store.targets()
        callbacks = wiring.callback_source(settings, store).tracked_callbacks()
    finally:
        store.close()
    steps.tell(f"{len(records)} messages read")
    report = month_report(
        records,
        targets,
        callbacks,
        month,
        calendar,
        now,
        privacy=privacy,
        on_block=lambda name: steps.tell(f"figures {name}"),
    )
    _note_purged(settings, month)
    if privacy is not Privacy.IDENTIFIED or not report.messages:
        return report, True
    # Messages whose details are purged (docs/retention.md) are not looked up again.
    today = datetime.now().astimezone()
    details_from = settings.retention.policy().cutoffs(today, calendar.tz).details_before
    subjects = _subjects(
        settings, [m.item_id for m in report.messages if m.received >= details_from]
    )
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
    configure_logging(settings.service.log_level)
    # A bar on a terminal (at once: someone is waiting for it), log lines off one.
    progress = progress_for(settings.service.progress_interval_seconds, delay=0)
    rendered = False
    try:
        result, complete = build_report(settings, month, as_of, progress)
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
        rendered = True
    finally:
        # The bar ends whatever happened: a terminal is never left with a hidden cursor.
        total = _Steps.total_for(month)
        progress(
            ProgressUpdate(
                task=f"report {month}",
                done=total if rendered else 0,
                total=total,
                unit="steps",
                stage=f"{output_format} made" if rendered else "stopped",
                finished=True,
            )
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
