"""The month's figures from the hand-made December 2026 (support.py), worked out by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from topcontact_mail.domain.tracking import TrackedTarget
from topcontact_mail.reports.figures import (
    ANSWER_WORKDAYS,
    MonthReport,
    Privacy,
    Share,
    answer_workdays,
    month_bounds,
    month_report,
    nearest_rank,
)

from ..tracking.support import at
from .support import AS_OF, CALENDAR, CALLBACKS, RECORDS, SUBJECTS, TARGETS, record


@pytest.fixture(scope="module")
def report() -> MonthReport:
    return month_report(RECORDS, TARGETS, CALLBACKS, "2026-12", CALENDAR, AS_OF)


def test_the_month_totals(report: MonthReport) -> None:
    t = report.totals

    assert (t.received, t.acknowledged, t.acknowledgement_failed, t.acknowledgement_pending) == (
        12,
        6,
        1,
        1,
    )
    assert t.skipped == 4
    assert t.skipped_by_reason == (
        ("auto_reply_header", 2),
        ("conversation_already_acknowledged", 1),
        ("mailing_list", 1),
    )
    assert t.acknowledged_in_time == Share(6, 7)
    assert (t.targets, t.answered, t.overdue_open, t.open_on_time) == (8, 5, 1, 2)
    assert t.answered_in_time == Share(3, 6)
    # Workdays [0, 2, 5, 6, 6]: median at rank 3, p90 at rank 5.
    assert (t.answer_workdays_median, t.answer_workdays_p90) == (5, 6)
    assert (
        t.callbacks_booked,
        t.callbacks_in_time,
        t.callbacks_done,
        t.callbacks_rebooked,
        t.callbacks_missed,
    ) == (4, 2, 1, 1, 1)


def test_the_weeks_of_december_2026(report: MonthReport) -> None:
    weeks = {w.key: w for w in report.weeks}

    assert list(weeks) == ["2026-W49", "2026-W50", "2026-W51", "2026-W52", "2026-W53"]
    assert (weeks["2026-W49"].first_day, weeks["2026-W49"].last_day) == (
        date(2026, 12, 1),
        date(2026, 12, 6),
    )
    assert (weeks["2026-W53"].first_day, weeks["2026-W53"].last_day) == (
        date(2026, 12, 28),
        date(2026, 12, 31),
    )
    w49, w50, w51, w52, w53 = (w.figures for w in report.weeks)
    assert (w49.received, w49.answered_in_time, w49.acknowledged_in_time) == (
        4,
        Share(2, 4),
        Share(4, 4),
    )
    assert (w49.answer_workdays_median, w49.answer_workdays_p90) == (2, 6)
    assert w49.callbacks_booked == 2
    assert (w50.received, w50.skipped, w50.targets, w50.overdue_open) == (5, 4, 1, 1)
    assert w50.answered_in_time == Share(0, 1)
    assert w50.answer_workdays_median is None
    assert (w51.received, w51.callbacks_booked, w51.callbacks_in_time) == (0, 2, 1)
    assert w51.answered_in_time.ratio is None
    assert (w52.acknowledged_in_time, w52.answered_in_time, w52.answer_workdays_median) == (
        Share(0, 1),
        Share(1, 1),
        5,
    )
    assert (w53.received, w53.acknowledgement_pending, w53.open_on_time) == (2, 1, 2)
    assert w53.acknowledged_in_time == Share(1, 1)


def test_the_weeks_add_up_to_the_month(report: MonthReport) -> None:
    for name in ("received", "skipped", "targets", "answered", "callbacks_booked"):
        assert sum(getattr(w.figures, name) for w in report.weeks) == getattr(report.totals, name)


def test_the_workload_per_weekday(report: MonthReport) -> None:
    loads = [(w.weekday, w.received, w.targets, w.days) for w in report.workload]

    assert loads == [
        (1, 2, 0, 4),
        (2, 3, 2, 5),
        (3, 2, 2, 5),
        (4, 3, 2, 5),
        (5, 1, 1, 4),
        (6, 1, 1, 4),
        (7, 0, 0, 4),
    ]


def test_by_default_the_report_names_no_one(report: MonthReport) -> None:
    assert report.privacy is Privacy.AGGREGATE
    assert report.messages == ()


def test_asked_for_names_it_lists_the_late_and_overdue_messages() -> None:
    report = month_report(
        RECORDS,
        TARGETS,
        CALLBACKS,
        "2026-12",
        CALENDAR,
        AS_OF,
        privacy=Privacy.IDENTIFIED,
        subjects=SUBJECTS,
    )

    lines = [(m.item_id, m.status, m.workdays, m.subject) for m in report.messages]
    assert lines == [
        ("r0", "late", 6, "Lekkage badkamer"),
        ("r2", "late", 6, "Huur & <betaling>"),
        ("r7", "overdue", None, "Verwarming doet het niet"),
    ]
    assert report.messages[0].sender == "tenant@example.org"
    assert report.messages[0].received.isoformat() == "2026-12-01T00:30:00+01:00"


def test_the_report_is_in_local_time() -> None:
    report = month_report([], [], [], "2026-12", CALENDAR, at("ma 4 jan 2027 09:00").astimezone())

    assert report.as_of.isoformat() == "2027-01-04T09:00:00+01:00"
    assert report.zone == "Europe/Amsterdam"


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "26-12", "december", "2026-12-01"])
def test_a_malformed_month_is_refused(month: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_bounds(month)


def test_month_bounds() -> None:
    assert month_bounds("2028-02") == (date(2028, 2, 1), date(2028, 2, 29))
    assert month_bounds("2026-12") == (date(2026, 12, 1), date(2026, 12, 31))


@pytest.mark.parametrize(
    ("values", "median", "p90"),
    [
        ([], None, None),
        ([3], 3, 3),
        ([1, 2], 1, 2),
        ([4, 1, 3, 2], 2, 4),
        ([0, 2, 5, 6, 6], 5, 6),
        (list(range(1, 11)), 5, 9),
        (list(range(1, 12)), 6, 10),
    ],
)
def test_nearest_rank(values: list[int], median: int | None, p90: int | None) -> None:
    assert nearest_rank(values, 50) == median
    assert nearest_rank(values, 90) == p90


_received = st.datetimes(
    min_value=at("do 1 jan 2026 00:00").replace(tzinfo=None),
    max_value=at("do 31 dec 2026 23:59").replace(tzinfo=None),
    timezones=st.just(CALENDAR.tz),
)


@settings(max_examples=150, deadline=None)
@given(received=_received, minutes=st.integers(0, 30 * 24 * 60))
def test_answered_in_time_exactly_when_within_five_workdays(
    received: datetime, minutes: int
) -> None:
    terms = CALENDAR.terms(received)
    answered_at = received + timedelta(minutes=minutes)
    target = TrackedTarget(
        "m", received, terms.reception_day, terms.answer_by, answered_at=answered_at
    )

    workdays = answer_workdays(target, CALENDAR)

    assert workdays is not None
    assert workdays >= 0
    assert (workdays <= ANSWER_WORKDAYS) == (answered_at < terms.answer_by)


def test_a_message_seen_again_is_not_received_again() -> None:
    # After a switch of backend the inbox is read anew: each message comes back with another
    # item id and the service's marker, and is recorded as already handled.
    again = [
        record(
            f"graph-{r.item_id}",
            r.received,
            "already_handled",
            internet_message_id=r.internet_message_id,
        )
        for r in RECORDS
    ]
    # A message seen only as already handled (its first decision was lost) still counts once.
    lost = record("only-again", at("di 15 dec 2026 10:00"), "already_handled")

    twice = month_report([*RECORDS, *again, lost], TARGETS, CALLBACKS, "2026-12", CALENDAR, AS_OF)
    once = month_report([*RECORDS, lost], TARGETS, CALLBACKS, "2026-12", CALENDAR, AS_OF)

    assert twice.totals == once.totals
    assert twice.totals.skipped_by_reason.count(("already_handled", 1)) == 1
