"""Office hours that close in the hour a daylight-saving change skips or repeats.

On the last Sunday of March 02:00-03:00 does not exist in Amsterdam; on the last
Sunday of October it happens twice. An office open on Sundays until 02:30 closes in
that hour. Whatever instant the calendar picks for such a closing time, it must state
it with the zone's real offset, and decide "before closing" by that same instant.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from topcontact_mail.domain.calendar import BusinessCalendar, Interval

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# Open on Sundays only, from midnight to 02:30.
SUNDAY_NIGHTS = BusinessCalendar(
    tz=AMSTERDAM, office_hours={7: (Interval(time(0, 0), time(2, 30)),)}
)
SPRING_FORWARD = date(2026, 3, 29)
FALL_BACK = date(2026, 10, 25)


def test_a_closing_time_in_the_skipped_hour_is_stated_with_the_real_offset() -> None:
    closing = SUNDAY_NIGHTS.closing_time(SPRING_FORWARD)

    assert closing.isoformat() == closing.astimezone(UTC).astimezone(AMSTERDAM).isoformat()


def test_a_moment_before_a_closing_time_in_the_skipped_hour_counts_for_that_day() -> None:
    closing = SUNDAY_NIGHTS.closing_time(SPRING_FORWARD)
    moment = closing.astimezone(UTC) - timedelta(minutes=20)

    assert SUNDAY_NIGHTS.reception_day(moment) == SPRING_FORWARD


def test_a_later_arrival_in_the_repeated_hour_never_gets_an_earlier_reception_day() -> None:
    # 00:45 UTC is 02:45 summer time (first pass); 01:15 UTC is 02:15 winter time (second pass).
    first_pass = datetime(2026, 10, 25, 0, 45, tzinfo=UTC)
    second_pass = datetime(2026, 10, 25, 1, 15, tzinfo=UTC)

    assert SUNDAY_NIGHTS.reception_day(first_pass) <= SUNDAY_NIGHTS.reception_day(second_pass)
