"""`make bench`: the acknowledge loop against the sandbox with added latency, with numbers.

(a) a backlog of human messages present at start-up, handled by `run --once`:
    wall time, requests per message by operation, peak RSS of the daemon;
(b) the same backlog handled by the straightforward exchangelib script;
(c) messages delivered one at a time at random intervals while the daemon runs:
    delay from delivery to the acknowledgement in Sent Items, median and p95;
start-up: from starting `run --once` (EWS, empty mailbox, no added latency) to the
    sandbox receiving its first request, median of several fresh processes;
cpu: the daemon's user+sys CPU time (the operating system's accounting of the
    finished child) per message of the backlog (a);
idle: the resident memory of one `run` serving 50 idle mailboxes (bench/idle.py).

`--only startup,cpu` runs just those two (seconds rather than minutes); `--only backlog`
(a) and (b), with their ratio; `--only idle` the memory of idle mailboxes.

The sandbox runs in this process; the daemon and the script run as their own
processes, so their memory and CPU are their own.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.idle import describe, idle_memory  # noqa: E402
from exchange_sandbox import GraphSandbox, SandboxHandle, serve_graph_tls, start_sandbox  # noqa: E402
from tests.integration.conftest import PASSWORD, SHARED, USER, write_config  # noqa: E402

AMS = ZoneInfo("Europe/Amsterdam")


def tenant_mail(n: int, when: datetime) -> bytes:
    return (
        f"From: Huurder {n} <huurder{n}@example.nl>\r\n"
        f"To: {SHARED}\r\n"
        f"Subject: Vraag nummer {n}\r\n"
        f"Date: {when:%a, %d %b %Y %H:%M:%S %z}\r\n"
        f"Message-ID: <bench-{n}@example.nl>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Beste mensen, dit is mijn vraag nummer {n}. Met vriendelijke groet.\r\n"
    ).encode()


def deliver_backlog(sandbox: SandboxHandle, count: int) -> None:
    start = datetime(2026, 11, 23, 8, 0, tzinfo=AMS)
    for n in range(count):
        sandbox.store.deliver(SHARED, tenant_mail(n, start + timedelta(seconds=37 * n)))


#: A backlog is far above the hourly safety cap of a normal day; the benchmark lifts it.
NO_CAP = "[screening]\nglobal_per_hour = 1000000\nper_sender_per_day = 1000\n"


@dataclass
class Measured:
    """A finished child process: wall seconds, exit status, peak RSS (MB), CPU seconds."""

    wall: float
    status: int
    rss_mb: int
    cpu: float


def run_measured(command: list[str]) -> Measured:
    """Wall time, exit status, peak RSS and user+sys CPU of a child process."""
    with tempfile.TemporaryFile() as log:  # a file: a full pipe would block the child
        began = time.monotonic()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - began
        if status != 0:
            log.seek(0)
            sys.stderr.write(log.read().decode()[-3000:])
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(wall, os.waitstatus_to_exitcode(status), usage.ru_maxrss // 1024, cpu)


class Sandbox:
    """The sandbox for one run, with the Graph HTTPS listener when the backend needs it."""

    def __init__(self, backend: str, latency: int, tmp: Path) -> None:
        self.backend, self.tmp = backend, tmp
        self.handle = start_sandbox(latency_ms=latency)
        self.graph: GraphSandbox | None = None
        if backend == "graph":
            self.graph = serve_graph_tls(self.handle.server, tls_dir=tmp / "tls")

    def config(self, send_rate: int = 0) -> Path:
        path = self.tmp / "topcontact.toml"
        write_config(
            path,
            self.backend,
            self.handle,
            self.tmp / "state",
            graph=self.graph,
            extra=NO_CAP,
            send_rate=send_rate,
        )
        return path

    def stop(self) -> None:
        if self.graph is not None:
            self.graph.stop()
        self.handle.stop()


@dataclass
class Result:
    label: str
    wall: float
    messages: int
    requests: dict[str, int]
    rss_mb: int | None = None
    status: int = 0
    cpu: float | None = None  # user+sys seconds of the process

    @property
    def cpu_ms_per_message(self) -> float | None:
        return None if self.cpu is None else 1000 * self.cpu / max(self.messages, 1)

    @property
    def per_message(self) -> float:
        return sum(self.requests.values()) / max(self.messages, 1)


def backlog_daemon(backend: str, count: int, latency: int) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        box = Sandbox(backend, latency, Path(tmp))
        try:
            deliver_backlog(box.handle, count)
            config = box.config()
            box.handle.server.stats.reset()
            command = [
                sys.executable,
                "-m",
                "topcontact_mail",
                "run",
                "--once",
                "--config",
                str(config),
            ]
            m = run_measured(command)
            requests = dict(box.handle.server.stats.snapshot()["operations"])
            sent = len(box.handle.store.items(SHARED, "sentitems"))
            if sent != count:
                print(f"warning: {sent} acknowledgements for {count} messages", file=sys.stderr)
            label = f"(a) daemon, {backend}"
            return Result(label, m.wall, count, requests, m.rss_mb, m.status, m.cpu)
        finally:
            box.stop()


def paced_backlog(count: int, rate: int, latency: int) -> tuple[float, float, int]:
    """Graph with the send limit on: (minutes taken, sends per minute at most, refusals)."""
    with tempfile.TemporaryDirectory() as tmp:
        box = Sandbox("graph", latency, Path(tmp))
        try:
            assert box.graph is not None
            box.handle.server.graph.sends.per_minute = 30  # type: ignore[attr-defined]  # as Exchange Online
            deliver_backlog(box.handle, count)
            config = box.config(send_rate=rate)
            command = [
                sys.executable,
                "-m",
                "topcontact_mail",
                "run",
                "--once",
                "--config",
                str(config),
            ]
            wall = run_measured(command).wall
            sent = sorted(
                i.date_created
                for i in box.handle.store.items(SHARED, "sentitems")
                if i.date_created
            )
            window = max(
                (
                    sum(1 for t in sent if first <= t < first + timedelta(minutes=1))
                    for first in sent
                ),
                default=0,
            )
            refused = box.handle.server.stats.snapshot()["status"].get("429", 0)
            return wall / 60, float(window), int(refused)
        finally:
            box.stop()


def backlog_naive(count: int, latency: int) -> Result:
    sandbox = start_sandbox(latency_ms=latency)
    try:
        deliver_backlog(sandbox, count)
        sandbox.server.stats.reset()
        command = [
            sys.executable,
            str(ROOT / "bench" / "naive_script.py"),
            sandbox.ews_url,
            USER,
            PASSWORD,
            SHARED,
        ]
        m = run_measured(command)
        requests = dict(sandbox.server.stats.snapshot()["operations"])
        label = "(b) naive exchangelib script"
        return Result(label, m.wall, count, requests, m.rss_mb, m.status, m.cpu)
    finally:
        sandbox.stop()


@dataclass
class StartUp:
    """`run --once` on an empty mailbox, fresh processes: seconds to the first request, etc."""

    backend: str
    to_first_request: list[float]
    wall: list[float]
    cpu: list[float]


def start_up(runs: int, backend: str = "ews") -> StartUp:
    """Start `run --once` `runs` times (after one warm-up) against an empty mailbox.

    No latency is added: the time from starting the process to the sandbox receiving its
    first request is the process's own start-up (interpreter, imports, configuration, state
    store), with the sandbox on the same machine.
    """
    figures = StartUp(backend, [], [], [])
    with tempfile.TemporaryDirectory() as tmp:
        box = Sandbox(backend, 0, Path(tmp))
        try:
            config = box.config()
            command = [
                sys.executable,
                "-m",
                "topcontact_mail",
                "run",
                "--once",
                "--config",
                str(config),
            ]
            for n in range(runs + 1):  # the first is a warm-up (state store, disk caches)
                box.handle.server.stats.reset()
                began = time.monotonic()
                m = run_measured(command)
                first = box.handle.server.stats.log.first_arrival()
                if m.status != 0 or first is None:
                    raise SystemExit(
                        f"start-up run failed (exit {m.status}, first request {first})"
                    )
                if n:
                    figures.to_first_request.append(first - began)
                    figures.wall.append(m.wall)
                    figures.cpu.append(m.cpu)
        finally:
            box.stop()
    return figures


def live_delay(backend: str, count: int, latency: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    delays: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        box = Sandbox(backend, latency, Path(tmp))
        sandbox = box.handle
        config = box.config()
        daemon = subprocess.Popen(
            [sys.executable, "-m", "topcontact_mail", "run", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(3)  # start-up is not part of the delay
            delivered: dict[str, float] = {}
            seen: dict[str, float] = {}
            stop = threading.Event()

            def watch() -> None:
                # The moment each acknowledgement is first in Sent Items, to within 20 ms.
                while not stop.is_set():
                    now = time.monotonic()
                    for item in sandbox.store.items(SHARED, "sentitems"):
                        seen.setdefault(item.in_reply_to, now)
                    time.sleep(0.02)

            watcher = threading.Thread(target=watch)
            watcher.start()
            for n in range(count):
                time.sleep(rng.uniform(0.1, 1.0))
                delivered[f"<bench-{n}@example.nl>"] = time.monotonic()
                sandbox.store.deliver(SHARED, tenant_mail(n, datetime.now(AMS)))
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(seen) < count:
                time.sleep(0.2)
            stop.set()
            watcher.join()
            delays = [seen[k] - v for k, v in delivered.items() if k in seen]
        finally:
            daemon.terminate()
            daemon.wait(timeout=30)
            box.stop()
    return delays


def print_startup(console: Console, startups: list[StartUp]) -> None:
    for startup in startups:
        _print_startup(console, startup)


def _print_startup(console: Console, startup: StartUp) -> None:
    med = statistics.median
    console.print(
        f"start-up of `run --once` ({startup.backend}, empty mailbox, "
        f"{len(startup.wall)} fresh processes): "
        f"to the first request median {med(startup.to_first_request):.3f} s "
        f"(min {min(startup.to_first_request):.3f}, max {max(startup.to_first_request):.3f}; "
        f"goal < 0.5 s); whole process median {med(startup.wall):.3f} s wall, "
        f"{1000 * med(startup.cpu):.0f} ms CPU"
    )


#: The figures `--only` can pick.
ONLY = {"startup", "cpu", "backlog", "idle"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--live", type=int, default=100)
    parser.add_argument(
        "--latency", type=int, default=50, help="milliseconds added to every request"
    )
    parser.add_argument("--backend", action="append", choices=["ews", "graph"])
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--paced", type=int, default=60, help="messages for the Graph pacing run (0: skip)"
    )
    parser.add_argument(
        "--only",
        type=lambda text: set(text.split(",")),
        help="run only these figures, comma-separated: startup, cpu, backlog (the daemon's "
        "backlog (a) against the naive script (b)), idle (e.g. --only startup,cpu)",
    )
    parser.add_argument(
        "--startup-runs", type=int, default=7, help="fresh processes for the start-up figure"
    )
    parser.add_argument("--idle-mailboxes", type=int, default=50)
    parser.add_argument(
        "--idle-backlog", type=int, default=2, help="messages per idle mailbox at the start"
    )
    parser.add_argument(
        "--idle-seconds", type=float, default=60, help="how long the idle memory is sampled"
    )
    args = parser.parse_args()
    if args.only and not args.only <= ONLY:
        parser.error(f"--only takes {', '.join(sorted(ONLY))}")
    backends = args.backend or ["ews", "graph"]
    console = Console(width=140)
    console.print(
        f"Benchmark: {args.messages} messages, {args.latency} ms latency per request, sandbox Exchange (test double)"
    )

    startup: list[StartUp] = []
    if not args.only or "startup" in args.only:
        startup = [start_up(args.startup_runs, b) for b in backends]
    if not args.only or "idle" in args.only:
        for backend in backends:
            idle = idle_memory(backend, args.idle_mailboxes, args.idle_backlog, args.idle_seconds)
            console.print(describe(idle))
    if args.only and not args.only & {"cpu", "backlog"}:
        print_startup(console, startup)
        return
    results = [backlog_daemon(b, args.messages, args.latency) for b in backends]
    naive_too = not args.skip_naive and (not args.only or "backlog" in args.only)
    if naive_too:
        results.append(backlog_naive(args.messages, args.latency))
    table = Table(
        "run",
        "wall s",
        "msg/s",
        "requests/msg",
        "requests by operation",
        "peak RSS MB",
        "CPU ms/msg",
        "exit",
    )
    for r in results:
        by_op = ", ".join(f"{op} {n}" for op, n in sorted(r.requests.items()))
        cpu = r.cpu_ms_per_message
        table.add_row(
            r.label,
            f"{r.wall:.1f}",
            f"{r.messages / r.wall:.1f}",
            f"{r.per_message:.3f}",
            by_op,
            str(r.rss_mb),
            "-" if cpu is None else f"{cpu:.2f}",
            str(r.status),
        )
    console.print(table)
    print_startup(console, startup)
    if naive_too:
        naive = results[-1]
        for r in results[:-1]:
            console.print(
                f"{r.label}: {naive.wall / r.wall:.1f}x faster than the naive script "
                f"(goal of issue 13: >= 50x)"
            )
    if args.only:
        return

    live = Table("run", "messages", "acknowledged", "median s", "p95 s", "max s")
    for backend in backends:
        delays = live_delay(backend, args.live, args.latency, args.seed)
        p95 = statistics.quantiles(delays, n=20)[-1] if len(delays) >= 20 else float("nan")
        live.add_row(
            f"(c) live, {backend}",
            str(args.live),
            str(len(delays)),
            f"{statistics.median(delays):.2f}" if delays else "-",
            f"{p95:.2f}",
            f"{max(delays):.2f}" if delays else "-",
        )
    console.print(live)
    if "graph" in backends and args.paced:
        minutes, busiest, refused = paced_backlog(args.paced, 25, args.latency)
        console.print(
            f"(d) graph, {args.paced} messages, sandbox send limit 30/min, pacing 25/min: "
            f"{minutes:.1f} min, busiest minute {busiest:.0f} sends, {refused} refusals (429)"
        )


if __name__ == "__main__":
    main()
