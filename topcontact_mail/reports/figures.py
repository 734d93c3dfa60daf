"""The figures of one month for management: from the service's records, targets and callbacks.

Pure: every moment is read in the calendar's zone, `as_of` stands for "now",
and nothing of a message's content is ever read (the records hold none). The
definitions, exactly (docs/tracking.md, "The monthly report"):

- A message belongs to the month (and ISO week, and weekday) of its local
  *received* date; a callback to that of its local *booked_at* date; a target
  to that of its message.
- A message counts once: the decisions recorded when the same message is seen
  again (a message staff moved back, a full resynchronisation after switching
  backends, whose item ids differ) carry its Message-ID and the reason
  `already_handled` or `duplicate_message`; only the first decision counts
  (`distinct_messages`).
- `received`: every recorded decision. `acknowledged`: acknowledgements sent
  (`ack_state` "sent"); `acknowledgement_failed` / `acknowledgement_pending`:
  decided to acknowledge but given up / not yet sent. `skipped`: decided not
  to acknowledge, counted per reason code.
- `acknowledged_in_time`: of the messages decided to acknowledge whose
  outcome is known at `as_of` (sent, or `acknowledge_by` passed), those sent
  before `acknowledge_by` (the closing time of the 1st workday after the
  reception day).
- Targets are the tracked targets of their own (`joined_to` None): a message
  that shares an earlier target is not a promise of its own.
  `answered_in_time`: of the targets whose outcome is known at `as_of`
  (answered by then, or `answer_by` passed), those answered before
  `answer_by`. An answer after `as_of` is not known yet.
- *Workdays to answer* of an answered target: the number of workdays after
  the reception day D up to and including the workday the answer counts for
  (the answer moment's own reception day: its date when that is a workday and
  the answer came before closing time, otherwise the next workday), i.e.
  `calendar.workdays_between(D, calendar.reception_day(answered_at))`. 0 =
  answered on the reception day; a target is answered in time exactly when
  this is at most 5.
- Median and p90 use the nearest rank over the answered targets' workdays,
  sorted ascending: the value at rank ceil(p/100 * n) (1-based), no
  interpolation, so both are whole workdays; None when nothing was answered.
- Callbacks: `booked`; `in_time`: planned to start before `callback_by` and not
  missed; `done`, `rebooked`, `missed` by state.
- Workload per weekday: messages received and targets started per ISO weekday,
  with the number of such weekdays in the month.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from topcontact_mail.domain.calendar import BusinessCalendar
from topcontact_mail.domain.retention import SEEN_AGAIN, message_key
from topcontact_mail.domain.tracking.model import (
    CallbackState,
    TrackedCallback,
    TrackedTarget,
    utc,
)
from topcontact_mail.ports.store import MessageRecord

#: The answer term in workdays (DESIGN.md): answered in time means at most this many.
ANSWER_WORKDAYS = 5


class Privacy(StrEnum):
    #: Numbers only: no addresses, no subjects, no message ids.
    AGGREGATE = "aggregate"
    #: Numbers and a list of the late and overdue messages with address and subject.
    IDENTIFIED = "identified"


@dataclass(frozen=True)
class Share:
    """`met` out of `settled` (the cases whose outcome is known)."""

    met: int
    settled: int

    @property
    def ratio(self) -> float | None:
        return self.met / self.settled if self.settled else None


@dataclass(frozen=True)
class Figures:
    """The figures of one period (a month or one ISO week of it)."""

    received: int
    acknowledged: int
    acknowledgement_failed: int
    acknowledgement_pending: int
    skipped: int
    #: (reason code, count), most frequent first, then by code.
    skipped_by_reason: tuple[tuple[str, int], ...]
    acknowledged_in_time: Share
    targets: int
    answered: int
    answered_in_time: Share
    #: Targets still open at `as_of` whose `answer_by` has passed.
    overdue_open: int
    #: Targets still open at `as_of` and not yet due.
    open_on_time: int
    answer_workdays_median: int | None
    answer_workdays_p90: int | None
    callbacks_booked: int
    callbacks_in_time: int
    callbacks_done: int
    callbacks_rebooked: int
    callbacks_missed: int


@dataclass(frozen=True)
class WeekFigures:
    """One ISO week, limited to the days of the month."""

    key: str
    iso_year: int
    week: int
    first_day: date
    last_day: date
    figures: Figures


@dataclass(frozen=True)
class WeekdayLoad:
    """Work per ISO weekday (1 = Monday) over the month."""

    weekday: int
    received: int
    targets: int
    #: How many of this weekday the month has.
    days: int


@dataclass(frozen=True)
class MessageLine:
    """A late or overdue target, for a report asked for with `Privacy.IDENTIFIED`."""

    item_id: str
    sender: str | None
    subject: str | None
    received: datetime
    answer_by: datetime
    answered_at: datetime | None
    workdays: int | None
    #: "late" (answered after answer_by) or "overdue" (still open, answer_by passed).
    status: str


@dataclass(frozen=True)
class MonthReport:
    month: str
    zone: str
    as_of: datetime
    first_day: date
    last_day: date
    privacy: Privacy
    totals: Figures
    weeks: tuple[WeekFigures, ...]
    workload: tuple[WeekdayLoad, ...]
    messages: tuple[MessageLine, ...] = ()


#: Reasons of a decision about a message the service had already decided on (`SEEN_AGAIN`,
#: shared with the retention purge, which must keep the count the same).


def distinct_messages(records: Iterable[MessageRecord]) -> list[MessageRecord]:
    """One decision per message: a message seen again (same Message-ID, decided as already
    handled or a duplicate) is not received again. Message-IDs are compared by their one-way
    key (`domain.retention.message_key`), which is all a record keeps once its details are
    purged."""
    first: dict[str, MessageRecord] = {}
    kept: list[MessageRecord] = []
    later: list[MessageRecord] = []
    for record in records:
        key = message_key(record.internet_message_id)
        if not key:
            kept.append(record)
        elif record.reason in SEEN_AGAIN:
            later.append(record)
        elif key not in first:
            first[key] = record
            kept.append(record)
        else:
            kept.append(record)  # two real decisions: two messages that share a Message-ID
    for record in later:
        key = message_key(record.internet_message_id)
        if key not in first:
            first[key] = record
            kept.append(record)
    return kept


def month_bounds(month: str) -> tuple[date, date]:
    """First and last day of "YYYY-MM"; a malformed month is a ValueError naming it."""
    try:
        year_text, month_text = month.split("-")
        if len(year_text) != 4 or len(month_text) != 2:
            raise ValueError
        first = date(int(year_text), int(month_text), 1)
    except ValueError:
        raise ValueError(f"month must be written YYYY-MM, like 2026-12, not {month!r}") from None
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def figure_blocks(month: str) -> int:
    """How many blocks of figures `month_report` computes for `month`: its ISO weeks and the
    totals."""
    first, last = month_bounds(month)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return len({_iso_key(d) for d in days}) + 1


def nearest_rank(values: Sequence[int], percent: int) -> int | None:
    """The nearest-rank percentile: the value at 1-based rank ceil(percent/100 * n) when sorted."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(percent * len(ordered) / 100))
    return ordered[rank - 1]


def answer_workdays(target: TrackedTarget, calendar: BusinessCalendar) -> int | None:
    """Workdays from the reception day to the workday the answer counts for; None if unanswered."""
    if target.answered_at is None:
        return None
    answer_day = calendar.reception_day(target.answered_at)
    if answer_day <= target.reception_day:
        return 0
    return calendar.workdays_between(target.reception_day, answer_day)


def _figures(
    records: Sequence[MessageRecord],
    targets: Sequence[TrackedTarget],
    callbacks: Sequence[TrackedCallback],
    calendar: BusinessCalendar,
    as_of: datetime,
) -> Figures:
    now = utc(as_of)
    to_acknowledge = [r for r in records if r.acknowledge]
    ack_settled = ack_met = 0
    for record in to_acknowledge:
        deadline = utc(calendar.end_of_nth_workday_after(record.reception_day, 1))
        sent_at = record.ack_sent_at if record.ack_state == "sent" else None
        known = sent_at is not None and utc(sent_at) <= now
        if known or deadline <= now:
            ack_settled += 1
            ack_met += bool(known and sent_at is not None and utc(sent_at) < deadline)
    reasons = Counter(r.reason for r in records if not r.acknowledge)

    answered = [t for t in targets if not t.open_at(as_of)]
    open_targets = [t for t in targets if t.open_at(as_of)]
    overdue = [t for t in open_targets if utc(t.answer_by) <= now]
    in_time = [
        t for t in answered if t.answered_at is not None and utc(t.answered_at) < utc(t.answer_by)
    ]
    workdays = [w for t in answered if (w := answer_workdays(t, calendar)) is not None]

    return Figures(
        received=len(records),
        acknowledged=sum(r.ack_state == "sent" for r in to_acknowledge),
        acknowledgement_failed=sum(r.ack_state == "failed" for r in to_acknowledge),
        acknowledgement_pending=sum(
            r.ack_state in ("none", "intent", "dry_run") for r in to_acknowledge
        ),
        skipped=sum(reasons.values()),
        skipped_by_reason=tuple(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        acknowledged_in_time=Share(ack_met, ack_settled),
        targets=len(targets),
        answered=len(answered),
        answered_in_time=Share(len(in_time), len(answered) + len(overdue)),
        overdue_open=len(overdue),
        open_on_time=len(open_targets) - len(overdue),
        answer_workdays_median=nearest_rank(workdays, 50),
        answer_workdays_p90=nearest_rank(workdays, 90),
        callbacks_booked=len(callbacks),
        callbacks_in_time=sum(
            c.planned_in_time and c.state is not CallbackState.MISSED for c in callbacks
        ),
        callbacks_done=sum(c.state is CallbackState.DONE for c in callbacks),
        callbacks_rebooked=sum(c.state is CallbackState.REBOOKED for c in callbacks),
        callbacks_missed=sum(c.state is CallbackState.MISSED for c in callbacks),
    )


def _iso_key(day: date) -> tuple[int, int]:
    iso = day.isocalendar()
    return iso.year, iso.week


def _in_week(key: tuple[int, int]) -> Callable[[date], bool]:
    return lambda day: _iso_key(day) == key


def month_report(
    records: Iterable[MessageRecord],
    targets: Iterable[TrackedTarget],
    callbacks: Iterable[TrackedCallback],
    month: str,
    calendar: BusinessCalendar,
    as_of: datetime,
    *,
    privacy: Privacy = Privacy.AGGREGATE,
    subjects: Mapping[str, str] | None = None,
    on_block: Callable[[str], None] | None = None,
) -> MonthReport:
    """The figures of `month` ("YYYY-MM") as known at `as_of`, in total, per ISO week and weekday.

    `subjects` (item id -> subject) is read only with `Privacy.IDENTIFIED`, for
    the list of late and overdue messages; the service fetches them from the
    mailbox when it builds such a report and never stores them. `on_block` is
    called after each block of figures (every ISO week, then the totals) with its
    name: the progress of a long report (`figure_blocks(month)` of them).
    """
    first, last = month_bounds(month)

    def local_day(moment: datetime) -> date:
        return calendar.local(moment).date()

    def in_month(moment: datetime) -> bool:
        return first <= local_day(moment) <= last

    month_records = [r for r in distinct_messages(records) if in_month(r.received)]
    month_targets = [t for t in targets if t.joined_to is None and in_month(t.received)]
    month_callbacks = [c for c in callbacks if in_month(c.booked_at)]

    def figures_where(keep: Callable[[date], bool], name: str) -> Figures:
        figures = _figures(
            [r for r in month_records if keep(local_day(r.received))],
            [t for t in month_targets if keep(local_day(t.received))],
            [c for c in month_callbacks if keep(local_day(c.booked_at))],
            calendar,
            as_of,
        )
        if on_block is not None:
            on_block(name)
        return figures

    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    weeks: list[WeekFigures] = []
    for key in sorted({_iso_key(d) for d in days}):
        week_days = [d for d in days if _iso_key(d) == key]
        weeks.append(
            WeekFigures(
                key=f"{key[0]}-W{key[1]:02d}",
                iso_year=key[0],
                week=key[1],
                first_day=week_days[0],
                last_day=week_days[-1],
                figures=figures_where(_in_week(key), f"{key[0]}-W{key[1]:02d}"),
            )
        )

    workload = tuple(
        WeekdayLoad(
            weekday=weekday,
            received=sum(local_day(r.received).isoweekday() == weekday for r in month_records),
            targets=sum(local_day(t.received).isoweekday() == weekday for t in month_targets),
            days=sum(d.isoweekday() == weekday for d in days),
        )
        for weekday in range(1, 8)
    )

    messages: tuple[MessageLine, ...] = ()
    if privacy is Privacy.IDENTIFIED:
        messages = _late_and_overdue(month_targets, calendar, as_of, subjects or {})

    return MonthReport(
        month=month,
        zone=calendar.tz.key,
        as_of=calendar.local(as_of),
        first_day=first,
        last_day=last,
        privacy=privacy,
        totals=figures_where(lambda d: True, "total"),
        weeks=tuple(weeks),
        workload=workload,
        messages=messages,
    )


def _late_and_overdue(
    targets: Sequence[TrackedTarget],
    calendar: BusinessCalendar,
    as_of: datetime,
    subjects: Mapping[str, str],
) -> tuple[MessageLine, ...]:
    now = utc(as_of)
    lines: list[MessageLine] = []
    for t in sorted(targets, key=lambda t: (utc(t.answer_by), utc(t.received), t.item_id)):
        answered_at = t.answered_at if t.answered_at and utc(t.answered_at) <= now else None
        if answered_at is not None and utc(answered_at) >= utc(t.answer_by):
            status = "late"
        elif answered_at is None and utc(t.answer_by) <= now:
            status = "overdue"
        else:
            continue
        known = TrackedTarget(
            t.item_id, t.received, t.reception_day, t.answer_by, answered_at=answered_at
        )
        lines.append(
            MessageLine(
                item_id=t.item_id,
                sender=t.sender,
                subject=subjects.get(t.item_id),
                received=calendar.local(t.received),
                answer_by=calendar.local(t.answer_by),
                answered_at=calendar.local(answered_at) if answered_at else None,
                workdays=answer_workdays(known, calendar),
                status=status,
            )
        )
    return tuple(lines)
