"""Callbacks with `store = "postgresql"` against the sandbox: `run --once` books a booking mail into
one meeting with the state in the shared database, the command line books beside the running
daemon without taking its lease, and `scale-out` books callbacks in the mailboxes it works.

Meetings are counted in the colleague's calendar (Jan de Vries), replies in the booker's inbox.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.integration.conftest import SHARED, Backend
from tests.integration.test_callbacks_loop import CALLBACKS, FORM, booking_mail, copies, replies
from tests.pg_server import PostgresServer

pytestmark = pytest.mark.integration

LEASE = '[scale_out]\ninstance_id = "test-instance"\nlease_seconds = 6\nrenew_seconds = 2\n'


@pytest.fixture
def booked_shared(
    backend: Backend, postgres_server: PostgresServer, pg_schema: str, monkeypatch: Any
) -> Backend:
    """The backend's daemon with callbacks on and its state in the test's PostgreSQL schema."""
    monkeypatch.setenv("TOPCONTACT_SERVICE__STORE", "postgresql")
    backend.reconfigure(extra=postgres_server.toml(pg_schema) + LEASE + CALLBACKS)
    return backend


def rows(server: PostgresServer, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(server.dsn()) as conn:
        return conn.execute(query).fetchall()


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.2)
    return condition()


def test_run_once_books_a_booking_mail_into_one_meeting_with_the_state_in_postgresql(
    booked_shared: Backend, postgres_server: PostgresServer, pg_schema: str
) -> None:
    booked_shared.deliver(booking_mail(1, FORM.format(name="mevr. Jansen")), use_date=False)

    result = booked_shared.run_once()

    assert result.returncode == 0, result.stderr.decode()[-2000:]
    (meeting,) = copies(booked_shared)
    assert meeting.subject == "Terugbellen: mevr. Jansen — 06 12345678 — lekkage badkamer"
    (reply,) = replies(booked_shared)
    assert reply.in_reply_to == "<booking-1@ex01.woonservice.example>"
    assert not (booked_shared.state_dir / "topcontact.sqlite3").exists()
    assert rows(postgres_server, f'SELECT mailbox, state FROM "{pg_schema}".callbacks') == [
        (SHARED, "planned")
    ]
    sends = rows(postgres_server, f'SELECT kind, state FROM "{pg_schema}".callback_sends')
    assert sorted(sends) == [("meeting", "sent"), ("reply", "sent")]

    again = booked_shared.run_once()
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    assert len(copies(booked_shared)) == 1, "the next run does not book it a second time"
    assert len(replies(booked_shared)) == 1
    listed = subprocess.run(
        booked_shared.command("callback", "list", "--json"),
        capture_output=True,
        timeout=60,
        check=True,
    )
    (row,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (row["state"], row["in_calendar"], row["tenant"]) == ("planned", True, "mevr. Jansen")


@pytest.mark.parametrize("backend", ["ews"], indirect=True)
def test_the_command_line_books_beside_the_running_daemon_without_taking_its_lease(
    booked_shared: Backend, postgres_server: PostgresServer, pg_schema: str
) -> None:
    def lease() -> list[tuple[Any, ...]]:
        try:
            return rows(
                postgres_server,
                f'SELECT owner, token FROM "{pg_schema}".leases '
                "WHERE expires_at > clock_timestamp()",
            )
        except psycopg.errors.UndefinedTable:  # the daemon has not made the tables yet
            return []

    daemon = booked_shared.start_daemon()
    assert wait_until(lambda: bool(lease()), timeout=30), "the daemon never took its lease"
    (held,) = lease()

    booked = subprocess.run(
        booked_shared.command(
            "callback", "book", "--for", "Jan de Vries", "--name", "dhr. Bos",
            "--phone", "0313 123456", "--subject", "huurachterstand", "--json",
        ),
        capture_output=True,
        timeout=120,
        check=False,
    )  # fmt: skip

    assert booked.returncode == 0, booked.stderr.decode()[-2000:]
    assert json.loads(booked.stdout)["in_calendar"] is True
    assert lease() == [held], "the daemon keeps its lease (and its token)"
    # The daemon goes on working: a booking mail is booked as well, each callback once.
    booked_shared.deliver(booking_mail(2, FORM.format(name="mevr. Jansen")), use_date=False)
    assert wait_until(lambda: len(replies(booked_shared)) == 1, timeout=60)
    assert daemon.poll() is None
    daemon.terminate()
    assert daemon.wait(timeout=30) == 0
    subjects = sorted(m.subject.split(" — ")[0] for m in copies(booked_shared))
    assert subjects == ["Terugbellen: dhr. Bos", "Terugbellen: mevr. Jansen"]


@pytest.mark.parametrize("backend", ["ews"], indirect=True)
def test_scale_out_books_callbacks_in_the_mailboxes_it_works(
    backend: Backend, postgres_server: PostgresServer, pg_schema: str, tmp_path: Path
) -> None:
    backend.reconfigure(extra=CALLBACKS)
    mailboxes = tmp_path / "mailboxes"
    mailboxes.mkdir()
    (mailboxes / "klantcontact.toml").write_text(
        backend.config_file.read_text(encoding="utf-8"), encoding="utf-8"
    )
    instance = tmp_path / "instance.toml"
    instance.write_text(
        '[service]\nstore = "postgresql"\nhealth_listen = ""\nlog_level = "info"\n'
        + postgres_server.toml(pg_schema)
        + LEASE
        + 'mailboxes_dir = "mailboxes"\n',
        encoding="utf-8",
    )
    log = tmp_path / "scale-out.log"
    with log.open("ab") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "topcontact_mail", "scale-out", "--config", str(instance)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    backend.processes.append(process)
    backend.deliver(booking_mail(1, FORM.format(name="mevr. Jansen")), use_date=False)

    booked = wait_until(lambda: len(replies(backend)) == 1, timeout=90)
    process.terminate()
    assert process.wait(timeout=60) == 0
    assert booked, log.read_text(encoding="utf-8")[-3000:]
    (meeting,) = copies(backend)
    assert meeting.subject.startswith("Terugbellen: mevr. Jansen")
    assert rows(postgres_server, f'SELECT mailbox, state FROM "{pg_schema}".callbacks') == [
        (SHARED, "planned")
    ]
