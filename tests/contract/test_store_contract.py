"""The StateStore port's contract, held against every store (SQLite today).

The exactly-once protocol (docs/exactly-once.md) rests on these promises: an
intent is durable with its acknowledgement, a claim is only sent once marked,
an attempt makes the outcome unsure until it is settled, and a settled
acknowledgement never comes back.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from topcontact_mail.adapters.sqlite_store import SqliteStore
from topcontact_mail.domain.acknowledgement import LOOP_HEADERS
from topcontact_mail.domain.message import Acknowledgement, Address, IncomingMessage
from topcontact_mail.ports import MessageRecord, SendResult, StateStore

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=AMS)


@pytest.fixture(params=["sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    sqlite = SqliteStore(tmp_path / "state.sqlite3")
    yield sqlite
    sqlite.close()


def ack(n: int) -> Acknowledgement:
    return Acknowledgement(
        recipient=Address(f"huurder{n}@example.nl", "Jan Jansen"),
        subject="Ontvangstbevestiging: Vraag",
        text_body="We hebben uw e-mail ontvangen.",
        html_body="<p>We hebben uw e-mail ontvangen.</p>",
        language="nl",
        in_reply_to=f"<m{n}@example.nl>",
        references=(f"<m{n}@example.nl>",),
        headers=LOOP_HEADERS,
    )


def record(n: int, *, intent: bool = True, minutes: int = 0, **extra: object) -> MessageRecord:
    values: dict[str, object] = {
        "item_id": f"item-{n}",
        "internet_message_id": f"<m{n}@example.nl>",
        "conversation_id": f"conv-{n}",
        "sender": f"huurder{n}@example.nl",
        "received": NOW + timedelta(minutes=minutes),
        "reception_day": date(2026, 11, 27),
        "answer_by": datetime(2026, 12, 4, 17, 0, tzinfo=AMS),
        "acknowledge": intent,
        "reason": "person" if intent else "auto_submitted",
        "detail": "",
        "needs_answer": intent,
        "ack_state": "intent" if intent else "none",
        "ack_ref": f"ref{n}" if intent else None,
        "ack_message_id": f"<ref{n}@woonservice.example>" if intent else None,
    }
    values.update(extra)
    return MessageRecord(**values)  # type: ignore[arg-type]


def test_a_decision_is_kept_with_its_acknowledgement(store: StateStore) -> None:
    store.record(record(1), NOW, ack(1))

    kept = store.get("item-1")
    assert kept is not None
    assert (kept.reason, kept.ack_state, kept.ack_ref) == ("person", "intent", "ref1")
    assert store.get_by_ref("ref1") == kept
    assert store.get("item-2") is None


def test_an_intent_is_sent_only_once_claimed(store: StateStore) -> None:
    store.record(record(1), NOW, ack(1))
    store.record(record(2, intent=False), NOW)

    assert [r.item_id for r in store.pending_marks(10)] == ["item-1", "item-2"]
    assert store.pending_sends(10, attempted=False) == []
    store.set_marked(["item-1", "item-2"])

    (pending,) = store.pending_sends(10, attempted=False)
    assert (pending.item_id, pending.ref, pending.acknowledgement) == ("item-1", "ref1", ack(1))
    assert store.pending_marks(10) == []


def test_an_attempt_makes_the_outcome_unsure_until_it_is_settled(store: StateStore) -> None:
    store.record(record(1), NOW, ack(1))
    store.set_marked(["item-1"])
    store.attempting(["item-1"], NOW)

    assert store.pending_sends(10, attempted=False) == []
    (unsure,) = store.pending_sends(10, attempted=True)
    assert (unsure.attempts, unsure.last_attempt) == (1, NOW)

    store.settle([SendResult("item-1", "retry", "answer lost")], NOW)
    assert [p.item_id for p in store.pending_sends(10, attempted=True)] == ["item-1"]
    store.settle([SendResult("item-1", "retry", "refused", not_sent=True)], NOW)
    assert [p.item_id for p in store.pending_sends(10, attempted=False)] == ["item-1"]

    store.attempting(["item-1"], NOW)
    store.settle([SendResult("item-1", "sent")], NOW + timedelta(seconds=1))
    kept = store.get("item-1")
    assert kept is not None
    assert (kept.ack_state, kept.attempts, kept.ack_sent_at) == (
        "sent",
        2,
        NOW + timedelta(seconds=1),
    )
    assert store.pending_sends(10, attempted=False) == []
    assert store.pending_sends(10, attempted=True) == []


def test_a_mark_given_up_lets_the_acknowledgement_go_unclaimed(store: StateStore) -> None:
    store.record(record(1), NOW, ack(1))

    assert store.mark_failed("item-1", "item not found", give_up_after=2) is False
    assert store.mark_failed("item-1", "item not found", give_up_after=2) is True

    assert store.pending_marks(10) == []
    assert [p.item_id for p in store.pending_sends(10, attempted=False)] == ["item-1"]


def test_pending_work_comes_oldest_reception_first(store: StateStore) -> None:
    for n, minutes in ((1, 30), (2, 10), (3, 20)):
        store.record(record(n, minutes=minutes), NOW, ack(n))

    assert [r.item_id for r in store.pending_marks(2)] == ["item-2", "item-3"]


def test_the_history_counts_what_was_acknowledged(store: StateStore) -> None:
    store.record(record(1, conversation_id="c", sender="piet@example.nl"), NOW, ack(1))
    store.record(record(2, intent=False, sender="piet@example.nl"), NOW)
    message = IncomingMessage(
        sender=Address("Piet@Example.nl"), conversation_id="c", message_id="<m1@example.nl>"
    )

    history = store.history(message, NOW - timedelta(hours=1), NOW, hour_cap=100)

    assert history.earlier_reason == "person"  # the same Message-ID was recorded
    assert history.conversation_acknowledged is True
    assert history.sender_acknowledged_today == 1
    assert history.acknowledged_last_hour == 1


def test_watermarks_are_kept_until_cleared(store: StateStore) -> None:
    assert store.watermark("inbox") is None
    store.set_watermark("inbox", "state-1", NOW)
    store.set_watermark("inbox", "state-2", NOW)
    assert store.watermark("inbox") == "state-2"
    store.clear_watermark("inbox")
    assert store.watermark("inbox") is None
