"""Leases on the shared database: one owner per mailbox, expiry, take-over, and the fence that
refuses a stale owner's writes (docs/scale-out.md). Against a throw-away PostgreSQL server."""

from __future__ import annotations

import threading
import time
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from topcontact_mail.adapters.postgres import LeaseKeeper, LeaseLost, Leases, PostgresStore
from topcontact_mail.domain.acknowledgement import LOOP_HEADERS
from topcontact_mail.domain.message import Acknowledgement, Address
from topcontact_mail.ports import MessageRecord
from topcontact_mail.ports.calendar import CallbackRecord, MeetingRecord

pytestmark = pytest.mark.integration

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=AMS)
BOX = "klantcontact@woonservice.example"
SHORT = {"lease_seconds": 1.5, "renew_seconds": 0.5}


class FakeClock:
    """The holder's monotonic clock, moved by hand (the database's clock runs as it runs)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record(n: int) -> MessageRecord:
    return MessageRecord(
        item_id=f"item-{n}",
        internet_message_id=f"<m{n}@example.nl>",
        conversation_id=f"conv-{n}",
        sender=f"huurder{n}@example.nl",
        received=NOW,
        reception_day=date(2026, 11, 27),
        answer_by=datetime(2026, 12, 4, 17, 0, tzinfo=AMS),
        acknowledge=True,
        reason="person",
        detail="",
        needs_answer=True,
        ack_state="intent",
        ack_ref=f"ref{n}",
        ack_message_id=f"<ref{n}@woonservice.example>",
    )


def ack(n: int) -> Acknowledgement:
    return Acknowledgement(
        recipient=Address(f"huurder{n}@example.nl"),
        subject="Ontvangstbevestiging",
        text_body="We hebben uw e-mail ontvangen.",
        html_body="<p>We hebben uw e-mail ontvangen.</p>",
        language="nl",
        in_reply_to=f"<m{n}@example.nl>",
        references=(f"<m{n}@example.nl>",),
        headers=LOOP_HEADERS,
    )


@pytest.fixture
def schema_ready(pg_pool: Any, pg_schema: str) -> Any:
    """The pool, with the tables made (a store opening the database migrates it)."""
    PostgresStore(pg_pool, BOX, schema=pg_schema)
    return pg_pool


def test_a_mailbox_has_one_owner_at_a_time(schema_ready: Any) -> None:
    first = Leases(schema_ready, "instance-a")
    second = Leases(schema_ready, "instance-b")

    held = first.acquire(BOX)
    assert held is not None
    assert held.valid()
    assert second.acquire(BOX) is None
    holder = second.holder(BOX)
    assert holder is not None
    assert (holder.owner, holder.token, holder.live) == ("instance-a", held.token, True)
    # Another mailbox is free for the second instance all the same.
    assert second.acquire("verhuur@woonservice.example") is not None


def test_an_expired_lease_is_taken_over_with_a_larger_token(schema_ready: Any) -> None:
    first = Leases(schema_ready, "instance-a", **SHORT)
    second = Leases(schema_ready, "instance-b", **SHORT)
    held = first.acquire(BOX)
    assert held is not None

    time.sleep(SHORT["lease_seconds"] + 0.2)  # the first instance died: no renewal
    taken = second.acquire(BOX)

    assert taken is not None
    assert taken.token > held.token
    assert first.renew(held) is False  # lost for good, even if it comes back
    assert not held.valid()


def test_renewing_keeps_the_lease_past_its_first_expiry(schema_ready: Any) -> None:
    first = Leases(schema_ready, "instance-a", **SHORT)
    second = Leases(schema_ready, "instance-b", **SHORT)
    held = first.acquire(BOX)
    assert held is not None
    keeper = LeaseKeeper(first, [held]).start()
    try:
        time.sleep(SHORT["lease_seconds"] * 2)
        assert held.valid()
        assert second.acquire(BOX) is None
    finally:
        keeper.stop()


def test_the_holder_stops_before_the_database_lets_another_take_over(schema_ready: Any) -> None:
    clock = FakeClock()
    first = Leases(schema_ready, "instance-a", lease_seconds=30, renew_seconds=10, clock=clock)
    held = first.acquire(BOX)
    assert held is not None

    clock.now += 19.9
    assert held.valid()
    clock.now += 0.2  # 20.1 s without a renewal: lease_seconds - renew_seconds have passed
    assert not held.valid()
    holder = first.holder(BOX)
    assert holder is not None
    assert holder.live
    with pytest.raises(LeaseLost):
        held.check()
    assert first.renew(held) is False  # a late renewal is never taken: the work stopped


def test_a_released_lease_is_free_at_once(schema_ready: Any) -> None:
    first = Leases(schema_ready, "instance-a")
    second = Leases(schema_ready, "instance-b")
    held = first.acquire(BOX)
    assert held is not None

    first.release(held)

    assert not held.valid()
    taken = second.acquire(BOX)
    assert taken is not None
    assert taken.token > held.token


def test_a_restarted_instance_takes_its_own_lease_back_with_a_new_token(schema_ready: Any) -> None:
    before = Leases(schema_ready, "instance-a")
    old = before.acquire(BOX)
    after = Leases(schema_ready, "instance-a")  # the same name, a new process
    new = after.acquire(BOX)

    assert old is not None
    assert new is not None
    assert new.token > old.token
    assert before.renew(old) is False


def test_the_fence_refuses_a_stale_owners_write(schema_ready: Any, pg_schema: str) -> None:
    clock = FakeClock()  # the stale owner's clock stands still: it was stalled, and never noticed
    first = Leases(schema_ready, "instance-a", clock=clock, **SHORT)
    second = Leases(schema_ready, "instance-b", **SHORT)
    held = first.acquire(BOX)
    assert held is not None
    stale = PostgresStore(schema_ready, BOX, schema=pg_schema, fence=held)
    stale.record(record(1), NOW, ack(1))  # while it holds the lease, it writes

    time.sleep(SHORT["lease_seconds"] + 0.2)
    taken = second.acquire(BOX)
    assert taken is not None
    assert held.valid()  # by its own (stalled) clock it still holds the lease
    with pytest.raises(LeaseLost):
        stale.attempting(["item-1"], NOW)
    with pytest.raises(LeaseLost):
        stale.record(record(2), NOW, ack(2))

    current = PostgresStore(schema_ready, BOX, schema=pg_schema, fence=taken)
    kept = current.get("item-1")
    assert kept is not None
    assert kept.attempts == 0
    assert current.get("item-2") is None
    current.set_marked(["item-1"])  # the new owner writes
    assert not held.valid()  # a refused write makes the stale owner stop


def test_an_expired_lease_nobody_took_still_refuses_writes(
    schema_ready: Any, pg_schema: str
) -> None:
    clock = FakeClock()
    first = Leases(schema_ready, "instance-a", clock=clock, **SHORT)
    held = first.acquire(BOX)
    assert held is not None
    store = PostgresStore(schema_ready, BOX, schema=pg_schema, fence=held)

    time.sleep(SHORT["lease_seconds"] + 0.2)

    with pytest.raises(LeaseLost):
        store.set_watermark("inbox", "state-1", NOW)
    assert store.watermark("inbox") is None


def test_a_take_over_waits_for_the_write_in_progress(schema_ready: Any, pg_schema: str) -> None:
    clock = FakeClock()
    first = Leases(schema_ready, "instance-a", clock=clock, **SHORT)
    second = Leases(schema_ready, "instance-b", **SHORT)
    held = first.acquire(BOX)
    assert held is not None
    store = PostgresStore(schema_ready, BOX, schema=pg_schema, fence=held)
    taken_at: list[float] = []

    def take_over() -> None:
        while second.acquire(BOX) is None:
            time.sleep(0.05)
        taken_at.append(time.monotonic())

    with store.transaction() as tx:  # the fence passed; the lease row is share-locked
        tx.execute(
            "INSERT INTO watermarks (mailbox, name, value, updated_at) VALUES (%s, %s, %s, %s)",
            (BOX, "inbox", "written-in-time", NOW),
        )
        time.sleep(SHORT["lease_seconds"] + 0.2)  # the lease expires meanwhile
        thief = threading.Thread(target=take_over)
        thief.start()
        time.sleep(0.5)
        assert taken_at == []  # the take-over waits for this write
        committed_at = time.monotonic()
    thief.join(timeout=10)
    assert taken_at
    assert taken_at[0] >= committed_at
    assert store.watermark("inbox") == "written-in-time"


def test_instances_count_themselves_alive_and_leave(schema_ready: Any) -> None:
    first = Leases(schema_ready, "instance-a", **SHORT)
    second = Leases(schema_ready, "instance-b", **SHORT)

    assert first.heartbeat() == 1
    assert second.heartbeat() == 2
    second.leave()
    assert first.heartbeat() == 1
    time.sleep(SHORT["lease_seconds"] + 0.2)
    assert second.heartbeat() == 1  # the first stopped beating: no longer counted


def test_the_fence_refuses_a_stale_owners_callback_writes(
    schema_ready: Any, pg_schema: str
) -> None:
    clock = FakeClock()
    first = Leases(schema_ready, "instance-a", clock=clock, **SHORT)
    second = Leases(schema_ready, "instance-b", **SHORT)
    held = first.acquire(BOX)
    assert held is not None
    stale = PostgresStore(schema_ready, BOX, schema=pg_schema, fence=held)
    stale.record_callback(booking(1), NOW, meeting(1))  # while it holds the lease, it books

    time.sleep(SHORT["lease_seconds"] + 0.2)
    taken = second.acquire(BOX)
    assert taken is not None
    with pytest.raises(LeaseLost):
        stale.attempting_sends(["meet-1"], NOW)
    with pytest.raises(LeaseLost):
        stale.record_callback(booking(2), NOW, meeting(2, "cb-2"))

    current = PostgresStore(schema_ready, BOX, schema=pg_schema, fence=taken)
    (pending,) = current.pending_meetings(10, attempted=False)  # never attempted by the stale one
    assert pending.ref == "meet-1"
    assert current.get_callback("cb-2") is None
    current.attempting_sends(["meet-1"], NOW)  # the new owner books


def booking(n: int) -> CallbackRecord:
    return CallbackRecord(
        id=f"cb-{n}",
        source="mail",
        booked_by="a.bakker@woonservice.example",
        booked_at=NOW,
        state="planned",
        booking_item_id=f"item-{n}",
    )


def meeting(n: int, callback_id: str = "cb-1") -> MeetingRecord:
    return MeetingRecord(
        ref=f"meet-{n}",
        callback_id=callback_id,
        colleague="j.devries@woonservice.example",
        colleague_name="Jan de Vries",
        slot_start=NOW,
        slot_end=NOW,
        at_risk=False,
        state="intent",
    )
