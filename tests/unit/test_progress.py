"""Progress of long work: a bar on a terminal, log lines every N seconds off one.

Both modes: the bar on a forced terminal and on a real pseudo-terminal (the
`report` command in its own process), the log lines with a clock that moves
as the test says and from the `report` command off a terminal; and the
acknowledge service telling the progress how a backlog's catch-up goes.
"""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from rich.console import Console

from topcontact_mail.adapters.memory import MemoryMailbox
from topcontact_mail.adapters.progress import LogProgress, TerminalProgress, progress_for
from topcontact_mail.adapters.sqlite_store import SqliteStore
from topcontact_mail.entrypoints.cli import cli
from topcontact_mail.ports.progress import ProgressUpdate

from .services.test_acknowledge import SHARED, make_service, person
from .tracking.support import target


class Ticks:
    """A monotonic clock that moves `step` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.step = step
        self.now = 0.0

    def __call__(self) -> float:
        self.now += self.step
        return self.now


class Lines:
    """A logger that keeps what it was told."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def info(self, event: str, **fields: Any) -> None:
        self.lines.append((event, fields))


def catch_up(n: int, *, finished: bool = False) -> ProgressUpdate:
    return ProgressUpdate(
        "catch-up",
        n,
        unit="messages",
        stage="reading the inbox",
        counts={"recorded": n, "sent": n // 2},
        finished=finished,
    )


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=120, color_system=None), out


def test_a_terminal_shows_a_bar_with_the_counts() -> None:
    console, out = terminal()
    progress = TerminalProgress(console, delay=0.5, clock=Ticks(0.1))

    for n in range(1, 41):
        progress(catch_up(n))
    progress(catch_up(40, finished=True))

    shown = out.getvalue()
    assert "catch-up: reading the inbox" in shown
    assert "40 messages" in shown
    assert "recorded 40, sent 20" in shown
    assert "━" in shown  # the bar


def test_short_work_shows_no_bar() -> None:
    console, out = terminal()
    progress = TerminalProgress(console, delay=0.5, clock=Ticks(0.01))

    for n in range(1, 5):
        progress(catch_up(n))
    progress(catch_up(4, finished=True))

    assert out.getvalue() == ""


def test_off_a_terminal_a_line_every_interval_and_a_last_one() -> None:
    log = Lines()
    progress = LogProgress(5, log=log, clock=Ticks(1))

    for n in range(1, 21):
        progress(catch_up(n))
    progress(catch_up(20, finished=True))

    # Read at 1, 2, ... 21 seconds: lines at 6, 11 and 16, the last at the end.
    events = [event for event, _ in log.lines]
    assert events == ["progress"] * 3 + ["progress done"]
    _, fields = log.lines[0]
    assert fields["task"] == "catch-up"
    assert (fields["done"], fields["unit"], fields["recorded"], fields["sent"]) == (
        6,
        "messages",
        6,
        3,
    )
    assert (fields["seconds"], fields["per_second"]) == (5.0, 1.2)
    assert log.lines[-1][1]["done"] == 20


def test_short_work_logs_nothing() -> None:
    log = Lines()
    progress = LogProgress(5, log=log, clock=Ticks(0.1))

    for n in range(1, 10):
        progress(catch_up(n))
    progress(catch_up(9, finished=True))

    assert log.lines == []


def test_the_mode_follows_whether_standard_error_is_a_terminal() -> None:
    assert isinstance(progress_for(10, io.StringIO()), LogProgress)
    master, slave = pty.openpty()
    try:
        with os.fdopen(slave, "w", closefd=False) as tty:
            assert isinstance(progress_for(10, tty), TerminalProgress)
    finally:
        os.close(master)
        os.close(slave)


def test_catching_up_a_backlog_reports_each_message_and_batch(tmp_path: Path) -> None:
    mailbox = MemoryMailbox(SHARED, page_size=10)
    for n in range(1, 26):
        mailbox.deliver(person(n))
    store = SqliteStore(tmp_path / "state.sqlite3")
    updates: list[ProgressUpdate] = []
    service = make_service(mailbox, store, batch_size=10)
    service.progress = updates.append

    service.run_once()

    read = [u.done for u in updates if u.stage == "reading the inbox"]
    assert read[:25] == list(range(1, 26))  # then the service's own marks come back as changes
    assert {u.stage for u in updates} >= {"reading the inbox", "marking", "sending"}
    last = updates[-1]
    assert last.finished
    assert (last.task, last.done, last.unit) == ("catch-up", read[-1], "messages")
    assert dict(last.counts) == {"recorded": 25, "marked": 25, "sent": 25, "failed": 0}


def test_a_progress_that_fails_never_costs_the_work(tmp_path: Path) -> None:
    mailbox = MemoryMailbox(SHARED)
    mailbox.deliver(person(1))
    service = make_service(mailbox, SqliteStore(tmp_path / "state.sqlite3"))

    def broken(update: ProgressUpdate) -> None:
        raise RuntimeError("terminal gone")

    service.progress = broken

    assert service.run_once().sent == 1


# -- the report command in both modes ---------------------------------------------------------


def state(tmp_path: Path) -> Path:
    store = SqliteStore(tmp_path / "state" / "topcontact.sqlite3")
    first = target("m1", "vr 27 nov 2026 10:00")
    store.add_targets([first, replace(first, item_id="m2")], first.received)
    store.close()
    path = tmp_path / "topcontact.toml"
    path.write_text(
        f'[service]\nstate_dir = "{tmp_path / "state"}"\nprogress_interval_seconds = 0.000001\n',
        encoding="utf-8",
    )
    return path


def test_a_report_off_a_terminal_logs_its_progress(tmp_path: Path) -> None:
    path = state(tmp_path)

    result = CliRunner().invoke(
        cli, ["report", "--month", "2026-11", "--format", "json", "--config", str(path)]
    )

    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    progress = [line for line in lines if line["event"].startswith("progress")]
    assert progress, result.stderr
    assert {line["task"] for line in progress} == {"report 2026-11"}
    assert progress[-1]["event"] == "progress done"
    # Read, November's six ISO weeks and the totals, written.
    assert progress[-1]["done"] == progress[-1]["total"] == 9
    assert json.loads(result.stdout)["month"] == "2026-11"


def test_a_report_on_a_terminal_draws_a_bar(tmp_path: Path) -> None:
    path = state(tmp_path)
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
    out = tmp_path / "report.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from topcontact_mail.entrypoints.cli import main; main()",
            "report",
            "--month",
            "2026-11",
            "--format",
            "json",
            "--output",
            str(out),
            "--config",
            str(path),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)

    assert process.wait(timeout=60) == 0
    text = seen.decode("utf-8", "replace")
    assert "report 2026-11" in text
    assert "9/9 steps" in text
    assert "━" in text
    assert json.loads(out.read_text(encoding="utf-8"))["month"] == "2026-11"
