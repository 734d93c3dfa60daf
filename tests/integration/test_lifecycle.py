"""The daemon as systemd runs it: readiness, the watchdog's heartbeat, a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.conftest import Backend
from tests.integration.test_acknowledge_loop import AMS, assert_exactly_once, tenant_mail

pytestmark = pytest.mark.integration


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.2)
    yield sock, path
    sock.close()


def messages(sock: socket.socket, seconds: float) -> list[str]:
    """What the service told systemd within `seconds`."""
    found: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            found.extend(sock.recv(4096).decode().splitlines())
        except TimeoutError:
            continue
    return found


def test_the_daemon_says_ready_beats_for_the_watchdog_and_stops_cleanly_on_sigterm(
    backend: Backend, notify_socket: tuple[socket.socket, str]
) -> None:
    sock, path = notify_socket
    backend.reconfigure(small_batches=True)
    backend.sandbox.server.latency_ms = 100  # a backlog long enough to be stopped in the middle
    start = datetime(2026, 11, 23, 9, 0, tzinfo=AMS)
    expected = set()
    for n in range(100):
        backend.deliver(tenant_mail(n, start + timedelta(minutes=n)))
        expected.add(f"<backlog-{n}@example.nl>")
    env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"}
    process = subprocess.Popen(
        backend.command("run"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    backend.processes.append(process)

    told: list[str] = []
    deadline = time.monotonic() + 15
    watching_status = "STATUS=watching klantcontact@woonservice.example"

    def beats_since_watching() -> int:
        return (
            told[told.index(watching_status) :].count("WATCHDOG=1")
            if watching_status in told
            else 0
        )

    while time.monotonic() < deadline and beats_since_watching() < 4:
        told += messages(sock, 0.3)
    assert told[0] == "READY=1"
    assert told.count("READY=1") == 1
    watching = told.index("STATUS=watching klantcontact@woonservice.example")
    # Every half second of the 1 s watchdog, from the daemon's loop once it watches.
    assert told[watching:].count("WATCHDOG=1") >= 3
    deadline = time.monotonic() + 20
    while not backend.sent_items() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    began = time.monotonic()
    code = process.wait(timeout=30)
    told = messages(sock, 0.5)

    assert code == 0, process.stderr.read().decode()[-2000:] if process.stderr else ""
    assert time.monotonic() - began < 10  # the message in hand, then out
    assert "STOPPING=1" in told
    assert 0 < len(backend.sent_items()) < len(expected)  # stopped in the middle of the backlog
    backend.sandbox.server.latency_ms = 0
    result = backend.run_once()
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert_exactly_once(backend, expected)
