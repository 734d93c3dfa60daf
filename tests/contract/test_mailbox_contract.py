"""The Mailbox port's contract: every adapter (memory, EWS, Graph) behaves the same way here.

These are the promises the acknowledge service relies on; a new adapter (or a
change to one) is held to them before anything else.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.contract.conftest import SHARED, Harness
from topcontact_mail.domain.acknowledgement import LOOP_HEADERS
from topcontact_mail.domain.message import Acknowledgement, Address
from topcontact_mail.ports import (
    ChangePage,
    FetchedMessage,
    Mark,
    OutgoingAcknowledgement,
    WatermarkExpired,
)

AMS = ZoneInfo("Europe/Amsterdam")
FRIDAY = datetime(2026, 11, 27, 10, 0, tzinfo=AMS)


def tenant_mail(n: int) -> bytes:
    return (
        f"From: Huurder {n} <huurder{n}@example.nl>\r\nTo: {SHARED}\r\n"
        f"Subject: Vraag {n}\r\nDate: {(FRIDAY + timedelta(minutes=n)):%a, %d %b %Y %H:%M:%S %z}\r\n"
        f"Message-ID: <contract-{n}@example.nl>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Beste mensen, mijn kraan lekt al een week. Vraag {n}.\r\n"
    ).encode()


def drain(harness: Harness, watermark: str | None = None) -> tuple[list[FetchedMessage], str]:
    """Every change after `watermark`, page by page, and the watermark after the last page."""
    seen: list[FetchedMessage] = []
    while True:
        page: ChangePage = harness.mailbox.fetch_changes(watermark)
        seen.extend(page.messages)
        watermark = page.watermark
        if not page.more:
            return seen, watermark


def by_message_id(fetched: list[FetchedMessage]) -> dict[str, FetchedMessage]:
    return {f.message.message_id or "": f for f in fetched if f.message.message_id}


def acknowledgement_of(fetched: FetchedMessage, ref: str) -> OutgoingAcknowledgement:
    message = fetched.message
    assert message.sender is not None
    ack = Acknowledgement(
        recipient=message.sender,
        subject=f"Ontvangstbevestiging: {message.subject}",
        text_body="We hebben uw e-mail ontvangen.",
        html_body="<p>We hebben uw e-mail ontvangen.</p>",
        language="nl",
        in_reply_to=message.message_id,
        references=(message.message_id or "",),
        headers=LOOP_HEADERS,
    )
    return OutgoingAcknowledgement(ref, f"<{ref}@woonservice.example>", message.item_id or "", ack)


def test_new_mail_comes_in_pages_from_a_watermark_with_what_screening_needs(
    harness: Harness,
) -> None:
    for n in range(12):
        harness.deliver(tenant_mail(n))

    fetched, watermark = drain(harness)

    found = by_message_id(fetched)
    assert set(found) == {f"<contract-{n}@example.nl>" for n in range(12)}
    message = found["<contract-3@example.nl>"].message
    assert message.item_id
    assert message.sender == Address("huurder3@example.nl", "Huurder 3")
    assert message.subject == "Vraag 3"
    assert message.received == FRIDAY + timedelta(minutes=3)
    assert message.header("Message-ID") == "<contract-3@example.nl>"
    assert all(f.marker is None for f in fetched)
    # Nothing new after the watermark.
    again, _ = drain(harness, watermark)
    assert by_message_id(again) == {}


def test_mail_arriving_later_is_found_from_the_saved_watermark(harness: Harness) -> None:
    harness.deliver(tenant_mail(1))
    _, watermark = drain(harness)
    harness.deliver(tenant_mail(2))

    fetched, _ = drain(harness, watermark)

    assert set(by_message_id(fetched)) == {"<contract-2@example.nl>"}


def test_a_mark_puts_flag_category_and_marker_and_comes_back_as_a_change(
    harness: Harness,
) -> None:
    harness.deliver(tenant_mail(1))
    harness.deliver(tenant_mail(2))
    harness.staff_categorise("<contract-1@example.nl>", "Rood")
    fetched, watermark = drain(harness)
    found = by_message_id(fetched)
    due = datetime(2026, 12, 4, 17, 0, tzinfo=AMS)
    marks = [
        Mark(
            item_id=found["<contract-1@example.nl>"].message.item_id or "",
            marker=json.dumps({"v": 2, "decision": "acknowledge"}),
            flag_start=FRIDAY,
            flag_due=due,
            category="Top Contact: antwoord vóór 4 dec",
        ),
        Mark(item_id=found["<contract-2@example.nl>"].message.item_id or "", marker='{"v":2}'),
    ]

    outcomes = harness.mailbox.mark(marks)

    assert [o.ok for o in outcomes] == [True, True]
    seen = harness.seen("<contract-1@example.nl>")
    assert seen.flagged
    assert seen.flag_due == due
    assert seen.categories == ("Rood", "Top Contact: antwoord vóór 4 dec")  # staff's kept, first
    assert not harness.seen("<contract-2@example.nl>").flagged
    # The service's own update comes back as a change: carrying its marker, or (Graph's delta
    # updates) only the id, marked partial, so nobody decides on it without reading it whole.
    changes, _ = drain(harness, watermark)
    back = {f.message.item_id: f for f in changes}
    for mark in marks:
        assert back[mark.item_id].marker == mark.marker or back[mark.item_id].partial
    (read,) = harness.mailbox.read([marks[0].item_id])
    assert read.marker == marks[0].marker


def test_marking_twice_is_harmless(harness: Harness) -> None:
    harness.deliver(tenant_mail(1))
    (fetched,), _ = drain(harness)
    mark = Mark(
        item_id=fetched.message.item_id or "",
        marker='{"v":2}',
        flag_start=FRIDAY,
        flag_due=FRIDAY + timedelta(days=7),
        category="Top Contact",
    )

    assert [o.ok for o in harness.mailbox.mark([mark])] == [True]
    assert [o.ok for o in harness.mailbox.mark([mark])] == [True]
    assert harness.seen("<contract-1@example.nl>").categories == ("Top Contact",)


def test_an_acknowledgement_goes_out_threaded_and_is_found_by_its_ref(harness: Harness) -> None:
    harness.deliver(tenant_mail(1))
    (fetched,), _ = drain(harness)
    outgoing = acknowledgement_of(fetched, "a1b2c3")

    (outcome,) = harness.mailbox.send_acknowledgements([outgoing])

    assert outcome.ok, outcome.error
    if harness.delay:
        assert harness.sent() == []  # Exchange submits asynchronously: no copy yet
    harness.finish_transport()
    (sent,) = harness.sent()
    assert sent["In-Reply-To"] == "<contract-1@example.nl>"
    assert sent["To"] == "huurder1@example.nl" or "huurder1@example.nl" in str(sent["To"])
    assert sent["X-TopContact-Mail"] == "acknowledgement"
    assert harness.mailbox.sent_refs({"a1b2c3", "unknown"}, FRIDAY) == {"a1b2c3"}


def test_a_send_is_never_found_before_it_was_made_and_always_after_transport(
    harness: Harness,
) -> None:
    harness.deliver(tenant_mail(1))
    (fetched,), _ = drain(harness)
    assert harness.mailbox.sent_refs({"r-late"}, FRIDAY) == set()

    (outcome,) = harness.mailbox.send_acknowledgements([acknowledgement_of(fetched, "r-late")])
    in_transport = harness.mailbox.sent_refs({"r-late"}, FRIDAY)
    harness.finish_transport()

    assert outcome.ok
    # While in transport it may or may not be found (Exchange shows it in the Outbox, or not
    # at all); once transport took it, it is found, wherever its copy went.
    assert in_transport <= {"r-late"}
    assert harness.mailbox.sent_refs({"r-late"}, FRIDAY) == {"r-late"}


def test_nothing_sent_means_no_ref_is_found(harness: Harness) -> None:
    assert harness.mailbox.sent_refs({"never-sent"}, FRIDAY) == set()


def test_read_gives_messages_in_full_and_leaves_out_unknown_ids(harness: Harness) -> None:
    harness.deliver(tenant_mail(1))
    (fetched,), _ = drain(harness)
    item_id = fetched.message.item_id or ""

    (read,) = harness.mailbox.read([item_id])

    assert read.message.message_id == "<contract-1@example.nl>"
    assert read.message.sender == Address("huurder1@example.nl", "Huurder 1")
    assert read.message.received == fetched.message.received


def test_a_category_staff_add_after_the_message_was_read_is_kept(harness: Harness) -> None:
    harness.deliver(tenant_mail(1))
    (fetched,), _ = drain(harness)
    harness.staff_categorise("<contract-1@example.nl>", "Blauw")  # while the service works

    (outcome,) = harness.mailbox.mark(
        [Mark(item_id=fetched.message.item_id or "", marker='{"v":2}', category="Top Contact")]
    )

    assert outcome.ok, outcome.error
    assert harness.seen("<contract-1@example.nl>").categories == ("Blauw", "Top Contact")


def test_a_watermark_the_server_does_not_know_says_so(harness: Harness) -> None:
    harness.deliver(tenant_mail(1))
    _, watermark = drain(harness)

    with pytest.raises(WatermarkExpired):
        harness.mailbox.fetch_changes("not-a-watermark-of-this-mailbox")
    # A full resync from nothing still works and finds the mail.
    fetched, _ = drain(harness)
    assert "<contract-1@example.nl>" in by_message_id(fetched)
    assert watermark


def test_a_notice_reaches_the_administrator(harness: Harness) -> None:
    harness.mailbox.send_notice(Address("beheer@woonservice.example"), "Let op", "Er is iets mis.")
    harness.finish_transport()

    assert harness.notices() == [("beheer@woonservice.example", "Let op")]
