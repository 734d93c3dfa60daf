"""After booking: what a callback meeting's state in Outlook means, as an ordered table of rules.

The concept: "Kun je een afspraak ... niet nakomen, neem contact op met de
klant en maak een nieuwe afspraak." The service looks at each planned meeting
(`Seen`: what the organiser's calendar and the colleague's copy show) and
`assess` says what to do; read `FOLLOW_UP` top to bottom, the first rule that
applies decides:

1. `done`: a done category is on the meeting (either copy): the call was made;
2. `cancelled`: the meeting is gone from the organiser's calendar or cancelled;
3. `declined`: the colleague declined;
4. `moved_late`: someone moved it to end after the term (and later than booked);
5. `moved`: someone moved it, still fine: the new time is kept;
6. `missed`: the slot ended `missed_after` ago and nobody marked it done;
7. otherwise nothing changes (`keep`).

Rules 2 to 4 ask for a new slot (`rebook`). Pure: the caller passes `now`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from topcontact_mail.domain.callbacks.model import require_aware
from topcontact_mail.domain.callbacks.words import fold


class Action(StrEnum):
    KEEP = "keep"
    DONE = "done"
    MISSED = "missed"
    REBOOK = "rebook"
    MOVED = "moved"


@dataclass(frozen=True)
class Planned:
    """The meeting as the service booked it."""

    start: datetime
    end: datetime
    callback_by: datetime

    def __post_init__(self) -> None:
        for name in ("start", "end", "callback_by"):
            require_aware(name, getattr(self, name))


@dataclass(frozen=True)
class Seen:
    """The meeting as Outlook shows it now; `found` False: not in the organiser's calendar."""

    found: bool
    cancelled: bool = False
    start: datetime | None = None
    end: datetime | None = None
    #: The colleague's answer: none, accepted, tentative or declined.
    response: str = "none"
    #: Categories on the organiser's copy and on the colleague's own copy.
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class FollowUpPolicy:
    done_categories: tuple[str, ...] = ("Teruggebeld",)
    missed_after: timedelta = timedelta(minutes=60)


@dataclass(frozen=True)
class Assessment:
    """What to do, which rule said so, and for `moved` the meeting's new time."""

    action: Action
    rule: str
    detail: str
    start: datetime | None = None
    end: datetime | None = None


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _moved(planned: Planned, seen: Seen) -> bool:
    return (
        seen.start is not None
        and seen.end is not None
        and (_utc(seen.start) != _utc(planned.start) or _utc(seen.end) != _utc(planned.end))
    )


@dataclass(frozen=True)
class _Case:
    planned: Planned
    seen: Seen
    now: datetime
    policy: FollowUpPolicy


def _done(case: _Case) -> str | None:
    wanted = {fold(c) for c in case.policy.done_categories if fold(c)}
    marked = [c for c in case.seen.categories if fold(c) in wanted]
    return f"the category {marked[0]!r} is on the meeting" if marked else None


def _cancelled(case: _Case) -> str | None:
    if not case.seen.found:
        return "the meeting is no longer in the organiser's calendar"
    return "the meeting was cancelled" if case.seen.cancelled else None


def _declined(case: _Case) -> str | None:
    return "the colleague declined the meeting" if case.seen.response == "declined" else None


def _moved_late(case: _Case) -> str | None:
    if not _moved(case.planned, case.seen) or case.seen.end is None:
        return None
    end = _utc(case.seen.end)
    if end > _utc(case.planned.callback_by) and end > _utc(case.planned.end):
        return f"the meeting was moved to end at {case.seen.end.isoformat()}, after the term"
    return None


def _moved_in_time(case: _Case) -> str | None:
    if not _moved(case.planned, case.seen) or case.seen.start is None:
        return None
    return f"the meeting was moved to {case.seen.start.isoformat()}"


def _missed(case: _Case) -> str | None:
    end = _utc(case.seen.end or case.planned.end)
    if _utc(case.now) >= end + case.policy.missed_after:
        return "the slot has passed and nobody marked the call as done"
    return None


@dataclass(frozen=True)
class FollowUpRule:
    """One line of the follow-up table."""

    name: str
    action: Action
    summary: str
    applies: Callable[[_Case], str | None]


FOLLOW_UP: tuple[FollowUpRule, ...] = (
    FollowUpRule("done", Action.DONE, "a done category on either copy of the meeting", _done),
    FollowUpRule("cancelled", Action.REBOOK,
                 "gone from the organiser's calendar, or cancelled", _cancelled),
    FollowUpRule("declined", Action.REBOOK, "the colleague declined", _declined),
    FollowUpRule("moved_late", Action.REBOOK,
                 "moved to end after the term and later than booked", _moved_late),
    FollowUpRule("moved", Action.MOVED, "moved, and still fine: the new time is kept",
                 _moved_in_time),
    FollowUpRule("missed", Action.MISSED,
                 "the slot ended `missed_after` ago without a done category", _missed),
)  # fmt: skip


def assess(
    planned: Planned, seen: Seen, *, now: datetime, policy: FollowUpPolicy | None = None
) -> Assessment:
    """What to do about one planned callback meeting (see module docstring); pure."""
    require_aware("now", now)
    case = _Case(planned, seen, now, policy or FollowUpPolicy())
    for rule in FOLLOW_UP:
        detail = rule.applies(case)
        if detail is not None:
            moved = rule.action is Action.MOVED
            return Assessment(
                rule.action,
                rule.name,
                detail,
                start=seen.start if moved else None,
                end=seen.end if moved else None,
            )
    return Assessment(Action.KEEP, "keep", "nothing changed")
