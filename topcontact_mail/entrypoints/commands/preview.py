"""`topcontact-mail preview`: shows the acknowledgement as a tenant would get it, from sample data.

An administrator runs it after editing a template, before restarting the
service: a template error is reported with its file and line (exit status 2),
never as a traceback.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from topcontact_mail.adapters.texts import TemplateProblem, TextRenderer
from topcontact_mail.domain.message import Address, IncomingMessage
from topcontact_mail.entrypoints.commands.deadlines import parse_timestamp
from topcontact_mail.entrypoints.common import (
    config_option,
    fail,
    mailbox_option,
    one_mailbox,
    settings_or_exit,
)

#: The sample tenant message; its content is placeholder data, not a text for tenants.
SAMPLE_MESSAGE = IncomingMessage(
    subject="Lekkende kraan in de keuken",
    sender=Address("f.elamrani@example.nl", "Fatima El Amrani"),
    message_id="<sample-1@example.nl>",
    text_sample="Beste medewerker, de kraan in mijn keuken lekt al een week.",
)


@click.command()
@config_option
@mailbox_option("one")
@click.option(
    "--lang",
    "language",
    default=None,
    help="Language of the text (default: the configured default language).",
)
@click.option("--html", "as_html", is_flag=True, help="Show the HTML body instead of the text.")
@click.option(
    "--received",
    default=None,
    metavar="ISO",
    help="When the sample message arrived (default: now), e.g. 2026-11-27T10:00.",
)
@click.option(
    "--no-name",
    is_flag=True,
    help="Preview the neutral greeting (a sender without a plain person's name).",
)
def preview(
    config_path: Path | None,
    only: str | None,
    language: str | None,
    as_html: bool,
    received: str | None,
    no_name: bool,
) -> None:
    """Render the acknowledgement with sample data so you can check a template edit.

    It renders one mailbox's templates: with several [[mailboxes]], name it with --mailbox.

    Exit status 0 when it renders, 2 for a template error (with its file and
    line), an invalid configuration or an unknown mailbox.

    \b
    Examples:
      topcontact-mail preview --lang en --received 2026-12-24T16:30
      topcontact-mail preview --mailbox verhuur@example.nl --html
    """
    settings = one_mailbox(settings_or_exit(config_path), only)
    calendar = settings.calendar.build()
    if received is None:
        moment = datetime.now(tz=calendar.tz)
    else:
        try:
            moment = parse_timestamp(received, calendar)
        except ValueError:
            fail(f"--received {received!r} is not an ISO 8601 timestamp like 2026-11-27T10:00")
    lang = language or settings.acknowledgement.default_language
    renderer = TextRenderer.from_settings(settings)
    message = SAMPLE_MESSAGE
    if no_name:
        message = IncomingMessage(
            subject=SAMPLE_MESSAGE.subject,
            sender=Address(SAMPLE_MESSAGE.sender.email if SAMPLE_MESSAGE.sender else ""),
            message_id=SAMPLE_MESSAGE.message_id,
        )
    try:
        renderer.check()
        rendered = renderer.render_acknowledgement(
            lang, message=message, terms=calendar.terms(moment)
        )
    except TemplateProblem as problem:
        fail(f"template error: {problem}")
    if rendered.language != lang:
        click.echo(
            f"topcontact-mail: no complete templates for {lang!r}; showing {rendered.language!r}",
            err=True,
        )
    if as_html:
        click.echo(rendered.html, nl=False)
    else:
        click.echo(f"Subject: {rendered.subject}\n")
        click.echo(rendered.text, nl=False)
