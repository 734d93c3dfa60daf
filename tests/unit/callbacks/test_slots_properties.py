"""Property tests of slot choice over random calendars, working hours, busy periods and moments.

The rules a slot must keep are judged by an oracle written here from the inputs
themselves: the instants on the grid, the working intervals of the weekday, the
busy periods compared in UTC. The oracle walks every grid instant from the
earliest allowed moment, so "the earliest slot" is checked, not assumed. Only
`BusinessCalendar.is_workday` is trusted (its own properties are tested in
tests/unit/calendar).

Generated hours include the night but never start or end between 01:00 and
03:00, where London and Amsterdam skip or repeat an hour (an end in a skipped
hour is the calendar's own case, see tests/unit/calendar/test_dst_night_closing.py);
an interval may span those hours. Moments cluster around the DST
weekends of 2026 and 2027 so the changes are crossed often.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from topcontact_mail.domain.calendar import BusinessCalendar, Interval, netherlands_holidays
from topcontact_mail.domain.callbacks import (
    BusyKind,
    BusyPeriod,
    Preference,
    SlotChoice,
    SlotRules,
    StaffMember,
    WorkingHours,
    choose_slot,
)
from topcontact_mail.domain.callbacks.slots import last_search_day

PROPERTY_SETTINGS = settings(max_examples=120, deadline=None)
ZONES = (ZoneInfo("Europe/Amsterdam"), ZoneInfo("Europe/London"))
DUTCH_HOLIDAYS = netherlands_holidays()
BLOCKING = frozenset({BusyKind.BUSY, BusyKind.TENTATIVE, BusyKind.OOF, BusyKind.UNKNOWN})
DST_DAYS = (date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31))

# Ends of working intervals, night hours included (so the DST changes fall inside some), but
# never between 01:00 and 03:00, where London and Amsterdam skip or repeat an hour; preference
# windows stay within the day.
_QUARTERS = [m for m in range(0, 24 * 60, 15) if not 60 <= m <= 180]
_DAY_QUARTERS = list(range(6 * 60, 21 * 60 + 1, 15))


def _no_holidays(day: date) -> str | None:
    return None


@st.composite
def day_hours(draw: st.DrawFn) -> tuple[Interval, ...]:
    count = draw(st.integers(0, 2))
    ends = sorted(
        draw(
            st.lists(
                st.sampled_from(_QUARTERS), min_size=2 * count, max_size=2 * count, unique=True
            )
        )
    )
    return tuple(
        Interval(time(a // 60, a % 60), time(b // 60, b % 60))
        for a, b in zip(ends[::2], ends[1::2], strict=True)
    )


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    hours = {weekday: draw(day_hours()) for weekday in range(1, 8)}
    if not any(hours.values()):
        hours[draw(st.integers(1, 5))] = (Interval(time(8, 30), time(17, 0)),)
    return BusinessCalendar(
        tz=draw(st.sampled_from(ZONES)),
        office_hours=hours,
        holiday=draw(st.sampled_from([DUTCH_HOLIDAYS, _no_holidays])),
    )


@st.composite
def colleagues(draw: st.DrawFn) -> StaffMember:
    own = draw(st.booleans())
    hours = WorkingHours({d: draw(day_hours()) for d in range(1, 8)}) if own else None
    return StaffMember(
        "Jan de Vries",
        "jan@woonservice.example",
        working_hours=hours,
        fallback="anouk@woonservice.example",
    )


@st.composite
def moments(draw: st.DrawFn, tz: ZoneInfo) -> datetime:
    where = draw(st.sampled_from(["any", "near a change", "at a change"]))
    if where == "any":
        base, minutes = datetime(2026, 1, 1, tzinfo=UTC), st.integers(0, 2 * 365 * 24 * 60)
    else:
        # Both zones change at 01:00 UTC on the same Sundays.
        base = datetime.combine(draw(st.sampled_from(DST_DAYS)), time(1), tzinfo=UTC)
        wide = where == "near a change"
        minutes = st.integers(-4 * 24 * 60, 2 * 24 * 60) if wide else st.integers(-150, 150)
    return (base + timedelta(minutes=draw(minutes))).astimezone(tz)


@st.composite
def busy_lists(draw: st.DrawFn, now: datetime) -> list[BusyPeriod]:
    periods = []
    for _ in range(draw(st.integers(0, 8))):
        # In UTC: timedelta arithmetic on a zoned datetime would be wall-clock arithmetic.
        start = now.astimezone(UTC) + timedelta(
            minutes=draw(st.integers(-24 * 60, 8 * 24 * 60)) // 5 * 5
        )
        length = timedelta(
            minutes=draw(st.sampled_from([0, 10, 15, 30, 60, 125, 240, 24 * 60, 3 * 24 * 60]))
        )
        kind = draw(st.sampled_from(list(BusyKind)))
        zone = draw(st.sampled_from([UTC, now.tzinfo]))
        periods.append(BusyPeriod(start.astimezone(zone), (start + length).astimezone(zone), kind))
    return periods


@st.composite
def preferences(draw: st.DrawFn) -> Preference | None:
    shape = draw(st.sampled_from(["none", "from", "until", "window", "window"]))
    if shape == "none":
        return None
    start = draw(st.sampled_from(_DAY_QUARTERS[:-8]))
    # Narrow windows too, so a slot longer than the window, or reaching past it, is tried.
    end = start + draw(st.sampled_from([15, 30, 45, 60, 120]))
    clock = time(start // 60, start % 60), time(end // 60, end % 60)
    if shape == "from":
        return Preference("generated", clock[0], None)
    if shape == "until":
        return Preference("generated", None, clock[1])
    return Preference("generated", *clock)


rules_strategy = st.builds(
    SlotRules,
    length=st.sampled_from([timedelta(minutes=m) for m in (10, 15, 30, 45, 60)]),
    lead_time=st.sampled_from([timedelta(minutes=m) for m in (0, 15, 60, 120)]),
    grid=st.sampled_from([timedelta(minutes=m) for m in (10, 15, 30)]),
    horizon_workdays=st.integers(1, 3),
)


@dataclass(frozen=True)
class Case:
    calendar: BusinessCalendar
    colleague: StaffMember
    now: datetime
    callback_by: datetime
    busy: list[BusyPeriod]
    preference: Preference | None
    rules: SlotRules

    @property
    def tz(self) -> ZoneInfo:
        return self.calendar.tz

    @property
    def earliest(self) -> datetime:
        return self.now.astimezone(UTC) + self.rules.lead_time

    def choose(self) -> SlotChoice:
        return choose_slot(
            self.colleague,
            self.busy,
            calendar=self.calendar,
            now=self.now,
            callback_by=self.callback_by,
            preference=self.preference,
            rules=self.rules,
        )

    # -- the oracle -------------------------------------------------------------------------

    def intervals(self, day: date) -> tuple[Interval, ...]:
        if self.colleague.working_hours is not None:
            return tuple(self.colleague.working_hours.by_weekday.get(day.isoweekday(), ()))
        return tuple(self.calendar.office_hours.get(day.isoweekday(), ()))

    def allowed(self, start: datetime, *, with_preference: bool) -> bool:
        """Whether a slot starting at the instant `start` keeps every rule."""
        start = start.astimezone(UTC)
        end = start + self.rules.length
        local, local_end = start.astimezone(self.tz), end.astimezone(self.tz)
        seconds = local.hour * 3600 + local.minute * 60 + local.second
        if local.fold or seconds % int(self.rules.grid.total_seconds()) or start < self.earliest:
            return False
        if not self.calendar.is_workday(local.date()):
            return False
        inside = any(
            i.start <= local.time()
            and local_end.date() == local.date()
            and local_end.time() <= i.end
            for i in self.intervals(local.date())
        )
        if not inside:
            return False
        for period in self.busy:
            blocks = period.kind in BLOCKING and period.start < period.end
            if blocks and period.start.astimezone(UTC) < end and start < period.end.astimezone(UTC):
                return False
        if with_preference and self.preference is not None:
            return self.preference.allows(local.time(), local_end.time())
        return True

    def grid_instants(self, until: datetime) -> list[datetime]:
        """Every instant on the grid from the earliest moment up to `until` (exclusive)."""
        step = self.rules.grid
        minutes = int(step.total_seconds() // 60)
        first = self.earliest.replace(second=0, microsecond=0)
        first += timedelta(minutes=-first.minute % minutes)
        if first < self.earliest:
            first += step
        result = []
        while first < until:
            result.append(first)
            first += step
        return result

    def horizon_end(self) -> datetime:
        last = last_search_day(self.calendar, self.now, self.callback_by, self.rules)
        return datetime.combine(last + timedelta(days=1), time(), tzinfo=self.tz).astimezone(UTC)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    calendar = draw(calendars())
    now = draw(moments(calendar.tz))
    booked_at = now.astimezone(UTC) - timedelta(
        minutes=draw(st.sampled_from([0, 0, 0, 30, 24 * 60]))
    )
    return Case(
        calendar=calendar,
        colleague=draw(colleagues()),
        now=now,
        callback_by=calendar.terms(booked_at).callback_by,
        busy=draw(busy_lists(now)),
        preference=draw(preferences()),
        rules=draw(rules_strategy),
    )


@PROPERTY_SETTINGS
@given(case=cases())
def test_a_chosen_slot_keeps_every_rule(case: Case) -> None:
    choice = case.choose()

    if choice.slot is not None:
        assert case.allowed(choice.slot.start, with_preference=choice.preference_met)
        assert choice.slot.length == case.rules.length
        assert choice.slot.start.tzinfo is case.tz
        assert choice.slot.start >= case.earliest


@PROPERTY_SETTINGS
@given(case=cases())
def test_no_earlier_grid_slot_keeps_the_rules(case: Case) -> None:
    choice = case.choose()
    until = choice.slot.start.astimezone(UTC) if choice.slot else case.horizon_end()

    earlier = case.grid_instants(until)

    assert not any(case.allowed(s, with_preference=choice.preference_met) for s in earlier)
    if not choice.preference_met:
        # Nothing anywhere in the horizon fits the preference, so the first free slot was taken.
        assert not any(
            case.allowed(s, with_preference=True) for s in case.grid_instants(case.horizon_end())
        )


@PROPERTY_SETTINGS
@given(case=cases())
def test_the_slot_is_in_time_whenever_an_in_time_slot_fits(case: Case) -> None:
    choice = case.choose()
    deadline = case.callback_by.astimezone(UTC)
    in_time = [
        s
        for s in case.grid_instants(deadline)
        if s + case.rules.length <= deadline and case.allowed(s, with_preference=True)
    ]

    assert choice.at_risk == (choice.slot is None or choice.slot.end > case.callback_by)
    if in_time:
        assert not choice.at_risk
        assert choice.slot is not None
        # Compared as instants: an ambiguous local time (the hour autumn repeats) never == another zone.
        assert choice.slot.start.astimezone(UTC) == in_time[0]
    if choice.at_risk:
        assert choice.reasons, "a late or missing slot is always explained"


@PROPERTY_SETTINGS
@given(case=cases())
def test_leave_is_only_said_when_late_and_names_the_fallback(case: Case) -> None:
    choice = case.choose()

    if choice.on_leave:
        assert choice.at_risk
        assert choice.fallback == case.colleague.fallback
        assert choice.codes[0] == "on_leave"
    else:
        assert choice.fallback is None


@settings(max_examples=60, deadline=None)
@given(case=cases())
def test_a_slot_is_the_same_instant_whichever_zone_the_inputs_are_written_in(case: Case) -> None:
    other = ZoneInfo("America/New_York")
    moved = Case(
        calendar=case.calendar,
        colleague=case.colleague,
        now=case.now.astimezone(other),
        callback_by=case.callback_by.astimezone(UTC),
        busy=[
            BusyPeriod(p.start.astimezone(other), p.end.astimezone(UTC), p.kind) for p in case.busy
        ],
        preference=case.preference,
        rules=case.rules,
    )

    assert moved.choose() == case.choose()
