"""Each trimming rule, hit squarely and missed narrowly, and the table around them."""

from __future__ import annotations

import pytest

from topcontact_mail.domain.callbacks.form.trim import TRIMS, trim

FORM = "Voor: Jan\nTelefoon: 06 12345678"

# rule | the lines after the form | what the row checks
HITS = [
    ("quoted_line", "> Van: iemand", "a quoted line"),
    ("quoted_line", "   >> dubbel", "an indented, doubly quoted line"),
    ("quote_separator", "-----Oorspronkelijk bericht-----\nVan: x", "Outlook's Dutch separator"),
    ("quote_separator", "-----Original Message-----", "Outlook's English separator"),
    ("quote_separator", "---------- Forwarded message ---------", "Gmail's forward banner"),
    ("quote_separator", "Begin doorgestuurd bericht:", "Apple Mail's forward banner"),
    ("quote_separator", "________________________________", "Outlook's underscore line"),
    ("quote_header", "Van: Jan <jan@x.example>\nVerzonden: maandag\nAan: ons", "Dutch header block"),
    ("quote_header", "From: Jan\nSent: Monday\nTo: us\nSubject: x", "English header block"),
    ("quote_header", "*Van:* Jan\n\n*Datum:* 1 december", "bold headers, a blank line between"),
    ("quote_header", "Verzonden: maandag\nOnderwerp: x", "a block starting at Verzonden"),
    ("reply_attribution", "Op di 1 dec 2026 om 10:00 schreef Jan <j@x.example>:", "Gmail, Dutch"),
    ("reply_attribution", "On Tue, Dec 1, 2026 at 10:00 AM Jan <j@x.example> wrote:", "Gmail"),
    ("reply_attribution", "Op 1 dec. 2026 om 10:00 heeft Jan de Vries het volgende geschreven:",
     "Apple Mail, Dutch"),
    ("reply_attribution", "Op di 1 dec 2026 om 10:00 schreef Jan de Vries <\nj@x.example>:",
     "wrapped over two lines"),
    ("signature_delimiter", "-- \nPetra", "the signature separator"),
    ("signature_delimiter", "--\nPetra", "the separator without its space"),
    ("closing_phrase", "Met vriendelijke groet,\nPetra", "the usual closing"),
    ("closing_phrase", "Met vriendelijke groeten", "plural"),
    ("closing_phrase", "Mvg", "an abbreviation"),
    ("closing_phrase", "M.v.g. Petra de Jong", "an abbreviation with a name"),
    ("closing_phrase", "Groet,", "short"),
    ("closing_phrase", "Groetjes Petra", "informal with a name"),
    ("closing_phrase", "Alvast bedankt!", "thanks in advance"),
    ("closing_phrase", "Vriendelijke groet, Petra de Jong (Klantcontact)", "with a long tail"),
    ("closing_phrase", "Kind regards", "English"),
    ("sent_from_device", "Verzonden vanaf mijn iPhone", "iPhone"),
    ("sent_from_device", "Sent from my Galaxy", "Android"),
    ("sent_from_device", "Outlook voor iOS downloaden", "Outlook mobile"),
]  # fmt: skip

# rule | a line that stays in the form | what the row checks
MISSES = [
    ("quoted_line", "Notities: 5 > 3 klachten", "a '>' inside a line"),
    ("quote_separator", "Notities: ---- let op ----", "dashes around other words"),
    ("quote_separator", "_________", "a short underline"),
    ("quote_header", "Van: de balie\nNaam: mevr. Jansen", "'Van:' without a header block"),
    ("quote_header", "Aan: Jan\nOnderwerp: lekkage", "a block must open with Van/From/Verzonden"),
    ("reply_attribution", "Op dinsdag is zij thuis.", "a sentence starting with 'Op'"),
    ("reply_attribution", "Op verzoek van de klant: schreef hij ons", "no colon at the end"),
    ("signature_delimiter", "-- geen handtekening", "dashes before text"),
    ("closing_phrase", "Groet de buurvrouw van mij", "'groet' as a verb"),
    ("closing_phrase", "Bedankt voor het doorgeven van de storing", "thanks in a sentence"),
    ("closing_phrase", "Groetentaart bestellen", "a word starting with a closing"),
    ("closing_phrase", "Notities: met vriendelijke groet", "a closing after a label"),
    ("sent_from_device", "Verzonden naar de aannemer", "'Verzonden' in a sentence"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "tail"), [h[:2] for h in HITS], ids=[f"{h[0]}: {h[2]}" for h in HITS]
)
def test_a_rule_ends_the_form_or_drops_its_line(rule: str, tail: str) -> None:
    trimmed = trim(f"{FORM}\n{tail}")

    assert trimmed.lines[:2] == tuple(FORM.splitlines())
    if rule == "quoted_line":
        assert trimmed.cut_by is None
        assert not any(line.lstrip().startswith(">") for line in trimmed.lines)
    else:
        assert trimmed.cut_by == rule
        assert trimmed.lines == tuple(FORM.splitlines())


@pytest.mark.parametrize(
    ("rule", "line"), [m[:2] for m in MISSES], ids=[f"{m[0]}: {m[2]}" for m in MISSES]
)
def test_a_line_that_only_looks_like_the_end_stays(rule: str, line: str) -> None:
    trimmed = trim(f"{FORM}\n{line}")

    assert trimmed.cut_by is None
    assert trimmed.lines == (*FORM.splitlines(), *line.splitlines())


def test_every_rule_of_the_table_has_a_hit_and_a_miss() -> None:
    names = {t.name for t in TRIMS}
    assert names == {h[0] for h in HITS} == {m[0] for m in MISSES}


def test_a_form_below_a_quoted_line_is_kept() -> None:
    trimmed = trim("> eerdere vraag\nVoor: Jan")

    assert trimmed.lines == ("Voor: Jan",)


def test_the_first_end_wins() -> None:
    trimmed = trim("Voor: Jan\nMvg Petra\n-----Original Message-----\nVoor: Piet")

    assert trimmed.cut_by == "closing_phrase"
    assert trimmed.lines == ("Voor: Jan",)
