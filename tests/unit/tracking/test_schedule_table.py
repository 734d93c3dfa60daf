"""Hand-checked tables of the tracking schedule: states, next steps, escalations, overviews.

Every expected moment below was worked out by hand from a printed calendar and
the published Dutch public holidays, not computed by the code under test:
Koningsdag Tue 27 Apr 2027; Christmas 2026 Fri 25 Dec (26 Dec a Saturday),
2028 Mon 25 and Tue 26 Dec; Easter 2027: Good Friday 26 Mar, Easter Monday
29 Mar. Summer time starts Sun 29 Mar 2026 and Sun 28 Mar 2027 and ends Sun
25 Oct 2026 and Sun 31 Oct 2027. Moments carry their Dutch weekday ("vr 4 dec
2026 17:00", Amsterdam time; "... UTC" is a UTC clock); `support.at` refuses a
weekday that does not fit the date.

Office hours, unless a row names another variant: Mon-Fri 08:30-17:00.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from topcontact_mail.domain.calendar import (
    BusinessCalendar,
    ClosureRange,
    Interval,
    netherlands_holidays,
)
from topcontact_mail.domain.tracking import (
    SchedulePolicy,
    TargetState,
    escalations_due,
    next_escalation_time,
    next_overview_time,
    next_step,
    overview_due,
    state_at,
    warning_time,
)

from .support import AMSTERDAM, at, day, target

DAY = (Interval(time(8, 30), time(17, 0)),)
MON_TO_FRI = dict.fromkeys(range(1, 6), DAY)


def _calendar(**changes: Any) -> BusinessCalendar:
    return BusinessCalendar(
        tz=AMSTERDAM,
        office_hours=changes.pop("office_hours", MON_TO_FRI),
        holiday=netherlands_holidays(),
        **changes,
    )


VARIANTS = {
    "default": _calendar(),
    # Lunch break 12:00-13:00 every day.
    "lunch": _calendar(
        office_hours=dict.fromkeys(
            range(1, 6), (Interval(time(8, 30), time(12, 0)), Interval(time(13, 0), time(17, 0)))
        )
    ),
    # Friday closes at noon.
    "short-fri": _calendar(office_hours={**MON_TO_FRI, 5: (Interval(time(8, 30), time(12, 0)),)}),
    # Monday opens at 10:00.
    "late-mon": _calendar(office_hours={**MON_TO_FRI, 1: (Interval(time(10, 0), time(17, 0)),)}),
    # Closed between Christmas and New Year 2026.
    "closed-28-31dec26": _calendar(
        closed_ranges=(ClosureRange(date(2026, 12, 28), date(2026, 12, 31)),)
    ),
}

# now | variant | answer_by | warn workdays before | state | next step ("-": none) | what
STATES = """
# An ordinary week: due Friday 17:00
do 3 dec 2026 16:59 | default | vr 4 dec 2026 17:00 | 0 | on_time | warning vr 4 dec 2026 08:30 | the day before
vr 4 dec 2026 08:29:59 | default | vr 4 dec 2026 17:00 | 0 | on_time | warning vr 4 dec 2026 08:30 | a second before opening
vr 4 dec 2026 08:30 | default | vr 4 dec 2026 17:00 | 0 | warning | overdue vr 4 dec 2026 17:00 | at opening on the due day
vr 4 dec 2026 16:59:59 | default | vr 4 dec 2026 17:00 | 0 | warning | overdue vr 4 dec 2026 17:00 | the last second
vr 4 dec 2026 17:00 | default | vr 4 dec 2026 17:00 | 0 | overdue | - | at closing time
za 5 dec 2026 12:00 | default | vr 4 dec 2026 17:00 | 0 | overdue | - | the day after
do 3 dec 2026 08:29 | default | vr 4 dec 2026 17:00 | 1 | on_time | warning do 3 dec 2026 08:30 | one workday ahead: before
do 3 dec 2026 08:30 | default | vr 4 dec 2026 17:00 | 1 | warning | overdue vr 4 dec 2026 17:00 | one workday ahead: from opening
wo 2 dec 2026 12:00 | default | vr 4 dec 2026 17:00 | 2 | warning | overdue vr 4 dec 2026 17:00 | two workdays ahead

# A weekend before the due day
za 5 dec 2026 12:00 | default | ma 7 dec 2026 17:00 | 0 | on_time | warning ma 7 dec 2026 08:30 | due Monday, Saturday
za 5 dec 2026 12:00 | default | ma 7 dec 2026 17:00 | 1 | warning | overdue ma 7 dec 2026 17:00 | one workday ahead is Friday
vr 4 dec 2026 08:29 | default | ma 7 dec 2026 17:00 | 1 | on_time | warning vr 4 dec 2026 08:30 | Friday before opening

# Koningsdag, Tuesday 27 April 2027
ma 26 apr 2027 17:00 | default | wo 28 apr 2027 17:00 | 0 | on_time | warning wo 28 apr 2027 08:30 | due the day after Koningsdag
di 27 apr 2027 12:00 | default | wo 28 apr 2027 17:00 | 0 | on_time | warning wo 28 apr 2027 08:30 | on Koningsdag
ma 26 apr 2027 08:29 | default | wo 28 apr 2027 17:00 | 1 | on_time | warning ma 26 apr 2027 08:30 | one workday ahead skips Koningsdag
di 27 apr 2027 12:00 | default | wo 28 apr 2027 17:00 | 1 | warning | overdue wo 28 apr 2027 17:00 | warned since Monday

# Christmas 2026 (Friday 25 December)
do 24 dec 2026 08:29 | default | ma 28 dec 2026 17:00 | 1 | on_time | warning do 24 dec 2026 08:30 | one workday ahead skips Christmas and the weekend
do 24 dec 2026 12:00 | default | ma 28 dec 2026 17:00 | 1 | warning | overdue ma 28 dec 2026 17:00 | Christmas Eve
vr 25 dec 2026 12:00 | default | ma 28 dec 2026 17:00 | 0 | on_time | warning ma 28 dec 2026 08:30 | on Christmas Day

# Summer time starts Sunday 29 March 2026
vr 27 mrt 2026 07:29 UTC | default | ma 30 mrt 2026 17:00 | 1 | on_time | warning vr 27 mrt 2026 08:30 | 08:29 winter time
vr 27 mrt 2026 08:30 | default | ma 30 mrt 2026 17:00 | 1 | warning | overdue ma 30 mrt 2026 17:00 | warned in winter, due in summer
ma 30 mrt 2026 06:29 UTC | default | ma 30 mrt 2026 17:00 | 0 | on_time | warning ma 30 mrt 2026 08:30 | 08:29 summer time
ma 30 mrt 2026 06:30 UTC | default | ma 30 mrt 2026 17:00 | 0 | warning | overdue ma 30 mrt 2026 17:00 | 08:30 summer time
ma 30 mrt 2026 14:59 UTC | default | ma 30 mrt 2026 17:00 | 0 | warning | overdue ma 30 mrt 2026 17:00 | 16:59 summer time
ma 30 mrt 2026 15:00 UTC | default | ma 30 mrt 2026 17:00 | 0 | overdue | - | 17:00 summer time

# Winter time returns Sunday 25 October 2026
zo 25 okt 2026 00:30 UTC | default | ma 26 okt 2026 17:00 | 0 | on_time | warning ma 26 okt 2026 08:30 | 02:30 the first time
zo 25 okt 2026 01:30 UTC | default | ma 26 okt 2026 17:00 | 0 | on_time | warning ma 26 okt 2026 08:30 | 02:30 the second time
ma 26 okt 2026 07:29 UTC | default | ma 26 okt 2026 17:00 | 0 | on_time | warning ma 26 okt 2026 08:30 | 08:29 winter time
ma 26 okt 2026 07:30 UTC | default | ma 26 okt 2026 17:00 | 0 | warning | overdue ma 26 okt 2026 17:00 | 08:30 winter time
ma 26 okt 2026 16:00 UTC | default | ma 26 okt 2026 17:00 | 0 | overdue | - | 17:00 winter time
vr 23 okt 2026 06:30 UTC | default | ma 26 okt 2026 17:00 | 1 | warning | overdue ma 26 okt 2026 17:00 | warned in summer, due in winter

# Summer time starts Sunday 28 March 2027, inside Easter (Good Friday 26, Easter Monday 29 March)
do 25 mrt 2027 07:29 UTC | default | di 30 mrt 2027 17:00 | 1 | on_time | warning do 25 mrt 2027 08:30 | one workday ahead skips Easter
do 25 mrt 2027 07:30 UTC | default | di 30 mrt 2027 17:00 | 1 | warning | overdue di 30 mrt 2027 17:00 | 08:30 winter time
ma 29 mrt 2027 12:00 | default | di 30 mrt 2027 17:00 | 0 | on_time | warning di 30 mrt 2027 08:30 | on Easter Monday

# Winter time returns Sunday 31 October 2027
vr 29 okt 2027 17:00 | default | ma 1 nov 2027 17:00 | 0 | on_time | warning ma 1 nov 2027 08:30 | the Friday before
ma 1 nov 2027 07:30 UTC | default | ma 1 nov 2027 17:00 | 0 | warning | overdue ma 1 nov 2027 17:00 | 08:30 winter time
ma 1 nov 2027 15:59 UTC | default | ma 1 nov 2027 17:00 | 0 | warning | overdue ma 1 nov 2027 17:00 | 16:59 winter time
ma 1 nov 2027 16:00 UTC | default | ma 1 nov 2027 17:00 | 0 | overdue | - | 17:00 winter time

# Other office hours
vr 4 dec 2026 11:59 | short-fri | vr 4 dec 2026 12:00 | 0 | warning | overdue vr 4 dec 2026 12:00 | Friday closes at noon
vr 4 dec 2026 12:00 | short-fri | vr 4 dec 2026 12:00 | 0 | overdue | - | Friday noon is closing time
ma 7 dec 2026 09:59 | late-mon | ma 7 dec 2026 17:00 | 0 | on_time | warning ma 7 dec 2026 10:00 | Monday opens at 10:00
vr 4 dec 2026 12:30 | lunch | vr 4 dec 2026 17:00 | 0 | warning | overdue vr 4 dec 2026 17:00 | a lunch break changes nothing
"""


@dataclass(frozen=True)
class StateRow:
    now: datetime
    variant: str
    answer_by: datetime
    policy: SchedulePolicy
    state: TargetState
    next_state: TargetState | None
    next_at: datetime | None


def _state_rows() -> list[object]:
    rows: list[object] = []
    for line in STATES.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        now, variant, answer_by, ahead, state, step, what = (c.strip() for c in line.split("|"))
        assert variant in VARIANTS, f"table slip: unknown variant {variant!r}"
        next_state, next_at = None, None
        if step != "-":
            kind, moment = step.split(" ", 1)
            next_state, next_at = TargetState(kind), at(moment)
        row = StateRow(
            at(now),
            variant,
            at(answer_by),
            SchedulePolicy(int(ahead)),
            TargetState(state),
            next_state,
            next_at,
        )
        rows.append(pytest.param(row, id=f"{what} [{now}]"))
    return rows


@pytest.mark.parametrize("row", _state_rows())
def test_state_and_next_step_match_the_hand_checked_table(row: StateRow) -> None:
    calendar = VARIANTS[row.variant]

    assert state_at(row.answer_by, row.now, calendar, row.policy) is row.state
    step = next_step(row.answer_by, row.now, calendar, row.policy)
    if row.next_state is None:
        assert step is None
    else:
        assert step is not None
        assert row.next_at is not None
        assert step.state is row.next_state
        # The same instant, written in local time with the local offset.
        assert step.at.isoformat() == row.next_at.isoformat()


def test_the_warning_is_written_in_local_time() -> None:
    warn = warning_time(at("ma 30 mrt 2026 17:00"), VARIANTS["default"], SchedulePolicy(1))

    assert warn.isoformat() == "2026-03-27T08:30:00+01:00"


# now | variant | next escalation | next overview | what
NEXT = """
wo 2 dec 2026 07:00 | default | wo 2 dec 2026 08:30 | wo 2 dec 2026 08:30 | before opening
wo 2 dec 2026 08:30 | default | do 3 dec 2026 08:30 | do 3 dec 2026 08:30 | at opening: the next one
wo 2 dec 2026 12:00 | default | do 3 dec 2026 08:30 | do 3 dec 2026 08:30 | midday
vr 4 dec 2026 17:00 | default | ma 7 dec 2026 08:30 | ma 7 dec 2026 08:30 | Friday closing: Monday
za 5 dec 2026 12:00 | default | ma 7 dec 2026 08:30 | ma 7 dec 2026 08:30 | weekend
wo 2 dec 2026 12:30 | lunch | wo 2 dec 2026 13:00 | do 3 dec 2026 08:30 | lunch break: escalations may follow at 13:00
wo 2 dec 2026 13:00 | lunch | do 3 dec 2026 08:30 | do 3 dec 2026 08:30 | after lunch
vr 4 dec 2026 17:00 | late-mon | ma 7 dec 2026 10:00 | ma 7 dec 2026 10:00 | Monday opens at 10:00
ma 26 apr 2027 17:00 | default | wo 28 apr 2027 08:30 | wo 28 apr 2027 08:30 | over Koningsdag 2027
do 24 dec 2026 17:00 | default | ma 28 dec 2026 08:30 | ma 28 dec 2026 08:30 | over Christmas 2026
vr 22 dec 2028 17:00 | default | wo 27 dec 2028 08:30 | wo 27 dec 2028 08:30 | over Christmas 2028 (Monday and Tuesday)
do 24 dec 2026 17:00 | closed-28-31dec26 | ma 4 jan 2027 08:30 | ma 4 jan 2027 08:30 | closed until New Year (a Friday)
vr 27 mrt 2026 17:00 | default | ma 30 mrt 2026 08:30 | ma 30 mrt 2026 08:30 | over the start of summer time 2026
zo 29 mrt 2026 01:30 UTC | default | ma 30 mrt 2026 08:30 | ma 30 mrt 2026 08:30 | right after the change
vr 23 okt 2026 17:00 | default | ma 26 okt 2026 08:30 | ma 26 okt 2026 08:30 | over the end of summer time 2026
zo 25 okt 2026 00:30 UTC | default | ma 26 okt 2026 08:30 | ma 26 okt 2026 08:30 | 02:30 the first time
zo 25 okt 2026 01:30 UTC | default | ma 26 okt 2026 08:30 | ma 26 okt 2026 08:30 | 02:30 the second time
do 25 mrt 2027 17:00 | default | di 30 mrt 2027 08:30 | di 30 mrt 2027 08:30 | over Easter and summer time 2027
vr 29 okt 2027 17:00 | default | ma 1 nov 2027 08:30 | ma 1 nov 2027 08:30 | over the end of summer time 2027
"""


def _next_rows() -> list[object]:
    rows: list[object] = []
    for line in NEXT.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        now, variant, escalation, overview, what = (c.strip() for c in line.split("|"))
        rows.append(pytest.param(now, variant, escalation, overview, id=f"{what} [{now}]"))
    return rows


@pytest.mark.parametrize(("now", "variant", "escalation", "overview"), _next_rows())
def test_next_escalation_and_overview_times_match_the_table(
    now: str, variant: str, escalation: str, overview: str
) -> None:
    calendar = VARIANTS[variant]

    assert next_escalation_time(at(now), calendar).isoformat() == at(escalation).isoformat()
    assert next_overview_time(at(now), calendar).isoformat() == at(overview).isoformat()


# -- escalations: (now, targets, last escalated, expected) ---------------------------------------

A = target("A", "vr 27 nov 2026 10:00")  # due vr 4 dec 2026 17:00
B = target("B", "vr 27 nov 2026 18:00")  # due ma 7 dec 2026 17:00
C = target("C", "vr 27 nov 2026 11:00", answered_at="do 3 dec 2026 10:00")
K = target("K", "ma 19 apr 2027 10:00", "ma 26 apr 2027 17:00")
X = target("X", "do 17 dec 2026 10:00", "do 24 dec 2026 17:00")
D = target("D", "vr 20 mrt 2026 10:00", "vr 27 mrt 2026 17:00")
E = target("E", "vr 16 okt 2026 10:00", "vr 23 okt 2026 17:00")
WEEK = (A, B, C)

ESCALATIONS = [
    ("vr 4 dec 2026 16:59", WEEK, {}, "", "not overdue yet"),
    ("vr 4 dec 2026 17:00", WEEK, {}, "", "overdue at closing time, but the office is closed"),
    ("vr 4 dec 2026 20:00", WEEK, {}, "", "never at night"),
    ("za 5 dec 2026 10:00", WEEK, {}, "", "never in a weekend"),
    ("ma 7 dec 2026 08:29", WEEK, {}, "", "not before opening"),
    ("ma 7 dec 2026 08:30", WEEK, {}, "A", "at opening; the answered one is left out"),
    ("ma 7 dec 2026 13:00", WEEK, {"A": "ma 7 dec 2026 08:30"}, "", "once per workday"),
    ("ma 7 dec 2026 16:59", WEEK, {"A": "ma 7 dec 2026 08:30"}, "", "still once that day"),
    ("di 8 dec 2026 08:30", WEEK, {"A": "ma 7 dec 2026 08:30"}, "A B", "again the next workday"),
    ("di 8 dec 2026 10:00", WEEK, {"A": "di 8 dec 2026 08:30"}, "B", "a restart mid-day"),
    ("di 8 dec 2026 10:00", WEEK, {"A": "di 8 dec 2026 08:30", "B": "di 8 dec 2026 08:30"}, "",
     "a restart after everything was sent"),
    ("di 27 apr 2027 10:00", (K,), {}, "", "never on Koningsdag"),
    ("wo 28 apr 2027 08:30", (K,), {}, "K", "the day after Koningsdag"),
    ("vr 25 dec 2026 10:00", (X,), {}, "", "never on Christmas Day"),
    ("ma 28 dec 2026 08:30", (X,), {"X": "do 24 dec 2026 17:30"}, "X", "after Christmas"),
    ("ma 30 mrt 2026 06:29 UTC", (D,), {}, "", "08:29 on the first summer Monday"),
    ("ma 30 mrt 2026 06:30 UTC", (D,), {}, "D", "08:30 on the first summer Monday"),
    ("di 31 mrt 2026 06:30 UTC", (D,), {"D": "ma 30 mrt 2026 21:59 UTC"}, "D",
     "escalated Monday 23:59 local: Tuesday is another day"),
    ("di 31 mrt 2026 06:30 UTC", (D,), {"D": "ma 30 mrt 2026 22:00 UTC"}, "",
     "escalated 00:00 local Tuesday (Monday in UTC): the day is local"),
    ("ma 26 okt 2026 07:29 UTC", (E,), {}, "", "08:29 on the first winter Monday"),
    ("ma 26 okt 2026 07:30 UTC", (E,), {}, "E", "08:30 on the first winter Monday"),
    ("di 27 okt 2026 07:30 UTC", (E,), {"E": "ma 26 okt 2026 22:59 UTC"}, "E",
     "escalated Monday 23:59 local"),
    ("di 27 okt 2026 07:30 UTC", (E,), {"E": "ma 26 okt 2026 23:00 UTC"}, "",
     "escalated 00:00 local Tuesday"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("now", "targets", "last", "expected", "what"), ESCALATIONS, ids=[e[4] for e in ESCALATIONS]
)
def test_escalations_match_the_hand_checked_table(
    now: str, targets: tuple[Any, ...], last: dict[str, str], expected: str, what: str
) -> None:
    last_escalated = {item: at(moment) for item, moment in last.items()}

    due = escalations_due(targets, last_escalated, at(now), VARIANTS["default"])

    assert [t.item_id for t in due] == expected.split()


OVERVIEWS = [
    ("ma 7 dec 2026 08:30", "vr 4 dec 2026", "ma 7 dec 2026", "at opening"),
    ("ma 7 dec 2026 08:29", "vr 4 dec 2026", None, "not before opening"),
    ("ma 7 dec 2026 10:00", "ma 7 dec 2026", None, "sent already today"),
    ("ma 7 dec 2026 14:00", None, "ma 7 dec 2026", "late, after a restart, still today"),
    ("ma 7 dec 2026 17:00", "vr 4 dec 2026", None, "not after closing"),
    ("za 5 dec 2026 10:00", "vr 4 dec 2026", None, "not in a weekend"),
    ("di 27 apr 2027 10:00", "ma 26 apr 2027", None, "not on Koningsdag"),
    ("wo 28 apr 2027 08:30", "ma 26 apr 2027", "wo 28 apr 2027", "the day after Koningsdag"),
    ("ma 30 mrt 2026 06:29 UTC", "vr 27 mrt 2026", None, "08:29 summer time"),
    ("ma 30 mrt 2026 06:30 UTC", "vr 27 mrt 2026", "ma 30 mrt 2026", "08:30 summer time"),
]


@pytest.mark.parametrize(
    ("now", "last", "expected", "what"), OVERVIEWS, ids=[o[3] for o in OVERVIEWS]
)
def test_the_overview_is_due_once_per_workday_in_office_hours(
    now: str, last: str | None, expected: str | None, what: str
) -> None:
    due = overview_due(at(now), VARIANTS["default"], day(last) if last else None)

    assert due == (day(expected) if expected else None)


def test_a_utc_now_gives_local_answers() -> None:
    moment = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)  # 17:00 in Amsterdam

    assert state_at(at("vr 4 dec 2026 17:00"), moment, VARIANTS["default"]) is TargetState.OVERDUE
    assert next_overview_time(moment, VARIANTS["default"]).tzinfo == AMSTERDAM
