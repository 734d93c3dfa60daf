"""`topcontact-mail report`: the month's figures for management, from the state store.

HTML (one self-contained page with charts), CSV (a row per ISO week and a
total, as a Dutch spreadsheet opens it) or JSON (stable keys). The figures
come from the state store only (`reports/figures.py`), so they stay the same
across restarts, backends and configuration changes, and never hold a
message's content. With `tracking.report_privacy = "identified"` the late
and overdue messages are listed with sender and subject; the subjects are read
from the mailbox for this report only and never stored.
With `[[mailboxes]]` a report per mailbox (`--json`: one object keyed by the
mailbox; html and csv a file each with `{mailbox}` in `--output`).
Exit status: 0 written, 1 the mailbox could not be read for an identified
report (it is written without subjects), 2 bad month, configuration or state.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from topcontact_mail.adapters.progress import progress_for
from topcontact_mail.config import Settings
from topcontact_mail.entrypoints import wiring
from topcontact_mail.entrypoints.common import (
    EXIT_FOUND,
    Problem,
    config_option,
    every_mailbox,
    exit_with,
    fail,
    mailbox_key,
    mailbox_option,
    settings_or_exit,
)
from topcontact_mail.entrypoints.state import moment, state_or_problem
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

EXIT_PARTIAL = EXIT_FOUND


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
) -> tuple[MonthReport, bool] | Problem:
    """The month's report of one mailbox, and whether it is complete (an identified report has
    its subjects); or why its state cannot be read."""
    calendar = settings.calendar.build()
    now = moment(as_of, calendar)
    try:
        month_bounds(month)
    except ValueError as exc:
        fail(str(exc))
    steps = _Steps(progress, month)
    steps.tell("reading the state", step=False)
    privacy = Privacy(settings.tracking.report_privacy)
    store = state_or_problem(settings)
    if isinstance(store, Problem):
        return store
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


#: In --output, replaced by the mailbox's address: a file per mailbox.
PER_MAILBOX = "{mailbox}"


@click.command()
@config_option
@mailbox_option("every")
@click.option(
    "--month", required=True, metavar="YYYY-MM", help="The month, e.g. 2026-12 (local dates)."
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["html", "csv", "json"]),
    default=None,
    help="html (the default), csv or json.",
)
@click.option("--json", "as_json", is_flag=True, help="The same as --format json.")
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write to this file (default: standard output); {mailbox} in it: a file per mailbox.",
)
@click.option(
    "--as-of", default=None, metavar="ISO", help="Report as known at this moment (default: now)."
)
def report(
    config_path: Path | None,
    only: str | None,
    month: str,
    output_format: str | None,
    as_json: bool,
    output: Path | None,
    as_of: str | None,
) -> None:
    """The month's figures: acknowledged in time, answered in time, workdays to answer (median
    and p90), overdue, skipped by reason, callbacks; per ISO week and in total.

    With [[mailboxes]]: a report per mailbox, from its own state. --json gives one object
    keyed by the address; html and csv need --mailbox, or {mailbox} in --output for a file
    per mailbox.

    Exit status 0 when written, 1 when an identified report could not read its subjects
    (written without), 2 for a bad month, configuration or state file (the other
    mailboxes' reports are still written).

    \b
    Examples:
      topcontact-mail report --month 2026-12 --output december.html
      topcontact-mail report --month 2026-12 --format csv --output december.csv
      topcontact-mail report --month 2026-12 --output 'december-{mailbox}.html'
      topcontact-mail report --month 2026-12 --json --mailbox verhuur@example.nl
    """
    if as_json and output_format not in (None, "json"):
        fail(f"--json and --format {output_format} exclude each other")
    kind = "json" if as_json else output_format or "html"
    settings = settings_or_exit(config_path)
    configure_logging(settings.service.log_level)
    chosen = every_mailbox(settings, only)
    per_file = output is not None and PER_MAILBOX in str(output)
    if len(chosen.mailboxes) > 1 and kind != "json" and not per_file:
        fail(
            f"a {kind} report is one mailbox's: name it with --mailbox ADDRESS, or put "
            f"{PER_MAILBOX} in --output for a file each (e.g. --output "
            f"'{month}-{PER_MAILBOX}.{kind}'), or use --json"
        )
    # A bar on a terminal (at once: someone is waiting for it), log lines off one.
    progress = progress_for(settings.service.progress_interval_seconds, delay=0)
    # With [[mailboxes]], JSON is one object keyed by the mailbox (unless a file each).
    keyed = chosen.grouped and kind == "json" and not per_file
    statuses: list[int] = []
    together: dict[str, dict[str, Any] | Problem] = {}
    for one in chosen.mailboxes:
        made = _render(one, month, as_of, kind, progress)
        if isinstance(made, Problem):
            statuses.append(chosen.problem(one, made))
            together[mailbox_key(one)] = made
            continue
        text, complete = made
        statuses.append(0 if complete else EXIT_PARTIAL)
        if per_file:
            assert output is not None
            _write(Path(str(output).replace(PER_MAILBOX, mailbox_key(one))), text, kind, month)
        elif keyed:
            together[mailbox_key(one)] = json.loads(text)
        else:
            _write(output, text, kind, month)
    if keyed:
        text = json.dumps(chosen.keyed(together), ensure_ascii=False, indent=2) + "\n"
        _write(output, text, kind, month)
    exit_with(statuses)


def _render(
    settings: Settings, month: str, as_of: str | None, kind: str, progress: Progress
) -> tuple[str, bool] | Problem:
    """One mailbox's report as text, and whether it is complete; or why it cannot be made."""
    rendered = False
    try:
        built = build_report(settings, month, as_of, progress)
        if isinstance(built, Problem):
            return built
        result, complete = built
        if kind == "json":
            text = to_json(result)
        elif kind == "csv":
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
                stage=f"{kind} made" if rendered else "stopped",
                finished=True,
            )
        )
    return text, complete


def _write(output: Path | None, text: str, kind: str, month: str) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        # utf-8-sig: a spreadsheet then recognises the CSV's accents.
        output.write_text(text, encoding="utf-8-sig" if kind == "csv" else "utf-8")
    except OSError as exc:
        fail(f"{output}: cannot write the report: {exc.strerror}")
    click.echo(f"{output}: {kind} report of {month} written", err=True)
