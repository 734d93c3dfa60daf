"""HTTP server of the sandbox Exchange server: a TEST DOUBLE speaking EWS and Graph, never a production option.

One threaded HTTP server answers EWS SOAP at ``/EWS/Exchange.asmx`` (Basic or NTLMv2
authentication, as configured), Microsoft Graph and its Entra ID endpoints when the Graph
front is mounted (:mod:`exchange_sandbox.graph.mount`; msal needs HTTPS, which
``serve_graph_tls`` adds on a second port) and the control endpoints
(:mod:`exchange_sandbox.control`), over one store, one set of counters and one fault spec.
:func:`start_sandbox` runs it in a background thread; the ``serve`` command in the foreground.
"""

from __future__ import annotations

import base64
import contextlib
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from exchange_sandbox.backoff import ews_hint_seconds, fingerprint
from exchange_sandbox.config import SandboxConfig, UserConfig, load_config
from exchange_sandbox.control import control
from exchange_sandbox.ews import EwsService, operation_of
from exchange_sandbox.ews.auth import (
    NtlmState,
    build_challenge,
    check_basic,
    ntlm_message_type,
    verify_authenticate,
)
from exchange_sandbox.ews.control import PREFIX as EWS_CONTROL
from exchange_sandbox.ews.control import ews_control, settings_problem
from exchange_sandbox.ews.throttling import admit
from exchange_sandbox.faults import Faults, answer_lost, parse_faults, pick_fault
from exchange_sandbox.graph.mount import mount_graph, routes_to_graph, serve_graph
from exchange_sandbox.httpserver import PromptStopHTTPServer
from exchange_sandbox.stats import Stats
from exchange_sandbox.store import MailStore

EWS_PATH = "/ews/exchange.asmx"
MAX_BODY = 64 * 1024 * 1024


class SandboxServer(PromptStopHTTPServer):
    allow_reuse_address = True
    # IIS accepts bursts of connections; socketserver's backlog of 5 would reset the 6th
    # simultaneous one before the throttling budgets could answer it as Exchange does.
    request_queue_size = 128

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

    def set_faults(self, faults: Faults) -> None:
        """Inject these faults from now on (with a fresh dice, seeded when the spec says so)."""
        self.faults = faults
        self.rng = random.Random(faults.seed)  # noqa: S311  # fault injection, not cryptography


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SandboxServer
    arrived = 0.0  # when the EWS request in hand came (time.monotonic()), for the back-off log
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
        self.server.stats.count(status=status)

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
        if path.startswith(EWS_CONTROL):
            self._json(*ews_control(self.server.ews, verb, path, body))
            return
        if path.startswith("/_sandbox/"):
            self._json(
                *control(self.server, verb, path[len("/_sandbox/") :], parse_qs(url.query), body)
            )
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
        srv.stats.count(operation=op)
        print_ = fingerprint(body)
        self.arrived = time.monotonic()
        srv.stats.log.arrived(user.name, op, print_, at=self.arrived)
        # A request holds its account's throttling budget from here until it is answered.
        with admit(srv.ews.budgets, srv.ews.settings, op, user.name) as refusal:
            if refusal is not None:
                srv.stats.count_fault("throttled")
                self._record(op, body, refusal)
                self._note_hint(user.name, op, print_, refusal)
                self._send(500, refusal)
                return
            if self._inject_fault(op, body, user.name, print_):
                return
            if op == "GetStreamingEvents":
                self._stream(body, user)
                return
            status, answer = srv.ews.handle(body, user)
            self._record(op, body, answer)
            if self._answer_lost(op, body):
                return
            self._send(status, answer)

    def _record(self, op: str, request: bytes, answer: bytes) -> None:
        """Hand a complete EWS exchange to the recorder (tests check and keep the traffic)."""
        if self.server.recorder is not None:
            self.server.recorder(op, request, answer)

    def _note_hint(self, client: str, op: str, print_: str, answer: bytes) -> None:
        """Log the back-off an answer just sent told the client to wait, if it told one."""
        seconds = ews_hint_seconds(answer)
        if seconds is not None:
            self.server.stats.log.hinted(client, op, print_, seconds, since=self.arrived)

    def _answer_lost(self, op: str, request: bytes) -> bool:
        srv = self.server
        if not answer_lost(srv.faults, srv.rng, op, request):
            return False
        srv.stats.count_fault("lost")
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
        srv.stats.count(status=200)

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

    def _inject_fault(self, op: str, request: bytes, client: str = "", print_: str = "") -> bool:
        """Answer with an injected fault (True), or go on with the request (False)."""
        srv = self.server
        name = pick_fault(srv.faults, srv.rng, op, request)
        if name is None:
            return False
        srv.stats.count_fault(name)
        if name == "drop":
            self.close_connection = True
            return True
        if name == "http500":
            self._send(500, b"<html><body>500 - Internal server error.</body></html>", "text/html")
            return True
        if name == "http503":
            self._send(503, b"<html><body>Service Unavailable</body></html>", "text/html")
            return True
        if name == "server_busy":
            busy = srv.ews.server_busy(srv.faults.backoff_ms)
            self._record(op, request, busy)
            self._note_hint(client, op, print_, busy)  # before the client can ask again
            self._send(500, busy)
            return True
        time.sleep(srv.faults.slow_ms / 1000)  # slow: answered, late
        return False


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
        self.server.set_faults(parse_faults(spec) if isinstance(spec, str) else spec)

    def set_ews(self, **settings: Any) -> None:
        """Change EWS settings (``strict``, the throttling limits of ``[ews]``) while running."""
        problem = settings_problem(settings)
        if problem:
            raise ValueError(problem)
        self.server.ews.set(**settings)

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
    store.submissions.configure(config.submission, config.submission_settings())
    store.submissions.start()  # transport: sent mail reaches Sent Items when its delay is over
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
