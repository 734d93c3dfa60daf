"""Working hours, merged free/busy strings and name resolution: the rules both fronts share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from exchange_sandbox.config import ConfigError, load_config, parse_config
from exchange_sandbox.directory import Person, matches, resolve
from exchange_sandbox.schedule import WorkingHours, WorkingHoursError, merged_view, strongest

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


# ---------------------------------------------------------------- working hours


def test_working_hours_take_days_one_slot_and_a_windows_or_iana_zone() -> None:
    hours = WorkingHours().changed(
        {
            "days": ["friday", "Monday"],
            "start": "8:30",
            "end": "17:00",
            "time_zone": "Europe/Amsterdam",
        },
        "t",
    )
    assert hours == WorkingHours(("monday", "friday"), 510, 1020, "W. Europe Standard Time")
    assert hours.as_json()["iana"] == "Europe/Amsterdam"


@pytest.mark.parametrize(
    ("table", "complaint"),
    [
        ({"wednesday": "09:00-12:00"}, "one time range for all work days"),
        ({"days": ["maandag"]}, "is no weekday"),
        ({"days": []}, "at least one work day"),
        ({"start": "17:00", "end": "09:00"}, "start must be before end"),
        ({"start": "25:00"}, "no time of day"),
        ({"start": "half negen"}, "HH:MM"),
        ({"time_zone": "Mars/Olympus"}, "no Windows time zone id or IANA name"),
        ({"hours": 8}, "unknown keys"),
    ],
)
def test_working_hours_exchange_could_not_hold_are_refused(
    table: dict[str, object], complaint: str
) -> None:
    with pytest.raises(WorkingHoursError, match=complaint):
        WorkingHours().changed(table, "working_hours")


def test_the_shipped_config_has_a_part_time_colleague_and_office_hours() -> None:
    config = load_config()
    assert config.hours_of("a.bakker@woonservice.example").days == (
        "monday",
        "tuesday",
        "thursday",
        "friday",
    )
    jan = config.hours_of("j.devries@woonservice.example")
    assert (jan.start, jan.end, jan.time_zone) == (510, 1020, "W. Europe Standard Time")
    assert config.hours_of("nobody@woonservice.example") == config.working_hours


def test_a_mailbox_overrides_the_default_working_hours_key_by_key() -> None:
    config = parse_config(
        {
            "working_hours": {"start": "07:00", "end": "15:00"},
            "mailboxes": [{"address": "a@x.example", "working_hours": {"days": ["monday"]}}],
        }
    )
    assert config.hours_of("a@x.example") == WorkingHours(("monday",), 420, 900)


def test_the_old_graph_working_hours_key_is_refused_with_where_it_went() -> None:
    with pytest.raises(ConfigError, match=r"\[working_hours\] time_zone"):
        parse_config({"graph": {"working_hours_time_zone": "UTC"}})


# ---------------------------------------------------------------- merged free/busy


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ((), "Free"),
        (("Free", "WorkingElsewhere"), "WorkingElsewhere"),
        (("WorkingElsewhere", "Tentative"), "Tentative"),
        (("Tentative", "Busy"), "Busy"),
        (("Busy", "OOF"), "OOF"),
        (("OOF", "NoData"), "NoData"),
    ],
)
def test_the_least_available_status_covers_a_slot(statuses: tuple[str, ...], expected: str) -> None:
    assert strongest(statuses) == expected


def test_merged_view_digits_write_working_elsewhere_as_free_and_no_data_as_4() -> None:
    spans = [
        (at(0), at(30), "Tentative"),
        (at(30), at(60), "Busy"),
        (at(60), at(90), "OOF"),
        (at(90), at(120), "WorkingElsewhere"),
        (at(120), at(150), "NoData"),
        (at(165), at(170), "Busy"),  # five minutes make the whole slot busy
    ]
    assert merged_view(spans, at(0), at(180), 30) == "123042"


def test_merged_view_ends_with_a_short_slot_when_the_window_is_no_multiple() -> None:
    assert merged_view([(at(40), at(50), "Busy")], at(0), at(50), 30) == "02"


# ---------------------------------------------------------------- names (ANR)

JAN = Person("j.devries@woonservice.example", "Jan de Vries", "Jan", "de Vries")
JANNEKE = Person(
    "janneke.smit@installatie.example", "Janneke Smit", "Janneke", "Smit", kind="Contact"
)
ANOUK = Person("a.bakker@woonservice.example", "Anouk Bakker", "Anouk", "Bakker")
PEOPLE = [JAN, JANNEKE, ANOUK]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Jan", [JAN, JANNEKE]),
        ("jan de", [JAN]),
        ("Jan de Vries", [JAN]),
        ("de vries", [JAN]),
        ("Bakker Anouk", [ANOUK]),
        ("a.bakker", [ANOUK]),
        ("smtp:j.devries@woonservice.example", [JAN]),
        ("smtp:jan", [JANNEKE]),  # the address prefix, not the name
        ("Vries", []),  # ANR matches the start of a value, never the middle of a word
        ("akker", []),
        ("", []),
    ],
)
def test_ambiguous_name_resolution_matches_starts_of_names_aliases_and_addresses(
    text: str, found: list[Person]
) -> None:
    assert resolve(PEOPLE, text) == found


def test_a_contact_is_found_by_its_alias_or_local_part() -> None:
    assert matches(JANNEKE, "janneke.smit")
    assert matches(Person("x@y.example", "X", alias="monteur"), "mont")
