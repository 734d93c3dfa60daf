"""The Dutch texts of callback booking, in one table, and the few helpers that fill them in.

Every problem and reason the service may send to a booker lives in `TEXTS`,
keyed by its stable code, as a `str.format` template. B1 Dutch: short
sentences, "u", say what is wrong and what to do. Kept together so they can
move to the template files without touching the logic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Final

from babel.dates import format_date

from topcontact_mail.domain.callbacks.model import FormProblem, Reason

# Form problems: codes that are stable, texts that may change.
EMPTY_FORM = "empty_form"
MISSING_COLLEAGUE = "missing_colleague"
MISSING_NAME = "missing_name"
MISSING_PHONE = "missing_phone"
PHONE_LETTERS = "phone_letters"
PHONE_CHARACTERS = "phone_characters"
PHONE_TOO_SHORT = "phone_too_short"
PHONE_TOO_LONG = "phone_too_long"
PHONE_UNKNOWN_COUNTRY = "phone_unknown_country"
INVALID_PHONE = "invalid_phone"
MISSING_SUBJECT = "missing_subject"
UNCLEAR_PREFERENCE = "unclear_preference"
IMPOSSIBLE_PREFERENCE = "impossible_preference"
UNKNOWN_LABEL = "unknown_label"
DUPLICATE_FIELD = "duplicate_field"
UNKNOWN_COLLEAGUE = "unknown_colleague"
AMBIGUOUS_COLLEAGUE = "ambiguous_colleague"

# Slot reasons.
DEADLINE_PASSED = "deadline_passed"
NOT_WORKING_BEFORE_DEADLINE = "not_working_before_deadline"
ON_LEAVE = "on_leave"
NO_FREE_SLOT_BEFORE_DEADLINE = "no_free_slot_before_deadline"
PREFERENCE_AFTER_DEADLINE = "preference_after_deadline"
PREFERENCE_NOT_POSSIBLE = "preference_not_possible"
LATER_SLOT = "later_slot"
EARLIER_WITHOUT_PREFERENCE = "earlier_without_preference"
NO_SLOT_IN_HORIZON = "no_slot_in_horizon"

TEXTS: Final[Mapping[str, str]] = MappingProxyType({
    # -- the form -----------------------------------------------------------------------------
    EMPTY_FORM:
        "We vinden geen gegevens in uw bericht. Zet elk gegeven op een eigen regel, "
        "bijvoorbeeld 'Telefoon: 06 12345678'.",
    MISSING_COLLEAGUE:
        "Er staat niet in wie moet terugbellen. Zet de naam van uw collega achter 'Voor:'.",
    MISSING_NAME:
        "De naam van de klant ontbreekt. Zet die achter 'Naam:'.",
    MISSING_PHONE:
        "Het telefoonnummer ontbreekt. Zet het achter 'Telefoon:'.",
    PHONE_LETTERS:
        "In het telefoonnummer '{value}' staan letters. Zet alleen het nummer achter "
        "'Telefoon:'. Uitleg kan achter 'Notities:'.",
    PHONE_CHARACTERS:
        "In het telefoonnummer '{value}' staan tekens die niet in een nummer horen. "
        "Gebruik alleen cijfers, spaties en streepjes.",
    PHONE_TOO_SHORT:
        "Het telefoonnummer '{value}' is te kort. Mist er een cijfer?",
    PHONE_TOO_LONG:
        "Het telefoonnummer '{value}' is te lang. Staan er twee nummers? Zet er één achter "
        "'Telefoon:' en de andere achter 'Notities:'.",
    PHONE_UNKNOWN_COUNTRY:
        "Het landnummer van '{value}' bestaat niet. Een buitenlands nummer begint met + "
        "en het landnummer, bijvoorbeeld +32 voor België.",
    INVALID_PHONE:
        "Het telefoonnummer '{value}' bestaat niet. Kijk het nummer nog eens na.",
    MISSING_SUBJECT:
        "Het onderwerp ontbreekt. Zet achter 'Onderwerp:' kort waar het gesprek over gaat.",
    UNCLEAR_PREFERENCE:
        "We begrijpen de voorkeur '{value}' niet. Schrijf bijvoorbeeld 'ochtend', 'middag', "
        "'na 14:00' of 'voor 11 uur'.",
    IMPOSSIBLE_PREFERENCE:
        "De voorkeur '{value}' kan niet: het begin is later dan het einde. "
        "Kijk de tijden nog eens na.",
    UNKNOWN_LABEL:
        "We kennen het veld '{label}' niet. De tekst staat nu bij de notities.",
    DUPLICATE_FIELD:
        "'{label}' staat er twee keer in. We gebruiken de eerste. De tweede staat nu bij de "
        "notities.",
    UNKNOWN_COLLEAGUE:
        "We kennen geen collega '{value}'. Zet de naam of het e-mailadres van uw collega "
        "achter 'Voor:'.",
    AMBIGUOUS_COLLEAGUE:
        "Bedoelt u {names}? Zet de hele naam of het e-mailadres achter 'Voor:'.",
    # -- the slot -----------------------------------------------------------------------------
    DEADLINE_PASSED:
        "Het terugbellen had vóór {deadline} moeten gebeuren.",
    NOT_WORKING_BEFORE_DEADLINE:
        "{colleague} werkt niet meer vóór {deadline}.",
    ON_LEAVE:
        "{colleague} is afwezig en kan vóór {deadline} niet terugbellen.",
    NO_FREE_SLOT_BEFORE_DEADLINE:
        "{colleague} heeft vóór {deadline} geen vrij {unit} meer.",
    PREFERENCE_AFTER_DEADLINE:
        "De klant wil gebeld worden: '{preference}'. Dan heeft {colleague} vóór {deadline} "
        "geen vrij {unit} meer.",
    PREFERENCE_NOT_POSSIBLE:
        "De klant wil gebeld worden: '{preference}'. Daarvoor heeft {colleague} tot en met "
        "{last_day} geen vrij {unit}. We kiezen het eerste vrije {unit}.",
    LATER_SLOT:
        "Het eerste moment dat past is {slot}.",
    EARLIER_WITHOUT_PREFERENCE:
        "Zonder die voorkeur kan het al op {earlier}.",
    NO_SLOT_IN_HORIZON:
        "{colleague} heeft tot en met {last_day} geen vrij {unit}. Plan het terugbellen "
        "zelf in.",
})  # fmt: skip

#: Suggestions for an unknown colleague, added to UNKNOWN_COLLEAGUE's text.
SUGGESTION: Final = "Bedoelt u {names}?"

#: The label the texts point the booker to, per form field (each one of the field's synonyms).
FIELD_LABELS: Final[Mapping[str, str]] = MappingProxyType({
    "colleague": "Voor",
    "tenant_name": "Naam",
    "phone": "Telefoon",
    "subject": "Onderwerp",
    "notes": "Notities",
    "preference": "Voorkeur",
    "latest": "Uiterlijk",
})  # fmt: skip

#: The empty form, for a reply that asks the booker to try again or for an Outlook quick part.
BLANK_FORM: Final = "\n".join(f"{label}: " for label in FIELD_LABELS.values())

#: Problems that do not stop a booking.
REMARKS: Final = frozenset({UNKNOWN_LABEL, DUPLICATE_FIELD})


def render(code: str, **values: object) -> str:
    """The text for `code` with its placeholders filled in."""
    return TEXTS[code].format(**values)


def problem(code: str, field: str | None = None, **values: object) -> FormProblem:
    """A form problem with its text; remarks (see REMARKS) do not block the booking."""
    return FormProblem(
        code=code, text=render(code, **values), field=field, blocking=code not in REMARKS
    )


def reason(code: str, **values: object) -> Reason:
    return Reason(code=code, text=render(code, **values))


def names(people: Sequence[str]) -> str:
    """The choices of a question: "A", "A of B", "A, B of C"."""
    if len(people) <= 1:
        return "".join(people)
    return ", ".join(people[:-1]) + " of " + people[-1]


def unit(length: timedelta) -> str:
    """The neuter noun for a free stretch of `length`, to follow "vrij"/"vrije"."""
    minutes = int(length.total_seconds() // 60)
    return {15: "kwartier", 30: "half uur", 60: "uur"}.get(minutes, f"moment van {minutes} minuten")


def day_text(day: date) -> str:
    """A day with its weekday, always: "dinsdag 1 december"."""
    return format_date(day, "EEEE d MMMM", locale="nl")


def deadline_text(moment: datetime) -> str:
    """A deadline: "dinsdag 1 december 17:00"."""
    return f"{day_text(moment.date())} {moment:%H:%M}"


def slot_text(moment: datetime) -> str:
    """A slot's start: "woensdag 2 december om 08:30"."""
    return f"{day_text(moment.date())} om {moment:%H:%M}"
