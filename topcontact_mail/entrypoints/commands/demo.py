"""`topcontact-mail demo`: the main job on the embedded sandbox Exchange server, end to end.

Starts the sandbox (a test double) with a shared mailbox and two colleagues,
delivers a realistic mix of tenant mail and machine mail, runs the real daemon
against it over HTTP, shows a live table, and leaves the acknowledgements as
.eml files. Then colleagues act as they would in Outlook (one replies from the
shared mailbox, one marks a flag complete), the tracking service looks, and
the demo ends with the `status` table and the HTML report of the demo month
in the output folder.
"""

from __future__ import annotations

import email.utils
import tempfile
import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import click
from pydantic import SecretStr
from rich.console import Console
from rich.live import Live
from rich.table import Table

from exchange_sandbox import GraphSandbox, SandboxHandle, serve_graph_tls, start_sandbox
from exchange_sandbox.store import Flag, NewItem
from topcontact_mail.adapters.sqlite_store import SqliteStore
from topcontact_mail.config import (
    CallbacksSettings,
    ConnectionSettings,
    EwsSettings,
    GraphSettings,
    ServiceSettings,
    Settings,
)
from topcontact_mail.domain.dates import clock, short_day
from topcontact_mail.domain.tracking import SchedulePolicy
from topcontact_mail.entrypoints.commands.status import print_status
from topcontact_mail.entrypoints.common import config_option, settings_or_exit
from topcontact_mail.entrypoints.mailboxes import CallbackParts, build_daemon
from topcontact_mail.entrypoints.wiring import (
    callback_source,
    open_calendars,
    open_mailbox,
)
from topcontact_mail.logs import configure_logging
from topcontact_mail.reports.figures import month_report
from topcontact_mail.reports.render import to_html
from topcontact_mail.reports.status import status
from topcontact_mail.reports.templating import report_environment

SHARED = "klantcontact@woonservice.example"
SERVICE_USER = "svc-topcontact"
SERVICE_PASSWORD = "Sandbox-Demo-2026!"  # noqa: S105  # the sandbox's documented demo password
#: The first mails are there when the daemon starts; these arrive while it runs.
LATE_ARRIVALS = ("03-en-repair.eml", "06-nl-tweede-bericht.eml", "08-out-of-office.eml")

REASONS_NL = {
    "person": "persoon",
    "conversation_already_acknowledged": "gesprek al bevestigd",
    "auto_submitted": "automatisch bericht",
    "delivery_report": "afleverbericht",
    "null_return_path": "afleverbericht",
    "bulk_precedence": "nieuwsbrief/bulk",
    "mailing_list": "mailinglijst",
    "auto_reply_subject": "afwezigheidsmelding",
    "auto_reply_header": "automatisch antwoord",
    "machine_sender": "systeemafzender",
    "callback_request": "terugbelverzoek",
}
#: A colleague books a callback for Jan de Vries by mail (docs/callbacks.md).
COLLEAGUE = "j.devries@woonservice.example"
BOOKER = "a.bakker@woonservice.example"
BOOKING = (
    f"From: Anouk Bakker <{BOOKER}>\r\nTo: {SHARED}\r\nSubject: Terugbelverzoek\r\n"
    "Message-ID: <demo-terugbelverzoek@ex01.woonservice.example>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    "Voor: Jan de Vries\r\nNaam: mevr. Jansen\r\nTelefoon: 06-12345678\r\n"
    "Onderwerp: lekkage badkamer\r\nNotities: belde vanmorgen, water loopt langs de muur\r\n"
    "Voorkeur: middag\r\n\r\nGroet,\r\nAnouk\r\n"
).encode()
#: The demo's staff, when the configuration names none.
DEMO_STAFF = [
    {"name": "Jan de Vries", "address": COLLEAGUE, "fallback": BOOKER},
    {"name": "Anouk Bakker", "address": BOOKER},
]


def _demo_mail() -> list[tuple[str, bytes]]:
    folder = resources.files("topcontact_mail.entrypoints") / "demo_mail"
    return sorted((f.name, f.read_bytes()) for f in folder.iterdir() if f.name.endswith(".eml"))


def _deliver(sandbox: SandboxHandle, raw: bytes) -> None:
    """As mail transport would; the sample's Date is its moment of reception."""
    date_header = email.message_from_bytes(raw).get("Date")
    received = email.utils.parsedate_to_datetime(date_header) if date_header else None
    sandbox.store.deliver(SHARED, raw, received=received)


def _table(sandbox: SandboxHandle, store: SqliteStore, settings: Settings) -> Table:
    calendar = settings.calendar.build()
    table = Table(title="Gedeelde mailbox klantcontact@woonservice.example")
    for column in ("Ontvangen", "Van", "Onderwerp", "Besluit", "Bevestiging", "Antwoord vóór"):
        table.add_column(column)
    # By Message-ID: Graph shows immutable ids, not the store's own.
    subjects = {item.message_id: item.subject for item in sandbox.store.items(SHARED, "inbox")}
    for record in store.records():
        received = calendar.local(record.received)
        state = {"sent": "verstuurd", "intent": "wordt verstuurd", "failed": "mislukt"}.get(
            record.ack_state, "-"
        )
        reason = REASONS_NL.get(record.reason, record.reason)
        table.add_row(
            f"{short_day(received.date())} {clock(received)}",
            record.sender or "?",
            (subjects.get(record.internet_message_id or "", "") or "")[:34],
            ("[green]bevestigen[/green] " if record.acknowledge else "[yellow]overslaan[/yellow] ")
            + f"({reason})",
            state,
            short_day(record.answer_by.date()) if record.needs_answer else "-",
        )
    return table


def _settings_for(
    sandbox: SandboxHandle, base: Settings, state_dir: Path, graph: GraphSandbox | None = None
) -> Settings:
    connection = ConnectionSettings(
        backend="ews",
        shared_mailbox=SHARED,
        ews=EwsSettings(
            service_endpoint=sandbox.ews_url,
            username=SERVICE_USER,
            password=SecretStr(SERVICE_PASSWORD),
            auth_type="ntlm",
            retry_wait_seconds=0.5,
        ),
    )
    if graph is not None:
        # The sandbox's own app registration (default.toml) and its throw-away TLS CA.
        app = graph.app.config.apps[0]
        connection = ConnectionSettings(
            backend="graph",
            shared_mailbox=SHARED,
            graph=GraphSettings(
                tenant_id=graph.app.config.tenant_id,
                client_id=app.client_id,
                client_secret=SecretStr(app.client_secret or ""),
                authority_url=graph.base_url,
                graph_url=graph.base_url,
                ca_file=graph.ca_file,
                poll_interval_seconds=1,
                retry_wait_seconds=0.5,
            ),
        )
    service = ServiceSettings(state_dir=state_dir, sync_interval_seconds=5, log_level="warning")
    # Escalations and the overview go to the sandbox's colleagues, unless the config names others.
    tracking = base.tracking.model_copy(
        update={
            "team_lead_address": base.tracking.team_lead_address or "j.devries@woonservice.example",
            "team_address": base.tracking.team_address or "a.bakker@woonservice.example",
        }
    )
    callbacks = base.callbacks
    if not callbacks.staff:
        callbacks = CallbacksSettings.model_validate(
            {**callbacks.model_dump(), "staff": DEMO_STAFF, "mailbox": None, "organiser": None}
        )
    return base.model_copy(
        update={
            "connection": connection,
            "service": service,
            "tracking": tracking,
            "callbacks": callbacks,
        }
    )


def _calendar_table(sandbox: SandboxHandle, settings: Settings) -> Table:
    """What Jan de Vries sees in Outlook: the callback in his calendar, the request in his inbox."""
    calendar = settings.calendar.build()
    table = Table(title=f"Agenda van Jan de Vries ({COLLEAGUE})")
    for column in ("Wanneer", "Onderwerp", "Status", "In zijn inbox"):
        table.add_column(column)
    requests = {
        i.subject
        for i in sandbox.store.items(COLLEAGUE, "inbox")
        if "Meeting.Request" in i.item_class
    }
    for item in reversed(sandbox.store.items(COLLEAGUE, "calendar")):
        if item.calendar is None:
            continue
        start, end = calendar.local(item.calendar.start), calendar.local(item.calendar.end)
        table.add_row(
            f"{short_day(start.date())} {clock(start)}-{clock(end)}",
            item.subject,
            {"Tentative": "voorlopig (nog niet geaccepteerd)"}.get(
                item.calendar.free_busy, item.calendar.free_busy
            ),
            "vergaderverzoek" if item.subject in requests else "-",
        )
    return table


def _write_acknowledgements(sandbox: SandboxHandle, output: Path) -> list[Path]:
    """The acknowledgements and the replies to a callback's booker (not the team's mails or staff's
    replies) as .eml files."""
    output.mkdir(parents=True, exist_ok=True)
    written = []
    sent = [
        (item, email.message_from_bytes(item.mime or b"").get("X-TopContact-Mail", ""))
        for item in sandbox.store.items(SHARED, "sentitems")
    ]
    kept = [
        (item, kind)
        for item, kind in sent
        if kind == "acknowledgement" or kind.startswith("callback")
    ]
    for number, (item, kind) in enumerate(kept, start=1):
        # The reply to a callback's booker is named for what it is.
        name = "terugbelverzoek" if kind.startswith("callback") else "bevestiging"
        path = output / f"{name}-{number:02d}.eml"
        path.write_bytes(item.mime or b"")
        written.append(path)
    return written


def _colleagues_act(sandbox: SandboxHandle) -> list[str]:
    """As staff in Outlook: a reply from the shared mailbox to the first tenant, and a flag
    marked complete (answered by phone) on the second. What was done, for the console."""
    done = []
    inbox = {item.message_id: item for item in sandbox.store.items(SHARED, "inbox")}
    now = datetime.now(UTC).replace(microsecond=0)
    first = inbox.get("<demo-01-lekkage@example.nl>")
    if first is not None:
        reply = (
            f"From: {SHARED}\r\nTo: {first.from_.email if first.from_ else ''}\r\n"
            f"Subject: RE: {first.subject}\r\nDate: {email.utils.format_datetime(now)}\r\n"
            f"In-Reply-To: {first.message_id}\r\nReferences: {first.message_id}\r\n\r\n"
            "Beste mevrouw El Amrani, de loodgieter komt morgen tussen 8 en 12 uur.\r\n"
        ).encode()
        sandbox.store.send(SHARED, NewItem(mime=reply))
        done.append(f"beantwoord vanuit de gedeelde mailbox: {first.subject}")
    second = inbox.get("<demo-02-huur@example.nl>")
    if second is not None:
        sandbox.store.update(
            second.id,
            lambda item: replace(item, flag=Flag("Complete", item.flag.start, item.flag.due, now)),
        )
        done.append(f"vlag op voltooid (telefonisch beantwoord): {second.subject}")
    return done


def _demo_month(store: SqliteStore, settings: Settings) -> str:
    """The month most demo mail was received in (local dates)."""
    calendar = settings.calendar.build()
    months = Counter(f"{calendar.local(r.received):%Y-%m}" for r in store.records())
    return months.most_common(1)[0][0] if months else f"{calendar.local(datetime.now(UTC)):%Y-%m}"


def _end_of_demo(
    console: Console, store: SqliteStore, settings: Settings, output: Path
) -> tuple[Path, str]:
    """The status table, and the HTML report of the demo month in the output folder."""
    calendar = settings.calendar.build()
    now = calendar.local(datetime.now(UTC))
    callbacks = callback_source(settings, store).tracked_callbacks()
    view = status(
        store.targets(),
        callbacks,
        now,
        calendar,
        SchedulePolicy(warn_workdays_before=settings.tracking.warn_workdays_before),
    )
    console.print()
    print_status(console, view)
    month = _demo_month(store, settings)
    report = month_report(store.records(), store.targets(), callbacks, month, calendar, now)
    path = output / f"rapport-{month}.html"
    output.mkdir(parents=True, exist_ok=True)
    path.write_text(
        to_html(report, report_environment(), team_name=settings.team.name), encoding="utf-8"
    )
    return path, month


@click.command()
@config_option
@click.option("--backend", type=click.Choice(["ews", "graph"]), default="ews", show_default=True)
@click.option(
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("demo-output"),
    show_default=True,
    help="Where the acknowledgements are left as .eml files.",
)
def demo(config_path: Path | None, backend: str, output: Path) -> None:
    """Run the service against the sandbox Exchange server (a test double) with sample mail.

    Needs the sandbox (`pip install ./sandbox`, as `make demo` does). Exit status
    0 when the demo ran, 2 for an invalid configuration.

    \b
    Example:
      topcontact-mail demo --backend graph --output /tmp/demo
    """
    base = settings_or_exit(config_path)
    configure_logging("warning")
    console = Console()
    if not console.is_terminal:
        console.width = 160  # a log file or pipe gets whole rows
    console.print(
        "[bold]topcontact-mail demo[/bold] — a sandbox Exchange server (test double) with a shared "
        "mailbox and two colleagues; the real daemon talks "
        + ("Microsoft Graph to it over HTTPS." if backend == "graph" else "EWS to it over HTTP.")
    )
    mail = _demo_mail()
    sandbox = start_sandbox()
    graph = serve_graph_tls(sandbox.server) if backend == "graph" else None
    with tempfile.TemporaryDirectory(prefix="topcontact-demo-") as state:
        settings = _settings_for(sandbox, base, Path(state), graph)
        for name, raw in mail:
            if name not in LATE_ARRIVALS:
                _deliver(sandbox, raw)
        sandbox.store.deliver(SHARED, BOOKING)
        mailbox = open_mailbox(settings)
        store = SqliteStore(Path(state) / "topcontact.sqlite3")
        calendars = open_calendars(settings)
        daemon = build_daemon(
            settings,
            mailbox,
            store,
            callbacks=CallbackParts(calendars, mailbox),
        )
        tracking = daemon.tracking
        assert tracking is not None
        worker = threading.Thread(target=daemon.run_forever, name="daemon")
        worker.start()
        late = [raw for name, raw in mail if name in LATE_ARRIVALS]
        try:
            with Live(
                _table(sandbox, store, settings), console=console, refresh_per_second=4
            ) as live:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    time.sleep(0.5)
                    if late and len(store.records()) >= len(mail) + 1 - len(late):
                        _deliver(sandbox, late.pop(0))
                    live.update(_table(sandbox, store, settings))
                    if not late and len(store.records()) == len(mail) + 1 and not daemon.pending():
                        break
        finally:
            daemon.stop.set()
            worker.join(timeout=30)
            calendars.close()
        console.print()
        console.print(_calendar_table(sandbox, settings))
        confirmations = [
            i.subject
            for i in sandbox.store.items(BOOKER, "inbox")
            if i.from_ is not None and i.from_.email.lower() == SHARED
        ]
        written = _write_acknowledgements(sandbox, output)
        try:
            console.print()
            for line in _colleagues_act(sandbox):
                console.print(f"Een collega heeft gewerkt: {line}.")
            tracked = tracking.run_once()  # the daemon would look within observe_interval
        finally:
            mailbox.close()
        summary: dict[str, Any] = {
            "berichten": len(store.records()),
            "bevestigd": sum(1 for r in store.records() if r.ack_state == "sent"),
            "overgeslagen": sum(1 for r in store.records() if not r.acknowledge),
            "gemarkeerd": sum(1 for r in store.records() if r.marked),
            "beantwoord": tracked.answered,
        }
        report, month = _end_of_demo(console, store, settings, output)
        store.close()
    if graph is not None:
        graph.stop()
    sandbox.stop()
    console.print()
    console.print(
        f"Klaar: {summary['berichten']} berichten, {summary['bevestigd']} ontvangstbevestigingen verstuurd, "
        f"{summary['overgeslagen']} overgeslagen (machines of al bevestigd), {summary['gemarkeerd']} gemarkeerd "
        "in Outlook (vlag met termijn, categorie, markering)."
    )
    console.print(
        f"De verstuurde berichten staan als .eml in {output}/ ({len(written)} bestanden)."
    )
    console.print(
        "Terugbelverzoek van Anouk Bakker: een vergaderverzoek in de agenda van Jan de Vries; "
        f"Anouk kreeg de bevestiging: {confirmations[0] if confirmations else '(geen)'}."
    )
    console.print(
        f"Bewaking van de termijnen: {summary['beantwoord']} berichten als beantwoord herkend; "
        f"het maandrapport van {month} staat in {report}."
    )
