"""The daily overview holds what is due today and the next workday, what is overdue, and callbacks."""

from __future__ import annotations

from topcontact_mail.domain.tracking import CallbackState, TrackedCallback, daily_overview

from .support import CALENDAR, at, day, target


def callback(ref: str, slot: str, state: CallbackState = CallbackState.PLANNED) -> TrackedCallback:
    return TrackedCallback(
        ref=ref,
        booked_at=at("do 3 dec 2026 10:00"),
        callback_by=at("vr 4 dec 2026 17:00"),
        slot_start=at(slot),
        state=state,
        colleague="Jan de Vries",
    )


TARGETS = [
    target("overdue", "ma 23 nov 2026 10:00"),  # due ma 30 nov 17:00
    target("today-late", "ma 30 nov 2026 11:00"),  # due ma 7 dec 17:00
    target("today-early", "ma 30 nov 2026 10:00"),  # due ma 7 dec 17:00
    target("next", "di 1 dec 2026 10:00"),  # due di 8 dec 17:00
    target("later", "wo 2 dec 2026 10:00"),  # due wo 9 dec 17:00
    target("answered", "ma 30 nov 2026 09:00", answered_at="vr 4 dec 2026 10:00"),
]
CALLBACKS = [
    callback("call-2", "ma 7 dec 2026 14:00"),
    callback("call-1", "ma 7 dec 2026 09:00"),
    callback("call-tomorrow", "di 8 dec 2026 09:00"),
    callback("done-today", "ma 7 dec 2026 08:30", CallbackState.DONE),
    callback("missed-friday", "vr 4 dec 2026 15:00", CallbackState.MISSED),
    callback("missed-thursday", "do 3 dec 2026 15:00", CallbackState.MISSED),
    callback("rebooked", "ma 7 dec 2026 10:00", CallbackState.REBOOKED),
]


def test_the_monday_overview() -> None:
    overview = daily_overview(TARGETS, CALLBACKS, at("ma 7 dec 2026 08:30"), CALENDAR)

    assert (overview.day, overview.next_workday) == (day("ma 7 dec 2026"), day("di 8 dec 2026"))
    assert [t.item_id for t in overview.due_today] == ["today-early", "today-late"]
    assert [t.item_id for t in overview.due_next_workday] == ["next"]
    assert [t.item_id for t in overview.overdue] == ["overdue"]
    assert [c.ref for c in overview.callbacks_today] == ["call-1", "call-2"]
    # Missed since the previous workday (Friday) only: each missed callback is shown once.
    assert [c.ref for c in overview.missed_callbacks] == ["missed-friday"]
    assert not overview.empty


def test_on_friday_the_next_workday_is_monday() -> None:
    overview = daily_overview(TARGETS, CALLBACKS, at("vr 4 dec 2026 08:30"), CALENDAR)

    assert overview.next_workday == day("ma 7 dec 2026")
    # "answered" is answered only at 10:00: at 08:30 it is still open.
    assert [t.item_id for t in overview.due_next_workday] == [
        "answered",
        "today-early",
        "today-late",
    ]
    assert [c.ref for c in overview.missed_callbacks] == ["missed-thursday"]


def test_after_koningsdag_missed_callbacks_of_the_monday_before_are_shown() -> None:
    missed = TrackedCallback(
        "m",
        at("vr 23 apr 2027 10:00"),
        at("ma 26 apr 2027 17:00"),
        at("ma 26 apr 2027 16:00"),
        CallbackState.MISSED,
    )

    overview = daily_overview([], [missed], at("wo 28 apr 2027 08:30"), CALENDAR)

    assert [c.ref for c in overview.missed_callbacks] == ["m"]
    assert overview.next_workday == day("do 29 apr 2027")


def test_in_a_weekend_the_overview_is_that_of_monday() -> None:
    overview = daily_overview(TARGETS, [], at("za 5 dec 2026 10:00"), CALENDAR)

    assert overview.day == day("ma 7 dec 2026")


def test_a_quiet_day_is_empty() -> None:
    assert daily_overview([], [], at("ma 7 dec 2026 08:30"), CALENDAR).empty
