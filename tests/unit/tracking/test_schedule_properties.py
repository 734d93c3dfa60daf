"""Property tests of the tracking schedule over random moments, targets and office hours.

What must hold whatever the day: nothing is scheduled outside office hours; a
target's state only moves forward in time; the answers are derived from state
alone, so asking twice gives the same answer and a restart after acting
neither repeats nor misses an escalation, a warning or an overview.
Moments are drawn from 2025-2031, often near the daylight-saving changes.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from topcontact_mail.domain.calendar import (
    BusinessCalendar,
    ClosureRange,
    Interval,
    default_calendar,
    netherlands_holidays,
)
from topcontact_mail.domain.tracking import (
    SchedulePolicy,
    TrackedTarget,
    escalations_due,
    next_escalation_time,
    next_overview_time,
    next_step,
    next_wakeup,
    overview_due,
    state_at,
    warning_time,
    warnings_due,
)
from topcontact_mail.domain.tracking.schedule import opening_time

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
PROPERTIES = settings(max_examples=120, deadline=None)

CALENDARS = (
    default_calendar(),
    BusinessCalendar(
        tz=AMSTERDAM,
        office_hours=dict.fromkeys(
            range(1, 6), (Interval(time(8, 30), time(12, 0)), Interval(time(13, 0), time(17, 0)))
        ),
        holiday=netherlands_holidays(),
        closed_ranges=(ClosureRange(datetime(2026, 12, 28).date(), datetime(2027, 1, 1).date()),),
    ),
    BusinessCalendar(
        tz=AMSTERDAM,
        office_hours={
            1: (Interval(time(10, 0), time(16, 0)),),
            3: (Interval(time(7, 0), time(12, 0)),),
            6: (Interval(time(9, 0), time(12, 0)),),
        },
        holiday=netherlands_holidays(),
    ),
    BusinessCalendar(
        tz=ZoneInfo("America/New_York"),
        office_hours=dict.fromkeys(range(1, 6), (Interval(time(9, 0), time(17, 30)),)),
    ),
)

# The daylight-saving changes in Europe 2025-2031, as UTC instants (01:00 UTC on those Sundays).
_DST_CHANGES = [
    datetime(2025, 3, 30, 1, tzinfo=UTC), datetime(2025, 10, 26, 1, tzinfo=UTC),
    datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2027, 3, 28, 1, tzinfo=UTC), datetime(2027, 10, 31, 1, tzinfo=UTC),
    datetime(2028, 3, 26, 1, tzinfo=UTC), datetime(2028, 10, 29, 1, tzinfo=UTC),
]  # fmt: skip

_anywhere = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2031, 12, 31), timezones=st.just(UTC)
)
_near_dst = st.builds(
    lambda change, minutes: change + timedelta(minutes=minutes),
    st.sampled_from(_DST_CHANGES),
    st.integers(-4 * 24 * 60, 4 * 24 * 60),
)
moments = st.one_of(_anywhere, _near_dst)
calendars = st.sampled_from(CALENDARS)
policies = st.builds(SchedulePolicy, st.integers(0, 3))


@st.composite
def targets(draw: st.DrawFn, calendar: BusinessCalendar) -> TrackedTarget:
    received = draw(moments)
    terms = calendar.terms(received)
    answered_at = None
    if draw(st.booleans()):
        answered_at = received + timedelta(minutes=draw(st.integers(0, 20 * 24 * 60)))
    return TrackedTarget(
        item_id=f"m{draw(st.integers(0, 10_000))}",
        received=received,
        reception_day=terms.reception_day,
        answer_by=terms.answer_by,
        answered_at=answered_at,
    )


@st.composite
def situations(draw: st.DrawFn) -> tuple[BusinessCalendar, list[TrackedTarget], datetime]:
    calendar = draw(calendars)
    found = draw(st.lists(targets(calendar), max_size=6, unique_by=lambda t: t.item_id))
    return calendar, found, draw(moments)


@PROPERTIES
@given(calendar=calendars, now=moments)
def test_escalation_and_overview_times_are_in_office_hours_and_after_now(
    calendar: BusinessCalendar, now: datetime
) -> None:
    escalation = next_escalation_time(now, calendar)
    overview = next_overview_time(now, calendar)

    assert escalation > now
    assert overview > now
    assert calendar.is_open(escalation)
    assert calendar.is_open(overview)
    assert overview == opening_time(calendar, calendar.local(overview).date())
    assert escalation <= overview
    assert escalation.tzinfo == calendar.tz
    assert overview.tzinfo == calendar.tz


@PROPERTIES
@given(calendar=calendars, now=moments)
def test_no_office_opening_is_skipped(calendar: BusinessCalendar, now: datetime) -> None:
    escalation = next_escalation_time(now, calendar)

    # Just before it the office is closed, and it stays closed from now until then.
    probe = now
    while probe < escalation - timedelta(minutes=30):
        probe += timedelta(minutes=30)
        if probe > now:
            assert not calendar.is_open(probe) or calendar.is_open(now)
    assert not calendar.is_open(escalation - timedelta(microseconds=1)) or calendar.is_open(now)


@PROPERTIES
@given(situation=situations(), policy=policies)
def test_nothing_is_sent_outside_office_hours(
    situation: tuple[BusinessCalendar, list[TrackedTarget], datetime], policy: SchedulePolicy
) -> None:
    calendar, found, now = situation
    if calendar.is_open(now):
        return
    assert escalations_due(found, {}, now, calendar) == []
    assert warnings_due(found, set(), now, calendar, policy) == []
    assert overview_due(now, calendar, None) is None


@PROPERTIES
@given(
    calendar=calendars,
    received=moments,
    policy=policies,
    a=moments,
    b=moments,
)
def test_state_only_moves_forward(
    calendar: BusinessCalendar, received: datetime, policy: SchedulePolicy, a: datetime, b: datetime
) -> None:
    answer_by = calendar.terms(received).answer_by
    early, late = min(a, b), max(a, b)

    assert (
        state_at(answer_by, early, calendar, policy).rank
        <= state_at(answer_by, late, calendar, policy).rank
    )


@PROPERTIES
@given(calendar=calendars, received=moments, policy=policies, now=moments)
def test_the_next_step_is_where_the_state_changes(
    calendar: BusinessCalendar, received: datetime, policy: SchedulePolicy, now: datetime
) -> None:
    answer_by = calendar.terms(received).answer_by
    warn = warning_time(answer_by, calendar, policy)
    step = next_step(answer_by, now, calendar, policy)

    assert warn < answer_by
    assert calendar.is_open(warn)
    if step is None:
        assert now >= answer_by
        return
    assert step.at > now
    before = state_at(answer_by, step.at - timedelta(microseconds=1), calendar, policy)
    assert state_at(answer_by, now, calendar, policy) == before
    assert state_at(answer_by, step.at, calendar, policy) is step.state


@PROPERTIES
@given(situation=situations(), policy=policies)
def test_asking_twice_gives_the_same_answer(
    situation: tuple[BusinessCalendar, list[TrackedTarget], datetime], policy: SchedulePolicy
) -> None:
    calendar, found, now = situation

    assert escalations_due(found, {}, now, calendar) == escalations_due(found, {}, now, calendar)
    assert warnings_due(found, set(), now, calendar, policy) == warnings_due(
        found, set(), now, calendar, policy
    )
    assert next_wakeup(found, now, calendar, policy) == next_wakeup(found, now, calendar, policy)


@PROPERTIES
@given(situation=situations(), later=st.integers(0, 24 * 60))
def test_a_restart_the_same_day_repeats_no_escalation(
    situation: tuple[BusinessCalendar, list[TrackedTarget], datetime], later: int
) -> None:
    calendar, found, now = situation
    sent = escalations_due(found, {}, now, calendar)
    last = {t.item_id: now for t in sent}
    restart = now + timedelta(minutes=later)
    if calendar.local(restart).date() != calendar.local(now).date():
        return

    assert escalations_due(found, last, restart, calendar) == [
        t for t in escalations_due(found, {}, restart, calendar) if t.item_id not in last
    ]
    # The next workday, an overdue target still open is escalated again.
    following = next_overview_time(restart, calendar)
    again = {t.item_id for t in escalations_due(found, last, following, calendar)}
    assert {t.item_id for t in sent if t.open_at(following)} <= again


@PROPERTIES
@given(situation=situations(), policy=policies, later=st.integers(0, 3 * 24 * 60))
def test_a_warning_is_given_once(
    situation: tuple[BusinessCalendar, list[TrackedTarget], datetime],
    policy: SchedulePolicy,
    later: int,
) -> None:
    calendar, found, now = situation
    warned = {t.item_id for t in warnings_due(found, set(), now, calendar, policy)}

    after = warnings_due(found, warned, now + timedelta(minutes=later), calendar, policy)

    assert not warned & {t.item_id for t in after}


@PROPERTIES
@given(calendar=calendars, now=moments, later=st.integers(0, 24 * 60))
def test_the_overview_is_sent_once_per_workday_and_never_missed(
    calendar: BusinessCalendar, now: datetime, later: int
) -> None:
    day = overview_due(now, calendar, None)
    if day is not None:
        restart = now + timedelta(minutes=later)
        if calendar.local(restart).date() == day:
            assert overview_due(restart, calendar, day) is None
    # At the next opening, the overview of that day is due whatever was sent before it.
    following = next_overview_time(now, calendar)
    opening_day = calendar.local(following).date()
    assert overview_due(following, calendar, opening_day - timedelta(days=1)) == opening_day
    assert overview_due(following, calendar, None) == opening_day


@PROPERTIES
@given(situation=situations(), policy=policies)
def test_the_wakeup_comes_no_later_than_anything_due(
    situation: tuple[BusinessCalendar, list[TrackedTarget], datetime], policy: SchedulePolicy
) -> None:
    calendar, found, now = situation
    wakeup = next_wakeup(found, now, calendar, policy)

    assert wakeup > now
    assert wakeup <= next_escalation_time(now, calendar)
    for t in found:
        step = next_step(t.answer_by, now, calendar, policy)
        if t.open_at(now) and step is not None:
            assert wakeup <= step.at
