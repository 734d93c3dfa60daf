"""Phone numbers from a form, checked and normalised with Google's libphonenumber (`phonenumbers`).

The Netherlands is the default region: "06 12345678", "0313-123456" and
"020 123 4567" are Dutch; "+32 ...", "0032 ..." and "+90 ..." are foreign.
Spaces, dashes, dots, slashes and parentheses are layout and may appear
anywhere, "+31 (0)6 ..." included. Letters are refused (only a leading "tel:"
is allowed) because libphonenumber would read them as a vanity number, and a
callback to "0800-FLOWERS" typed by a colleague is almost certainly a slip.

The display form is the national one for Dutch numbers ("06 12345678",
"0313 123 456", as libphonenumber groups them) and the international one for
the rest; `e164` is for a `tel:` link.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from topcontact_mail.domain.callbacks import texts
from topcontact_mail.domain.callbacks.model import FormProblem, PhoneNumber

if TYPE_CHECKING:
    import phonenumbers
    from phonenumbers import NumberParseException

# phonenumbers is imported by the functions that use it, not on import: it takes tens of
# milliseconds to load, and `run` should not pay for them before its first request.

DEFAULT_REGION = "NL"
FIELD = "phone"

_TEL_PREFIX = re.compile(r"^\s*tel:\s*", re.IGNORECASE)
# Layout people put in phone numbers; nothing else but digits and a leading "+".
_LAYOUT = frozenset(" -./()\u00a0\u2009\u202f\u2010\u2011\u2012\u2013")
# Every Dutch number outside the special ranges (0800, 0900, 14 0xx, ...) has nine digits after the 0.
_DUTCH_DIGITS = 9

#: libphonenumber's `PhoneNumberType` attribute → our kind.
_KINDS = {
    "FIXED_LINE": "fixed_line",
    "MOBILE": "mobile",
    "FIXED_LINE_OR_MOBILE": "fixed_line_or_mobile",
    "TOLL_FREE": "toll_free",
    "PREMIUM_RATE": "premium_rate",
    "SHARED_COST": "shared_cost",
    "VOIP": "voip",
    "PERSONAL_NUMBER": "personal_number",
    "PAGER": "pager",
    "UAN": "uan",
    "VOICEMAIL": "voicemail",
}


def normalise_phone(text: str, *, region: str = DEFAULT_REGION) -> PhoneNumber | FormProblem:
    """The checked number, or the problem the booker must fix (see module docstring)."""
    raw = text.strip()
    value = _TEL_PREFIX.sub("", raw)
    if not value:
        return texts.problem(texts.MISSING_PHONE, FIELD)
    if any(unicodedata.category(c).startswith("L") for c in value):
        return texts.problem(texts.PHONE_LETTERS, FIELD, value=raw)
    body = value[1:] if value.startswith("+") else value
    if any(not (c.isdecimal() or c in _LAYOUT) for c in body):
        return texts.problem(texts.PHONE_CHARACTERS, FIELD, value=raw)
    import phonenumbers
    from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

    try:
        number = phonenumbers.parse(value, region)
    except NumberParseException as exc:
        return _parse_problem(exc, raw)
    if not phonenumbers.is_valid_number(number):
        return _invalid(number, raw)
    region_code = phonenumbers.region_code_for_number(number)
    number_type = phonenumbers.number_type(number)
    dutch = region_code == "NL"
    return PhoneNumber(
        raw=raw,
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        display=phonenumbers.format_number(
            number, PhoneNumberFormat.NATIONAL if dutch else PhoneNumberFormat.INTERNATIONAL
        ),
        region=region_code if region_code and region_code != "001" else None,
        kind=next(
            (
                kind
                for name, kind in _KINDS.items()
                if getattr(PhoneNumberType, name) == number_type
            ),
            "unknown",
        ),
    )


def _parse_problem(exc: NumberParseException, raw: str) -> FormProblem:
    from phonenumbers import NumberParseException

    if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
        return texts.problem(texts.PHONE_UNKNOWN_COUNTRY, FIELD, value=raw)
    if exc.error_type == NumberParseException.TOO_LONG:
        return texts.problem(texts.PHONE_TOO_LONG, FIELD, value=raw)
    # TOO_SHORT_NSN, TOO_SHORT_AFTER_IDD, and NOT_A_NUMBER for "+" or a lone digit: all too short.
    return texts.problem(texts.PHONE_TOO_SHORT, FIELD, value=raw)


def _invalid(number: phonenumbers.PhoneNumber, raw: str) -> FormProblem:
    import phonenumbers
    from phonenumbers import ValidationResult

    if phonenumbers.region_code_for_country_code(number.country_code or 0) == "ZZ":
        return texts.problem(texts.PHONE_UNKNOWN_COUNTRY, FIELD, value=raw)
    if number.country_code == 31:
        # libphonenumber calls "06 1234567" possible-but-invalid; to the booker it is one digit short.
        digits = len(phonenumbers.national_significant_number(number))
        if digits < _DUTCH_DIGITS:
            return texts.problem(texts.PHONE_TOO_SHORT, FIELD, value=raw)
        if digits > _DUTCH_DIGITS:
            return texts.problem(texts.PHONE_TOO_LONG, FIELD, value=raw)
        return texts.problem(texts.INVALID_PHONE, FIELD, value=raw)
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason == ValidationResult.TOO_SHORT:
        return texts.problem(texts.PHONE_TOO_SHORT, FIELD, value=raw)
    if reason == ValidationResult.TOO_LONG:
        return texts.problem(texts.PHONE_TOO_LONG, FIELD, value=raw)
    return texts.problem(texts.INVALID_PHONE, FIELD, value=raw)
