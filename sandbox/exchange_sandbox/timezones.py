"""The Windows time zones the sandbox knows (a test double), with their yearly rules and IANA names.

Exchange names time zones by their Windows id ("W. Europe Standard Time"): EWS in
``TimeZoneDefinition``/``TimeZoneContext``, Graph in ``dateTimeTimeZone`` and working hours.
Each zone here has Windows' yearly daylight-saving rule (tzutil /l; the registry's "Dynamic
DST" of recent years) and the IANA names CLDR's windowsZones table maps to it, the first one
being the name the sandbox uses (Europe/Amsterdam for the Dutch office). Both fronts and the
configuration read this one table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ZoneRule:
    """A Windows time zone with the yearly DST rule Exchange publishes for it."""

    ms_id: str
    name: str
    std_bias: int  # minutes, UTC = local + bias
    dst: tuple[tuple[int, int, int], tuple[int, int, int]] | None  # (month, occurrence, hour) x2
    iana: tuple[str, ...] = ()

    @property
    def iana_name(self) -> str:
        return self.iana[0] if self.iana else "UTC"


_EU = ((3, -1, 2), (10, -1, 3))  # last Sunday of March 02:00, of October 03:00
_EET = ((3, -1, 3), (10, -1, 4))
_US = ((3, 2, 2), (11, 1, 2))  # second Sunday of March, first of November, 02:00


def _zones(*rules: ZoneRule) -> dict[str, ZoneRule]:
    return {z.ms_id: z for z in rules}


ZONES = _zones(
    ZoneRule("UTC", "(UTC) Coordinated Universal Time", 0, None, ("UTC", "Etc/UTC", "Etc/GMT")),
    ZoneRule("W. Europe Standard Time", "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", -60, _EU,
             ("Europe/Amsterdam", "Europe/Berlin", "Europe/Zurich", "Europe/Rome", "Europe/Stockholm", "Europe/Vienna", "Europe/Luxembourg", "Europe/Oslo")),
    ZoneRule("Romance Standard Time", "(UTC+01:00) Brussels, Copenhagen, Madrid, Paris", -60, _EU,
             ("Europe/Paris", "Europe/Brussels", "Europe/Copenhagen", "Europe/Madrid")),
    ZoneRule("Central Europe Standard Time", "(UTC+01:00) Belgrade, Bratislava, Budapest, Ljubljana, Prague", -60, _EU,
             ("Europe/Budapest", "Europe/Prague", "Europe/Bratislava", "Europe/Belgrade", "Europe/Ljubljana")),
    ZoneRule("Central European Standard Time", "(UTC+01:00) Sarajevo, Skopje, Warsaw, Zagreb", -60, _EU,
             ("Europe/Warsaw", "Europe/Zagreb", "Europe/Sarajevo", "Europe/Skopje")),
    ZoneRule("GMT Standard Time", "(UTC+00:00) Dublin, Edinburgh, Lisbon, London", 0, ((3, -1, 1), (10, -1, 2)),
             ("Europe/London", "Europe/Dublin", "Europe/Lisbon")),
    ZoneRule("Greenwich Standard Time", "(UTC+00:00) Monrovia, Reykjavik", 0, None, ("Atlantic/Reykjavik",)),
    ZoneRule("FLE Standard Time", "(UTC+02:00) Helsinki, Kyiv, Riga, Sofia, Tallinn, Vilnius", -120, _EET,
             ("Europe/Kiev", "Europe/Kyiv", "Europe/Helsinki", "Europe/Riga", "Europe/Sofia", "Europe/Tallinn", "Europe/Vilnius")),
    ZoneRule("GTB Standard Time", "(UTC+02:00) Athens, Bucharest", -120, _EET, ("Europe/Bucharest", "Europe/Athens")),
    ZoneRule("South Africa Standard Time", "(UTC+02:00) Harare, Pretoria", -120, None, ("Africa/Johannesburg",)),
    ZoneRule("Turkey Standard Time", "(UTC+03:00) Istanbul", -180, None, ("Europe/Istanbul",)),
    ZoneRule("Russian Standard Time", "(UTC+03:00) Moscow, St. Petersburg", -180, None, ("Europe/Moscow",)),
    ZoneRule("Arabian Standard Time", "(UTC+04:00) Abu Dhabi, Muscat", -240, None, ("Asia/Dubai",)),
    ZoneRule("India Standard Time", "(UTC+05:30) Chennai, Kolkata, Mumbai, New Delhi", -330, None, ("Asia/Kolkata", "Asia/Calcutta")),
    ZoneRule("SE Asia Standard Time", "(UTC+07:00) Bangkok, Hanoi, Jakarta", -420, None, ("Asia/Bangkok", "Asia/Jakarta")),
    ZoneRule("China Standard Time", "(UTC+08:00) Beijing, Chongqing, Hong Kong, Urumqi", -480, None, ("Asia/Shanghai", "Asia/Hong_Kong")),
    ZoneRule("Singapore Standard Time", "(UTC+08:00) Kuala Lumpur, Singapore", -480, None, ("Asia/Singapore", "Asia/Kuala_Lumpur")),
    ZoneRule("Tokyo Standard Time", "(UTC+09:00) Osaka, Sapporo, Tokyo", -540, None, ("Asia/Tokyo",)),
    ZoneRule("AUS Eastern Standard Time", "(UTC+10:00) Canberra, Melbourne, Sydney", -600, ((10, 1, 2), (4, 1, 3)),
             ("Australia/Sydney", "Australia/Melbourne")),
    ZoneRule("E. South America Standard Time", "(UTC-03:00) Brasilia", 180, None, ("America/Sao_Paulo",)),
    ZoneRule("Eastern Standard Time", "(UTC-05:00) Eastern Time (US & Canada)", 300, _US, ("America/New_York",)),
    ZoneRule("Central Standard Time", "(UTC-06:00) Central Time (US & Canada)", 360, _US, ("America/Chicago",)),
    ZoneRule("Mountain Standard Time", "(UTC-07:00) Mountain Time (US & Canada)", 420, _US, ("America/Denver",)),
    ZoneRule("Pacific Standard Time", "(UTC-08:00) Pacific Time (US & Canada)", 480, _US, ("America/Los_Angeles",)),
)  # fmt: skip
"""The Windows time zones the sandbox knows, with Windows' yearly rules (tzutil /l; the
registry's "Dynamic DST" of recent years) and their IANA names (CLDR windowsZones)."""

_BY_IANA = {iana.lower(): rule for rule in ZONES.values() for iana in rule.iana}


def windows_rule(name: str) -> ZoneRule | None:
    """The zone a Windows id or an IANA name denotes (case-insensitive), None when unknown."""
    for ms_id, rule in ZONES.items():
        if ms_id.lower() == name.strip().lower():
            return rule
    return _BY_IANA.get(name.strip().lower())
