"""Look-alike letters folded away, so a machine's name written with them is still recognised.

A sender can spell no-reply or postmaster with letters that only look alike: a Cyrillic
о or у, a Greek ο, fullwidth forms, a digit 0 for o or 1 for l, a capital I for l, "rn"
for m, or with invisible format characters (zero-width space, right-to-left override)
between the letters. `skeleton` maps a local part to a coarse form in which each such
group is one letter, after the idea of Unicode Technical Standard #39 (section 4,
"Confusable Detection"; the pairs below are a subset of its confusables.txt for the
letters of the machine names we look for). Both sides of a comparison go through it.
"""

from __future__ import annotations

import unicodedata

#: Single characters that look like a Latin letter (after NFKC and case folding).
_CONFUSABLES = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "і": "l", "ї": "l", "ј": "j",
        "к": "k", "м": "m", "о": "o", "р": "p", "с": "c", "ѕ": "s", "т": "t", "у": "y",
        "х": "x", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ո": "n", "ն": "n", "ս": "u",
        # Greek
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "l", "κ": "k", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w",
        # Latin variants and digits
        "ı": "l", "ɩ": "l", "ℓ": "l", "ɑ": "a",
        "0": "o", "1": "l", "i": "l", "|": "l", "!": "l", "5": "s", "3": "e",
    }
)  # fmt: skip
#: Letter pairs that read as one letter.
_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))


def skeleton(text: str) -> str:
    """`text` with look-alikes folded: compare skeletons, never show one."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    visible = "".join(ch for ch in folded if unicodedata.category(ch) not in ("Cf", "Mn"))
    shape = visible.translate(_CONFUSABLES)
    for pair, letter in _PAIRS:
        shape = shape.replace(pair, letter)
    return shape
