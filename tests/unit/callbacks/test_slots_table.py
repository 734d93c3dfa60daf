"""Hand-checked table of slot choices: deadlines, working hours, holidays, DST, busy kinds, leave.

Every expected slot and deadline below was worked out by hand from a printed
calendar; the Dutch public holidays of 2026 on a weekday are Thu 1 Jan, Fri
3 Apr (Good Friday), Mon 6 Apr, Mon 27 Apr, Thu 14 May (Ascension), Mon 25 May
and Fri 25 Dec (Boxing Day is a Saturday). Summer time runs from Sunday 29
March 2026 to Sunday 25 October 2026. Moments are written with their weekday
("ma 30 nov 2026 10:15", local time in Amsterdam); `support.at` refuses a
weekday that does not fit the date, so a slip in the table cannot pass.

Unless a row says otherwise: the default calendar (Mon-Fri 08:30-17:00, Dutch
public holidays), Jan de Vries with office hours, slots of 15 minutes on a
quarter-hour grid, 15 minutes lead time, and callback_by from the moment of
booking, which is `now`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from topcontact_mail.domain.calendar import BusinessCalendar, ClosureRange, default_calendar
from topcontact_mail.domain.callbacks import (
    BusyKind,
    BusyPeriod,
    Preference,
    SlotRules,
    StaffMember,
    WorkingHours,
    choose_slot,
    search_window,
)
from topcontact_mail.domain.callbacks.slots import WHY_LATE

from .support import AMSTERDAM, JAN, PETRA, at, hours

DEFAULT = default_calendar()
CLOSED_AT_YEAR_END = BusinessCalendar(
    tz=AMSTERDAM,
    office_hours=DEFAULT.office_hours,
    holiday=DEFAULT.holiday,
    closed_ranges=(ClosureRange(date(2026, 12, 28), date(2026, 12, 31)),),
)
# Open on Sunday nights only, so a booking in the hour winter time repeats has slots right after it.
SUNDAY_NIGHTS = BusinessCalendar(tz=AMSTERDAM, office_hours={7: hours("03:00-06:00")})
WITH_LUNCH = StaffMember(
    "Sanne Kok",
    "s.kok@woonservice.example",
    working_hours=WorkingHours(dict.fromkeys(range(1, 6), hours("08:30-12:00 12:30-17:00"))),
)
EARLY_BIRD = StaffMember(
    "Bram Visser",
    "b.visser@woonservice.example",
    working_hours=WorkingHours(dict.fromkeys(range(1, 6), hours("07:30-16:00"))),
)
BUSY, TENTATIVE, OOF = BusyKind.BUSY, BusyKind.TENTATIVE, BusyKind.OOF
FREE, ELSEWHERE, UNKNOWN = BusyKind.FREE, BusyKind.WORKING_ELSEWHERE, BusyKind.UNKNOWN


def _moment(text: str) -> datetime:
    """A table moment, or an ISO moment with its offset ("2026-03-30T06:30+00:00")."""
    return datetime.fromisoformat(text) if text[:1].isdigit() else at(text)


@dataclass(frozen=True)
class Row:
    title: str
    now: str
    callback_by: str
    slot: str | None
    busy: tuple[tuple[str, str, BusyKind], ...] = ()
    codes: tuple[str, ...] = ()
    colleague: StaffMember = JAN
    preference: Preference | None = None
    rules: SlotRules = field(default_factory=SlotRules)
    calendar: BusinessCalendar = DEFAULT
    booked_at: str | None = None
    on_leave: bool = False
    offset: str | None = None

    def busy_periods(self) -> list[BusyPeriod]:
        return [BusyPeriod(_moment(a), _moment(b), kind) for a, b, kind in self.busy]


MIDDAG = Preference("middag", time(12), time(18))
NA_14 = Preference("na 14:00", time(14), None)
VOOR_11 = Preference("voor 11 uur", None, time(11))
AVOND = Preference("'s avonds", time(18), None)
LATE = ("no_free_slot_before_deadline", "later_slot")

TABLE = [
    # -- the grid and the lead time -----------------------------------------------------------
    Row("an empty calendar: the first quarter after the lead time",
        "ma 30 nov 2026 10:00", "di 1 dec 2026 17:00", "ma 30 nov 2026 10:15"),
    Row("the lead time ends between quarters: the next quarter",
        "ma 30 nov 2026 10:05", "di 1 dec 2026 17:00", "ma 30 nov 2026 10:30"),
    Row("a booking at 12:44 is called at 13:00",
        "ma 30 nov 2026 12:44", "di 1 dec 2026 17:00", "ma 30 nov 2026 13:00"),
    Row("before opening: the first slot of the day",
        "ma 30 nov 2026 07:00", "di 1 dec 2026 17:00", "ma 30 nov 2026 08:30"),
    Row("an hour of lead time",
        "ma 30 nov 2026 10:00", "di 1 dec 2026 17:00", "ma 30 nov 2026 11:00",
        rules=SlotRules(lead_time=timedelta(hours=1))),
    Row("half-hour slots on a half-hour grid",
        "ma 30 nov 2026 10:00", "di 1 dec 2026 17:00", "ma 30 nov 2026 10:30",
        rules=SlotRules(length=timedelta(minutes=30), grid=timedelta(minutes=30))),
    Row("own working hours before the office opens",
        "ma 30 nov 2026 07:00", "di 1 dec 2026 17:00", "ma 30 nov 2026 07:30",
        colleague=EARLY_BIRD),
    # -- busy periods ---------------------------------------------------------------------------
    Row("a full morning: the first slot after it",
        "ma 30 nov 2026 08:00", "di 1 dec 2026 17:00", "ma 30 nov 2026 12:00",
        busy=(("ma 30 nov 2026 08:30", "ma 30 nov 2026 12:00", BUSY),)),
    Row("a meeting ending between quarters: the next quarter",
        "ma 30 nov 2026 08:00", "di 1 dec 2026 17:00", "ma 30 nov 2026 10:15",
        busy=(("ma 30 nov 2026 08:30", "ma 30 nov 2026 10:10", BUSY),)),
    Row("a gap shorter than the slot is skipped",
        "ma 30 nov 2026 08:00", "di 1 dec 2026 17:00", "ma 30 nov 2026 12:00",
        busy=(("ma 30 nov 2026 08:30", "ma 30 nov 2026 10:00", BUSY),
              ("ma 30 nov 2026 10:15", "ma 30 nov 2026 12:00", BUSY)),
        rules=SlotRules(length=timedelta(minutes=30))),
    Row("a lunch break in the working hours",
        "ma 30 nov 2026 08:00", "di 1 dec 2026 17:00", "ma 30 nov 2026 12:30",
        busy=(("ma 30 nov 2026 08:30", "ma 30 nov 2026 12:00", BUSY),), colleague=WITH_LUNCH),
    Row("a slot never reaches into the lunch break",
        "ma 30 nov 2026 11:30", "di 1 dec 2026 17:00", "ma 30 nov 2026 12:30",
        rules=SlotRules(length=timedelta(minutes=30)), colleague=WITH_LUNCH),
    Row("tentative blocks",
        "ma 30 nov 2026 08:00", "di 1 dec 2026 17:00", "ma 30 nov 2026 09:00",
        busy=(("ma 30 nov 2026 08:30", "ma 30 nov 2026 09:00", TENTATIVE),)),
    Row("unknown blocks",
        "ma 30 nov 2026 08:00", "di 1 dec 2026 17:00", "ma 30 nov 2026 09:00",
        busy=(("ma 30 nov 2026 08:30", "ma 30 nov 2026 09:00", UNKNOWN),)),
    Row("a partial out-of-office blocks like busy",
        "ma 30 nov 2026 08:00", "di 1 dec 2026 17:00", "ma 30 nov 2026 12:00",
        busy=(("ma 30 nov 2026 08:30", "ma 30 nov 2026 12:00", OOF),)),
    Row("free and working-elsewhere do not block",
        "ma 30 nov 2026 08:00", "di 1 dec 2026 17:00", "ma 30 nov 2026 08:30",
        busy=(("ma 30 nov 2026 08:30", "ma 30 nov 2026 09:00", FREE),
              ("ma 30 nov 2026 08:30", "ma 30 nov 2026 17:00", ELSEWHERE))),
    Row("a slot ending at closing time on the deadline's day is in time",
        "di 1 dec 2026 08:00", "wo 2 dec 2026 17:00", "wo 2 dec 2026 16:45",
        busy=(("di 1 dec 2026 08:00", "wo 2 dec 2026 16:45", BUSY),)),
    Row("fully booked until the deadline: the first slot after it, at risk",
        "ma 30 nov 2026 08:00", "di 1 dec 2026 17:00", "wo 2 dec 2026 08:30",
        busy=(("ma 30 nov 2026 08:00", "di 1 dec 2026 17:00", BUSY),), codes=LATE),
    # -- the week, holidays and closures --------------------------------------------------------
    Row("a booking at 16:55 on a Friday: Monday morning",
        "vr 27 nov 2026 16:55", "ma 30 nov 2026 17:00", "ma 30 nov 2026 08:30"),
    Row("a booking on Saturday counts from Monday: Monday morning, due Tuesday",
        "za 28 nov 2026 11:00", "di 1 dec 2026 17:00", "ma 30 nov 2026 08:30"),
    Row("a part-timer off on Wednesday, the deadline's day: Thursday, at risk",
        "di 1 dec 2026 16:50", "wo 2 dec 2026 17:00", "do 3 dec 2026 08:30",
        colleague=PETRA, codes=("not_working_before_deadline", "later_slot")),
    Row("a part-timer booked on her day off: the next day she works, in time",
        "wo 2 dec 2026 10:00", "do 3 dec 2026 17:00", "do 3 dec 2026 08:30", colleague=PETRA),
    Row("Christmas Day in between: Monday 28 December",
        "do 24 dec 2026 16:00", "ma 28 dec 2026 17:00", "ma 28 dec 2026 08:30",
        busy=(("do 24 dec 2026 16:15", "do 24 dec 2026 17:00", BUSY),)),
    Row("closed between Christmas and New Year, New Year's Day a holiday: 4 January",
        "do 24 dec 2026 16:00", "ma 4 jan 2027 17:00", "ma 4 jan 2027 08:30",
        busy=(("do 24 dec 2026 16:15", "do 24 dec 2026 17:00", BUSY),),
        calendar=CLOSED_AT_YEAR_END),
    Row("Ascension Day in between: Friday",
        "wo 13 mei 2026 16:50", "vr 15 mei 2026 17:00", "vr 15 mei 2026 08:30"),
    Row("Good Friday and Easter Monday in between: Tuesday",
        "do 2 apr 2026 16:50", "di 7 apr 2026 17:00", "di 7 apr 2026 08:30"),
    # -- daylight saving time -------------------------------------------------------------------
    Row("Friday before summer time: Monday 08:30 at +02:00",
        "vr 27 mrt 2026 16:55", "ma 30 mrt 2026 17:00", "ma 30 mrt 2026 08:30", offset="+02:00"),
    Row("busy given in UTC on the Monday after summer time starts: 10:00 local",
        "za 28 mrt 2026 12:00", "di 31 mrt 2026 17:00", "ma 30 mrt 2026 10:00",
        busy=(("2026-03-30T06:30+00:00", "2026-03-30T08:00+00:00", BUSY),), offset="+02:00"),
    Row("booked in the night summer time starts",
        "2026-03-29T01:59+01:00", "di 31 mrt 2026 17:00", "ma 30 mrt 2026 08:30",
        offset="+02:00"),
    Row("Friday before winter time: Monday 08:30 at +01:00",
        "vr 23 okt 2026 16:55", "ma 26 okt 2026 17:00", "ma 26 okt 2026 08:30", offset="+01:00"),
    Row("a meeting until 10:00 local on the Monday after winter time starts",
        "vr 23 okt 2026 16:55", "ma 26 okt 2026 17:00", "ma 26 okt 2026 10:00",
        busy=(("ma 26 okt 2026 08:30", "ma 26 okt 2026 10:00", BUSY),), offset="+01:00"),
    Row("booked in the repeated hour winter time starts",
        "2026-10-25T02:30+01:00", "di 27 okt 2026 17:00", "ma 26 okt 2026 08:30",
        offset="+01:00"),
    Row("the lead time counts in real minutes across the change to winter time",
        "zo 25 okt 2026 02:50", "zo 1 nov 2026 06:00", "zo 25 okt 2026 03:00",
        calendar=SUNDAY_NIGHTS, offset="+01:00"),
    # -- leave ----------------------------------------------------------------------------------
    Row("on leave today and tomorrow: on leave, the first slot after, at risk",
        "ma 30 nov 2026 08:00", "di 1 dec 2026 17:00", "wo 2 dec 2026 08:30",
        busy=(("ma 30 nov 2026 00:00", "wo 2 dec 2026 00:00", OOF),),
        codes=("on_leave", "later_slot"), on_leave=True),
    Row("on leave the deadline's day and fully booked today: on leave",
        "ma 30 nov 2026 08:00", "di 1 dec 2026 17:00", "wo 2 dec 2026 08:30",
        busy=(("di 1 dec 2026 00:00", "wo 2 dec 2026 00:00", OOF),
              ("ma 30 nov 2026 08:00", "ma 30 nov 2026 17:00", BUSY)),
        codes=("on_leave", "later_slot"), on_leave=True),
    Row("on leave the deadline's day but free today: called today",
        "ma 30 nov 2026 08:00", "di 1 dec 2026 17:00", "ma 30 nov 2026 08:30",
        busy=(("di 1 dec 2026 00:00", "wo 2 dec 2026 00:00", OOF),)),
    Row("out of office the morning of the deadline's day only: not on leave",
        "ma 30 nov 2026 16:50", "di 1 dec 2026 17:00", "di 1 dec 2026 12:00",
        busy=(("di 1 dec 2026 08:30", "di 1 dec 2026 12:00", OOF),)),
    Row("busy, not away, the whole deadline's day: fully booked, not on leave",
        "ma 30 nov 2026 16:50", "di 1 dec 2026 17:00", "wo 2 dec 2026 08:30",
        busy=(("di 1 dec 2026 08:30", "di 1 dec 2026 17:00", BUSY),), codes=LATE),
    # -- the tenant's preference ----------------------------------------------------------------
    Row("'middag': the first afternoon slot",
        "ma 30 nov 2026 09:00", "di 1 dec 2026 17:00", "ma 30 nov 2026 12:00",
        preference=MIDDAG),
    Row("'voor 11 uur' with this morning full: tomorrow morning, in time",
        "ma 30 nov 2026 08:00", "di 1 dec 2026 17:00", "di 1 dec 2026 08:30",
        busy=(("ma 30 nov 2026 08:30", "ma 30 nov 2026 11:00", BUSY),), preference=VOOR_11),
    Row("'na 14:00' fits only after the deadline: at risk, with the earlier slot",
        "ma 30 nov 2026 09:00", "di 1 dec 2026 17:00", "wo 2 dec 2026 14:00",
        busy=(("ma 30 nov 2026 14:00", "ma 30 nov 2026 17:00", BUSY),
              ("di 1 dec 2026 14:00", "di 1 dec 2026 17:00", BUSY)),
        preference=NA_14,
        codes=("preference_after_deadline", "later_slot", "earlier_without_preference")),
    Row("'s avonds' never fits the working hours: the first free slot anyway",
        "ma 30 nov 2026 10:00", "di 1 dec 2026 17:00", "ma 30 nov 2026 10:15",
        preference=AVOND, codes=("preference_not_possible",)),
    # -- late reading and the horizon -----------------------------------------------------------
    Row("the booking was read after its deadline: at risk, deadline passed",
        "wo 2 dec 2026 10:00", "di 1 dec 2026 17:00", "wo 2 dec 2026 10:15",
        booked_at="ma 30 nov 2026 09:00", codes=("deadline_passed", "later_slot")),
    Row("nothing free within the horizon: no slot",
        "ma 30 nov 2026 08:00", "di 1 dec 2026 17:00", None,
        busy=(("ma 30 nov 2026 00:00", "ma 4 jan 2027 00:00", BUSY),),
        codes=("no_free_slot_before_deadline", "no_slot_in_horizon")),
    Row("the horizon is counted in workdays after the deadline's day",
        "ma 30 nov 2026 08:00", "di 1 dec 2026 17:00", "di 8 dec 2026 08:30",
        busy=(("ma 30 nov 2026 00:00", "di 8 dec 2026 00:00", BUSY),),
        rules=SlotRules(horizon_workdays=5), codes=LATE),
    Row("one workday less and the same calendar has no slot",
        "ma 30 nov 2026 08:00", "di 1 dec 2026 17:00", None,
        busy=(("ma 30 nov 2026 00:00", "di 8 dec 2026 00:00", BUSY),),
        rules=SlotRules(horizon_workdays=4),
        codes=("no_free_slot_before_deadline", "no_slot_in_horizon")),
]  # fmt: skip


@pytest.mark.parametrize("row", TABLE, ids=[row.title for row in TABLE])
def test_slot_choice(row: Row) -> None:
    now = _moment(row.now)
    callback_by = row.calendar.terms(_moment(row.booked_at or row.now)).callback_by
    assert callback_by == at(row.callback_by), "the hand-checked deadline"

    choice = choose_slot(
        row.colleague,
        row.busy_periods(),
        calendar=row.calendar,
        now=now,
        callback_by=callback_by,
        preference=row.preference,
        rules=row.rules,
    )

    if row.slot is None:
        assert choice.slot is None
    else:
        assert choice.slot is not None, choice.reasons
        assert choice.slot.start == at(row.slot)
        assert choice.slot.end == at(row.slot) + row.rules.length
        assert choice.slot.start.tzinfo is AMSTERDAM
        if row.offset:
            assert choice.slot.start.isoformat().endswith(row.offset)
    assert choice.codes == row.codes
    assert choice.at_risk == bool(row.codes and set(row.codes) != {"preference_not_possible"})
    assert choice.on_leave == row.on_leave
    assert choice.fallback == (row.colleague.fallback if row.on_leave else None)
    assert choice.preference_met == ("preference_not_possible" not in row.codes)
    assert choice.callback_by == callback_by


def test_every_explanation_of_a_late_slot_has_a_row() -> None:
    codes = {code for row in TABLE for code in row.codes}
    assert {reason.code for reason in WHY_LATE} <= codes


def test_the_texts_of_a_late_slot() -> None:
    row = next(r for r in TABLE if r.title.startswith("fully booked until the deadline"))
    now = at(row.now)

    choice = choose_slot(
        JAN, row.busy_periods(), calendar=DEFAULT, now=now, callback_by=at(row.callback_by)
    )

    assert [r.text for r in choice.reasons] == [
        "Jan de Vries heeft vóór dinsdag 1 december 17:00 geen vrij kwartier meer.",
        "Het eerste moment dat past is woensdag 2 december om 08:30.",
    ]


def test_the_texts_of_leave_and_of_a_preference_after_the_deadline() -> None:
    leave = next(r for r in TABLE if r.title.startswith("on leave today and tomorrow"))
    late = next(r for r in TABLE if r.title.startswith("'na 14:00'"))

    on_leave = choose_slot(
        JAN,
        leave.busy_periods(),
        calendar=DEFAULT,
        now=at(leave.now),
        callback_by=at(leave.callback_by),
    )
    preferred = choose_slot(
        JAN,
        late.busy_periods(),
        calendar=DEFAULT,
        now=at(late.now),
        callback_by=at(late.callback_by),
        preference=NA_14,
    )

    assert on_leave.reasons[0].text == (
        "Jan de Vries is afwezig en kan vóór dinsdag 1 december 17:00 niet terugbellen."
    )
    assert on_leave.fallback == "a.bakker@woonservice.example"
    assert [r.text for r in preferred.reasons] == [
        "De klant wil gebeld worden: 'na 14:00'. Dan heeft Jan de Vries vóór dinsdag "
        "1 december 17:00 geen vrij kwartier meer.",
        "Het eerste moment dat past is woensdag 2 december om 14:00.",
        "Zonder die voorkeur kan het al op maandag 30 november om 09:15.",
    ]
    assert preferred.earliest_without_preference is not None
    assert preferred.earliest_without_preference.start == at("ma 30 nov 2026 09:15")


def test_the_search_window_covers_the_horizon_for_a_free_busy_query() -> None:
    start, end = search_window(DEFAULT, at("ma 30 nov 2026 10:00"), at("di 1 dec 2026 17:00"))

    assert start == at("ma 30 nov 2026 10:00")
    # Ten workdays after Tuesday 1 December: Tuesday 15 December, to its very end.
    assert end == at("wo 16 dec 2026 00:00")


def test_naive_moments_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        choose_slot(
            JAN,
            [],
            calendar=DEFAULT,
            now=datetime(2026, 11, 30, 10),
            callback_by=at("di 1 dec 2026 17:00"),
        )


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"length": timedelta(0)}, "length"),
        ({"lead_time": timedelta(minutes=-1)}, "lead time"),
        ({"grid": timedelta(minutes=7)}, "grid"),
        ({"grid": timedelta(seconds=90)}, "grid"),
        ({"horizon_workdays": 0}, "horizon"),
    ],
)
def test_rules_that_make_no_sense_are_refused(rules: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SlotRules(**rules)


def test_the_slot_is_an_instant_whatever_zone_the_busy_periods_use() -> None:
    busy_utc = BusyPeriod(
        datetime(2026, 11, 30, 7, 30, tzinfo=UTC), datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    )

    choice = choose_slot(
        JAN,
        [busy_utc],
        calendar=DEFAULT,
        now=at("ma 30 nov 2026 08:00"),
        callback_by=at("di 1 dec 2026 17:00"),
    )

    assert choice.slot is not None
    assert choice.slot.start == at("ma 30 nov 2026 10:00")
