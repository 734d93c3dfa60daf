"""The notify protocol to systemd: readiness and a heartbeat from the loop, silence without it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from topcontact_mail.entrypoints.systemd import Notifier


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.5)
    yield sock, path
    sock.close()


def test_ready_status_and_stopping_reach_systemd(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    notifier = Notifier(environ={"NOTIFY_SOCKET": path})

    notifier.ready("watching klantcontact@woonservice.example")
    notifier.status("mailbox unavailable")
    notifier.stopping()

    assert [sock.recv(4096).decode() for _ in range(3)] == [
        "READY=1\nSTATUS=watching klantcontact@woonservice.example",
        "STATUS=mailbox unavailable",
        "STOPPING=1",
    ]


def test_the_heartbeat_comes_every_half_watchdog_period_however_often_it_is_asked(
    listener: tuple[socket.socket, str],
) -> None:
    sock, path = listener
    now = [0.0]
    notifier = Notifier(
        environ={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "4000000"}, clock=lambda: now[0]
    )
    beats = 0
    for tick in range(100):  # 10 s of a loop turning every 0.1 s
        now[0] = tick / 10
        notifier.heartbeat()
    sock.settimeout(0.05)
    try:
        while True:
            assert sock.recv(64) == b"WATCHDOG=1"
            beats += 1
    except TimeoutError:
        pass

    assert notifier.interval == 2.0
    assert beats == 5  # at 0, 2, 4, 6 and 8 s


def test_without_systemd_nothing_is_sent_anywhere() -> None:
    notifier = Notifier(environ={})
    notifier.ready("x")
    notifier.heartbeat()

    assert not notifier.active
    assert notifier.interval is None


def test_a_watchdog_meant_for_another_process_is_not_answered() -> None:
    notifier = Notifier(
        environ={"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}
    )

    assert notifier.interval is None


def test_an_abstract_socket_name_is_understood() -> None:
    assert Notifier(environ={"NOTIFY_SOCKET": "@/org/systemd/notify"}).active
