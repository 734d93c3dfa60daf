"""The Jinja2 renderer: sandboxed, escaped HTML, message content as data, clear template errors."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from topcontact_mail.adapters.texts import TemplateProblem, TextRenderer, phone_uri
from topcontact_mail.config import OfficeHours, TeamSettings
from topcontact_mail.domain.calendar import ResponseTerms
from topcontact_mail.domain.message import Address, IncomingMessage

TEMPLATES = Path(__file__).resolve().parents[3] / "topcontact_mail" / "templates"


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    target = tmp_path / "templates"
    shutil.copytree(TEMPLATES, target)
    return target


def _renderer(folder: Path, **hours: list[str]) -> TextRenderer:
    return TextRenderer(folder, TeamSettings(), OfficeHours(**hours).intervals())


def test_answer_date_has_its_weekday_in_both_languages(
    renderer: TextRenderer, message: IncomingMessage, terms: ResponseTerms
) -> None:
    nl = renderer.render_acknowledgement("nl", message=message, terms=terms)
    en = renderer.render_acknowledgement("en", message=message, terms=terms)
    assert "U krijgt uiterlijk vrijdag 4 december 2026 een antwoord." in nl.text
    assert "<strong>vrijdag 4 december 2026</strong>" in nl.html
    assert "by Friday 4 December 2026 at the latest" in en.text


def test_no_plain_name_gives_the_neutral_greeting(
    renderer: TextRenderer, terms: ResponseTerms
) -> None:
    message = IncomingMessage(sender=Address("info@example.nl", "Klantenservice"))
    nl = renderer.render_acknowledgement("nl", message=message, terms=terms)
    en = renderer.render_acknowledgement("en", message=message, terms=terms)
    assert nl.text.startswith("Goedendag,\n")
    assert en.text.startswith("Hello,\n")
    assert "Klantenservice" not in nl.text


def test_texts_never_mention_a_gender(
    renderer: TextRenderer, message: IncomingMessage, terms: ResponseTerms
) -> None:
    for language in ("nl", "en"):
        rendered = renderer.render_acknowledgement(language, message=message, terms=terms)
        lowered = f"{rendered.text} {rendered.html}".lower()
        for word in ("heer", "mevrouw", "meneer", " mr", " mrs", " ms ", "sir", "madam"):
            assert word not in lowered


def test_the_message_itself_is_never_repeated_in_the_bodies(
    renderer: TextRenderer, message: IncomingMessage, terms: ResponseTerms
) -> None:
    rendered = renderer.render_acknowledgement("nl", message=message, terms=terms)
    for body in (rendered.text, rendered.html):
        assert "GEHEIM" not in body
        assert "kraan" not in body.lower()


def test_message_content_is_data_not_template_source(
    renderer: TextRenderer, terms: ResponseTerms
) -> None:
    message = IncomingMessage(
        subject="{{ team.phone }} {% if true %}x{% endif %}",
        sender=Address("a@example.nl", "Jan {{ 7*7 }} Vries"),
    )
    rendered = renderer.render_acknowledgement("nl", message=message, terms=terms)
    assert rendered.subject == "Ontvangstbevestiging: {{ team.phone }} {% if true %}x{% endif %}"
    assert "49" not in rendered.text


def test_html_is_escaped_and_text_is_not(
    templates: Path, message: IncomingMessage, terms: ResponseTerms
) -> None:
    team = TeamSettings(name="Team <b>Wonen</b> & Co")
    renderer = TextRenderer(templates, team, OfficeHours().intervals())
    rendered = renderer.render_acknowledgement("nl", message=message, terms=terms)
    assert "Team &lt;b&gt;Wonen&lt;/b&gt; &amp; Co" in rendered.html
    assert "<b>Wonen</b>" not in rendered.html
    assert "Team <b>Wonen</b> & Co" in rendered.text


def test_html_is_accessible_and_plain(
    renderer: TextRenderer, message: IncomingMessage, terms: ResponseTerms
) -> None:
    nl = renderer.render_acknowledgement("nl", message=message, terms=terms).html
    assert '<html lang="nl">' in nl
    assert '<p lang="en">' in nl
    assert "<img" not in nl
    assert "<style" not in nl
    assert 'href="tel:0313000000"' in nl


def test_missing_language_falls_back_to_the_default_as_a_whole(
    renderer: TextRenderer, message: IncomingMessage, terms: ResponseTerms
) -> None:
    rendered = renderer.render_acknowledgement("de", message=message, terms=terms)
    assert rendered.language == "nl"
    assert rendered.subject.startswith("Ontvangstbevestiging")


def test_a_language_with_one_template_missing_falls_back(
    tmp_path: Path, message: IncomingMessage, terms: ResponseTerms
) -> None:
    # An administrator adds Turkish but forgets the HTML body: the whole text falls back.
    for name in ("acknowledgement.en.txt.j2", "subject.en.txt.j2", "office_hours.en.txt.j2"):
        shutil.copy(TEMPLATES / name, tmp_path / name.replace(".en.", ".tr."))
    renderer = _renderer(tmp_path)
    assert not renderer.has_language("tr")
    rendered = renderer.render_acknowledgement("tr", message=message, terms=terms)
    assert rendered.language == "nl"


def test_the_administrators_template_replaces_the_built_in_one_of_the_same_name(
    tmp_path: Path, message: IncomingMessage, terms: ResponseTerms
) -> None:
    (tmp_path / "acknowledgement.nl.txt.j2").write_text(
        "Dank u wel. Antwoord uiterlijk {{ answer_by }}.\n", encoding="utf-8"
    )
    rendered = _renderer(tmp_path).render_acknowledgement("nl", message=message, terms=terms)
    assert rendered.text == "Dank u wel. Antwoord uiterlijk vrijdag 4 december 2026.\n"
    assert "vrijdag 4 december 2026" in rendered.html  # the built-in HTML body, untouched


def test_missing_default_templates_are_a_template_problem(
    tmp_path: Path, message: IncomingMessage, terms: ResponseTerms
) -> None:
    renderer = TextRenderer(
        tmp_path, TeamSettings(), OfficeHours().intervals(), default_language="fy"
    )
    with pytest.raises(
        TemplateProblem, match=r"acknowledgement\.fy\.txt\.j2: template for the default"
    ):
        renderer.render_acknowledgement("fy", message=message, terms=terms)


def test_a_templates_folder_that_does_not_exist_is_a_template_problem(tmp_path: Path) -> None:
    with pytest.raises(TemplateProblem, match="templates folder not found"):
        _renderer(tmp_path / "nergens").check()


def test_a_syntax_error_names_file_and_line(
    templates: Path, message: IncomingMessage, terms: ResponseTerms
) -> None:
    path = templates / "acknowledgement.nl.txt.j2"
    path.write_text("Goedendag,\n\n{% if %}\n", encoding="utf-8")
    with pytest.raises(TemplateProblem) as caught:
        _renderer(templates).render_acknowledgement("nl", message=message, terms=terms)
    assert caught.value.file.endswith("acknowledgement.nl.txt.j2")
    assert caught.value.line == 3


def test_an_unknown_variable_names_file_and_line(
    templates: Path, message: IncomingMessage, terms: ResponseTerms
) -> None:
    path = templates / "acknowledgement.nl.html.j2"
    path.write_text("<p>\n{{ answer_bye }}</p>\n", encoding="utf-8")
    with pytest.raises(TemplateProblem, match="'answer_bye' is undefined") as caught:
        _renderer(templates).render_acknowledgement("nl", message=message, terms=terms)
    assert caught.value.file.endswith("acknowledgement.nl.html.j2")
    assert caught.value.line == 2


def test_the_sandbox_refuses_python_internals(
    templates: Path, message: IncomingMessage, terms: ResponseTerms
) -> None:
    path = templates / "acknowledgement.nl.txt.j2"
    path.write_text("{{ team.__class__.__mro__[1].__subclasses__() }}\n", encoding="utf-8")
    with pytest.raises(TemplateProblem):
        _renderer(templates).render_acknowledgement("nl", message=message, terms=terms)


def test_check_reports_the_first_broken_template(templates: Path) -> None:
    (templates / "acknowledgement.en.txt.j2").write_text("{% for %}", encoding="utf-8")
    with pytest.raises(TemplateProblem, match=r"acknowledgement\.en\.txt\.j2:1"):
        _renderer(templates).check()


def test_check_reports_an_unknown_filter(templates: Path) -> None:
    (templates / "subject.nl.txt.j2").write_text("{{ original_subject|shout }}", encoding="utf-8")
    with pytest.raises(TemplateProblem, match=r"subject\.nl\.txt\.j2:1: No filter named 'shout'"):
        _renderer(templates).check()


def test_check_sees_a_template_broken_after_an_earlier_check_passed(templates: Path) -> None:
    # Every mailbox of a configuration checks the same files; a reload checks them again.
    _renderer(templates).check()
    _renderer(templates).check()
    broken = templates / "acknowledgement.nl.html.j2"
    broken.write_text("{% if %}", encoding="utf-8")
    os.utime(broken, ns=(1, 1))  # a new time even within the file system's resolution
    with pytest.raises(TemplateProblem, match=r"acknowledgement\.nl\.html\.j2:1"):
        _renderer(templates).check()


def test_template_filters_for_admins(
    templates: Path, message: IncomingMessage, terms: ResponseTerms
) -> None:
    (templates / "acknowledgement.nl.txt.j2").write_text(
        "{{ answer_by_date|long_date }} | {{ ['a', 'b', 'c']|and_list }}\n", encoding="utf-8"
    )
    rendered = _renderer(templates).render_acknowledgement("nl", message=message, terms=terms)
    assert rendered.text == "vrijdag 4 december 2026 | a, b en c\n"


@pytest.mark.parametrize(
    ("hours", "nl", "en"),
    [
        (
            {},
            ["maandag tot en met vrijdag van 8.30 tot 17.00 uur"],
            ["Monday to Friday from 8:30 to 17:00"],
        ),
        (
            {
                day: ["08:30-12:30", "13:30-17:00"]
                for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
            },
            ["maandag tot en met vrijdag van 8.30 tot 12.30 uur en van 13.30 tot 17.00 uur"],
            ["Monday to Friday from 8:30 to 12:30 and from 13:30 to 17:00"],
        ),
        (
            {"wednesday": [], "friday": ["08:00-12:00"], "saturday": ["10:00-12:00"]},
            [
                "maandag, dinsdag en donderdag van 8.30 tot 17.00 uur",
                "vrijdag van 8.00 tot 12.00 uur",
                "zaterdag van 10.00 tot 12.00 uur",
            ],
            [
                "Monday, Tuesday and Thursday from 8:30 to 17:00",
                "Friday from 8:00 to 12:00",
                "Saturday from 10:00 to 12:00",
            ],
        ),
    ],
)
def test_office_hours_as_plain_phrases(
    templates: Path, hours: dict[str, list[str]], nl: list[str], en: list[str]
) -> None:
    renderer = _renderer(templates, **hours)
    assert renderer.office_hours_phrases("nl") == nl
    assert renderer.office_hours_phrases("en") == en


def test_several_office_hour_groups_become_a_list(
    templates: Path, message: IncomingMessage, terms: ResponseTerms
) -> None:
    renderer = _renderer(templates, friday=["08:30-12:00"])
    assert renderer.office_hours_sentence("nl") == (
        "maandag tot en met donderdag van 8.30 tot 17.00 uur en vrijdag van 8.30 tot 12.00 uur"
    )
    text = renderer.render_acknowledgement("nl", message=message, terms=terms).text
    assert "U kunt ons bellen op deze dagen en tijden:\n- maandag tot en met donderdag" in text
    assert "\n- vrijdag van 8.30 tot 12.00 uur\n" in text


def test_optional_team_details_appear_when_configured(
    templates: Path, message: IncomingMessage, terms: ResponseTerms
) -> None:
    team = TeamSettings(website="https://www.example.nl", address="Kerkstraat 1, Doesburg")
    rendered = TextRenderer(templates, team, OfficeHours().intervals()).render_acknowledgement(
        "nl", message=message, terms=terms
    )
    assert "Ons kantoor is op Kerkstraat 1, Doesburg." in rendered.text
    assert "Website: https://www.example.nl" in rendered.text


@pytest.mark.parametrize(
    ("phone", "uri"),
    [("0313 000 000", "tel:0313000000"), ("+31 (0)313-000000", "tel:+31313000000")],
)
def test_phone_links(phone: str, uri: str) -> None:
    assert phone_uri(phone) == uri
