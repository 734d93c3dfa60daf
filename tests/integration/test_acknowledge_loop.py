"""The daemon against the sandbox over HTTP: exactly one threaded acknowledgement per person.

These are the contract tests of the acknowledge-and-track loop; they run for
every backend the `backend` fixture offers.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from exchange_sandbox import Item
from tests.integration.conftest import DEMO_MAIL, FIXTURES, Backend, seed_hitting

pytestmark = pytest.mark.integration

AMS = ZoneInfo("Europe/Amsterdam")
MARKER_KEY = "TopContactMailDecision"
PEOPLE = {  # demo sample → the answer date it must get (received at its Date header)
    "<demo-01-lekkage@example.nl>": "2026-12-04",
    "<demo-02-huur@example.nl>": "2026-12-04",
    "<demo-03-window@example.com>": "2026-12-04",
    "<demo-04-inschrijving@example.nl>": "2026-11-30",
    "<demo-05-verwarming@example.nl>": "2027-01-04",
}
MACHINES = (
    "bounce-postfix.eml",
    "bounce-office365-ndr.eml",
    "oof-exchange-automatic-reply.eml",
    "list-apache-users.eml",
)


def tenant_mail(n: int, day: datetime) -> bytes:
    return (
        f"From: Huurder {n} <huurder{n}@example.nl>\r\n"
        "To: klantcontact@woonservice.example\r\n"
        f"Subject: Vraag nummer {n}\r\n"
        f"Date: {day:%a, %d %b %Y %H:%M:%S %z}\r\n"
        f"Message-ID: <backlog-{n}@example.nl>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Beste mensen, dit is mijn vraag nummer {n}. Met vriendelijke groet.\r\n"
    ).encode()


def marker(item: Item) -> dict[str, object] | None:
    for key, (_, value) in item.extended.items():
        if MARKER_KEY in key:
            return dict(json.loads(value))
    return None


def acknowledged_ids(backend: Backend) -> Counter[str]:
    return Counter(str(m["In-Reply-To"]) for m in backend.sent())


def assert_exactly_once(backend: Backend, expected: set[str]) -> None:
    counts = acknowledged_ids(backend)
    twice = {k: v for k, v in counts.items() if v > 1}
    assert twice == {}, f"acknowledged more than once: {twice}"
    assert set(counts) == expected


def test_every_person_gets_one_threaded_acknowledgement_and_machines_none(backend: Backend) -> None:
    for path in sorted(DEMO_MAIL.glob("*.eml")):
        backend.deliver(path.read_bytes())
    for name in MACHINES:
        backend.deliver((FIXTURES / name).read_bytes(), use_date=False)

    result = backend.run_once()
    assert result.returncode == 0, result.stderr.decode()

    assert_exactly_once(backend, set(PEOPLE))
    originals = {item.message_id: item for item in backend.inbox()}
    sent_items = {item.in_reply_to: item for item in backend.sent_items()}
    for ack in backend.sent():
        original_id = str(ack["In-Reply-To"])
        assert original_id in str(ack["References"])
        for name, value in backend.loop_headers.items():
            assert str(ack[name]) == value, f"{name} on the acknowledgement of {original_id}"
        # Threaded in the mailbox's conversation view too, not just by headers.
        assert sent_items[original_id].conversation_id == originals[original_id].conversation_id
        assert str(ack["From"]).endswith("<klantcontact@woonservice.example>")


def test_each_handled_message_carries_flag_category_and_marker(backend: Backend) -> None:
    for path in sorted(DEMO_MAIL.glob("*.eml")):
        backend.deliver(path.read_bytes())
    assert backend.run_once().returncode == 0

    for item in backend.inbox():
        decision = marker(item)
        assert decision is not None, f"no marker on {item.subject}"
        if item.message_id in PEOPLE:
            due = item.flag.due
            assert item.flag.status == "Flagged"
            assert due is not None
            assert due.astimezone(AMS).date().isoformat() == PEOPLE[item.message_id]
            assert due.astimezone(AMS).hour == 17
            day = datetime.fromisoformat(PEOPLE[item.message_id])
            assert any(
                c.startswith("Top Contact: antwoord vóór") and str(day.day) in c
                for c in item.categories
            )
            assert decision["decision"] == "acknowledge"
        elif decision["reason"] in ("auto_submitted", "bulk_precedence", "delivery_report"):
            assert item.flag.status == "NotFlagged"
            assert item.categories == ()


def test_a_second_run_sends_nothing_new(backend: Backend) -> None:
    for path in sorted(DEMO_MAIL.glob("*.eml"))[:3]:
        backend.deliver(path.read_bytes())
    assert backend.run_once().returncode == 0
    first = len(backend.sent())
    (backend.state_dir / "topcontact.sqlite3").unlink()  # even with the state lost, markers tell
    for suffix in ("-wal", "-shm"):
        (backend.state_dir / f"topcontact.sqlite3{suffix}").unlink(missing_ok=True)
    assert backend.run_once().returncode == 0
    assert len(backend.sent()) == first == 3


@pytest.mark.slow
def test_sigkill_at_random_moments_still_acknowledges_everyone_exactly_once(
    backend: Backend,
) -> None:
    """Twenty SIGKILLs, each while the daemon is sending (not while it starts up)."""
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    backend.reconfigure(small_batches=True)  # many send requests: kills land between and inside
    backend.sandbox.server.latency_ms = 15
    start = datetime(2026, 11, 23, 9, 0, tzinfo=AMS)
    expected = set()
    for n in range(60):
        backend.deliver(tenant_mail(n, start + timedelta(minutes=7 * n)))
        expected.add(f"<backlog-{n}@example.nl>")
    for name in MACHINES:
        backend.deliver((FIXTURES / name).read_bytes(), use_date=False)

    kills_while_sending = 0
    late_mail_delivered = False
    for _ in range(20):
        before = len(backend.sent_items())
        daemon = backend.start_daemon()
        # Ready and at work: the first acknowledgement of this round has gone out.
        deadline = time.monotonic() + 6
        while len(backend.sent_items()) == before and time.monotonic() < deadline:
            time.sleep(0.02)
        sending = len(backend.sent_items()) > before
        time.sleep(rng.uniform(0.0, 0.25))
        daemon.kill()
        daemon.wait()
        kills_while_sending += sending
        if kills_while_sending >= 4 and not late_mail_delivered:
            # Mail keeps arriving while the service crashes.
            late_mail_delivered = True
            for n in range(60, 70):
                backend.deliver(tenant_mail(n, start + timedelta(days=1, minutes=n)))
                expected.add(f"<backlog-{n}@example.nl>")
        elif not sending and late_mail_delivered:
            break  # nothing left to interrupt

    backend.sandbox.server.latency_ms = 0
    result = backend.run_once()
    assert result.returncode == 0, f"seed {seed}: {result.stderr.decode()[-2000:]}"
    assert_exactly_once(backend, expected)
    # The kills really hit the sending, not only start-ups and an idle daemon at the end.
    assert kills_while_sending >= 5, f"seed {seed}"


FAULT_KINDS = ["server_busy", "http503", "http500", "slow", "drop"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_twenty_percent_faults_of_each_kind_still_exactly_once(backend: Backend, kind: str) -> None:
    backend.reconfigure(small_batches=True)
    start = datetime(2026, 11, 23, 9, 0, tzinfo=AMS)
    expected = set()
    for n in range(40):
        backend.deliver(tenant_mail(n, start + timedelta(minutes=n)))
        expected.add(f"<backlog-{n}@example.nl>")
    backend.sandbox.set_faults(f"{kind}=0.2,backoff_ms=400,slow_ms=300,seed={seed_hitting(0.2)}")

    result = backend.run_once()
    backend.sandbox.set_faults("")
    if result.returncode != 0:  # a drain may give up with work pending; the next run finishes it
        result = backend.run_once()
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert_exactly_once(backend, expected)
    assert backend.sandbox.server.stats.faults[kind] > 0


def test_retries_honour_the_servers_back_off(backend: Backend) -> None:
    for n in range(10):
        backend.deliver(tenant_mail(n, datetime(2026, 11, 23, 9, n, tzinfo=AMS)))
    backend.sandbox.set_faults("server_busy=0.3,backoff_ms=900,seed=7")
    began = time.monotonic()
    result = backend.run_once()
    elapsed = time.monotonic() - began
    backend.sandbox.set_faults("")
    busy = backend.sandbox.server.stats.faults["server_busy"]
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert busy > 0
    if backend.name == "ews":
        # exchangelib works one request at a time, so every busy answer costs its back-off.
        assert elapsed >= busy * 0.9
    else:
        # Graph answers busy per request inside a $batch of up to 20; the refused ones are
        # retried together after the longest Retry-After, so each round costs one wait.
        assert elapsed >= math.ceil(busy / 20) * 0.9
    assert len(acknowledged_ids(backend)) == 10


@pytest.mark.parametrize("backend", ["ews"], indirect=True)  # the sandbox loses answers on EWS only
def test_sends_whose_answer_is_lost_are_found_in_sent_items_not_repeated(backend: Backend) -> None:
    backend.reconfigure(small_batches=True)
    start = datetime(2026, 11, 23, 9, 0, tzinfo=AMS)
    expected = set()
    for n in range(30):
        backend.deliver(tenant_mail(n, start + timedelta(minutes=n)))
        expected.add(f"<backlog-{n}@example.nl>")
    # The send is carried out, then the connection drops before the answer.
    operation = "CreateItem" if backend.name == "ews" else "graph.batch"
    backend.sandbox.set_faults(f"lost=0.4,ops={operation},seed={seed_hitting(0.4, lost=True)}")

    result = backend.run_once()
    backend.sandbox.set_faults("")
    if result.returncode != 0:
        result = backend.run_once()
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert backend.sandbox.server.stats.faults["lost"] > 0
    assert_exactly_once(backend, expected)
