"""Trimming rules for quoted replies: `quoted_line`, `quote_separator`, `quote_header` and `reply_attribution`.

Outlook puts the message it replies to below an underscore line or
"-----Oorspronkelijk bericht-----" and a header block ("Van:", "Verzonden:",
"Aan:", "Onderwerp:"); other clients write "Op ... schreef ...:" and prefix
each quoted line with ">". A "Van:" line alone is not a header block: another
header line must follow within a few lines, so a form that happens to contain
"Van: balie" is read on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from topcontact_mail.domain.callbacks.words import fold

_SEPARATOR = re.compile(
    r"^\s*(?:-{3,}\s*(?:oorspronkelijk bericht|original message|doorgestuurd bericht|"
    r"forwarded message|origineel bericht)\s*-{3,}"
    r"|begin (?:doorgestuurd|forwarded) (?:bericht|message)\s*:?"
    r"|_{10,})\s*$",
    re.IGNORECASE,
)
_HEADER = re.compile(r"^\s*\*?([A-Za-z]+)\*?\s*:")
_OPENING_HEADERS = frozenset({"van", "from", "verzonden", "sent"})
_FOLLOWING_HEADERS = frozenset(
    {"van", "from", "verzonden", "sent", "datum", "date", "aan", "to", "cc", "onderwerp",
     "subject", "bijlagen", "attachments", "prioriteit", "importance"}
)  # fmt: skip
#: How many lines after "Van:" may hold the next header line.
_HEADER_REACH = 3
_ATTRIBUTION = re.compile(
    r"^\s*(?:op|on|am|le)\b.{4,}\b(?:schreef|wrote|schrieb|a écrit|het volgende geschreven|"
    r"heeft .{1,120} geschreven)\b.{0,120}:\s*$",
    re.IGNORECASE,
)


def quoted_line(lines: Sequence[str], i: int) -> bool:
    """A line quoted with ">" (dropped on its own; the form may go on below it)."""
    return lines[i].lstrip().startswith(">")


def quote_separator(lines: Sequence[str], i: int) -> bool:
    """A line "-----Oorspronkelijk bericht-----", a forward banner, or Outlook's underscore line."""
    return bool(_SEPARATOR.match(lines[i]))


def quote_header(lines: Sequence[str], i: int) -> bool:
    """A "Van:"/"From:"/"Verzonden:" line followed closely by more mail header lines."""
    if _header_name(lines[i]) not in _OPENING_HEADERS:
        return False
    following = [line for line in lines[i + 1 :] if line.strip()][:_HEADER_REACH]
    return any(_header_name(line) in _FOLLOWING_HEADERS for line in following)


def reply_attribution(lines: Sequence[str], i: int) -> bool:
    """A line "Op di 1 dec 2026 om 10:00 schreef Jan <jan@...>:", also wrapped over two lines."""
    line = lines[i].strip()
    if not re.match(r"^(?:op|on|am|le)\b", line, re.IGNORECASE):
        return False
    if _ATTRIBUTION.match(line):
        return True
    return i + 1 < len(lines) and bool(_ATTRIBUTION.match(f"{line} {lines[i + 1].strip()}"))


def _header_name(line: str) -> str | None:
    match = _HEADER.match(line)
    return fold(match.group(1)) if match else None
