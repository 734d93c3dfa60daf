"""Each form check, hit squarely and missed narrowly; the problems' order, blocking and texts."""

from __future__ import annotations

import pytest

from topcontact_mail.domain.callbacks.form import CHECKS, parse_form

COMPLETE = {
    "Voor": "Jan de Vries",
    "Naam": "mevr. Jansen",
    "Telefoon": "06 12345678",
    "Onderwerp": "lekkage badkamer",
}


def form(**changes: str | None) -> str:
    """The complete form with fields changed (a value) or left out (None); extra lines appended."""
    fields = {**COMPLETE, **{k: v for k, v in changes.items() if k in COMPLETE}}
    lines = [
        f"{label}: {value}" for label, value in fields.items() if changes.get(label, "") is not None
    ]
    lines += [
        f"{label}: {value}" for label, value in changes.items() if label not in COMPLETE and value
    ]
    return "\n".join(lines)


def codes(body: str) -> list[str]:
    return [p.code for p in parse_form(body).problems]


def test_the_complete_form_has_no_problem() -> None:
    parsed = parse_form(form())

    assert parsed.problems == ()
    assert parsed.ok


# check | body that hits it | problem code | body that narrowly misses it | what the miss shows
CASES = [
    ("empty_form", "Hoi Jan, wil je mevrouw Jansen terugbellen? 06 12345678", "empty_form",
     "Hoi Jan,\nAdres: Dorpsstraat 1", "one line shaped like a field is a form, if a poor one"),
    ("missing_colleague", form(Voor=None), "missing_colleague",
     form(Voor=None, Collega="Jan"), "a synonym"),
    ("missing_colleague", form(Voor=""), "missing_colleague",
     form(Voor=None) + "\nVoor:\nJan de Vries", "a value on the line below its label"),
    ("missing_name", form(Naam=None), "missing_name",
     form(Naam=None, Huurder="Jansen"), "a synonym"),
    ("phone", form(Telefoon=None), "missing_phone",
     form(Telefoon=None, Mobiel="0612345678"), "a synonym"),
    ("phone", form(Telefoon="06 1234567"), "phone_too_short",
     form(Telefoon="06 1234567 8"), "spaces in odd places"),
    ("phone", form(Telefoon="0612345678 (werk)"), "phone_letters",
     form(Telefoon="tel:0612345678"), "only a tel: prefix is allowed"),
    ("missing_subject", form(Onderwerp=None), "missing_subject",
     form(Onderwerp=None, Betreft="huur"), "a synonym"),
    ("preference", form(Voorkeur="dinsdag"), "unclear_preference",
     form(Voorkeur="middag"), "a part of the day"),
    ("preference", form(Voorkeur="na 11", Uiterlijk="10:00"), "impossible_preference",
     form(Voorkeur="ochtend", Uiterlijk="10:00"), "the latest time narrows the preference"),
    ("unknown_label", form(Adres="Dorpsstraat 1"), "unknown_label",
     form(Notities="bel na 5 uur\nAdres: Dorpsstraat 1"), "inside the notes it is note text"),
    ("unknown_label", form(Klantnr="12345"), "unknown_label",
     form(**{"Let op": "hond"}), "a writing habit, not a field"),
    ("duplicate_field", form() + "\nTelefoon: 0313 123456", "duplicate_field",
     form() + "\nNotities: een\nNotities: twee", "notes may come in parts"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("check", "hit", "code", "miss"),
    [c[:4] for c in CASES],
    ids=[f"{c[0]}: {c[2]}" for c in CASES],
)
def test_a_check_finds_its_problem_and_not_a_near_miss(
    check: str, hit: str, code: str, miss: str
) -> None:
    assert code in codes(hit)
    assert code not in codes(miss), codes(miss)


def test_every_check_of_the_table_has_a_case() -> None:
    assert {c.name for c in CHECKS} == {case[0] for case in CASES}


def test_an_empty_form_is_one_clear_problem_not_six() -> None:
    assert codes("Hallo,\n\nkun je iemand terugbellen?\n\nPetra") == ["empty_form"]
    assert codes("") == ["empty_form"]


def test_problems_come_in_form_order_blocking_first_and_remarks_last() -> None:
    body = "Adres: Dorpsstraat 1\nTelefoon: 06\nVoorkeur: ooit\nTelefoon: 0313 123456"

    parsed = parse_form(body)

    assert [p.code for p in parsed.problems] == [
        "missing_colleague",
        "missing_name",
        "phone_too_short",
        "missing_subject",
        "unclear_preference",
        "unknown_label",
        "duplicate_field",
    ]
    assert [p.blocking for p in parsed.problems] == [True] * 5 + [False] * 2
    assert not parsed.ok
    assert [p.code for p in parsed.remarks] == ["unknown_label", "duplicate_field"]


def test_remarks_alone_do_not_stop_a_booking() -> None:
    parsed = parse_form(form(Adres="Dorpsstraat 1"))

    assert parsed.ok
    assert parsed.blocking == ()
    assert parsed.notes == "Adres: Dorpsstraat 1"


def test_the_texts_tell_the_booker_what_to_do() -> None:
    texts = {p.code: p.text for p in parse_form("Adres: x\nTelefoon: 06 1234").problems}

    assert texts["missing_colleague"] == (
        "Er staat niet in wie moet terugbellen. Zet de naam van uw collega achter 'Voor:'."
    )
    assert texts["missing_name"] == "De naam van de klant ontbreekt. Zet die achter 'Naam:'."
    assert (
        texts["phone_too_short"] == "Het telefoonnummer '06 1234' is te kort. Mist er een cijfer?"
    )
    assert texts["unknown_label"] == (
        "We kennen het veld 'Adres' niet. De tekst staat nu bij de notities."
    )
    missing = parse_form(form(Telefoon=None)).problems[0]
    assert missing.text == "Het telefoonnummer ontbreekt. Zet het achter 'Telefoon:'."
    assert missing.field == "phone"
