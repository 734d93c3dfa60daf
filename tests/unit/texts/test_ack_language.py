"""The acknowledgement's language: configured rule, headers, a small detection, default when unsure."""

from __future__ import annotations

import pytest

from topcontact_mail.domain.acknowledgement import choose_language, detect_language
from topcontact_mail.domain.message import IncomingMessage

LANGS = ["nl", "en"]


def _message(
    text: str = "", subject: str = "", headers: tuple[tuple[str, str], ...] = ()
) -> IncomingMessage:
    return IncomingMessage(subject=subject, text_sample=text, headers=headers)


DUTCH = "Beste medewerker, de kraan in mijn keuken lekt al een week. Kunt u iemand sturen?"
ENGLISH = "Hello, the tap in my kitchen has been leaking for a week. Can you please send someone?"
GERMAN = "Sehr geehrte Damen und Herren, ich habe eine Frage zu meiner Wohnung und der Miete."
FRENCH = "Bonjour, je vous écris pour une question sur mon logement et le loyer. Merci."


@pytest.mark.parametrize(
    ("text", "expected"), [(DUTCH, "nl"), (ENGLISH, "en"), (GERMAN, "de"), (FRENCH, "fr")]
)
def test_detection_recognises_the_four_languages(text: str, expected: str) -> None:
    assert detect_language(text, ["nl", "en", "de", "fr"]) == expected


@pytest.mark.parametrize("text", ["", "Lekkage!", "OK", "12345 67890", "kraan keuken lekt"])
def test_detection_is_unsure_about_too_little_text(text: str) -> None:
    assert detect_language(text, LANGS) is None


def test_detection_is_unsure_about_evenly_mixed_text() -> None:
    assert detect_language(f"{DUTCH} {ENGLISH}", LANGS) is None


def test_detect_rule_prefers_the_text_over_the_client_language() -> None:
    # Outlook sets Content-Language from its own interface language.
    message = _message(DUTCH, headers=(("Content-Language", "en-US"),))
    assert choose_language(message, "detect", LANGS, "nl") == "nl"


def test_detect_rule_falls_back_to_the_headers_then_the_default() -> None:
    assert (
        choose_language(
            _message("OK", headers=(("Content-Language", "en"),)), "detect", LANGS, "nl"
        )
        == "en"
    )
    assert choose_language(_message("OK"), "detect", LANGS, "nl") == "nl"


def test_detected_language_without_templates_gives_the_default() -> None:
    assert choose_language(_message(GERMAN), "detect", LANGS, "nl") == "nl"


def test_subject_counts_for_detection() -> None:
    message = _message(subject="Question about my rent: can you please help me with the bill")
    assert choose_language(message, "detect", LANGS, "nl") == "en"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ((("Content-Language", "en-GB"),), "en"),
        ((("Content-Language", "de-DE, en"),), "en"),
        ((("Content-Language", "nl-NL"),), "nl"),
        ((("Content-Language", "fr"),), "nl"),
        ((("Content-Language", "x\r\nBcc: evil"),), "nl"),
        ((("Accept-Language", "de;q=0.9, en;q=0.8, nl;q=0.1"),), "en"),
        ((("Accept-Language", "nl;q=0.2, en;q=0.5"),), "en"),
        ((("Accept-Language", "en;q=0, nl;q=bad"),), "nl"),
        ((("Accept-Language", "en;q=7"),), "nl"),
        ((), "nl"),
    ],
)
def test_content_language_rule_reads_the_headers(
    headers: tuple[tuple[str, str], ...], expected: str
) -> None:
    assert (
        choose_language(_message(ENGLISH, headers=headers), "content-language", LANGS, "nl")
        == expected
    )


def test_fixed_rule_always_gives_the_default() -> None:
    message = _message(ENGLISH, headers=(("Content-Language", "en"),))
    assert choose_language(message, "fixed", LANGS, "nl") == "nl"


def test_result_is_always_a_configured_language() -> None:
    message = _message(ENGLISH, headers=(("Content-Language", "en"),))
    assert choose_language(message, "detect", ["nl"], "nl") == "nl"
    assert choose_language(message, "content-language", ["nl"], "nl") == "nl"


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="default language"):
        choose_language(_message(), "detect", ["en"], "nl")
    with pytest.raises(ValueError, match="unknown language rule"):
        choose_language(_message(), "guess", LANGS, "nl")
