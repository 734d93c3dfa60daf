"""The value types refuse what cannot be meant, and the Dutch texts are complete and plain."""

from __future__ import annotations

import re
import string
from datetime import datetime, time, timedelta

import pytest

from topcontact_mail.domain.callbacks import (
    BusyKind,
    BusyPeriod,
    CallbackRequest,
    PhoneNumber,
    Preference,
    Slot,
    StaffMember,
    WorkingHours,
    texts,
)
from topcontact_mail.domain.callbacks.words import distance, fold, key, natural_name

from .support import AMSTERDAM, JAN, at, hours

NAIVE = datetime(2026, 11, 30, 10, 0)


def test_busy_periods_and_slots_refuse_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        BusyPeriod(NAIVE, at("ma 30 nov 2026 11:00"))
    with pytest.raises(ValueError, match="timezone-aware"):
        Slot(at("ma 30 nov 2026 11:00"), NAIVE)


def test_a_busy_period_may_be_empty_but_never_backwards() -> None:
    empty = BusyPeriod(at("ma 30 nov 2026 11:00"), at("ma 30 nov 2026 11:00"))
    assert not empty.overlaps(at("ma 30 nov 2026 10:00"), at("ma 30 nov 2026 12:00"))
    with pytest.raises(ValueError, match="before it starts"):
        BusyPeriod(at("ma 30 nov 2026 11:00"), at("ma 30 nov 2026 10:00"), BusyKind.OOF)


def test_busy_periods_are_half_open() -> None:
    meeting = BusyPeriod(at("ma 30 nov 2026 10:00"), at("ma 30 nov 2026 11:00"))
    assert not meeting.overlaps(at("ma 30 nov 2026 11:00"), at("ma 30 nov 2026 11:15"))
    assert not meeting.overlaps(at("ma 30 nov 2026 09:45"), at("ma 30 nov 2026 10:00"))
    assert meeting.overlaps(at("ma 30 nov 2026 10:45"), at("ma 30 nov 2026 11:00"))


def test_periods_in_the_hour_winter_time_repeats_are_judged_as_instants() -> None:
    first = datetime(2026, 10, 25, 2, 50, tzinfo=AMSTERDAM)  # 02:50 summer time
    second = datetime(2026, 10, 25, 2, 5, fold=1, tzinfo=AMSTERDAM)  # 02:05 winter time, later

    assert Slot(first, second).length == timedelta(minutes=15)
    assert BusyPeriod(first, second).overlaps(first, second)
    with pytest.raises(ValueError, match="before it starts"):
        Slot(second, first)


def test_a_slot_has_a_positive_length() -> None:
    slot = Slot(at("ma 30 nov 2026 10:00"), at("ma 30 nov 2026 10:15"))
    assert slot.length == timedelta(minutes=15)
    with pytest.raises(ValueError, match="before it starts"):
        Slot(at("ma 30 nov 2026 10:00"), at("ma 30 nov 2026 10:00"))


def test_working_hours_refuse_overlaps_and_odd_weekdays() -> None:
    with pytest.raises(ValueError, match="overlap"):
        WorkingHours({1: hours("08:30-12:30 12:00-17:00")})
    with pytest.raises(ValueError, match="ISO weekday"):
        WorkingHours({0: hours("08:30-17:00")})
    assert WorkingHours({1: hours("12:30-17:00 08:30-12:00")}).intervals(
        at("ma 30 nov 2026").date()
    ) == hours("08:30-12:00 12:30-17:00")


def test_a_staff_member_needs_a_name_and_an_address() -> None:
    with pytest.raises(ValueError, match="name"):
        StaffMember(" ", "x@woonservice.example")
    with pytest.raises(ValueError, match="address"):
        StaffMember("Jan", "jan")


def test_a_staff_member_configured_surname_first_is_shown_first_name_first() -> None:
    assert StaffMember("Vries, Jan de", "j@x.example").display_name == "Jan de Vries"
    assert natural_name("Berg, José van den (José)") == "José van den Berg"
    assert natural_name("Jan  de Vries") == "Jan de Vries"


def test_a_preference_must_leave_some_time() -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        Preference("14-12", not_before=time(14), not_after=time(12))
    window = Preference("10-12", not_before=time(10), not_after=time(12))
    assert window.allows(time(10), time(10, 15))
    assert window.allows(time(11, 45), time(12))
    assert not window.allows(time(9, 45), time(10))
    assert not window.allows(time(11, 50), time(12, 5))


def test_a_callback_request_needs_an_aware_booking_time() -> None:
    phone = PhoneNumber("06 12345678", "+31612345678", "06 12345678", "NL", "mobile")
    with pytest.raises(ValueError, match="timezone-aware"):
        CallbackRequest(JAN, "Jansen", phone, "lekkage", "", None, "petra@x.example", NAIVE)


# -- texts --------------------------------------------------------------------------------------

CODES = [
    value
    for name, value in vars(texts).items()
    if name.isupper() and isinstance(value, str) and re.fullmatch(r"[a-z_]+", value)
]
SAMPLE = {
    "value": "06 1234",
    "label": "Adres",
    "names": "Jan de Vries of Jan Bakker",
    "colleague": "Jan de Vries",
    "deadline": "dinsdag 1 december 17:00",
    "unit": "kwartier",
    "slot": "woensdag 2 december om 08:30",
    "earlier": "maandag 30 november om 10:15",
    "last_day": "dinsdag 15 december",
    "preference": "middag",
}


def test_every_code_has_a_text_and_every_text_a_code() -> None:
    assert set(CODES) == set(texts.TEXTS)


@pytest.mark.parametrize("code", sorted(texts.TEXTS))
def test_every_text_is_short_plain_dutch_addressing_the_reader_as_u(code: str) -> None:
    fields = {f for _, f, _, _ in string.Formatter().parse(texts.TEXTS[code]) if f}
    assert fields <= set(SAMPLE), f"{code} uses an unknown placeholder"
    text = texts.render(code, **SAMPLE)
    sentences = [s for s in re.split(r"(?<=[.?!])\s+", text) if s]
    assert all(len(s.split()) <= 20 for s in sentences), text
    words = set(re.findall(r"\w+", text.casefold()))
    assert not words & {"je", "jij", "jou", "jouw"}, "the texts say 'u'"
    assert text[-1] in ".?", text


def test_the_choices_of_a_question_are_joined_with_of() -> None:
    assert texts.names(["A"]) == "A"
    assert texts.names(["A", "B"]) == "A of B"
    assert texts.names(["A", "B", "C"]) == "A, B of C"


@pytest.mark.parametrize(
    ("minutes", "noun"),
    [(15, "kwartier"), (30, "half uur"), (60, "uur"), (20, "moment van 20 minuten")],
)
def test_a_free_stretch_is_named_as_people_say_it(minutes: int, noun: str) -> None:
    assert texts.unit(timedelta(minutes=minutes)) == noun


def test_dates_in_texts_carry_their_weekday() -> None:
    assert texts.deadline_text(at("di 1 dec 2026 17:00")) == "dinsdag 1 december 17:00"
    assert texts.slot_text(at("wo 2 dec 2026 08:30")) == "woensdag 2 december om 08:30"


# -- words --------------------------------------------------------------------------------------


def test_folding_ignores_case_diacritics_and_punctuation() -> None:
    assert fold("  José  d'Ávila. ") == "jose d avila"
    assert key("Tel. nr") == key("TELNR") == key("tel-nr") == "telnr"


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("telefoon", "telefoon", 0),
        ("telefon", "telefoon", 1),
        ("teelfoon", "telefoon", 1),  # a swap of neighbours counts once
        ("onderwrp", "onderwerp", 1),
        ("mobile", "mobiel", 1),
        ("abc", "xyz", 3),
    ],
)
def test_edit_distance(a: str, b: str, expected: int) -> None:
    assert distance(a, b, 5) == expected
    assert distance(a, b, 0) == min(expected, 1)
