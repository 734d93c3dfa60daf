"""The callback templates: every kind renders, says what it must, and never guesses a gender."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from topcontact_mail.adapters.texts import TextRenderer
from topcontact_mail.config import Settings

CONTEXT: dict[str, Any] = {
    "id": "cb-3f9a1c0e",
    "tenant": "Jansen",
    "phone": "06 12345678",
    "phone_uri": "tel:+31612345678",
    "subject": "lekkage <badkamer>",
    "notes": "belde vanmorgen",
    "preference": "middag",
    "booked_by": "a.bakker@woonservice.example",
    "booked_at": "maandag 30 november 10:00",
    "callback_by": "dinsdag 1 december 17:00",
    "done_category": "Teruggebeld",
    "colleague": "Jan de Vries",
    "colleague_address": "j.devries@woonservice.example",
    "asked_colleague": "",
    "slot_day": "dinsdag 1 december",
    "slot_from": "10:00",
    "slot_to": "10:15",
    "in_time": True,
    "reasons": [],
    "problems": ["Het telefoonnummer ontbreekt. Zet het achter 'Telefoon:'."],
    "why": "declined",
    "previous_colleague": "Jan de Vries",
    "previous_slot": "maandag 30 november 10:15-10:30",
    "keyword": "Terugbelverzoek",
}
KINDS = ("meeting", "confirmation", "problems", "rebooked", "impossible")


@pytest.fixture(scope="module")
def texts() -> TextRenderer:
    return TextRenderer.from_settings(Settings())


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_without_a_guessed_gender(texts: TextRenderer, kind: str) -> None:
    rendered = texts.callback_text(kind, CONTEXT)

    assert rendered.subject
    if kind != "problems":  # a form with problems may not even name the tenant
        assert "Jansen" in rendered.text
    for word in ("meneer", "mevrouw", "de heer", "dhr.", "mevr."):
        assert word not in f"{rendered.subject} {rendered.text}".lower()
    assert rendered.html.startswith("<!DOCTYPE html>")
    assert "<badkamer>" not in rendered.html, "everything is escaped in HTML"


def test_the_meeting_names_tenant_phone_and_subject_in_the_subject(texts: TextRenderer) -> None:
    rendered = texts.callback_text("meeting", CONTEXT)

    assert rendered.subject == "Terugbellen: Jansen — 06 12345678 — lekkage <badkamer>"
    assert '<a href="tel:+31612345678">06 12345678</a>' in rendered.html
    assert "Kenmerk: cb-3f9a1c0e" in rendered.text


def test_the_confirmation_names_the_slot_and_says_when_the_term_is_missed(
    texts: TextRenderer,
) -> None:
    on_time = texts.callback_text("confirmation", CONTEXT).text
    late = texts.callback_text(
        "confirmation",
        {**CONTEXT, "in_time": False, "reasons": ["Jan de Vries werkt niet meer vóór ..."]},
    ).text

    sentence = "Jan de Vries belt Jansen terug op dinsdag 1 december tussen 10:00 en 10:15."
    assert sentence in on_time
    assert "Let op" not in on_time
    assert "Let op: dit is later dan afgesproken." in late
    assert "Jan de Vries werkt niet meer vóór ..." in late


def test_the_problems_reply_lists_each_problem_and_the_form(texts: TextRenderer) -> None:
    text = texts.callback_text("problems", CONTEXT).text

    assert "- Het telefoonnummer ontbreekt." in text
    assert 'Laat "Terugbelverzoek" in het onderwerp staan.' in text
    assert "Voor: \nNaam: \nTelefoon: \nOnderwerp: \nNotities: \nVoorkeur: \n" in text


@pytest.mark.parametrize(
    ("why", "said"),
    [
        ("declined", "Jan de Vries heeft het verzoek om Jansen terug te bellen geweigerd"),
        ("cancelled", "is geannuleerd"),
        ("moved_late", "verzet naar een moment na de termijn"),
        ("not_created", "kon niet in de agenda van Jan de Vries worden gezet"),
    ],
)
def test_the_rebooking_and_the_question_to_act_say_why(
    texts: TextRenderer, why: str, said: str
) -> None:
    for kind in ("rebooked", "impossible"):
        assert said in texts.callback_text(kind, {**CONTEXT, "why": why}).text


def test_the_form_is_the_quick_part(texts: TextRenderer) -> None:
    assert texts.callback_text("form", {}).text.startswith("Voor: \nNaam: ")


def test_an_administrators_template_replaces_the_built_in_one(tmp_path: Path) -> None:
    (tmp_path / "callback_sentence.txt.j2").write_text(
        "{{ colleague }} belt {{ tenant }} op {{ slot_day }} om {{ slot_from }}.\n",
        encoding="utf-8",
    )
    settings = Settings()
    renderer = TextRenderer(tmp_path, settings.team, settings.calendar.office_hours.intervals())

    text = renderer.callback_text("confirmation", CONTEXT).text

    assert "Jan de Vries belt Jansen op dinsdag 1 december om 10:00." in text
