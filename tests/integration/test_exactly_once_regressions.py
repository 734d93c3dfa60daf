"""The ways an outside harness once doubled acknowledgements, each reproduced, each held now.

Every test runs the real daemon against the sandbox on both backends and counts
acknowledgements per original in the sandbox's Sent Items.
"""

from __future__ import annotations

import random
import shutil
import time
from datetime import datetime, timedelta

import pytest

from tests.integration.conftest import SHARED, Backend, seed_hitting
from tests.integration.test_acknowledge_loop import AMS, assert_exactly_once, tenant_mail
from topcontact_mail.adapters.sqlite_store import SqliteStore

pytestmark = pytest.mark.integration

#: The send operation of each backend, as the sandbox's fault injection names it.
SEND_OPERATION = {"ews": "CreateItem", "graph": "graph.messages.reply"}
#: What a lost answer hits on each backend: Graph loses the whole `$batch` the replies go in.
LOST_OPERATION = {"ews": "CreateItem", "graph": "graph.batch"}


def backlog(backend: Backend, people: int, first: int = 0) -> set[str]:
    start = datetime(2026, 11, 23, 9, 0, tzinfo=AMS)
    expected = set()
    for n in range(first, first + people):
        backend.deliver(tenant_mail(n, start + timedelta(minutes=n)))
        expected.add(f"<backlog-{n}@example.nl>")
    return expected


def wait_until_settled(backend: Backend, expected: set[str], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if {str(m["In-Reply-To"]) for m in backend.sent()} >= expected:
            time.sleep(3)  # a while longer: a second acknowledgement would come now
            return
        time.sleep(0.2)


def stop(backend: Backend) -> None:
    for process in backend.processes:
        process.terminate()
        process.wait(timeout=30)


def test_lost_answers_in_daemon_mode_are_found_not_sent_again(backend: Backend) -> None:
    """Was: 30 of 100 people got two acknowledgements (EWS, two sessions in the pool)."""
    backend.reconfigure(small_batches=True)
    expected = backlog(backend, 40)
    backend.sandbox.set_faults(
        f"lost=0.3,ops={LOST_OPERATION[backend.name]},seed={seed_hitting(0.3, lost=True)}"
    )

    backend.start_daemon()  # the streaming thread holds a second session, as in production
    wait_until_settled(backend, expected, 90)
    stop(backend)

    assert backend.sandbox.server.stats.faults["lost"] > 0
    assert_exactly_once(backend, expected)


def test_answers_slower_than_the_client_waits_never_double(backend: Backend) -> None:
    """Was: 30 of 103 doubled on EWS, 36 of 103 got 2-7 on Graph (slow=0.3, timeout 3 s)."""
    backend.reconfigure(small_batches=True, timeout=1.5, in_doubt=30)
    expected = backlog(backend, 20)
    backend.sandbox.set_faults(
        f"slow=0.3,slow_ms=3000,ops={SEND_OPERATION[backend.name]},seed={seed_hitting(0.3)}"
    )

    result = backend.run_once(timeout=300)
    backend.sandbox.set_faults("")
    if result.returncode != 0:  # the drain may stop with unsure sends still in their window
        result = backend.run_once(timeout=300)

    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert backend.sandbox.server.stats.faults["slow"] > 0
    assert_exactly_once(backend, expected)


def test_a_state_file_lost_mid_way_never_sends_twice(backend: Backend) -> None:
    """Was: 28 of 220 doubled on EWS, 11 of 220 on Graph (sent, not yet marked, state gone)."""
    backend.reconfigure(small_batches=True)
    backend.sandbox.server.latency_ms = 10
    expected = backlog(backend, 60)
    rng = random.Random()
    for _ in range(6):
        before = len(backend.sent_items())
        daemon = backend.start_daemon()
        deadline = time.monotonic() + 6
        while len(backend.sent_items()) == before and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.2))
        daemon.kill()
        daemon.wait()
        if len(backend.sent_items()) > 5:
            break
    shutil.rmtree(backend.state_dir)  # the state file is gone; the mailbox is the last word
    backend.sandbox.server.latency_ms = 0

    result = backend.run_once()

    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert_exactly_once(backend, expected)


@pytest.mark.parametrize("backend", ["ews"], indirect=True)  # Graph sends without GetFolder
def test_a_server_fault_on_folders_is_waited_out_not_a_crash(backend: Backend) -> None:
    """Was: http500 on GetFolder after start-up made the first Sent Items access crash (exit 1)."""
    backend.deliver(tenant_mail(0, datetime(2026, 11, 23, 9, 0, tzinfo=AMS)))
    daemon = backend.start_daemon()
    deadline = time.monotonic() + 20
    while not backend.sent() and time.monotonic() < deadline:
        time.sleep(0.1)
    backend.sandbox.set_faults("http500=1.0,ops=GetFolder")
    expected = {"<backlog-0@example.nl>"} | backlog(backend, 1, first=1)
    time.sleep(4)
    assert daemon.poll() is None, "the daemon stopped on a server fault"
    backend.sandbox.set_faults("")
    wait_until_settled(backend, expected, 60)
    stop(backend)

    assert_exactly_once(backend, expected)


@pytest.mark.parametrize("backend", ["ews"], indirect=True)  # Graph reads pages whole by delta
def test_one_message_the_server_cannot_serve_is_set_aside_and_the_inbox_goes_on(
    backend: Backend,
) -> None:
    """Was: one message whose GetItem failed every time stalled 42 messages for 8 minutes."""
    expected = backlog(backend, 41)
    poison = backend.deliver(tenant_mail(99, datetime(2026, 11, 23, 8, 0, tzinfo=AMS)))
    backend.sandbox.set_faults(f"drop=1.0,ops=GetItem,match={poison.id}")
    started = time.monotonic()
    daemon = backend.start_daemon()
    wait_until_settled(backend, expected, 120)
    took = time.monotonic() - started
    stop(backend)

    assert daemon.returncode == 0
    assert_exactly_once(backend, expected)  # the 41 others, and nothing to the unreadable one
    assert took < 90, f"the others waited {took:.0f} s for one message"
    store = SqliteStore(backend.state_dir / "topcontact.sqlite3")
    try:
        record = store.get(poison.id)
    finally:
        store.close()
    assert record is not None, "the unreadable message was not recorded"
    assert record.reason == "quarantined"
    log = (backend.config_file.parent / "daemon.log").read_text("utf-8")
    assert "message quarantined" in log
    assert poison.id in log


@pytest.mark.parametrize("in_transit", ["outbox", "hidden"])
def test_exactly_once_while_exchange_submits_asynchronously(
    backend: Backend, in_transit: str
) -> None:
    """Copies reach Sent Items seconds after the send (or are invisible until then), answers
    get lost, and the daemon is killed while it sends: still one acknowledgement each."""
    backend.reconfigure(small_batches=True, in_doubt=20)
    backend.sandbox.store.submissions.change(
        {"delay_ms": 3000, "jitter_ms": 2000, "in_transit": in_transit}
    )
    expected = backlog(backend, 30)
    backend.sandbox.set_faults(
        f"lost=0.3,ops={LOST_OPERATION[backend.name]},seed={seed_hitting(0.3, lost=True)}"
    )
    for _ in range(3):
        daemon = backend.start_daemon()
        deadline = time.monotonic() + 8
        while not backend.sandbox.store.in_transit(SHARED) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(random.uniform(0.0, 0.5))
        daemon.kill()
        daemon.wait()
    backend.sandbox.set_faults("")

    result = backend.run_once(timeout=300)
    if result.returncode != 0:  # unsure sends may still wait out their window
        result = backend.run_once(timeout=300)
    deadline = time.monotonic() + 15
    while backend.sandbox.store.in_transit(SHARED) and time.monotonic() < deadline:
        time.sleep(0.2)

    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert_exactly_once(backend, expected)
