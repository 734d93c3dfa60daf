"""Free/busy in the sandbox (a test double): working hours, busy types and merged views for both fronts.

**Working hours.** Exchange keeps a mailbox's working hours as one time slot, a list of work
days and a time zone: the ``IPM.Configuration.WorkHours`` message of the Calendar folder holds
``WorkHoursVersion1`` with one ``TimeSlot`` (Start, End) and ``WorkDays`` ([MS-OXOCFG]
2.2.5.2.1). EWS GetUserAvailability renders it as ``WorkingHours`` (the zone as a
SerializableTimeZone, one ``WorkingPeriod``), Graph as ``workingHours`` (``daysOfWeek``,
``startTime``, ``endTime``, ``timeZone``, which also has one start and one end). So a
part-time colleague is modelled as Exchange models one: fewer work days, one time range.

**Busy types** (EWS LegacyFreeBusyType; Graph freeBusyStatus): Free, Tentative, Busy, OOF,
WorkingElsewhere, NoData (Graph ``unknown``). A slot several items overlap takes the least
available status: NoData, OOF, Busy, Tentative, WorkingElsewhere, Free. In the merged strings
(EWS MergedFreeBusy, Graph availabilityView) the digits are 0 free, 1 tentative, 2 busy, 3 out
of office, 4 no data (MergedFreeBusy reference); working elsewhere is written 0, as Graph
documents "0 = free or working elsewhere" ("Get free/busy schedule of Outlook calendar users
and resources"; microsoftgraph/msgraph-metadata#598 shows a workingElsewhere event as 0).
Both fronts compute the string here, so they cannot disagree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from exchange_sandbox.timezones import ZoneRule, windows_rule

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
BUSY_TYPES = ("Free", "Tentative", "Busy", "OOF", "WorkingElsewhere", "NoData")
#: Which status a slot takes when several items overlap it: the highest wins.
_PRECEDENCE = {"Free": 0, "WorkingElsewhere": 1, "Tentative": 2, "Busy": 3, "OOF": 4, "NoData": 5}
#: The digit of each status in EWS MergedFreeBusy and Graph availabilityView.
DIGITS = {"Free": "0", "WorkingElsewhere": "0", "Tentative": "1", "Busy": "2", "OOF": "3", "NoData": "4"}  # fmt: skip
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


class WorkingHoursError(ValueError):
    """A working-hours table Exchange could not hold."""


@dataclass(frozen=True)
class WorkingHours:
    """One mailbox's working hours, as Exchange stores them: work days, one slot, a time zone."""

    days: tuple[str, ...] = WEEKDAYS[:5]
    start: int = 8 * 60  # minutes after midnight, local time of ``time_zone``
    end: int = 17 * 60
    time_zone: str = "W. Europe Standard Time"  # the Windows id

    @property
    def zone(self) -> ZoneRule:
        rule = windows_rule(self.time_zone)
        if rule is None:  # checked when parsed; a hand-made value may still be wrong
            raise WorkingHoursError(f"unknown time zone {self.time_zone!r}")
        return rule

    def changed(self, section: Mapping[str, Any], where: str) -> WorkingHours:
        """These hours with the keys of a TOML table (``days``, ``start``, ``end``,
        ``time_zone``) changed; WorkingHoursError names ``where`` when the table is wrong."""
        per_day = sorted(set(section) & set(WEEKDAYS))
        if per_day:
            raise WorkingHoursError(
                f"{where}: Exchange keeps one time range for all work days ([MS-OXOCFG] "
                f"2.2.5.2.1 WorkHoursVersion1; Graph workingHours has one startTime and endTime):"
                f" list the days in 'days' and give one 'start' and 'end', not {per_day[0]!r}"
            )
        unknown = set(section) - {"days", "start", "end", "time_zone"}
        if unknown:
            raise WorkingHoursError(f"{where} has unknown keys: {sorted(unknown)}")
        days = self.days
        if "days" in section:
            given = section["days"]
            if not isinstance(given, list) or not all(isinstance(d, str) for d in given):
                raise WorkingHoursError(f"{where}.days must be a list of weekday names")
            wrong = [d for d in given if d.lower() not in WEEKDAYS]
            if wrong:
                raise WorkingHoursError(f"{where}.days: {wrong[0]!r} is no weekday ({WEEKDAYS})")
            if not given:
                raise WorkingHoursError(f"{where}.days: Outlook needs at least one work day")
            days = tuple(d for d in WEEKDAYS if d in {g.lower() for g in given})
        start = _minutes(section["start"], f"{where}.start") if "start" in section else self.start
        end = _minutes(section["end"], f"{where}.end") if "end" in section else self.end
        if not start < end:
            raise WorkingHoursError(f"{where}: start must be before end")
        zone = self.time_zone
        if "time_zone" in section:
            rule = windows_rule(str(section["time_zone"]))
            if rule is None:
                raise WorkingHoursError(
                    f"{where}.time_zone {section['time_zone']!r} is no Windows time zone id or "
                    "IANA name the sandbox knows (see exchange_sandbox.timezones)"
                )
            zone = rule.ms_id
        return WorkingHours(days=days, start=start, end=end, time_zone=zone)

    def as_json(self) -> dict[str, Any]:
        return {
            "days": list(self.days),
            "start": clock(self.start),
            "end": clock(self.end),
            "time_zone": self.time_zone,
            "iana": self.zone.iana_name,
        }


#: The store's name of the working hours a mailbox's owner set (``/_sandbox/calendar/working-hours``).
HOURS_SETTING = "working_hours"


class _Settings(Protocol):
    def mailbox_setting(self, address: str, name: str) -> Any: ...

    def set_mailbox_setting(self, address: str, name: str, value: Any) -> None: ...


class _Configured(Protocol):
    def hours_of(self, address: str) -> WorkingHours: ...


def mailbox_hours(store: _Settings, config: _Configured, address: str) -> WorkingHours:
    """A mailbox's working hours: those its owner set in Outlook (kept in the mailbox, as
    Exchange keeps them), else the configuration's (its own table, else ``[working_hours]``)."""
    own = store.mailbox_setting(address, HOURS_SETTING)
    if isinstance(own, dict):
        try:
            return WorkingHours().changed(own, "stored working hours")
        except WorkingHoursError:
            pass  # written by an older sandbox: the configuration applies
    return config.hours_of(address)


def set_mailbox_hours(
    store: _Settings, config: _Configured, address: str, section: Mapping[str, Any]
) -> WorkingHours:
    """The owner changes their working hours (keys left out keep their value); WorkingHoursError
    when Exchange could not hold them. ``section`` empty or ``{"reset": true}``: back to the
    configuration's."""
    if section.get("reset") is True:
        store.set_mailbox_setting(address, HOURS_SETTING, None)
        return config.hours_of(address)
    hours = mailbox_hours(store, config, address).changed(section, "working hours")
    kept = hours.as_json()
    del kept["iana"]
    store.set_mailbox_setting(address, HOURS_SETTING, kept)
    return hours


def _minutes(value: Any, where: str) -> int:
    match = _TIME.match(str(value).strip())
    if match is None:
        raise WorkingHoursError(f"{where} must be a time as HH:MM, not {value!r}")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours * 60 + minutes > 24 * 60:
        raise WorkingHoursError(f"{where}: {value!r} is no time of day")
    return hours * 60 + minutes


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def strongest(statuses: Sequence[str]) -> str:
    """The status a slot shows when items with these statuses overlap it ("Free" for none)."""
    return max(statuses, key=lambda s: _PRECEDENCE.get(s, _PRECEDENCE["Busy"]), default="Free")


Span = tuple[datetime, datetime, str]
"""An item's start, end and free/busy status."""


def merged_view(spans: Sequence[Span], start: datetime, end: datetime, minutes: int) -> str:
    """The merged free/busy string of a window in slots of ``minutes`` (the last may be short)."""
    out = []
    step = timedelta(minutes=minutes)
    slot = start
    while slot < end:
        slot_end = min(slot + step, end)
        covering = [status for s, e, status in spans if s < slot_end and e > slot]
        out.append(DIGITS.get(strongest(covering), "2"))
        slot += step
    return "".join(out)
