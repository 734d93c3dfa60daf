"""The acknowledge-and-track service over the in-memory mailbox and a real SQLite file."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from topcontact_mail.adapters.memory import MemoryMailbox
from topcontact_mail.adapters.sqlite_store import SqliteStore
from topcontact_mail.adapters.texts import TextRenderer
from topcontact_mail.config import Settings
from topcontact_mail.domain.calendar import ResponseTerms, default_calendar
from topcontact_mail.domain.message import Address, IncomingMessage
from topcontact_mail.domain.screening import ScreeningPolicy
from topcontact_mail.ports import Outcome
from topcontact_mail.services.acknowledge import AcknowledgeService, Options

AMS = ZoneInfo("Europe/Amsterdam")
SHARED = Address("klantcontact@woonservice.example", "Team Klantcontact")
FRIDAY_10 = datetime(2026, 11, 27, 10, 0, tzinfo=AMS)
ROOT = Path(__file__).resolve().parents[3]


class FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


def person(
    n: int, *, sender: str = "", conversation: str | None = None, **extra: object
) -> IncomingMessage:
    address = sender or f"huurder{n}@example.nl"
    headers: tuple[tuple[str, str], ...] = (
        ("From", f"Huurder {n} <{address}>"),
        ("To", SHARED.email),
        ("Subject", f"Vraag {n}"),
        ("Message-ID", f"<m{n}@example.nl>"),
    )
    values: dict[str, object] = {
        "subject": f"Vraag {n}",
        "sender": Address(address, f"Jan Jansen {n}"),
        "recipients": (SHARED,),
        "headers": headers,
        "message_id": f"<m{n}@example.nl>",
        "received": FRIDAY_10,
        "item_id": f"item-{n}",
        "conversation_id": conversation or f"conv-{n}",
        "text_sample": "Beste medewerker, mijn kraan lekt. Met vriendelijke groet",
    }
    values.update(extra)
    return IncomingMessage(**values)  # type: ignore[arg-type]


def out_of_office(n: int) -> IncomingMessage:
    message = person(n)
    return IncomingMessage(
        **{
            **message.__dict__,
            "headers": (*message.headers, ("Auto-Submitted", "auto-replied")),
            "subject": "Automatisch antwoord: Vraag",
        }
    )


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "state.sqlite3")


@pytest.fixture
def mailbox() -> MemoryMailbox:
    return MemoryMailbox(SHARED, page_size=3)


def make_service(
    mailbox: MemoryMailbox, store: SqliteStore, **options: object
) -> AcknowledgeService:
    settings = Settings()
    texts = TextRenderer.from_settings(settings)
    return AcknowledgeService(
        mailbox=mailbox,
        store=store,
        texts=texts,
        clock=FixedClock(FRIDAY_10),
        calendar=default_calendar(),
        policy=ScreeningPolicy.from_settings(settings.screening, SHARED.email),
        options=Options(**options),  # type: ignore[arg-type]
    )


def test_a_person_gets_one_threaded_acknowledgement_and_the_message_gets_its_target(
    mailbox: MemoryMailbox, store: SqliteStore
) -> None:
    mailbox.deliver(person(1))
    summary = make_service(mailbox, store).run_once()

    assert summary.sent == 1
    (sent,) = mailbox.sent
    ack = sent.outgoing.acknowledgement
    assert ack.recipient.email == "huurder1@example.nl"
    assert ack.in_reply_to == "<m1@example.nl>"
    assert ("Auto-Submitted", "auto-replied") in ack.headers
    assert "vrijdag 4 december 2026" in ack.text_body
    item = mailbox.items["item-1"]
    assert item.flag == (FRIDAY_10, datetime(2026, 12, 4, 17, 0, tzinfo=AMS))
    assert item.categories == ["Top Contact: antwoord vóór 4 dec"]
    assert item.marker is not None
    assert json.loads(item.marker)["decision"] == "acknowledge"
    assert json.loads(item.marker)["ref"] == mailbox.sent[0].outgoing.ref


def test_machine_mail_gets_no_acknowledgement_only_the_marker(
    mailbox: MemoryMailbox, store: SqliteStore
) -> None:
    mailbox.deliver(out_of_office(1))
    make_service(mailbox, store).run_once()

    assert mailbox.sent == []
    item = mailbox.items["item-1"]
    assert item.flag is None
    assert item.categories == []
    assert json.loads(item.marker or "{}")["reason"] == "auto_submitted"


def test_the_services_own_marks_coming_back_as_changes_are_not_handled_twice(
    mailbox: MemoryMailbox, store: SqliteStore
) -> None:
    for n in range(7):
        mailbox.deliver(person(n))
    service = make_service(mailbox, store)
    service.run_once()
    service.run_once()
    assert len(mailbox.sent) == 7
    assert len({s.outgoing.original_item_id for s in mailbox.sent}) == 7


def test_a_restart_continues_from_the_watermark(
    mailbox: MemoryMailbox, store: SqliteStore, tmp_path: Path
) -> None:
    mailbox.deliver(person(1))
    make_service(mailbox, store).run_once()
    store.close()
    mailbox.deliver(person(2))
    reopened = SqliteStore(tmp_path / "state.sqlite3")
    summary = make_service(mailbox, reopened).run_once()
    assert [s.outgoing.original_item_id for s in mailbox.sent] == ["item-1", "item-2"]
    assert summary.sent == 1


def test_a_send_whose_answer_was_lost_is_found_in_sent_items_not_sent_again(
    mailbox: MemoryMailbox, store: SqliteStore
) -> None:
    mailbox.deliver(person(1))
    service = make_service(mailbox, store)
    original = mailbox.send_acknowledgements

    def lose_the_answer(batch):  # type: ignore[no-untyped-def]
        outcomes = original(batch)
        return [o.__class__(o.key, False, "connection dropped", transient=True) for o in outcomes]

    mailbox.send_acknowledgements = lose_the_answer  # type: ignore[method-assign]
    service.run_once()
    assert len(mailbox.sent) == 1
    assert store.get("item-1").ack_state == "intent"  # type: ignore[union-attr]

    mailbox.send_acknowledgements = original  # type: ignore[method-assign]
    service.run_once()
    assert len(mailbox.sent) == 1
    record = store.get("item-1")
    assert record is not None
    assert record.ack_state == "sent"
    assert mailbox.items["item-1"].marker is not None


def test_transient_failures_are_retried_until_sent_once(
    mailbox: MemoryMailbox, store: SqliteStore
) -> None:
    mailbox.deliver(person(1))
    mailbox.transient_failures = 2
    service = make_service(mailbox, store)
    service.run_once()
    assert mailbox.sent == []
    assert service.has_pending()
    service.run_once()
    service.run_once()
    assert len(mailbox.sent) == 1
    assert not service.has_pending()


def test_the_message_is_claimed_in_the_mailbox_before_its_acknowledgement_leaves(
    mailbox: MemoryMailbox, store: SqliteStore
) -> None:
    mailbox.deliver(person(1))
    claims_when_sent: list[str | None] = []
    send = mailbox.send_acknowledgements

    def watching(batch):  # type: ignore[no-untyped-def]
        claims_when_sent.extend(mailbox.items[o.original_item_id].marker for o in batch)
        return send(batch)

    mailbox.send_acknowledgements = watching  # type: ignore[method-assign]
    make_service(mailbox, store).run_once()

    (claim,) = claims_when_sent
    assert claim is not None
    assert json.loads(claim)["ref"] == mailbox.sent[0].outgoing.ref


def test_a_lost_answer_is_found_in_the_mailbox_and_never_sent_twice(
    mailbox: MemoryMailbox, store: SqliteStore
) -> None:
    mailbox.deliver(person(1))
    mailbox.lost_answers = 1
    service = make_service(mailbox, store)
    service.run_once()
    assert len(mailbox.sent) == 1
    assert store.get("item-1").ack_state == "intent"  # type: ignore[union-attr]
    service.run_once()
    assert len(mailbox.sent) == 1
    assert store.get("item-1").ack_state == "sent"  # type: ignore[union-attr]
    assert not service.has_pending()


def test_a_copy_still_in_transport_waits_out_the_in_doubt_window_before_a_new_try(
    mailbox: MemoryMailbox, store: SqliteStore
) -> None:
    """A slow server: the send went out, but its copy cannot be found yet."""
    clock = FixedClock(FRIDAY_10)
    mailbox.deliver(person(1))
    mailbox.lost_answers = 1
    service = make_service(mailbox, store, in_doubt_seconds=600)
    service.clock = clock
    service.run_once()
    mailbox.in_transport.add(mailbox.sent[0].outgoing.ref)
    for minutes in (1, 5, 9):
        clock.moment = FRIDAY_10 + timedelta(minutes=minutes)
        summary = service.run_once()
        assert summary.waiting == 1
    assert len(mailbox.sent) == 1
    mailbox.in_transport.clear()  # the copy arrives
    clock.moment = FRIDAY_10 + timedelta(minutes=12)
    service.run_once()
    assert len(mailbox.sent) == 1
    assert store.get("item-1").ack_state == "sent"  # type: ignore[union-attr]


def test_a_send_that_never_left_is_tried_again_after_the_in_doubt_window(
    mailbox: MemoryMailbox, store: SqliteStore
) -> None:
    clock = FixedClock(FRIDAY_10)
    mailbox.deliver(person(1))
    service = make_service(mailbox, store, in_doubt_seconds=600)
    service.clock = clock
    real_send = mailbox.send_acknowledgements
    mailbox.send_acknowledgements = lambda batch: [  # type: ignore[method-assign]
        Outcome(o.ref, False, "connection dropped", transient=True) for o in batch
    ]
    service.run_once()
    mailbox.send_acknowledgements = real_send  # type: ignore[method-assign]
    clock.moment = FRIDAY_10 + timedelta(minutes=5)
    service.run_once()
    assert mailbox.sent == []  # not found, but the window has not passed: wait
    clock.moment = FRIDAY_10 + timedelta(minutes=11)
    service.run_once()
    assert len(mailbox.sent) == 1
    assert store.get("item-1").attempts == 2  # type: ignore[union-attr]


def test_with_the_state_lost_a_sent_acknowledgement_is_found_by_its_claim_not_sent_again(
    mailbox: MemoryMailbox, tmp_path: Path
) -> None:
    mailbox.deliver(person(1))
    make_service(mailbox, SqliteStore(tmp_path / "first.sqlite3")).run_once()
    assert len(mailbox.sent) == 1
    mailbox.rewind()  # a full resync, as after a lost watermark

    fresh = SqliteStore(tmp_path / "second.sqlite3")  # the state file is gone
    make_service(mailbox, fresh).run_once()

    assert len(mailbox.sent) == 1
    record = fresh.get("item-1")
    assert record is not None
    assert (record.ack_state, record.ack_ref) == ("sent", mailbox.sent[0].outgoing.ref)


def test_with_the_state_lost_between_claim_and_send_exactly_one_goes_out_after_the_window(
    mailbox: MemoryMailbox, tmp_path: Path
) -> None:
    mailbox.deliver(person(1))
    crashing = make_service(mailbox, SqliteStore(tmp_path / "first.sqlite3"))

    def crash(batch):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt  # the process dies after the claim, before anything left

    mailbox.send_acknowledgements = crash  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        crashing.run_once()
    del mailbox.send_acknowledgements  # the real method again
    assert json.loads(mailbox.items["item-1"].marker or "{}")["decision"] == "acknowledge"
    mailbox.rewind()

    clock = FixedClock(FRIDAY_10 + timedelta(minutes=1))
    fresh = SqliteStore(tmp_path / "second.sqlite3")
    service = make_service(mailbox, fresh, in_doubt_seconds=600)
    service.clock = clock
    service.run_once()
    assert mailbox.sent == []  # claimed, not found: it may still be in transport
    clock.moment = FRIDAY_10 + timedelta(minutes=12)
    service.run_once()
    service.run_once()

    (sent,) = mailbox.sent
    assert sent.outgoing.original_item_id == "item-1"
    assert "vrijdag 4 december 2026" in sent.outgoing.acknowledgement.text_body
    assert fresh.get("item-1").ack_state == "sent"  # type: ignore[union-attr]


def test_a_message_the_server_cannot_serve_is_recorded_with_its_reason_and_the_rest_goes_on(
    mailbox: MemoryMailbox, store: SqliteStore
) -> None:
    for n in (1, 2, 3):
        mailbox.deliver(person(n))
    mailbox.unreadable["item-2"] = "GetItem failed: connection closed"
    make_service(mailbox, store).run_once()

    assert sorted(s.outgoing.original_item_id for s in mailbox.sent) == ["item-1", "item-3"]
    record = store.get("item-2")
    assert record is not None
    assert record.reason == "quarantined"
    assert "connection closed" in record.detail


def test_a_change_known_only_by_its_id_is_read_whole_before_it_is_decided(
    mailbox: MemoryMailbox, store: SqliteStore
) -> None:
    mailbox.deliver(person(1))
    mailbox.partial.add("item-1")

    make_service(mailbox, store).run_once()

    record = store.get("item-1")
    assert record is not None
    assert record.reason == "person"  # not "no_sender": the whole message was read first
    assert len(mailbox.sent) == 1
    assert mailbox.requests["read"] == 1


def test_a_permanent_refusal_is_given_up_after_the_attempts_and_recorded(
    mailbox: MemoryMailbox, store: SqliteStore
) -> None:
    mailbox.deliver(person(1))
    mailbox.deliver(person(2))
    service = make_service(mailbox, store, max_attempts=2)
    service.run_once()
    ref = store.get("item-1").ack_ref  # type: ignore[union-attr]
    assert ref is not None
    # the first one was sent; now refuse a new message's acknowledgement for good
    mailbox.deliver(person(3))
    original_record = store.record

    def refusing_record(rec, now, ack=None, target=None):  # type: ignore[no-untyped-def]
        if rec.ack_ref:
            mailbox.refuse.add(rec.ack_ref)
        original_record(rec, now, ack, target)

    store.record = refusing_record  # type: ignore[method-assign]
    for _ in range(3):
        service.run_once()
    record = store.get("item-3")
    assert record is not None
    assert record.ack_state == "failed"
    assert "recipient refused" in record.last_error
    assert [s.outgoing.original_item_id for s in mailbox.sent] == ["item-1", "item-2"]
    assert not service.has_pending()


def test_dry_run_records_decisions_but_sends_and_marks_nothing(
    mailbox: MemoryMailbox, store: SqliteStore
) -> None:
    mailbox.deliver(person(1))
    mailbox.deliver(out_of_office(2))
    make_service(mailbox, store, dry_run=True).run_once()
    assert mailbox.sent == []
    assert all(item.marker is None for item in mailbox.items.values())
    states = {r.item_id: (r.reason, r.ack_state) for r in store.records()}
    assert states == {"item-1": ("person", "dry_run"), "item-2": ("auto_submitted", "none")}


def test_a_message_moved_by_staff_is_not_acknowledged_again(
    mailbox: MemoryMailbox, store: SqliteStore
) -> None:
    mailbox.deliver(person(1))
    service = make_service(mailbox, store)
    service.run_once()
    mailbox.move("item-1", "item-1-moved")
    service.run_once()
    assert len(mailbox.sent) == 1
    assert store.get("item-1-moved").reason == "already_handled"  # type: ignore[union-attr]


def test_the_same_message_delivered_twice_is_acknowledged_once(
    mailbox: MemoryMailbox, store: SqliteStore
) -> None:
    mailbox.deliver(person(1))
    mailbox.deliver(person(1, item_id="item-copy"))
    make_service(mailbox, store).run_once()
    assert len(mailbox.sent) == 1
    assert store.get("item-copy").reason == "duplicate_message"  # type: ignore[union-attr]


def test_one_conversation_gets_one_acknowledgement_but_every_message_its_target(
    mailbox: MemoryMailbox, store: SqliteStore
) -> None:
    mailbox.deliver(person(1, conversation="c"))
    mailbox.deliver(person(2, conversation="c"))
    make_service(mailbox, store).run_once()
    assert len(mailbox.sent) == 1
    assert mailbox.items["item-2"].flag is not None
    assert store.get("item-2").reason == "conversation_already_acknowledged"  # type: ignore[union-attr]


def test_a_reply_to_our_acknowledgement_joins_its_thread_even_in_a_new_conversation(
    mailbox: MemoryMailbox, store: SqliteStore
) -> None:
    mailbox.deliver(person(1, conversation="c"))
    service = make_service(mailbox, store)
    service.run_once()
    ours = mailbox.sent[0].outgoing.message_id
    # The tenant answers our acknowledgement with a new subject: Exchange may start a new
    # conversation, but In-Reply-To still names our acknowledgement.
    reply = person(2, conversation="new")
    mailbox.deliver(replace(reply, headers=(*reply.headers, ("In-Reply-To", ours))))
    service.run_once()

    assert len(mailbox.sent) == 1
    assert store.get("item-2").reason == "conversation_already_acknowledged"  # type: ignore[union-attr]
    assert mailbox.items["item-2"].flag is not None


def test_a_message_that_breaks_the_texts_is_quarantined_and_the_others_go_on(
    mailbox: MemoryMailbox, store: SqliteStore
) -> None:
    service = make_service(mailbox, store)
    real = service.texts

    class Fragile:
        def acknowledgement(
            self, message: IncomingMessage, terms: ResponseTerms, language: str
        ) -> tuple[str, str, str]:
            if message.item_id == "item-2":
                raise RuntimeError("template exploded")
            return real.acknowledgement(message, terms, language)

    service.texts = Fragile()
    for n in (1, 2, 3):
        mailbox.deliver(person(n))
    service.run_once()
    assert sorted(s.outgoing.original_item_id for s in mailbox.sent) == ["item-1", "item-3"]
    record = store.get("item-2")
    assert record is not None
    assert record.reason == "quarantined"
    assert "RuntimeError" in record.detail


def test_a_stop_request_finishes_the_message_in_hand_and_resumes_later(
    mailbox: MemoryMailbox, store: SqliteStore
) -> None:
    for n in range(3):
        mailbox.deliver(person(n))
    service = make_service(mailbox, store)
    asked = iter([False, True])
    service.run_once(should_stop=lambda: next(asked, True))
    assert len(mailbox.sent) == 1
    service.run_once()
    assert sorted(s.outgoing.original_item_id for s in mailbox.sent) == [
        "item-0",
        "item-1",
        "item-2",
    ]
