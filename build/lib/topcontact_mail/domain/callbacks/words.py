"""Text folding and edit distance, shared by the form reader and the colleague lookup."""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^\w]+")


def fold(text: str) -> str:
    """Lower case without diacritics, punctuation as single spaces: "José  d'Ávila." -> "jose d avila"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", plain).replace("_", " ").split())


def key(text: str) -> str:
    """`fold` without any spaces, so "Tel. nr", "Telnr" and "tel-nr" compare equal."""
    return fold(text).replace(" ", "")


def distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of neighbours counts once), capped at limit + 1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


#: Dutch (and a few other) surname particles: "Jan de Vries" is also found as "Vries".
PARTICLES = frozenset({
    "van", "de", "der", "den", "het", "t", "ter", "ten", "te", "in", "op", "aan", "bij", "onder",
    "uit", "over", "voor", "la", "le", "du", "da", "di", "dos", "von", "zu", "del", "della", "d",
})  # fmt: skip


def natural_name(name: str) -> str:
    """A name as people say it: "Vries, Jan de (Jan)" -> "Jan de Vries"; other names unchanged."""
    name = " ".join(name.split("(")[0].split()) if "(" in name else " ".join(name.split())
    if "," not in name:
        return name
    last, _, given = name.partition(",")
    given_words = given.split()
    firsts = [w for w in given_words if fold(w) not in PARTICLES]
    particles = [w for w in given_words if fold(w) in PARTICLES]
    return " ".join([*firsts, *particles, *last.split()])
