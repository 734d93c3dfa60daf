"""Message bodies in EWS (sandbox, a test double): the plain text Exchange makes of an HTML body.

GetItem's ``item:TextBody`` (Exchange 2013+) and the quoted original in replies need the text of
an HTML body; Exchange's converter keeps line breaks of block elements and drops markup.
"""

from __future__ import annotations

import html
import re

_DROP = re.compile(r"(?is)<(script|style|head)\b.*?</\1\s*>")
_BREAK = re.compile(r"(?i)<br\s*/?>|</(p|div|li|tr|h[1-6])\s*>")
_TAG = re.compile(r"(?s)<[^>]*>")
_BLANKS = re.compile(r"\n{3,}")


def text_of_html(body: str) -> str:
    """The plain text of an HTML body: markup dropped, block ends as line breaks."""
    text = _BREAK.sub("\n", _DROP.sub("", body))
    text = html.unescape(_TAG.sub("", text)).replace("\r\n", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def as_text(body: str, body_type: str) -> str:
    return text_of_html(body) if body_type == "HTML" else body
