"""Asynchronous submission in the sandbox store: what is visible when, what the copies keep, restarts."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from exchange_sandbox.store import (
    Address,
    Item,
    MailStore,
    NewItem,
    PropertyKey,
    read_property,
)
from exchange_sandbox.store.copies import kept
from exchange_sandbox.store.submission import SubmissionSettings
from submission_helpers import DELAYS, DEVRIES, SHARED, FakeClock, delivered_after

BAKKER = "a.bakker@woonservice.example"
MARKER = PropertyKey(
    "String", property_set_id="c11ff724-aa03-4555-9952-8fa248a11c3e", property_name="Ref"
)
ACK = (
    f"From: Klantcontact <{SHARED}>\r\nTo: Jan <{DEVRIES}>\r\nBcc: {BAKKER}\r\n"
    "Subject: Ontvangen\r\nMessage-ID: <ack-1@woonservice.example>\r\n"
    "In-Reply-To: <vraag-1@example.org>\r\nReferences: <vraag-1@example.org>\r\n"
    "Date: Fri, 27 Nov 2026 10:00:00 +0100\r\nAuto-Submitted: auto-replied\r\n"
    "X-Auto-Response-Suppress: All\r\nX-Topcontact-Ref: ref-1\r\n"
    "Received: from client by sandbox-ex01\r\nReturn-Path: <bounce@woonservice.example>\r\n"
    "Organization: Woonservice\r\nX-MimeOle: Produced By Microsoft MimeOLE\r\n"
    "X-MS-Exchange-Organization-SCL: -1\r\n"
    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nWij hebben uw bericht.\r\n"
).encode()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> MailStore:
    s = MailStore(clock=clock)
    for address in (SHARED, DEVRIES, BAKKER):
        s.ensure_mailbox(address)
    return s


def ack() -> NewItem:
    return NewItem(mime=ACK, extended={MARKER.canonical: (MARKER, "ref-1")}, categories=("Top",))


def names(item: Item) -> set[str]:
    return {k.lower() for k, _ in item.headers}


def test_delay_zero_delivers_inside_the_send_call(store: MailStore) -> None:
    submission = store.submit(SHARED, ack())
    assert submission.state == "delivered"
    assert submission.copy_id is not None
    assert [i.id for i in store.items(SHARED, "sentitems")] == [submission.copy_id]
    assert len(store.items(DEVRIES, "inbox")) == 1
    assert store.in_transit() == []
    assert store.items(SHARED, "outbox") == []
    assert store.submissions.counts() == {"in_transit": 0, "delivered": 1, "failed": 0}


@pytest.mark.parametrize("delay_ms", DELAYS[1:])
@pytest.mark.parametrize("in_transit", ["outbox", "drafts", "hidden"])
def test_the_copies_appear_only_when_the_delay_has_passed(
    store: MailStore, clock: FakeClock, delay_ms: int, in_transit: str
) -> None:
    store.submissions.change({"delay_ms": delay_ms, "in_transit": in_transit})
    submission = store.submit(SHARED, ack())

    assert submission.state == "in_transit"
    assert store.items(SHARED, "sentitems") == []
    assert store.items(DEVRIES, "inbox") == []
    assert store.items(BAKKER, "inbox") == []
    assert [s.id for s in store.in_transit(SHARED)] == [submission.id]
    assert store.in_transit(DEVRIES) == []
    waiting = [i for f in ("outbox", "drafts") for i in store.items(SHARED, f)]
    if in_transit == "hidden":
        assert waiting == []
        assert submission.transit_item_id is None
    else:
        [item] = waiting
        assert item.folder == in_transit
        assert item.id == submission.transit_item_id
        assert item.is_draft  # unsent, as PidTagMessageFlags says until transport has it
        assert item.message_id == "<ack-1@woonservice.example>"

    delivered_after(store, clock, delay_ms)

    [copy] = store.items(SHARED, "sentitems")
    assert copy.id not in (submission.transit_item_id, None)
    assert not copy.is_draft
    assert copy.date_received == clock.now.replace(microsecond=0)
    assert [i for f in ("outbox", "drafts") for i in store.items(SHARED, f)] == []
    assert [i.message_id for i in store.items(DEVRIES, "inbox")] == [copy.message_id]
    assert len(store.items(BAKKER, "inbox")) == 1  # Bcc recipients receive as well
    assert store.in_transit() == []
    done = store.submissions.get(submission.id)
    assert done.state == "delivered"
    assert done.copy_id == copy.id


def test_the_sent_items_copy_keeps_what_exchange_keeps(store: MailStore, clock: FakeClock) -> None:
    store.submissions.change({"delay_ms": 5000})
    store.submit(SHARED, ack())
    delivered_after(store, clock, 5000)
    [copy] = store.items(SHARED, "sentitems")

    kept_names = names(copy)
    for name in ("message-id", "in-reply-to", "references", "from", "to", "bcc", "subject"):
        assert name in kept_names
    for name in ("date", "auto-submitted", "x-auto-response-suppress", "x-topcontact-ref"):
        assert name in kept_names
    for name in ("received", "return-path", "organization", "x-mimeole"):
        assert name not in kept_names
    assert "x-ms-exchange-organization-scl" not in kept_names
    assert copy.mime is not None
    assert b"Received:" not in copy.mime
    assert b"X-Topcontact-Ref: ref-1" in copy.mime
    assert read_property(copy, MARKER) == "ref-1"  # MAPI properties set on the item stay
    assert copy.categories == ("Top",)
    assert copy.in_reply_to == "<vraag-1@example.org>"
    assert copy.date_sent is not None
    assert copy.date_sent.isoformat() == "2026-11-27T09:00:00+00:00"  # the submission's Date


def test_a_graph_copy_has_no_internet_headers_but_keeps_id_conversation_and_properties(
    store: MailStore, clock: FakeClock
) -> None:
    store.submissions.change({"delay_ms": 5000})
    original = store.deliver(
        SHARED, b"Message-ID: <vraag-1@example.org>\r\nSubject: V\r\n\r\nx\r\n"
    )
    saved: list[Item] = []
    store.submit(SHARED, ack(), copy_headers="none", on_saved=saved.append)
    assert saved == []
    delivered_after(store, clock, 5000)

    [copy] = store.items(SHARED, "sentitems")
    assert saved == [copy]
    assert copy.headers == ()
    assert copy.message_id == "<ack-1@woonservice.example>"
    assert copy.conversation_id == original.conversation_id
    assert read_property(copy, MARKER) == "ref-1"
    assert b"X-Topcontact-Ref: ref-1" in (copy.mime or b"")


def test_recipients_get_the_internet_message_without_bcc_or_the_senders_properties(
    store: MailStore,
) -> None:
    store.submit(SHARED, ack())
    [received] = store.items(DEVRIES, "inbox")
    assert b"Bcc:" not in (received.mime or b"")
    assert b"Received: from client" in (received.mime or b"")  # transport passes them on
    assert received.bcc == ()
    assert read_property(received, MARKER) is None
    assert received.categories == ()
    assert not received.is_read


def test_jitter_stays_within_its_bounds(store: MailStore) -> None:
    store.submissions.change({"delay_ms": 1000, "jitter_ms": 500})
    waits = []
    for _ in range(60):
        submission = store.submit(SHARED, ack())
        waits.append((submission.due_at - submission.submitted_at).total_seconds())
    assert all(1.0 <= w <= 1.5 for w in waits), waits
    assert len(set(waits)) > 10


def test_each_mailbox_has_its_own_settings(store: MailStore) -> None:
    store.submissions.configure(SubmissionSettings(), {SHARED: SubmissionSettings(60_000)})
    assert store.submit(SHARED, ack()).state == "in_transit"
    assert store.submit(DEVRIES, ack()).state == "delivered"
    store.submissions.change({"in_transit": "hidden"}, DEVRIES)
    assert store.submissions.settings(DEVRIES) == SubmissionSettings(0, 0, "hidden")
    store.submissions.change({"delay_ms": 5})
    assert store.submissions.settings(SHARED).delay_ms == 5
    assert store.submissions.settings(BAKKER).delay_ms == 5
    with pytest.raises(ValueError, match="in_transit"):
        store.submissions.change({"in_transit": "limbo"})
    with pytest.raises(ValueError, match="delay_ms"):
        store.submissions.change({"delay_ms": -1})
    with pytest.raises(ValueError, match="unknown"):
        store.submissions.change({"speed": 1})


def test_run_due_with_everything_delivers_what_is_not_due_yet(store: MailStore) -> None:
    store.submissions.change({"delay_ms": 60_000})
    store.submit(SHARED, ack())
    assert store.run_due_submissions() == []
    [done] = store.run_due_submissions(everything=True)
    assert done.state == "delivered"
    assert len(store.items(SHARED, "sentitems")) == 1


def test_a_message_deleted_from_the_outbox_meanwhile_is_still_delivered(
    store: MailStore, clock: FakeClock
) -> None:
    store.submissions.change({"delay_ms": 5000})
    submission = store.submit(SHARED, ack())
    assert submission.transit_item_id is not None
    store.delete(submission.transit_item_id)
    delivered_after(store, clock, 5000)
    assert len(store.items(SHARED, "sentitems")) == 1


def test_queued_submissions_survive_a_restart(tmp_path: Path, clock: FakeClock) -> None:
    first = MailStore(tmp_path, clock=clock)
    first.ensure_mailbox(SHARED)
    first.ensure_mailbox(DEVRIES)
    first.submissions.change({"delay_ms": 60_000})
    submission = first.submit(SHARED, ack())
    first.close()

    second = MailStore(tmp_path, clock=clock)  # settings are configuration, not state
    assert [s.id for s in second.in_transit(SHARED)] == [submission.id]
    assert [i.id for i in second.items(SHARED, "outbox")] == [submission.transit_item_id]
    delivered_after(second, clock, 60_000)
    [copy] = second.items(SHARED, "sentitems")
    assert read_property(copy, MARKER) == "ref-1"
    assert len(second.items(DEVRIES, "inbox")) == 1
    second.close()


def test_the_worker_delivers_when_the_delay_has_passed() -> None:
    real = MailStore()  # the wall clock, as in a running server
    real.ensure_mailbox(SHARED)
    real.ensure_mailbox(DEVRIES)
    real.submissions.change({"delay_ms": 300})
    real.submissions.start()
    try:
        began = time.monotonic()
        real.submit(SHARED, NewItem(subject="Later", to=(Address(DEVRIES),), body="x"))
        assert real.items(SHARED, "sentitems") == []
        deadline = time.monotonic() + 5
        while not real.items(SHARED, "sentitems") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert real.items(SHARED, "sentitems")
        assert time.monotonic() - began >= 0.3
        assert len(real.items(DEVRIES, "inbox")) == 1
    finally:
        real.close()


@pytest.mark.parametrize(
    ("name", "is_kept"),
    [
        ("X-Anything", True),
        ("Auto-Submitted", True),
        ("List-Id", True),  # a generic header: kept as a PS_INTERNET_HEADERS property
        ("received", False),
        ("Resent-From", False),
        ("X-MS-TNEF-Correlator", False),
        ("X-MS-Exchange-Organization-SCL", False),
        ("X-MS-Exchange-Organization-AuthAs", True),
    ],
)
def test_the_kept_headers_follow_ms_oxcmail(name: str, is_kept: bool) -> None:
    assert kept(name) is is_kept
