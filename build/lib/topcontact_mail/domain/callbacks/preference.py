"""When the tenant wants to be called, read from the words a booker writes: "middag", "na 14:00".

A preference is a window of local time that applies to every day (see
`Preference`). The reader knows:

- parts of the day: ochtend/'s ochtends/'s morgens/voormiddag (until 12:00),
  middag/'s middags/namiddag (12:00-18:00), tussen de middag/lunch
  (12:00-13:30), avond/'s avonds (from 18:00);
- bounds: "na", "vanaf", "niet voor", "later dan" a time (not before); "voor",
  "vóór", "tot", "uiterlijk", "niet na", "eerder dan" a time (not after);
  "tussen 10 en 12", "van 10 tot 12", "10-12";
- times: "14:00", "14.00", "14u", "14u30", "14 uur", "half 3"; an hour from
  1 to 6 means the afternoon ("na 2 uur" is 14:00), as nobody books a
  callback for the night;
- "geen voorkeur", "maakt niet uit", "n.v.t.", "-": no preference.

A bare time means "from then" in the preference field and "until then" in the
latest-time field (the caller says which). Several parts narrow each other
("middag, na 14:00" is 14:00-18:00). Any word the reader does not know makes
the whole preference unclear rather than half-understood: a weekday, "of",
"niet op vrijdag" would change the meaning, so the booker is asked to rephrase.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import time
from enum import StrEnum

from topcontact_mail.domain.callbacks import texts
from topcontact_mail.domain.callbacks.model import FormProblem, Preference

FIELD = "preference"


class BareTime(StrEnum):
    """What a time without "na" or "voor" means, by the field it stands in."""

    FROM = "from"
    UNTIL = "until"


NOON = time(12, 0)
EVENING = time(18, 0)

_Window = tuple[time | None, time | None]
_Maker = Callable[[re.Match[str]], _Window | None]

_TIME = r"(?:half\s+\d{1,2}|\d{1,2}(?:\s*[:.u]\s*\d{2})?)(?:\s*(?:uur|u|h)\b)?"
_FROM_WORDS = ("niet eerder dan", "niet voor", "later dan", "pas na", "pas vanaf", "vanaf", "na",
               "from", "after")  # fmt: skip
_UNTIL_WORDS = ("niet later dan", "niet na", "eerder dan", "uiterlijk", "voor", "tot", "before",
                "by")  # fmt: skip
# Longest first, so "niet na" is read before "na" and "niet voor" before "voor".
_BOUND_WORDS = "|".join(sorted((*_FROM_WORDS, *_UNTIL_WORDS), key=len, reverse=True))
_NO_PREFERENCE = re.compile(
    r"^(?:geen(?: voorkeur)?|maakt (?:niet|niets) uit|n\.?v\.?t\.?|-+|altijd|om het even|"
    r"(?:de |heel de )?hele dag|heel de dag|no preference|any ?time)$"
)
# Words that carry no window; anything else left over makes the preference unclear.
_FILLER = frozenset({
    "graag", "liefst", "liefste", "bij", "voorkeur", "bellen", "terugbellen", "gebeld", "worden",
    "wordt", "wil", "willen", "de", "het", "in", "op", "om", "en", "rond", "ongeveer", "aub",
    "svp", "dan", "klant", "huurder", "is", "zijn", "bereikbaar", "alleen", "pas", "even",
    "morgen", "vandaag", "please", "call",
})  # fmt: skip


def _clock(text: str) -> time | None:
    match = re.fullmatch(
        r"(half\s+)?(\d{1,2})(?:\s*[:.u]\s*(\d{2}))?(?:\s*(?:uur|u|h))?", text.strip()
    )
    if match is None:
        return None
    hour, minute = int(match.group(2)), int(match.group(3) or 0)
    if match.group(1):
        # "half 3" is 2:30; "half 1" is half past twelve, not past midnight.
        hour, minute = (hour - 1) or 12, 30
    if 1 <= hour <= 6:
        hour += 12
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)


def _from(match: re.Match[str]) -> _Window | None:
    moment = _clock(match.group(1))
    return None if moment is None else (moment, None)


def _until(match: re.Match[str]) -> _Window | None:
    moment = _clock(match.group(1))
    return None if moment is None else (None, moment)


def _bound(match: re.Match[str]) -> _Window | None:
    moment = _clock(match.group(2))
    if moment is None:
        return None
    return (moment, None) if match.group(1) in _FROM_WORDS else (None, moment)


def _between(match: re.Match[str]) -> _Window | None:
    start = _clock(match.group(1) or match.group(2))
    end = _clock(match.group(3))
    return None if start is None or end is None else (start, end)


def _fixed(start: time | None, end: time | None) -> _Maker:
    def make(match: re.Match[str]) -> _Window:
        return (start, end)

    return make


#: What the reader recognises, in the order it takes it out of the text.
READERS: tuple[tuple[str, re.Pattern[str], _Maker], ...] = (
    ("between", re.compile(
        rf"\b(?:tussen\s+({_TIME})\s+en|(?:van\s+)?({_TIME})\s*(?:-|–|tot))\s*({_TIME})"
    ), _between),
    ("bound", re.compile(rf"\b({_BOUND_WORDS})\s+({_TIME})"), _bound),
    ("after_lunch", re.compile(r"\bna (?:de )?lunch(?:pauze)?\b"), _fixed(time(13, 30), None)),
    ("before_lunch", re.compile(r"\bvoor (?:de )?lunch(?:pauze)?\b"), _fixed(None, NOON)),
    ("lunch", re.compile(r"\b(?:tussen de middag|lunchtijd|lunchpauze|lunch)\b"),
     _fixed(NOON, time(13, 30))),
    ("morning", re.compile(r"\b(?:(?:morgen)?ochtends?|morgens|voormiddag|morning)\b"),
     _fixed(None, NOON)),
    ("afternoon", re.compile(r"\b(?:(?:morgen)?middags?|namiddag|afternoon)\b"),
     _fixed(NOON, EVENING)),
    ("evening", re.compile(r"\b(?:(?:morgen)?avonds?|evening)\b"), _fixed(EVENING, None)),
)  # fmt: skip
_BARE = re.compile(rf"(?<![\w:.])({_TIME})(?![\w:.])")


def parse_preference(
    text: str, *, bare: BareTime = BareTime.FROM
) -> Preference | FormProblem | None:
    """The window `text` asks for, None for no preference, or the problem for the booker."""
    shown = " ".join(text.split())
    rest = _normalise(shown)
    if not rest or _NO_PREFERENCE.match(rest):
        return None
    readers = [(regex, make) for _, regex, make in READERS]
    readers.append((_BARE, _from if bare is BareTime.FROM else _until))
    windows: list[_Window] = []
    for regex, make in readers:
        for match in regex.finditer(rest):
            window = make(match)
            if window is None:
                return texts.problem(texts.UNCLEAR_PREFERENCE, FIELD, value=shown)
            windows.append(window)
        rest = regex.sub(" ", rest)
    leftover = [w for w in re.split(r"[\s,.;:!?/()'-]+", rest) if w]
    if not windows or any(w not in _FILLER for w in leftover):
        return texts.problem(texts.UNCLEAR_PREFERENCE, FIELD, value=shown)
    return narrow(shown, windows)


def narrow(text: str, windows: Iterable[_Window]) -> Preference | FormProblem:
    """One preference that honours every window, or the problem when they leave no time."""
    spans = list(windows)
    not_before = max((a for a, _ in spans if a is not None), default=None)
    not_after = min((b for _, b in spans if b is not None), default=None)
    if not_before is not None and not_after is not None and not_after <= not_before:
        return texts.problem(texts.IMPOSSIBLE_PREFERENCE, FIELD, value=text)
    return Preference(text=text, not_before=not_before, not_after=not_after)


def combine(first: Preference | None, second: Preference | None) -> Preference | FormProblem | None:
    """The preference field and the latest-time field together (both must hold)."""
    if first is None or second is None:
        return first or second
    return narrow(
        f"{first.text}, {second.text}",
        [(first.not_before, first.not_after), (second.not_before, second.not_after)],
    )


def _normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = plain.replace("\u2019", "'").replace("\u2018", "'")
    # "'s middags", "s middags", "smiddags" all become "middags".
    plain = re.sub(r"(?<!\w)'?s\s*(?=(?:ochtend|middag|avond|morgen)s\b)", "", plain)
    return " ".join(plain.split()).strip(" .,;:!")
