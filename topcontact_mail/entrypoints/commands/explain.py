"""`topcontact-mail explain`: how the service would treat raw messages, and why."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from topcontact_mail.adapters.sqlite_store import SqliteStore, StoreError
from topcontact_mail.adapters.texts import TemplateProblem, TextRenderer
from topcontact_mail.config import Settings
from topcontact_mail.domain.acknowledgement import to_mime
from topcontact_mail.domain.message import Address
from topcontact_mail.domain.mime import UnreadableMessage, parse_message
from topcontact_mail.domain.screening import ScreeningHistory, ScreeningPolicy, screen
from topcontact_mail.domain.screening.reasons import Reason
from topcontact_mail.entrypoints.commands.deadlines import parse_timestamp, terms_as_json
from topcontact_mail.entrypoints.common import (
    EXIT_USAGE,
    config_option,
    fail,
    mailbox_option,
    one_mailbox,
    settings_or_exit,
)
from topcontact_mail.entrypoints.wiring import screening_policy, service_options, state_file
from topcontact_mail.ports import StateStore
from topcontact_mail.services.acknowledge import compose_acknowledgement, look_up_history

#: Files larger than this are not read whole: real mail this size is an attachment dump.
MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class ExplainContext:
    """What every file is explained against: the daemon's policy, texts, options and memory."""

    settings: Settings
    renderer: TextRenderer
    received: datetime
    #: The service's state file when there is one: then duplicates and limits count as for the daemon.
    store: StateStore | None = None

    @property
    def policy(self) -> ScreeningPolicy:
        return screening_policy(self.settings)


def explain_one(path: Path, raw: bytes, context: ExplainContext) -> dict[str, Any]:
    """The verdict on one raw message, and the acknowledgement when there would be one.

    The verdict comes from the same `screen` call with the same history the
    daemon would use; only the service's marker cannot be known from a file.
    """
    result: dict[str, Any] = {"file": str(path)}
    try:
        message = parse_message(raw, context.received)
    except UnreadableMessage as exc:
        return {**result, "acknowledge": False, "reason": Reason.UNREADABLE, "detail": str(exc)}
    settings = context.settings
    policy = context.policy
    calendar = settings.calendar.build()
    history = ScreeningHistory()
    if context.store is not None:
        local = calendar.local(context.received)
        history = look_up_history(
            context.store,
            message,
            None,
            local.replace(hour=0, minute=0, second=0, microsecond=0),
            context.received,
            policy.global_per_hour,
        )
    verdict = screen(message, policy, history)
    result.update(
        acknowledge=verdict.acknowledge,
        reason=verdict.reason,
        detail=verdict.detail,
        rule=verdict.rule,
    )
    terms = calendar.terms(context.received)
    result["terms"] = json.loads(terms_as_json(terms))
    if not verdict.acknowledge:
        return result
    shared = Address(settings.connection.shared_mailbox, settings.team.name)
    options = service_options(settings)
    ack = compose_acknowledgement(message, terms, context.renderer, options, shared.domain)
    mime = to_mime(
        ack, sender=shared, message_id=f"<explain.preview@{shared.domain}>", date=terms.received
    )
    result["language"] = ack.language
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
@mailbox_option("one")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file, one per line.")
@click.option(
    "--received", help="Treat the messages as received at this ISO 8601 moment (default: now)."
)
@click.option(
    "--history/--no-history",
    default=True,
    show_default=True,
    help="Weigh what the service already did (its state file, read only), as the daemon would.",
)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
def explain(
    config_path: Path | None,
    only: str | None,
    as_json: bool,
    received: str | None,
    history: bool,
    files: tuple[Path, ...],
) -> None:
    """Screen raw RFC 5322 messages (FILE.eml) as if they had just arrived, and say why.

    The verdict is the daemon's: the same rules, and (with --history, the default)
    the same memory of earlier messages from the service's state file. It screens as
    one mailbox does (its rules, templates and state): with several [[mailboxes]],
    name it with --mailbox.

    Exit status 0 when every file was screened, 2 when a file could not be read (the
    others are still screened), the configuration is invalid or the mailbox unknown.

    \b
    Examples:
      topcontact-mail explain --json --received 2026-11-27T10:00 mail.eml
      topcontact-mail explain --mailbox verhuur@example.nl mail.eml
    """
    settings = one_mailbox(settings_or_exit(config_path), only)
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
    store = None
    if history and state_file(settings).is_file():
        try:
            store = SqliteStore.read_only(state_file(settings))
        except StoreError as exc:
            fail(str(exc))
    context = ExplainContext(settings, renderer, moment, store)
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
                "reason": Reason.FILE_ERROR,
                "detail": exc.strerror or str(exc),
            }
        else:
            if len(raw) > MAX_FILE_BYTES:
                raw = raw[:MAX_FILE_BYTES]
            result = explain_one(path, raw, context)
        if as_json:
            click.echo(json.dumps(result, ensure_ascii=False))
        else:
            _print_human(result)
    if unreadable_files:
        raise SystemExit(EXIT_USAGE)
