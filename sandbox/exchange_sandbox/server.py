"""HTTP server of the sandbox Exchange server: a TEST DOUBLE speaking EWS, never a production option.

Serves EWS SOAP at ``/EWS/Exchange.asmx`` (Basic or NTLMv2 authentication, as configured in
the sandbox TOML) and, without authentication, control endpoints for tests and demos:

- ``POST /_sandbox/deliver?mailbox=ADDR&received=ISO`` (body: RFC 5322 bytes) delivers into
  a mailbox's Inbox as Exchange transport would; answers ``{"id", "conversation_id"}``.
- ``GET /_sandbox/mailboxes`` and ``GET /_sandbox/mailboxes/ADDR/FOLDER``: read-only JSON views.
- ``GET|POST /_sandbox/faults``: fault injection (body: a spec string, see :func:`parse_faults`).
- ``GET /_sandbox/stats``, ``POST /_sandbox/stats/reset``: request counters per operation.
- ``GET /_sandbox/health``.

Microsoft Graph (``/v1.0/...``), its Entra ID token endpoints and ``/_sandbox/graph/...`` are
answered by the Graph front (``exchange_sandbox.graph``) over the same store, stats and
faults; msal needs HTTPS, which ``graph.mount.serve_graph_tls`` adds on a second port.

The control endpoints listen only where the server listens (loopback by default).

Known deviations from real Exchange (kept on purpose or not yet modelled):

- Pull and streaming subscriptions (no push); subscriptions do not survive a restart.
- ConversationId values encode the conversation GUID only (not mailbox-scoped); attachments,
  recurrence, meeting responses/updates/cancellations and public folders are not modelled.
- Only the distinguished folders root, msgfolderroot, inbox, sentitems, calendar, drafts and
  deleteditems exist; no user-created folders.
- SendAndSaveCopy saves the copy in Sent Items only; free/busy details are shown to users with
  delegate or impersonation rights, others get times only; working hours are Mon-Fri 08:30-17:00.
- UpdateItem honours a stale change key only with ConflictResolution NeverOverwrite
  (ErrorIrresolvableConflict); AutoResolve and AlwaysOverwrite apply the change.
- NTLM accepts NTLMv2 only and does not check the MIC; Negotiate/Kerberos is not offered.
"""

from __future__ import annotations

import base64
import contextlib
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from exchange_sandbox.config import SandboxConfig, UserConfig, load_config
from exchange_sandbox.ews import EwsService, operation_of
from exchange_sandbox.ews.auth import (
    NtlmState,
    build_challenge,
    check_basic,
    ntlm_message_type,
    verify_authenticate,
)
from exchange_sandbox.graph.mount import mount_graph, routes_to_graph, serve_graph
from exchange_sandbox.store import (
    ITEM_FOLDERS,
    Item,
    MailboxNotFound,
    MailStore,
)

EWS_PATH = "/ews/exchange.asmx"
MAX_BODY = 64 * 1024 * 1024


class FaultSpecError(ValueError):
    """A fault injection spec could not be parsed."""


@dataclass
class Faults:
    """Probabilities of injected failures per EWS request, optionally only for some operations."""

    server_busy: float = 0.0
    http503: float = 0.0
    http500: float = 0.0
    slow: float = 0.0
    drop: float = 0.0
    #: The request is carried out, then the connection drops before the answer: the client
    #: cannot tell whether it happened (the hardest case for exactly-once). EWS only.
    lost: float = 0.0
    ops: frozenset[str] = frozenset()
    backoff_ms: int = 1000
    slow_ms: int = 2000
    seed: int | None = None

    def spec(self) -> str:
        parts = [
            f"{name}={getattr(self, name)}"
            for name in ("server_busy", "http503", "http500", "slow", "drop", "lost")
            if getattr(self, name)
        ]
        if self.ops:
            parts.append("ops=" + "+".join(sorted(self.ops)))
        parts.append(f"backoff_ms={self.backoff_ms}")
        parts.append(f"slow_ms={self.slow_ms}")
        return ",".join(parts)


def parse_faults(spec: str | None) -> Faults:
    """Parse ``server_busy=0.2,http503=0.1,http500=0.05,slow=0.05,drop=0.05,lost=0.1,ops=CreateItem``.

    Also ``backoff_ms=N`` (BackOffMilliseconds of ErrorServerBusy), ``slow_ms=N`` and ``seed=N``.
    """
    faults = Faults()
    if not spec or not spec.strip():
        return faults
    for part in spec.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep:
            raise FaultSpecError(f"fault spec part {part!r} lacks '='")
        try:
            if key in ("server_busy", "http503", "http500", "slow", "drop", "lost"):
                prob = float(value)
                if not 0.0 <= prob <= 1.0:
                    raise FaultSpecError(f"{key} must be a probability between 0 and 1")
                setattr(faults, key, prob)
            elif key == "ops":
                faults.ops = frozenset(o.strip() for o in value.split("+") if o.strip())
            elif key in ("backoff_ms", "slow_ms", "seed"):
                setattr(faults, key, int(value))
            else:
                raise FaultSpecError(f"unknown fault {key!r}")
        except ValueError as exc:
            if isinstance(exc, FaultSpecError):
                raise
            raise FaultSpecError(f"bad value in {part!r}") from exc
    return faults


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    operations: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    status: Counter[str] = field(default_factory=Counter)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "operations": dict(self.operations),
                "faults": dict(self.faults),
                "status": dict(self.status),
                "total": sum(self.operations.values()),
            }

    def reset(self) -> None:
        with self.lock:
            self.operations.clear()
            self.faults.clear()
            self.status.clear()


def item_json(item: Item) -> dict[str, Any]:
    def dt(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": item.id,
        "change_key": item.change_key,
        "folder": item.folder,
        "item_class": item.item_class,
        "subject": item.subject,
        "from": item.from_.email if item.from_ else None,
        "to": [a.email for a in item.to],
        "cc": [a.email for a in item.cc],
        "message_id": item.message_id,
        "in_reply_to": item.in_reply_to,
        "references": list(item.references),
        "conversation_id": item.conversation_id,
        "headers": [list(h) for h in item.headers],
        "mime": base64.b64encode(item.mime).decode() if item.mime is not None else None,
        "date_received": dt(item.date_received),
        "is_read": item.is_read,
        "is_draft": item.is_draft,
        "flag": {
            "status": item.flag.status,
            "start": dt(item.flag.start),
            "due": dt(item.flag.due),
            "complete": dt(item.flag.complete),
        },
        "categories": list(item.categories),
        "extended": {
            k: (list(v) if isinstance(v, tuple) else v) for k, (_, v) in item.extended.items()
        },
        "calendar": None
        if item.calendar is None
        else {
            "start": dt(item.calendar.start),
            "end": dt(item.calendar.end),
            "organizer": item.calendar.organizer.email,
            "attendees": [
                {"email": a.address.email, "required": a.required, "response": a.response}
                for a in item.calendar.attendees
            ],
            "free_busy": item.calendar.free_busy,
            "location": item.calendar.location,
        },
    }


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        store: MailStore,
        config: SandboxConfig,
        latency_ms: int = 0,
        faults: Faults | None = None,
    ) -> None:
        super().__init__(address, SandboxHandler)
        self.store = store
        self.config = config
        self.ews = EwsService(store, config)
        self.latency_ms = latency_ms
        self.faults = faults or Faults()
        self.rng = random.Random(self.faults.seed)  # noqa: S311  # fault injection, not cryptography
        self.stats = Stats()
        # Called with (operation, request, response) for every EWS exchange; tests record traffic.
        self.recorder: Callable[[str, bytes, bytes], None] | None = None
        self.open_connections: set[Any] = set()
        self.stopping = threading.Event()
        # Streaming connections send a ConnectionStatus OK document this often when idle.
        self.keepalive_seconds = 15.0
        self.conn_lock = threading.Lock()


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SandboxServer
    server_version = "Microsoft-IIS/10.0"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        self.ntlm = NtlmState()
        with self.server.conn_lock:
            self.server.open_connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.conn_lock:
                self.server.open_connections.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # signature fixed by the stdlib
        # Tests drive thousands of requests; the stats endpoint is the place to look.
        return

    # ------------------------------------------------------------ plumbing

    def _read_body(self) -> bytes | None:
        length = int(self.headers.get("Content-Length", "0") or 0)
        if length > MAX_BODY:
            self._send(413, b"Request Entity Too Large", "text/plain")
            return None
        return self.rfile.read(length) if length else b""

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "text/xml; charset=utf-8",
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Sandbox", "test double - not a real Exchange server")
        for name, value in headers or []:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        with self.server.stats.lock:
            self.server.stats.status[str(status)] += 1

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data, indent=1).encode(), "application/json")

    # ------------------------------------------------------------ verbs

    def do_GET(self) -> None:  # name fixed by BaseHTTPRequestHandler
        self._dispatch("GET")

    def do_POST(self) -> None:  # name fixed by BaseHTTPRequestHandler
        self._dispatch("POST")

    def do_PATCH(self) -> None:  # name fixed by BaseHTTPRequestHandler; Graph only
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:  # name fixed by BaseHTTPRequestHandler; Graph only
        self._dispatch("DELETE")

    def _dispatch(self, verb: str) -> None:
        url = urlsplit(self.path)
        path = url.path
        body = self._read_body() if verb in ("POST", "PATCH") else b""
        if body is None:
            return
        if path.lower() == EWS_PATH:
            if verb != "POST":
                self._unauthorized()
                return
            self._ews(body)
            return
        if routes_to_graph(self.server, path):
            serve_graph(self, verb, body)  # Microsoft Graph and its token endpoint
            return
        if path.startswith("/_sandbox/"):
            self._control(verb, path[len("/_sandbox/") :], parse_qs(url.query), body)
            return
        self._send(404, b"Not Found", "text/plain")

    # ------------------------------------------------------------ EWS

    def _unauthorized(self, ntlm_token: str | None = None) -> None:
        headers = (
            [("WWW-Authenticate", f"NTLM {ntlm_token}")]
            if ntlm_token
            else [("WWW-Authenticate", "NTLM"), ("WWW-Authenticate", 'Basic realm="sandbox-ex01"')]
        )
        self._send(
            401,
            b"401 - Unauthorized: Access is denied due to invalid credentials.",
            "text/html",
            headers,
        )

    def _authenticate(self) -> UserConfig | None:
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        scheme = scheme.lower()
        config = self.server.config
        if scheme == "basic":
            user = check_basic(config, token.strip())
            if user is None:
                self._unauthorized()
            return user
        if scheme in ("ntlm", "negotiate"):
            try:
                raw = base64.b64decode(token.strip(), validate=True)
            except ValueError:
                self._unauthorized()
                return None
            kind = ntlm_message_type(raw)
            if kind == 1:
                challenge = build_challenge(config, raw, self.ntlm)
                self._unauthorized(base64.b64encode(challenge).decode())
                return None
            if kind == 3:
                user = verify_authenticate(config, raw, self.ntlm)
                self.ntlm = NtlmState(user=user)
                if user is None:
                    self._unauthorized()
                return user
            self._unauthorized()
            return None
        if self.ntlm.user is not None:
            # IIS authenticates the connection once the NTLM handshake succeeded.
            return self.ntlm.user
        self._unauthorized()
        return None

    def _ews(self, body: bytes) -> None:
        srv = self.server
        if srv.latency_ms:
            time.sleep(srv.latency_ms / 1000)
        user = self._authenticate()
        if user is None:
            return
        op = operation_of(body) or "Unknown"
        with srv.stats.lock:
            srv.stats.operations[op] += 1
        if self._inject_fault(op):
            return
        if op == "GetStreamingEvents":
            self._stream(body, user)
            return
        status, answer = srv.ews.handle(body, user)
        if srv.recorder is not None:
            srv.recorder(op, body, answer)
        if self._answer_lost(op):
            return
        self._send(status, answer)

    def _answer_lost(self, op: str) -> bool:
        srv = self.server
        faults = srv.faults
        if not faults.lost or (faults.ops and op not in faults.ops):
            return False
        if srv.rng.random() >= faults.lost:
            return False
        with srv.stats.lock:
            srv.stats.faults["lost"] += 1
        self.close_connection = True
        return True

    def _stream(self, body: bytes, user: UserConfig) -> None:
        srv = self.server
        opened = srv.ews.open_stream(body, user)
        if isinstance(opened, tuple):
            self._send(opened[0], opened[1])
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        with srv.stats.lock:
            srv.stats.status["200"] += 1

        def chunk(data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        deadline = time.monotonic() + opened.seconds
        next_keepalive = 0.0
        try:
            while time.monotonic() < deadline and not srv.stopping.is_set():
                now = time.monotonic()
                if now >= next_keepalive or srv.ews.has_pending(opened.subscriptions):
                    chunk(srv.ews.stream_document(opened.subscriptions, "OK"))
                    next_keepalive = now + srv.keepalive_seconds
                srv.stopping.wait(0.05)
            chunk(srv.ews.stream_document(opened.subscriptions, "Closed"))
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            # The client stopped listening; Exchange just drops such a stream as well.
            self.close_connection = True

    def _inject_fault(self, op: str) -> bool:
        srv = self.server
        faults = srv.faults
        if faults.ops and op not in faults.ops:
            return False
        roll = srv.rng.random()
        for name in ("drop", "http500", "http503", "server_busy", "slow"):
            prob = float(getattr(faults, name))
            if roll < prob:
                with srv.stats.lock:
                    srv.stats.faults[name] += 1
                if name == "drop":
                    self.close_connection = True
                    return True
                if name == "http500":
                    self._send(
                        500, b"<html><body>500 - Internal server error.</body></html>", "text/html"
                    )
                    return True
                if name == "http503":
                    self._send(503, b"<html><body>Service Unavailable</body></html>", "text/html")
                    return True
                if name == "server_busy":
                    self._send(500, srv.ews.server_busy(faults.backoff_ms))
                    return True
                time.sleep(faults.slow_ms / 1000)
                return False
            roll -= prob
        return False

    # ------------------------------------------------------------ control endpoints

    def _control(self, verb: str, path: str, query: dict[str, list[str]], body: bytes) -> None:
        srv = self.server
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if verb == "GET" and parts == ["health"]:
            self._json(200, {"status": "ok", "test_double": True})
        elif verb == "POST" and parts == ["deliver"]:
            self._deliver(query, body)
        elif verb == "GET" and parts == ["stats"]:
            self._json(200, srv.stats.snapshot())
        elif verb == "POST" and parts == ["stats", "reset"]:
            srv.stats.reset()
            self._json(200, {"status": "reset"})
        elif parts == ["faults"]:
            if verb == "POST":
                try:
                    text = body.decode("utf-8")
                    if text.strip().startswith("{"):
                        text = str(json.loads(text).get("spec", ""))
                    srv.faults = parse_faults(text)
                    srv.rng = random.Random(srv.faults.seed)  # noqa: S311  # fault injection only
                except (FaultSpecError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                    self._json(400, {"error": str(exc)})
                    return
            self._json(200, {"spec": srv.faults.spec()})
        elif verb == "GET" and parts == ["mailboxes"]:
            self._json(200, [{"address": a.email, "name": a.name} for a in srv.store.mailboxes()])
        elif verb == "GET" and len(parts) == 3 and parts[0] == "mailboxes":
            if not srv.store.has_mailbox(parts[1]):
                self._json(404, {"error": f"no mailbox {parts[1]}"})
            elif parts[2] not in ITEM_FOLDERS:
                self._json(404, {"error": f"no folder {parts[2]}; folders: {list(ITEM_FOLDERS)}"})
            else:
                self._json(200, [item_json(i) for i in srv.store.items(parts[1], parts[2])])
        else:
            self._json(404, {"error": f"unknown control endpoint {verb} /_sandbox/{path}"})

    def _deliver(self, query: dict[str, list[str]], body: bytes) -> None:
        mailbox = (query.get("mailbox") or [""])[0]
        received_text = (query.get("received") or [""])[0]
        try:
            received = datetime.fromisoformat(received_text) if received_text else None
        except ValueError:
            self._json(400, {"error": f"received is not an ISO date-time: {received_text!r}"})
            return
        if received is not None and received.tzinfo is None:
            self._json(400, {"error": "received needs a UTC offset"})
            return
        if not body:
            self._json(400, {"error": "the body must hold the RFC 5322 message"})
            return
        try:
            item = self.server.store.deliver(mailbox, body, received)
        except MailboxNotFound:
            self._json(404, {"error": f"no mailbox {mailbox}"})
            return
        self._json(200, {"id": item.id, "conversation_id": item.conversation_id})


# ---------------------------------------------------------------- lifecycle


@dataclass
class SandboxHandle:
    """A running sandbox; ``url`` is the base URL, ``ews_url`` the EWS endpoint."""

    server: SandboxServer
    thread: threading.Thread | None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def ews_url(self) -> str:
        return f"{self.url}/EWS/Exchange.asmx"

    @property
    def store(self) -> MailStore:
        return self.server.store

    def set_faults(self, spec: str | Faults) -> None:
        self.server.faults = parse_faults(spec) if isinstance(spec, str) else spec
        self.server.rng = random.Random(self.server.faults.seed)  # noqa: S311  # fault injection only

    def stop(self) -> None:
        self.server.stopping.set()
        self.server.shutdown()
        with self.server.conn_lock:
            # Keep-alive connections would hold handler threads (and the store) open.
            for conn in list(self.server.open_connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(2)
        self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)
        self.server.store.close()


def build_server(
    config: SandboxConfig | None = None,
    state_dir: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    latency_ms: int = 0,
    faults: Faults | str | None = None,
) -> SandboxServer:
    config = config or load_config()
    store = MailStore(state_dir)
    for box in config.mailboxes:
        store.ensure_mailbox(box.address, box.name)
    parsed = parse_faults(faults) if isinstance(faults, str) or faults is None else faults
    server = SandboxServer((host, port), store, config, latency_ms=latency_ms, faults=parsed)
    mount_graph(server)  # Graph front over the same store, stats, latency and faults
    return server


def start_sandbox(
    config: SandboxConfig | None = None,
    state_dir: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    latency_ms: int = 0,
    faults: Faults | str | None = None,
) -> SandboxHandle:
    """Start the sandbox in a background thread (port 0: a free port); call ``.stop()`` after."""
    server = build_server(config, state_dir, host, port, latency_ms, faults)
    thread = threading.Thread(target=server.serve_forever, name="ews-sandbox", daemon=True)
    thread.start()
    return SandboxHandle(server=server, thread=thread)
