"""`parse_form`: a callback form mailed from Outlook, read into fields and problems for the booker."""

from __future__ import annotations

import re
from dataclasses import dataclass

from topcontact_mail.domain.callbacks.form.checks import Draft, check
from topcontact_mail.domain.callbacks.form.html import html_to_text
from topcontact_mail.domain.callbacks.form.labels import Field
from topcontact_mail.domain.callbacks.form.reader import RawForm, read_lines
from topcontact_mail.domain.callbacks.form.trim import trim
from topcontact_mail.domain.callbacks.model import FormProblem, PhoneNumber, Preference
from topcontact_mail.domain.callbacks.phone import normalise_phone
from topcontact_mail.domain.callbacks.preference import BareTime, combine, parse_preference

# Characters that are invisible or break lines oddly in mail bodies.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_ODD_BREAKS = re.compile("\r\n?|[\u2028\u2029\u0085\x0b\x0c]")


@dataclass(frozen=True)
class ParsedForm:
    """The fields a form gave (None where absent) and every problem found in it.

    `phone` and `preference` are set only when they are usable; what the booker
    wrote is in `phone_text`/`preference_text`. `cut_by` names the trimming rule
    that ended the form (a signature, a quoted reply), for explanations.
    """

    colleague: str | None
    tenant_name: str | None
    phone: PhoneNumber | None
    phone_text: str | None
    subject: str | None
    notes: str
    preference: Preference | None
    preference_text: str | None
    problems: tuple[FormProblem, ...]
    cut_by: str | None = None

    @property
    def ok(self) -> bool:
        """No blocking problem: the form can be booked (once the colleague resolves)."""
        return not any(p.blocking for p in self.problems)

    @property
    def blocking(self) -> tuple[FormProblem, ...]:
        return tuple(p for p in self.problems if p.blocking)

    @property
    def remarks(self) -> tuple[FormProblem, ...]:
        return tuple(p for p in self.problems if not p.blocking)


def parse_form(body: str, *, html: bool = False) -> ParsedForm:
    """Read the callback form in a mail body (see the `form` package docstring); never raises."""
    text = html_to_text(body) if html else body
    text = _ODD_BREAKS.sub("\n", _INVISIBLE.sub("", text)).replace("\u00a0", " ")
    trimmed = trim(text)
    raw = read_lines(trimmed.lines)
    phone_text = raw.values.get(Field.PHONE)
    phone = normalise_phone(phone_text) if phone_text else None
    preference = _preference(raw)
    problems = check(Draft(raw=raw, phone=phone, preference=preference))
    wished = [raw.values.get(f) for f in (Field.PREFERENCE, Field.LATEST)]
    return ParsedForm(
        colleague=raw.values.get(Field.COLLEAGUE),
        tenant_name=raw.values.get(Field.TENANT_NAME),
        phone=phone if isinstance(phone, PhoneNumber) else None,
        phone_text=phone_text,
        subject=raw.values.get(Field.SUBJECT),
        notes=raw.notes,
        preference=preference if isinstance(preference, Preference) else None,
        preference_text=", ".join(w for w in wished if w) or None,
        problems=problems,
        cut_by=trimmed.cut_by,
    )


def _preference(raw: RawForm) -> Preference | FormProblem | None:
    wanted = raw.values.get(Field.PREFERENCE)
    latest = raw.values.get(Field.LATEST)
    first = parse_preference(wanted, bare=BareTime.FROM) if wanted else None
    second = parse_preference(latest, bare=BareTime.UNTIL) if latest else None
    if isinstance(first, FormProblem):
        return first
    if isinstance(second, FormProblem):
        return second
    return combine(first, second)
