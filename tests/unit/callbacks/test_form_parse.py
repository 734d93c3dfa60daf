"""Whole form mails, plain and HTML, as bookers send them; and properties over generated forms."""

from __future__ import annotations

import html as html_lib
from datetime import time

from hypothesis import given, settings
from hypothesis import strategies as st

from topcontact_mail.domain.callbacks import parse_form
from topcontact_mail.domain.callbacks.form import LABELS, Field

PLAIN_REPLY = """\
Hoi,

Wil je deze inplannen?

voor : Jan de Vries
Naam klant: mevr. A. Jansen
Tel.nr: 06-12 34 56 78
Betreft: lekkage badkamer
Notities: Mevrouw belt voor de tweede keer.
Het lekt bij de douche.

Let op: hond in huis
Dagdeel: 's middags

Met vriendelijke groet,

Petra de Jong
Klantcontact

-----Oorspronkelijk bericht-----
Van: Jan de Vries <j.devries@woonservice.example>
Verzonden: maandag 30 november 2026 09:12
Aan: Klantcontact <klantcontact@woonservice.example>
Onderwerp: Terugbelformulier

Voor:
Naam:
Telefoon:
"""


def test_a_plain_reply_with_a_greeting_signature_and_quoted_form() -> None:
    parsed = parse_form(PLAIN_REPLY)

    assert parsed.problems == ()
    assert parsed.colleague == "Jan de Vries"
    assert parsed.tenant_name == "mevr. A. Jansen"
    assert parsed.phone is not None
    assert parsed.phone.display == "06 12345678"
    assert parsed.phone_text == "06-12 34 56 78"
    assert parsed.subject == "lekkage badkamer"
    assert parsed.notes == (
        "Mevrouw belt voor de tweede keer.\nHet lekt bij de douche.\n\nLet op: hond in huis"
    )
    assert parsed.preference is not None
    assert (parsed.preference.not_before, parsed.preference.not_after) == (time(12), time(18))
    assert parsed.preference_text == "'s middags"
    assert parsed.cut_by == "closing_phrase"


OUTLOOK_HTML = """<html><head><style>p.MsoNormal{margin:0}</style></head><body lang=NL>
<div class=WordSection1>
<p class=MsoNormal>Hallo,<o:p></o:p></p>
<p class=MsoNormal><o:p>&nbsp;</o:p></p>
<table class=MsoTableGrid border=1 cellspacing=0 cellpadding=0>
 <tr><td width=150><p class=MsoNormal><b>Collega<o:p></o:p></b></p></td>
     <td width=300><p class=MsoNormal>Jos&eacute; van den Berg<o:p></o:p></p></td></tr>
 <tr><td><p class=MsoNormal><b>Huurder<o:p></o:p></b></p></td>
     <td><p class=MsoNormal>Dhr. K. Yilmaz<o:p></o:p></p></td></tr>
 <tr><td><p class=MsoNormal><b>Mobiel<o:p></o:p></b></p></td>
     <td><p class=MsoNormal>+90&nbsp;532&nbsp;123&nbsp;45&nbsp;67<o:p></o:p></p></td></tr>
 <tr><td><p class=MsoNormal><b>Vraag<o:p></o:p></b></p></td>
     <td><p class=MsoNormal>Huurverhoging 2027<o:p></o:p></p></td></tr>
 <tr><td><p class=MsoNormal><b>Toelichting<o:p></o:p></b></p></td>
     <td><p class=MsoNormal>Spreekt beter Engels.<o:p></o:p></p>
         <p class=MsoNormal>Heeft de brief niet begrepen.<o:p></o:p></p></td></tr>
 <tr><td><p class=MsoNormal><b>Graag voor<o:p></o:p></b></p></td>
     <td><p class=MsoNormal>15.00 uur<o:p></o:p></p></td></tr>
</table>
<p class=MsoNormal><o:p>&nbsp;</o:p></p>
<p class=MsoNormal>Mvg,<o:p></o:p></p>
<p class=MsoNormal>Petra<o:p></o:p></p>
<div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'>
<p class=MsoNormal><b>Van:</b> Systeem &lt;noreply@woonservice.example&gt;<br>
<b>Verzonden:</b> maandag 30 november 2026 08:00<br><b>Onderwerp:</b> Formulier</p></div>
</div></body></html>"""


def test_an_outlook_html_table_form_with_signature_and_reply_header() -> None:
    parsed = parse_form(OUTLOOK_HTML, html=True)

    assert parsed.problems == ()
    assert parsed.colleague == "José van den Berg"
    assert parsed.tenant_name == "Dhr. K. Yilmaz"
    assert parsed.phone is not None
    assert (parsed.phone.display, parsed.phone.e164) == ("+90 532 123 45 67", "+905321234567")
    assert parsed.subject == "Huurverhoging 2027"
    assert parsed.notes == "Spreekt beter Engels.\nHeeft de brief niet begrepen."
    assert parsed.preference is not None
    assert (parsed.preference.not_before, parsed.preference.not_after) == (None, time(15))
    assert parsed.cut_by == "closing_phrase"


def test_typos_odd_spacing_bullets_bold_and_tabs() -> None:
    body = (
        "\u200b- *Colega:* Jan de Vries\r\n"
        "• Naam   :   mevr.   Jansen\r\n"
        "Telefon\t0313 123456\r\n"
        "ONDERWERP：huur\r\n"
        "Opmerkngen: graag snel\r\n"
    )

    parsed = parse_form(body)

    assert parsed.problems == ()
    assert (parsed.colleague, parsed.tenant_name, parsed.subject) == (
        "Jan de Vries",
        "mevr. Jansen",
        "huur",
    )
    assert parsed.phone is not None
    assert parsed.phone.display == "0313 123 456"
    assert parsed.notes == "graag snel"


def test_a_value_below_its_label_and_loose_lines_after_fields_go_to_the_notes() -> None:
    body = (
        "Voor:\n\nJan de Vries\nNaam: Jansen\nTelefoon: 06 12345678\n"
        "of haar zoon op 0313 123456\nOnderwerp: huur"
    )

    parsed = parse_form(body)

    assert parsed.problems == ()
    assert parsed.colleague == "Jan de Vries"
    assert parsed.notes == "of haar zoon op 0313 123456"


def test_a_form_below_a_quoted_question_is_read() -> None:
    body = (
        "> Kan iemand mij terugbellen?\n> Mevrouw Jansen\n\n"
        "Voor: Jan\nNaam: Jansen\nTelefoon: 0612345678\nOnderwerp: terugbelverzoek\n"
        "Op ma 30 nov 2026 om 09:00 schreef Jansen <a.jansen@example.com>:\n> Voor: niemand"
    )

    parsed = parse_form(body)

    assert parsed.problems == ()
    assert parsed.colleague == "Jan"
    assert parsed.cut_by == "reply_attribution"


def test_only_the_first_value_of_a_field_counts_and_the_second_is_kept() -> None:
    body = "Voor: Jan\nNaam: Jansen\nTelefoon: 0612345678\nTelefoon: 0313 123456\nOnderwerp: x"

    parsed = parse_form(body)

    assert [p.code for p in parsed.problems] == ["duplicate_field"]
    assert parsed.phone is not None
    assert parsed.phone.e164 == "+31612345678"
    assert parsed.notes == "Telefoon: 0313 123456"


# -- properties ---------------------------------------------------------------------------------

_WORD = st.text("abcdefghijklmnopqrstuvwxyzéëï", min_size=2, max_size=9)
_NAME = st.lists(_WORD, min_size=1, max_size=3).map(lambda ws: " ".join(w.title() for w in ws))
_SUBJECT = st.lists(_WORD, min_size=1, max_size=5).map(" ".join)
_PHONE = st.text("0123456789", min_size=7, max_size=7).map(lambda d: f"06 1{d}")
_SIGNATURES = ["", "\n\nMet vriendelijke groet,\nPetra", "\n-- \nPetra\n06 99999999", "\n\nMvg"]
_QUOTES = ["", "\n\n-----Oorspronkelijk bericht-----\nVan: x\nVoor: niemand", "\n> Voor: niemand"]


def _label(field: Field) -> st.SearchStrategy[str]:
    spelled = st.sampled_from(LABELS[field])
    cased = st.sampled_from([str.lower, str.upper, str.title, lambda s: s])
    return st.builds(lambda label, case: case(label), spelled, cased)


@st.composite
def forms(draw: st.DrawFn) -> tuple[str, dict[Field, str], bool]:
    values = {
        Field.COLLEAGUE: draw(_NAME),
        Field.TENANT_NAME: draw(_NAME),
        Field.PHONE: draw(_PHONE),
        Field.SUBJECT: draw(_SUBJECT),
        Field.NOTES: draw(_SUBJECT),
    }
    order = draw(st.permutations(list(values)))
    colon = draw(st.sampled_from([":", " :", ": ", "  :  "]))
    lines = [f"{draw(_label(f))}{colon}{values[f]}" for f in order]
    blank = draw(st.sampled_from(["\n", "\n\n", "\r\n"]))
    body = "Hoi," + blank + blank.join(lines) + draw(st.sampled_from(_SIGNATURES))
    body += draw(st.sampled_from(_QUOTES))
    as_html = draw(st.booleans())
    if as_html:
        body = "".join(f"<p class=MsoNormal>{html_lib.escape(ln)}</p>" for ln in body.splitlines())
    return body, values, as_html


@settings(max_examples=150, deadline=None)
@given(forms())
def test_a_generated_form_reads_back_whatever_its_labels_layout_and_wrapping(
    form: tuple[str, dict[Field, str], bool],
) -> None:
    body, values, as_html = form

    parsed = parse_form(body, html=as_html)

    assert parsed.problems == (), body
    assert parsed.colleague == values[Field.COLLEAGUE]
    assert parsed.tenant_name == values[Field.TENANT_NAME]
    assert parsed.phone is not None
    assert parsed.phone.e164 == "+31" + values[Field.PHONE][1:].replace(" ", "")
    assert parsed.subject == values[Field.SUBJECT]
    assert parsed.notes == values[Field.NOTES]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.booleans())
def test_any_body_gives_a_form_and_never_raises(body: str, as_html: bool) -> None:
    parsed = parse_form(body, html=as_html)

    assert parsed.ok == (not any(p.blocking for p in parsed.problems))
    assert all(p.text and p.code for p in parsed.problems)
