"""The month report as JSON (stable keys), CSV (a row per week and a totals row) and one HTML file.

`report_dict` is the single shape of the report: the JSON is that dict, the
CSV flattens it, and the HTML template reads the same dict, so every number on
the page is a number of the JSON. The HTML is one self-contained file (inline
style and SVG charts, no script, no external resource) that a team lead opens
in a browser or receives as an attachment.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

from babel.numbers import format_decimal
from jinja2 import Environment

from topcontact_mail.reports.figures import Figures, MonthReport, Share
from topcontact_mail.reports.templating import FORMATS

#: Names the shape of the JSON; raised when a key changes meaning or disappears.
SCHEMA = "topcontact-mail/month-report/1"
HTML_TEMPLATE = "report.html.j2"

#: The CSV columns in order (a `skipped:<reason>` column per reason of the month follows them).
CSV_COLUMNS = (
    "week",
    "first_day",
    "last_day",
    "received",
    "acknowledged",
    "acknowledgement_failed",
    "acknowledgement_pending",
    "skipped",
    "acknowledged_in_time",
    "acknowledged_settled",
    "acknowledged_in_time_share",
    "targets",
    "answered",
    "answered_in_time",
    "answered_settled",
    "answered_in_time_share",
    "overdue_open",
    "open_on_time",
    "answer_workdays_median",
    "answer_workdays_p90",
    "callbacks_booked",
    "callbacks_in_time",
    "callbacks_done",
    "callbacks_rebooked",
    "callbacks_missed",
)


def _share(share: Share) -> dict[str, Any]:
    ratio = share.ratio
    return {
        "met": share.met,
        "settled": share.settled,
        "share": None if ratio is None else round(ratio, 4),
    }


def figures_dict(figures: Figures) -> dict[str, Any]:
    return {
        "received": figures.received,
        "acknowledged": figures.acknowledged,
        "acknowledgement_failed": figures.acknowledgement_failed,
        "acknowledgement_pending": figures.acknowledgement_pending,
        "skipped": figures.skipped,
        "skipped_by_reason": dict(figures.skipped_by_reason),
        "acknowledged_in_time": _share(figures.acknowledged_in_time),
        "targets": figures.targets,
        "answered": figures.answered,
        "answered_in_time": _share(figures.answered_in_time),
        "overdue_open": figures.overdue_open,
        "open_on_time": figures.open_on_time,
        "answer_workdays": {
            "median": figures.answer_workdays_median,
            "p90": figures.answer_workdays_p90,
        },
        "callbacks": {
            "booked": figures.callbacks_booked,
            "in_time": figures.callbacks_in_time,
            "done": figures.callbacks_done,
            "rebooked": figures.callbacks_rebooked,
            "missed": figures.callbacks_missed,
        },
    }


def report_dict(report: MonthReport) -> dict[str, Any]:
    """The report as plain JSON-ready values; keys are stable (see `SCHEMA`), times local ISO."""
    return {
        "schema": SCHEMA,
        "month": report.month,
        "zone": report.zone,
        "as_of": report.as_of.isoformat(),
        "first_day": report.first_day.isoformat(),
        "last_day": report.last_day.isoformat(),
        "privacy": str(report.privacy),
        "totals": figures_dict(report.totals),
        "weeks": [
            {
                "week": w.key,
                "iso_year": w.iso_year,
                "iso_week": w.week,
                "first_day": w.first_day.isoformat(),
                "last_day": w.last_day.isoformat(),
                **figures_dict(w.figures),
            }
            for w in report.weeks
        ],
        "workload": [
            {"weekday": w.weekday, "received": w.received, "targets": w.targets, "days": w.days}
            for w in report.workload
        ],
        "messages": [
            {
                "item_id": m.item_id,
                "sender": m.sender,
                "subject": m.subject,
                "received": m.received.isoformat(),
                "answer_by": m.answer_by.isoformat(),
                "answered_at": m.answered_at.isoformat() if m.answered_at else None,
                "workdays": m.workdays,
                "status": m.status,
            }
            for m in report.messages
        ],
    }


def to_json(report: MonthReport) -> str:
    return json.dumps(report_dict(report), ensure_ascii=False, indent=2) + "\n"


def _row(label: str, first: str, last: str, f: Mapping[str, Any], reasons: list[str]) -> list[Any]:
    ack, ans = f["acknowledged_in_time"], f["answered_in_time"]
    return [
        label,
        first,
        last,
        f["received"],
        f["acknowledged"],
        f["acknowledgement_failed"],
        f["acknowledgement_pending"],
        f["skipped"],
        ack["met"],
        ack["settled"],
        ack["share"],
        f["targets"],
        f["answered"],
        ans["met"],
        ans["settled"],
        ans["share"],
        f["overdue_open"],
        f["open_on_time"],
        f["answer_workdays"]["median"],
        f["answer_workdays"]["p90"],
        *(f["callbacks"][k] for k in ("booked", "in_time", "done", "rebooked", "missed")),
        *(f["skipped_by_reason"].get(r, 0) for r in reasons),
    ]


def to_csv(report: MonthReport, *, excel_nl: bool = True) -> str:
    """One row per ISO week and a last row "total"; empty cells where nothing is known.

    `excel_nl`: semicolons and decimal commas, as a Dutch spreadsheet opens
    them (write the file as "utf-8-sig" so it also recognises UTF-8); otherwise
    commas and decimal points.
    """
    data = report_dict(report)
    reasons = sorted(data["totals"]["skipped_by_reason"])
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if excel_nl else ",", lineterminator="\r\n")
    writer.writerow([*CSV_COLUMNS, *(f"skipped:{r}" for r in reasons)])
    rows = [_row(w["week"], w["first_day"], w["last_day"], w, reasons) for w in data["weeks"]]
    rows.append(_row("total", data["first_day"], data["last_day"], data["totals"], reasons))
    for row in rows:
        writer.writerow([_cell(value, excel_nl) for value in row])
    return out.getvalue()


def _cell(value: Any, excel_nl: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(format_decimal(value, "0.0###", locale="nl" if excel_nl else "en"))
    return str(value)


def to_html(report: MonthReport, env: Environment, *, team_name: str = "") -> str:
    """The report as one self-contained HTML page, from `report.html.j2`."""
    template = env.get_template(HTML_TEMPLATE)
    return template.render(r=report_dict(report), team_name=team_name, f=FORMATS)
