"""Slot choice: the first free stretch in a colleague's calendar for a callback, and why when it is late.

Pure: the caller passes the moment (`now`), the deadline (`callback_by`, from
`BusinessCalendar.terms(booked_at)`), the colleague's free/busy periods and
the tenant's preference. A *candidate* is a stretch of `rules.length` that

- lies on a workday of the business calendar (no weekend, holiday or closure),
- lies inside one of the colleague's working intervals of that weekday (their
  own `WorkingHours`, else the office hours), so part-time days are respected,
- starts on the grid (`rules.grid`, wall-clock time: 10:00, 10:15, ...),
- starts at or after `now + rules.lead_time`.

A candidate is *free* when no period of a blocking kind overlaps it (busy,
tentative, out of office, unknown; free and working-elsewhere do not block).
The choice is the first free candidate that honours the preference, searched
up to the `rules.horizon_workdays`-th workday after the deadline's day.

Wall-clock times are built per day in the calendar's zone, so a slot at 10:00
is at 10:00 local time on either side of a daylight-saving change. A grid time
the change skips does not exist and is no candidate; one it repeats is taken
at its first occurrence.

When the choice ends after `callback_by` it is *at risk*, and `WHY_LATE`
explains it, first that applies: the deadline has passed already (the booking
was read late); the colleague does not work before the deadline; is out of
office for the whole day of the deadline (`on_leave`: the caller should try
the fallback colleague); or is simply fully booked. A preference that only
fits after the deadline, or not at all, is said as well; in the latter case
the first free slot is chosen regardless.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from topcontact_mail.domain.calendar import BusinessCalendar, Interval
from topcontact_mail.domain.callbacks import texts
from topcontact_mail.domain.callbacks.model import (
    BusyKind,
    BusyPeriod,
    Preference,
    Reason,
    Slot,
    SlotChoice,
    StaffMember,
    require_aware,
)

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class SlotRules:
    """The tunables of slot choice, with the defaults of the service."""

    length: timedelta = timedelta(minutes=15)
    lead_time: timedelta = timedelta(minutes=15)
    grid: timedelta = timedelta(minutes=15)
    #: How many workdays after the deadline's day to look for a late slot.
    horizon_workdays: int = 10
    blocking: frozenset[BusyKind] = frozenset(
        {BusyKind.BUSY, BusyKind.TENTATIVE, BusyKind.OOF, BusyKind.UNKNOWN}
    )

    def __post_init__(self) -> None:
        if self.length <= timedelta(0):
            raise ValueError("slot length must be positive")
        if self.lead_time < timedelta(0):
            raise ValueError("lead time must not be negative")
        seconds = self.grid.total_seconds()
        if seconds < 60 or seconds % 60 or _DAY.total_seconds() % seconds:
            raise ValueError("the grid must be whole minutes that divide a day (5, 10, 15, 30, 60)")
        if self.horizon_workdays < 1:
            raise ValueError("the search horizon must be at least one workday")


# -- candidates ---------------------------------------------------------------------------------


def _seconds(clock: time) -> int:
    return clock.hour * 3600 + clock.minute * 60 + clock.second


def _local(tz: ZoneInfo, day: date, seconds: int) -> datetime | None:
    """`day` at `seconds` after midnight, wall clock in `tz`; None when that time does not exist."""
    wall = datetime.combine(day, time(seconds // 3600, seconds // 60 % 60, seconds % 60))
    moment = wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)
    return moment if moment.replace(tzinfo=None) == wall else None


def _end_of(tz: ZoneInfo, day: date, clock: time) -> datetime:
    # As BusinessCalendar does: through UTC, so a skipped end time is still a real instant.
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC).astimezone(tz)


def working_intervals(
    colleague: StaffMember, calendar: BusinessCalendar, day: date
) -> tuple[Interval, ...]:
    """The colleague's working intervals on `day`: none unless it is a workday of the calendar."""
    if not calendar.is_workday(day):
        return ()
    if colleague.working_hours is None:
        return calendar.intervals(day)
    return colleague.working_hours.intervals(day)


def _day_candidates(
    colleague: StaffMember, calendar: BusinessCalendar, day: date, rules: SlotRules
) -> Iterator[Slot]:
    # Instants are compared in UTC: Python compares two datetimes of one zone by wall
    # clock, which is wrong in the hour a DST change repeats.
    grid = int(rules.grid.total_seconds())
    for interval in working_intervals(colleague, calendar, day):
        limit = _end_of(calendar.tz, day, interval.end).astimezone(UTC)
        first = -(-_seconds(interval.start) // grid) * grid
        for seconds in range(first, _seconds(interval.end), grid):
            start = _local(calendar.tz, day, seconds)
            if start is None:
                continue
            end = start.astimezone(UTC) + rules.length
            if end > limit:
                break
            yield Slot(start.astimezone(UTC), end)


def _earliest(now: datetime, rules: SlotRules) -> datetime:
    # Added in UTC: timedelta arithmetic on a zoned datetime is wall-clock arithmetic, an
    # hour off when the lead time crosses the change to winter time.
    return now.astimezone(UTC) + rules.lead_time


def last_search_day(
    calendar: BusinessCalendar, now: datetime, callback_by: datetime, rules: SlotRules
) -> date:
    """The last day slot choice looks at (see `SlotRules.horizon_workdays`)."""
    tz = calendar.tz
    base = max(callback_by.astimezone(tz).date(), _earliest(now, rules).astimezone(tz).date())
    return calendar.nth_workday_after(base, rules.horizon_workdays)


def search_window(
    calendar: BusinessCalendar, now: datetime, callback_by: datetime, rules: SlotRules | None = None
) -> tuple[datetime, datetime]:
    """The span whose free/busy periods `choose_slot` needs: from `now` to the end of the last day."""
    rules = rules or SlotRules()
    require_aware("now", now)
    require_aware("callback_by", callback_by)
    last = last_search_day(calendar, now, callback_by, rules)
    return now.astimezone(calendar.tz), _end_of(calendar.tz, last + _DAY, time())


def candidates(
    colleague: StaffMember,
    calendar: BusinessCalendar,
    earliest: datetime,
    last_day: date,
    rules: SlotRules,
) -> Iterator[Slot]:
    """Every candidate from `earliest` up to the end of `last_day`, earliest first, in UTC."""
    earliest = earliest.astimezone(UTC)
    day = earliest.astimezone(calendar.tz).date()
    while day <= last_day:
        for slot in _day_candidates(colleague, calendar, day, rules):
            if slot.start >= earliest:
                yield slot
        day += _DAY


def _in_zone(slot: Slot, tz: ZoneInfo) -> Slot:
    return Slot(slot.start.astimezone(tz), slot.end.astimezone(tz))


def _free(slot: Slot, blocking: Sequence[BusyPeriod]) -> bool:
    return not any(period.overlaps(slot.start, slot.end) for period in blocking)


def _honours(preference: Preference | None, slot: Slot, tz: ZoneInfo) -> bool:
    if preference is None:
        return True
    start, end = slot.start.astimezone(tz), slot.end.astimezone(tz)
    return start.date() == end.date() and preference.allows(start.time(), end.time())


# -- why late -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Search:
    """What the explanations of a late choice look at."""

    colleague: StaffMember
    calendar: BusinessCalendar
    earliest: datetime
    deadline: datetime
    busy: Sequence[BusyPeriod]
    rules: SlotRules

    def in_time_candidates(self) -> list[Slot]:
        last_day = self.deadline.astimezone(self.calendar.tz).date()
        found = candidates(self.colleague, self.calendar, self.earliest, last_day, self.rules)
        return [s for s in found if s.end <= self.deadline]


def _deadline_passed(search: _Search) -> bool:
    return search.earliest >= search.deadline


def _not_working(search: _Search) -> bool:
    return not search.in_time_candidates()


def _on_leave(search: _Search) -> bool:
    tz = search.calendar.tz
    away = [p for p in search.busy if p.kind is BusyKind.OOF]
    deadline_day = search.deadline.astimezone(tz).date()
    that_day = [
        s for s in search.in_time_candidates() if s.start.astimezone(tz).date() == deadline_day
    ]
    return bool(that_day) and all(not _free(s, away) for s in that_day)


def _fully_booked(search: _Search) -> bool:
    return True


@dataclass(frozen=True)
class LateReason:
    """One line of the WHY_LATE table: a reason code and when it applies."""

    code: str
    summary: str
    applies: Callable[[_Search], bool]


#: Why nothing is free before the deadline, in order; the first that applies is said.
WHY_LATE: tuple[LateReason, ...] = (
    LateReason(texts.DEADLINE_PASSED,
               "now plus the lead time is already past the deadline (the booking was read late)",
               _deadline_passed),
    LateReason(texts.NOT_WORKING_BEFORE_DEADLINE,
               "no working time on a workday between now plus the lead time and the deadline",
               _not_working),
    LateReason(texts.ON_LEAVE,
               "out of office in every candidate of the deadline's day: try the fallback colleague",
               _on_leave),
    LateReason(texts.NO_FREE_SLOT_BEFORE_DEADLINE,
               "every candidate before the deadline is taken",
               _fully_booked),
)  # fmt: skip


# -- the choice ---------------------------------------------------------------------------------


def choose_slot(
    colleague: StaffMember,
    busy: Iterable[BusyPeriod],
    *,
    calendar: BusinessCalendar,
    now: datetime,
    callback_by: datetime,
    preference: Preference | None = None,
    rules: SlotRules | None = None,
) -> SlotChoice:
    """The slot to book for a callback by `colleague` (see module docstring); pure."""
    rules = rules or SlotRules()
    require_aware("now", now)
    require_aware("callback_by", callback_by)
    tz = calendar.tz
    deadline = callback_by.astimezone(UTC)
    earliest = _earliest(now, rules)
    periods = tuple(
        BusyPeriod(p.start.astimezone(UTC), p.end.astimezone(UTC), p.kind) for p in busy
    )
    blocking = [p for p in periods if p.kind in rules.blocking]
    last_day = last_search_day(calendar, now, deadline, rules)

    first_free: Slot | None = None
    wanted: Slot | None = None
    for slot in candidates(colleague, calendar, earliest, last_day, rules):
        if not _free(slot, blocking):
            continue
        first_free = first_free or slot
        if _honours(preference, slot, tz):
            wanted = slot
            break
    chosen = wanted or first_free
    at_risk = chosen is None or chosen.end > deadline
    free_in_time = first_free is not None and first_free.end <= deadline
    # Offered only when the preference alone pushed the choice past the deadline.
    without_preference = first_free if preference and wanted and at_risk and free_in_time else None
    search = _Search(colleague, calendar, earliest, deadline, periods, rules)
    why_late = None if free_in_time else next(r.code for r in WHY_LATE if r.applies(search))
    reasons = _reasons(
        search,
        why_late=why_late,
        chosen=chosen,
        at_risk=at_risk,
        preference=preference,
        preference_met=preference is None or wanted is not None,
        first_free=first_free,
        without_preference=without_preference,
        last_day=last_day,
    )
    on_leave = why_late == texts.ON_LEAVE
    return SlotChoice(
        colleague=colleague,
        callback_by=deadline.astimezone(tz),
        slot=_in_zone(chosen, tz) if chosen else None,
        at_risk=at_risk,
        on_leave=on_leave,
        preference_met=preference is None or wanted is not None,
        reasons=reasons,
        earliest_without_preference=_in_zone(without_preference, tz)
        if without_preference
        else None,
        fallback=colleague.fallback if on_leave else None,
    )


def _reasons(
    search: _Search,
    *,
    why_late: str | None,
    chosen: Slot | None,
    at_risk: bool,
    preference: Preference | None,
    preference_met: bool,
    first_free: Slot | None,
    without_preference: Slot | None,
    last_day: date,
) -> tuple[Reason, ...]:
    """The reasons for the booker, in the order they read best: why, then what instead."""
    tz = search.calendar.tz
    values = {
        "colleague": search.colleague.display_name,
        "deadline": texts.deadline_text(search.deadline.astimezone(tz)),
        "unit": texts.unit(search.rules.length),
        "last_day": texts.day_text(last_day),
        "preference": preference.text if preference else "",
    }
    reasons: list[Reason] = []
    if why_late is not None:
        reasons.append(texts.reason(why_late, **values))
    if not preference_met and first_free is not None:
        reasons.append(texts.reason(texts.PREFERENCE_NOT_POSSIBLE, **values))
    if without_preference is not None:
        reasons.append(texts.reason(texts.PREFERENCE_AFTER_DEADLINE, **values))
    if chosen is None:
        reasons.append(texts.reason(texts.NO_SLOT_IN_HORIZON, **values))
    elif at_risk:
        slot_at = texts.slot_text(chosen.start.astimezone(tz))
        reasons.append(texts.reason(texts.LATER_SLOT, slot=slot_at, **values))
    if without_preference is not None:
        earlier = texts.slot_text(without_preference.start.astimezone(tz))
        reasons.append(texts.reason(texts.EARLIER_WITHOUT_PREFERENCE, earlier=earlier))
    return tuple(reasons)
