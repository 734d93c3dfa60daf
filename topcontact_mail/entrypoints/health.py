"""The health and metrics endpoint: `/health` for a monitor, `/metrics` for Prometheus, per mailbox.

`/health` answers 200 while every mailbox works and 503 with the reasons when
one does not, so a silent stop shows up on the administrator's dashboard
instead of in a tenant's complaint. Each mailbox is `ok`, `starting`,
`degraded` (mailbox unreachable, sync lagging, hourly cap reached, its loop
failed and is restarting) or `failing` (the server refuses the credentials: a
person must act). `/metrics` gives the counters and gauges in Prometheus' text
format, each with a `mailbox` label; every other label takes its values from a
fixed list (the screening reasons, the answer methods, the mailbox port's
operations, the problems), so the number of series stays bounded.

`run` serves its configured mailboxes; a `scale-out` instance the mailboxes whose
lease it holds (a mailbox leaves at the moment its lease does), and `/health`
names the instance, its leases and its share under `instance`.

The metric names (a Grafana dashboard is built on them; README, "Operations"):

| name | type | labels |
| --- | --- | --- |
| `topcontact_healthy` | gauge | (the whole process: 1 when every mailbox is ok) |
| `topcontact_mailboxes` | gauge | (mailboxes configured) |
| `topcontact_config_reloads_total` | counter | `result` (applied, refused) |
| `topcontact_mailbox_healthy` | gauge | `mailbox` |
| `topcontact_mailbox_problem` | gauge | `mailbox`, `problem` (`Problem`) |
| `topcontact_credentials_ok` | gauge | `mailbox` |
| `topcontact_messages_screened_total` | counter | `mailbox`, `verdict`, `reason` |
| `topcontact_acknowledgements_sent_total` | counter | `mailbox` |
| `topcontact_acknowledgements_failed_total` | counter | `mailbox` |
| `topcontact_messages_marked_total` | counter | `mailbox` |
| `topcontact_targets_open` | gauge | `mailbox`, `state` (on_time, warning, overdue) |
| `topcontact_targets_answered_total` | counter | `mailbox`, `how` |
| `topcontact_team_mails_sent_total` | counter | `mailbox` |
| `topcontact_callbacks` | gauge | `mailbox`, `state` (planned, missed) |
| `topcontact_backend_calls_total` | counter | `mailbox`, `operation` |
| `topcontact_backend_errors_total` | counter | `mailbox`, `operation`, `kind` |
| `topcontact_sync_lag_seconds` | gauge | `mailbox` |
| `topcontact_last_sync_timestamp_seconds` | gauge | `mailbox` |
| `topcontact_last_tracking_pass_timestamp_seconds` | gauge | `mailbox` |
| `topcontact_mailbox_restarts_total` | counter | `mailbox` |
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from topcontact_mail.domain.screening.reasons import Reason, needs_answer
from topcontact_mail.domain.tracking.model import AnswerMethod
from topcontact_mail.services.alerts import AlertMemory

if TYPE_CHECKING:  # prometheus_client loads at the first scrape of /metrics, not at start-up
    from prometheus_client import CollectorRegistry
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

    from topcontact_mail.services.acknowledge import Summary
    from topcontact_mail.services.tracking import TrackingSummary

#: A reached hourly cap counts as a problem this long after the pass that met it.
CAP_PROBLEM_SECONDS = 3600.0
#: A loop that failed this often within `LOOP_WINDOW_SECONDS` is mailed to the administrator:
#: one failure is restarted and forgotten, repeated ones need a person.
LOOP_FAILURES = 3
LOOP_WINDOW_SECONDS = 3600.0


class Problem(StrEnum):
    """Why a mailbox is not `ok` (the `reasons` of `/health`, the `problem` label)."""

    AUTHENTICATION_FAILING = "authentication_failing"
    MAILBOX_UNREACHABLE = "mailbox_unreachable"
    SYNC_LAGGING = "sync_lagging"
    CAP_REACHED = "cap_reached"
    LOOP_FAILED = "loop_failed"


#: The mailbox port's operations, as `topcontact_backend_*` count them (one call may be
#: several HTTP requests, e.g. a batch).
OPERATIONS = (
    "connect",
    "fetch_changes",
    "read",
    "mark",
    "send_acknowledgements",
    "sent_refs",
    "observe",
    "send_notices",
    "send_notice",
)
#: What went wrong in a call: the mailbox unreachable, the credentials refused, the watermark
#: expired, an item of a batch failed, anything else.
ERROR_KINDS = ("unreachable", "credentials", "watermark", "item", "other")
_REASONS = frozenset(str(r) for r in Reason)
_HOWS = frozenset(str(m) for m in AnswerMethod)


def verdict_of(reason: str) -> str:
    """`acknowledge` (a person, answered now), `answer_only` (a person, target but no
    acknowledgement), `skip` (a machine, a copy, ...)."""
    if reason == Reason.PERSON:
        return "acknowledge"
    return "answer_only" if needs_answer(reason) else "skip"


@dataclass
class MailboxHealth:
    """One mailbox's health and counters; its daemon reports here. Thread-safe (the lock
    is the `Health`'s)."""

    key: str
    lock: threading.RLock
    #: A mailbox whose last successful sync is older than this is lagging (seconds).
    lag_limit: float = 180.0
    started: float = field(default_factory=time.time)
    last_sync: float | None = None
    last_tracking: float | None = None
    problems: dict[Problem, str] = field(default_factory=dict)
    cap_until: float = 0.0
    screened: Tally[tuple[str, str]] = field(default_factory=Tally)
    sent: int = 0
    failed: int = 0
    marked: int = 0
    answered: Tally[str] = field(default_factory=Tally)
    team_mails: int = 0
    targets: dict[str, int] = field(default_factory=dict)
    callbacks: dict[str, int] = field(default_factory=dict)
    calls: Tally[str] = field(default_factory=Tally)
    errors: Tally[tuple[str, str]] = field(default_factory=Tally)
    restarts: int = 0
    #: When the loop failed, within the last `LOOP_WINDOW_SECONDS`.
    failures: list[float] = field(default_factory=list)
    failure: str = ""
    #: The administrator's alerts about this mailbox (kept here: they outlive its loop).
    alerts: AlertMemory = field(default_factory=AlertMemory)

    # -- what the daemon tells ---------------------------------------------------------------

    def passed(self, summary: Summary) -> None:
        now = time.time()
        with self.lock:
            for reason, count in summary.reasons.items():
                name = reason if reason in _REASONS else "other"
                self.screened[(verdict_of(name), name)] += count
            self.sent += summary.sent
            self.marked += summary.marked
            self.failed += summary.failed
            if summary.reasons.get(Reason.GLOBAL_HOURLY_CAP):
                self.cap_until = now + CAP_PROBLEM_SECONDS
            if not summary.interrupted:
                self.last_sync = now
                for problem in (
                    Problem.MAILBOX_UNREACHABLE,
                    Problem.AUTHENTICATION_FAILING,
                    Problem.LOOP_FAILED,
                ):
                    self.problems.pop(problem, None)

    def tracked(self, summary: TrackingSummary) -> None:
        with self.lock:
            for how, count in summary.answers.items():
                self.answered[how if how in _HOWS else "other"] += count
            self.team_mails += summary.notices_sent
            self.last_tracking = time.time()

    def standing(self, targets: dict[str, int], callbacks: dict[str, int]) -> None:
        """The open targets by state and the callbacks planned and missed, as of now."""
        with self.lock:
            self.targets = dict(targets)
            self.callbacks = dict(callbacks)

    def degraded(self, reason: str) -> None:
        """The mailbox cannot be reached (after the adapter's own retries)."""
        with self.lock:
            self.problems[Problem.MAILBOX_UNREACHABLE] = reason

    def credentials_refused(self, reason: str) -> None:
        with self.lock:
            self.problems.pop(Problem.MAILBOX_UNREACHABLE, None)
            self.problems[Problem.AUTHENTICATION_FAILING] = reason

    def loop_failed(self, reason: str) -> None:
        with self.lock:
            self.problems[Problem.LOOP_FAILED] = reason
            self.restarts += 1
            now = time.time()
            self.failures = [t for t in self.failures if now - t < LOOP_WINDOW_SECONDS] + [now]
            self.failure = reason

    def connected(self) -> None:
        with self.lock:
            self.problems.pop(Problem.MAILBOX_UNREACHABLE, None)
            self.problems.pop(Problem.AUTHENTICATION_FAILING, None)

    def call(self, operation: str, error: str | None = None, count: int = 1) -> None:
        """A call of the mailbox port; `error`: its kind when it (or `count` items) failed."""
        with self.lock:
            if error is None:
                self.calls[operation] += count
            else:
                self.errors[(operation, error)] += count

    # -- what the outside world sees -------------------------------------------------------

    def current_problems(self, now: float) -> dict[Problem, str]:
        with self.lock:
            found = dict(self.problems)
            if now < self.cap_until:
                found[Problem.CAP_REACHED] = "the hourly cap of acknowledgements is reached"
            lag = self.lag(now)
            if lag > self.lag_limit:
                found[Problem.SYNC_LAGGING] = (
                    f"no successful sync for {lag:.0f} s (limit {self.lag_limit:.0f} s)"
                )
            return found

    def alert_conditions(self, now: float) -> dict[str, str]:
        """The conditions a person must act on (kind -> detail), for `Alerts.watch`: refused
        credentials, the mailbox unreachable, the sync lagging (unless one of those two is its
        cause), the loop failed `LOOP_FAILURES` times within the last hour (it clears after an
        hour with fewer). A reached cap is
        mailed when it is met (a storm) and is no condition here."""
        with self.lock:
            problems = self.current_problems(now)
            found: dict[str, str] = {}
            if Problem.AUTHENTICATION_FAILING in problems:
                found["credentials"] = problems[Problem.AUTHENTICATION_FAILING]
            if Problem.MAILBOX_UNREACHABLE in problems:
                found["mailbox_unreachable"] = problems[Problem.MAILBOX_UNREACHABLE]
            if Problem.SYNC_LAGGING in problems and not found:
                found["sync_lagging"] = problems[Problem.SYNC_LAGGING]
            recent = [t for t in self.failures if now - t < LOOP_WINDOW_SECONDS]
            if len(recent) >= LOOP_FAILURES:
                # Not cleared by one good pass: a loop that fails after each pass still fails.
                found["loop_failed"] = (
                    f"{len(recent)} times within the hour; the last: {self.failure}"
                )
            return found

    def lag(self, now: float) -> float:
        return max(0.0, now - (self.last_sync if self.last_sync is not None else self.started))

    def status(self, now: float) -> str:
        problems = self.current_problems(now)
        if Problem.AUTHENTICATION_FAILING in problems:
            return "failing"
        if problems:
            return "degraded"
        return "ok" if self.last_sync is not None else "starting"

    def snapshot(self, now: float) -> dict[str, Any]:
        with self.lock:
            problems = self.current_problems(now)
            return {
                "status": self.status(now),
                "reasons": [str(p) for p in problems],
                "detail": "; ".join(problems.values()),
                "last_sync": self.last_sync,
                "sync_lag_seconds": round(self.lag(now), 3),
                "last_tracking_pass": self.last_tracking,
                "targets": dict(self.targets),
                "callbacks": dict(self.callbacks),
            }


_ORDER = {"failing": 0, "degraded": 1, "starting": 2, "ok": 3}


class Health:
    """What the service tells the outside world about its mailboxes; thread-safe."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self._registry = registry
        self._lock = threading.RLock()
        self._mailboxes: dict[str, MailboxHealth] = {}
        self.reloads: Tally[str] = Tally()
        self.since = time.time()
        self._status = "starting"
        #: What `/health` adds about the process under `instance` (scale-out: its leases).
        self.about: Callable[[], dict[str, Any]] | None = None
        #: Set when serving no mailbox is a normal state (a scale-out instance past its first
        #: look at the leases, with more instances than mailboxes): then it is `ok`, not
        #: `starting`.
        self.idle_ok = False
        if registry is not None:
            registry.register(_Collector(self))

    @property
    def registry(self) -> CollectorRegistry:
        """The Prometheus registry with every series (made on first use, by the first scrape)."""
        with self._lock:
            if self._registry is None:
                from prometheus_client import CollectorRegistry

                self._registry = CollectorRegistry()
                self._registry.register(_Collector(self))
            return self._registry

    def mailbox(self, key: str, *, lag_limit: float | None = None) -> MailboxHealth:
        """The mailbox's health (made on first use; its counters survive a restart of its loop)."""
        with self._lock:
            found = self._mailboxes.get(key)
            if found is None:
                found = self._mailboxes[key] = MailboxHealth(key, self._lock)
            if lag_limit is not None:
                found.lag_limit = lag_limit
            return found

    def forget(self, key: str) -> None:
        """A mailbox no longer served: its series leave `/metrics`."""
        with self._lock:
            self._mailboxes.pop(key, None)

    def keep_only(self, keys: set[str]) -> None:
        with self._lock:
            for key in set(self._mailboxes) - keys:
                del self._mailboxes[key]

    def mailboxes(self) -> list[MailboxHealth]:
        with self._lock:
            return list(self._mailboxes.values())

    def reloaded(self, applied: bool) -> None:
        with self._lock:
            self.reloads["applied" if applied else "refused"] += 1

    def snapshot(self) -> dict[str, Any]:
        now = time.time()
        with self._lock:
            boxes = {m.key: m.snapshot(now) for m in self._mailboxes.values()}
            statuses = [b["status"] for b in boxes.values()] or [
                "ok" if self.idle_ok else "starting"
            ]
            status = min(statuses, key=lambda s: _ORDER[s])
            if status != self._status:
                self._status, self.since = status, now
            reasons = [
                f"{key}: {box['detail']}"
                for key, box in sorted(boxes.items())
                if box["status"] in ("failing", "degraded")
            ]
            syncs = [b["last_sync"] for b in boxes.values()]
            answer = {
                "status": status,
                "reason": "; ".join(reasons),
                "since": self.since,
                # The oldest mailbox's last pass: None until every mailbox has synced once.
                "last_pass": None if not syncs or None in syncs else min(syncs),
                "mailboxes": boxes,
            }
        if self.about is not None:
            answer["instance"] = self.about()
        return answer


class _Collector:
    """Every series, built at scrape time from the mailboxes' state (removed ones vanish)."""

    def __init__(self, health: Health) -> None:
        self.health = health

    def describe(self) -> list[Metric]:
        return []  # built per scrape; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        now = time.time()
        health = self.health
        boxes = health.mailboxes()
        m = "mailbox"

        def gauge(name: str, doc: str, labels: list[str] | None = None) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, doc, labels=labels)

        def counter(name: str, doc: str, labels: list[str] | None = None) -> CounterMetricFamily:
            return CounterMetricFamily(name, doc, labels=labels)

        healthy = gauge("topcontact_healthy", "1 while every mailbox works, 0 when one does not")
        mailboxes = gauge("topcontact_mailboxes", "Mailboxes this process serves")
        reloads = counter(
            "topcontact_config_reloads", "Configuration reloads (SIGHUP) by result", ["result"]
        )
        box_healthy = gauge("topcontact_mailbox_healthy", "1 while the mailbox works", [m])
        problem = gauge(
            "topcontact_mailbox_problem", "1 while the mailbox has this problem", [m, "problem"]
        )
        credentials = gauge(
            "topcontact_credentials_ok", "0 when the server refuses the credentials", [m]
        )
        screened = counter(
            "topcontact_messages_screened",
            "Messages screened, by verdict and reason",
            [m, "verdict", "reason"],
        )
        sent = counter("topcontact_acknowledgements_sent", "Acknowledgements sent", [m])
        failed = counter("topcontact_acknowledgements_failed", "Acknowledgements given up", [m])
        marked = counter("topcontact_messages_marked", "Messages flagged and marked", [m])
        targets = gauge("topcontact_targets_open", "Open answer targets by state", [m, "state"])
        answered = counter("topcontact_targets_answered", "Answer targets met, by how", [m, "how"])
        team = counter("topcontact_team_mails_sent", "Escalations and overviews sent", [m])
        callbacks = gauge("topcontact_callbacks", "Callbacks planned and missed", [m, "state"])
        calls = counter(
            "topcontact_backend_calls", "Calls of the mailbox port by operation", [m, "operation"]
        )
        errors = counter(
            "topcontact_backend_errors",
            "Failed calls (or items of a batch) by operation and kind",
            [m, "operation", "kind"],
        )
        lag = gauge("topcontact_sync_lag_seconds", "Seconds since the last successful sync", [m])
        last_sync = gauge(
            "topcontact_last_sync_timestamp_seconds", "When the last successful sync ended", [m]
        )
        last_tracking = gauge(
            "topcontact_last_tracking_pass_timestamp_seconds",
            "When the last tracking pass ended",
            [m],
        )
        restarts = counter(
            "topcontact_mailbox_restarts", "Restarts of the mailbox's loop after a failure", [m]
        )
        all_ok = True
        for box in boxes:
            with box.lock:
                key = box.key
                found = box.current_problems(now)
                ok = not found
                all_ok = all_ok and ok
                box_healthy.add_metric([key], 1 if ok else 0)
                for p in Problem:
                    problem.add_metric([key, str(p)], 1 if p in found else 0)
                credentials.add_metric([key], 0 if Problem.AUTHENTICATION_FAILING in found else 1)
                for (verdict, reason), count in sorted(box.screened.items()):
                    screened.add_metric([key, verdict, reason], count)
                sent.add_metric([key], box.sent)
                failed.add_metric([key], box.failed)
                marked.add_metric([key], box.marked)
                for state in ("on_time", "warning", "overdue"):
                    targets.add_metric([key, state], box.targets.get(state, 0))
                for how, count in sorted(box.answered.items()):
                    answered.add_metric([key, how], count)
                team.add_metric([key], box.team_mails)
                for state in ("planned", "missed"):
                    callbacks.add_metric([key, state], box.callbacks.get(state, 0))
                for operation, count in sorted(box.calls.items()):
                    calls.add_metric([key, operation], count)
                for (operation, kind), count in sorted(box.errors.items()):
                    errors.add_metric([key, operation, kind], count)
                lag.add_metric([key], box.lag(now))
                if box.last_sync is not None:
                    last_sync.add_metric([key], box.last_sync)
                if box.last_tracking is not None:
                    last_tracking.add_metric([key], box.last_tracking)
                restarts.add_metric([key], box.restarts)
        healthy.add_metric([], 1 if all_ok and (boxes or health.idle_ok) else 0)
        mailboxes.add_metric([], len(boxes))
        for result in ("applied", "refused"):
            reloads.add_metric([result], health.reloads.get(result, 0))
        yield from (healthy, mailboxes, reloads, box_healthy, problem, credentials, screened)
        yield from (sent, failed, marked, targets, answered, team, callbacks, calls, errors)
        yield from (lag, last_sync, last_tracking, restarts)


class _Handler(BaseHTTPRequestHandler):
    server: HealthServer

    def do_GET(self) -> None:  # name fixed by BaseHTTPRequestHandler
        health = self.server.health
        if self.path.split("?")[0] == "/metrics":
            from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

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
