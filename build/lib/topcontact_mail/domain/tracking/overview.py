"""What the team's daily overview holds: due today, due next workday, overdue, callbacks.

Pure selection; the words and layout are the template's (`tracking_overview.nl.txt.j2`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from topcontact_mail.domain.calendar import BusinessCalendar
from topcontact_mail.domain.tracking.model import CallbackState, TrackedCallback, TrackedTarget, utc
from topcontact_mail.domain.tracking.schedule import previous_workday


@dataclass(frozen=True)
class DailyOverview:
    """The overview of workday `day` as seen at `now`; every list in order of time."""

    day: date
    next_workday: date
    #: Open targets due on `day` (not yet overdue at `now`).
    due_today: tuple[TrackedTarget, ...]
    #: Open targets due on `next_workday`.
    due_next_workday: tuple[TrackedTarget, ...]
    #: Open targets whose `answer_by` has passed.
    overdue: tuple[TrackedTarget, ...]
    #: Planned callbacks with a slot on `day`.
    callbacks_today: tuple[TrackedCallback, ...]
    #: Callbacks marked missed whose slot was since the previous workday (shown once).
    missed_callbacks: tuple[TrackedCallback, ...]

    @property
    def empty(self) -> bool:
        return not (
            self.due_today
            or self.due_next_workday
            or self.overdue
            or self.callbacks_today
            or self.missed_callbacks
        )


def _by_due(targets: Iterable[TrackedTarget]) -> tuple[TrackedTarget, ...]:
    return tuple(sorted(targets, key=lambda t: (utc(t.answer_by), utc(t.received), t.item_id)))


def _by_slot(callbacks: Iterable[TrackedCallback]) -> tuple[TrackedCallback, ...]:
    return tuple(sorted(callbacks, key=lambda c: (utc(c.slot_start), c.ref)))


def daily_overview(
    targets: Iterable[TrackedTarget],
    callbacks: Iterable[TrackedCallback],
    now: datetime,
    calendar: BusinessCalendar,
) -> DailyOverview:
    """The overview for the day of `now` (a workday, or the next one when `now` is not)."""
    local_today = calendar.local(now).date()
    day = local_today if calendar.is_workday(local_today) else calendar.next_workday(local_today)
    following = calendar.next_workday(day)
    since = previous_workday(calendar, day)
    moment = utc(now)
    open_targets = [t for t in targets if t.open_at(now)]
    overdue = [t for t in open_targets if utc(t.answer_by) <= moment]
    waiting = [t for t in open_targets if utc(t.answer_by) > moment]
    calls = list(callbacks)
    return DailyOverview(
        day=day,
        next_workday=following,
        due_today=_by_due(t for t in waiting if calendar.local(t.answer_by).date() == day),
        due_next_workday=_by_due(
            t for t in waiting if calendar.local(t.answer_by).date() == following
        ),
        overdue=_by_due(overdue),
        callbacks_today=_by_slot(
            c
            for c in calls
            if c.state is CallbackState.PLANNED and calendar.local(c.slot_start).date() == day
        ),
        missed_callbacks=_by_slot(
            c
            for c in calls
            if c.state is CallbackState.MISSED
            and since <= calendar.local(c.slot_start).date() < day
        ),
    )
