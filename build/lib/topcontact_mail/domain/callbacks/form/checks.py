"""What the booker must fix or know, as an ordered table of small checks over a read form.

Read `CHECKS` top to bottom: the first check is final (a body without any
field gets one clear answer instead of six); the others all run and every
problem they find is reported, blocking ones first in form order, remarks last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from topcontact_mail.domain.callbacks import texts
from topcontact_mail.domain.callbacks.form.labels import Field
from topcontact_mail.domain.callbacks.form.reader import RawForm
from topcontact_mail.domain.callbacks.model import FormProblem, PhoneNumber, Preference


@dataclass(frozen=True)
class Draft:
    """A read form with its phone number and preference already interpreted."""

    raw: RawForm
    phone: PhoneNumber | FormProblem | None
    preference: Preference | FormProblem | None


Check = Callable[[Draft], tuple[FormProblem, ...]]


@dataclass(frozen=True)
class FormCheck:
    """One line of the checks table."""

    name: str
    summary: str
    check: Check
    #: When it finds a problem, no later check runs.
    final: bool = False


def _one(problem: FormProblem | None) -> tuple[FormProblem, ...]:
    return () if problem is None else (problem,)


def empty_form(draft: Draft) -> tuple[FormProblem, ...]:
    return () if draft.raw.has_labels else (texts.problem(texts.EMPTY_FORM),)


def _missing(field: Field, code: str) -> Check:
    def check(draft: Draft) -> tuple[FormProblem, ...]:
        present = draft.raw.values.get(field, "").strip()
        return () if present else (texts.problem(code, field.value),)

    return check


def phone(draft: Draft) -> tuple[FormProblem, ...]:
    if draft.phone is None:
        return (texts.problem(texts.MISSING_PHONE, Field.PHONE.value),)
    return _one(draft.phone if isinstance(draft.phone, FormProblem) else None)


def preference(draft: Draft) -> tuple[FormProblem, ...]:
    return _one(draft.preference if isinstance(draft.preference, FormProblem) else None)


def unknown_labels(draft: Draft) -> tuple[FormProblem, ...]:
    return tuple(
        texts.problem(texts.UNKNOWN_LABEL, label=label) for label in draft.raw.unknown_labels
    )


def duplicate_fields(draft: Draft) -> tuple[FormProblem, ...]:
    return tuple(
        texts.problem(texts.DUPLICATE_FIELD, label=label) for label in draft.raw.duplicate_labels
    )


CHECKS: tuple[FormCheck, ...] = (
    FormCheck("empty_form", "no line of the form 'Label: value' at all", empty_form, final=True),
    FormCheck("missing_colleague", "nobody named to call back",
              _missing(Field.COLLEAGUE, texts.MISSING_COLLEAGUE)),
    FormCheck("missing_name", "no name of the tenant", _missing(Field.TENANT_NAME, texts.MISSING_NAME)),
    FormCheck("phone", "no phone number, or one that cannot be called", phone),
    FormCheck("missing_subject", "no subject", _missing(Field.SUBJECT, texts.MISSING_SUBJECT)),
    FormCheck("preference", "a preferred time that cannot be read or leaves no time", preference),
    FormCheck("unknown_label", "a 'Label:' line that names no field (kept as a note)", unknown_labels),
    FormCheck("duplicate_field", "a field given twice (the second kept as a note)", duplicate_fields),
)  # fmt: skip


def check(draft: Draft) -> tuple[FormProblem, ...]:
    """Every problem of `draft`, in the order of CHECKS."""
    found: list[FormProblem] = []
    for rule in CHECKS:
        problems = rule.check(draft)
        found.extend(problems)
        if problems and rule.final:
            break
    return tuple(found)
