"""The report as JSON (stable keys), CSV (a row per week and a total) and one self-contained HTML file."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from topcontact_mail.reports.figures import MonthReport, Privacy, month_report
from topcontact_mail.reports.render import CSV_COLUMNS, SCHEMA, to_csv, to_html, to_json
from topcontact_mail.reports.templating import report_environment

from .support import AS_OF, CALENDAR, CALLBACKS, RECORDS, SUBJECTS, TARGETS

FIGURE_KEYS = [
    "received",
    "acknowledged",
    "acknowledgement_failed",
    "acknowledgement_pending",
    "skipped",
    "skipped_by_reason",
    "acknowledged_in_time",
    "targets",
    "answered",
    "answered_in_time",
    "overdue_open",
    "open_on_time",
    "answer_workdays",
    "callbacks",
]


@pytest.fixture(scope="module")
def report() -> MonthReport:
    return month_report(RECORDS, TARGETS, CALLBACKS, "2026-12", CALENDAR, AS_OF)


@pytest.fixture(scope="module")
def identified() -> MonthReport:
    return month_report(
        RECORDS,
        TARGETS,
        CALLBACKS,
        "2026-12",
        CALENDAR,
        AS_OF,
        privacy=Privacy.IDENTIFIED,
        subjects=SUBJECTS,
    )


def test_the_json_keys_are_stable(report: MonthReport) -> None:
    data = json.loads(to_json(report))

    assert list(data) == [
        "schema",
        "month",
        "zone",
        "as_of",
        "first_day",
        "last_day",
        "privacy",
        "totals",
        "weeks",
        "workload",
        "messages",
    ]
    assert data["schema"] == SCHEMA
    assert list(data["totals"]) == FIGURE_KEYS
    assert list(data["weeks"][0]) == [
        "week",
        "iso_year",
        "iso_week",
        "first_day",
        "last_day",
        *FIGURE_KEYS,
    ]
    assert data["totals"]["answered_in_time"] == {"met": 3, "settled": 6, "share": 0.5}
    assert data["totals"]["acknowledged_in_time"] == {"met": 6, "settled": 7, "share": 0.8571}
    assert data["totals"]["answer_workdays"] == {"median": 5, "p90": 6}
    assert data["weeks"][2]["answered_in_time"]["share"] is None
    assert data["as_of"] == "2027-01-04T09:00:00+01:00"
    assert data["messages"] == []


def test_the_json_names_no_one_unless_asked(report: MonthReport, identified: MonthReport) -> None:
    plain = to_json(report)
    named = json.loads(to_json(identified))

    assert "tenant@example.org" not in plain
    assert "Lekkage" not in plain
    assert [m["item_id"] for m in named["messages"]] == ["r0", "r2", "r7"]
    assert named["messages"][1]["subject"] == "Huur & <betaling>"


def test_the_csv_has_a_row_per_week_and_a_total(report: MonthReport) -> None:
    rows = list(csv.reader(io.StringIO(to_csv(report)), delimiter=";"))

    header, *weeks, total = rows
    assert header[: len(CSV_COLUMNS)] == list(CSV_COLUMNS)
    assert header[len(CSV_COLUMNS) :] == [
        "skipped:auto_reply_header",
        "skipped:conversation_already_acknowledged",
        "skipped:mailing_list",
    ]
    assert [w[0] for w in weeks] == ["2026-W49", "2026-W50", "2026-W51", "2026-W52", "2026-W53"]
    row = dict(zip(header, total, strict=True))
    assert row["week"] == "total"
    assert (row["received"], row["answered_in_time_share"], row["acknowledged_in_time_share"]) == (
        "12",
        "0,5",
        "0,8571",
    )
    assert row["answer_workdays_median"] == "5"
    w51 = dict(zip(header, weeks[2], strict=True))
    assert (w51["answered_in_time_share"], w51["answer_workdays_median"]) == ("", "")


def test_the_csv_for_other_tools_uses_commas_and_points(report: MonthReport) -> None:
    rows = list(csv.reader(io.StringIO(to_csv(report, excel_nl=False))))

    total = dict(zip(rows[0], rows[-1], strict=True))
    assert total["acknowledged_in_time_share"] == "0.8571"


def test_the_html_is_one_file_without_script_or_outside_resource(identified: MonthReport) -> None:
    html = to_html(identified, report_environment(), team_name="Team Klantcontact")

    assert "<script" not in html.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert "<link" not in html
    assert html.count("<svg") == 3
    assert 'lang="nl"' in html
    # Data from the mailbox is escaped.
    assert "Huur &amp; &lt;betaling&gt;" in html
    assert "<betaling>" not in html


def test_the_html_is_the_same_for_the_same_figures(report: MonthReport) -> None:
    env = report_environment()

    assert to_html(report, env) == to_html(report, env)


def test_an_empty_month_renders(report: MonthReport) -> None:
    empty = month_report([], [], [], "2027-02", CALENDAR, AS_OF)

    html = to_html(empty, report_environment())

    assert "Elke e-mail kreeg een ontvangstbevestiging." in html
    assert "februari 2027" in html
