"""Phone numbers: Dutch and foreign numbers in the layouts people type, and every way one can be wrong."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from topcontact_mail.domain.callbacks import FormProblem, PhoneNumber, normalise_phone

ACCEPTED = [
    # raw | display | E.164 | kind | what the row checks
    ("06 12345678", "06 12345678", "+31612345678", "mobile", "mobile as typed most"),
    ("0612345678", "06 12345678", "+31612345678", "mobile", "mobile without spaces"),
    ("06-12 34 56 78", "06 12345678", "+31612345678", "mobile", "dashes and spaces"),
    ("06.12.34.56.78", "06 12345678", "+31612345678", "mobile", "dots"),
    ("(06) 12345678", "06 12345678", "+31612345678", "mobile", "parentheses"),
    ("+31 6 12345678", "06 12345678", "+31612345678", "mobile", "+31"),
    ("+31 (0)6 12345678", "06 12345678", "+31612345678", "mobile", "+31 with the (0) habit"),
    ("0031612345678", "06 12345678", "+31612345678", "mobile", "0031"),
    ("tel:+31612345678", "06 12345678", "+31612345678", "mobile", "a tel: link"),
    ("0313 123456", "0313 123 456", "+31313123456", "fixed_line", "landline Dieren"),
    ("0313-123456", "0313 123 456", "+31313123456", "fixed_line", "landline with dash"),
    ("0313/123456", "0313 123 456", "+31313123456", "fixed_line", "landline with slash"),
    ("020-1234567", "020 123 4567", "+31201234567", "fixed_line", "landline Amsterdam"),
    ("088 1234567", "088 123 4567", "+31881234567", "uan", "company number 088"),
    ("0800 1234", "0800 1234", "+318001234", "toll_free", "free number"),
    ("+32 470 12 34 56", "+32 470 12 34 56", "+32470123456", "mobile", "Belgian mobile"),
    ("0032 470 12 34 56", "+32 470 12 34 56", "+32470123456", "mobile", "Belgian via 0032"),
    ("+90 532 123 45 67", "+90 532 123 45 67", "+905321234567", "mobile", "Turkish mobile"),
    ("+49 30 1234567", "+49 30 1234567", "+49301234567", "fixed_line", "German landline"),
    ("\u00a006\u00a012345678 ", "06 12345678", "+31612345678", "mobile", "no-break spaces"),
]

REFUSED = [
    # raw | code | what the row checks
    ("0800-FLOWERS", "phone_letters", "a vanity number is a slip, not a number to call"),
    ("06 12345678 (mobiel)", "phone_letters", "a remark belongs in the notes"),
    ("06 1234567 8 of 0313 123456", "phone_letters", "two numbers"),
    ("06 123456#78", "phone_characters", "a character no number has"),
    ("06 12+345678", "phone_characters", "a plus inside the number"),
    ("06 1234567", "phone_too_short", "a mobile missing a digit"),
    ("0612", "phone_too_short", "much too short"),
    ("112", "phone_too_short", "an emergency number is no callback number"),
    ("+", "phone_too_short", "only a plus"),
    ("06 123456789", "phone_too_long", "a mobile with a digit too many"),
    ("06 12345678 / 0313 123456", "phone_too_long", "two numbers with a slash"),
    ("+999 1234567", "phone_unknown_country", "no country has code 999"),
    ("0123 456789", "invalid_phone", "0123 is no Dutch area code"),
    ("", "missing_phone", "nothing at all"),
    ("tel:", "missing_phone", "only the tel: prefix"),
]


@pytest.mark.parametrize(
    ("raw", "display", "e164", "kind"),
    [row[:4] for row in ACCEPTED],
    ids=[row[4] for row in ACCEPTED],
)
def test_a_number_people_type_is_normalised(raw: str, display: str, e164: str, kind: str) -> None:
    number = normalise_phone(raw)

    assert isinstance(number, PhoneNumber), number
    assert (number.display, number.e164, number.kind) == (display, e164, kind)
    assert number.tel_uri == f"tel:{e164}"
    assert number.raw == raw.strip()


@pytest.mark.parametrize(
    ("raw", "code"), [row[:2] for row in REFUSED], ids=[row[2] for row in REFUSED]
)
def test_a_number_that_cannot_be_called_gets_a_problem(raw: str, code: str) -> None:
    problem = normalise_phone(raw)

    assert isinstance(problem, FormProblem), problem
    assert problem.code == code
    assert problem.field == "phone"
    assert problem.blocking
    if raw.strip() and code != "missing_phone":
        assert f"'{raw.strip()}'" in problem.text, "the booker sees what was wrong"


def test_dutch_numbers_get_the_region_and_foreign_ones_their_own() -> None:
    dutch, belgian = normalise_phone("0313 123456"), normalise_phone("+32 470 12 34 56")
    assert isinstance(dutch, PhoneNumber)
    assert isinstance(belgian, PhoneNumber)
    assert (dutch.region, belgian.region) == ("NL", "BE")


_LAYOUTS = st.sampled_from(["{a}{b}", "{a} {b}", "{a}-{b}", "({a}) {b}", "{a}.{b}", "{a} - {b}"])


@settings(max_examples=80, deadline=None)
@given(
    # 06-numbers are handed out from 061 to 065 (and 068); 0600... and 069... do not exist.
    digits=st.builds(
        str.__add__, st.sampled_from("12345"), st.text("0123456789", min_size=7, max_size=7)
    ),
    layout=_LAYOUTS,
    prefix=st.sampled_from(["0", "+31 ", "+31 (0)", "0031 ", "tel:+31"]),
    split=st.integers(0, 8),
)
def test_every_layout_of_a_dutch_mobile_number_gives_the_same_number(
    digits: str, layout: str, prefix: str, split: int
) -> None:
    raw = prefix + layout.format(a="6" + digits[:split], b=digits[split:]).strip()

    number = normalise_phone(raw)

    assert isinstance(number, PhoneNumber), (raw, number)
    assert number.e164 == "+316" + digits
    assert number.display == "06 " + digits


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40))
def test_any_text_gives_a_number_or_a_problem_and_never_raises(text: str) -> None:
    result = normalise_phone(text)

    assert isinstance(result, PhoneNumber | FormProblem)
    if isinstance(result, PhoneNumber):
        assert result.e164.startswith("+")
        assert result.e164[1:].isdigit()
