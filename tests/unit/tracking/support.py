"""Shared pieces of the tracking tests: moments written with their weekday, and a target maker."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from topcontact_mail.domain.calendar import default_calendar
from topcontact_mail.domain.tracking import TrackedTarget

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
CALENDAR = default_calendar()

_WEEKDAYS = ("ma", "di", "wo", "do", "vr", "za", "zo")
_MONTHS = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
_MOMENT = re.compile(
    r"^(\w\w) (\d{1,2}) (\w{3}) (\d{4})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?( UTC)?$"
)


def at(text: str) -> datetime:
    """ "vr 4 dec 2026 17:00" as an Amsterdam moment ("... UTC": the clock is UTC).

    The weekday must match the date, so a slip in a hand-written table cannot pass.
    """
    match = _MOMENT.match(text.strip())
    if match is None:
        raise ValueError(f"not a moment like 'vr 4 dec 2026 17:00': {text!r}")
    weekday, d, month, year, hour, minute, second, in_utc = match.groups()
    moment = datetime(
        int(year),
        _MONTHS.index(month) + 1,
        int(d),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
    )
    if _WEEKDAYS[moment.weekday()] != weekday:
        raise ValueError(f"{text!r}: {moment:%d %b %Y} is a {_WEEKDAYS[moment.weekday()]}")
    if in_utc:
        return moment.replace(tzinfo=UTC)
    return moment.replace(tzinfo=AMSTERDAM)


def day(text: str) -> date:
    """ "vr 4 dec 2026" as a date; the weekday must match."""
    return at(text).date()


def target(
    item_id: str = "m1",
    received: str = "vr 27 nov 2026 10:00",
    answer_by: str | None = None,
    *,
    conversation_id: str | None = "c1",
    sender: str | None = "tenant@example.org",
    answered_at: str | None = None,
    answered_how: str | None = None,
    joined_to: str | None = None,
) -> TrackedTarget:
    """A target received at `received`, due at its own term unless `answer_by` says otherwise."""
    moment = at(received)
    terms = CALENDAR.terms(moment)
    return TrackedTarget(
        item_id=item_id,
        received=moment,
        reception_day=terms.reception_day,
        answer_by=at(answer_by) if answer_by else terms.answer_by,
        conversation_id=conversation_id,
        sender=sender,
        joined_to=joined_to,
        answered_at=at(answered_at) if answered_at else None,
        answered_how=answered_how if answered_at else None,
    )


ONE_SECOND = timedelta(seconds=1)
