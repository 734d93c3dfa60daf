"""The follow-up table of a booked callback: each rule hit squarely and missed narrowly.

The meeting below was booked for Jan de Vries on Tuesday 1 December 2026 from
10:00 to 10:15, with the term ending that day at 17:00. `now` is 09:00 that
day unless a row says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from topcontact_mail.domain.callbacks.followup import (
    FOLLOW_UP,
    Action,
    FollowUpPolicy,
    Planned,
    Seen,
    assess,
)

from .support import at

PLANNED = Planned(
    start=at("di 1 dec 2026 10:00"),
    end=at("di 1 dec 2026 10:15"),
    callback_by=at("di 1 dec 2026 17:00"),
)
AS_BOOKED = Seen(found=True, start=PLANNED.start, end=PLANNED.end)
BEFORE = at("di 1 dec 2026 09:00")


def seen(**changes: object) -> Seen:
    values: dict[str, object] = {
        "found": True,
        "start": PLANNED.start,
        "end": PLANNED.end,
        "response": "none",
        "categories": (),
        "cancelled": False,
    }
    values.update(changes)
    return Seen(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Row:
    title: str
    seen: Seen
    rule: str
    action: Action
    now: datetime = BEFORE


ROWS = [
    Row("done category on the colleague's copy", seen(categories=("Teruggebeld",)), "done",
        Action.DONE),
    Row("done category written otherwise, after the slot", seen(categories=("teruggebeld ",)),
        "done", Action.DONE, now=at("wo 2 dec 2026 12:00")),
    Row("miss: another category is no done sign", seen(categories=("Belangrijk",)), "keep",
        Action.KEEP),
    Row("gone from the organiser's calendar", Seen(found=False), "cancelled", Action.REBOOK),
    Row("cancelled by the organiser's side", seen(cancelled=True), "cancelled", Action.REBOOK),
    Row("declined by the colleague", seen(response="declined"), "declined", Action.REBOOK),
    Row("miss: tentatively accepted stays", seen(response="tentative"), "keep", Action.KEEP),
    Row("miss: accepted stays", seen(response="accepted"), "keep", Action.KEEP),
    Row("moved to the next day, after the term",
        seen(start=at("wo 2 dec 2026 10:00"), end=at("wo 2 dec 2026 10:15")), "moved_late",
        Action.REBOOK),
    Row("miss: moved later the same day, still in the term",
        seen(start=at("di 1 dec 2026 15:00"), end=at("di 1 dec 2026 15:15")), "moved",
        Action.MOVED),
    Row("miss: moved to end exactly at the term",
        seen(start=at("di 1 dec 2026 16:45"), end=at("di 1 dec 2026 17:00")), "moved",
        Action.MOVED),
    Row("the slot ended an hour ago without a done mark", AS_BOOKED, "missed", Action.MISSED,
        now=at("di 1 dec 2026 11:15")),
    Row("miss: 59 minutes after the slot is not missed yet", AS_BOOKED, "keep", Action.KEEP,
        now=at("di 1 dec 2026 11:14")),
    Row("miss: nothing changed before the slot", AS_BOOKED, "keep", Action.KEEP),
]  # fmt: skip


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.title)
def test_each_follow_up_rule(row: Row) -> None:
    result = assess(PLANNED, row.seen, now=row.now)

    assert (result.rule, result.action) == (row.rule, row.action)


def test_a_moved_meeting_keeps_its_new_time() -> None:
    result = assess(
        PLANNED,
        seen(start=at("di 1 dec 2026 15:00"), end=at("di 1 dec 2026 15:15")),
        now=BEFORE,
    )

    assert (result.start, result.end) == (at("di 1 dec 2026 15:00"), at("di 1 dec 2026 15:15"))


def test_done_wins_over_everything_else() -> None:
    result = assess(
        PLANNED,
        seen(cancelled=True, response="declined", categories=("Teruggebeld",)),
        now=at("vr 4 dec 2026 12:00"),
    )

    assert result.action is Action.DONE


def test_a_meeting_booked_late_and_moved_earlier_is_no_rebooking() -> None:
    late = Planned(
        start=at("wo 2 dec 2026 10:00"),
        end=at("wo 2 dec 2026 10:15"),
        callback_by=at("di 1 dec 2026 17:00"),
    )

    result = assess(
        late,
        seen(start=at("wo 2 dec 2026 09:00"), end=at("wo 2 dec 2026 09:15")),
        now=BEFORE,
    )

    assert result.action is Action.MOVED


def test_the_done_categories_and_the_grace_are_the_policy() -> None:
    policy = FollowUpPolicy(done_categories=("Gebeld",), missed_after=timedelta(minutes=5))

    assert assess(PLANNED, seen(categories=("gebeld",)), now=BEFORE, policy=policy).action is (
        Action.DONE
    )
    assert (
        assess(PLANNED, AS_BOOKED, now=at("di 1 dec 2026 10:20"), policy=policy).action
        is Action.MISSED
    )


def test_the_table_lists_every_rule_once_in_order() -> None:
    assert [r.name for r in FOLLOW_UP] == [
        "done",
        "cancelled",
        "declined",
        "moved_late",
        "moved",
        "missed",
    ]


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        assess(PLANNED, AS_BOOKED, now=datetime(2026, 12, 1, 9))
