"""`topcontact-mail callback book|list|cancel|form`: callbacks from the command line.

`book` does what a booking mail does, at once: checks the colleague, the
phone number and the subject, chooses the slot from the colleague's free/busy,
creates the meeting request exactly once and prints the slot. `list` shows
the callbacks the service keeps, `cancel` cancels one's meeting in Outlook,
`form` prints the booking form (the Outlook Quick Part). Exit status 0 when
done, 1 when the meeting could not be confirmed (the daemon verifies it) or no
slot was found, 2 for a request that cannot be booked as given.
"""

from __future__ import annotations

import json
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import click

from topcontact_mail.adapters.sqlite_store import StoreError
from topcontact_mail.adapters.texts import TextRenderer
from topcontact_mail.config import Settings
from topcontact_mail.domain.dates import clock, short_day
from topcontact_mail.entrypoints.common import (
    EXIT_USAGE,
    Problem,
    config_option,
    every_mailbox,
    exit_with,
    fail,
    mailbox_option,
    one_mailbox,
    settings_or_exit,
)
from topcontact_mail.entrypoints.wiring import (
    build_callbacks,
    open_calendars,
    open_mailbox,
    open_store,
)
from topcontact_mail.logs import configure_logging
from topcontact_mail.ports import MailboxUnavailable
from topcontact_mail.ports.calendar import CalendarUnavailable, ServiceStore
from topcontact_mail.services.callbacks import BookingResult, CallbackService

STATE_NL = {
    "planned": "ingepland",
    "done": "gebeld",
    "missed": "gemist",
    "failed": "niet gelukt",
    "rejected": "formulier onvolledig",
    "cancelled": "geannuleerd",
    "refused": "geen terugbelverzoek",
    "dry_run": "proefdraai",
}
#: What `list` shows without --all.
OPEN = ("planned", "missed", "failed")


@click.group()
def callback() -> None:
    """Callbacks: book, list and cancel meeting requests for promised call-backs."""


def _open_store(settings: Settings) -> ServiceStore | Problem:
    """The state store; the shared PostgreSQL one without the mailbox's lease, so the command
    works beside the running daemon as it does beside the SQLite file (`open_unleased_store`)."""
    try:
        if settings.service.store == "postgresql":
            from topcontact_mail.entrypoints.shared_store import open_unleased_store

            return open_unleased_store(settings)
        return open_store(settings)
    except StoreError as exc:
        return Problem(str(exc))


def _store(settings: Settings) -> ServiceStore:
    store = _open_store(settings)
    if isinstance(store, Problem):
        fail(store.text)
    return store


def _service(settings: Settings, store: ServiceStore) -> CallbackService:
    try:
        mailbox = open_mailbox(settings)
    except MailboxUnavailable as exc:
        click.echo(f"topcontact-mail: cannot reach the mailbox: {exc}", err=True)
        raise SystemExit(1) from None
    return build_callbacks(settings, mailbox, store, open_calendars(settings))


@callback.command()
@config_option
@mailbox_option("one")
@click.option("--for", "colleague", required=True, help="Who calls back: a name or an address.")
@click.option("--name", "tenant_name", required=True, help="The tenant's name, as given.")
@click.option("--phone", required=True, help="The number to call.")
@click.option("--subject", required=True, help="What the call is about.")
@click.option("--notes", default="", help="Anything the colleague should know.")
@click.option(
    "--preference", default="", help='When the tenant wants a call ("middag", "na 14:00").'
)
@click.option("--booked-by", default="", help="Your address: changes later are mailed there.")
@click.option("--json", "as_json", is_flag=True, help="One JSON line instead of text.")
def book(
    config_path: Path | None,
    only: str | None,
    colleague: str,
    tenant_name: str,
    phone: str,
    subject: str,
    notes: str,
    preference: str,
    booked_by: str,
    as_json: bool,
) -> None:
    """Book a callback as a meeting request in the colleague's calendar; prints the slot.

    Exit status 0 when the meeting is in the calendar, 1 when no slot was found
    or the calendars cannot be reached (nothing booked, or the service confirms
    it later), 2 when the request must be fixed first (each problem is named),
    the configuration is invalid or the mailbox unknown. The callback is kept in
    one mailbox's state: with several [[mailboxes]], name it with --mailbox.

    \b
    Examples:
      topcontact-mail callback book --for "Jan de Vries" --name "mevr. Jansen" \\
        --phone "06 12345678" --subject "lekkage badkamer" --booked-by a.bakker@corp.example
      topcontact-mail callback book --mailbox verhuur@example.nl --for "Jan de Vries" ...
    """
    settings = one_mailbox(settings_or_exit(config_path, connects=True), only)
    configure_logging("error")
    store = _store(settings)
    service = _service(settings, store)
    try:
        result = service.book(
            colleague=colleague,
            tenant_name=tenant_name,
            phone=phone,
            subject=subject,
            notes=notes,
            preference=preference,
            booked_by=booked_by,
        )
    except (MailboxUnavailable, CalendarUnavailable) as exc:
        click.echo(f"topcontact-mail: the calendars cannot be reached: {exc}", err=True)
        raise SystemExit(1) from None
    finally:
        service.calendars.close()
        service.mailbox.close()
        store.close()
    _report(result, as_json)


def _report(result: BookingResult, as_json: bool) -> None:
    problems = [p for p in result.booking.problems if p.blocking]
    plan = result.plan
    slot = plan.choice.slot if plan is not None else None
    data: dict[str, Any] = {
        "id": result.callback.id if result.callback else None,
        "state": result.callback.state if result.callback else "rejected",
        "in_calendar": result.sent,
        "colleague": plan.member.display_name if plan else None,
        "colleague_address": plan.member.address if plan else None,
        "slot_start": slot.start.isoformat() if slot else None,
        "slot_end": slot.end.isoformat() if slot else None,
        "callback_by": plan.choice.callback_by.isoformat() if plan else None,
        "at_risk": plan.choice.at_risk if plan else None,
        "sentence": result.sentence,
        "reasons": [r.text for r in plan.choice.reasons] if plan else [],
        "problems": [{"code": p.code, "text": p.text} for p in problems],
    }
    if plan is not None and plan.unreadable:
        data["problems"].append({"code": "calendar_unreadable", "text": plan.unreadable})
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
    elif data["problems"]:
        click.echo("Niet ingepland. Dit moet anders:", err=True)
        for problem in data["problems"]:
            click.echo(f"- {problem['text']}", err=True)
    elif slot is None:
        click.echo("Geen moment gevonden. Neem zelf contact op met de klant.")
        for reason in data["reasons"]:
            click.echo(reason)
    else:
        click.echo(f"Ingepland: {result.sentence}")
        for reason in data["reasons"]:
            click.echo(reason)
        click.echo(f"Kenmerk: {data['id']}")
        if not result.sent:
            click.echo("Het vergaderverzoek is nog niet bevestigd; de dienst controleert het.")
    if data["problems"]:
        raise SystemExit(EXIT_USAGE)
    if slot is None or not result.sent:
        raise SystemExit(1)


@callback.command(name="list")
@config_option
@mailbox_option("every")
@click.option("--all", "everything", is_flag=True, help="Also closed callbacks.")
@click.option("--json", "as_json", is_flag=True, help="One JSON line per callback.")
def list_callbacks(
    config_path: Path | None, only: str | None, everything: bool, as_json: bool
) -> None:
    """The callbacks the service keeps: open ones (planned, missed, failed), or all.

    With [[mailboxes]]: every mailbox's, each under its address (--json: each line with a
    "mailbox" key), unless --mailbox names one.

    Exit status 0, 2 when the configuration or a state cannot be used.

    \b
    Examples:
      topcontact-mail callback list --all --json | jq 'select(.state == "missed")'
      topcontact-mail callback list --mailbox verhuur@example.nl
    """
    chosen = every_mailbox(settings_or_exit(config_path), only)
    statuses: list[int] = []
    for one in chosen.mailboxes:
        store = _open_store(one)
        if isinstance(store, Problem):
            if not as_json:
                chosen.heading(one)
            statuses.append(chosen.problem(one, store))
            continue
        try:
            rows = [_row(store, c.id) for c in store.callbacks(None if everything else OPEN)]
        finally:
            store.close()
        if as_json:
            for row in rows:
                click.echo(chosen.json_line(one, row))
            continue
        chosen.heading(one)
        if not rows:
            click.echo("Geen terugbelverzoeken.")
            continue
        tz = one.calendar.build().tz
        for row in rows:
            when = _local(row["slot_start"], tz) if row["slot_start"] else None
            shown = f"{short_day(when.date())} {clock(when)}" if when else "-"
            click.echo(
                f"{row['id']}  {STATE_NL.get(row['state'], row['state']):<20} "
                f"{shown:<22} {row['colleague'] or '-':<20} {row['tenant'] or '-'}"
            )
    exit_with(statuses)


def _row(store: ServiceStore, callback_id: str) -> dict[str, Any]:
    callback = store.get_callback(callback_id)
    assert callback is not None
    live = [m for m in store.meetings(callback_id) if m.state in ("intent", "sent")]
    meeting = live[-1] if live else None
    return {
        "id": callback.id,
        "state": callback.state,
        "source": callback.source,
        "booked_by": callback.booked_by,
        "booked_at": callback.booked_at.isoformat(),
        "callback_by": callback.callback_by.isoformat() if callback.callback_by else None,
        "colleague": meeting.colleague_name if meeting else None,
        "slot_start": meeting.slot_start.isoformat() if meeting else None,
        "in_calendar": bool(meeting and meeting.state == "sent"),
        "tenant": callback.details.get("tenant_name"),
        "problems": list(callback.problems),
        "rebookings": callback.rebookings,
    }


def _local(moment: str, tz: tzinfo) -> datetime:
    return datetime.fromisoformat(moment).astimezone(tz)


@callback.command()
@config_option
@mailbox_option("one")
@click.argument("callback_id")
def cancel(config_path: Path | None, only: str | None, callback_id: str) -> None:
    """Cancel a callback: its meeting is cancelled in the colleague's calendar.

    The callback is looked up in one mailbox's state: with several [[mailboxes]], name
    it with --mailbox (`callback list` shows whose it is).

    Exit status 0 when cancelled, 1 when there is no such open callback or the
    calendars cannot be reached, 2 for an invalid configuration or an unknown mailbox.

    \b
    Examples:
      topcontact-mail callback cancel cb-bae6a396
      topcontact-mail callback cancel --mailbox verhuur@example.nl cb-bae6a396
    """
    settings = one_mailbox(settings_or_exit(config_path, connects=True), only)
    configure_logging("error")
    store = _store(settings)
    service = _service(settings, store)
    try:
        done, what = service.cancel(callback_id)
    except (MailboxUnavailable, CalendarUnavailable) as exc:
        click.echo(f"topcontact-mail: the calendars cannot be reached: {exc}", err=True)
        raise SystemExit(1) from None
    finally:
        service.calendars.close()
        service.mailbox.close()
        store.close()
    click.echo(what)
    if not done:
        raise SystemExit(1)


@callback.command()
@config_option
@mailbox_option("one")
def form(config_path: Path | None, only: str | None) -> None:
    """Print the booking form, to offer as an Outlook Quick Part.

    The form is one mailbox's template: with several [[mailboxes]], name it with --mailbox.

    Exit status 0, 2 for an invalid configuration or template, or an unknown mailbox.

    \b
    Examples:
      topcontact-mail callback form > terugbelverzoek.txt
      topcontact-mail callback form --mailbox verhuur@example.nl
    """
    settings = one_mailbox(settings_or_exit(config_path), only)
    rendered = TextRenderer.from_settings(settings).callback_text("form", {})
    click.echo(rendered.text, nl=False)
