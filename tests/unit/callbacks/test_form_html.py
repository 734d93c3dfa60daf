"""HTML bodies as Outlook and other clients write them, turned into the lines the reader reads."""

from __future__ import annotations

from topcontact_mail.domain.callbacks.form import html_to_text
from topcontact_mail.domain.callbacks.form.html import RULE_LINE

OUTLOOK_HEAD = """<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office">
<head><meta http-equiv=Content-Type content="text/html; charset=utf-8">
<style><!-- p.MsoNormal {margin:0cm; font-size:11.0pt;} --></style>
<!--[if gte mso 9]><xml><o:shapedefaults v:ext="edit" spidmax="1026" /></xml><![endif]-->
<title>Terugbellen</title></head>"""


def test_paragraphs_and_line_breaks_become_lines() -> None:
    html = (
        "<div>Voor: Jan<br>Naam: mevr. Jansen</div><p>Telefoon: 06 12345678</p>"
        "<div><div>Onderwerp:  lekkage\r\n   badkamer</div></div>"
    )

    assert html_to_text(html).splitlines() == [
        "Voor: Jan",
        "Naam: mevr. Jansen",
        "Telefoon: 06 12345678",
        "Onderwerp: lekkage badkamer",
    ]


def test_outlook_word_html_with_head_styles_and_office_tags() -> None:
    html = (
        OUTLOOK_HEAD + "<body lang=NL><div class=WordSection1>"
        "<p class=MsoNormal>Voor:&nbsp;Jan de&nbsp;Vries<o:p></o:p></p>"
        "<p class=MsoNormal><o:p>&nbsp;</o:p></p>"
        "<p class=MsoNormal><b><span style='color:#1F497D'>Telefoon</span></b>: "
        "06&nbsp;12345678<o:p></o:p></p></div></body></html>"
    )

    assert html_to_text(html).splitlines() == ["Voor: Jan de Vries", "Telefoon: 06 12345678"]


def test_a_two_column_table_reads_as_label_and_value() -> None:
    html = (
        "<table border=1><tbody>"
        "<tr><td><p class=MsoNormal><b>Voor</b></p></td><td><p>Jan de Vries</p></td></tr>"
        "<tr><th>Telefoon:</th><td>06-12345678</td></tr>"
        "<tr><td>Notities</td><td><p>regel een</p><p>regel twee</p></td></tr>"
        "<tr><td>Voorkeur</td><td></td></tr>"
        "<tr><td colspan=2>Met dank</td></tr>"
        "<tr><td>a</td><td>b</td><td>c</td></tr>"
        "</tbody></table>"
    )

    assert html_to_text(html).splitlines() == [
        "Voor: Jan de Vries",
        "Telefoon: 06-12345678",
        "Notities: regel een",
        "regel twee",
        "Voorkeur",
        "Met dank",
        "a b c",
    ]


def test_a_table_inside_a_layout_table_still_reads_row_by_row() -> None:
    html = (
        "<table><tr><td><table>"
        "<tr><td>Voor</td><td>Jan</td></tr><tr><td>Telefoon</td><td>0612345678</td></tr>"
        "</table></td></tr></table>"
    )

    assert html_to_text(html).splitlines() == ["Voor: Jan", "Telefoon: 0612345678"]


def test_an_unclosed_table_is_not_lost() -> None:
    assert html_to_text("<table><tr><td>Voor</td><td>Jan") == "Voor: Jan"


def test_quotes_are_marked_and_a_rule_becomes_outlooks_underscore_line() -> None:
    html = (
        "<p>Voor: Jan</p><blockquote><p>oude vraag</p><blockquote>nog ouder</blockquote>"
        "</blockquote><hr><p>Van: iemand</p>"
    )

    assert html_to_text(html).splitlines() == [
        "Voor: Jan",
        "> oude vraag",
        "> > nog ouder",
        RULE_LINE,
        "Van: iemand",
    ]


def test_scripts_styles_and_comments_are_dropped_and_entities_decoded() -> None:
    html = (
        "<script>var x = 'Voor: niemand';</script><style>p {}</style><!-- Voor: ook niet -->"
        "<p>Onderwerp: huur &amp; service &lt;dringend&gt; &#8211; caf&eacute;</p>"
    )

    assert html_to_text(html) == "Onderwerp: huur & service <dringend> – café"


def test_preformatted_text_keeps_its_lines() -> None:
    assert html_to_text("<pre>Voor: Jan\nTelefoon:   06</pre>").splitlines() == [
        "Voor: Jan",
        "Telefoon:   06",
    ]


def test_broken_html_never_raises() -> None:
    for html in ("<p>Voor: <b>Jan", "</td></tr></table>Voor: Jan", "<<>>&;&#xZZ;<p", ""):
        assert isinstance(html_to_text(html), str)
