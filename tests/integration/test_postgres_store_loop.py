"""The daemon with `store = "postgresql"` against the sandbox: exactly once under SIGKILL, the
state in the shared database, one instance per mailbox (its lease)."""

from __future__ import annotations

import random
import subprocess
import time
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.integration.conftest import Backend
from tests.integration.test_acknowledge_loop import (
    AMS,
    DEMO_MAIL,
    FIXTURES,
    MACHINES,
    PEOPLE,
    assert_exactly_once,
    tenant_mail,
)
from tests.pg_server import PostgresServer

pytestmark = pytest.mark.integration


@pytest.fixture
def shared(
    backend: Backend, postgres_server: PostgresServer, pg_schema: str, monkeypatch: Any
) -> Backend:
    """The backend's daemon with its state in the test's PostgreSQL schema."""
    monkeypatch.setenv("TOPCONTACT_SERVICE__STORE", "postgresql")
    extra = postgres_server.toml(pg_schema) + (
        '[scale_out]\ninstance_id = "test-instance"\nlease_seconds = 6\nrenew_seconds = 2\n'
    )
    backend.reconfigure(small_batches=True, extra=extra)
    return backend


def test_every_person_gets_one_acknowledgement_with_the_state_in_postgresql(
    shared: Backend, postgres_server: PostgresServer, pg_schema: str
) -> None:
    for path in sorted(DEMO_MAIL.glob("*.eml")):
        shared.deliver(path.read_bytes())
    for name in MACHINES:
        shared.deliver((FIXTURES / name).read_bytes(), use_date=False)

    result = shared.run_once()
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert_exactly_once(shared, set(PEOPLE))
    assert not (shared.state_dir / "topcontact.sqlite3").exists()
    import psycopg

    with psycopg.connect(postgres_server.dsn()) as conn:
        rows = conn.execute(
            f'SELECT mailbox, count(*) FROM "{pg_schema}".messages GROUP BY mailbox'
        ).fetchall()
        lease = conn.execute(
            f'SELECT owner, expires_at <= clock_timestamp() FROM "{pg_schema}".leases'
        ).fetchone()
    assert rows == [("klantcontact@woonservice.example", len(shared.inbox()))]
    assert lease == ("test-instance", True)  # given back when the run ended
    assert shared.run_once().returncode == 0
    assert_exactly_once(shared, set(PEOPLE))


@pytest.mark.parametrize("backend", ["ews"], indirect=True)
def test_a_second_instance_for_the_same_mailbox_is_refused(
    shared: Backend, monkeypatch: Any
) -> None:
    shared.deliver(tenant_mail(1, datetime(2026, 11, 23, 9, 0, tzinfo=AMS)))
    first = shared.start_daemon()
    time.sleep(4)  # it holds the lease now
    monkeypatch.setenv("TOPCONTACT_SCALE_OUT__INSTANCE_ID", "another-machine")
    began = time.monotonic()
    second = subprocess.run(
        shared.command("run", "--once"), capture_output=True, timeout=120, check=False
    )
    waited = time.monotonic() - began
    assert second.returncode == 2, second.stderr.decode()[-2000:]
    assert "worked by instance 'test-instance'" in second.stderr.decode()
    assert waited >= 6  # it waited a lease's length for a dead holder's lease to expire
    assert first.poll() is None
    first.terminate()
    assert first.wait(timeout=30) == 0
    assert_exactly_once(shared, {"<backlog-1@example.nl>"})


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["ews"], indirect=True)
def test_sigkill_while_sending_still_acknowledges_everyone_exactly_once(shared: Backend) -> None:
    """Ten SIGKILLs while the daemon sends; a restart takes its own lease back at once."""
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    shared.sandbox.server.latency_ms = 15
    start = datetime(2026, 11, 23, 9, 0, tzinfo=AMS)
    expected = set()
    for n in range(40):
        shared.deliver(tenant_mail(n, start + timedelta(minutes=7 * n)))
        expected.add(f"<backlog-{n}@example.nl>")

    kills_while_sending = 0
    for _ in range(10):
        before = len(shared.sent_items())
        daemon = shared.start_daemon()
        deadline = time.monotonic() + 10
        while len(shared.sent_items()) == before and time.monotonic() < deadline:
            time.sleep(0.02)
        sending = len(shared.sent_items()) > before
        time.sleep(rng.uniform(0.0, 0.25))
        daemon.kill()
        daemon.wait()
        kills_while_sending += sending
        if not sending:
            break

    shared.sandbox.server.latency_ms = 0
    result = shared.run_once()
    assert result.returncode == 0, f"seed {seed}: {result.stderr.decode()[-2000:]}"
    assert_exactly_once(shared, expected)
    assert kills_while_sending >= 3, f"seed {seed}"
