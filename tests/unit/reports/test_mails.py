"""The tracking mails read well, in local time, with every list and an empty section said plainly."""

from __future__ import annotations

from datetime import UTC

import pytest
from jinja2 import FileSystemLoader, StrictUndefined, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from topcontact_mail.adapters.texts import TextRenderer
from topcontact_mail.config import TeamSettings
from topcontact_mail.domain.tracking import daily_overview, escalations_due, warnings_due
from topcontact_mail.reports.mails import (
    MessageDetails,
    escalation_context,
    overview_context,
    render_mail,
    warning_context,
)
from topcontact_mail.reports.templating import BUILT_IN_TEMPLATES, report_environment

from ..tracking.support import CALENDAR, at, target
from ..tracking.test_overview import CALLBACKS, TARGETS

ENV = report_environment()
MONDAY = at("ma 7 dec 2026 08:30")
DETAILS = {
    "overdue": MessageDetails(
        "Lekkage\r\nBcc: evil@example.org", "Anneke de Bruin", "Jan de Vries", "https://x.example/1"
    ),
    "today-early": MessageDetails("Huur", "P. Jansen"),
}


def test_the_escalation_lists_the_overdue_messages_for_the_team_lead() -> None:
    due = escalations_due(TARGETS, {}, MONDAY, CALENDAR)

    mail = render_mail(ENV, "escalation", escalation_context(due, DETAILS, MONDAY, CALENDAR))

    assert mail.subject == "[Top Contact] Termijn voorbij: 1 e-mail heeft nog geen antwoord"
    assert "Beste teamleider," in mail.text
    assert "- Lekkage Bcc: evil@example.org\n" in mail.text  # one harmless line
    assert "Van: Anneke de Bruin" in mail.text
    assert "Ontvangen: ma 23 nov 2026 10:00" in mail.text
    assert "Termijn: ma 30 nov 2026 17:00 (5 werkdagen geleden)" in mail.text
    assert "Opgepakt door: Jan de Vries" in mail.text
    assert "Openen: https://x.example/1" in mail.text
    assert "krijgt? Lukt dat niet, laat de huurder dan weten" in mail.text


def test_the_warning_lists_what_is_due_with_its_time() -> None:
    due = warnings_due(TARGETS, set(), MONDAY, CALENDAR)

    mail = render_mail(ENV, "warning", warning_context(due, DETAILS, MONDAY, CALENDAR))

    assert mail.subject == (
        "[Top Contact] Antwoord nodig: 2 e-mails, uiterlijk maandag 7 december 2026"
    )
    assert "Deze 2 e-mails moeten snel een antwoord krijgen." in mail.text
    assert "Antwoord uiterlijk: ma 7 dec 2026 17:00" in mail.text
    assert "Nog door niemand opgepakt" in mail.text
    assert "(geen onderwerp)" in mail.text


def test_times_are_local_even_when_now_is_utc() -> None:
    due = [target("m", "vr 26 jun 2026 10:00")]  # due vr 3 jul 2026 17:00 summer time
    now = at("vr 3 jul 2026 08:30").astimezone(UTC)

    mail = render_mail(ENV, "warning", warning_context(due, {}, now, CALENDAR))

    assert "Antwoord uiterlijk: vr 3 jul 2026 17:00" in mail.text
    assert "15:00" not in mail.text


def test_the_overview_has_every_section() -> None:
    overview = daily_overview(TARGETS, CALLBACKS, MONDAY, CALENDAR)

    mail = render_mail(
        ENV,
        "overview",
        overview_context(overview, DETAILS, MONDAY, CALENDAR, team_name="Team Klantcontact"),
    )

    assert mail.subject == (
        "[Top Contact] Overzicht maandag 7 december 2026: 1 te laat, 2 vandaag, 2 keer terugbellen"
    )
    for heading in (
        "TERMIJN VOORBIJ (1)",
        "VANDAAG BEANTWOORDEN, UITERLIJK 17:00 UUR (2)",
        "MORGEN BEANTWOORDEN (1)",
        "TERUGBELLEN VANDAAG (2)",
        "TERUGBELLEN GEMIST (1)",
    ):
        assert heading in mail.text
    assert "- ma 7 dec 2026 09:00: Jan de Vries belt de huurder." in mail.text
    assert "- vr 4 dec 2026 15:00: Jan de Vries zou de huurder bellen." in mail.text
    assert "voor Team Klantcontact." in mail.text


def test_on_friday_the_overview_names_the_next_workday() -> None:
    friday = at("vr 4 dec 2026 08:30")
    overview = daily_overview(TARGETS, [], friday, CALENDAR)

    mail = render_mail(ENV, "overview", overview_context(overview, {}, friday, CALENDAR))

    assert "VOLGENDE WERKDAG BEANTWOORDEN (maandag 7 december 2026)" in mail.text


def test_a_quiet_day_says_so() -> None:
    overview = daily_overview([], [], MONDAY, CALENDAR)

    mail = render_mail(ENV, "overview", overview_context(overview, {}, MONDAY, CALENDAR))

    assert mail.text.count("Geen.") == 5
    assert "Geen. Goed zo!" in mail.text


def test_a_missing_variable_is_an_error_not_a_gap() -> None:
    with pytest.raises(UndefinedError):
        render_mail(ENV, "warning", {"messages": []})


def test_the_built_in_templates_still_compile_for_the_tenant_texts() -> None:
    # TextRenderer.check() compiles every built-in template at start-up: ours use no filter
    # of their own, so they must compile in its environment too.
    TextRenderer(None, TeamSettings(), CALENDAR.office_hours).check()


def test_the_mails_need_nothing_from_the_environment() -> None:
    plain = SandboxedEnvironment(
        loader=FileSystemLoader(BUILT_IN_TEMPLATES),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    context = overview_context(
        daily_overview(TARGETS, CALLBACKS, MONDAY, CALENDAR), DETAILS, MONDAY, CALENDAR
    )

    assert render_mail(plain, "overview", context) == render_mail(ENV, "overview", context)
