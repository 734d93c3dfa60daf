"""The business calendar: workdays, office hours and the Top Contact response terms.

Pure: every function takes the moment it reasons about as an argument and never
reads the clock. The semantics are those of DESIGN.md, "Response terms":

- a *workday* is a weekday with office hours that is not a holiday and not a
  closure day;
- the *reception day* D of a moment t is t's local date when that is a workday
  and t is before that day's closing time, otherwise the next workday;
- a deadline "n workdays after D" is the closing time of the n-th workday after D.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

#: How far ahead `next_workday` looks before deciding the configuration has no workdays.
#: Two years covers any real closure; a calendar without workdays is rejected at load time.
_SEARCH_LIMIT_DAYS = 800

ACKNOWLEDGE_WORKDAYS = 1
ANSWER_WORKDAYS = 5
CALLBACK_WORKDAYS = 1


@dataclass(frozen=True, order=True)
class Interval:
    """One stretch of office hours within a day, [start, end)."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(
                f"office hours end {self.end:%H:%M} is not after start {self.start:%H:%M}"
            )


@dataclass(frozen=True)
class ClosureRange:
    """Days the organisation is closed, both ends included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"closure range ends ({self.last}) before it starts ({self.first})")

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last


HolidayLookup = Callable[[date], str | None]


def netherlands_holidays(
    categories: Iterable[str] = ("public",),
    ignore_names: Iterable[str] = (),
) -> HolidayLookup:
    """Holidays of the Netherlands as the `holidays` package defines them.

    `ignore_names` lists holidays the office is open on anyway (for example
    "Goede Vrijdag" or "Good Friday"); they match the Dutch or the English name,
    case-insensitively.
    """
    cats = tuple(sorted({c.lower() for c in categories}))
    ignored = {n.strip().casefold() for n in ignore_names}

    @lru_cache(maxsize=64)
    def for_year(year: int) -> dict[date, str]:
        # Imported when the first day is looked up, not on import: `run` starts faster.
        import holidays as holidays_lib

        dutch = holidays_lib.country_holidays("NL", years=year, categories=cats, language="nl")
        english = holidays_lib.country_holidays("NL", years=year, categories=cats, language="en_US")
        result: dict[date, str] = {}
        for day, name in dutch.items():
            names = {name.casefold(), str(english.get(day, "")).casefold()}
            if not names & ignored:
                result[day] = name
        return result

    def lookup(day: date) -> str | None:
        return for_year(day.year).get(day)

    return lookup


def _no_holidays(day: date) -> str | None:
    return None


@dataclass(frozen=True)
class ResponseTerms:
    """The deadlines that follow from one moment of reception."""

    received: datetime
    reception_day: date
    acknowledge_by: datetime
    answer_by: datetime
    callback_by: datetime


@dataclass(frozen=True)
class BusinessCalendar:
    """Workdays and closing times of one organisation in one time zone."""

    tz: ZoneInfo
    #: Office hours per ISO weekday (1 = Monday ... 7 = Sunday); a missing or empty entry is closed.
    office_hours: Mapping[int, tuple[Interval, ...]]
    holiday: HolidayLookup = field(default=_no_holidays)
    closed_dates: frozenset[date] = frozenset()
    closed_ranges: tuple[ClosureRange, ...] = ()

    def __post_init__(self) -> None:
        for weekday, intervals in self.office_hours.items():
            if weekday not in range(1, 8):
                raise ValueError(f"weekday {weekday} is not an ISO weekday 1..7")
            ordered = sorted(intervals)
            for before, after in itertools.pairwise(ordered):
                if after.start < before.end:
                    raise ValueError(
                        f"office hours overlap on weekday {weekday}: "
                        f"{before.start:%H:%M}-{before.end:%H:%M} and "
                        f"{after.start:%H:%M}-{after.end:%H:%M}"
                    )
        if not any(self.office_hours.get(d) for d in range(1, 8)):
            raise ValueError("office hours are empty on every weekday: there would be no workday")

    # -- days -----------------------------------------------------------------

    def intervals(self, day: date) -> tuple[Interval, ...]:
        return tuple(sorted(self.office_hours.get(day.isoweekday(), ())))

    def closure_reason(self, day: date) -> str | None:
        """Why `day` is not a workday, or None when it is one."""
        if not self.intervals(day):
            return "geen openingstijden op deze weekdag"
        name = self.holiday(day)
        if name is not None:
            return name
        if day in self.closed_dates or any(day in r for r in self.closed_ranges):
            return "kantoor gesloten"
        return None

    def is_workday(self, day: date) -> bool:
        return self.closure_reason(day) is None

    def _at(self, day: date, clock: time) -> datetime:
        # Through UTC and back: a wall-clock time a DST change skips or repeats becomes a
        # real instant with the zone's true offset, so comparisons are between instants.
        return datetime.combine(day, clock, tzinfo=self.tz).astimezone(UTC).astimezone(self.tz)

    def closing_time(self, day: date) -> datetime:
        """The local closing time of `day` (the end of its last office-hours interval)."""
        return self._at(day, self.intervals(day)[-1].end)

    def next_workday(self, day: date) -> date:
        """The first workday strictly after `day`."""
        candidate = day
        for _ in range(_SEARCH_LIMIT_DAYS):
            candidate += timedelta(days=1)
            if self.is_workday(candidate):
                return candidate
        raise ValueError(f"no workday within {_SEARCH_LIMIT_DAYS} days after {day}")

    def nth_workday_after(self, day: date, n: int) -> date:
        """The n-th workday strictly after `day` (n >= 1)."""
        if n < 1:
            raise ValueError(f"n must be at least 1, not {n}")
        for _ in range(n):
            day = self.next_workday(day)
        return day

    def workdays_between(self, first: date, last: date) -> int:
        """How many workdays lie in (first, last]."""
        count, day = 0, first
        while day < last:
            day += timedelta(days=1)
            count += self.is_workday(day)
        return count

    # -- moments --------------------------------------------------------------

    def local(self, moment: datetime) -> datetime:
        """`moment` in the calendar's zone; a naive moment is taken as local time."""
        if moment.tzinfo is None:
            return moment.replace(tzinfo=self.tz)
        return moment.astimezone(self.tz)

    def reception_day(self, moment: datetime) -> date:
        local = self.local(moment)
        today = local.date()
        # Compared in UTC: Python compares same-zone datetimes by wall clock, which is
        # wrong in the hour a DST change repeats.
        if self.is_workday(today) and local.astimezone(UTC) < self.closing_time(today).astimezone(
            UTC
        ):
            return today
        return self.next_workday(today)

    def end_of_nth_workday_after(self, day: date, n: int) -> datetime:
        return self.closing_time(self.nth_workday_after(day, n))

    def is_open(self, moment: datetime) -> bool:
        """Whether `moment` falls inside office hours of a workday."""
        local = self.local(moment)
        day = local.date()
        if not self.is_workday(day):
            return False
        clock = local.timetz().replace(tzinfo=None)
        return any(i.start <= clock < i.end for i in self.intervals(day))

    def terms(self, received: datetime) -> ResponseTerms:
        local = self.local(received)
        day = self.reception_day(local)
        return ResponseTerms(
            received=local,
            reception_day=day,
            acknowledge_by=self.end_of_nth_workday_after(day, ACKNOWLEDGE_WORKDAYS),
            answer_by=self.end_of_nth_workday_after(day, ANSWER_WORKDAYS),
            callback_by=self.end_of_nth_workday_after(day, CALLBACK_WORKDAYS),
        )


STANDARD_HOURS = (Interval(time(8, 30), time(17, 0)),)


def default_calendar() -> BusinessCalendar:
    """The defaults of DESIGN.md: Europe/Amsterdam, Mon-Fri 08:30-17:00, Dutch public holidays."""
    return BusinessCalendar(
        tz=ZoneInfo("Europe/Amsterdam"),
        office_hours=dict.fromkeys(range(1, 6), STANDARD_HOURS),
        holiday=netherlands_holidays(),
    )
