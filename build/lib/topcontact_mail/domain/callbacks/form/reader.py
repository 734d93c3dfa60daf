"""Reads the trimmed lines of a form into raw field values, keeping whatever does not fit as notes.

A line "Label: value" (also "Label : value", "- Label: value", "*Label:* value",
or "Label<TAB>value" for a known label) starts a field. A label with no value
takes the next line that is not a label. Only the notes run on over several
lines; any other loose line after the first field is added to the notes, so
nothing the booker wrote is lost. Text above the first label (a greeting) is
ignored. A second value for a field is kept as a note and reported; a label
nobody knows is kept as a note and reported too, unless it stands inside the
notes or is a writing habit like "Let op:" or "NB:".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from topcontact_mail.domain.callbacks.form.labels import MAX_LABEL_WORDS, Field, match_label
from topcontact_mail.domain.callbacks.words import fold

_LABEL_LINE = re.compile(
    r"^[\s\-*•·–>]*\**\s*"
    r"(?P<label>[^\W\d_][^\W\d_'’.\-/&]*(?:[ '’.\-/&]+[^\W\d_]+)*\.?)"
    r"\s*\**\s*[:：]\s*\**\s*(?P<value>.*)$"
)
_TAB_LINE = re.compile(r"^[\s\-*•·–]*(?P<label>[^\t]+?)\s*\t+\s*(?P<value>.*)$")
_MAX_LABEL_LENGTH = 40
#: Labels people write inside free text; read as notes, never reported as unknown fields.
NOTE_LABELS = frozenset({"let op", "nb", "n b", "ps", "pps", "p s", "tip", "opm", "ter info"})


@dataclass(frozen=True)
class RawForm:
    """What the lines said, before any value is checked."""

    values: Mapping[Field, str]
    #: The label as the booker wrote it, per field found.
    labels: Mapping[Field, str]
    notes: str
    unknown_labels: tuple[str, ...] = ()
    duplicate_labels: tuple[str, ...] = ()

    @property
    def has_labels(self) -> bool:
        return bool(self.labels or self.unknown_labels)


@dataclass
class _Reading:
    values: dict[Field, str] = field(default_factory=dict)
    labels: dict[Field, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    current: Field | None = None
    started: bool = False
    pending: Field | None = None

    def note(self, text: str) -> None:
        self.notes.append(text)

    def start(self, found: Field, label: str, value: str) -> None:
        self.started, self.pending, self.current = True, None, found
        if found is Field.NOTES:
            self.labels.setdefault(found, label)
            if value:
                self.note(value)
        elif found in self.values:
            self.duplicates.append(label)
            if value:
                self.note(f"{label}: {value}")
        else:
            self.labels[found] = label
            if value:
                self.values[found] = " ".join(value.split())
            else:
                self.pending = found

    def loose(self, line: str) -> None:
        if self.pending is not None:
            self.values[self.pending] = " ".join(line.split())
            self.pending = None
        elif self.started:
            self.note(line)


def split_label(line: str) -> tuple[str, str] | None:
    """("Label", "value") when `line` is shaped like a form field, else None."""
    match = _LABEL_LINE.match(line)
    if match is not None:
        label, value = match.group("label").strip(), match.group("value").strip()
        if (
            len(label) <= _MAX_LABEL_LENGTH
            and len(label.split()) <= MAX_LABEL_WORDS
            and not value.startswith("//")
        ):
            return label, value.strip("* ")
    tabbed = _TAB_LINE.match(line)
    if tabbed is not None and match_label(tabbed.group("label")) is not None:
        return tabbed.group("label").strip(), tabbed.group("value").strip()
    return None


def read_lines(lines: Iterable[str]) -> RawForm:
    """The raw fields of a form's lines (see module docstring)."""
    reading = _Reading()
    for raw in lines:
        line = raw.strip()
        if not line:
            if reading.current is Field.NOTES and reading.notes and reading.notes[-1]:
                reading.note("")
            continue
        parts = split_label(line)
        if parts is None:
            reading.loose(line)
            continue
        label, value = parts
        found = match_label(label)
        if found is not None:
            reading.start(found.field, label, value)
        elif reading.current is Field.NOTES or fold(label) in NOTE_LABELS:
            reading.note(line)
        else:
            reading.started = True
            reading.pending = None
            reading.unknown.append(label)
            reading.note(line)
    return RawForm(
        values=dict(reading.values),
        labels=dict(reading.labels),
        notes="\n".join(reading.notes).strip(),
        unknown_labels=tuple(reading.unknown),
        duplicate_labels=tuple(reading.duplicates),
    )
