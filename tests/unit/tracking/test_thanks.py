"""A tenant's reply that only thanks is no new question; anything more, or unclear, is one.

Each line: the reply's text sample, and "thanks" or the question rule that must
decide. Every question rule has a hit here and a narrow miss among the thanks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from topcontact_mail.domain.tracking import QUESTION_RULES, classify_reply

NAMES = ("Anneke de Bruin", "Team Klantcontact")

QUOTE = """

Op ma 30 nov 2026 om 09:01 schreef Team Klantcontact <klantcontact@woonservice.example>:
> We hebben uw e-mail ontvangen. Heeft u een vraag? Bel ons.
"""

OUTLOOK_QUOTE = """
________________________________
Van: Team Klantcontact <klantcontact@woonservice.example>
Verzonden: maandag 30 november 2026 09:01
Aan: Anneke de Bruin
Onderwerp: Ontvangstbevestiging: lekkage

We hebben uw e-mail ontvangen. Kunt u ons bellen?
"""

THANKS = [
    ("Bedankt", "one word"),
    ("Dank u wel!", "the polite form"),
    ("Ok, dank je", "ok and thanks"),
    ("Thanks!", "English"),
    ("Thank you very much", "English, in full"),
    ("bedankt!!", "lower case, two exclamation marks"),
    ("Oké, bedankt.", "an accent"),
    ("Hartelijk dank voor uw snelle reactie", "six words of thanks"),
    ("Dank u wel voor de bevestiging", "thanks for the acknowledgement"),
    ("Bedankt!" + QUOTE, "the quoted acknowledgement below, with its question mark"),
    ("Dank je wel" + OUTLOOK_QUOTE, "Outlook's quoted header block below"),
    ("Bedankt!\n\nMet vriendelijke groet,\nAnneke de Bruin\nKerkstraat 1\n06-12345678",
     "a signature with an address and a phone number"),
    ("Bedankt\nAnneke", "a first name on its own line"),
    ("Bedankt, Anneke", "the sender's own name on the same line"),
    ("Beste Team Klantcontact,\n\nDank u wel!\n\nGroet,\nAnneke", "greeting, thanks, closing"),
    ("Goedemorgen, bedankt voor uw bericht", "a greeting and thanks"),
    ("Top, thanks\n-- \nAnneke de Bruin\nVraagstraat 3?", "a question mark in the signature"),
    ("Prima, bedankt!\n\nVerzonden vanaf mijn iPhone", "a device footer"),
    ("Goed ontvangen, dank u", "received, thanks"),
    ("Dank dank dank dank dank dank dank dank", "eight words, at the limit"),
]  # fmt: skip

QUESTIONS = [
    ("Bedankt. Wanneer komt de monteur?", "question_mark", "a question after the thanks"),
    ("Dank u wel! Klopt dit?", "question_mark", "a short question"),
    ("Bedankt? Ik heb nog niets gehoord", "question_mark", "an ironic thanks"),
    ("Bedankt, maar de lekkage is erger geworden", "other_words", "more news"),
    ("Dank u. De verwarming doet het nog steeds niet", "too_many_words", "a complaint"),
    ("Bedankt, ik kom morgen langs", "other_words", "a promise to visit"),
    ("Bedankt, Jan", "other_words", "a name the classifier was not told"),
    ("Hallo", "no_thanks", "a greeting without thanks"),
    ("Beste Team Klantcontact,", "no_thanks", "a greeting only"),
    ("", "empty", "an empty reply"),
    (QUOTE, "empty", "only the quoted message"),
    ("Met vriendelijke groet,\nAnneke", "empty", "only a closing"),
    ("Dank dank dank dank dank dank dank dank dank", "too_many_words", "nine words"),
    ("Thanks. Please call me back", "other_words", "a request in English"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "title"), THANKS, ids=[t for _, t in THANKS])
def test_a_reply_that_only_thanks_is_no_question(text: str, title: str) -> None:
    result = classify_reply(text, NAMES)

    assert result.thanks_only, result.detail
    assert result.rule == ""


@pytest.mark.parametrize(("text", "rule", "title"), QUESTIONS, ids=[t for _, _, t in QUESTIONS])
def test_a_reply_that_says_more_is_a_question(text: str, rule: str, title: str) -> None:
    result = classify_reply(text, NAMES)

    assert not result.thanks_only
    assert result.rule == rule, result.detail


def test_a_thanks_with_an_attachment_is_a_question() -> None:
    result = classify_reply("Bedankt!", NAMES, has_attachments=True)

    assert (result.thanks_only, result.rule) == (False, "attachment")


def test_every_question_rule_has_a_hit() -> None:
    hits = {rule for _, rule, _ in QUESTIONS} | {"attachment"}
    assert hits == {rule.name for rule in QUESTION_RULES}


def test_names_are_not_needed_for_plain_thanks() -> None:
    assert classify_reply("Dank u wel!").thanks_only


def test_every_question_rule_is_documented() -> None:
    text = (Path(__file__).resolve().parents[3] / "docs" / "tracking.md").read_text("utf-8")
    for rule in QUESTION_RULES:
        assert f"`{rule.name}`" in text, rule.name
