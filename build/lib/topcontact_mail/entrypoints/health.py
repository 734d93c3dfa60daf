"""The health and metrics endpoint: `/health` for a monitor, `/metrics` for Prometheus.

`/health` answers 200 while the service works and 503 with the reason when it
does not (mailbox unreachable for a while, credentials refused), so a silent
stop shows up on the administrator's dashboard instead of in a tenant's
complaint. `/metrics` gives the counters in Prometheus' text format.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)

from topcontact_mail.services.acknowledge import Summary
from topcontact_mail.services.tracking import TrackingSummary


@dataclass
class Health:
    """What the daemon tells the outside world about itself; thread-safe."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    status: str = "starting"
    reason: str = ""
    since: float = field(default_factory=time.time)
    last_pass: float | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        r = self.registry
        self.messages = Counter(
            "topcontact_messages", "Messages screened, by reason", ["reason"], registry=r
        )
        self.sent = Counter("topcontact_acknowledgements_sent", "Acknowledgements sent", registry=r)
        self.marked = Counter(
            "topcontact_messages_marked", "Messages flagged and marked", registry=r
        )
        self.failed = Counter(
            "topcontact_acknowledgements_failed", "Acknowledgements given up", registry=r
        )
        self.last_pass_gauge = Gauge(
            "topcontact_last_pass_timestamp_seconds", "When the last full pass ended", registry=r
        )
        self.healthy = Gauge(
            "topcontact_healthy", "1 while the service works, 0 when it does not", registry=r
        )
        self.credentials_ok = Gauge(
            "topcontact_credentials_ok",
            "0 when the server refuses the service's credential",
            registry=r,
        )
        self.credentials_ok.set(1)
        self.answered = Counter(
            "topcontact_targets_answered", "Answer targets met, by how", ["how"], registry=r
        )
        self.team_mails = Counter(
            "topcontact_team_mails_sent", "Escalations and overviews sent", registry=r
        )
        self.last_tracking_gauge = Gauge(
            "topcontact_last_tracking_pass_timestamp_seconds",
            "When the last tracking pass ended",
            registry=r,
        )

    def tracked(self, summary: TrackingSummary) -> None:
        with self._lock:
            for how, count in summary.answers.items():
                self.answered.labels(how=how).inc(count)
            self.team_mails.inc(summary.notices_sent)
            self.last_tracking_gauge.set(time.time())

    def passed(self, summary: Summary) -> None:
        with self._lock:
            for reason, count in summary.reasons.items():
                self.messages.labels(reason=reason).inc(count)
            self.sent.inc(summary.sent)
            self.marked.inc(summary.marked)
            self.failed.inc(summary.failed)
            self.last_pass = time.time()
            self.last_pass_gauge.set(self.last_pass)
            self._set("ok", "")
            self.credentials_ok.set(1)

    def degraded(self, reason: str) -> None:
        with self._lock:
            self._set("degraded", reason)

    def credentials_refused(self, reason: str) -> None:
        with self._lock:
            self.credentials_ok.set(0)
            self._set("failing", reason)

    def _set(self, status: str, reason: str) -> None:
        if status != self.status:
            self.since = time.time()
        self.status, self.reason = status, reason
        self.healthy.set(1 if status == "ok" else 0)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "status": self.status,
                "reason": self.reason,
                "since": self.since,
                "last_pass": self.last_pass,
            }


class _Handler(BaseHTTPRequestHandler):
    server: HealthServer

    def do_GET(self) -> None:  # name fixed by BaseHTTPRequestHandler
        health = self.server.health
        if self.path.split("?")[0] == "/metrics":
            self._answer(200, generate_latest(health.registry), CONTENT_TYPE_LATEST)
        elif self.path.split("?")[0] == "/health":
            snapshot = health.snapshot()
            code = 200 if snapshot["status"] in ("ok", "starting") else 503
            self._answer(code, json.dumps(snapshot).encode(), "application/json")
        else:
            self._answer(404, b"not found\n", "text/plain")

    def _answer(self, code: int, body: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # stdlib signature
        pass  # monitors poll often; their requests are not worth a log line


class HealthServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], health: Health) -> None:
        super().__init__(address, _Handler)
        self.health = health


def serve_health(listen: str, health: Health) -> HealthServer | None:
    """Start the endpoint on "host:port" in a background thread; None when `listen` is empty."""
    if not listen.strip():
        return None
    host, _, port = listen.rpartition(":")
    server = HealthServer((host or "127.0.0.1", int(port)), health)
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server
