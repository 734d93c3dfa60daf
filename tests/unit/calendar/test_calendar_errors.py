"""Invalid calendar constructions are refused with a message that says what is wrong."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from topcontact_mail.domain.calendar import BusinessCalendar, ClosureRange, Interval

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
DAY = (Interval(time(8, 30), time(17, 0)),)


def _calendar(
    office_hours: dict[int, tuple[Interval, ...]], closed_ranges: tuple[ClosureRange, ...] = ()
) -> BusinessCalendar:
    return BusinessCalendar(tz=AMSTERDAM, office_hours=office_hours, closed_ranges=closed_ranges)


def test_office_hours_ending_before_they_start_are_refused() -> None:
    with pytest.raises(ValueError, match=r"end 08:30 is not after start 17:00"):
        Interval(time(17, 0), time(8, 30))


def test_office_hours_of_zero_length_are_refused() -> None:
    with pytest.raises(ValueError, match=r"end 09:00 is not after start 09:00"):
        Interval(time(9, 0), time(9, 0))


@pytest.mark.parametrize(
    ("intervals", "message"),
    [
        pytest.param(
            (Interval(time(8, 30), time(12, 30)), Interval(time(12, 0), time(17, 0))),
            r"overlap on weekday 3: 08:30-12:30 and 12:00-17:00",
            id="partly overlapping",
        ),
        pytest.param(
            (Interval(time(13, 0), time(17, 0)), Interval(time(8, 30), time(13, 30))),
            r"overlap on weekday 3: 08:30-13:30 and 13:00-17:00",
            id="overlapping, configured out of order",
        ),
        pytest.param(
            (Interval(time(8, 30), time(17, 0)), Interval(time(10, 0), time(11, 0))),
            r"overlap on weekday 3: 08:30-17:00 and 10:00-11:00",
            id="one inside the other",
        ),
        pytest.param(
            (Interval(time(8, 30), time(17, 0)), Interval(time(8, 30), time(17, 0))),
            r"overlap on weekday 3: 08:30-17:00 and 08:30-17:00",
            id="the same interval twice",
        ),
    ],
)
def test_overlapping_office_hours_on_one_weekday_are_refused(
    intervals: tuple[Interval, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _calendar({1: DAY, 3: intervals})


def test_office_hours_that_touch_are_accepted() -> None:
    calendar = _calendar(
        {3: (Interval(time(8, 30), time(12, 0)), Interval(time(12, 0), time(17, 0)))}
    )

    assert calendar.closing_time(date(2026, 11, 11)).isoformat() == "2026-11-11T17:00:00+01:00"


@pytest.mark.parametrize(
    "office_hours",
    [
        pytest.param({}, id="no weekdays at all"),
        pytest.param(dict.fromkeys(range(1, 8), ()), id="every weekday empty"),
    ],
)
def test_office_hours_closed_on_every_weekday_are_refused(
    office_hours: dict[int, tuple[Interval, ...]],
) -> None:
    with pytest.raises(ValueError, match=r"empty on every weekday: there would be no workday"):
        _calendar(office_hours)


@pytest.mark.parametrize("weekday", [0, 8])
def test_a_weekday_outside_iso_numbering_is_refused(weekday: int) -> None:
    with pytest.raises(ValueError, match=rf"weekday {weekday} is not an ISO weekday 1\.\.7"):
        _calendar({1: DAY, weekday: DAY})


def test_a_closure_range_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(
        ValueError, match=r"closure range ends \(2026-12-28\) before it starts \(2026-12-31\)"
    ):
        ClosureRange(date(2026, 12, 31), date(2026, 12, 28))


def test_a_closure_range_of_one_day_is_accepted_and_holds_that_day_only() -> None:
    closure = ClosureRange(date(2026, 12, 31), date(2026, 12, 31))

    assert date(2026, 12, 31) in closure
    assert date(2026, 12, 30) not in closure
    assert date(2027, 1, 1) not in closure


@pytest.mark.parametrize("n", [0, -1])
def test_counting_zero_or_fewer_workdays_is_refused(n: int) -> None:
    calendar = _calendar({1: DAY})

    with pytest.raises(ValueError, match=rf"n must be at least 1, not {n}"):
        calendar.nth_workday_after(date(2026, 11, 27), n)


def test_a_calendar_closed_for_years_says_it_found_no_workday() -> None:
    calendar = _calendar(
        {1: DAY}, closed_ranges=(ClosureRange(date(2026, 1, 1), date(2029, 12, 31)),)
    )

    with pytest.raises(ValueError, match=r"no workday within 800 days after 2026-01-01"):
        calendar.reception_day(datetime(2026, 1, 1, 12, 0))
