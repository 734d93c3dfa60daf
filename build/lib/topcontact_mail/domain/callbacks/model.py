"""The value types of callback booking: staff, working hours, busy periods, slots, forms and requests.

All frozen: a later service passes them between the form reader, the colleague
lookup, the slot choice and the calendar port without copying. Datetimes are
always timezone-aware; a naive one is a programming error and is refused.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from topcontact_mail.domain.calendar import Interval
from topcontact_mail.domain.callbacks.words import natural_name


def require_aware(name: str, moment: datetime) -> None:
    """Refuse a naive datetime: callback times are instants, never wall-clock guesses."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")


# -- problems ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormProblem:
    """Something the booker must know: a stable code, a plain Dutch text, and the field it is about.

    A *blocking* problem stops the booking (the service replies with the text and
    books nothing); a non-blocking one is a remark sent along with the booking.
    """

    code: str
    text: str
    field: str | None = None
    blocking: bool = True


@dataclass(frozen=True)
class Reason:
    """Why a slot choice is not simply "in time": a stable code and a plain Dutch text."""

    code: str
    text: str


# -- people -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkingHours:
    """When a colleague works, per ISO weekday (1 = Monday ... 7 = Sunday); a missing day is off."""

    by_weekday: Mapping[int, tuple[Interval, ...]]

    def __post_init__(self) -> None:
        for weekday, intervals in self.by_weekday.items():
            if weekday not in range(1, 8):
                raise ValueError(f"weekday {weekday} is not an ISO weekday 1..7")
            for before, after in itertools.pairwise(sorted(intervals)):
                if after.start < before.end:
                    raise ValueError(
                        f"working hours overlap on weekday {weekday}: "
                        f"{before.start:%H:%M}-{before.end:%H:%M} and "
                        f"{after.start:%H:%M}-{after.end:%H:%M}"
                    )

    def intervals(self, day: date) -> tuple[Interval, ...]:
        return tuple(sorted(self.by_weekday.get(day.isoweekday(), ())))


@dataclass(frozen=True)
class StaffMember:
    """A colleague who can be booked for callbacks, as configured."""

    name: str
    address: str
    aliases: tuple[str, ...] = ()
    #: None means the office hours of the business calendar.
    working_hours: WorkingHours | None = None
    #: The colleague to try when this one is away (an address from the same staff list).
    fallback: str | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a staff member needs a name")
        if "@" not in self.address:
            raise ValueError(f"staff member {self.name!r} has no valid address: {self.address!r}")

    @property
    def display_name(self) -> str:
        """The name as people say it, also when configured as "Vries, Jan de"."""
        return natural_name(self.name)


class ResolutionStatus(StrEnum):
    RESOLVED = "resolved"
    AMBIGUOUS = "ambiguous"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Resolution:
    """Who "for whom" in a form means.

    `candidates` lists every match when ambiguous and close-sounding suggestions
    when unknown; `problem` is the text for the booker unless resolved.
    """

    query: str
    status: ResolutionStatus
    member: StaffMember | None = None
    candidates: tuple[StaffMember, ...] = ()
    #: How the match was made: address, alias, mailbox, name, initial, surname or first_name.
    matched_by: str | None = None
    problem: FormProblem | None = None

    @property
    def resolved(self) -> bool:
        return self.status is ResolutionStatus.RESOLVED


# -- what the tenant told us --------------------------------------------------------------------


@dataclass(frozen=True)
class PhoneNumber:
    """A checked phone number: how people read it and how a `tel:` link dials it."""

    #: As the booker typed it.
    raw: str
    #: E.164, "+31612345678".
    e164: str
    #: National format for Dutch numbers ("06 12345678"), international for others ("+32 470 12 34 56").
    display: str
    #: ISO region of the number ("NL", "BE"), or None for non-geographic numbers.
    region: str | None
    #: mobile, fixed_line, fixed_line_or_mobile, toll_free, premium_rate, shared_cost, voip, ...
    kind: str

    @property
    def tel_uri(self) -> str:
        return f"tel:{self.e164}"


@dataclass(frozen=True)
class Preference:
    """When the tenant wants to be called, as a window of local time on any day.

    A slot honours it when it starts at or after `not_before` and ends at or
    before `not_after`; either side may be open. `text` is what the booker wrote.
    """

    text: str
    not_before: time | None = None
    not_after: time | None = None

    def __post_init__(self) -> None:
        if (
            self.not_before is not None
            and self.not_after is not None
            and self.not_after <= self.not_before
        ):
            raise ValueError(f"preference {self.text!r} ends before it starts")

    def allows(self, start: time, end: time) -> bool:
        """Whether a call from `start` to `end` (local wall-clock times) fits the window."""
        if self.not_before is not None and start < self.not_before:
            return False
        return self.not_after is None or end <= self.not_after


@dataclass(frozen=True)
class CallbackRequest:
    """A complete, checked callback booking, ready for slot choice and a meeting request."""

    colleague: StaffMember
    tenant_name: str
    phone: PhoneNumber
    subject: str
    notes: str
    preference: Preference | None
    #: Address of the colleague who promised the callback (the form's sender).
    booked_by: str
    #: When it was booked; `BusinessCalendar.terms(booked_at).callback_by` is the deadline.
    booked_at: datetime

    def __post_init__(self) -> None:
        require_aware("booked_at", self.booked_at)


# -- calendars and slots ------------------------------------------------------------------------


class BusyKind(StrEnum):
    """Free/busy status as Exchange reports it (EWS LegacyFreeBusyStatus, Graph freeBusyStatus)."""

    FREE = "free"
    TENTATIVE = "tentative"
    BUSY = "busy"
    OOF = "oof"
    WORKING_ELSEWHERE = "working_elsewhere"
    #: Graph's "unknown"; treated as busy, as nothing says the time is free.
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class BusyPeriod:
    """One entry of a colleague's free/busy information, [start, end)."""

    start: datetime
    end: datetime
    kind: BusyKind = BusyKind.BUSY

    def __post_init__(self) -> None:
        require_aware("start", self.start)
        require_aware("end", self.end)
        if self.end.astimezone(UTC) < self.start.astimezone(UTC):
            raise ValueError(f"busy period ends ({self.end}) before it starts ({self.start})")

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Whether [start, end) shares time with this period; an empty period blocks nothing."""
        # In UTC: Python compares two datetimes of one zone by wall clock, wrong in a repeated hour.
        own_start, own_end = self.start.astimezone(UTC), self.end.astimezone(UTC)
        return (
            own_start < own_end
            and own_start < end.astimezone(UTC)
            and start.astimezone(UTC) < own_end
        )


@dataclass(frozen=True)
class Slot:
    """A stretch of time in a colleague's calendar, [start, end), in the calendar's zone."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        require_aware("start", self.start)
        require_aware("end", self.end)
        # In UTC, as everywhere here: a slot in the hour winter time repeats must not look reversed.
        if self.end.astimezone(UTC) <= self.start.astimezone(UTC):
            raise ValueError(f"slot ends ({self.end}) before it starts ({self.start})")

    @property
    def length(self) -> timedelta:
        return self.end.astimezone(UTC) - self.start.astimezone(UTC)


@dataclass(frozen=True)
class SlotChoice:
    """The outcome of slot choice for one colleague.

    `slot` is the slot to book, or None when nothing is free within the search
    horizon. `at_risk` says the callback will not happen by `callback_by`;
    `on_leave` says the colleague is away the whole day of interest, so the
    caller should try `fallback` first. `earliest_without_preference` is the
    first slot before the deadline when only the tenant's preference pushed the
    choice past it, so the booker can decide.
    """

    colleague: StaffMember
    callback_by: datetime
    slot: Slot | None
    at_risk: bool
    on_leave: bool = False
    preference_met: bool = True
    reasons: tuple[Reason, ...] = ()
    earliest_without_preference: Slot | None = None
    fallback: str | None = None

    @property
    def in_time(self) -> bool:
        return not self.at_risk

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)
