"""Trimming rules `signature_delimiter`, `closing_phrase` and `sent_from_device`: where the sender signs off.

A closing counts only on a line it starts: "Met vriendelijke groet," and "Mvg
Petra" end the form, "Groet de buurvrouw van mij" in the notes does not (after
the closing comes punctuation, a capitalised name of up to three words, or nothing).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from topcontact_mail.domain.callbacks.words import PARTICLES, fold

_CLOSINGS = (
    "met vriendelijke groet",
    "met vriendelijke groeten",
    "vriendelijke groet",
    "vriendelijke groeten",
    "met hartelijke groet",
    "hartelijke groet",
    "hartelijke groeten",
    "met groet",
    "met groeten",
    "groet",
    "groeten",
    "groetjes",
    "gr",
    "grt",
    "mvg",
    "m v g",
    "vr gr",
    "vrgr",
    "bvd",
    "alvast bedankt",
    "alvast dank",
    "bij voorbaat dank",
    "dank je wel",
    "dank u wel",
    "bedankt",
    "kind regards",
    "best regards",
    "regards",
)
_CLOSING = re.compile(r"^(?:" + "|".join(re.escape(c) for c in _CLOSINGS) + r")\b(?P<tail>.*)$")
_NAME_WORDS = 3
_DEVICE = re.compile(
    r"^(?:verzonden|verstuurd|sent)\s+(?:vanaf|vanuit|met|from|via|with)\s+(?:mijn|my)\b"
    r"|^(?:get|download|ontvang|outlook voor)\b.*\boutlook\b.*\b(?:ios|android)\b"
    r"|^outlook (?:voor|for) (?:ios|android)\b",
    re.IGNORECASE,
)


def signature_delimiter(lines: Sequence[str], i: int) -> bool:
    """The usenet/mail signature separator, "-- " (also without its trailing space)."""
    return lines[i].rstrip() in ("--", "-- ") and lines[i].startswith("--")


def closing_phrase(lines: Sequence[str], i: int) -> bool:
    """A Dutch or English closing on a line of its own, perhaps with a name after it."""
    line = lines[i].strip()
    match = _CLOSING.match(fold(line))
    if match is None:
        return False
    tail = match.group("tail").split()
    if not tail:
        return True
    words = list(re.finditer(r"\w+", line))
    closing_words = len(words) - len(tail)
    if closing_words < 1:
        return False
    after = line[words[closing_words - 1].end() :].lstrip()
    if after[:1] in tuple(",!.;:-–"):
        return True
    # "Mvg Petra de Jong" signs off; "Groet de buurvrouw van mij" is a sentence.
    name = after.split()
    return len(name) <= _NAME_WORDS and all(w[:1].isupper() or fold(w) in PARTICLES for w in name)


def sent_from_device(lines: Sequence[str], i: int) -> bool:
    """A client footer: "Verzonden vanaf mijn iPhone", "Outlook voor iOS downloaden"."""
    return bool(_DEVICE.search(lines[i].strip()))
