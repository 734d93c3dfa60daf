"""The EWS mailbox reading new mail: conversion of items, pages, retries, Sent Items look-ups."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from exchangelib import Q

from topcontact_mail.adapters.ews import EwsMailbox
from topcontact_mail.adapters.ews.finding import find_messages
from topcontact_mail.adapters.ews.items import SAMPLE_CHARS
from topcontact_mail.domain.message import Address
from topcontact_mail.ports import FetchedMessage, MailboxUnavailable, WatermarkExpired

from .support import (
    SHARED,
    FakeEws,
    Item,
    Sleeps,
    _messages,
    _ok,
    connection_dropped,
    fault,
    get_item_answer,
    refs_answer,
    sessions_held,
    sync_answer,
)

HEADERS = [
    ("From", "Jan Jansen <jan@example.nl>"),
    ("To", SHARED),
    ("Subject", "Lekkage"),
    ("Message-ID", "<m1@example.nl>"),
    ("Auto-Submitted", "auto-replied"),
    ("Content-Type", "text/plain; charset=utf-8"),
]


def fetch_one(ews: FakeEws, mailbox: EwsMailbox, item: Item) -> FetchedMessage:
    ews.on("SyncFolderItems", sync_answer([(item.id, None)]))
    ews.on("GetItem", get_item_answer(item))
    (fetched,) = mailbox.fetch_changes(None).messages
    return fetched


# -- conversion ---------------------------------------------------------------------------------


def test_internet_headers_reach_the_screening_as_the_sender_wrote_them(
    ews: FakeEws, mailbox: EwsMailbox
) -> None:
    item = Item("item-1", sender=("assistent@example.nl", "Assistent"), headers=HEADERS)

    fetched = fetch_one(ews, mailbox, item)

    message = fetched.message
    assert ("Auto-Submitted", "auto-replied") in message.headers
    assert message.sender == Address("jan@example.nl", "Jan Jansen")  # From, not Sender
    assert message.message_id == "<m1@example.nl>"
    assert message.item_id == "item-1"
    assert message.conversation_id == "conv-item-1"
    assert message.received == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert type(message.received) is datetime  # exchangelib's own type stays out of the domain
    assert "mijn kraan lekt" in message.text_sample
    assert fetched.marker is None


@pytest.mark.parametrize(
    ("element", "item_class"),
    [
        ("MeetingRequest", "IPM.Schedule.Meeting.Request"),
        ("MeetingResponse", "IPM.Schedule.Meeting.Resp.Neg"),
        ("MeetingCancellation", "IPM.Schedule.Meeting.Canceled"),
    ],
)
def test_a_meeting_message_is_read_like_mail_with_its_marker(
    ews: FakeEws, mailbox: EwsMailbox, element: str, item_class: str
) -> None:
    """Exchange answers meeting messages as elements of their own, which exchangelib parses
    into classes of their own: they must carry the service's fields too (a colleague's answer
    to a callback in the shared inbox once stopped every pass)."""
    item = Item("item-1", item_class=item_class, element=element, marker='{"decision": "x"}')

    fetched = fetch_one(ews, mailbox, item)

    assert fetched.message.item_class == item_class
    assert fetched.marker == '{"decision": "x"}'
    assert fetched.unreadable is None


def test_mail_submitted_inside_the_organisation_without_headers_uses_the_items_fields(
    ews: FakeEws, mailbox: EwsMailbox
) -> None:
    item = Item("item-1", subject="Vraag over huur", headers=None, message_id=None)

    message = fetch_one(ews, mailbox, item).message

    assert message.headers == ()
    assert message.sender == Address("jan@example.nl", "Jan Jansen")
    assert message.recipients == (Address(SHARED, ""),)
    assert message.subject == "Vraag over huur"
    assert message.message_id is None
    assert message.item_class == "IPM.Note"
    assert message.text_sample == "Beste mensen, mijn kraan lekt."


def test_only_a_sample_of_a_long_body_is_kept(ews: FakeEws, mailbox: EwsMailbox) -> None:
    item = Item("item-1", headers=None, text_body="Goedemiddag. " + "x" * 10_000)

    message = fetch_one(ews, mailbox, item).message

    assert len(message.text_sample) == SAMPLE_CHARS
    assert message.text_sample.startswith("Goedemiddag.")


def test_getitem_asks_for_the_screening_fields_and_no_attachments(
    ews: FakeEws, mailbox: EwsMailbox
) -> None:
    fetch_one(ews, mailbox, Item("item-1", headers=HEADERS))

    (request,) = ews.sent("GetItem")
    assert "item:InternetMessageHeaders" in request
    assert "item:TextBody" in request
    assert "TopContactMailDecision" in request
    assert "item:Attachments" not in request
    assert "item:MimeContent" not in request


# -- pages ----------------------------------------------------------------------------------------


def test_a_page_carries_the_new_watermark_and_says_whether_more_waits(
    ews: FakeEws, mailbox: EwsMailbox
) -> None:
    ews.on("SyncFolderItems", sync_answer([("item-1", None)], state="state-7", last=False))
    ews.on("GetItem", get_item_answer(Item("item-1", headers=HEADERS)))

    page = mailbox.fetch_changes("state-6")

    assert page.watermark == "state-7"
    assert page.more
    assert "<m:SyncState>state-6</m:SyncState>" in ews.sent("SyncFolderItems")[0]


def test_messages_carrying_our_marker_are_not_read_again(ews: FakeEws, mailbox: EwsMailbox) -> None:
    ews.on("SyncFolderItems", sync_answer([("item-1", '{"decision": "acknowledged"}')]))

    (fetched,) = mailbox.fetch_changes("state-1").messages

    assert fetched.marker == '{"decision": "acknowledged"}'
    assert fetched.message.item_id == "item-1"
    assert ews.sent("GetItem") == []


def test_an_item_deleted_since_the_sync_is_left_out(ews: FakeEws, mailbox: EwsMailbox) -> None:
    ews.on("SyncFolderItems", sync_answer([("item-1", None), ("item-2", None)]))
    ews.on("GetItem", get_item_answer("ErrorItemNotFound", Item("item-2", headers=HEADERS)))

    page = mailbox.fetch_changes("state-1")

    assert [f.message.item_id for f in page.messages] == ["item-2"]


def test_a_sync_state_exchange_no_longer_knows_asks_for_a_full_sync(
    ews: FakeEws, mailbox: EwsMailbox, sleeps: Sleeps
) -> None:
    ews.on("SyncFolderItems", fault("ErrorInvalidSyncStateData", "Invalid sync state data."))

    with pytest.raises(WatermarkExpired):
        mailbox.fetch_changes("state-1")
    assert sleeps == []


# -- retries --------------------------------------------------------------------------------------


def test_a_busy_server_is_asked_again_after_its_back_off_milliseconds(
    ews: FakeEws, mailbox: EwsMailbox, sleeps: Sleeps
) -> None:
    ews.on("SyncFolderItems", fault("ErrorServerBusy", back_off_ms=1500), sync_answer([]))

    page = mailbox.fetch_changes("state-1")

    assert page.messages == []
    assert sleeps == [1.5]
    assert len(ews.sent("SyncFolderItems")) == 2


def test_a_dropped_connection_on_a_read_is_tried_again_after_the_first_wait(
    ews: FakeEws, mailbox: EwsMailbox, sleeps: Sleeps
) -> None:
    ews.on("SyncFolderItems", connection_dropped(), sync_answer([]))

    mailbox.fetch_changes("state-1")

    assert sleeps == [1.0]  # no hint from a server that did not answer: the configured wait


def test_a_server_that_stays_busy_is_given_up_after_four_attempts_with_doubling_waits(
    ews: FakeEws, mailbox: EwsMailbox, sleeps: Sleeps
) -> None:
    ews.on("SyncFolderItems", *[fault("ErrorServerBusy")] * 4)

    with pytest.raises(MailboxUnavailable, match="failed 4 times"):
        mailbox.fetch_changes("state-1")
    assert len(ews.sent("SyncFolderItems")) == 4
    assert sleeps == [1.0, 2.0, 4.0]


def test_a_refusal_is_not_tried_again(ews: FakeEws, mailbox: EwsMailbox, sleeps: Sleeps) -> None:
    ews.on("SyncFolderItems", fault("ErrorAccessDenied", "Access is denied."))

    with pytest.raises(MailboxUnavailable, match="refused: ErrorAccessDenied"):
        mailbox.fetch_changes("state-1")
    assert len(ews.sent("SyncFolderItems")) == 1
    assert sleeps == []


# -- Sent Items -----------------------------------------------------------------------------------


def test_sent_refs_finds_acknowledgements_by_their_ref_in_sent_items_outbox_and_trash(
    ews: FakeEws, mailbox: EwsMailbox
) -> None:
    ews.on("FindItem", refs_answer(3, [("sent-1", "ref1")]))

    found = mailbox.sent_refs({"ref1", "ref2"}, datetime(2026, 11, 27, tzinfo=UTC))

    assert found == {"ref1"}
    # One request: FindItem returns the ref itself (no GetItem after it to fail separately).
    (query,) = ews.sent("FindItem")
    assert ews.sent("GetItem") == []
    shape = query.split("<m:ItemShape>")[1].split("</m:ItemShape>")[0]
    assert 'PropertyName="TopContactMailAckRef"' in shape
    # By the ref property (it survives the copy Exchange makes after transport), not a header,
    # in the folders where a sent mail can be: still in transport, sent, or deleted by staff.
    assert 'PropertyName="TopContactMailAckRef"' in query
    assert '<t:Constant Value="ref1"/>' in query
    assert '<t:Constant Value="ref2"/>' in query
    for folder in ("sentitems", "outbox", "deleteditems"):
        assert f'DistinguishedFolderId Id="{folder}"' in query


def sent_page(offset: int, total: int, item_ids: list[str]) -> str:
    """One page of a FindItem listing of Sent Items with what tracking reads of each mail."""
    items = "".join(
        f'<t:Message><t:ItemId Id="{i}" ChangeKey="ck-{i}"/><t:Subject>Re: Lekkage</t:Subject>'
        f"<t:DateTimeSent>2026-11-27T10:00:00Z</t:DateTimeSent>"
        f'<t:ConversationId Id="conv-{i}"/>'
        f"<t:InternetMessageId>&lt;{i}@woonservice.example&gt;</t:InternetMessageId>"
        "</t:Message>"
        for i in item_ids
    )
    last = "true" if offset + len(item_ids) >= total else "false"
    return _messages(
        "FindItem",
        [
            _ok(
                "FindItem",
                f'<m:RootFolder IndexedPagingOffset="{offset + len(item_ids)}"'
                f' TotalItemsInView="{total}" IncludesLastItemInRange="{last}">'
                f"<t:Items>{items}</t:Items></m:RootFolder>",
            )
        ],
    )


def test_a_listing_of_sent_items_asks_again_only_for_the_page_that_failed(
    ews: FakeEws, mailbox: EwsMailbox, sleeps: Sleeps
) -> None:
    ews.on(
        "FindItem",
        sent_page(0, 3, ["sent-1", "sent-2"]),
        connection_dropped(),
        sent_page(2, 3, ["sent-3"]),
    )

    listed = find_messages(
        mailbox._read,
        mailbox.account,
        [mailbox.account.sent],
        Q(datetime_sent__gte=datetime(2026, 11, 27, tzinfo=UTC)),
        ("conversation_id", "datetime_sent", "subject", "message_id"),
        page_size=2,
        order_by="datetime_sent",
    )

    assert [i.message_id for i in listed] == [f"<sent-{n}@woonservice.example>" for n in (1, 2, 3)]
    offsets = [re.search(r'Offset="(\d+)"', b).group(1) for b in ews.sent("FindItem")]  # type: ignore[union-attr]
    assert offsets == ["0", "2", "2"]  # the first page is not asked for again
    assert ews.sent("GetItem") == []  # FindItem returns the Message-IDs itself
    assert sleeps == [1.0]


def test_sent_items_that_cannot_be_read_raise_so_nothing_is_sent_blind(
    ews: FakeEws, mailbox: EwsMailbox, sleeps: Sleeps
) -> None:
    ews.on("FindItem", *[connection_dropped()] * 4)

    with pytest.raises(MailboxUnavailable):
        mailbox.sent_refs({"ref1"}, datetime(2026, 11, 27, tzinfo=UTC))
    assert sleeps == [1.0, 2.0, 4.0]


# -- a message the server cannot serve -----------------------------------------------------------


def _poisoned(poison: str) -> Callable[[str], object]:
    """A server that breaks off every GetItem asking for `poison`, and serves the rest."""

    def answer(body: str) -> object:
        asked = re.findall(r'ItemId Id="([^"]+)"', body)
        if poison in asked:
            return connection_dropped()
        return get_item_answer(*(Item(i, message_id=f"<{i}@example.nl>") for i in asked))

    return answer


@pytest.mark.parametrize(
    "held",
    [pytest.param(0, id="run-once"), pytest.param(1, id="daemon-with-streaming")],
)
def test_a_message_the_server_breaks_off_on_is_isolated_and_the_others_are_read(
    ews: FakeEws, mailbox: EwsMailbox, sleeps: Sleeps, held: int
) -> None:
    """With two sessions in its pool (the daemon's streaming thread holds one) exchangelib
    names the broken-off connection ErrorServerBusy; that must not pass for a busy server
    (it once stalled a whole inbox behind one message)."""
    ids = [f"item-{n}" for n in range(8)]
    ews.on("SyncFolderItems", sync_answer([(i, None) for i in ids]))
    ews.responders["GetItem"] = _poisoned("item-5")

    with sessions_held(mailbox, held):
        page = mailbox.fetch_changes(None)

    read = {f.message.item_id: f for f in page.messages}
    assert set(read) == set(ids)
    assert read["item-5"].unreadable is not None
    assert all(read[i].unreadable is None for i in ids if i != "item-5")
    assert read["item-2"].message.message_id == "<item-2@example.nl>"
    # Halving found it in a few requests; only the lone message got the full patience.
    assert len(ews.sent("GetItem")) < 4 + 2 * 3 + 4 + 1
    assert sleeps.count(1.0) == 2  # the whole batch's first retry, and the lone message's


def test_a_busy_server_is_waited_for_not_taken_for_a_bad_message(
    ews: FakeEws, mailbox: EwsMailbox
) -> None:
    ews.on("SyncFolderItems", sync_answer([("item-1", None), ("item-2", None)]))
    ews.on("GetItem", *[fault("ErrorServerBusy", back_off_ms=100)] * 4)

    with pytest.raises(MailboxUnavailable, match="ErrorServerBusy"):
        mailbox.fetch_changes(None)
    assert len(ews.sent("GetItem")) == 4  # no halving, no message called unreadable


def test_a_server_that_stops_answering_altogether_is_not_blamed_on_the_messages(
    ews: FakeEws, mailbox: EwsMailbox
) -> None:
    assert mailbox.account.inbox  # looked up before the server goes away
    ews.on("SyncFolderItems", sync_answer([("item-1", None), ("item-2", None)]))
    ews.on("GetItem", *[connection_dropped()] * 4)
    ews.on("GetFolder", *[connection_dropped()] * 4)  # the probe fails too: the server is away

    with pytest.raises(MailboxUnavailable):
        mailbox.fetch_changes(None)
    assert len(ews.sent("GetItem")) == 4
