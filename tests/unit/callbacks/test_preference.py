"""Preferred times: every way of saying a part of the day or a bound, and what the reader refuses."""

from __future__ import annotations

from datetime import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from topcontact_mail.domain.callbacks import BareTime, FormProblem, Preference, parse_preference
from topcontact_mail.domain.callbacks.preference import READERS, combine

T = time.fromisoformat

WINDOWS = [
    # text | not before | not after
    ("ochtend", None, "12:00"),
    ("'s ochtends", None, "12:00"),
    ("’s morgens", None, "12:00"),
    ("in de ochtend", None, "12:00"),
    ("voormiddag", None, "12:00"),
    ("morgenochtend", None, "12:00"),
    ("middag", "12:00", "18:00"),
    ("'s middags", "12:00", "18:00"),
    ("s middags", "12:00", "18:00"),
    ("smiddags", "12:00", "18:00"),
    ("Middag", "12:00", "18:00"),
    ("namiddag", "12:00", "18:00"),
    ("tussen de middag", "12:00", "13:30"),
    ("lunchtijd", "12:00", "13:30"),
    ("na de lunch", "13:30", None),
    ("voor de lunch", None, "12:00"),
    ("'s avonds", "18:00", None),
    ("na 14:00", "14:00", None),
    ("na 14.00 uur", "14:00", None),
    ("vanaf 13u30", "13:30", None),
    ("niet voor 10 uur", "10:00", None),
    ("na 2 uur", "14:00", None),
    ("na half 3", "14:30", None),
    ("na half 1", "12:30", None),
    ("voor 11 uur", None, "11:00"),
    ("vóór 11:00", None, "11:00"),
    ("tot 11u", None, "11:00"),
    ("uiterlijk 15:00", None, "15:00"),
    ("niet na 16 uur", None, "16:00"),
    ("tussen 10 en 12", "10:00", "12:00"),
    ("tussen 10:00 en 11:30 uur", "10:00", "11:30"),
    ("van 9 tot 11", "09:00", "11:00"),
    ("10-12", "10:00", "12:00"),
    ("10:00 – 12:00", "10:00", "12:00"),
    ("middag, na 14:00", "14:00", "18:00"),
    ("graag 's middags bellen", "12:00", "18:00"),
    ("bij voorkeur na 15:00", "15:00", None),
    ("14:00", "14:00", None),
    ("om 10 uur", "10:00", None),
]


@pytest.mark.parametrize(("text", "start", "end"), WINDOWS, ids=[w[0] for w in WINDOWS])
def test_a_preference_is_read_as_a_window(text: str, start: str | None, end: str | None) -> None:
    preference = parse_preference(text)

    assert isinstance(preference, Preference), preference
    assert preference.not_before == (T(start) if start else None)
    assert preference.not_after == (T(end) if end else None)
    assert preference.text == " ".join(text.split())


@pytest.mark.parametrize(
    "text", ["", "  ", "geen voorkeur", "Geen", "maakt niet uit", "n.v.t.", "nvt", "-", "hele dag"]
)
def test_no_preference(text: str) -> None:
    assert parse_preference(text) is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("dinsdag middag", "unclear_preference"),  # a weekday would change the meaning
        ("ochtend of middag", "unclear_preference"),  # "or" is no window
        ("als het kan snel", "unclear_preference"),
        ("voor 25:00", "unclear_preference"),
        ("na 14:75", "unclear_preference"),
        ("ochtend na 14:00", "impossible_preference"),
        ("tussen 14 en 10", "impossible_preference"),
        ("na 16:00, voor 15:00", "impossible_preference"),
    ],
)
def test_a_preference_the_reader_cannot_use_is_a_problem(text: str, code: str) -> None:
    problem = parse_preference(text)

    assert isinstance(problem, FormProblem)
    assert problem.code == code
    assert f"'{text}'" in problem.text


def test_a_bare_time_means_from_in_the_preference_and_until_in_the_latest_field() -> None:
    wanted = parse_preference("15:00", bare=BareTime.FROM)
    latest = parse_preference("15:00", bare=BareTime.UNTIL)

    assert isinstance(wanted, Preference)
    assert isinstance(latest, Preference)
    assert (wanted.not_before, wanted.not_after) == (T("15:00"), None)
    assert (latest.not_before, latest.not_after) == (None, T("15:00"))


def test_the_preference_and_the_latest_time_narrow_each_other() -> None:
    afternoon = Preference("middag", T("12:00"), T("18:00"))
    latest = Preference("15:00", None, T("15:00"))

    both = combine(afternoon, latest)

    assert both == Preference("middag, 15:00", T("12:00"), T("15:00"))
    assert combine(afternoon, None) is afternoon
    assert combine(None, None) is None
    clash = combine(Preference("na 16", T("16:00")), latest)
    assert isinstance(clash, FormProblem)
    assert clash.code == "impossible_preference"


def test_every_reader_of_the_table_is_exercised_above() -> None:
    texts = [w[0].casefold() for w in WINDOWS]
    for name, regex, _ in READERS:
        assert any(regex.search(t) for t in texts), f"reader {name} has no example"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_any_text_gives_a_window_none_or_a_problem(text: str) -> None:
    result = parse_preference(text)

    assert result is None or isinstance(result, Preference | FormProblem)
    if isinstance(result, Preference):
        assert result.not_before is not None or result.not_after is not None
