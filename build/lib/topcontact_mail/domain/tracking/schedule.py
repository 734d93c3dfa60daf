"""When the promise needs attention: warning, overdue, escalation and the daily overview.

Everything here is derived from state and `now`, never from a timer's memory,
so a restart mid-day neither repeats nor misses anything: the service keeps
which messages it warned about, when it last escalated each, and the day of
the last overview, and asks again.

- A target is *on time* until its warning time, then *warning* until
  `answer_by`, then *overdue* (`state_at`; monotone in time). The warning time
  is the opening time of the workday on which the target is due, or of the
  n-th workday before it (`SchedulePolicy.warn_workdays_before`).
- Mails to the team go out only during office hours of a workday: never at
  night, in a weekend or on a holiday (`BusinessCalendar.is_open`).
- An overdue target is escalated at most once per workday (`escalations_due`);
  since targets fall due at closing time, that is at the next opening.
- The daily overview is due once per workday, from opening time, also late
  after a restart while the office is open (`overview_due`).

All comparisons are between instants (in UTC): Python compares two datetimes
of one zone by wall clock, which is wrong in the hour winter time repeats.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from topcontact_mail.domain.calendar import BusinessCalendar
from topcontact_mail.domain.tracking.model import TrackedTarget, utc

#: How far `next_*` and the warning look before deciding the calendar has no workday there.
_SEARCH_LIMIT_DAYS = 800


class TargetState(StrEnum):
    ON_TIME = "on_time"
    WARNING = "warning"
    OVERDUE = "overdue"

    @property
    def rank(self) -> int:
        """Order in time: a target's state never goes down."""
        return _RANK[self]


_RANK = {TargetState.ON_TIME: 0, TargetState.WARNING: 1, TargetState.OVERDUE: 2}


@dataclass(frozen=True)
class SchedulePolicy:
    """When to warn: from the opening of the due day (0), or of the n-th workday before it."""

    warn_workdays_before: int = 0

    def __post_init__(self) -> None:
        if self.warn_workdays_before < 0:
            raise ValueError("warn_workdays_before must be 0 or more")


DEFAULT_POLICY = SchedulePolicy()


@dataclass(frozen=True)
class NextStep:
    """The next thing that happens to a target: it enters `state` at `at`."""

    state: TargetState
    at: datetime


# -- moments of the calendar ---------------------------------------------------------------------


def _at(calendar: BusinessCalendar, day: date, clock: time) -> datetime:
    # Through UTC and back, as BusinessCalendar does: a wall-clock time a DST change skips
    # becomes a real instant with the zone's true offset.
    return datetime.combine(day, clock, tzinfo=calendar.tz).astimezone(UTC).astimezone(calendar.tz)


def opening_time(calendar: BusinessCalendar, day: date) -> datetime:
    """The local opening time of workday `day` (the start of its first office-hours interval)."""
    return _at(calendar, day, calendar.intervals(day)[0].start)


def previous_workday(calendar: BusinessCalendar, day: date) -> date:
    """The last workday strictly before `day`."""
    candidate = day
    for _ in range(_SEARCH_LIMIT_DAYS):
        candidate -= timedelta(days=1)
        if calendar.is_workday(candidate):
            return candidate
    raise ValueError(f"no workday within {_SEARCH_LIMIT_DAYS} days before {day}")


def _interval_starts(calendar: BusinessCalendar, day: date) -> list[datetime]:
    if not calendar.is_workday(day):
        return []
    return [_at(calendar, day, interval.start) for interval in calendar.intervals(day)]


def _first_after(now: datetime, starts: Iterable[datetime]) -> datetime | None:
    after = [s for s in starts if utc(s) > utc(now)]
    return min(after, key=utc, default=None)


def next_escalation_time(now: datetime, calendar: BusinessCalendar) -> datetime:
    """The next moment, strictly after `now`, at which office hours of a workday begin.

    Targets fall due at closing time, so this is when the next escalations can
    be due; between such moments only a target falling due while the office is
    open (see `next_step`) can add one.
    """
    day = calendar.local(now).date() - timedelta(days=1)
    for _ in range(_SEARCH_LIMIT_DAYS):
        found = _first_after(now, _interval_starts(calendar, day))
        if found is not None:
            return found
        day += timedelta(days=1)
    raise ValueError(f"no office hours within {_SEARCH_LIMIT_DAYS} days after {now}")


def next_overview_time(now: datetime, calendar: BusinessCalendar) -> datetime:
    """The opening time of the first workday that opens strictly after `now`."""
    day = calendar.local(now).date() - timedelta(days=1)
    for _ in range(_SEARCH_LIMIT_DAYS):
        if calendar.is_workday(day):
            opening = opening_time(calendar, day)
            if utc(opening) > utc(now):
                return opening
        day += timedelta(days=1)
    raise ValueError(f"no workday within {_SEARCH_LIMIT_DAYS} days after {now}")


# -- one target ----------------------------------------------------------------------------------


def due_day(answer_by: datetime, calendar: BusinessCalendar) -> date | None:
    """The workday on which a target is due: the last workday opening before `answer_by`."""
    deadline = utc(answer_by)
    day = calendar.local(answer_by).date()
    for _ in range(_SEARCH_LIMIT_DAYS):
        if calendar.is_workday(day) and utc(opening_time(calendar, day)) < deadline:
            return day
        day -= timedelta(days=1)
    return None


def warning_time(
    answer_by: datetime, calendar: BusinessCalendar, policy: SchedulePolicy = DEFAULT_POLICY
) -> datetime:
    """From when a target is in its warning period (local time)."""
    day = due_day(answer_by, calendar)
    if day is None:
        return calendar.local(answer_by)
    for _ in range(policy.warn_workdays_before):
        day = previous_workday(calendar, day)
    return opening_time(calendar, day)


def state_at(
    answer_by: datetime,
    now: datetime,
    calendar: BusinessCalendar,
    policy: SchedulePolicy = DEFAULT_POLICY,
) -> TargetState:
    """The state at `now` of a target still open then."""
    moment = utc(now)
    if moment >= utc(answer_by):
        return TargetState.OVERDUE
    if moment >= utc(warning_time(answer_by, calendar, policy)):
        return TargetState.WARNING
    return TargetState.ON_TIME


def next_step(
    answer_by: datetime,
    now: datetime,
    calendar: BusinessCalendar,
    policy: SchedulePolicy = DEFAULT_POLICY,
) -> NextStep | None:
    """The next change of state strictly after `now`; None once overdue."""
    moment = utc(now)
    warn = warning_time(answer_by, calendar, policy)
    if moment < utc(warn):
        return NextStep(TargetState.WARNING, warn)
    if moment < utc(answer_by):
        return NextStep(TargetState.OVERDUE, calendar.local(answer_by))
    return None


# -- many targets --------------------------------------------------------------------------------


def _order(target: TrackedTarget) -> tuple[datetime, datetime, str]:
    return utc(target.answer_by), utc(target.received), target.item_id


def warnings_due(
    targets: Iterable[TrackedTarget],
    warned: Collection[str],
    now: datetime,
    calendar: BusinessCalendar,
    policy: SchedulePolicy = DEFAULT_POLICY,
) -> list[TrackedTarget]:
    """Open targets in their warning period not warned about yet; none outside office hours.

    A target that became overdue before anyone was warned is left to the escalation.
    """
    if not calendar.is_open(now):
        return []
    due = [
        t
        for t in targets
        if t.open_at(now)
        and t.item_id not in warned
        and state_at(t.answer_by, now, calendar, policy) is TargetState.WARNING
    ]
    return sorted(due, key=_order)


def escalations_due(
    targets: Iterable[TrackedTarget],
    last_escalated: Mapping[str, datetime],
    now: datetime,
    calendar: BusinessCalendar,
) -> list[TrackedTarget]:
    """Overdue open targets to escalate now: only in office hours, once per target per workday."""
    if not calendar.is_open(now):
        return []
    today = calendar.local(now).date()
    due = []
    for target in targets:
        if not target.open_at(now) or utc(now) < utc(target.answer_by):
            continue
        last = last_escalated.get(target.item_id)
        if last is not None and calendar.local(last).date() >= today:
            continue
        due.append(target)
    return sorted(due, key=_order)


def overview_due(now: datetime, calendar: BusinessCalendar, last_sent: date | None) -> date | None:
    """The workday whose overview is due at `now`, or None (sent already, or the office is closed)."""
    if not calendar.is_open(now):
        return None
    today = calendar.local(now).date()
    if last_sent is not None and last_sent >= today:
        return None
    return today


def next_wakeup(
    targets: Iterable[TrackedTarget],
    now: datetime,
    calendar: BusinessCalendar,
    policy: SchedulePolicy = DEFAULT_POLICY,
) -> datetime:
    """The next moment the tracking job must look again: a state change, an opening, an overview."""
    moments = [next_escalation_time(now, calendar), next_overview_time(now, calendar)]
    for target in targets:
        if target.open_at(now):
            step = next_step(target.answer_by, now, calendar, policy)
            if step is not None:
                moments.append(step.at)
    return calendar.local(min(moments, key=utc))
