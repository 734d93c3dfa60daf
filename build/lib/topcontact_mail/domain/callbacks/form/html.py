"""HTML mail bodies as Outlook writes them, turned into the plain lines the form reader reads.

Only the standard library's `html.parser`. Block elements (`p`, `div`, `br`,
`li`, headings, ...) end a line; `&nbsp;` is a space; `head`, `style`,
`script` and Office's `xml` islands are dropped. A table row becomes one line:
two cells read as "label: value" (Outlook forms are often a two-column table),
more cells are joined with spaces. A `blockquote` is marked with "> " like a
plain-text quote, and `hr` becomes the underscore line Outlook puts above a
quoted reply, so the trimming rules treat both as what they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

_BLOCKS = frozenset({
    "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "thead", "tfoot", "tr",
    "ul",
})  # fmt: skip
_HIDDEN = frozenset({"head", "style", "script", "title", "xml", "template"})
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0\u200b\u2009\u202f]+")
#: What Outlook writes above a quoted reply in plain text; `hr` stands for it.
RULE_LINE = "_" * 32


@dataclass
class _Cell:
    lines: list[str] = field(default_factory=lambda: [""])


@dataclass
class _Row:
    cells: list[_Cell] = field(default_factory=list)


class _TextMaker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.hidden = 0
        self.quote = 0
        self.pre = 0
        self.rows: list[_Row] = []

    # -- where text goes ----------------------------------------------------------------------

    def _target(self) -> list[str]:
        row = self.rows[-1] if self.rows else None
        if row is not None and row.cells:
            return row.cells[-1].lines
        return self.lines

    def _break(self) -> None:
        target = self._target()
        if target[-1].strip():
            target.append("")
        else:
            target[-1] = ""

    def _write(self, text: str) -> None:
        target = self._target()
        if not self.pre:
            text = _SPACES.sub(" ", text)
            if not target[-1]:
                text = text.lstrip()
                if text and self.quote and not self.rows:
                    text = "> " * self.quote + text
        target[-1] += text

    # -- parser events ------------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
            return
        if self.hidden:
            return
        if tag == "br":
            self._target().append("")
        elif tag == "tr":
            self._break()
            self.rows.append(_Row())
        elif tag in ("td", "th"):
            if not self.rows:
                self.rows.append(_Row())
            self.rows[-1].cells.append(_Cell())
        elif tag == "hr":
            self._break()
            self._target()[-1] = RULE_LINE
            self._target().append("")
        elif tag in _BLOCKS:
            self._break()
            if tag == "blockquote":
                self.quote += 1
            elif tag == "pre":
                self.pre += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "hr"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
            return
        if self.hidden:
            return
        if tag == "tr" and self.rows:
            row = self.rows.pop()
            self._break()
            for line in _row_lines(row):
                self._write(line)
                self._target().append("")
        elif tag in _BLOCKS:
            self._break()
            if tag == "blockquote":
                self.quote = max(0, self.quote - 1)
            elif tag == "pre":
                self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self._write(data)

    def text(self) -> str:
        while self.rows:  # a table the author never closed
            self.handle_endtag("tr")
        return "\n".join(line.rstrip() for line in self.lines)


def _row_lines(row: _Row) -> list[str]:
    cells = [[ln.strip() for ln in c.lines if ln.strip()] for c in row.cells]
    cells = [c for c in cells if c]
    if len(cells) == 2 and len(cells[0]) == 1:
        label, value = cells[0][0], cells[1]
        joiner = " " if label.endswith((":", "：")) else ": "
        return [label + joiner + value[0], *value[1:]]
    if all(len(cell) == 1 for cell in cells):
        return [" ".join(cell[0] for cell in cells)] if cells else []
    # A layout cell holding paragraphs or a whole inner table: its lines stay lines.
    return [line for cell in cells for line in cell]


def html_to_text(html: str) -> str:
    """The text of an HTML body, one line per block, blank lines collapsed to one."""
    maker = _TextMaker()
    maker.feed(html)
    maker.close()
    return re.sub(r"\n{3,}", "\n\n", maker.text()).strip("\n")
