"""The labels of the callback form: which words name which field, and how loosely a label may match.

`LABELS` is the synonyms table. A label written in a form is compared by its
`key` (case, diacritics, spaces and punctuation ignored: "Tel. nr", "telnr"
and "TEL NR" are one label) in three steps, the first that finds a field wins:

1. **exact**: the key of one of the synonyms;
2. **typo**: a small edit distance, only for labels of at least 5 letters
   (distance 1; from 8 letters distance 2), and only when one field is closest,
   so "Telefon" and "Onderwrp" are read, "Naan" and "Tel" never guessed;
3. **words**: a label of up to four words whose every word (besides "de",
   "van", ...) is a one-word synonym, like "Telefoon klant" or "Naam van de
   collega"; the most specific field wins (a phone, subject, note or time word
   over "collega"/"medewerker", and those over "naam"/"klant"/"huurder").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from topcontact_mail.domain.callbacks.words import distance, fold, key


class Field(StrEnum):
    COLLEAGUE = "colleague"
    TENANT_NAME = "tenant_name"
    PHONE = "phone"
    SUBJECT = "subject"
    NOTES = "notes"
    PREFERENCE = "preference"
    LATEST = "latest"


LABELS: Final[Mapping[Field, tuple[str, ...]]] = MappingProxyType({
    Field.COLLEAGUE: (
        "Voor", "Collega", "Medewerker", "Terugbellen door", "Bellen door", "Naam collega",
        "Naam medewerker", "Voor collega", "Behandelaar", "Terugbeller", "Wie belt terug",
    ),
    Field.TENANT_NAME: (
        "Naam", "Klant", "Huurder", "Naam klant", "Naam huurder", "Klantnaam", "Huurdernaam",
        "Woningzoekende", "Naam beller", "Beller", "Contactpersoon", "Relatie",
    ),
    Field.PHONE: (
        "Telefoon", "Tel", "Tel.nr", "Telefoonnummer", "Telefoonnr", "Mobiel", "Mobiel nummer",
        "Mobiele nummer", "Nummer", "Terugbelnummer", "GSM", "Phone",
    ),
    Field.SUBJECT: (
        "Onderwerp", "Betreft", "Over", "Vraag", "Reden", "Reden terugbellen", "Waarover",
        "Inzake",
    ),
    Field.NOTES: (
        "Notities", "Notitie", "Toelichting", "Opmerking", "Opmerkingen", "Details",
        "Omschrijving", "Bijzonderheden", "Extra informatie", "Aanvullende informatie", "Info",
    ),
    Field.PREFERENCE: (
        "Voorkeur", "Dagdeel", "Wanneer", "Voorkeurstijd", "Tijdstip", "Bereikbaar",
        "Beschikbaar",
    ),
    Field.LATEST: ("Uiterlijk", "Graag voor", "Uiterste tijd", "Niet later dan"),
})  # fmt: skip

#: Fewer letters than this: exact matches only.
TYPO_MIN_LETTERS = 5
#: From this many letters a distance of 2 is a typo; below it only 1.
TYPO_TWO_LETTERS = 8
MAX_LABEL_WORDS = 4

_BY_KEY: dict[str, Field] = {key(label): f for f, labels in LABELS.items() for label in labels}
_STOPWORDS = frozenset({"de", "het", "van", "een", "v", "d", "en"})
# Single words too common to name a field inside a longer label.
_NOT_WORDS = frozenset({"voor", "over", "tel"})
_BY_WORD: dict[str, Field] = {
    k: f for k, f in _BY_KEY.items() if " " not in fold(k) and k not in _NOT_WORDS and len(k) >= 4
}
# Word-level specificity: a lower rank wins.
_RANK = {
    Field.PHONE: 0, Field.SUBJECT: 0, Field.NOTES: 0, Field.PREFERENCE: 0, Field.LATEST: 0,
    Field.COLLEAGUE: 1, Field.TENANT_NAME: 2,
}  # fmt: skip


@dataclass(frozen=True)
class LabelMatch:
    """The field a written label names, and how it was recognised (exact, typo or words)."""

    field: Field
    label: str
    how: str


def match_label(label: str) -> LabelMatch | None:
    """The field `label` names, or None (see module docstring)."""
    written = key(label)
    if not written:
        return None
    exact = _BY_KEY.get(written)
    if exact is not None:
        return LabelMatch(exact, label, "exact")
    typo = _typo(written)
    if typo is not None:
        return LabelMatch(typo, label, "typo")
    words = _by_words(label)
    if words is not None:
        return LabelMatch(words, label, "words")
    return None


def _typo(written: str) -> Field | None:
    if sum(c.isalpha() for c in written) < TYPO_MIN_LETTERS:
        return None
    best: int | None = None
    fields: set[Field] = set()
    for synonym, field in _BY_KEY.items():
        if len(synonym) < TYPO_MIN_LETTERS:
            continue
        limit = 2 if min(len(synonym), len(written)) >= TYPO_TWO_LETTERS else 1
        d = distance(written, synonym, limit)
        if d > limit:
            continue
        if best is None or d < best:
            best, fields = d, {field}
        elif d == best:
            fields.add(field)
    return fields.pop() if len(fields) == 1 else None


def _by_words(label: str) -> Field | None:
    words = [w for w in fold(label).split() if w not in _STOPWORDS]
    if not 2 <= len(words) <= MAX_LABEL_WORDS:
        return None
    fields = {_BY_WORD.get(w) for w in words}
    if None in fields:
        return None
    known = {f for f in fields if f is not None}
    best = min(_RANK[f] for f in known)
    top = {f for f in known if _RANK[f] == best}
    return top.pop() if len(top) == 1 else None
