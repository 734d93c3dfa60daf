"""From a form mail to a callback request: the form, the colleague and every problem together."""

from __future__ import annotations

from datetime import datetime

import pytest

from topcontact_mail.domain.callbacks import Booking, ResolutionStatus, read_request

from .support import JAN, STAFF, at

BOOKED_AT = at("ma 30 nov 2026 10:00")
PETRA = "p.dejong@woonservice.example"


def read(body: str, *, html: bool = False) -> Booking:
    return read_request(body, staff=STAFF, booked_by=PETRA, booked_at=BOOKED_AT, html=html)


def test_a_complete_form_becomes_a_request() -> None:
    booking = read(
        "Voor: J. de Vries\nNaam: mevr. Jansen\nTelefoon: 06-12345678\nOnderwerp: lekkage\n"
        "Notities: tweede keer\nVoorkeur: middag\nAdres: Dorpsstraat 1"
    )

    assert booking.ok
    request = booking.request
    assert request is not None
    assert request.colleague == JAN
    assert (request.tenant_name, request.subject) == ("mevr. Jansen", "lekkage")
    assert request.phone.e164 == "+31612345678"
    assert request.notes == "tweede keer\nAdres: Dorpsstraat 1"
    assert request.preference is not None
    assert (request.booked_by, request.booked_at) == (PETRA, BOOKED_AT)
    assert [p.code for p in booking.problems] == ["unknown_label"], "a remark travels along"


def test_an_ambiguous_colleague_stops_the_booking_and_asks_first() -> None:
    booking = read("Voor: Jan\nNaam: Jansen\nTelefoon: 0612345678\nOnderwerp: x\nVoorkeur: ooit")

    assert not booking.ok
    assert booking.resolution is not None
    assert booking.resolution.status is ResolutionStatus.AMBIGUOUS
    assert [p.code for p in booking.problems] == ["ambiguous_colleague", "unclear_preference"]
    assert booking.problems[0].text.startswith("Bedoelt u Jan de Vries of Jan Bakker?")


def test_an_unknown_colleague_stops_the_booking() -> None:
    booking = read("Voor: Klaas\nNaam: Jansen\nTelefoon: 0612345678\nOnderwerp: x")

    assert booking.request is None
    assert [p.code for p in booking.problems] == ["unknown_colleague"]


def test_a_form_problem_stops_the_booking_even_with_a_known_colleague() -> None:
    booking = read("Voor: Jan de Vries\nNaam: Jansen\nTelefoon: 06\nOnderwerp: x")

    assert booking.request is None
    assert booking.resolution is not None
    assert booking.resolution.member == JAN
    assert [p.code for p in booking.problems] == ["phone_too_short"]


def test_no_colleague_is_looked_up_when_none_is_named() -> None:
    booking = read("Naam: Jansen")

    assert booking.resolution is None
    assert booking.problems[0].code == "missing_colleague"


def test_an_html_form_is_read_too() -> None:
    booking = read(
        "<p>Voor: Anouk</p><p>Naam: Jansen</p><p>Tel: 0313 123456</p><p>Over: huur</p>", html=True
    )

    assert booking.request is not None
    assert booking.request.phone.display == "0313 123 456"


def test_a_naive_booking_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        read_request("", staff=STAFF, booked_by=PETRA, booked_at=datetime(2026, 11, 30, 10))
