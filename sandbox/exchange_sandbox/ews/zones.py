"""Time zones in EWS (sandbox, a test double): server time zone definitions and request time zones."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from exchange_sandbox.ews.faults import EwsFault
from exchange_sandbox.ews.versions import at_least
from exchange_sandbox.ews.xml import Element, sub, t, text_of
from exchange_sandbox.timezones import ZONES, ZoneRule

__all__ = [
    "WEEKDAYS",
    "ZONES",
    "SerializableZone",
    "ZoneRule",
    "context_zone",
    "from_local",
    "item_zone",
    "render_serializable_zone",
    "render_zone",
    "window_time",
    "windows_zone",
]


def render_zone(parent: Element, zone: ZoneRule, tag: str = "TimeZoneDefinition") -> None:
    """A TimeZoneDefinitionType element (GetServerTimeZones; a calendar item's StartTimeZone)."""
    tzd = sub(parent, t(tag), Name=zone.name, Id=zone.ms_id)
    periods = sub(tzd, t("Periods"))
    prefix = f"trule:Microsoft/Registry/{zone.ms_id}/2006"

    def dur(minutes: int) -> str:
        sign = "-" if minutes < 0 else ""
        minutes = abs(minutes)
        return f"{sign}PT{minutes // 60}H" + (f"{minutes % 60}M" if minutes % 60 else "")

    sub(periods, t("Period"), Bias=dur(zone.std_bias), Name="Standard", Id=f"{prefix}-Standard")
    if zone.dst:
        sub(
            periods,
            t("Period"),
            Bias=dur(zone.std_bias - 60),
            Name="Daylight",
            Id=f"{prefix}-Daylight",
        )
    groups = sub(tzd, t("TransitionsGroups"))
    group = sub(groups, t("TransitionsGroup"), Id="0")
    if zone.dst is None:
        tr = sub(group, t("Transition"))
        sub(tr, t("To"), f"{prefix}-Standard", Kind="Period")
    else:
        for (month, occ, hour), target in zip(zone.dst, ("Daylight", "Standard"), strict=True):
            tr = sub(group, t("RecurringDayTransition"))
            sub(tr, t("To"), f"{prefix}-{target}", Kind="Period")
            sub(tr, t("TimeOffset"), f"PT{hour}H")
            sub(tr, t("Month"), str(month))
            sub(tr, t("DayOfWeek"), "Sunday")
            sub(tr, t("Occurrence"), str(occ))
    transitions = sub(tzd, t("Transitions"))
    tr = sub(transitions, t("Transition"))
    sub(tr, t("To"), "0", Kind="Group")


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class SerializableZone:
    """The TimeZone of GetUserAvailability: a bias plus a yearly standard/daylight rule."""

    bias: int
    std: (
        tuple[int, int, int, int, int] | None
    )  # bias, month, occurrence(1-5), weekday(0=Mon), minutes
    dst: tuple[int, int, int, int, int] | None

    @classmethod
    def parse(cls, el: Element | None) -> SerializableZone:
        if el is None:
            return cls(0, None, None)

        def rule(tag: str) -> tuple[int, int, int, int, int] | None:
            part = el.find(t(tag))
            if part is None:
                return None
            hh, mm, *_ = (text_of(part, t("Time")) or "00:00:00").split(":")
            day = text_of(part, t("DayOfWeek")) or "Sunday"
            return (
                int(text_of(part, t("Bias")) or 0),
                int(text_of(part, t("Month")) or 1),
                int(text_of(part, t("DayOrder")) or 1),
                WEEKDAYS.index(day) if day in WEEKDAYS else 6,
                int(hh) * 60 + int(mm),
            )

        return cls(int(text_of(el, t("Bias")) or 0), rule("StandardTime"), rule("DaylightTime"))

    @classmethod
    def of_rule(cls, rule: ZoneRule) -> SerializableZone:
        """The SerializableTimeZone form of a Windows zone (as GetUserAvailability takes it)."""
        if rule.dst is None:
            return cls(rule.std_bias, None, None)
        (d_month, d_occ, d_hour), (s_month, s_occ, s_hour) = rule.dst
        return cls(
            rule.std_bias,
            (0, s_month, 5 if s_occ < 0 else s_occ, 6, s_hour * 60),
            (-60, d_month, 5 if d_occ < 0 else d_occ, 6, d_hour * 60),
        )

    @staticmethod
    def _transition(year: int, r: tuple[int, int, int, int, int]) -> datetime:
        _, month, order, weekday, minutes = r
        first = datetime(year, month, 1)  # noqa: DTZ001  # local wall-clock time of the zone being modelled
        offset = (weekday - first.weekday()) % 7
        day = first + timedelta(days=offset + 7 * (order - 1))
        while day.month != month:  # occurrence 5 means "last"
            day -= timedelta(days=7)
        return day + timedelta(minutes=minutes)

    def to_local(self, moment: datetime) -> datetime:
        """Naive local wall-clock time of a UTC moment in this zone."""
        utc = moment.astimezone(UTC).replace(tzinfo=None)
        std_local = utc - timedelta(minutes=self.bias + (self.std[0] if self.std else 0))
        if self.std is None or self.dst is None or self.dst[1] == 0:
            return std_local
        dst_local = utc - timedelta(minutes=self.bias + self.dst[0])
        start = self._transition(utc.year, self.dst)
        end = self._transition(utc.year, self.std)
        # The change to daylight time is at a standard-time wall clock, the change back at a
        # daylight-time one (03:00 in Amsterdam's October is 02:00 standard time).
        if start < end:
            in_dst = start <= std_local and dst_local < end
        else:
            in_dst = not (end <= dst_local and std_local < start)
        return dst_local if in_dst else std_local


def render_serializable_zone(parent: Element, zone: SerializableZone) -> None:
    sub(parent, t("Bias"), str(zone.bias))
    for tag, rule in (("StandardTime", zone.std), ("DaylightTime", zone.dst)):
        part = sub(parent, t(tag))
        bias, month, order, weekday, minutes = rule or (0, 1, 1, 6, 0)
        sub(part, t("Bias"), str(bias))
        sub(part, t("Time"), f"{minutes // 60:02d}:{minutes % 60:02d}:00")
        sub(part, t("DayOrder"), str(order))
        sub(part, t("Month"), str(month))
        sub(part, t("DayOfWeek"), WEEKDAYS[weekday])


def window_time(zone: SerializableZone, text: str | None) -> datetime:
    """A TimeWindow bound: absolute when it has an offset, else wall-clock time of the zone."""
    try:
        value = datetime.fromisoformat((text or "").strip())
    except ValueError as exc:
        raise EwsFault("ErrorInvalidRequest", f"Invalid date/time value {text!r}.") from exc
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    return from_local(zone, value)


def from_local(zone: SerializableZone, local: datetime) -> datetime:
    """The UTC moment of a wall-clock time in ``zone`` (the earlier one when it is ambiguous)."""
    # Invert to_local by trying the zone's possible offsets (wall time -> UTC).
    for minutes in sorted({zone.bias + (r[0] if r else 0) for r in (zone.std, zone.dst)}):
        candidate = (local + timedelta(minutes=minutes)).replace(tzinfo=UTC)
        if zone.to_local(candidate) == local:
            return candidate
    return (local + timedelta(minutes=zone.bias)).replace(tzinfo=UTC)


def windows_zone(ms_id: str) -> SerializableZone:
    """A Windows time zone by its id; one the sandbox does not know is ErrorTimeZone."""
    rule = ZONES.get(ms_id)
    if rule is None:
        raise EwsFault("ErrorTimeZone", f"The time zone '{ms_id}' is not one the sandbox models.")
    return SerializableZone.of_rule(rule)


def context_zone(header: Element | None, version: str) -> SerializableZone | None:
    """The TimeZoneContext of a request, which Exchange applies from Exchange2010 requests on
    ("Time zones and EWS in Exchange", table 2); None: times without offset are UTC."""
    context = header.find(t("TimeZoneContext")) if header is not None else None
    definition = context.find(t("TimeZoneDefinition")) if context is not None else None
    if definition is None or not at_least(version, "Exchange2010"):
        return None
    return windows_zone(definition.get("Id", ""))


def item_zone(el: Element) -> SerializableZone:
    """The zone of a calendar item's StartTimeZone/EndTimeZone (a TimeZoneDefinition) or of its
    MeetingTimeZone (Exchange 2007: a TimeZoneName, else a fixed BaseOffset)."""
    if el.tag == t("MeetingTimeZone"):
        name = el.get("TimeZoneName")
        if name:
            return windows_zone(name)
        offset = text_of(el, t("BaseOffset")) or "PT0M"
        sign = -1 if offset.startswith("-") else 1
        hours = re.search(r"(\d+)H", offset)
        minutes = re.search(r"(\d+)M", offset)
        bias = sign * (
            60 * int(hours.group(1) if hours else 0) + int(minutes.group(1) if minutes else 0)
        )
        return SerializableZone(bias, None, None)
    return windows_zone(el.get("Id", ""))
