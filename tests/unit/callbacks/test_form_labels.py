"""The label synonyms: every synonym read, typos read only where safe, compound labels by their words."""

from __future__ import annotations

import itertools
from datetime import time

import pytest

from topcontact_mail.domain.callbacks import parse_form, texts
from topcontact_mail.domain.callbacks.form import LABELS, Field, match_label
from topcontact_mail.domain.callbacks.form.labels import TYPO_MIN_LETTERS
from topcontact_mail.domain.callbacks.words import distance, key

SYNONYMS = [(label, field) for field, labels in LABELS.items() for label in labels]


@pytest.mark.parametrize(("label", "field"), SYNONYMS, ids=[s[0] for s in SYNONYMS])
def test_every_synonym_names_its_field_in_any_case_and_spacing(label: str, field: Field) -> None:
    for written in (label, label.upper(), label.lower(), label.replace(" ", ""), f" {label} "):
        found = match_label(written)
        assert found is not None, written
        assert (found.field, found.how) == (field, "exact")


def test_no_typo_of_one_field_can_be_as_close_to_another() -> None:
    # Two synonyms of different fields at most 4 edits apart could share a typo of distance 2.
    long_keys = [(key(s), f) for s, f in SYNONYMS if len(key(s)) >= TYPO_MIN_LETTERS]
    for (a, fa), (b, fb) in itertools.combinations(long_keys, 2):
        if fa is not fb:
            assert distance(a, b, 4) > 2, (a, b)


@pytest.mark.parametrize(
    ("written", "field"),
    [
        ("Telefon", Field.PHONE),  # a letter missing
        ("Teelfoon", Field.PHONE),  # two letters swapped
        ("Telefoonummer", Field.PHONE),
        ("Mobile", Field.PHONE),
        ("Onderwrp", Field.SUBJECT),
        ("Ondewerp", Field.SUBJECT),
        ("Betref", Field.SUBJECT),
        ("Collga", Field.COLLEAGUE),
        ("Collega's", Field.COLLEAGUE),
        ("Medewerkr", Field.COLLEAGUE),
        ("Notitites", Field.NOTES),
        ("Opmerkngen", Field.NOTES),
        ("Wanner", Field.PREFERENCE),
        ("Voorkuer", Field.PREFERENCE),
        ("Uitelijk", Field.LATEST),
        ("Huurdr", Field.TENANT_NAME),
    ],
)
def test_a_small_typo_in_a_long_label_is_read(written: str, field: Field) -> None:
    found = match_label(written)

    assert found is not None
    assert (found.field, found.how) == (field, "typo")


@pytest.mark.parametrize(
    ("written", "why"),
    [
        ("Naan", "four letters: too short to guess"),
        ("Tell", "too short to guess"),
        ("Ovr", "too short to guess"),
        ("Klnt", "too short to guess"),
        ("Telfon", "six letters allow one edit, not two"),
        ("Wannir", "two edits from Wanneer, but under eight letters"),
        ("Klantnummer", "another thing altogether"),
        ("Adres", "no field"),
        ("Datum", "no field"),
        ("E-mail", "no field"),
    ],
)
def test_a_label_too_far_from_any_synonym_is_unknown(written: str, why: str) -> None:
    assert match_label(written) is None, why


@pytest.mark.parametrize(
    ("written", "field"),
    [
        ("Telefoon klant", Field.PHONE),
        ("Telefoonnummer mobiel", Field.PHONE),
        ("Naam van de klant", Field.TENANT_NAME),
        ("Naam van de collega", Field.COLLEAGUE),
        ("Opmerking klant", Field.NOTES),
        ("Vraag van de huurder", Field.SUBJECT),
        ("Klant bereikbaar", Field.PREFERENCE),
    ],
)
def test_a_compound_label_is_read_by_its_most_specific_word(written: str, field: Field) -> None:
    found = match_label(written)

    assert found is not None
    assert (found.field, found.how) == (field, "words")


@pytest.mark.parametrize(
    "written",
    ["Adres klant", "Klant of collega", "Telefoon en vraag", "Naam klant en telefoon erbij"],
)
def test_a_compound_label_with_an_unknown_word_or_two_fields_is_unknown(written: str) -> None:
    assert match_label(written) is None


def test_the_labels_the_texts_name_are_synonyms_of_their_fields() -> None:
    for field, label in texts.FIELD_LABELS.items():
        found = match_label(label)
        assert found is not None
        assert (found.field.value, found.how) == (field, "exact")
    assert set(texts.FIELD_LABELS) == {f.value for f in Field}


def test_the_blank_form_filled_in_is_read_without_problems() -> None:
    values = ["Jan de Vries", "mevr. Jansen", "06 12345678", "lekkage", "hond", "middag", "16:00"]
    body = "\n".join(
        line + value for line, value in zip(texts.BLANK_FORM.splitlines(), values, strict=True)
    )

    parsed = parse_form(body)

    assert parsed.problems == ()
    assert parsed.preference is not None
    assert (parsed.preference.not_before, parsed.preference.not_after) == (time(12), time(16))
