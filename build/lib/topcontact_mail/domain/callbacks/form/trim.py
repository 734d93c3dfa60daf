"""Where the form ends: quoted replies and signatures cut off, as an ordered table of small rules.

Read `TRIMS` top to bottom: each rule looks at one line (and may peek at its
neighbours); the first that applies decides. A rule that drops `line` removes
only that line (a ">" quote may sit above a form written below it); one that
drops `rest` ends the body there. The name of the ending rule is kept so a
reply to the booker can be explained.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from topcontact_mail.domain.callbacks.form import quotes, signature

Test = Callable[[Sequence[str], int], bool]


@dataclass(frozen=True)
class Trim:
    """One line of the trimming table."""

    name: str
    summary: str
    test: Test
    drops: Literal["line", "rest"]


TRIMS: tuple[Trim, ...] = (
    Trim("quoted_line", "a line quoted with '>'", quotes.quoted_line, "line"),
    Trim("quote_separator",
         "'-----Oorspronkelijk bericht-----', a forward banner or Outlook's underscore line",
         quotes.quote_separator, "rest"),
    Trim("quote_header", "a 'Van:'/'From:'/'Verzonden:' line with more header lines after it",
         quotes.quote_header, "rest"),
    Trim("reply_attribution", "'Op ... schreef ...:' / 'On ... wrote:'",
         quotes.reply_attribution, "rest"),
    Trim("signature_delimiter", "the signature separator '-- '",
         signature.signature_delimiter, "rest"),
    Trim("closing_phrase", "'Met vriendelijke groet', 'Mvg', 'Groet,' and other closings",
         signature.closing_phrase, "rest"),
    Trim("sent_from_device", "'Verzonden vanaf mijn iPhone' and other client footers",
         signature.sent_from_device, "rest"),
)  # fmt: skip


@dataclass(frozen=True)
class Trimmed:
    """The lines of the form, and the rule that ended it (None when the body ran to its end)."""

    lines: tuple[str, ...]
    cut_by: str | None = None


def trim(text: str) -> Trimmed:
    """The lines of `text` that belong to the form (see TRIMS)."""
    lines = text.splitlines()
    kept: list[str] = []
    for i in range(len(lines)):
        rule = next((r for r in TRIMS if r.test(lines, i)), None)
        if rule is None:
            kept.append(lines[i].rstrip())
        elif rule.drops == "rest":
            return Trimmed(tuple(kept), rule.name)
    return Trimmed(tuple(kept))
