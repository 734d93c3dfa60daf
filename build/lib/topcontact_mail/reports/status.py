"""Where the promises stand now: the open targets with their state, and the callbacks (`status`).

Pure, from the state store's targets and the callbacks, at a moment `as_of`:
one row per open promise with its due moment and state (on time, warning,
overdue; `domain/tracking/schedule.state_at`), worst first. A tenant's newer
message that shares an earlier open target is not a promise of its own (as in
the monthly report): it is named on that target's row (`joined`), and counted
only among `messages`. The counts of the rows by state; how many targets were
answered on `as_of`'s day; the callbacks planned from today on and those
missed. Nothing of a message's content: the store holds none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from topcontact_mail.domain.calendar import BusinessCalendar
from topcontact_mail.domain.tracking import (
    CallbackState,
    SchedulePolicy,
    TargetState,
    TrackedCallback,
    TrackedTarget,
    state_at,
)
from topcontact_mail.domain.tracking.model import utc

#: Names the shape of `status --json`; raised when a key changes meaning or disappears.
SCHEMA = "topcontact-mail/status/1"
_ORDER = {TargetState.OVERDUE: 0, TargetState.WARNING: 1, TargetState.ON_TIME: 2}


@dataclass(frozen=True)
class StatusRow:
    """One open promise: a message with its own target (or one whose shared target is met)."""

    item_id: str
    sender: str | None
    received: datetime
    answer_by: datetime
    state: TargetState
    #: The tenant's newer open messages that share this target.
    joined: tuple[str, ...]
    #: Workdays since the due day (0 unless overdue).
    workdays_overdue: int


@dataclass(frozen=True)
class Status:
    as_of: datetime
    zone: str
    rows: tuple[StatusRow, ...]
    #: Open promises (own targets) by state.
    on_time: int
    warning: int
    overdue: int
    #: Open messages, those sharing a target included.
    messages: int
    #: Targets answered on the local day of `as_of`.
    answered_today: int
    callbacks_planned: tuple[TrackedCallback, ...]
    callbacks_missed: tuple[TrackedCallback, ...]

    @property
    def needs_attention(self) -> bool:
        """Something is late: an overdue message or a missed callback."""
        return bool(self.overdue or self.callbacks_missed)


def status(
    targets: Iterable[TrackedTarget],
    callbacks: Iterable[TrackedCallback],
    as_of: datetime,
    calendar: BusinessCalendar,
    policy: SchedulePolicy | None = None,
) -> Status:
    """The status at `as_of`; what happened after it is not known yet."""
    policy = policy or SchedulePolicy()
    today = calendar.local(as_of).date()
    every = list(targets)
    open_targets = [t for t in every if t.open_at(as_of)]
    open_ids = {t.item_id for t in open_targets}
    answered_today = sum(
        t.answered_at is not None and calendar.local(t.answered_at).date() == today
        for t in every
        if not t.open_at(as_of)
    )
    joined: dict[str, list[str]] = {}
    promises = []
    for target in open_targets:
        if target.joined_to is not None and target.joined_to in open_ids:
            joined.setdefault(target.joined_to, []).append(target.item_id)
        else:
            promises.append(target)
    rows = []
    for target in promises:
        state = state_at(target.answer_by, as_of, calendar, policy)
        due = calendar.local(target.answer_by)
        rows.append(
            StatusRow(
                item_id=target.item_id,
                sender=target.sender,
                received=calendar.local(target.received),
                answer_by=due,
                state=state,
                joined=tuple(joined.get(target.item_id, ())),
                workdays_overdue=calendar.workdays_between(due.date(), today)
                if state is TargetState.OVERDUE and due.date() < today
                else 0,
            )
        )
    rows.sort(key=lambda r: (_ORDER[r.state], utc(r.answer_by), utc(r.received), r.item_id))
    calls = sorted(callbacks, key=lambda c: (utc(c.slot_start), c.ref))
    return Status(
        as_of=calendar.local(as_of),
        zone=calendar.tz.key,
        rows=tuple(rows),
        on_time=sum(r.state is TargetState.ON_TIME for r in rows),
        warning=sum(r.state is TargetState.WARNING for r in rows),
        overdue=sum(r.state is TargetState.OVERDUE for r in rows),
        messages=len(open_targets),
        answered_today=answered_today,
        callbacks_planned=tuple(
            c
            for c in calls
            if c.state is CallbackState.PLANNED and calendar.local(c.slot_start).date() >= today
        ),
        callbacks_missed=tuple(c for c in calls if c.state is CallbackState.MISSED),
    )


def _callback(c: TrackedCallback, calendar: BusinessCalendar) -> dict[str, Any]:
    return {
        "ref": c.ref,
        "slot": calendar.local(c.slot_start).isoformat(),
        "callback_by": calendar.local(c.callback_by).isoformat(),
        "colleague": c.colleague,
        "state": str(c.state),
    }


def status_dict(view: Status, calendar: BusinessCalendar) -> dict[str, Any]:
    """`status --json`: stable keys (`SCHEMA`), local ISO times."""
    return {
        "schema": SCHEMA,
        "as_of": view.as_of.isoformat(),
        "zone": view.zone,
        "counts": {
            "on_time": view.on_time,
            "warning": view.warning,
            "overdue": view.overdue,
            "open": view.on_time + view.warning + view.overdue,
            "messages": view.messages,
            "answered_today": view.answered_today,
            "callbacks_planned": len(view.callbacks_planned),
            "callbacks_missed": len(view.callbacks_missed),
        },
        "open": [
            {
                "item_id": r.item_id,
                "sender": r.sender,
                "received": r.received.isoformat(),
                "answer_by": r.answer_by.isoformat(),
                "state": str(r.state),
                "joined": list(r.joined),
                "workdays_overdue": r.workdays_overdue,
            }
            for r in view.rows
        ],
        "callbacks": {
            "planned": [_callback(c, calendar) for c in view.callbacks_planned],
            "missed": [_callback(c, calendar) for c in view.callbacks_missed],
        },
    }
