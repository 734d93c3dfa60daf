"""Hand-checked table of response terms: reception day and the three deadlines.

Every expected value below was worked out by hand from a printed calendar and the
published list of Dutch public holidays; none is computed by the code under test
or by the `holidays` package. Easter Sundays (checked against a published Easter
table): 20 Apr 2025, 5 Apr 2026, 28 Mar 2027, 16 Apr 2028, 1 Apr 2029,
21 Apr 2030, 13 Apr 2031. From those: Good Friday = Easter - 2, Easter Monday =
Easter + 1, Ascension = Easter + 39, Whit Monday = Easter + 50.

Holidays on a weekday, 2025-2031:
  2025  Wed 1 Jan, Fri 18 Apr, Mon 21 Apr, Mon 5 May (Liberation Day, 2025 % 5 == 0),
        Thu 29 May, Mon 9 Jun, Thu 25 Dec, Fri 26 Dec            (King's Day Sat 26 Apr)
  2026  Thu 1 Jan, Fri 3 Apr, Mon 6 Apr, Mon 27 Apr, Thu 14 May, Mon 25 May, Fri 25 Dec
  2027  Fri 1 Jan, Fri 26 Mar, Mon 29 Mar, Tue 27 Apr, Thu 6 May, Mon 17 May
                                                                 (Christmas Sat/Sun)
  2028  Fri 14 Apr, Mon 17 Apr, Thu 27 Apr, Thu 25 May, Mon 5 Jun, Mon 25 Dec, Tue 26 Dec
                                                                 (New Year Sat)
  2029  Mon 1 Jan, Fri 30 Mar, Mon 2 Apr, Fri 27 Apr, Thu 10 May, Mon 21 May,
        Tue 25 Dec, Wed 26 Dec
  2030  Tue 1 Jan, Fri 19 Apr, Mon 22 Apr, Thu 30 May, Mon 10 Jun, Wed 25 Dec, Thu 26 Dec
                                              (King's Day Sat 27 Apr, Liberation Sun 5 May)
  2031  Wed 1 Jan, Fri 11 Apr, Mon 14 Apr, Thu 22 May, Mon 2 Jun, Thu 25 Dec, Fri 26 Dec
                                                  (27 Apr is a Sunday: King's Day Sat 26 Apr)
  2032  Thu 1 Jan

Summer time (+02:00) runs from the last Sunday of March to the last Sunday of
October: 30 Mar-26 Oct 2025, 29 Mar-25 Oct 2026, 28 Mar-31 Oct 2027,
26 Mar-29 Oct 2028, 25 Mar-28 Oct 2029, 31 Mar-27 Oct 2030.

Each line of TABLE: received | calendar variant | D | acknowledge_by | answer_by |
callback_by | what the row checks. Every date carries its weekday as written by
hand; the parser rejects a label that does not match its date, so a slip in the
table cannot pass unnoticed. A received moment without an offset is local time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from topcontact_mail.domain.calendar import (
    BusinessCalendar,
    ClosureRange,
    HolidayLookup,
    Interval,
    default_calendar,
    netherlands_holidays,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
DAY = (Interval(time(8, 30), time(17, 0)),)
MON_TO_FRI = dict.fromkeys(range(1, 6), DAY)


def _calendar(
    office_hours: dict[int, tuple[Interval, ...]] = MON_TO_FRI,
    holiday: HolidayLookup | None = None,
    closed_dates: frozenset[date] = frozenset(),
    closed_ranges: tuple[ClosureRange, ...] = (),
) -> BusinessCalendar:
    """A calendar in Amsterdam, Mon-Fri 08:30-17:00 and Dutch public holidays unless told."""
    return BusinessCalendar(
        tz=AMSTERDAM,
        office_hours=office_hours,
        holiday=holiday or netherlands_holidays(),
        closed_dates=closed_dates,
        closed_ranges=closed_ranges,
    )


VARIANTS: dict[str, BusinessCalendar] = {
    "default": default_calendar(),
    # Closed between Christmas and New Year 2026 (Mon 28 - Thu 31 Dec, both included).
    "closed-28-31dec26": _calendar(
        closed_ranges=(ClosureRange(date(2026, 12, 28), date(2026, 12, 31)),)
    ),
    # A closure range across a year end: Mon 27 Dec 2027 - Tue 4 Jan 2028.
    "closed-27dec27-4jan28": _calendar(
        closed_ranges=(ClosureRange(date(2027, 12, 27), date(2028, 1, 4)),)
    ),
    # A single closure date: the bridge day after Ascension 2026.
    "bridge-15may26": _calendar(closed_dates=frozenset({date(2026, 5, 15)})),
    # Wednesday with a lunch break; closing time stays 17:00.
    "lunch-wed": _calendar(
        office_hours={
            **MON_TO_FRI,
            3: (Interval(time(13, 0), time(17, 0)), Interval(time(8, 30), time(12, 0))),
        }
    ),
    # An office closed on Fridays.
    "mon-thu": _calendar(office_hours=dict.fromkeys(range(1, 5), DAY)),
    # Friday closes at noon: a deadline on a Friday is 12:00.
    "short-fri": _calendar(office_hours={**MON_TO_FRI, 5: (Interval(time(8, 30), time(12, 0)),)}),
    # Open on Good Friday (Dutch name, written in another case than the package's).
    "open-good-fri": _calendar(holiday=netherlands_holidays(ignore_names=("Goede Vrijdag",))),
    # Open on Good Friday, named in English.
    "open-good-fri-en": _calendar(holiday=netherlands_holidays(ignore_names=(" good friday",))),
    # Liberation Day every year (the optional category).
    "with-optional": _calendar(holiday=netherlands_holidays(categories=("public", "optional"))),
}

TABLE = """
# Design examples (DESIGN.md, "Response terms")
Fri 2026-11-27T10:00 | default | Fri 2026-11-27 | Mon 2026-11-30T17:00:00+01:00 | Fri 2026-12-04T17:00:00+01:00 | Mon 2026-11-30T17:00:00+01:00 | design example: Friday 10:00 counts that Friday
Fri 2026-11-27T18:00 | default | Mon 2026-11-30 | Tue 2026-12-01T17:00:00+01:00 | Mon 2026-12-07T17:00:00+01:00 | Tue 2026-12-01T17:00:00+01:00 | design example: Friday 18:00 counts the next Monday

# Times of day on an ordinary week (no holidays in November)
Wed 2026-11-11T07:00 | default | Wed 2026-11-11 | Thu 2026-11-12T17:00:00+01:00 | Wed 2026-11-18T17:00:00+01:00 | Thu 2026-11-12T17:00:00+01:00 | before opening counts that day
Wed 2026-11-11T08:29 | default | Wed 2026-11-11 | Thu 2026-11-12T17:00:00+01:00 | Wed 2026-11-18T17:00:00+01:00 | Thu 2026-11-12T17:00:00+01:00 | one minute before opening
Wed 2026-11-11T08:30 | default | Wed 2026-11-11 | Thu 2026-11-12T17:00:00+01:00 | Wed 2026-11-18T17:00:00+01:00 | Thu 2026-11-12T17:00:00+01:00 | at opening
Wed 2026-11-11T16:59 | default | Wed 2026-11-11 | Thu 2026-11-12T17:00:00+01:00 | Wed 2026-11-18T17:00:00+01:00 | Thu 2026-11-12T17:00:00+01:00 | at 16:59 counts that day
Wed 2026-11-11T16:59:59.999999 | default | Wed 2026-11-11 | Thu 2026-11-12T17:00:00+01:00 | Wed 2026-11-18T17:00:00+01:00 | Thu 2026-11-12T17:00:00+01:00 | last microsecond before closing
Wed 2026-11-11T17:00 | default | Thu 2026-11-12 | Fri 2026-11-13T17:00:00+01:00 | Thu 2026-11-19T17:00:00+01:00 | Fri 2026-11-13T17:00:00+01:00 | at exactly 17:00 counts the next workday
Wed 2026-11-11T17:00:01 | default | Thu 2026-11-12 | Fri 2026-11-13T17:00:00+01:00 | Thu 2026-11-19T17:00:00+01:00 | Fri 2026-11-13T17:00:00+01:00 | one second after closing
Wed 2026-11-11T23:30 | default | Thu 2026-11-12 | Fri 2026-11-13T17:00:00+01:00 | Thu 2026-11-19T17:00:00+01:00 | Fri 2026-11-13T17:00:00+01:00 | late evening counts the next workday
Wed 2026-11-11T23:59:59 | default | Thu 2026-11-12 | Fri 2026-11-13T17:00:00+01:00 | Thu 2026-11-19T17:00:00+01:00 | Fri 2026-11-13T17:00:00+01:00 | last second of the day
Thu 2026-11-12T00:00 | default | Thu 2026-11-12 | Fri 2026-11-13T17:00:00+01:00 | Thu 2026-11-19T17:00:00+01:00 | Fri 2026-11-13T17:00:00+01:00 | midnight counts the new day
Thu 2026-11-12T03:00 | default | Thu 2026-11-12 | Fri 2026-11-13T17:00:00+01:00 | Thu 2026-11-19T17:00:00+01:00 | Fri 2026-11-13T17:00:00+01:00 | at night counts that day
Mon 2026-11-09T03:00 | default | Mon 2026-11-09 | Tue 2026-11-10T17:00:00+01:00 | Mon 2026-11-16T17:00:00+01:00 | Tue 2026-11-10T17:00:00+01:00 | Monday night counts Monday
Sun 2026-11-08T23:30 | default | Mon 2026-11-09 | Tue 2026-11-10T17:00:00+01:00 | Mon 2026-11-16T17:00:00+01:00 | Tue 2026-11-10T17:00:00+01:00 | Sunday night counts Monday
Fri 2026-11-13T16:59 | default | Fri 2026-11-13 | Mon 2026-11-16T17:00:00+01:00 | Fri 2026-11-20T17:00:00+01:00 | Mon 2026-11-16T17:00:00+01:00 | Friday 16:59 acknowledges on Monday
Fri 2026-11-13T17:00 | default | Mon 2026-11-16 | Tue 2026-11-17T17:00:00+01:00 | Mon 2026-11-23T17:00:00+01:00 | Tue 2026-11-17T17:00:00+01:00 | Friday 17:00 counts Monday
Fri 2026-11-13T23:30 | default | Mon 2026-11-16 | Tue 2026-11-17T17:00:00+01:00 | Mon 2026-11-23T17:00:00+01:00 | Tue 2026-11-17T17:00:00+01:00 | Friday night counts Monday
Sat 2026-11-14T03:00 | default | Mon 2026-11-16 | Tue 2026-11-17T17:00:00+01:00 | Mon 2026-11-23T17:00:00+01:00 | Tue 2026-11-17T17:00:00+01:00 | Saturday night counts Monday
Sat 2026-11-14T12:00 | default | Mon 2026-11-16 | Tue 2026-11-17T17:00:00+01:00 | Mon 2026-11-23T17:00:00+01:00 | Tue 2026-11-17T17:00:00+01:00 | Saturday counts Monday
Sun 2026-11-15T12:00 | default | Mon 2026-11-16 | Tue 2026-11-17T17:00:00+01:00 | Mon 2026-11-23T17:00:00+01:00 | Tue 2026-11-17T17:00:00+01:00 | Sunday counts Monday
Sun 2026-11-15T23:59 | default | Mon 2026-11-16 | Tue 2026-11-17T17:00:00+01:00 | Mon 2026-11-23T17:00:00+01:00 | Tue 2026-11-17T17:00:00+01:00 | Sunday 23:59 counts Monday
Mon 2026-11-16T07:00 | default | Mon 2026-11-16 | Tue 2026-11-17T17:00:00+01:00 | Mon 2026-11-23T17:00:00+01:00 | Tue 2026-11-17T17:00:00+01:00 | Monday before opening counts Monday
Tue 2026-06-16T10:00 | default | Tue 2026-06-16 | Wed 2026-06-17T17:00:00+02:00 | Tue 2026-06-23T17:00:00+02:00 | Wed 2026-06-17T17:00:00+02:00 | summer day: deadlines at 17:00+02:00
Tue 2026-06-16T17:30 | default | Wed 2026-06-17 | Thu 2026-06-18T17:00:00+02:00 | Wed 2026-06-24T17:00:00+02:00 | Thu 2026-06-18T17:00:00+02:00 | summer evening counts the next day

# Received moments in UTC and other offsets
Fri 2026-11-27T16:30:00+00:00 | default | Mon 2026-11-30 | Tue 2026-12-01T17:00:00+01:00 | Mon 2026-12-07T17:00:00+01:00 | Tue 2026-12-01T17:00:00+01:00 | 16:30 UTC is 17:30 local: next workday
Fri 2026-11-27T15:59:00+00:00 | default | Fri 2026-11-27 | Mon 2026-11-30T17:00:00+01:00 | Fri 2026-12-04T17:00:00+01:00 | Mon 2026-11-30T17:00:00+01:00 | 15:59 UTC is 16:59 local: that day
Fri 2026-11-27T16:00:00+00:00 | default | Mon 2026-11-30 | Tue 2026-12-01T17:00:00+01:00 | Mon 2026-12-07T17:00:00+01:00 | Tue 2026-12-01T17:00:00+01:00 | 16:00 UTC is exactly closing time
Fri 2026-11-27T09:00:00Z | default | Fri 2026-11-27 | Mon 2026-11-30T17:00:00+01:00 | Fri 2026-12-04T17:00:00+01:00 | Mon 2026-11-30T17:00:00+01:00 | Z suffix
Fri 2026-11-27T10:00:00+01:00 | default | Fri 2026-11-27 | Mon 2026-11-30T17:00:00+01:00 | Fri 2026-12-04T17:00:00+01:00 | Mon 2026-11-30T17:00:00+01:00 | explicit local offset
Thu 2026-11-26T23:30:00+00:00 | default | Fri 2026-11-27 | Mon 2026-11-30T17:00:00+01:00 | Fri 2026-12-04T17:00:00+01:00 | Mon 2026-11-30T17:00:00+01:00 | Thursday 23:30 UTC is Friday 00:30 local
Fri 2026-11-27T23:30:00-05:00 | default | Mon 2026-11-30 | Tue 2026-12-01T17:00:00+01:00 | Mon 2026-12-07T17:00:00+01:00 | Tue 2026-12-01T17:00:00+01:00 | New York Friday night is Saturday in Amsterdam
Fri 2026-11-27T10:00:00-05:00 | default | Fri 2026-11-27 | Mon 2026-11-30T17:00:00+01:00 | Fri 2026-12-04T17:00:00+01:00 | Mon 2026-11-30T17:00:00+01:00 | New York 10:00 is 16:00 local
Fri 2026-11-27T12:00:00-05:00 | default | Mon 2026-11-30 | Tue 2026-12-01T17:00:00+01:00 | Mon 2026-12-07T17:00:00+01:00 | Tue 2026-12-01T17:00:00+01:00 | New York noon is 18:00 local
Sat 2026-11-28T00:30:00+09:00 | default | Fri 2026-11-27 | Mon 2026-11-30T17:00:00+01:00 | Fri 2026-12-04T17:00:00+01:00 | Mon 2026-11-30T17:00:00+01:00 | Tokyo Saturday 00:30 is Friday 16:30 local
Sun 2026-11-29T23:00:00+00:00 | default | Mon 2026-11-30 | Tue 2026-12-01T17:00:00+01:00 | Mon 2026-12-07T17:00:00+01:00 | Tue 2026-12-01T17:00:00+01:00 | Sunday 23:00 UTC is Monday 00:00 local
Tue 2026-06-16T15:30:00+00:00 | default | Wed 2026-06-17 | Thu 2026-06-18T17:00:00+02:00 | Wed 2026-06-24T17:00:00+02:00 | Thu 2026-06-18T17:00:00+02:00 | summer: 15:30 UTC is 17:30 local
Tue 2026-06-16T14:59:00+00:00 | default | Tue 2026-06-16 | Wed 2026-06-17T17:00:00+02:00 | Tue 2026-06-23T17:00:00+02:00 | Wed 2026-06-17T17:00:00+02:00 | summer: 14:59 UTC is 16:59 local
Tue 2026-06-16T15:00:00+00:00 | default | Wed 2026-06-17 | Thu 2026-06-18T17:00:00+02:00 | Wed 2026-06-24T17:00:00+02:00 | Thu 2026-06-18T17:00:00+02:00 | summer: 15:00 UTC is exactly closing time
Tue 2026-06-16T16:00:00+01:00 | default | Wed 2026-06-17 | Thu 2026-06-18T17:00:00+02:00 | Wed 2026-06-24T17:00:00+02:00 | Thu 2026-06-18T17:00:00+02:00 | summer: 16:00+01:00 is 17:00 local
Tue 2026-06-16T16:59:00+02:00 | default | Tue 2026-06-16 | Wed 2026-06-17T17:00:00+02:00 | Tue 2026-06-23T17:00:00+02:00 | Wed 2026-06-17T17:00:00+02:00 | summer: 16:59 with the local offset

# Daylight saving time starts (last Sunday of March)
Fri 2026-03-27T10:00 | default | Fri 2026-03-27 | Mon 2026-03-30T17:00:00+02:00 | Tue 2026-04-07T17:00:00+02:00 | Mon 2026-03-30T17:00:00+02:00 | DST 29 Mar 2026: winter mail, summer deadlines (and Easter)
Fri 2026-03-27T17:30 | default | Mon 2026-03-30 | Tue 2026-03-31T17:00:00+02:00 | Wed 2026-04-08T17:00:00+02:00 | Tue 2026-03-31T17:00:00+02:00 | DST 29 Mar 2026: Friday evening
Thu 2026-03-26T10:00 | default | Thu 2026-03-26 | Fri 2026-03-27T17:00:00+01:00 | Thu 2026-04-02T17:00:00+02:00 | Fri 2026-03-27T17:00:00+01:00 | DST 29 Mar 2026: acknowledge in winter, answer in summer
Fri 2026-03-27T16:30:00+00:00 | default | Mon 2026-03-30 | Tue 2026-03-31T17:00:00+02:00 | Wed 2026-04-08T17:00:00+02:00 | Tue 2026-03-31T17:00:00+02:00 | DST 29 Mar 2026: 16:30 UTC is 17:30 winter time
Fri 2026-03-27T15:59:00+00:00 | default | Fri 2026-03-27 | Mon 2026-03-30T17:00:00+02:00 | Tue 2026-04-07T17:00:00+02:00 | Mon 2026-03-30T17:00:00+02:00 | DST 29 Mar 2026: 15:59 UTC is 16:59 winter time
Sun 2026-03-29T02:30 | default | Mon 2026-03-30 | Tue 2026-03-31T17:00:00+02:00 | Wed 2026-04-08T17:00:00+02:00 | Tue 2026-03-31T17:00:00+02:00 | DST 29 Mar 2026: naive time in the skipped hour
Sun 2026-03-29T03:00 | default | Mon 2026-03-30 | Tue 2026-03-31T17:00:00+02:00 | Wed 2026-04-08T17:00:00+02:00 | Tue 2026-03-31T17:00:00+02:00 | DST 29 Mar 2026: right after the change
Sun 2026-03-29T01:30:00+00:00 | default | Mon 2026-03-30 | Tue 2026-03-31T17:00:00+02:00 | Wed 2026-04-08T17:00:00+02:00 | Tue 2026-03-31T17:00:00+02:00 | DST 29 Mar 2026: UTC instant after the change
Mon 2026-03-30T07:00 | default | Mon 2026-03-30 | Tue 2026-03-31T17:00:00+02:00 | Wed 2026-04-08T17:00:00+02:00 | Tue 2026-03-31T17:00:00+02:00 | DST 29 Mar 2026: first summer Monday morning
Mon 2026-03-30T14:59:00+00:00 | default | Mon 2026-03-30 | Tue 2026-03-31T17:00:00+02:00 | Wed 2026-04-08T17:00:00+02:00 | Tue 2026-03-31T17:00:00+02:00 | DST 29 Mar 2026: 14:59 UTC is 16:59 summer time
Mon 2026-03-30T15:00:00+00:00 | default | Tue 2026-03-31 | Wed 2026-04-01T17:00:00+02:00 | Thu 2026-04-09T17:00:00+02:00 | Wed 2026-04-01T17:00:00+02:00 | DST 29 Mar 2026: 15:00 UTC is 17:00 summer time
Mon 2026-03-30T16:00:00+01:00 | default | Tue 2026-03-31 | Wed 2026-04-01T17:00:00+02:00 | Thu 2026-04-09T17:00:00+02:00 | Wed 2026-04-01T17:00:00+02:00 | DST 29 Mar 2026: 16:00 at the stale winter offset is 17:00 local
Fri 2025-03-28T10:00 | default | Fri 2025-03-28 | Mon 2025-03-31T17:00:00+02:00 | Fri 2025-04-04T17:00:00+02:00 | Mon 2025-03-31T17:00:00+02:00 | DST 30 Mar 2025: Friday before
Sat 2025-03-29T12:00 | default | Mon 2025-03-31 | Tue 2025-04-01T17:00:00+02:00 | Mon 2025-04-07T17:00:00+02:00 | Tue 2025-04-01T17:00:00+02:00 | DST 30 Mar 2025: Saturday before
Fri 2030-03-29T10:00 | default | Fri 2030-03-29 | Mon 2030-04-01T17:00:00+02:00 | Fri 2030-04-05T17:00:00+02:00 | Mon 2030-04-01T17:00:00+02:00 | DST 31 Mar 2030: Friday before

# Daylight saving time ends (last Sunday of October)
Fri 2026-10-23T10:00 | default | Fri 2026-10-23 | Mon 2026-10-26T17:00:00+01:00 | Fri 2026-10-30T17:00:00+01:00 | Mon 2026-10-26T17:00:00+01:00 | DST ends 25 Oct 2026: summer mail, winter deadlines
Fri 2026-10-23T17:30 | default | Mon 2026-10-26 | Tue 2026-10-27T17:00:00+01:00 | Mon 2026-11-02T17:00:00+01:00 | Tue 2026-10-27T17:00:00+01:00 | DST ends 25 Oct 2026: Friday evening
Thu 2026-10-22T10:00 | default | Thu 2026-10-22 | Fri 2026-10-23T17:00:00+02:00 | Thu 2026-10-29T17:00:00+01:00 | Fri 2026-10-23T17:00:00+02:00 | DST ends 25 Oct 2026: acknowledge in summer, answer in winter
Fri 2026-10-23T16:30:00+01:00 | default | Mon 2026-10-26 | Tue 2026-10-27T17:00:00+01:00 | Mon 2026-11-02T17:00:00+01:00 | Tue 2026-10-27T17:00:00+01:00 | DST ends 25 Oct 2026: 16:30 at the winter offset is 17:30 summer time
Sun 2026-10-25T02:30 | default | Mon 2026-10-26 | Tue 2026-10-27T17:00:00+01:00 | Mon 2026-11-02T17:00:00+01:00 | Tue 2026-10-27T17:00:00+01:00 | DST ends 25 Oct 2026: naive time in the repeated hour
Sun 2026-10-25T00:30:00+00:00 | default | Mon 2026-10-26 | Tue 2026-10-27T17:00:00+01:00 | Mon 2026-11-02T17:00:00+01:00 | Tue 2026-10-27T17:00:00+01:00 | DST ends 25 Oct 2026: first pass of the repeated hour
Mon 2026-10-26T15:59:00+00:00 | default | Mon 2026-10-26 | Tue 2026-10-27T17:00:00+01:00 | Mon 2026-11-02T17:00:00+01:00 | Tue 2026-10-27T17:00:00+01:00 | DST ends 25 Oct 2026: 15:59 UTC is 16:59 winter time
Mon 2026-10-26T16:00:00+00:00 | default | Tue 2026-10-27 | Wed 2026-10-28T17:00:00+01:00 | Tue 2026-11-03T17:00:00+01:00 | Wed 2026-10-28T17:00:00+01:00 | DST ends 25 Oct 2026: 16:00 UTC is 17:00 winter time
Fri 2027-10-29T10:00 | default | Fri 2027-10-29 | Mon 2027-11-01T17:00:00+01:00 | Fri 2027-11-05T17:00:00+01:00 | Mon 2027-11-01T17:00:00+01:00 | DST ends 31 Oct 2027: Friday before
Sat 2027-10-30T12:00 | default | Mon 2027-11-01 | Tue 2027-11-02T17:00:00+01:00 | Mon 2027-11-08T17:00:00+01:00 | Tue 2027-11-02T17:00:00+01:00 | DST ends 31 Oct 2027: Saturday before
Fri 2030-10-25T17:30 | default | Mon 2030-10-28 | Tue 2030-10-29T17:00:00+01:00 | Mon 2030-11-04T17:00:00+01:00 | Tue 2030-10-29T17:00:00+01:00 | DST ends 27 Oct 2030: Friday evening

# 2025: New Year, Easter, King's Day (Saturday), Liberation Day, Ascension, Whitsun, Christmas
Tue 2024-12-31T10:00 | default | Tue 2024-12-31 | Thu 2025-01-02T17:00:00+01:00 | Wed 2025-01-08T17:00:00+01:00 | Thu 2025-01-02T17:00:00+01:00 | New Year 2025: day before at 10:00
Tue 2024-12-31T17:30 | default | Thu 2025-01-02 | Fri 2025-01-03T17:00:00+01:00 | Thu 2025-01-09T17:00:00+01:00 | Fri 2025-01-03T17:00:00+01:00 | New Year 2025: day before at 17:30
Wed 2025-01-01T10:00 | default | Thu 2025-01-02 | Fri 2025-01-03T17:00:00+01:00 | Thu 2025-01-09T17:00:00+01:00 | Fri 2025-01-03T17:00:00+01:00 | New Year 2025: on the holiday
Thu 2025-04-17T10:00 | default | Thu 2025-04-17 | Tue 2025-04-22T17:00:00+02:00 | Mon 2025-04-28T17:00:00+02:00 | Tue 2025-04-22T17:00:00+02:00 | Easter 2025: Thursday before at 10:00
Thu 2025-04-17T17:30 | default | Tue 2025-04-22 | Wed 2025-04-23T17:00:00+02:00 | Tue 2025-04-29T17:00:00+02:00 | Wed 2025-04-23T17:00:00+02:00 | Easter 2025: Thursday before at 17:30
Fri 2025-04-18T10:00 | default | Tue 2025-04-22 | Wed 2025-04-23T17:00:00+02:00 | Tue 2025-04-29T17:00:00+02:00 | Wed 2025-04-23T17:00:00+02:00 | Easter 2025: on Good Friday
Sun 2025-04-20T12:00 | default | Tue 2025-04-22 | Wed 2025-04-23T17:00:00+02:00 | Tue 2025-04-29T17:00:00+02:00 | Wed 2025-04-23T17:00:00+02:00 | Easter 2025: on Easter Sunday
Mon 2025-04-21T10:00 | default | Tue 2025-04-22 | Wed 2025-04-23T17:00:00+02:00 | Tue 2025-04-29T17:00:00+02:00 | Wed 2025-04-23T17:00:00+02:00 | Easter 2025: on Easter Monday
Mon 2025-04-21T16:59 | default | Tue 2025-04-22 | Wed 2025-04-23T17:00:00+02:00 | Tue 2025-04-29T17:00:00+02:00 | Wed 2025-04-23T17:00:00+02:00 | Easter 2025: on Easter Monday before closing time
Sat 2025-04-26T10:00 | default | Mon 2025-04-28 | Tue 2025-04-29T17:00:00+02:00 | Tue 2025-05-06T17:00:00+02:00 | Tue 2025-04-29T17:00:00+02:00 | King's Day 2025 on Saturday; the Monday after is a workday
Fri 2025-04-25T17:30 | default | Mon 2025-04-28 | Tue 2025-04-29T17:00:00+02:00 | Tue 2025-05-06T17:00:00+02:00 | Tue 2025-04-29T17:00:00+02:00 | King's Day 2025: Friday before at 17:30
Fri 2025-05-02T10:00 | default | Fri 2025-05-02 | Tue 2025-05-06T17:00:00+02:00 | Mon 2025-05-12T17:00:00+02:00 | Tue 2025-05-06T17:00:00+02:00 | Liberation Day 2025: Friday before at 10:00
Fri 2025-05-02T17:30 | default | Tue 2025-05-06 | Wed 2025-05-07T17:00:00+02:00 | Tue 2025-05-13T17:00:00+02:00 | Wed 2025-05-07T17:00:00+02:00 | Liberation Day 2025: Friday before at 17:30
Mon 2025-05-05T10:00 | default | Tue 2025-05-06 | Wed 2025-05-07T17:00:00+02:00 | Tue 2025-05-13T17:00:00+02:00 | Wed 2025-05-07T17:00:00+02:00 | Liberation Day 2025: on the holiday
Wed 2025-05-28T10:00 | default | Wed 2025-05-28 | Fri 2025-05-30T17:00:00+02:00 | Thu 2025-06-05T17:00:00+02:00 | Fri 2025-05-30T17:00:00+02:00 | Ascension 2025: day before at 10:00
Wed 2025-05-28T17:30 | default | Fri 2025-05-30 | Mon 2025-06-02T17:00:00+02:00 | Fri 2025-06-06T17:00:00+02:00 | Mon 2025-06-02T17:00:00+02:00 | Ascension 2025: day before at 17:30
Thu 2025-05-29T10:00 | default | Fri 2025-05-30 | Mon 2025-06-02T17:00:00+02:00 | Fri 2025-06-06T17:00:00+02:00 | Mon 2025-06-02T17:00:00+02:00 | Ascension 2025: on the holiday
Fri 2025-05-30T10:00 | default | Fri 2025-05-30 | Mon 2025-06-02T17:00:00+02:00 | Fri 2025-06-06T17:00:00+02:00 | Mon 2025-06-02T17:00:00+02:00 | Ascension 2025: the Friday after is a workday
Fri 2025-06-06T10:00 | default | Fri 2025-06-06 | Tue 2025-06-10T17:00:00+02:00 | Mon 2025-06-16T17:00:00+02:00 | Tue 2025-06-10T17:00:00+02:00 | Whitsun 2025: Friday before at 10:00
Fri 2025-06-06T17:30 | default | Tue 2025-06-10 | Wed 2025-06-11T17:00:00+02:00 | Tue 2025-06-17T17:00:00+02:00 | Wed 2025-06-11T17:00:00+02:00 | Whitsun 2025: Friday before at 17:30
Sun 2025-06-08T12:00 | default | Tue 2025-06-10 | Wed 2025-06-11T17:00:00+02:00 | Tue 2025-06-17T17:00:00+02:00 | Wed 2025-06-11T17:00:00+02:00 | Whitsun 2025: on Whit Sunday
Mon 2025-06-09T10:00 | default | Tue 2025-06-10 | Wed 2025-06-11T17:00:00+02:00 | Tue 2025-06-17T17:00:00+02:00 | Wed 2025-06-11T17:00:00+02:00 | Whitsun 2025: on Whit Monday
Wed 2025-12-24T10:00 | default | Wed 2025-12-24 | Mon 2025-12-29T17:00:00+01:00 | Mon 2026-01-05T17:00:00+01:00 | Mon 2025-12-29T17:00:00+01:00 | Christmas 2025: Christmas Eve at 10:00
Wed 2025-12-24T17:30 | default | Mon 2025-12-29 | Tue 2025-12-30T17:00:00+01:00 | Tue 2026-01-06T17:00:00+01:00 | Tue 2025-12-30T17:00:00+01:00 | Christmas 2025: Christmas Eve at 17:30
Thu 2025-12-25T10:00 | default | Mon 2025-12-29 | Tue 2025-12-30T17:00:00+01:00 | Tue 2026-01-06T17:00:00+01:00 | Tue 2025-12-30T17:00:00+01:00 | Christmas 2025: on Christmas Day
Fri 2025-12-26T10:00 | default | Mon 2025-12-29 | Tue 2025-12-30T17:00:00+01:00 | Tue 2026-01-06T17:00:00+01:00 | Tue 2025-12-30T17:00:00+01:00 | Christmas 2025: on Boxing Day
Sat 2025-12-27T10:00 | default | Mon 2025-12-29 | Tue 2025-12-30T17:00:00+01:00 | Tue 2026-01-06T17:00:00+01:00 | Tue 2025-12-30T17:00:00+01:00 | Christmas 2025: 27 December

# Year end 2025 -> 2026
Wed 2025-12-31T10:00 | default | Wed 2025-12-31 | Fri 2026-01-02T17:00:00+01:00 | Thu 2026-01-08T17:00:00+01:00 | Fri 2026-01-02T17:00:00+01:00 | New Year 2026: 31 December at 10:00
Wed 2025-12-31T17:30 | default | Fri 2026-01-02 | Mon 2026-01-05T17:00:00+01:00 | Fri 2026-01-09T17:00:00+01:00 | Mon 2026-01-05T17:00:00+01:00 | New Year 2026: 31 December at 17:30
Wed 2025-12-31T23:30 | default | Fri 2026-01-02 | Mon 2026-01-05T17:00:00+01:00 | Fri 2026-01-09T17:00:00+01:00 | Mon 2026-01-05T17:00:00+01:00 | New Year 2026: 31 December at 23:30
Thu 2026-01-01T10:00 | default | Fri 2026-01-02 | Mon 2026-01-05T17:00:00+01:00 | Fri 2026-01-09T17:00:00+01:00 | Mon 2026-01-05T17:00:00+01:00 | New Year 2026: on the holiday
Wed 2025-12-31T23:30:00+00:00 | default | Fri 2026-01-02 | Mon 2026-01-05T17:00:00+01:00 | Fri 2026-01-09T17:00:00+01:00 | Mon 2026-01-05T17:00:00+01:00 | New Year 2026: 23:30 UTC is already New Year's Day
Wed 2025-12-31T15:59:00+00:00 | default | Wed 2025-12-31 | Fri 2026-01-02T17:00:00+01:00 | Thu 2026-01-08T17:00:00+01:00 | Fri 2026-01-02T17:00:00+01:00 | New Year 2026: 15:59 UTC is 16:59 on 31 December

# 2026: Easter, King's Day, Liberation Day (not a holiday), Ascension, Whitsun, Christmas
Thu 2026-04-02T10:00 | default | Thu 2026-04-02 | Tue 2026-04-07T17:00:00+02:00 | Mon 2026-04-13T17:00:00+02:00 | Tue 2026-04-07T17:00:00+02:00 | Easter 2026: Thursday before at 10:00
Thu 2026-04-02T17:30 | default | Tue 2026-04-07 | Wed 2026-04-08T17:00:00+02:00 | Tue 2026-04-14T17:00:00+02:00 | Wed 2026-04-08T17:00:00+02:00 | Easter 2026: Thursday before at 17:30
Fri 2026-04-03T10:00 | default | Tue 2026-04-07 | Wed 2026-04-08T17:00:00+02:00 | Tue 2026-04-14T17:00:00+02:00 | Wed 2026-04-08T17:00:00+02:00 | Easter 2026: on Good Friday
Sun 2026-04-05T12:00 | default | Tue 2026-04-07 | Wed 2026-04-08T17:00:00+02:00 | Tue 2026-04-14T17:00:00+02:00 | Wed 2026-04-08T17:00:00+02:00 | Easter 2026: on Easter Sunday
Mon 2026-04-06T10:00 | default | Tue 2026-04-07 | Wed 2026-04-08T17:00:00+02:00 | Tue 2026-04-14T17:00:00+02:00 | Wed 2026-04-08T17:00:00+02:00 | Easter 2026: on Easter Monday
Fri 2026-04-24T10:00 | default | Fri 2026-04-24 | Tue 2026-04-28T17:00:00+02:00 | Mon 2026-05-04T17:00:00+02:00 | Tue 2026-04-28T17:00:00+02:00 | King's Day 2026: Friday before at 10:00
Fri 2026-04-24T17:30 | default | Tue 2026-04-28 | Wed 2026-04-29T17:00:00+02:00 | Tue 2026-05-05T17:00:00+02:00 | Wed 2026-04-29T17:00:00+02:00 | King's Day 2026: Friday before at 17:30 (5 May 2026 is a workday)
Mon 2026-04-27T10:00 | default | Tue 2026-04-28 | Wed 2026-04-29T17:00:00+02:00 | Tue 2026-05-05T17:00:00+02:00 | Wed 2026-04-29T17:00:00+02:00 | King's Day 2026: on the holiday
Tue 2026-05-05T10:00 | default | Tue 2026-05-05 | Wed 2026-05-06T17:00:00+02:00 | Tue 2026-05-12T17:00:00+02:00 | Wed 2026-05-06T17:00:00+02:00 | Liberation Day 2026 is a workday
Wed 2026-05-13T10:00 | default | Wed 2026-05-13 | Fri 2026-05-15T17:00:00+02:00 | Thu 2026-05-21T17:00:00+02:00 | Fri 2026-05-15T17:00:00+02:00 | Ascension 2026: day before at 10:00
Wed 2026-05-13T17:30 | default | Fri 2026-05-15 | Mon 2026-05-18T17:00:00+02:00 | Fri 2026-05-22T17:00:00+02:00 | Mon 2026-05-18T17:00:00+02:00 | Ascension 2026: day before at 17:30
Thu 2026-05-14T10:00 | default | Fri 2026-05-15 | Mon 2026-05-18T17:00:00+02:00 | Fri 2026-05-22T17:00:00+02:00 | Mon 2026-05-18T17:00:00+02:00 | Ascension 2026: on the holiday
Fri 2026-05-15T10:00 | default | Fri 2026-05-15 | Mon 2026-05-18T17:00:00+02:00 | Fri 2026-05-22T17:00:00+02:00 | Mon 2026-05-18T17:00:00+02:00 | Ascension 2026: the Friday after is a workday
Fri 2026-05-22T10:00 | default | Fri 2026-05-22 | Tue 2026-05-26T17:00:00+02:00 | Mon 2026-06-01T17:00:00+02:00 | Tue 2026-05-26T17:00:00+02:00 | Whitsun 2026: Friday before at 10:00
Fri 2026-05-22T17:30 | default | Tue 2026-05-26 | Wed 2026-05-27T17:00:00+02:00 | Tue 2026-06-02T17:00:00+02:00 | Wed 2026-05-27T17:00:00+02:00 | Whitsun 2026: Friday before at 17:30
Sun 2026-05-24T12:00 | default | Tue 2026-05-26 | Wed 2026-05-27T17:00:00+02:00 | Tue 2026-06-02T17:00:00+02:00 | Wed 2026-05-27T17:00:00+02:00 | Whitsun 2026: on Whit Sunday
Mon 2026-05-25T10:00 | default | Tue 2026-05-26 | Wed 2026-05-27T17:00:00+02:00 | Tue 2026-06-02T17:00:00+02:00 | Wed 2026-05-27T17:00:00+02:00 | Whitsun 2026: on Whit Monday
Thu 2026-12-24T10:00 | default | Thu 2026-12-24 | Mon 2026-12-28T17:00:00+01:00 | Mon 2027-01-04T17:00:00+01:00 | Mon 2026-12-28T17:00:00+01:00 | Christmas 2026: Christmas Eve at 10:00
Thu 2026-12-24T17:30 | default | Mon 2026-12-28 | Tue 2026-12-29T17:00:00+01:00 | Tue 2027-01-05T17:00:00+01:00 | Tue 2026-12-29T17:00:00+01:00 | Christmas 2026: Christmas Eve at 17:30
Fri 2026-12-25T10:00 | default | Mon 2026-12-28 | Tue 2026-12-29T17:00:00+01:00 | Tue 2027-01-05T17:00:00+01:00 | Tue 2026-12-29T17:00:00+01:00 | Christmas 2026: on Christmas Day
Sat 2026-12-26T10:00 | default | Mon 2026-12-28 | Tue 2026-12-29T17:00:00+01:00 | Tue 2027-01-05T17:00:00+01:00 | Tue 2026-12-29T17:00:00+01:00 | Christmas 2026: on Boxing Day (Saturday)
Sun 2026-12-27T10:00 | default | Mon 2026-12-28 | Tue 2026-12-29T17:00:00+01:00 | Tue 2027-01-05T17:00:00+01:00 | Tue 2026-12-29T17:00:00+01:00 | Christmas 2026: 27 December
Mon 2026-12-28T10:00 | default | Mon 2026-12-28 | Tue 2026-12-29T17:00:00+01:00 | Tue 2027-01-05T17:00:00+01:00 | Tue 2026-12-29T17:00:00+01:00 | Christmas 2026: Monday after

# Year end 2026 -> 2027
Thu 2026-12-31T10:00 | default | Thu 2026-12-31 | Mon 2027-01-04T17:00:00+01:00 | Fri 2027-01-08T17:00:00+01:00 | Mon 2027-01-04T17:00:00+01:00 | New Year 2027: 31 December at 10:00
Thu 2026-12-31T17:30 | default | Mon 2027-01-04 | Tue 2027-01-05T17:00:00+01:00 | Mon 2027-01-11T17:00:00+01:00 | Tue 2027-01-05T17:00:00+01:00 | New Year 2027: 31 December at 17:30
Fri 2027-01-01T10:00 | default | Mon 2027-01-04 | Tue 2027-01-05T17:00:00+01:00 | Mon 2027-01-11T17:00:00+01:00 | Tue 2027-01-05T17:00:00+01:00 | New Year 2027: on the holiday (Friday)

# 2027: Easter on the DST Sunday, King's Day, Liberation Day, Ascension, Whitsun, Christmas on a weekend
Thu 2027-03-25T10:00 | default | Thu 2027-03-25 | Tue 2027-03-30T17:00:00+02:00 | Mon 2027-04-05T17:00:00+02:00 | Tue 2027-03-30T17:00:00+02:00 | Easter 2027: Thursday before at 10:00
Thu 2027-03-25T17:30 | default | Tue 2027-03-30 | Wed 2027-03-31T17:00:00+02:00 | Tue 2027-04-06T17:00:00+02:00 | Wed 2027-03-31T17:00:00+02:00 | Easter 2027: Thursday before at 17:30
Fri 2027-03-26T10:00 | default | Tue 2027-03-30 | Wed 2027-03-31T17:00:00+02:00 | Tue 2027-04-06T17:00:00+02:00 | Wed 2027-03-31T17:00:00+02:00 | Easter 2027: on Good Friday
Sun 2027-03-28T12:00 | default | Tue 2027-03-30 | Wed 2027-03-31T17:00:00+02:00 | Tue 2027-04-06T17:00:00+02:00 | Wed 2027-03-31T17:00:00+02:00 | Easter 2027: on Easter Sunday, the DST change
Mon 2027-03-29T10:00 | default | Tue 2027-03-30 | Wed 2027-03-31T17:00:00+02:00 | Tue 2027-04-06T17:00:00+02:00 | Wed 2027-03-31T17:00:00+02:00 | Easter 2027: on Easter Monday
Mon 2027-04-26T10:00 | default | Mon 2027-04-26 | Wed 2027-04-28T17:00:00+02:00 | Tue 2027-05-04T17:00:00+02:00 | Wed 2027-04-28T17:00:00+02:00 | King's Day 2027: day before at 10:00
Mon 2027-04-26T17:30 | default | Wed 2027-04-28 | Thu 2027-04-29T17:00:00+02:00 | Wed 2027-05-05T17:00:00+02:00 | Thu 2027-04-29T17:00:00+02:00 | King's Day 2027: day before at 17:30
Tue 2027-04-27T10:00 | default | Wed 2027-04-28 | Thu 2027-04-29T17:00:00+02:00 | Wed 2027-05-05T17:00:00+02:00 | Thu 2027-04-29T17:00:00+02:00 | King's Day 2027: on the holiday (Tuesday)
Wed 2027-05-05T10:00 | default | Wed 2027-05-05 | Fri 2027-05-07T17:00:00+02:00 | Thu 2027-05-13T17:00:00+02:00 | Fri 2027-05-07T17:00:00+02:00 | Ascension 2027: day before at 10:00 (Liberation Day, a workday)
Wed 2027-05-05T17:30 | default | Fri 2027-05-07 | Mon 2027-05-10T17:00:00+02:00 | Fri 2027-05-14T17:00:00+02:00 | Mon 2027-05-10T17:00:00+02:00 | Ascension 2027: day before at 17:30
Thu 2027-05-06T10:00 | default | Fri 2027-05-07 | Mon 2027-05-10T17:00:00+02:00 | Fri 2027-05-14T17:00:00+02:00 | Mon 2027-05-10T17:00:00+02:00 | Ascension 2027: on the holiday
Fri 2027-05-07T10:00 | default | Fri 2027-05-07 | Mon 2027-05-10T17:00:00+02:00 | Fri 2027-05-14T17:00:00+02:00 | Mon 2027-05-10T17:00:00+02:00 | Ascension 2027: the Friday after is a workday
Fri 2027-05-14T10:00 | default | Fri 2027-05-14 | Tue 2027-05-18T17:00:00+02:00 | Mon 2027-05-24T17:00:00+02:00 | Tue 2027-05-18T17:00:00+02:00 | Whitsun 2027: Friday before at 10:00
Fri 2027-05-14T17:30 | default | Tue 2027-05-18 | Wed 2027-05-19T17:00:00+02:00 | Tue 2027-05-25T17:00:00+02:00 | Wed 2027-05-19T17:00:00+02:00 | Whitsun 2027: Friday before at 17:30
Sun 2027-05-16T12:00 | default | Tue 2027-05-18 | Wed 2027-05-19T17:00:00+02:00 | Tue 2027-05-25T17:00:00+02:00 | Wed 2027-05-19T17:00:00+02:00 | Whitsun 2027: on Whit Sunday
Mon 2027-05-17T10:00 | default | Tue 2027-05-18 | Wed 2027-05-19T17:00:00+02:00 | Tue 2027-05-25T17:00:00+02:00 | Wed 2027-05-19T17:00:00+02:00 | Whitsun 2027: on Whit Monday
Fri 2027-12-24T10:00 | default | Fri 2027-12-24 | Mon 2027-12-27T17:00:00+01:00 | Fri 2027-12-31T17:00:00+01:00 | Mon 2027-12-27T17:00:00+01:00 | Christmas 2027 on a weekend: Friday before at 10:00
Fri 2027-12-24T17:30 | default | Mon 2027-12-27 | Tue 2027-12-28T17:00:00+01:00 | Mon 2028-01-03T17:00:00+01:00 | Tue 2027-12-28T17:00:00+01:00 | Christmas 2027 on a weekend: Friday before at 17:30
Sat 2027-12-25T12:00 | default | Mon 2027-12-27 | Tue 2027-12-28T17:00:00+01:00 | Mon 2028-01-03T17:00:00+01:00 | Tue 2027-12-28T17:00:00+01:00 | Christmas 2027: on Christmas Day (Saturday)
Sun 2027-12-26T12:00 | default | Mon 2027-12-27 | Tue 2027-12-28T17:00:00+01:00 | Mon 2028-01-03T17:00:00+01:00 | Tue 2027-12-28T17:00:00+01:00 | Christmas 2027: on Boxing Day (Sunday); no substitute Monday
Mon 2027-12-27T10:00 | default | Mon 2027-12-27 | Tue 2027-12-28T17:00:00+01:00 | Mon 2028-01-03T17:00:00+01:00 | Tue 2027-12-28T17:00:00+01:00 | Christmas 2027: 27 December is a workday

# Year end 2027 -> 2028 (New Year on a Saturday)
Fri 2027-12-31T10:00 | default | Fri 2027-12-31 | Mon 2028-01-03T17:00:00+01:00 | Fri 2028-01-07T17:00:00+01:00 | Mon 2028-01-03T17:00:00+01:00 | New Year 2028: 31 December at 10:00
Fri 2027-12-31T17:30 | default | Mon 2028-01-03 | Tue 2028-01-04T17:00:00+01:00 | Mon 2028-01-10T17:00:00+01:00 | Tue 2028-01-04T17:00:00+01:00 | New Year 2028: 31 December at 17:30
Sat 2028-01-01T12:00 | default | Mon 2028-01-03 | Tue 2028-01-04T17:00:00+01:00 | Mon 2028-01-10T17:00:00+01:00 | Tue 2028-01-04T17:00:00+01:00 | New Year 2028: on the holiday (Saturday); no substitute Monday

# 2028: Easter, King's Day (Thursday), Liberation Day (not a holiday), Ascension, Whitsun, Christmas
Thu 2028-04-13T10:00 | default | Thu 2028-04-13 | Tue 2028-04-18T17:00:00+02:00 | Mon 2028-04-24T17:00:00+02:00 | Tue 2028-04-18T17:00:00+02:00 | Easter 2028: Thursday before at 10:00
Thu 2028-04-13T17:30 | default | Tue 2028-04-18 | Wed 2028-04-19T17:00:00+02:00 | Tue 2028-04-25T17:00:00+02:00 | Wed 2028-04-19T17:00:00+02:00 | Easter 2028: Thursday before at 17:30
Fri 2028-04-14T10:00 | default | Tue 2028-04-18 | Wed 2028-04-19T17:00:00+02:00 | Tue 2028-04-25T17:00:00+02:00 | Wed 2028-04-19T17:00:00+02:00 | Easter 2028: on Good Friday
Sun 2028-04-16T12:00 | default | Tue 2028-04-18 | Wed 2028-04-19T17:00:00+02:00 | Tue 2028-04-25T17:00:00+02:00 | Wed 2028-04-19T17:00:00+02:00 | Easter 2028: on Easter Sunday
Mon 2028-04-17T10:00 | default | Tue 2028-04-18 | Wed 2028-04-19T17:00:00+02:00 | Tue 2028-04-25T17:00:00+02:00 | Wed 2028-04-19T17:00:00+02:00 | Easter 2028: on Easter Monday
Wed 2028-04-26T10:00 | default | Wed 2028-04-26 | Fri 2028-04-28T17:00:00+02:00 | Thu 2028-05-04T17:00:00+02:00 | Fri 2028-04-28T17:00:00+02:00 | King's Day 2028: day before at 10:00
Wed 2028-04-26T17:30 | default | Fri 2028-04-28 | Mon 2028-05-01T17:00:00+02:00 | Fri 2028-05-05T17:00:00+02:00 | Mon 2028-05-01T17:00:00+02:00 | King's Day 2028: day before at 17:30 (5 May 2028 is a workday)
Thu 2028-04-27T10:00 | default | Fri 2028-04-28 | Mon 2028-05-01T17:00:00+02:00 | Fri 2028-05-05T17:00:00+02:00 | Mon 2028-05-01T17:00:00+02:00 | King's Day 2028: on the holiday (Thursday)
Fri 2028-05-05T10:00 | default | Fri 2028-05-05 | Mon 2028-05-08T17:00:00+02:00 | Fri 2028-05-12T17:00:00+02:00 | Mon 2028-05-08T17:00:00+02:00 | Liberation Day 2028 is a workday
Wed 2028-05-24T10:00 | default | Wed 2028-05-24 | Fri 2028-05-26T17:00:00+02:00 | Thu 2028-06-01T17:00:00+02:00 | Fri 2028-05-26T17:00:00+02:00 | Ascension 2028: day before at 10:00
Wed 2028-05-24T17:30 | default | Fri 2028-05-26 | Mon 2028-05-29T17:00:00+02:00 | Fri 2028-06-02T17:00:00+02:00 | Mon 2028-05-29T17:00:00+02:00 | Ascension 2028: day before at 17:30
Thu 2028-05-25T10:00 | default | Fri 2028-05-26 | Mon 2028-05-29T17:00:00+02:00 | Fri 2028-06-02T17:00:00+02:00 | Mon 2028-05-29T17:00:00+02:00 | Ascension 2028: on the holiday
Fri 2028-05-26T10:00 | default | Fri 2028-05-26 | Mon 2028-05-29T17:00:00+02:00 | Fri 2028-06-02T17:00:00+02:00 | Mon 2028-05-29T17:00:00+02:00 | Ascension 2028: the Friday after is a workday
Fri 2028-06-02T10:00 | default | Fri 2028-06-02 | Tue 2028-06-06T17:00:00+02:00 | Mon 2028-06-12T17:00:00+02:00 | Tue 2028-06-06T17:00:00+02:00 | Whitsun 2028: Friday before at 10:00
Fri 2028-06-02T17:30 | default | Tue 2028-06-06 | Wed 2028-06-07T17:00:00+02:00 | Tue 2028-06-13T17:00:00+02:00 | Wed 2028-06-07T17:00:00+02:00 | Whitsun 2028: Friday before at 17:30
Sun 2028-06-04T12:00 | default | Tue 2028-06-06 | Wed 2028-06-07T17:00:00+02:00 | Tue 2028-06-13T17:00:00+02:00 | Wed 2028-06-07T17:00:00+02:00 | Whitsun 2028: on Whit Sunday
Mon 2028-06-05T10:00 | default | Tue 2028-06-06 | Wed 2028-06-07T17:00:00+02:00 | Tue 2028-06-13T17:00:00+02:00 | Wed 2028-06-07T17:00:00+02:00 | Whitsun 2028: on Whit Monday
Fri 2028-12-22T10:00 | default | Fri 2028-12-22 | Wed 2028-12-27T17:00:00+01:00 | Wed 2029-01-03T17:00:00+01:00 | Wed 2028-12-27T17:00:00+01:00 | Christmas 2028: Friday before at 10:00
Fri 2028-12-22T17:30 | default | Wed 2028-12-27 | Thu 2028-12-28T17:00:00+01:00 | Thu 2029-01-04T17:00:00+01:00 | Thu 2028-12-28T17:00:00+01:00 | Christmas 2028: Friday before at 17:30
Sun 2028-12-24T12:00 | default | Wed 2028-12-27 | Thu 2028-12-28T17:00:00+01:00 | Thu 2029-01-04T17:00:00+01:00 | Thu 2028-12-28T17:00:00+01:00 | Christmas 2028: Christmas Eve (Sunday)
Mon 2028-12-25T10:00 | default | Wed 2028-12-27 | Thu 2028-12-28T17:00:00+01:00 | Thu 2029-01-04T17:00:00+01:00 | Thu 2028-12-28T17:00:00+01:00 | Christmas 2028: on Christmas Day (Monday)
Tue 2028-12-26T10:00 | default | Wed 2028-12-27 | Thu 2028-12-28T17:00:00+01:00 | Thu 2029-01-04T17:00:00+01:00 | Thu 2028-12-28T17:00:00+01:00 | Christmas 2028: on Boxing Day (Tuesday)

# Year end 2028 -> 2029 (New Year on a Monday)
Fri 2028-12-29T10:00 | default | Fri 2028-12-29 | Tue 2029-01-02T17:00:00+01:00 | Mon 2029-01-08T17:00:00+01:00 | Tue 2029-01-02T17:00:00+01:00 | New Year 2029: last workday of 2028 at 10:00
Fri 2028-12-29T17:30 | default | Tue 2029-01-02 | Wed 2029-01-03T17:00:00+01:00 | Tue 2029-01-09T17:00:00+01:00 | Wed 2029-01-03T17:00:00+01:00 | New Year 2029: last workday of 2028 at 17:30
Sun 2028-12-31T12:00 | default | Tue 2029-01-02 | Wed 2029-01-03T17:00:00+01:00 | Tue 2029-01-09T17:00:00+01:00 | Wed 2029-01-03T17:00:00+01:00 | New Year 2029: 31 December (Sunday)
Mon 2029-01-01T10:00 | default | Tue 2029-01-02 | Wed 2029-01-03T17:00:00+01:00 | Tue 2029-01-09T17:00:00+01:00 | Wed 2029-01-03T17:00:00+01:00 | New Year 2029: on the holiday (Monday)

# 2029: Easter, King's Day (Friday), Ascension, Whitsun, Christmas
Thu 2029-03-29T10:00 | default | Thu 2029-03-29 | Tue 2029-04-03T17:00:00+02:00 | Mon 2029-04-09T17:00:00+02:00 | Tue 2029-04-03T17:00:00+02:00 | Easter 2029: Thursday before at 10:00
Thu 2029-03-29T17:30 | default | Tue 2029-04-03 | Wed 2029-04-04T17:00:00+02:00 | Tue 2029-04-10T17:00:00+02:00 | Wed 2029-04-04T17:00:00+02:00 | Easter 2029: Thursday before at 17:30
Fri 2029-03-30T10:00 | default | Tue 2029-04-03 | Wed 2029-04-04T17:00:00+02:00 | Tue 2029-04-10T17:00:00+02:00 | Wed 2029-04-04T17:00:00+02:00 | Easter 2029: on Good Friday
Sun 2029-04-01T12:00 | default | Tue 2029-04-03 | Wed 2029-04-04T17:00:00+02:00 | Tue 2029-04-10T17:00:00+02:00 | Wed 2029-04-04T17:00:00+02:00 | Easter 2029: on Easter Sunday
Mon 2029-04-02T10:00 | default | Tue 2029-04-03 | Wed 2029-04-04T17:00:00+02:00 | Tue 2029-04-10T17:00:00+02:00 | Wed 2029-04-04T17:00:00+02:00 | Easter 2029: on Easter Monday
Thu 2029-04-26T10:00 | default | Thu 2029-04-26 | Mon 2029-04-30T17:00:00+02:00 | Fri 2029-05-04T17:00:00+02:00 | Mon 2029-04-30T17:00:00+02:00 | King's Day 2029: day before at 10:00
Thu 2029-04-26T17:30 | default | Mon 2029-04-30 | Tue 2029-05-01T17:00:00+02:00 | Mon 2029-05-07T17:00:00+02:00 | Tue 2029-05-01T17:00:00+02:00 | King's Day 2029: day before at 17:30
Fri 2029-04-27T10:00 | default | Mon 2029-04-30 | Tue 2029-05-01T17:00:00+02:00 | Mon 2029-05-07T17:00:00+02:00 | Tue 2029-05-01T17:00:00+02:00 | King's Day 2029: on the holiday (Friday)
Wed 2029-05-09T10:00 | default | Wed 2029-05-09 | Fri 2029-05-11T17:00:00+02:00 | Thu 2029-05-17T17:00:00+02:00 | Fri 2029-05-11T17:00:00+02:00 | Ascension 2029: day before at 10:00
Wed 2029-05-09T17:30 | default | Fri 2029-05-11 | Mon 2029-05-14T17:00:00+02:00 | Fri 2029-05-18T17:00:00+02:00 | Mon 2029-05-14T17:00:00+02:00 | Ascension 2029: day before at 17:30
Thu 2029-05-10T10:00 | default | Fri 2029-05-11 | Mon 2029-05-14T17:00:00+02:00 | Fri 2029-05-18T17:00:00+02:00 | Mon 2029-05-14T17:00:00+02:00 | Ascension 2029: on the holiday
Fri 2029-05-11T10:00 | default | Fri 2029-05-11 | Mon 2029-05-14T17:00:00+02:00 | Fri 2029-05-18T17:00:00+02:00 | Mon 2029-05-14T17:00:00+02:00 | Ascension 2029: the Friday after is a workday
Fri 2029-05-18T10:00 | default | Fri 2029-05-18 | Tue 2029-05-22T17:00:00+02:00 | Mon 2029-05-28T17:00:00+02:00 | Tue 2029-05-22T17:00:00+02:00 | Whitsun 2029: Friday before at 10:00
Fri 2029-05-18T17:30 | default | Tue 2029-05-22 | Wed 2029-05-23T17:00:00+02:00 | Tue 2029-05-29T17:00:00+02:00 | Wed 2029-05-23T17:00:00+02:00 | Whitsun 2029: Friday before at 17:30
Sun 2029-05-20T12:00 | default | Tue 2029-05-22 | Wed 2029-05-23T17:00:00+02:00 | Tue 2029-05-29T17:00:00+02:00 | Wed 2029-05-23T17:00:00+02:00 | Whitsun 2029: on Whit Sunday
Mon 2029-05-21T10:00 | default | Tue 2029-05-22 | Wed 2029-05-23T17:00:00+02:00 | Tue 2029-05-29T17:00:00+02:00 | Wed 2029-05-23T17:00:00+02:00 | Whitsun 2029: on Whit Monday
Mon 2029-12-24T10:00 | default | Mon 2029-12-24 | Thu 2029-12-27T17:00:00+01:00 | Thu 2030-01-03T17:00:00+01:00 | Thu 2029-12-27T17:00:00+01:00 | Christmas 2029: Christmas Eve at 10:00
Mon 2029-12-24T17:30 | default | Thu 2029-12-27 | Fri 2029-12-28T17:00:00+01:00 | Fri 2030-01-04T17:00:00+01:00 | Fri 2029-12-28T17:00:00+01:00 | Christmas 2029: Christmas Eve at 17:30
Tue 2029-12-25T10:00 | default | Thu 2029-12-27 | Fri 2029-12-28T17:00:00+01:00 | Fri 2030-01-04T17:00:00+01:00 | Fri 2029-12-28T17:00:00+01:00 | Christmas 2029: on Christmas Day (Tuesday)
Wed 2029-12-26T10:00 | default | Thu 2029-12-27 | Fri 2029-12-28T17:00:00+01:00 | Fri 2030-01-04T17:00:00+01:00 | Fri 2029-12-28T17:00:00+01:00 | Christmas 2029: on Boxing Day (Wednesday)

# Year end 2029 -> 2030 (New Year on a Tuesday)
Mon 2029-12-31T10:00 | default | Mon 2029-12-31 | Wed 2030-01-02T17:00:00+01:00 | Tue 2030-01-08T17:00:00+01:00 | Wed 2030-01-02T17:00:00+01:00 | New Year 2030: 31 December at 10:00
Mon 2029-12-31T17:30 | default | Wed 2030-01-02 | Thu 2030-01-03T17:00:00+01:00 | Wed 2030-01-09T17:00:00+01:00 | Thu 2030-01-03T17:00:00+01:00 | New Year 2030: 31 December at 17:30
Tue 2030-01-01T10:00 | default | Wed 2030-01-02 | Thu 2030-01-03T17:00:00+01:00 | Wed 2030-01-09T17:00:00+01:00 | Thu 2030-01-03T17:00:00+01:00 | New Year 2030: on the holiday (Tuesday)

# 2030: Easter, King's Day (Saturday), Liberation Day (Sunday), Ascension, Whitsun, Christmas
Thu 2030-04-18T10:00 | default | Thu 2030-04-18 | Tue 2030-04-23T17:00:00+02:00 | Mon 2030-04-29T17:00:00+02:00 | Tue 2030-04-23T17:00:00+02:00 | Easter 2030: Thursday before at 10:00
Thu 2030-04-18T17:30 | default | Tue 2030-04-23 | Wed 2030-04-24T17:00:00+02:00 | Tue 2030-04-30T17:00:00+02:00 | Wed 2030-04-24T17:00:00+02:00 | Easter 2030: Thursday before at 17:30
Fri 2030-04-19T10:00 | default | Tue 2030-04-23 | Wed 2030-04-24T17:00:00+02:00 | Tue 2030-04-30T17:00:00+02:00 | Wed 2030-04-24T17:00:00+02:00 | Easter 2030: on Good Friday
Sun 2030-04-21T12:00 | default | Tue 2030-04-23 | Wed 2030-04-24T17:00:00+02:00 | Tue 2030-04-30T17:00:00+02:00 | Wed 2030-04-24T17:00:00+02:00 | Easter 2030: on Easter Sunday
Mon 2030-04-22T10:00 | default | Tue 2030-04-23 | Wed 2030-04-24T17:00:00+02:00 | Tue 2030-04-30T17:00:00+02:00 | Wed 2030-04-24T17:00:00+02:00 | Easter 2030: on Easter Monday
Sat 2030-04-27T12:00 | default | Mon 2030-04-29 | Tue 2030-04-30T17:00:00+02:00 | Mon 2030-05-06T17:00:00+02:00 | Tue 2030-04-30T17:00:00+02:00 | King's Day 2030 on Saturday; no substitute day
Fri 2030-05-03T17:30 | default | Mon 2030-05-06 | Tue 2030-05-07T17:00:00+02:00 | Mon 2030-05-13T17:00:00+02:00 | Tue 2030-05-07T17:00:00+02:00 | Liberation Day 2030 on Sunday: Friday before at 17:30
Sun 2030-05-05T12:00 | default | Mon 2030-05-06 | Tue 2030-05-07T17:00:00+02:00 | Mon 2030-05-13T17:00:00+02:00 | Tue 2030-05-07T17:00:00+02:00 | Liberation Day 2030 on Sunday; no substitute Monday
Wed 2030-05-29T10:00 | default | Wed 2030-05-29 | Fri 2030-05-31T17:00:00+02:00 | Thu 2030-06-06T17:00:00+02:00 | Fri 2030-05-31T17:00:00+02:00 | Ascension 2030: day before at 10:00
Wed 2030-05-29T17:30 | default | Fri 2030-05-31 | Mon 2030-06-03T17:00:00+02:00 | Fri 2030-06-07T17:00:00+02:00 | Mon 2030-06-03T17:00:00+02:00 | Ascension 2030: day before at 17:30
Thu 2030-05-30T10:00 | default | Fri 2030-05-31 | Mon 2030-06-03T17:00:00+02:00 | Fri 2030-06-07T17:00:00+02:00 | Mon 2030-06-03T17:00:00+02:00 | Ascension 2030: on the holiday
Fri 2030-05-31T10:00 | default | Fri 2030-05-31 | Mon 2030-06-03T17:00:00+02:00 | Fri 2030-06-07T17:00:00+02:00 | Mon 2030-06-03T17:00:00+02:00 | Ascension 2030: the Friday after is a workday
Fri 2030-06-07T10:00 | default | Fri 2030-06-07 | Tue 2030-06-11T17:00:00+02:00 | Mon 2030-06-17T17:00:00+02:00 | Tue 2030-06-11T17:00:00+02:00 | Whitsun 2030: Friday before at 10:00
Fri 2030-06-07T17:30 | default | Tue 2030-06-11 | Wed 2030-06-12T17:00:00+02:00 | Tue 2030-06-18T17:00:00+02:00 | Wed 2030-06-12T17:00:00+02:00 | Whitsun 2030: Friday before at 17:30
Sun 2030-06-09T12:00 | default | Tue 2030-06-11 | Wed 2030-06-12T17:00:00+02:00 | Tue 2030-06-18T17:00:00+02:00 | Wed 2030-06-12T17:00:00+02:00 | Whitsun 2030: on Whit Sunday
Mon 2030-06-10T10:00 | default | Tue 2030-06-11 | Wed 2030-06-12T17:00:00+02:00 | Tue 2030-06-18T17:00:00+02:00 | Wed 2030-06-12T17:00:00+02:00 | Whitsun 2030: on Whit Monday
Tue 2030-12-24T10:00 | default | Tue 2030-12-24 | Fri 2030-12-27T17:00:00+01:00 | Fri 2031-01-03T17:00:00+01:00 | Fri 2030-12-27T17:00:00+01:00 | Christmas 2030: Christmas Eve at 10:00
Tue 2030-12-24T17:30 | default | Fri 2030-12-27 | Mon 2030-12-30T17:00:00+01:00 | Mon 2031-01-06T17:00:00+01:00 | Mon 2030-12-30T17:00:00+01:00 | Christmas 2030: Christmas Eve at 17:30
Wed 2030-12-25T10:00 | default | Fri 2030-12-27 | Mon 2030-12-30T17:00:00+01:00 | Mon 2031-01-06T17:00:00+01:00 | Mon 2030-12-30T17:00:00+01:00 | Christmas 2030: on Christmas Day (Wednesday)
Thu 2030-12-26T10:00 | default | Fri 2030-12-27 | Mon 2030-12-30T17:00:00+01:00 | Mon 2031-01-06T17:00:00+01:00 | Mon 2030-12-30T17:00:00+01:00 | Christmas 2030: on Boxing Day (Thursday)
Fri 2030-12-27T10:00 | default | Fri 2030-12-27 | Mon 2030-12-30T17:00:00+01:00 | Mon 2031-01-06T17:00:00+01:00 | Mon 2030-12-30T17:00:00+01:00 | Christmas 2030: 27 December is a workday

# Year end 2030 -> 2031 (New Year on a Wednesday)
Tue 2030-12-31T10:00 | default | Tue 2030-12-31 | Thu 2031-01-02T17:00:00+01:00 | Wed 2031-01-08T17:00:00+01:00 | Thu 2031-01-02T17:00:00+01:00 | New Year 2031: 31 December at 10:00
Tue 2030-12-31T17:30 | default | Thu 2031-01-02 | Fri 2031-01-03T17:00:00+01:00 | Thu 2031-01-09T17:00:00+01:00 | Fri 2031-01-03T17:00:00+01:00 | New Year 2031: 31 December at 17:30
Wed 2031-01-01T10:00 | default | Thu 2031-01-02 | Fri 2031-01-03T17:00:00+01:00 | Thu 2031-01-09T17:00:00+01:00 | Fri 2031-01-03T17:00:00+01:00 | New Year 2031: on the holiday (Wednesday)

# 2031: Easter, King's Day (27 April a Sunday: Saturday 26th), Liberation Day (not a holiday), Ascension, Whitsun, Christmas
Thu 2031-04-10T10:00 | default | Thu 2031-04-10 | Tue 2031-04-15T17:00:00+02:00 | Mon 2031-04-21T17:00:00+02:00 | Tue 2031-04-15T17:00:00+02:00 | Easter 2031: Thursday before at 10:00
Thu 2031-04-10T17:30 | default | Tue 2031-04-15 | Wed 2031-04-16T17:00:00+02:00 | Tue 2031-04-22T17:00:00+02:00 | Wed 2031-04-16T17:00:00+02:00 | Easter 2031: Thursday before at 17:30
Fri 2031-04-11T10:00 | default | Tue 2031-04-15 | Wed 2031-04-16T17:00:00+02:00 | Tue 2031-04-22T17:00:00+02:00 | Wed 2031-04-16T17:00:00+02:00 | Easter 2031: on Good Friday
Sun 2031-04-13T12:00 | default | Tue 2031-04-15 | Wed 2031-04-16T17:00:00+02:00 | Tue 2031-04-22T17:00:00+02:00 | Wed 2031-04-16T17:00:00+02:00 | Easter 2031: on Easter Sunday
Mon 2031-04-14T10:00 | default | Tue 2031-04-15 | Wed 2031-04-16T17:00:00+02:00 | Tue 2031-04-22T17:00:00+02:00 | Wed 2031-04-16T17:00:00+02:00 | Easter 2031: on Easter Monday
Sat 2031-04-26T12:00 | default | Mon 2031-04-28 | Tue 2031-04-29T17:00:00+02:00 | Mon 2031-05-05T17:00:00+02:00 | Tue 2031-04-29T17:00:00+02:00 | King's Day 2031 on Saturday 26th; Monday 28th and 5 May are workdays
Sun 2031-04-27T12:00 | default | Mon 2031-04-28 | Tue 2031-04-29T17:00:00+02:00 | Mon 2031-05-05T17:00:00+02:00 | Tue 2031-04-29T17:00:00+02:00 | King's Day 2031: 27 April (Sunday) has no substitute Monday
Mon 2031-05-05T10:00 | default | Mon 2031-05-05 | Tue 2031-05-06T17:00:00+02:00 | Mon 2031-05-12T17:00:00+02:00 | Tue 2031-05-06T17:00:00+02:00 | Liberation Day 2031 is a workday
Wed 2031-05-21T10:00 | default | Wed 2031-05-21 | Fri 2031-05-23T17:00:00+02:00 | Thu 2031-05-29T17:00:00+02:00 | Fri 2031-05-23T17:00:00+02:00 | Ascension 2031: day before at 10:00
Wed 2031-05-21T17:30 | default | Fri 2031-05-23 | Mon 2031-05-26T17:00:00+02:00 | Fri 2031-05-30T17:00:00+02:00 | Mon 2031-05-26T17:00:00+02:00 | Ascension 2031: day before at 17:30
Thu 2031-05-22T10:00 | default | Fri 2031-05-23 | Mon 2031-05-26T17:00:00+02:00 | Fri 2031-05-30T17:00:00+02:00 | Mon 2031-05-26T17:00:00+02:00 | Ascension 2031: on the holiday
Fri 2031-05-23T10:00 | default | Fri 2031-05-23 | Mon 2031-05-26T17:00:00+02:00 | Fri 2031-05-30T17:00:00+02:00 | Mon 2031-05-26T17:00:00+02:00 | Ascension 2031: the Friday after is a workday
Fri 2031-05-30T10:00 | default | Fri 2031-05-30 | Tue 2031-06-03T17:00:00+02:00 | Mon 2031-06-09T17:00:00+02:00 | Tue 2031-06-03T17:00:00+02:00 | Whitsun 2031: Friday before at 10:00
Fri 2031-05-30T17:30 | default | Tue 2031-06-03 | Wed 2031-06-04T17:00:00+02:00 | Tue 2031-06-10T17:00:00+02:00 | Wed 2031-06-04T17:00:00+02:00 | Whitsun 2031: Friday before at 17:30
Sun 2031-06-01T12:00 | default | Tue 2031-06-03 | Wed 2031-06-04T17:00:00+02:00 | Tue 2031-06-10T17:00:00+02:00 | Wed 2031-06-04T17:00:00+02:00 | Whitsun 2031: on Whit Sunday
Mon 2031-06-02T10:00 | default | Tue 2031-06-03 | Wed 2031-06-04T17:00:00+02:00 | Tue 2031-06-10T17:00:00+02:00 | Wed 2031-06-04T17:00:00+02:00 | Whitsun 2031: on Whit Monday
Wed 2031-12-24T10:00 | default | Wed 2031-12-24 | Mon 2031-12-29T17:00:00+01:00 | Mon 2032-01-05T17:00:00+01:00 | Mon 2031-12-29T17:00:00+01:00 | Christmas 2031: Christmas Eve at 10:00
Wed 2031-12-24T17:30 | default | Mon 2031-12-29 | Tue 2031-12-30T17:00:00+01:00 | Tue 2032-01-06T17:00:00+01:00 | Tue 2031-12-30T17:00:00+01:00 | Christmas 2031: Christmas Eve at 17:30
Thu 2031-12-25T10:00 | default | Mon 2031-12-29 | Tue 2031-12-30T17:00:00+01:00 | Tue 2032-01-06T17:00:00+01:00 | Tue 2031-12-30T17:00:00+01:00 | Christmas 2031: on Christmas Day (Thursday)
Fri 2031-12-26T10:00 | default | Mon 2031-12-29 | Tue 2031-12-30T17:00:00+01:00 | Tue 2032-01-06T17:00:00+01:00 | Tue 2031-12-30T17:00:00+01:00 | Christmas 2031: on Boxing Day (Friday)

# Year end 2031 -> 2032 (New Year on a Thursday)
Wed 2031-12-31T10:00 | default | Wed 2031-12-31 | Fri 2032-01-02T17:00:00+01:00 | Thu 2032-01-08T17:00:00+01:00 | Fri 2032-01-02T17:00:00+01:00 | New Year 2032: 31 December at 10:00
Wed 2031-12-31T17:30 | default | Fri 2032-01-02 | Mon 2032-01-05T17:00:00+01:00 | Fri 2032-01-09T17:00:00+01:00 | Mon 2032-01-05T17:00:00+01:00 | New Year 2032: 31 December at 17:30
Thu 2032-01-01T10:00 | default | Fri 2032-01-02 | Mon 2032-01-05T17:00:00+01:00 | Fri 2032-01-09T17:00:00+01:00 | Mon 2032-01-05T17:00:00+01:00 | New Year 2032: on the holiday (Thursday)

# Closure range Mon 28 - Thu 31 Dec 2026 (both ends included)
Wed 2026-12-23T10:00 | closed-28-31dec26 | Wed 2026-12-23 | Thu 2026-12-24T17:00:00+01:00 | Thu 2027-01-07T17:00:00+01:00 | Thu 2026-12-24T17:00:00+01:00 | closure range: two days before Christmas
Thu 2026-12-24T10:00 | closed-28-31dec26 | Thu 2026-12-24 | Mon 2027-01-04T17:00:00+01:00 | Fri 2027-01-08T17:00:00+01:00 | Mon 2027-01-04T17:00:00+01:00 | closure range: last open day at 10:00
Thu 2026-12-24T16:59 | closed-28-31dec26 | Thu 2026-12-24 | Mon 2027-01-04T17:00:00+01:00 | Fri 2027-01-08T17:00:00+01:00 | Mon 2027-01-04T17:00:00+01:00 | closure range: last open day at 16:59
Thu 2026-12-24T17:00 | closed-28-31dec26 | Mon 2027-01-04 | Tue 2027-01-05T17:00:00+01:00 | Mon 2027-01-11T17:00:00+01:00 | Tue 2027-01-05T17:00:00+01:00 | closure range: last open day at 17:00
Sun 2026-12-27T12:00 | closed-28-31dec26 | Mon 2027-01-04 | Tue 2027-01-05T17:00:00+01:00 | Mon 2027-01-11T17:00:00+01:00 | Tue 2027-01-05T17:00:00+01:00 | closure range: Sunday before
Mon 2026-12-28T10:00 | closed-28-31dec26 | Mon 2027-01-04 | Tue 2027-01-05T17:00:00+01:00 | Mon 2027-01-11T17:00:00+01:00 | Tue 2027-01-05T17:00:00+01:00 | closure range: first closed day
Wed 2026-12-30T07:00 | closed-28-31dec26 | Mon 2027-01-04 | Tue 2027-01-05T17:00:00+01:00 | Mon 2027-01-11T17:00:00+01:00 | Tue 2027-01-05T17:00:00+01:00 | closure range: a closed day before opening time
Thu 2026-12-31T16:59 | closed-28-31dec26 | Mon 2027-01-04 | Tue 2027-01-05T17:00:00+01:00 | Mon 2027-01-11T17:00:00+01:00 | Tue 2027-01-05T17:00:00+01:00 | closure range: last closed day
Fri 2027-01-01T12:00 | closed-28-31dec26 | Mon 2027-01-04 | Tue 2027-01-05T17:00:00+01:00 | Mon 2027-01-11T17:00:00+01:00 | Tue 2027-01-05T17:00:00+01:00 | closure range: New Year after it
Mon 2027-01-04T07:00 | closed-28-31dec26 | Mon 2027-01-04 | Tue 2027-01-05T17:00:00+01:00 | Mon 2027-01-11T17:00:00+01:00 | Tue 2027-01-05T17:00:00+01:00 | closure range: first day back
Wed 2026-12-23T17:30 | closed-28-31dec26 | Thu 2026-12-24 | Mon 2027-01-04T17:00:00+01:00 | Fri 2027-01-08T17:00:00+01:00 | Mon 2027-01-04T17:00:00+01:00 | closure range: evening before the last open day

# Closure range across a year end: Mon 27 Dec 2027 - Tue 4 Jan 2028
Fri 2027-12-24T10:00 | closed-27dec27-4jan28 | Fri 2027-12-24 | Wed 2028-01-05T17:00:00+01:00 | Tue 2028-01-11T17:00:00+01:00 | Wed 2028-01-05T17:00:00+01:00 | closure over the year end: Friday before
Tue 2028-01-04T16:00 | closed-27dec27-4jan28 | Wed 2028-01-05 | Thu 2028-01-06T17:00:00+01:00 | Wed 2028-01-12T17:00:00+01:00 | Thu 2028-01-06T17:00:00+01:00 | closure over the year end: last closed day
Wed 2028-01-05T07:00 | closed-27dec27-4jan28 | Wed 2028-01-05 | Thu 2028-01-06T17:00:00+01:00 | Wed 2028-01-12T17:00:00+01:00 | Thu 2028-01-06T17:00:00+01:00 | closure over the year end: first day back

# A single closure date: bridge day Fri 15 May 2026 after Ascension
Wed 2026-05-13T10:00 | bridge-15may26 | Wed 2026-05-13 | Mon 2026-05-18T17:00:00+02:00 | Fri 2026-05-22T17:00:00+02:00 | Mon 2026-05-18T17:00:00+02:00 | bridge day: Wednesday before Ascension at 10:00
Wed 2026-05-13T17:30 | bridge-15may26 | Mon 2026-05-18 | Tue 2026-05-19T17:00:00+02:00 | Tue 2026-05-26T17:00:00+02:00 | Tue 2026-05-19T17:00:00+02:00 | bridge day: Wednesday before Ascension at 17:30, answer after Whit Monday
Fri 2026-05-15T10:00 | bridge-15may26 | Mon 2026-05-18 | Tue 2026-05-19T17:00:00+02:00 | Tue 2026-05-26T17:00:00+02:00 | Tue 2026-05-19T17:00:00+02:00 | bridge day: on the closed day

# Lunch break on Wednesday: 08:30-12:00 and 13:00-17:00
Wed 2026-11-11T07:00 | lunch-wed | Wed 2026-11-11 | Thu 2026-11-12T17:00:00+01:00 | Wed 2026-11-18T17:00:00+01:00 | Thu 2026-11-12T17:00:00+01:00 | lunch break day: before opening
Wed 2026-11-11T11:59 | lunch-wed | Wed 2026-11-11 | Thu 2026-11-12T17:00:00+01:00 | Wed 2026-11-18T17:00:00+01:00 | Thu 2026-11-12T17:00:00+01:00 | lunch break day: just before the break
Wed 2026-11-11T12:00 | lunch-wed | Wed 2026-11-11 | Thu 2026-11-12T17:00:00+01:00 | Wed 2026-11-18T17:00:00+01:00 | Thu 2026-11-12T17:00:00+01:00 | lunch break day: start of the break
Wed 2026-11-11T12:30 | lunch-wed | Wed 2026-11-11 | Thu 2026-11-12T17:00:00+01:00 | Wed 2026-11-18T17:00:00+01:00 | Thu 2026-11-12T17:00:00+01:00 | lunch break day: during the break still counts that day
Wed 2026-11-11T13:00 | lunch-wed | Wed 2026-11-11 | Thu 2026-11-12T17:00:00+01:00 | Wed 2026-11-18T17:00:00+01:00 | Thu 2026-11-12T17:00:00+01:00 | lunch break day: after the break
Wed 2026-11-11T16:59 | lunch-wed | Wed 2026-11-11 | Thu 2026-11-12T17:00:00+01:00 | Wed 2026-11-18T17:00:00+01:00 | Thu 2026-11-12T17:00:00+01:00 | lunch break day: 16:59
Wed 2026-11-11T17:00 | lunch-wed | Thu 2026-11-12 | Fri 2026-11-13T17:00:00+01:00 | Thu 2026-11-19T17:00:00+01:00 | Fri 2026-11-13T17:00:00+01:00 | lunch break day: closing is the end of the afternoon
Tue 2026-11-10T10:00 | lunch-wed | Tue 2026-11-10 | Wed 2026-11-11T17:00:00+01:00 | Tue 2026-11-17T17:00:00+01:00 | Wed 2026-11-11T17:00:00+01:00 | lunch break day: deadline on it is 17:00, not 12:00
Tue 2026-11-10T17:30 | lunch-wed | Wed 2026-11-11 | Thu 2026-11-12T17:00:00+01:00 | Wed 2026-11-18T17:00:00+01:00 | Thu 2026-11-12T17:00:00+01:00 | lunch break day: evening before

# Office closed on Fridays (Monday-Thursday)
Wed 2026-11-25T10:00 | mon-thu | Wed 2026-11-25 | Thu 2026-11-26T17:00:00+01:00 | Thu 2026-12-03T17:00:00+01:00 | Thu 2026-11-26T17:00:00+01:00 | Mon-Thu office: Wednesday
Thu 2026-11-26T10:00 | mon-thu | Thu 2026-11-26 | Mon 2026-11-30T17:00:00+01:00 | Mon 2026-12-07T17:00:00+01:00 | Mon 2026-11-30T17:00:00+01:00 | Mon-Thu office: Thursday acknowledges on Monday
Thu 2026-11-26T17:30 | mon-thu | Mon 2026-11-30 | Tue 2026-12-01T17:00:00+01:00 | Tue 2026-12-08T17:00:00+01:00 | Tue 2026-12-01T17:00:00+01:00 | Mon-Thu office: Thursday evening
Fri 2026-11-27T10:00 | mon-thu | Mon 2026-11-30 | Tue 2026-12-01T17:00:00+01:00 | Tue 2026-12-08T17:00:00+01:00 | Tue 2026-12-01T17:00:00+01:00 | Mon-Thu office: Friday counts Monday
Mon 2026-11-30T10:00 | mon-thu | Mon 2026-11-30 | Tue 2026-12-01T17:00:00+01:00 | Tue 2026-12-08T17:00:00+01:00 | Tue 2026-12-01T17:00:00+01:00 | Mon-Thu office: Monday
Wed 2026-05-13T10:00 | mon-thu | Wed 2026-05-13 | Mon 2026-05-18T17:00:00+02:00 | Tue 2026-05-26T17:00:00+02:00 | Mon 2026-05-18T17:00:00+02:00 | Mon-Thu office: before Ascension and Whit Monday
Wed 2026-05-13T17:30 | mon-thu | Mon 2026-05-18 | Tue 2026-05-19T17:00:00+02:00 | Wed 2026-05-27T17:00:00+02:00 | Tue 2026-05-19T17:00:00+02:00 | Mon-Thu office: Wednesday evening before Ascension
Thu 2026-04-02T10:00 | mon-thu | Thu 2026-04-02 | Tue 2026-04-07T17:00:00+02:00 | Tue 2026-04-14T17:00:00+02:00 | Tue 2026-04-07T17:00:00+02:00 | Mon-Thu office: Easter 2026
Thu 2026-12-31T10:00 | mon-thu | Thu 2026-12-31 | Mon 2027-01-04T17:00:00+01:00 | Mon 2027-01-11T17:00:00+01:00 | Mon 2027-01-04T17:00:00+01:00 | Mon-Thu office: year end 2026

# Friday closes at 12:00
Fri 2026-11-27T11:59 | short-fri | Fri 2026-11-27 | Mon 2026-11-30T17:00:00+01:00 | Fri 2026-12-04T12:00:00+01:00 | Mon 2026-11-30T17:00:00+01:00 | short Friday: answer on a Friday is due at 12:00
Fri 2026-11-27T12:00 | short-fri | Mon 2026-11-30 | Tue 2026-12-01T17:00:00+01:00 | Mon 2026-12-07T17:00:00+01:00 | Tue 2026-12-01T17:00:00+01:00 | short Friday: 12:00 is after closing
Thu 2026-11-26T10:00 | short-fri | Thu 2026-11-26 | Fri 2026-11-27T12:00:00+01:00 | Thu 2026-12-03T17:00:00+01:00 | Fri 2026-11-27T12:00:00+01:00 | short Friday: acknowledge on Friday by 12:00
Thu 2026-06-18T10:00 | short-fri | Thu 2026-06-18 | Fri 2026-06-19T12:00:00+02:00 | Thu 2026-06-25T17:00:00+02:00 | Fri 2026-06-19T12:00:00+02:00 | short Friday: in summer time

# Open on Good Friday (ignore_names)
Thu 2025-04-17T10:00 | open-good-fri | Thu 2025-04-17 | Fri 2025-04-18T17:00:00+02:00 | Fri 2025-04-25T17:00:00+02:00 | Fri 2025-04-18T17:00:00+02:00 | open on Good Friday 2025: Thursday before
Fri 2025-04-18T10:00 | open-good-fri | Fri 2025-04-18 | Tue 2025-04-22T17:00:00+02:00 | Mon 2025-04-28T17:00:00+02:00 | Tue 2025-04-22T17:00:00+02:00 | open on Good Friday 2025: on Good Friday
Fri 2025-04-18T17:30 | open-good-fri | Tue 2025-04-22 | Wed 2025-04-23T17:00:00+02:00 | Tue 2025-04-29T17:00:00+02:00 | Wed 2025-04-23T17:00:00+02:00 | open on Good Friday 2025: Good Friday evening
Thu 2026-04-02T10:00 | open-good-fri | Thu 2026-04-02 | Fri 2026-04-03T17:00:00+02:00 | Fri 2026-04-10T17:00:00+02:00 | Fri 2026-04-03T17:00:00+02:00 | open on Good Friday 2026: Thursday before
Fri 2026-04-03T10:00 | open-good-fri | Fri 2026-04-03 | Tue 2026-04-07T17:00:00+02:00 | Mon 2026-04-13T17:00:00+02:00 | Tue 2026-04-07T17:00:00+02:00 | open on Good Friday 2026: on Good Friday
Fri 2026-04-03T17:30 | open-good-fri | Tue 2026-04-07 | Wed 2026-04-08T17:00:00+02:00 | Tue 2026-04-14T17:00:00+02:00 | Wed 2026-04-08T17:00:00+02:00 | open on Good Friday 2026: Good Friday evening
Mon 2026-04-06T10:00 | open-good-fri | Tue 2026-04-07 | Wed 2026-04-08T17:00:00+02:00 | Tue 2026-04-14T17:00:00+02:00 | Wed 2026-04-08T17:00:00+02:00 | open on Good Friday 2026: Easter Monday stays a holiday
Thu 2027-03-25T10:00 | open-good-fri | Thu 2027-03-25 | Fri 2027-03-26T17:00:00+01:00 | Fri 2027-04-02T17:00:00+02:00 | Fri 2027-03-26T17:00:00+01:00 | open on Good Friday 2027: winter acknowledge, summer answer
Fri 2027-03-26T10:00 | open-good-fri | Fri 2027-03-26 | Tue 2027-03-30T17:00:00+02:00 | Mon 2027-04-05T17:00:00+02:00 | Tue 2027-03-30T17:00:00+02:00 | open on Good Friday 2027: on Good Friday
Fri 2026-04-03T10:00 | open-good-fri-en | Fri 2026-04-03 | Tue 2026-04-07T17:00:00+02:00 | Mon 2026-04-13T17:00:00+02:00 | Tue 2026-04-07T17:00:00+02:00 | open on Good Friday, named in English
Thu 2026-04-02T10:00 | open-good-fri-en | Thu 2026-04-02 | Fri 2026-04-03T17:00:00+02:00 | Fri 2026-04-10T17:00:00+02:00 | Fri 2026-04-03T17:00:00+02:00 | open on Good Friday, named in English: Thursday before

# Liberation Day every year (holiday categories public + optional)
Mon 2026-05-04T10:00 | with-optional | Mon 2026-05-04 | Wed 2026-05-06T17:00:00+02:00 | Tue 2026-05-12T17:00:00+02:00 | Wed 2026-05-06T17:00:00+02:00 | optional category: 5 May 2026 is closed
Tue 2026-05-05T10:00 | with-optional | Wed 2026-05-06 | Thu 2026-05-07T17:00:00+02:00 | Wed 2026-05-13T17:00:00+02:00 | Thu 2026-05-07T17:00:00+02:00 | optional category: on 5 May 2026
"""

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _labelled(text: str) -> tuple[str, str]:
    """Split 'Fri 2026-11-27...' into the weekday label and the ISO text, checking the label."""
    label, iso = text.split()
    if _WEEKDAYS[date.fromisoformat(iso[:10]).weekday()] != label:
        raise ValueError(f"table slip: {iso[:10]} is not a {label}")
    return label, iso


@dataclass(frozen=True)
class Row:
    received: str
    variant: str
    reception_day: str
    acknowledge_by: str
    answer_by: str
    callback_by: str


def _rows() -> list[object]:
    params: list[object] = []
    for line in TABLE.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        received, variant, d, ack, answer, callback, what = (c.strip() for c in line.split("|"))
        if variant not in VARIANTS:
            raise ValueError(f"table slip: unknown variant {variant!r}")
        row = Row(
            received=_labelled(received)[1],
            variant=variant,
            reception_day=_labelled(d)[1],
            acknowledge_by=_labelled(ack)[1],
            answer_by=_labelled(answer)[1],
            callback_by=_labelled(callback)[1],
        )
        params.append(pytest.param(row, id=f"{variant}: {what} [{received}]"))
    return params


ROWS = _rows()


def test_the_table_is_large_enough_to_cover_the_calendar() -> None:
    assert len(ROWS) >= 150


@pytest.mark.parametrize("row", ROWS)
def test_response_terms_match_the_hand_checked_table(row: Row) -> None:
    calendar = VARIANTS[row.variant]

    terms = calendar.terms(datetime.fromisoformat(row.received))

    assert terms.reception_day == date.fromisoformat(row.reception_day)
    for name in ("acknowledge_by", "answer_by", "callback_by"):
        got = getattr(terms, name)
        expected = getattr(row, name)
        # Equal as instants, and written the same: local wall-clock time with the local offset.
        assert got == datetime.fromisoformat(expected), name
        assert got.isoformat() == expected, name


@pytest.mark.parametrize("row", ROWS)
def test_the_building_blocks_agree_with_the_table(row: Row) -> None:
    calendar = VARIANTS[row.variant]
    received = datetime.fromisoformat(row.received)
    day = date.fromisoformat(row.reception_day)

    assert calendar.reception_day(received) == day
    assert calendar.is_workday(day)
    assert calendar.end_of_nth_workday_after(day, 1).isoformat() == row.acknowledge_by
    assert calendar.end_of_nth_workday_after(day, 5).isoformat() == row.answer_by
    answer_day = date.fromisoformat(row.answer_by[:10])
    assert calendar.nth_workday_after(day, 5) == answer_day
    assert calendar.closing_time(answer_day).isoformat() == row.answer_by


def test_received_moment_is_reported_in_local_time() -> None:
    terms = default_calendar().terms(datetime.fromisoformat("2026-11-27T16:30:00+00:00"))

    assert terms.received.isoformat() == "2026-11-27T17:30:00+01:00"


def test_naive_received_moment_is_taken_as_local_time() -> None:
    terms = default_calendar().terms(datetime(2026, 6, 16, 16, 59))

    assert terms.received.isoformat() == "2026-06-16T16:59:00+02:00"
    assert terms.reception_day == date(2026, 6, 16)
