"""The greeting uses a name only when the display name plainly is a person's name."""

from __future__ import annotations

import pytest

from topcontact_mail.domain.acknowledgement import greeting_name
from topcontact_mail.domain.message import Address


def _name(display: str) -> str | None:
    return greeting_name(Address("someone@example.nl", display))


@pytest.mark.parametrize(
    ("display", "expected"),
    [
        ("Jan de Vries", "Jan de Vries"),
        ("J. de Vries", "J. de Vries"),
        ("J.P. de Vries", "J.P. de Vries"),
        ("Fatima El Amrani", "Fatima El Amrani"),
        ("Vries, Jan de", "Jan de Vries"),
        ("Vries de, Jan", "Jan de Vries"),
        ("Berg, Anna van den", "Anna van den Berg"),
        ('"Jan de Vries"', "Jan de Vries"),
        ("Jan de Vries (Gemeente Doesburg)", "Jan de Vries"),
        ("Anne-Marie O'Neill", "Anne-Marie O'Neill"),
        ("Zoë Çelik", "Zoë Çelik"),
        ("Dhr. J. de Vries", "J. de Vries"),
        ("Mevr. Fatima El Amrani", "Fatima El Amrani"),
        ("de heer Jan de Vries", "Jan de Vries"),
        ("Jan\r\nde Vries", "Jan de Vries"),
    ],
)
def test_plain_person_names_are_used(display: str, expected: str) -> None:
    assert _name(display) == expected


@pytest.mark.parametrize(
    "display",
    [
        "",
        "   ",
        "jan.devries@example.nl",
        "Klantenservice",
        "Info",
        "Team Onderhoud",
        "Administratie Woonservice",
        "noreply",
        "No-Reply Service",
        "JAN DE VRIES",
        "jan de vries",
        "Jan",
        "Dhr. Vries",
        "Jan de Vries 2",
        "Jan de Vries <jan@example.nl>",
        "www.example.nl Jan",
        "Jan https://evil.example",
        "=?utf-8?q?Jan=0D=0A?= de Vries",
        "Vries, Jan, de",
        "Stichting Huurders Doesburg",
        "Jan de Vries | Gemeente",
        "A" * 80 + " de Vries",
        "Jan de Vries en Klaas en Piet en Anna",
    ],
)
def test_anything_else_gets_the_neutral_greeting(display: str) -> None:
    assert _name(display) is None


def test_no_sender_gets_the_neutral_greeting() -> None:
    assert greeting_name(None) is None
