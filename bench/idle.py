"""`make bench BENCH_ARGS="--only idle"`: the memory of one `run` process serving many idle mailboxes.

Issue 13's goal: 50 idle mailboxes in one instance under 250 MB of resident memory. One
real `topcontact-mail run` process (the daemon, not `--once`) serves `--idle-mailboxes`
`[[mailboxes]]` of the sandbox (each with a service account of its own on EWS, as
Exchange limits subscriptions per account; one app for all on Graph), each holding a small
backlog (`--idle-backlog` messages) so that the first pass really acknowledges and tracks.
Once `/health` says every mailbox has finished its first sync and tracking pass, the
process's resident memory (VmRSS in /proc/PID/status, its children's added) is sampled
every second for `--idle-seconds`: median and maximum, with the peak (VmHWM) and threads.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from exchange_sandbox import (
    GraphSandbox,
    MailboxConfig,
    SandboxHandle,
    load_config,
    serve_graph_tls,
    start_sandbox,
)
from exchange_sandbox.config import UserConfig
from tests.integration.conftest import write_config

PASSWORD = "Sandbox-Demo-2026!"
AMS = ZoneInfo("Europe/Amsterdam")
#: Issue 13's goal for 50 idle mailboxes in one instance.
GOAL_MB = 250


def address(n: int) -> str:
    return f"klantcontact{n:02d}@woonservice.example"


def _mail(box: int, n: int, when: datetime) -> bytes:
    return (
        f"From: Huurder {box}-{n} <huurder{box}-{n}@example.nl>\r\n"
        f"To: {address(box)}\r\n"
        f"Subject: Vraag nummer {n}\r\n"
        f"Date: {when:%a, %d %b %Y %H:%M:%S %z}\r\n"
        f"Message-ID: <idle-{box}-{n}@example.nl>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Beste mensen, dit is mijn vraag nummer {n}. Met vriendelijke groet.\r\n"
    ).encode()


def _sandbox(count: int) -> SandboxHandle:
    """The sandbox with `count` shared mailboxes, each with its own EWS service account."""
    base = load_config()
    ours = tuple(address(n) for n in range(count))
    # The Graph app's access policy names the mailboxes it may open: these too.
    apps = tuple(
        app
        if app.mailboxes is None
        else dataclasses.replace(app, mailboxes=(*app.mailboxes, *ours))
        for app in base.graph.apps
    )
    config = dataclasses.replace(
        base,
        graph=dataclasses.replace(base.graph, apps=apps),
        mailboxes=(
            *base.mailboxes,
            *(MailboxConfig(address(n), f"Klantcontact {n}") for n in range(count)),
        ),
        users=(
            *base.users,
            *(
                UserConfig(name=f"svc-{n:02d}", password=PASSWORD, delegate=(address(n),))
                for n in range(count)
            ),
        ),
    )
    return start_sandbox(config=config)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(
    path: Path,
    backend: str,
    sandbox: SandboxHandle,
    graph: GraphSandbox | None,
    count: int,
    port: int,
) -> None:
    """Defaults as an administrator would leave them, but for the state, health and the caps."""
    mailboxes = []
    for n in range(count):
        mailboxes += ["[[mailboxes]]", f'shared_mailbox = "{address(n)}"']
        if backend == "ews":
            mailboxes += ["[mailboxes.connection.ews]", f'username = "svc-{n:02d}"']
    write_config(
        path,
        backend,
        sandbox,
        path.parent / "state",
        graph=graph,
        shared=address(0),
        service_keys={"health_listen": f"127.0.0.1:{port}", "sync_interval_seconds": 60},
        extra="[screening]\nglobal_per_hour = 1000000\nper_sender_per_day = 1000\n\n"
        + "\n".join(mailboxes)
        + "\n",
    )
    if backend == "graph":
        # The tests poll Graph every second; an idle instance polls at the default (10 s).
        text = path.read_text(encoding="utf-8").replace("poll_interval_seconds = 1\n", "")
        path.write_text(text, encoding="utf-8")


def _health(port: int) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
            return dict(json.load(answer))
    except OSError as exc:  # 503 while a mailbox is degraded still carries the JSON
        body = getattr(exc, "read", None)
        if body is not None:
            return dict(json.loads(body()))
        return None


def _first_passes_done(snapshot: dict[str, object] | None, count: int) -> bool:
    if snapshot is None:
        return False
    boxes = snapshot.get("mailboxes")
    if not isinstance(boxes, dict) or len(boxes) < count:
        return False
    return all(b.get("last_sync") and b.get("last_tracking_pass") for b in boxes.values())


def _status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (kB) and Threads of a process."""
    found: dict[str, int] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as file:
        for line in file:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads"):
                found[key] = int(value.split()[0])
    return found


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found += [child, *_descendants(child)]
    return found


def rss_kb(pid: int) -> int:
    """Resident memory of the process and of its children, if any (kB)."""
    total = 0
    for one in (pid, *_descendants(pid)):
        try:
            total += _status(one).get("VmRSS", 0)
        except OSError:
            continue  # a child that ended meanwhile
    return total


@dataclass
class Idle:
    """One backend's idle figures (MB), or why there are none."""

    backend: str
    mailboxes: int
    first_pass_s: float
    rss_median: float
    rss_max: float
    peak: float
    threads: int
    acknowledged: int
    expected: int
    error: str = ""


def idle_memory(backend: str, count: int, backlog: int, seconds: float) -> Idle:
    """Start `run` for `count` mailboxes, wait for every first pass, sample RSS for `seconds`."""
    sandbox = _sandbox(count)
    start = datetime(2026, 11, 23, 8, 0, tzinfo=AMS)
    for box in range(count):
        for n in range(backlog):
            sandbox.store.deliver(address(box), _mail(box, n, start + timedelta(minutes=n)))
    with tempfile.TemporaryDirectory() as tmp:
        graph = (
            serve_graph_tls(sandbox.server, tls_dir=Path(tmp) / "tls")
            if backend == "graph"
            else None
        )
        port = _free_port()
        config = Path(tmp) / "topcontact.toml"
        _config(config, backend, sandbox, graph, count, port)
        log = (Path(tmp) / "daemon.log").open("wb")
        began = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "topcontact_mail", "run", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        samples: list[int] = []
        error, first_pass = "", float("nan")
        try:
            deadline = began + 300
            while not _first_passes_done(_health(port), count):
                if process.poll() is not None:
                    error = f"run ended with status {process.returncode}"
                    break
                if time.monotonic() > deadline:
                    error = "not every mailbox finished its first pass in 300 s"
                    break
                time.sleep(0.5)
            first_pass = time.monotonic() - began
            if not error:
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    samples.append(rss_kb(process.pid))
                    time.sleep(1)
                status = _status(process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()
            if error:
                sys.stderr.write((Path(tmp) / "daemon.log").read_text(errors="replace")[-3000:])
            acknowledged = sum(
                1
                for box in range(count)
                for item in sandbox.store.items(address(box), "sentitems")
                if item.in_reply_to
            )
            if graph is not None:
                graph.stop()
            sandbox.stop()
    if error:
        return Idle(backend, count, first_pass, 0, 0, 0, 0, acknowledged, count * backlog, error)
    return Idle(
        backend,
        count,
        first_pass,
        statistics.median(samples) / 1024,
        max(samples) / 1024,
        status["VmHWM"] / 1024,
        status["Threads"],
        acknowledged,
        count * backlog,
    )


def describe(idle: Idle) -> str:
    if idle.error:
        return f"idle, {idle.backend}, {idle.mailboxes} mailboxes: failed ({idle.error})"
    verdict = "met" if idle.rss_max < GOAL_MB else "not met"
    return (
        f"idle, {idle.backend}, {idle.mailboxes} mailboxes in one `run` "
        f"(first passes done after {idle.first_pass_s:.1f} s, "
        f"{idle.acknowledged}/{idle.expected} acknowledged): RSS median {idle.rss_median:.0f} MB, "
        f"max {idle.rss_max:.0f} MB, peak (VmHWM) {idle.peak:.0f} MB, {idle.threads} threads "
        f"(goal: 50 mailboxes under {GOAL_MB} MB; {verdict})"
    )
