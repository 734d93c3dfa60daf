"""The CallbackStore port's contract, held against every store: SQLite, and PostgreSQL (a throw-away
server the tests start, tests/pg_server.py; skipped with the reason where it cannot start).

Callbacks become meeting requests exactly once (docs/callbacks.md,
docs/exactly-once.md) because of these promises: a booking is kept with its
meeting and replies in one go, nothing is sent for a booking mail before it is
claimed (or its claim given up), an attempt makes the outcome unsure until it
is settled, a reply waits for its meeting, a rebooking replaces a meeting and
has the old one cancelled once, and the daily overview and the reports see
every booked callback (`services.callbacks.tracked_callbacks`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from topcontact_mail.adapters.sqlite_store import SqliteStore
from topcontact_mail.domain.acknowledgement import LOOP_HEADERS
from topcontact_mail.domain.message import Acknowledgement, Address
from topcontact_mail.domain.screening.reasons import Reason
from topcontact_mail.domain.tracking import CallbackState
from topcontact_mail.ports import MessageRecord, SendResult
from topcontact_mail.ports.calendar import (
    CallbackRecord,
    MeetingRecord,
    OutgoingMeeting,
    ReplyRecord,
    ServiceStore,
)
from topcontact_mail.services.callbacks import tracked_callbacks

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=AMS)
SLOT = datetime(2026, 11, 30, 9, 30, tzinfo=AMS)
JAN = "j.devries@woonservice.example"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServiceStore]:
    if request.param == "postgresql":
        from topcontact_mail.adapters.postgres import PostgresStore

        pool: Any = request.getfixturevalue("pg_pool")
        schema: str = request.getfixturevalue("pg_schema")
        postgres = PostgresStore(pool, "klantcontact@woonservice.example", schema=schema)
        # A second mailbox in the same database with the same ids, refs and booking mails:
        # none of its rows may ever show in the first's.
        other = PostgresStore(pool, "verhuur@woonservice.example", schema=schema)
        for n in (1, 2):
            other.record(message(n, Reason.CALLBACK_REQUEST), NOW)
            other.record(message(10 + n, Reason.MEETING_MESSAGE), NOW)
        other.record_callback(
            callback(1, claimed=False, tenant="iemand anders"),
            NOW,
            meeting(1),
            [reply(1, waits_for="meet-1")],
        )
        other.rebook("cb-1", "meet-1", "declined", NOW, meeting(2), [], "planned", cancel_old=True)
        yield postgres
        postgres.close()
        return
    sqlite = SqliteStore(tmp_path / "state.sqlite3")
    yield sqlite
    sqlite.close()


def message(n: int, reason: str, *, minutes: int = 0) -> MessageRecord:
    return MessageRecord(
        item_id=f"item-{n}",
        internet_message_id=f"<m{n}@example.nl>",
        conversation_id=f"conv-{n}",
        sender="a.bakker@woonservice.example",
        received=NOW + timedelta(minutes=minutes),
        reception_day=date(2026, 11, 27),
        answer_by=datetime(2026, 12, 4, 17, 0, tzinfo=AMS),
        acknowledge=False,
        reason=reason,
        detail="",
        needs_answer=False,
    )


def callback(
    n: int,
    *,
    claimed: bool = True,
    minutes: int = 0,
    tenant: str = "mevr. Jansen",
    **extra: Any,
) -> CallbackRecord:
    values: dict[str, Any] = {
        "id": f"cb-{n}",
        "source": "mail",
        "booked_by": "a.bakker@woonservice.example",
        "booked_at": NOW + timedelta(minutes=minutes),
        "state": "planned",
        "callback_by": datetime(2026, 11, 30, 17, 0, tzinfo=AMS),
        "booking_item_id": f"item-{n}",
        "booking_mailbox": "klantcontact@woonservice.example",
        "booking_message_id": f"<booking-{n}@example.nl>",
        "details": {"tenant_name": tenant, "phone": "06 12345678", "subject": "lekkage"},
        "claimed": claimed,
    }
    values.update(extra)
    return CallbackRecord(**values)


def outgoing(n: int, start: datetime = SLOT) -> OutgoingMeeting:
    return OutgoingMeeting(
        ref=f"meet-{n}",
        attendee=Address(JAN, "Jan de Vries"),
        subject="Terugbellen: mevr. Jansen — 06 12345678 — lekkage",
        text_body="Bel mevr. Jansen terug.",
        html_body="<p>Bel mevr. Jansen terug.</p>",
        start=start,
        end=start + timedelta(minutes=15),
        time_zone="Europe/Amsterdam",
        categories=("Top Contact: terugbellen",),
        location="Telefonisch: 06 12345678",
    )


def meeting(n: int, callback_id: str = "cb-1", start: datetime = SLOT) -> MeetingRecord:
    return MeetingRecord(
        ref=f"meet-{n}",
        callback_id=callback_id,
        colleague=JAN,
        colleague_name="Jan de Vries",
        slot_start=start,
        slot_end=start + timedelta(minutes=15),
        at_risk=False,
        state="intent",
        outgoing=outgoing(n, start),
    )


def mail(subject: str) -> Acknowledgement:
    return Acknowledgement(
        recipient=Address("a.bakker@woonservice.example", "Anouk Bakker"),
        subject=subject,
        text_body="Jan de Vries belt mevr. Jansen terug.",
        html_body="",
        language="nl",
        in_reply_to="<booking-1@example.nl>",
        references=("<booking-1@example.nl>",),
        headers=LOOP_HEADERS,
    )


def reply(
    n: int, callback_id: str = "cb-1", waits_for: str | None = None, kind: str = "confirmation"
) -> ReplyRecord:
    return ReplyRecord(
        ref=f"reply-{n}",
        callback_id=callback_id,
        kind=kind,
        message_id=f"<reply-{n}@woonservice.example>",
        state="intent",
        original_item_id="item-1",
        mail=mail(f"Ingepland: terugbellen ({n})"),
        waits_for=waits_for,
    )


def refs(pending: list[Any]) -> list[str]:
    return [p.ref for p in pending]


# -- a booking -----------------------------------------------------------------------------------


def test_a_booking_is_kept_with_its_meeting_and_replies(store: ServiceStore) -> None:
    store.record_callback(callback(1), NOW, meeting(1), [reply(1, waits_for="meet-1")])

    assert store.get_callback("cb-1") == callback(1)
    assert store.callback_for_item("item-1") == callback(1)
    assert store.get_callback("cb-2") is None
    assert store.callback_for_item("item-2") is None
    assert store.meetings("cb-1") == [meeting(1)]
    assert store.get_meeting("meet-1") == meeting(1)
    assert store.meeting_outgoing(["meet-1"]) == {"meet-1": outgoing(1)}
    assert store.replies("cb-1") == [reply(1, waits_for="meet-1")]
    assert store.reply_records(["reply-1"]) == {"reply-1": reply(1, waits_for="meet-1")}


def test_a_booking_is_kept_whole_or_not_at_all(store: ServiceStore) -> None:
    store.record_callback(callback(1), NOW, meeting(1))

    # The second booking's meeting has a ref already taken: nothing of it may stay behind.
    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
        store.record_callback(callback(2, booking_item_id="item-2"), NOW, meeting(1, "cb-2"))

    assert store.get_callback("cb-2") is None
    assert store.callback_for_item("item-2") is None
    assert [c.id for c in store.callbacks()] == ["cb-1"]


def test_a_booking_mail_is_taken_up_as_a_callback_once(store: ServiceStore) -> None:
    store.record(message(1, Reason.CALLBACK_REQUEST), NOW)
    store.record(message(2, Reason.CALLBACK_REQUEST, minutes=-5), NOW)
    store.record(message(3, "person"), NOW)

    assert store.callback_candidates(Reason.CALLBACK_REQUEST, 10) == ["item-2", "item-1"]
    assert store.callback_candidates(Reason.CALLBACK_REQUEST, 1) == ["item-2"]
    store.record_callback(callback(2, booking_item_id="item-2"), NOW)

    assert store.callback_candidates(Reason.CALLBACK_REQUEST, 10) == ["item-1"]


def test_a_meeting_message_is_looked_at_once(store: ServiceStore) -> None:
    store.record(message(11, Reason.MEETING_MESSAGE), NOW)
    store.record(message(12, Reason.MEETING_MESSAGE, minutes=1), NOW)

    assert store.meeting_messages(Reason.MEETING_MESSAGE, 10) == ["item-11", "item-12"]
    store.seen_meeting_messages(["item-11"], NOW)
    store.seen_meeting_messages(["item-11"], NOW)  # seen twice (a retried pass): no error

    assert store.meeting_messages(Reason.MEETING_MESSAGE, 10) == ["item-12"]


# -- claims: nothing is sent for a booking mail before it carries the service's marker --------


def test_nothing_is_sent_for_a_booking_mail_before_it_is_claimed(store: ServiceStore) -> None:
    store.record_callback(callback(1, claimed=False), NOW, meeting(1), [reply(1)])

    assert [c.id for c in store.unclaimed_callbacks(10)] == ["cb-1"]
    assert store.pending_meetings(10, attempted=False) == []
    assert store.pending_replies(10, attempted=False) == []

    store.set_callback_claimed("cb-1")

    assert store.unclaimed_callbacks(10) == []
    assert refs(store.pending_meetings(10, attempted=False)) == ["meet-1"]
    assert refs(store.pending_replies(10, attempted=False)) == ["reply-1"]
    assert store.get_callback("cb-1") == callback(1)


def test_a_claim_given_up_lets_the_meeting_go_unclaimed(store: ServiceStore) -> None:
    store.record_callback(callback(1, claimed=False), NOW, meeting(1))

    assert store.callback_claim_failed("cb-1", "item not found", give_up_after=2) is False
    assert store.unclaimed_callbacks(10) != []
    assert store.callback_claim_failed("cb-1", "item not found", give_up_after=2) is True

    assert store.unclaimed_callbacks(10) == []
    assert refs(store.pending_meetings(10, attempted=False)) == ["meet-1"]


# -- sending: exactly once -----------------------------------------------------------------


def test_a_meeting_follows_the_exactly_once_protocol(store: ServiceStore) -> None:
    store.record_callback(callback(1), NOW, meeting(1))
    store.attempting_sends(["meet-1"], NOW)

    assert store.pending_meetings(10, attempted=False) == []
    (unsure,) = store.pending_meetings(10, attempted=True)
    assert (unsure.item_id, unsure.ref, unsure.attempts, unsure.last_attempt) == (
        "meet-1",
        "meet-1",
        1,
        NOW,
    )
    store.settle_sends([SendResult("meet-1", "retry", "answer lost")], NOW)
    assert refs(store.pending_meetings(10, attempted=True)) == ["meet-1"]
    store.settle_sends([SendResult("meet-1", "retry", "refused", not_sent=True)], NOW)
    assert refs(store.pending_meetings(10, attempted=False)) == ["meet-1"]

    store.attempting_sends(["meet-1"], NOW)
    store.settle_sends([SendResult("meet-1", "sent")], NOW + timedelta(seconds=2))

    sent = store.get_meeting("meet-1")
    assert sent is not None
    assert (sent.state, sent.attempts, sent.sent_at) == ("sent", 2, NOW + timedelta(seconds=2))
    assert sent.outgoing == outgoing(1)  # what was booked stays known (the rebooking reads it)
    assert store.pending_meetings(10, attempted=False) == []
    assert store.pending_meetings(10, attempted=True) == []


def test_a_meeting_booked_on_the_command_line_is_unsure_at_once(store: ServiceStore) -> None:
    store.record_callback(
        callback(1, source="cli", booking_item_id=None), NOW, meeting(1), attempting=True
    )

    assert store.pending_meetings(10, attempted=False) == []
    (unsure,) = store.pending_meetings(10, attempted=True)
    assert (unsure.attempts, unsure.last_attempt) == (1, NOW)


def test_a_reply_waits_until_its_meeting_is_sent_and_is_sent_once(store: ServiceStore) -> None:
    store.record_callback(
        callback(1), NOW, meeting(1), [reply(1, waits_for="meet-1"), reply(2, kind="notice")]
    )

    assert refs(store.pending_replies(10, attempted=False)) == ["reply-2"]
    store.attempting_sends(["meet-1"], NOW)
    store.settle_sends([SendResult("meet-1", "sent")], NOW)
    (confirmation, notice) = store.pending_replies(10, attempted=False)
    assert (confirmation.ref, confirmation.message_id) == (
        "reply-1",
        "<reply-1@woonservice.example>",
    )
    assert confirmation.acknowledgement == mail("Ingepland: terugbellen (1)")
    assert notice.ref == "reply-2"

    store.attempting_sends(["reply-1"], NOW)
    assert refs(store.pending_replies(10, attempted=True)) == ["reply-1"]
    store.settle_sends([SendResult("reply-1", "sent"), SendResult("reply-2", "failed", "no")], NOW)

    assert store.pending_replies(10, attempted=False) == []
    assert store.pending_replies(10, attempted=True) == []
    sent = store.reply_records(["reply-1", "reply-2"])
    assert (sent["reply-1"].state, sent["reply-1"].attempts) == ("sent", 1)
    assert sent["reply-1"].mail is None  # the text (the tenant's name) is kept until it is sent
    assert sent["reply-2"].state == "failed"


def test_replies_waiting_for_a_meeting_given_up_are_dropped(store: ServiceStore) -> None:
    store.record_callback(callback(1), NOW, meeting(1), [reply(1, waits_for="meet-1")])
    store.record_callback(callback(2, booking_item_id="item-2"), NOW, meeting(2, "cb-2"))

    assert store.drop_replies_waiting_for("meet-1") == ["cb-1"]
    assert store.drop_replies_waiting_for("meet-1") == []
    assert store.drop_replies_waiting_for("meet-2") == []

    (dropped,) = store.replies("cb-1")
    assert (dropped.state, dropped.mail) == ("dropped", None)
    store.attempting_sends(["meet-1"], NOW)
    store.settle_sends([SendResult("meet-1", "sent")], NOW)
    assert store.pending_replies(10, attempted=False) == []


# -- the meeting in the calendar -----------------------------------------------------------


def test_the_meetings_ids_and_a_move_in_outlook_are_kept(store: ServiceStore) -> None:
    store.record_callback(callback(1), NOW, meeting(1))

    store.set_meeting_ids("meet-1", "AAMk-1", "uid-1")
    store.set_meeting_ids("meet-1", "AAMk-2", "")  # a later lookup without a uid keeps it
    later = SLOT + timedelta(hours=2)
    store.move_meeting("meet-1", later, later + timedelta(minutes=15))

    kept = store.get_meeting("meet-1")
    assert kept is not None
    assert (kept.item_id, kept.uid) == ("AAMk-2", "uid-1")
    assert (kept.slot_start, kept.slot_end) == (later, later + timedelta(minutes=15))


def test_a_callbacks_state_changes_and_the_lists_follow(store: ServiceStore) -> None:
    store.record_callback(callback(1, minutes=10), NOW, meeting(1))
    store.record_callback(callback(2, booking_item_id="item-2"), NOW, meeting(2, "cb-2"))
    store.record_callback(callback(3, booking_item_id="item-3", state="rejected"), NOW)

    assert [c.id for c in store.callbacks()] == ["cb-2", "cb-3", "cb-1"]  # by booking time
    store.set_callback_state("cb-1", "done", NOW + timedelta(days=3))

    assert [c.id for c in store.callbacks(("planned", "missed"))] == ["cb-2"]
    assert [c.id for c in store.callbacks(("done",))] == ["cb-1"]
    assert store.callbacks(()) == []
    assert [m.ref for m in store.meetings(states=("intent",))] == ["meet-1", "meet-2"]
    assert [m.ref for m in store.meetings("cb-2")] == ["meet-2"]


def test_a_rebooking_replaces_the_meeting_and_cancels_the_old_one_once(
    store: ServiceStore,
) -> None:
    store.record_callback(callback(1), NOW, meeting(1), [reply(1, waits_for="meet-1")])
    store.attempting_sends(["meet-1", "reply-1"], NOW)
    store.settle_sends([SendResult("meet-1", "sent"), SendResult("reply-1", "sent")], NOW)
    later = NOW + timedelta(hours=1)

    store.rebook(
        "cb-1",
        "meet-1",
        "declined",
        later,
        meeting(2, start=SLOT + timedelta(hours=3)),
        [reply(2, waits_for="meet-2", kind="rebooked")],
        "planned",
        cancel_old=True,
    )

    old, new = store.meetings("cb-1")
    assert (old.ref, old.state, old.why) == ("meet-1", "superseded", "declined")
    assert (new.ref, new.state) == ("meet-2", "intent")
    assert [m.ref for m in store.meetings_to_cancel()] == ["meet-1"]
    rebooked = store.get_callback("cb-1")
    assert rebooked is not None
    assert (rebooked.state, rebooked.rebookings) == ("planned", 1)
    assert refs(store.pending_meetings(10, attempted=False)) == ["meet-2"]
    assert store.pending_replies(10, attempted=False) == []  # it waits for the new meeting
    store.meeting_cancelled("meet-1")
    assert store.meetings_to_cancel() == []

    # Given up: no new meeting, the old one only superseded (cancelled in Outlook already).
    store.rebook("cb-1", "meet-2", "cancelled", later, None, [], "failed", cancel_old=False)
    gone = store.get_callback("cb-1")
    assert gone is not None
    assert (gone.state, gone.rebookings) == ("failed", 1)
    assert store.meetings_to_cancel() == []
    assert [m.state for m in store.meetings("cb-1")] == ["superseded", "superseded"]


# -- what the daily overview and the reports see ---------------------------------------------


def test_the_overview_sees_each_booked_callback_and_each_rebooking(store: ServiceStore) -> None:
    store.record_callback(callback(1), NOW, meeting(1))
    store.record_callback(
        callback(2, booking_item_id="item-2", tenant="dhr. Bos", minutes=5),
        NOW,
        meeting(2, "cb-2", start=SLOT + timedelta(hours=1)),
    )
    store.record_callback(callback(3, booking_item_id="item-3", state="rejected"), NOW)
    store.rebook("cb-1", "meet-1", "declined", NOW, meeting(3), [], "planned", cancel_old=True)
    store.set_callback_state("cb-2", "missed", NOW)

    seen = {(t.ref, t.state, t.tenant) for t in tracked_callbacks(store)}

    assert seen == {
        ("meet-1", CallbackState.REBOOKED, "mevr. Jansen"),
        ("meet-3", CallbackState.PLANNED, "mevr. Jansen"),
        ("meet-2", CallbackState.MISSED, "dhr. Bos"),
    }
    (bos,) = [t for t in tracked_callbacks(store) if t.ref == "meet-2"]
    assert (bos.booked_at, bos.callback_by, bos.slot_start, bos.colleague) == (
        NOW + timedelta(minutes=5),
        datetime(2026, 11, 30, 17, 0, tzinfo=AMS),
        SLOT + timedelta(hours=1),
        "Jan de Vries",
    )
