"""`topcontact-mail explain`: how the service would treat raw messages, and why."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from topcontact_mail.adapters.texts import TemplateProblem, TextRenderer
from topcontact_mail.config import Settings
from topcontact_mail.domain.acknowledgement import (
    UnanswerableMessage,
    build_acknowledgement,
    choose_language,
    to_mime,
)
from topcontact_mail.domain.message import Address
from topcontact_mail.domain.mime import UnreadableMessage, parse_message
from topcontact_mail.domain.screening import ScreeningPolicy, screen
from topcontact_mail.entrypoints.commands.deadlines import parse_timestamp, terms_as_json
from topcontact_mail.entrypoints.common import EXIT_USAGE, config_option, fail, settings_or_exit

#: Files larger than this are not read whole: real mail this size is an attachment dump.
MAX_FILE_BYTES = 50 * 1024 * 1024


def explain_one(
    path: Path, raw: bytes, settings: Settings, renderer: TextRenderer, received: datetime
) -> dict[str, Any]:
    """The verdict on one raw message, and the acknowledgement when there would be one."""
    result: dict[str, Any] = {"file": str(path)}
    try:
        message = parse_message(raw, received)
    except UnreadableMessage as exc:
        return {**result, "acknowledge": False, "reason": "unreadable", "detail": str(exc)}
    policy = ScreeningPolicy.from_settings(settings.screening, settings.connection.shared_mailbox)
    verdict = screen(message, policy)
    result.update(
        acknowledge=verdict.acknowledge,
        reason=verdict.reason,
        detail=verdict.detail,
        rule=verdict.rule,
    )
    calendar = settings.calendar.build()
    terms = calendar.terms(received)
    result["terms"] = json.loads(terms_as_json(terms))
    if not verdict.acknowledge:
        return result
    ack_settings = settings.acknowledgement
    language = choose_language(
        message, ack_settings.language_rule, ack_settings.languages, ack_settings.default_language
    )
    subject, text, html = renderer.acknowledgement(message, terms, language)
    shared = Address(settings.connection.shared_mailbox, settings.team.name)
    try:
        ack = build_acknowledgement(
            message,
            subject=subject,
            text_body=text,
            html_body=html,
            language=language,
            own_domain=shared.domain,
        )
    except UnanswerableMessage as exc:
        return {**result, "acknowledge": False, "reason": "unanswerable", "detail": str(exc)}
    mime = to_mime(
        ack, sender=shared, message_id=f"<explain.preview@{shared.domain}>", date=terms.received
    )
    result["language"] = language
    result["acknowledgement"] = mime.decode("utf-8", "replace")
    return result


def _print_human(result: dict[str, Any]) -> None:
    verdict = "ACKNOWLEDGE" if result["acknowledge"] else "skip"
    click.echo(f"== {result['file']}: {verdict} ({result['reason']})")
    click.echo(f"   {result['detail']}")
    if "terms" in result:
        terms = result["terms"]
        click.echo(f"   reception day {terms['reception_day']}, answer by {terms['answer_by']}")
    if "acknowledgement" in result:
        click.echo(
            f"   acknowledgement ({result['language']}), as the MIME message the service intends:"
        )
        click.echo("")
        click.echo(result["acknowledgement"])


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file, one per line.")
@click.option(
    "--received", help="Treat the messages as received at this ISO 8601 moment (default: now)."
)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
def explain(
    config_path: Path | None, as_json: bool, received: str | None, files: tuple[Path, ...]
) -> None:
    """Screen raw RFC 5322 messages (FILE.eml) as if they had just arrived, and say why."""
    settings = settings_or_exit(config_path)
    calendar = settings.calendar.build()
    try:
        moment = (
            parse_timestamp(received, calendar)
            if received
            else calendar.local(datetime.now().astimezone())
        )
    except ValueError:
        fail(f"--received {received!r} is not an ISO 8601 timestamp")
    renderer = TextRenderer.from_settings(settings)
    try:
        renderer.check()
    except TemplateProblem as exc:
        fail(str(exc))
    unreadable_files = 0
    for path in files:
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            unreadable_files += 1
            result: dict[str, Any] = {
                "file": str(path),
                "acknowledge": False,
                "reason": "file_error",
                "detail": exc.strerror or str(exc),
            }
        else:
            if len(raw) > MAX_FILE_BYTES:
                raw = raw[:MAX_FILE_BYTES]
            result = explain_one(path, raw, settings, renderer, moment)
        if as_json:
            click.echo(json.dumps(result, ensure_ascii=False))
        else:
            _print_human(result)
    if unreadable_files:
        raise SystemExit(EXIT_USAGE)
