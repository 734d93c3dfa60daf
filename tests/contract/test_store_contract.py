"""The StateStore port's contract, held against every store: SQLite, and PostgreSQL (a throw-away
server the tests start, tests/pg_server.py; skipped with the reason where it cannot start).

The exactly-once protocol (docs/exactly-once.md) rests on these promises: an
intent is durable with its acknowledgement, a claim is only sent once marked,
an attempt makes the outcome unsure until it is settled, and a settled
acknowledgement never comes back. Keeping the promise (docs/tracking.md) rests
on the targets, their progress and the team's mails being state: an answer
stays, a warning is given once, an escalation is recorded with its mail.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from topcontact_mail.adapters.sqlite_store import SqliteStore
from topcontact_mail.domain.acknowledgement import LOOP_HEADERS
from topcontact_mail.domain.message import Acknowledgement, Address, IncomingMessage
from topcontact_mail.domain.tracking import Answered, AnswerMethod, TrackedTarget
from topcontact_mail.ports import (
    MessageRecord,
    NoticeKind,
    OutgoingNotice,
    PendingNotice,
    SendResult,
    StateStore,
    TargetProgress,
)

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=AMS)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    if request.param == "postgresql":
        from topcontact_mail.adapters.postgres import PostgresStore

        pool: Any = request.getfixturevalue("pg_pool")
        schema: str = request.getfixturevalue("pg_schema")
        postgres = PostgresStore(pool, "klantcontact@woonservice.example", schema=schema)
        # A second mailbox in the same database: its rows must never show in the first's.
        other = PostgresStore(pool, "verhuur@woonservice.example", schema=schema)
        other.record(record(1), NOW, ack(1), target(1))
        other.queue_notice(notice("n1", "overview"), [], NOW)
        other.set_watermark("inbox", "other-state", NOW)
        yield postgres
        postgres.close()
        return
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


# -- keeping the promise: targets, progress and the team's mails ------------------------------


def target(n: int, *, minutes: int = 0, **extra: object) -> TrackedTarget:
    values: dict[str, object] = {
        "item_id": f"item-{n}",
        "received": NOW + timedelta(minutes=minutes),
        "reception_day": date(2026, 11, 27),
        "answer_by": datetime(2026, 12, 4, 17, 0, tzinfo=AMS),
        "conversation_id": f"conv-{n}",
        "sender": f"huurder{n}@example.nl",
    }
    values.update(extra)
    return TrackedTarget(**values)  # type: ignore[arg-type]


def notice(
    ref: str, kind: NoticeKind = "escalation", day: date = date(2026, 12, 7)
) -> PendingNotice:
    mail = OutgoingNotice(
        ref, (Address("teamleider@woonservice.example"),), "Termijn voorbij", "Lijst van berichten"
    )
    return PendingNotice(mail, kind, day)


def test_a_target_is_kept_with_its_decision_and_found_by_conversation(store: StateStore) -> None:
    store.record(record(1), NOW, ack(1), target(1))
    store.record(
        record(2, conversation_id="conv-1"),
        NOW,
        ack(2),
        target(2, conversation_id="conv-1", joined_to="item-1"),
    )
    store.record(record(3, intent=False), NOW)

    assert store.targets() == [target(1), target(2, conversation_id="conv-1", joined_to="item-1")]
    assert [t.item_id for t in store.conversation_targets("conv-1")] == ["item-1", "item-2"]
    assert store.conversation_targets("conv-3") == []
    assert store.records_without_target(10) == []


def test_records_that_need_an_answer_without_a_target_are_found_and_get_one(
    store: StateStore,
) -> None:
    store.record(record(1), NOW, ack(1))
    store.record(record(2, intent=False), NOW)

    (missing,) = store.records_without_target(10)
    assert missing.item_id == "item-1"
    store.add_targets([target(1)], NOW)
    store.add_targets([target(1, answer_by=NOW)], NOW)  # one already there stays as it is

    assert store.targets() == [target(1)]
    assert store.records_without_target(10) == []


def test_an_answer_closes_a_target_once_and_for_all(store: StateStore) -> None:
    store.add_targets([target(1), target(2, minutes=5)], NOW)
    first = Answered(NOW + timedelta(days=1), "reply_sent", AnswerMethod.REPLY, "a reply")
    later = Answered(NOW + timedelta(days=2), "flag_completed", AnswerMethod.FLAG_COMPLETE, "")

    store.record_answers({"item-1": first}, NOW)
    store.record_answers({"item-1": later}, NOW)

    (answered, still_open) = store.targets()
    assert (answered.answered_at, answered.answered_how) == (first.when, "reply_sent")
    assert [t.item_id for t in store.targets(open_only=True)] == ["item-2"]
    assert [o.item_id for o in store.to_observe()] == ["item-2"]
    assert still_open.answered_at is None


def test_what_observing_needs_comes_with_the_open_targets(store: StateStore) -> None:
    store.record(record(1), NOW, ack(1), target(1))
    store.set_marked(["item-1"])
    (before,) = store.to_observe()
    assert (before.internet_message_id, before.acknowledgement_message_id) == (
        "<m1@example.nl>",
        "<ref1@woonservice.example>",
    )
    assert before.acknowledgement_sent_at is None  # not sent yet
    store.attempting(["item-1"], NOW)
    store.settle([SendResult("item-1", "sent")], NOW + timedelta(seconds=3))

    (after,) = store.to_observe()
    assert after.acknowledgement_sent_at == NOW + timedelta(seconds=3)


def test_a_moved_message_takes_its_target_and_progress_along(store: StateStore) -> None:
    store.record(record(1), NOW, ack(1), target(1))
    store.add_targets([target(2, joined_to="item-1")], NOW)
    store.set_category(["item-1"], "warning", NOW)

    store.retarget("item-1", "item-1b")

    assert [t.item_id for t in store.targets()] == ["item-1b", "item-2"]
    assert store.targets()[1].joined_to == "item-1b"
    assert store.progress()["item-1b"].category == "warning"
    (watched, _) = store.to_observe()
    assert watched.internet_message_id == "<m1@example.nl>"  # still joined to its record


def test_progress_keeps_the_warning_once_and_the_category_until_cleared(
    store: StateStore,
) -> None:
    store.add_targets([target(1), target(2)], NOW)
    store.set_category(["item-1"], "warning", NOW)
    store.set_category(["item-1"], "overdue", NOW + timedelta(days=1))
    store.set_category(["item-1"], "warning", NOW + timedelta(days=2))  # warned_at stays

    progress = store.progress()
    assert progress["item-1"] == TargetProgress("item-1", "warning", NOW, None)
    assert progress["item-2"] == TargetProgress("item-2")
    answer = Answered(NOW, "done_category", AnswerMethod.DONE_CATEGORY, "")
    store.record_answers({"item-1": answer, "item-2": answer}, NOW)
    # Answered, but still carrying a tracking category: it stays in the progress until cleared.
    assert set(store.progress()) == {"item-1"}
    store.set_category(["item-1"], "cleared", NOW)
    assert store.progress() == {}


def test_an_escalation_is_recorded_with_its_mail_in_one_go(store: StateStore) -> None:
    store.add_targets([target(1), target(2)], NOW)
    later = NOW + timedelta(days=10)

    store.queue_notice(notice("n1"), ["item-1"], later)

    assert store.progress()["item-1"].last_escalated == later
    assert store.progress()["item-2"].last_escalated is None
    (pending,) = store.pending_notices(10, attempted=False)
    assert pending == notice("n1")
    assert store.pending_notices(10, attempted=True) == []


def test_a_notice_follows_the_exactly_once_protocol(store: StateStore) -> None:
    store.queue_notice(notice("n1"), [], NOW)
    store.notices_attempting(["n1"], NOW)

    assert store.pending_notices(10, attempted=False) == []
    (unsure,) = store.pending_notices(10, attempted=True)
    assert (unsure.attempts, unsure.last_attempt) == (1, NOW)
    store.settle_notices([SendResult("n1", "retry", "refused", not_sent=True)], NOW)
    assert [p.ref for p in store.pending_notices(10, attempted=False)] == ["n1"]
    store.notices_attempting(["n1"], NOW)
    store.settle_notices([SendResult("n1", "sent")], NOW)

    assert store.pending_notices(10, attempted=False) == []
    assert store.pending_notices(10, attempted=True) == []


def test_the_last_overview_day_is_the_latest_recorded(store: StateStore) -> None:
    assert store.last_overview_day() is None
    store.queue_notice(notice("o1", "overview", date(2026, 12, 7)), [], NOW)
    store.queue_notice(notice("o2", "overview", date(2026, 12, 8)), [], NOW)
    store.queue_notice(notice("e1", "escalation", date(2026, 12, 9)), [], NOW)

    assert store.last_overview_day() == date(2026, 12, 8)
