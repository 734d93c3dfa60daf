"""Time zones in EWS (sandbox, a test double): server time zone definitions and request time zones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from exchange_sandbox.ews.faults import EwsFault
from exchange_sandbox.ews.fields import parse_dt
from exchange_sandbox.ews.xml import Element, sub, t, text_of


@dataclass(frozen=True)
class ZoneRule:
    """A Windows time zone with the yearly DST rule Exchange publishes for it."""

    ms_id: str
    name: str
    std_bias: int  # minutes, UTC = local + bias
    dst: tuple[tuple[int, int, int], tuple[int, int, int]] | None  # (month, occurrence, hour) x2


ZONES = {
    z.ms_id: z
    for z in (
        ZoneRule("UTC", "(UTC) Coordinated Universal Time", 0, None),
        ZoneRule(
            "W. Europe Standard Time",
            "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
            -60,
            ((3, -1, 2), (10, -1, 3)),
        ),
        ZoneRule(
            "Romance Standard Time",
            "(UTC+01:00) Brussels, Copenhagen, Madrid, Paris",
            -60,
            ((3, -1, 2), (10, -1, 3)),
        ),
        ZoneRule(
            "Central Europe Standard Time",
            "(UTC+01:00) Belgrade, Bratislava, Budapest, Ljubljana, Prague",
            -60,
            ((3, -1, 2), (10, -1, 3)),
        ),
        ZoneRule(
            "GMT Standard Time",
            "(UTC+00:00) Dublin, Edinburgh, Lisbon, London",
            0,
            ((3, -1, 1), (10, -1, 2)),
        ),
    )
}


def render_zone(parent: Element, zone: ZoneRule) -> None:
    tzd = sub(parent, t("TimeZoneDefinition"), Name=zone.name, Id=zone.ms_id)
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
        in_dst = start <= std_local < end if start < end else not (end <= std_local < start)
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
        return parse_dt(text)
    return from_local(zone, value)


def from_local(zone: SerializableZone, local: datetime) -> datetime:
    # Invert to_local by trying the zone's possible offsets (wall time -> UTC).
    for minutes in sorted({zone.bias + (r[0] if r else 0) for r in (zone.std, zone.dst)}):
        candidate = (local + timedelta(minutes=minutes)).replace(tzinfo=UTC)
        if zone.to_local(candidate) == local:
            return candidate
    return (local + timedelta(minutes=zone.bias)).replace(tzinfo=UTC)
