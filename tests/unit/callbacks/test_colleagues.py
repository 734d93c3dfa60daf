"""Finding "Voor: ..." in the staff list: each way of matching hit and narrowly missed, and the answers."""

from __future__ import annotations

import pytest

from topcontact_mail.domain.callbacks import (
    ResolutionStatus,
    StaffMember,
    fallback_for,
    resolve_colleague,
)
from topcontact_mail.domain.callbacks.colleagues import TIERS

from .support import ANOUK, JAN, JAN_B, JOSE, PETRA, STAFF

RESOLVED = [
    # query | who | how | what the row checks
    ("j.devries@woonservice.example", JAN, "address", "an address"),
    ("J.DeVries@Woonservice.Example", JAN, "address", "an address in any case"),
    ("Jan de Vries <j.devries@woonservice.example>", JAN, "address", "an address with its name"),
    ("mailto:p.smit@woonservice.example", PETRA, "address", "a mailto link"),
    ("JdV", JAN, "alias", "an alias"),
    ("jdv", JAN, "alias", "an alias in any case"),
    ("anouk b.", ANOUK, "alias", "an alias with punctuation"),
    ("j.vandenberg", JOSE, "mailbox", "the part of the address before @"),
    ("Jan de Vries", JAN, "name", "the full name"),
    ("jan devries", JAN, "name", "the full name, spaces aside"),
    ("Anouk Bakker", ANOUK, "name", "a name configured 'Bakker, Anouk'"),
    ("Jose van den Berg", JOSE, "name", "without the accent"),
    ("JOSÉ VAN DEN BERG", JOSE, "name", "in capitals"),
    ("J. de Vries", JAN, "initial", "an initial and the surname"),
    ("P Smit", PETRA, "initial", "an initial without a dot"),
    ("Smit", PETRA, "surname", "the surname"),
    ("van den Berg", JOSE, "surname", "the surname with its particles"),
    ("Berg", JOSE, "surname", "the surname without its particles"),
    ("Petra", PETRA, "first_name", "the first name"),
    ("jose", JOSE, "first_name", "the first name without the accent"),
    ("Anouk", ANOUK, "first_name", "the first name of 'Bakker, Anouk'"),
]


@pytest.mark.parametrize(
    ("query", "member", "how"),
    [row[:3] for row in RESOLVED],
    ids=[row[3] for row in RESOLVED],
)
def test_a_colleague_is_found(query: str, member: StaffMember, how: str) -> None:
    resolution = resolve_colleague(query, STAFF)

    assert resolution.status is ResolutionStatus.RESOLVED
    assert resolution.resolved
    assert resolution.member == member
    assert resolution.matched_by == how
    assert resolution.problem is None


def test_every_tier_of_the_table_has_a_row_above() -> None:
    hows = {row[2] for row in RESOLVED}
    assert {name for name, _ in TIERS} <= hows


def test_a_first_name_two_colleagues_share_is_ambiguous_and_lists_them() -> None:
    resolution = resolve_colleague("Jan", STAFF)

    assert resolution.status is ResolutionStatus.AMBIGUOUS
    assert resolution.candidates == (JAN, JAN_B)
    assert resolution.problem is not None
    assert resolution.problem.code == "ambiguous_colleague"
    assert resolution.problem.text.startswith("Bedoelt u Jan de Vries of Jan Bakker?")


def test_a_surname_two_colleagues_share_is_ambiguous_and_shows_names_first_name_first() -> None:
    resolution = resolve_colleague("Bakker", STAFF)

    assert resolution.status is ResolutionStatus.AMBIGUOUS
    assert resolution.problem is not None
    assert "Jan Bakker of Anouk Bakker?" in resolution.problem.text


def test_a_stricter_way_wins_over_a_looser_one() -> None:
    # "Jan" is also an alias of Jan Bakker here: the alias decides before first names are tried.
    staff = (JAN, StaffMember("Jan Bakker", "jan.bakker@woonservice.example", aliases=("Jan",)))

    resolution = resolve_colleague("Jan", staff)

    assert resolution.member == staff[1]
    assert resolution.matched_by == "alias"


def test_two_colleagues_with_one_name_are_told_apart_by_address() -> None:
    twin = StaffMember("Jan de Vries", "jan.devries2@woonservice.example")

    resolution = resolve_colleague("Jan de Vries", (JAN, twin))

    assert resolution.status is ResolutionStatus.AMBIGUOUS
    assert resolution.problem is not None
    assert "Jan de Vries (j.devries@woonservice.example) of Jan de Vries (" in (
        resolution.problem.text
    )


def test_the_same_address_twice_in_the_staff_list_is_one_colleague() -> None:
    assert resolve_colleague("Jan de Vries", (JAN, JAN)).member == JAN


NARROW_MISSES = [
    ("x.devries@woonservice.example", "an unknown address is never matched by its look"),
    ("Piet de Vries <piet@woonservice.example>", "an unknown address and an unknown name"),
    ("Ja", "a part of a first name"),
    ("Vrie", "a part of a surname"),
    ("K. de Vries", "an initial that does not fit"),
    ("Jan Smit", "a first name and a surname of two different people"),
    ("Jna de Vries", "a typo is only suggested"),
]


@pytest.mark.parametrize("query", [q for q, _ in NARROW_MISSES], ids=[w for _, w in NARROW_MISSES])
def test_nearly_a_colleague_is_unknown(query: str) -> None:
    resolution = resolve_colleague(query, STAFF)

    assert resolution.status is ResolutionStatus.UNKNOWN
    assert resolution.member is None
    assert resolution.problem is not None
    assert resolution.problem.code == "unknown_colleague"
    assert resolution.problem.blocking


def test_names_close_to_an_unknown_one_are_suggested() -> None:
    resolution = resolve_colleague("Jna de Vries", STAFF)

    assert resolution.candidates == (JAN,)
    assert resolution.problem is not None
    assert resolution.problem.text.endswith("Bedoelt u Jan de Vries?")
    assert resolve_colleague("Klaas", STAFF).candidates == ()


def test_a_known_name_beside_an_unknown_address_is_found_by_the_name() -> None:
    resolution = resolve_colleague("Jan de Vries <jan@oud.example>", STAFF)

    assert (resolution.member, resolution.matched_by) == (JAN, "name")


def test_an_empty_query_is_a_missing_colleague() -> None:
    resolution = resolve_colleague("  ", STAFF)

    assert resolution.status is ResolutionStatus.UNKNOWN
    assert resolution.problem is not None
    assert resolution.problem.code == "missing_colleague"


def test_the_fallback_colleague_is_looked_up_by_address() -> None:
    assert fallback_for(JAN, STAFF) == ANOUK
    assert fallback_for(JAN_B, STAFF) is None
    assert fallback_for(JAN, (JAN, JAN_B)) is None, "a fallback missing from the staff list"
    own = StaffMember("Jan de Vries", JAN.address, fallback=JAN.address)
    assert fallback_for(own, (own,)) is None, "never oneself"
