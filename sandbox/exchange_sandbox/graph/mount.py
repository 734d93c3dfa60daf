"""Mounting of the sandbox Graph front (a test double) in the EWS sandbox server.

The EWS sandbox (``exchange_sandbox.server``) owns the store, the request counters
(``GET /_sandbox/stats``), the latency setting and the fault injection spec. These helpers
let it dispatch Graph requests to a :class:`GraphApp` over the same store, count them per
Graph operation in the same stats, and apply the same faults answered the way Graph answers
them: ``server_busy`` → 429 with ``Retry-After``, ``http503`` → 503 with ``Retry-After``,
``http500`` → 500, ``drop`` → connection closed, ``slow`` → delay, ``lost`` → carried out,
then the connection closed unanswered (a ``$batch`` as a whole). The latency setting is
spent inside the app, while the request holds its concurrency slot. The server is duck-typed
(attributes ``store``, ``config``, ``stats``, ``faults``, ``rng``, ``latency_ms``) so this package does
not import it.

Because ``msal`` requires an https authority, :func:`serve_graph_tls` adds an HTTPS
listener for the same app (same store, counters and faults) next to the plain-HTTP server.
"""

from __future__ import annotations

import math
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from exchange_sandbox.config import GraphConfig
from exchange_sandbox.faults import answer_lost, pick_fault
from exchange_sandbox.graph.app import GraphApp
from exchange_sandbox.graph.errors import (
    GraphError,
    Response,
    error_response,
    fault_response,
)
from exchange_sandbox.graph.faults import FaultHook, LostHook, lost_answer
from exchange_sandbox.graph.server import GraphSandbox, start_graph_sandbox


def mount_graph(server: Any, config: GraphConfig | None = None) -> GraphApp:
    """Attach a GraphApp over ``server.store`` to the EWS sandbox server and return it.

    Its settings are ``config``, else the ``[graph]`` part of the server's configuration.
    """
    app = GraphApp(server.store, config or server.config.graph, sandbox=server.config)
    app.fault_hook = ews_fault_hook(server)
    app.lost_hook = ews_lost_hook(server)
    app.latency = lambda: float(server.latency_ms) / 1000
    app.requests = server.stats.log  # one back-off log for both fronts
    server.graph = app
    return app


def routes_to_graph(server: Any, path: str) -> bool:
    app = getattr(server, "graph", None)
    return isinstance(app, GraphApp) and app.handles(path)


def ews_fault_hook(server: Any) -> FaultHook:
    """Graph-shaped answers for the EWS sandbox's fault spec (same probabilities, same rng)."""

    def hook(operation: str) -> Response | None:
        faults = server.faults
        name = pick_fault(faults, server.rng, operation)
        if name is None:
            return None
        server.stats.count_fault(name)
        retry_after = max(1, math.ceil(faults.backoff_ms / 1000))
        if name == "drop":
            return lost_answer()  # status 0: the connection closes without a reply
        if name == "http500":
            return error_response(
                GraphError(
                    500,
                    "ErrorInternalServerError",
                    "An internal server error occurred. The operation failed.",
                )
            )
        if name == "http503":
            return fault_response(503, retry_after)
        if name == "server_busy":
            return fault_response(429, retry_after)
        time.sleep(faults.slow_ms / 1000)  # slow: answered, late
        return None

    return hook


def ews_lost_hook(server: Any) -> LostHook:
    """The spec's ``lost`` for Graph: a request (a batch: any of its steps' operations) listed
    in ``ops`` (or any, when ``ops`` is empty) is carried out and its answer lost by chance."""

    def hook(operations: list[str]) -> bool:
        faults = server.faults
        listed = [op for op in operations if not faults.ops or op in faults.ops]
        if not listed or not answer_lost(faults, server.rng, listed[0]):
            return False
        server.stats.count_fault("lost")
        return True

    return hook


def count(server: Any, operation: str, status: int) -> None:
    server.stats.count(operation=operation, status=status)


def serve_graph(handler: BaseHTTPRequestHandler, verb: str, body: bytes) -> None:
    """Answer one request of the EWS sandbox's HTTP handler with its mounted GraphApp."""
    server: Any = handler.server
    app: GraphApp = server.graph
    status, headers, payload = app.handle(
        verb, handler.path, "", dict(handler.headers.items()), body, scheme="http"
    )
    count(server, app.operation(verb, handler.path), status)
    if status == 0:
        handler.close_connection = True
        return
    handler.send_response(status)
    for key, value in headers.items():
        if key.lower() != "content-length":
            handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(payload)))
    handler.send_header("X-Sandbox", "test double - not a real Microsoft Graph")
    handler.end_headers()
    handler.wfile.write(payload)


def serve_graph_tls(
    server: Any, host: str = "127.0.0.1", port: int = 0, tls_dir: Path | None = None
) -> GraphSandbox:
    """An HTTPS listener for the GraphApp mounted on ``server`` (mounting one if needed)."""
    app = (
        server.graph
        if isinstance(getattr(server, "graph", None), GraphApp)
        else mount_graph(server)
    )
    return start_graph_sandbox(
        server.store,
        app.config,
        host=host,
        port=port,
        tls_dir=tls_dir,
        app=app,
        observer=lambda operation, status: count(server, operation, status),
    )
