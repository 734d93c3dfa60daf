"""Shared pieces of the callback tests: a staff list, and moments written with their weekday."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from topcontact_mail.domain.calendar import Interval
from topcontact_mail.domain.callbacks import StaffMember, WorkingHours

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

_WEEKDAYS = ("ma", "di", "wo", "do", "vr", "za", "zo")
_MONTHS = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
_MOMENT = re.compile(r"^(\w\w) (\d{1,2}) (\w{3}) (\d{4})(?: (\d{1,2}):(\d{2}))?$")


def day(text: str) -> date:
    """ "di 1 dec 2026" as a date; the weekday must match, so a slip in a table cannot pass."""
    return at(text).date()


def at(text: str) -> datetime:
    """ "di 1 dec 2026 10:15" as an Amsterdam moment; the weekday must match the date."""
    match = _MOMENT.match(text.strip())
    if match is None:
        raise ValueError(f"not a moment like 'di 1 dec 2026 10:15': {text!r}")
    weekday, d, month, year, hour, minute = match.groups()
    moment = datetime(int(year), _MONTHS.index(month) + 1, int(d), int(hour or 0), int(minute or 0))
    if _WEEKDAYS[moment.weekday()] != weekday:
        raise ValueError(f"{text!r}: {moment:%d %b %Y} is a {_WEEKDAYS[moment.weekday()]}")
    return moment.replace(tzinfo=AMSTERDAM)


def hours(spec: str) -> tuple[Interval, ...]:
    """ "08:30-12:00 12:30-17:00" as intervals."""
    result = []
    for part in spec.split():
        start, end = part.split("-")
        result.append(Interval(time.fromisoformat(start), time.fromisoformat(end)))
    return tuple(result)


JAN = StaffMember(
    "Jan de Vries",
    "j.devries@woonservice.example",
    aliases=("JdV",),
    fallback="a.bakker@woonservice.example",
)
JAN_B = StaffMember("Jan Bakker", "jan.bakker@woonservice.example")
ANOUK = StaffMember("Bakker, Anouk", "a.bakker@woonservice.example", aliases=("Anouk B",))
JOSE = StaffMember("José van den Berg", "j.vandenberg@woonservice.example")
#: Works Monday, Tuesday, Thursday and Friday; off on Wednesday.
PETRA = StaffMember(
    "Petra Smit",
    "p.smit@woonservice.example",
    working_hours=WorkingHours(dict.fromkeys((1, 2, 4, 5), hours("08:30-17:00"))),
)
STAFF = (JAN, JAN_B, ANOUK, JOSE, PETRA)
