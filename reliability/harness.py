"""The proving ground's tools: a sandbox site, daemon instances, mail, counts and result rows.

A *site* is one in-process sandbox Exchange (a test double; EWS, and Graph over HTTPS when
the backend is Graph) with the proving ground's mailboxes (`sandbox.toml`). An *instance*
is one configuration of the real service, run as `python -m topcontact_mail run [--once]`
processes whose stderr (the JSON log) goes to a file. The checks read the sandbox's
mailboxes and the instance's state, never the service's own account of itself.

The state is SQLite, or with `run.py --store postgres` (`use_store`) PostgreSQL: each
site a schema of its own in a throw-away server (`tests/pg_server.py`; the one
`$TOPCONTACT_TEST_POSTGRES_DSN` names when set, as `run.py` sets it for its workers),
and every instance `store = "postgresql"`, so `run` works its mailbox under the lease.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import os
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from exchange_sandbox import (  # noqa: E402
    GraphSandbox,
    Item,
    SandboxHandle,
    load_config,
    serve_graph_tls,
    start_sandbox,
)
from tests.integration.conftest import write_config  # noqa: E402
from tests.pg_server import PostgresServer  # noqa: E402

AMS = ZoneInfo("Europe/Amsterdam")
SHARED = "klantcontact@woonservice.example"
SECOND = "verhuur@woonservice.example"
ADMIN = "beheer@woonservice.example"
SANDBOX_CONFIG = Path(__file__).with_name("sandbox.toml")
FIXTURES = ROOT / "tests" / "fixtures" / "mail"
MARKER_KEY = "TopContactMailDecision"
REF_KEY = "TopContactMailAckRef"  # the MAPI property every acknowledgement carries
#: No cap for runs that measure something else than the caps (a backlog exceeds 200 an hour).
NO_CAP = "[screening]\nglobal_per_hour = 1000000\nper_sender_per_day = 1000\n"
#: Where the instances keep their state: `run.py --store`.
STORES = ("sqlite", "postgres")
_STORE: ContextVar[str] = ContextVar("store", default="sqlite")


def use_store(store: str) -> None:
    """The state store of the sites made from here on (the scenarios make theirs unasked)."""
    if store not in STORES:
        raise ValueError(f"unknown store {store!r}; one of {', '.join(STORES)}")
    _STORE.set(store)


class Database:
    """A site's PostgreSQL: a schema of its own, in a server started here or named by
    `$TOPCONTACT_TEST_POSTGRES_DSN` (`PostgresUnavailable` says why there is none)."""

    def __init__(self) -> None:
        self.server = PostgresServer.start()
        self.schema = f"proving_{uuid.uuid4().hex[:16]}"

    def toml(self) -> str:
        return self.server.toml(self.schema)

    def query(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(self.server.dsn(), row_factory=dict_row, autocommit=True) as conn:
            cursor = conn.execute(sql, params)  # type: ignore[arg-type]
            return list(cursor.fetchall()) if cursor.description is not None else []

    def tables_with_mailbox(self) -> list[str]:
        rows = self.query(
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = %s AND column_name = 'mailbox'",
            self.schema,
        )
        return sorted(str(r["table_name"]) for r in rows)

    def close(self) -> None:
        try:
            self.server.drop_schema(self.schema)
        finally:
            self.server.stop()  # only a server started here; an existing one stays


@dataclass
class Row:
    """One figure of one scenario on one backend, against its goal."""

    scenario: str
    backend: str
    figure: str
    value: Any
    goal: str
    held: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "backend": self.backend,
            "figure": self.figure,
            "value": self.value,
            "goal": self.goal,
            "held": self.held,
        }


@dataclass
class Rows:
    """The rows of one scenario on one backend, added as they are measured."""

    scenario: str
    backend: str
    rows: list[Row] = field(default_factory=list)

    def zero(self, figure: str, value: int) -> None:
        self.rows.append(Row(self.scenario, self.backend, figure, value, "0", value == 0))

    def at_most(self, figure: str, value: float, limit: float) -> None:
        self.rows.append(
            Row(self.scenario, self.backend, figure, value, f"<= {limit:g}", value <= limit)
        )

    def at_least(self, figure: str, value: float, limit: float) -> None:
        self.rows.append(
            Row(self.scenario, self.backend, figure, value, f">= {limit:g}", value >= limit)
        )

    def exactly(self, figure: str, value: Any, expected: Any) -> None:
        self.rows.append(
            Row(self.scenario, self.backend, figure, value, f"= {expected}", value == expected)
        )

    def check(self, figure: str, value: Any, goal: str, held: bool) -> None:
        self.rows.append(Row(self.scenario, self.backend, figure, value, goal, held))

    def info(self, figure: str, value: Any) -> None:
        """A figure reported without a goal (time to drain, counts of what happened)."""
        self.rows.append(Row(self.scenario, self.backend, figure, value, "(reported)", True))


def quiet(server: Any) -> None:
    """A killed daemon resets its connections: not worth a traceback of the sandbox's server."""
    report = server.handle_error

    def handle_error(request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError | TimeoutError | ssl.SSLError):
            report(request, client_address)

    server.handle_error = handle_error


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Site:
    """One sandbox Exchange for one backend, in this process, with its state on disk."""

    def __init__(self, backend: str, workdir: Path, store: str | None = None) -> None:
        self.backend = backend
        self.workdir = workdir
        self.store_kind = store or _STORE.get()
        workdir.mkdir(parents=True, exist_ok=True)
        #: The instances' PostgreSQL (`store_kind` "postgres"), made before anything to stop.
        self.database = Database() if self.store_kind == "postgres" else None
        self.handle: SandboxHandle = start_sandbox(
            config=load_config(SANDBOX_CONFIG), state_dir=workdir / "sandbox"
        )
        self.graph: GraphSandbox | None = None
        if backend == "graph":
            self.graph = serve_graph_tls(self.handle.server, tls_dir=workdir / "tls")
        quiet(self.handle.server)
        if self.graph is not None:
            quiet(self.graph._server)  # the one way to its socketserver
        self.instances: list[Instance] = []
        self.tokens: list[str] = []  # every access token the token endpoint issued
        if self.graph is not None:
            self._capture_tokens()

    def _capture_tokens(self) -> None:
        assert self.graph is not None
        tokens = self.graph.app.tokens
        issue = tokens.token

        def capturing(tenant: str, form_body: bytes, token_url: str) -> tuple[int, dict[str, Any]]:
            status, body = issue(tenant, form_body, token_url)
            if "access_token" in body:
                self.tokens.append(str(body["access_token"]))
            return status, body

        tokens.token = capturing  # type: ignore[method-assign]  # the harness listens in

    @property
    def store(self) -> Any:
        return self.handle.store

    def submission(self, delay_ms: int, jitter_ms: int, in_transit: str = "outbox") -> None:
        self.store.submissions.change(
            {"delay_ms": delay_ms, "jitter_ms": jitter_ms, "in_transit": in_transit}
        )

    def faults(self, spec: str) -> None:
        self.handle.set_faults(spec)

    def deliver(self, raw: bytes, mailbox: str = SHARED, received: datetime | None = None) -> Item:
        return self.store.deliver(mailbox, raw, received=received)

    def flush_transport(self) -> None:
        """Everything still in transit reaches Sent Items and recipients now (for counting)."""
        self.store.run_due_submissions(everything=True)

    def instance(self, name: str = "main", mailbox: str = SHARED, **config: Any) -> Instance:
        instance = Instance(self, name, mailbox)
        instance.configure(**config)
        self.instances.append(instance)
        return instance

    def secrets(self) -> dict[str, str]:
        """The configured secrets by name (the captured tokens are in `tokens`)."""
        found = {"ews password": self.handle.server.config.users[0].password}
        if self.graph is not None:
            found["graph client secret"] = self.graph.app.config.apps[0].client_secret or ""
        return {k: v for k, v in found.items() if v}

    def stop(self) -> None:
        for instance in self.instances:
            instance.kill()
        if self.graph is not None:
            self.graph.stop()
        self.handle.stop()
        if self.database is not None:
            self.database.close()


class Instance:
    """One configured service instance: its config file, state folder, log and processes."""

    def __init__(self, site: Site, name: str, mailbox: str) -> None:
        self.site = site
        self.name = name
        self.mailbox = mailbox
        self.dir = site.workdir / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.config_file = self.dir / "topcontact.toml"
        self.state_dir = self.dir / "state"
        self.log_file = self.dir / "daemon.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.exit_codes: list[int] = []  # of daemons stopped and of finished drains
        self.once_runs: list[int] = []  # every `run --once`, a drain's early exits included

    def configure(
        self,
        *,
        extra: str = NO_CAP,
        in_doubt: float = 15,
        timeout: float | None = None,
        small_batches: bool = False,
        service: dict[str, object] | None = None,
        send_rate: int = 0,
    ) -> None:
        database = self.site.database
        if database is not None:
            # `run` works the mailbox under its lease; a restart (same host name) takes it at once.
            service = {**(service or {}), "store": "postgresql"}
            extra = extra + "\n" + database.toml()
        write_config(
            self.config_file,
            self.site.backend,
            self.site.handle,
            self.state_dir,
            graph=self.site.graph,
            extra=extra,
            in_doubt=in_doubt,
            timeout=timeout,
            small_batches=small_batches,
            shared=self.mailbox,
            service_keys=service,
            send_rate=send_rate,
        )

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "topcontact_mail", *args, "--config", str(self.config_file)]

    def start(self) -> subprocess.Popen[bytes]:
        with self.log_file.open("ab") as log:  # a file: a full pipe would block the daemon
            self.process = subprocess.Popen(
                self.command("run"), stdout=subprocess.DEVNULL, stderr=log, cwd=self.dir
            )
        return self.process

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM (the message in hand finishes); the exit status."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                self.exit_codes.append(-9)
                return -9
        code = int(self.process.returncode)
        self.exit_codes.append(code)
        self.process = None
        return code

    def run_once(self, timeout: float = 600) -> int:
        with self.log_file.open("ab") as log:
            result = subprocess.run(
                self.command("run", "--once"),
                stdout=subprocess.DEVNULL,
                stderr=log,
                timeout=timeout,
                check=False,
                cwd=self.dir,
            )
        self.once_runs.append(result.returncode)
        return result.returncode

    def drain(self, attempts: int = 4, pause: float = 5.0) -> int:
        """`run --once` until it reports nothing pending (a drain may stop inside a window),
        run again `pause` seconds after an exit 1, as a scheduler would run it later: four
        runs back to back on a loaded machine can all fall inside one passing outage (a
        password refused for six seconds), and exit 1 is then the right answer each time."""
        code = 1
        for attempt in range(attempts):
            if attempt:
                time.sleep(pause)
            code = self.run_once()
            if code == 0:
                break
        self.exit_codes.append(code)
        return code

    def delete_state(self) -> None:
        """The state is lost (SQLite: the file; PostgreSQL: the mailbox's rows, its lease kept)."""
        database = self.site.database
        if database is not None:
            for table in database.tables_with_mailbox():
                if table not in ("leases", "instances"):
                    database.query(
                        f'DELETE FROM "{database.schema}"."{table}" WHERE mailbox = %s',
                        self.mailbox.lower(),
                    )
            return
        for path in self.state_dir.glob("topcontact.sqlite3*"):
            path.unlink(missing_ok=True)

    def log_text(self) -> str:
        return self.log_file.read_text("utf-8", "replace") if self.log_file.exists() else ""

    def records(self) -> dict[str, dict[str, Any]]:
        """The state store's message records by item id (empty when there is no state yet)."""
        database = self.site.database
        if database is not None:
            try:
                rows = database.query(
                    f'SELECT * FROM "{database.schema}".messages WHERE mailbox = %s',
                    self.mailbox.lower(),
                )
            except Exception:  # no schema before the first start
                return {}
            return {str(row["item_id"]): row for row in rows}
        path = self.state_dir / "topcontact.sqlite3"
        if not path.exists():
            return {}
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        db.row_factory = sqlite3.Row
        try:
            rows = db.execute("SELECT * FROM messages").fetchall()
        finally:
            db.close()
        return {row["item_id"]: dict(row) for row in rows}


# ------------------------------------------------------------------ what the mailbox shows


def marker(item: Item) -> dict[str, Any] | None:
    for key, (_, value) in item.extended.items():
        if MARKER_KEY in key:
            try:
                return dict(json.loads(value))
            except ValueError:
                return {"unreadable": value}
    return None


def ack_ref(item: Item) -> str | None:
    for key, (_, value) in item.extended.items():
        if REF_KEY in key:
            return str(value)
    return None


def parsed(item: Item) -> EmailMessage:
    return email.message_from_bytes(item.mime or b"", policy=email.policy.default)  # type: ignore[return-value]


def is_acknowledgement(message: EmailMessage) -> bool:
    return str(message.get("X-TopContact-Mail", "")).strip().lower() == "acknowledgement"


@dataclass
class Tally:
    """Acknowledgements per original message, read from the sandbox's mailboxes."""

    per_original: Counter[str]  # original's Message-ID (or item id) -> acknowledgements
    orphans: int  # acknowledgements that answer no message of the inbox (counted as doubled)
    messages: list[EmailMessage]  # every acknowledgement sent, parsed

    def missing(self, expected: Iterable[str]) -> int:
        return sum(1 for key in expected if self.per_original[key] == 0)

    def doubled(self) -> int:
        return sum(1 for count in self.per_original.values() if count > 1) + self.orphans

    def wrong(self, machines: Iterable[str]) -> int:
        return sum(1 for key in machines if self.per_original[key] > 0)


def tally(site: Site, mailbox: str = SHARED) -> Tally:
    """Count the acknowledgements `mailbox` sent, per original (its Message-ID, else item id).

    An acknowledgement is matched to its original by its ref (a MAPI property the Sent
    Items copy keeps, named by the marker on the original), else by its Message-ID (also
    in the marker; Graph chooses its own), else by In-Reply-To.
    """
    site.flush_transport()
    inbox = site.store.items(mailbox, "inbox")
    key_of_ack: dict[str, str] = {}
    key_of_msgid: dict[str, str] = {}
    for item in inbox:
        key = item.message_id or item.id
        if item.message_id:
            key_of_msgid.setdefault(item.message_id, key)
        found = marker(item)
        if found and found.get("ack"):
            key_of_ack[str(found["ack"])] = key
        if found and found.get("ref"):
            key_of_ack["ref:" + str(found["ref"])] = key
    counts: Counter[str] = Counter()
    orphans = 0
    messages = []
    for item in site.store.items(mailbox, "sentitems"):
        message = parsed(item)
        if not is_acknowledgement(message):
            continue
        messages.append(message)
        key = (
            key_of_ack.get(f"ref:{ack_ref(item)}")
            or key_of_ack.get(item.message_id)
            or key_of_msgid.get(str(message["In-Reply-To"] or ""))
        )
        if key is None:
            orphans += 1
        else:
            counts[key] += 1
    return Tally(counts, orphans, messages)


def graph_record_id(store_id: str) -> str:
    """The immutable Graph id the service records for an unmoved item (see the sandbox's ids)."""
    raw = b"\x00\x00\x00\x00\x4a\x49\x00" + base64.b64decode(store_id)
    return base64.b64encode(raw).decode().replace("/", "-").replace("+", "_")


def unrecorded(site: Site, instance: Instance) -> list[str]:
    """Inbox items of the instance's mailbox without a record in its state store."""
    records = instance.records()
    missing = []
    for item in site.store.items(instance.mailbox, "inbox"):
        key = graph_record_id(item.id) if site.backend == "graph" else item.id
        if key not in records and item.id not in records:
            missing.append(item.subject or item.id)
    return missing


# ------------------------------------------------------------------ mail


def person_mail(n: int, when: datetime, *, prefix: str = "pg", body: str = "") -> bytes:
    return (
        f"From: Huurder {n} <huurder{n}.{prefix}@example.nl>\r\n"
        f"To: {SHARED}\r\n"
        f"Subject: Vraag nummer {n}\r\n"
        f"Date: {when:%a, %d %b %Y %H:%M:%S %z}\r\n"
        f"Message-ID: <{prefix}-{n}@example.nl>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Beste mensen, dit is mijn vraag nummer {n}. {body}\r\nMet vriendelijke groet.\r\n"
    ).encode()


MACHINE_FIXTURES = (
    "bounce-postfix.eml",
    "bounce-office365-ndr.eml",
    "oof-exchange-automatic-reply.eml",
    "list-apache-users.eml",
)


BOUNCE_FIXTURES = MACHINE_FIXTURES[:2]


def machine_mail(
    n: int, *, prefix: str = "pgm", fixtures: tuple[str, ...] = MACHINE_FIXTURES
) -> bytes:
    """A machine's message (a fixture), with a Message-ID of its own so copies are distinct."""
    raw = (FIXTURES / fixtures[n % len(fixtures)]).read_bytes()
    head, _, body = raw.partition(b"\n\n") if b"\r\n\r\n" not in raw else raw.partition(b"\r\n\r\n")
    lines = [line for line in head.splitlines() if not line.lower().startswith(b"message-id:")]
    lines.append(f"Message-ID: <{prefix}-{n}@machines.example>".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def start_of_run() -> datetime:
    """A recent workday morning: received times stay within the day's caps and windows."""
    return datetime.now(AMS) - timedelta(minutes=30)


def wait_for(predicate: Callable[[], bool], seconds: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def tracebacks(text: str) -> int:
    return text.count("Traceback (most recent call last)")
