"""The EWS mailbox marking handled messages: flag, categories beside staff's own, our marker."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from topcontact_mail.adapters.ews import EwsMailbox
from topcontact_mail.ports import Mark

from .support import (
    FakeEws,
    Item,
    Sleeps,
    connection_dropped,
    fault,
    get_item_answer,
    item_changes,
    sync_answer,
    update_answer,
)

AMS = ZoneInfo("Europe/Amsterdam")
RECEIVED = datetime(2026, 11, 27, 10, 0, tzinfo=AMS)
ANSWER_BY = datetime(2026, 12, 4, 17, 0, tzinfo=AMS)


def tracked(item_id: str, category: str | None = "Top Contact") -> Mark:
    return Mark(
        item_id=item_id,
        marker='{"decision": "acknowledged"}',
        flag_start=RECEIVED,
        flag_due=ANSWER_BY,
        category=category,
    )


def test_a_mark_sets_the_flag_with_its_dates_our_category_after_staffs_and_the_marker(
    ews: FakeEws, mailbox: EwsMailbox
) -> None:
    ews.on("SyncFolderItems", sync_answer([("item-1", None)]))
    ews.on("GetItem", get_item_answer(Item("item-1", categories=["Rood", "Huurder belt terug"])))
    ews.on("UpdateItem", update_answer("NoError"))
    mailbox.fetch_changes(None)  # staff's categories are read with the message

    (outcome,) = mailbox.mark([tracked("item-1")])

    assert outcome.ok
    assert item_changes(ews.sent("UpdateItem")[0])["item-1"] == {
        "categories": ["Rood", "Huurder belt terug", "Top Contact"],
        "flag": ("Flagged", "2026-11-27T09:00:00Z", "2026-12-04T16:00:00Z"),
        "marker": '{"decision": "acknowledged"}',
    }
    assert len(ews.sent("GetItem")) == 1  # the categories were not read a second time


def test_categories_not_read_before_are_read_first_so_staffs_are_kept(
    ews: FakeEws, mailbox: EwsMailbox
) -> None:
    ews.on("GetItem", get_item_answer(Item("item-1", categories=["Blauw"])))
    ews.on("UpdateItem", update_answer("NoError"))

    mailbox.mark([tracked("item-1")])

    assert item_changes(ews.sent("UpdateItem")[0])["item-1"]["categories"] == [
        "Blauw",
        "Top Contact",
    ]


def test_our_category_is_not_added_twice(ews: FakeEws, mailbox: EwsMailbox) -> None:
    ews.on("GetItem", get_item_answer(Item("item-1", categories=["Top Contact", "Blauw"])))
    ews.on("UpdateItem", update_answer("NoError"))

    mailbox.mark([tracked("item-1")])

    assert item_changes(ews.sent("UpdateItem")[0])["item-1"]["categories"] == [
        "Top Contact",
        "Blauw",
    ]


def test_a_mark_without_flag_or_category_sets_only_the_marker(
    ews: FakeEws, mailbox: EwsMailbox
) -> None:
    ews.on("UpdateItem", update_answer("NoError"))

    mailbox.mark([Mark(item_id="item-1", marker='{"decision": "skipped"}')])

    assert item_changes(ews.sent("UpdateItem")[0])["item-1"] == {
        "marker": '{"decision": "skipped"}'
    }
    assert ews.sent("GetItem") == []


def test_a_message_gone_from_the_mailbox_fails_alone_and_for_good(
    ews: FakeEws, mailbox: EwsMailbox
) -> None:
    ews.on("UpdateItem", update_answer("NoError", "ErrorItemNotFound"))

    kept, gone = mailbox.mark([tracked("item-1", None), tracked("item-2", None)])

    assert kept.ok
    assert not gone.ok
    assert not gone.transient
    assert "ErrorItemNotFound" in gone.error


def test_an_update_whose_connection_drops_is_simply_made_again(
    ews: FakeEws, mailbox: EwsMailbox, sleeps: Sleeps
) -> None:
    ews.on("UpdateItem", connection_dropped(), update_answer("NoError"))

    (outcome,) = mailbox.mark([tracked("item-1", None)])

    assert outcome.ok
    assert len(ews.sent("UpdateItem")) == 2  # setting the same flag twice is harmless
    assert sleeps == [1.0]


def test_a_busy_server_that_stays_busy_leaves_the_marks_for_later(
    ews: FakeEws, mailbox: EwsMailbox, sleeps: Sleeps
) -> None:
    ews.on("UpdateItem", *[fault("ErrorServerBusy", back_off_ms=500)] * 4)

    outcomes = mailbox.mark([tracked("item-1", None), tracked("item-2", None)])

    assert [(o.ok, o.transient) for o in outcomes] == [(False, True), (False, True)]
    assert len(ews.sent("UpdateItem")) == 4
    assert sleeps == [0.5, 0.5, 0.5]


def test_categories_staff_changed_since_the_read_are_read_again_not_overwritten(
    ews: FakeEws, mailbox: EwsMailbox
) -> None:
    ews.on("GetItem", get_item_answer(Item("item-1", categories=["Rood"])))
    ews.on("UpdateItem", update_answer("ErrorIrresolvableConflict"))
    ews.on("GetItem", get_item_answer(Item("item-1", categories=["Rood", "Blauw"])))
    ews.on("UpdateItem", update_answer("NoError"))

    (outcome,) = mailbox.mark([tracked("item-1")])

    assert outcome.ok
    first, second = ews.sent("UpdateItem")
    # Each update names the version it read and refuses to overwrite a newer one.
    assert 'ConflictResolution="NeverOverwrite"' in first
    assert 'ChangeKey="ck-item-1"' in first
    assert item_changes(first)["item-1"]["categories"] == ["Rood", "Top Contact"]
    assert item_changes(second)["item-1"]["categories"] == ["Rood", "Blauw", "Top Contact"]
    assert len(ews.sent("GetItem")) == 2


def test_a_mark_without_categories_needs_no_version(ews: FakeEws, mailbox: EwsMailbox) -> None:
    ews.on("UpdateItem", update_answer("NoError"))

    (outcome,) = mailbox.mark([tracked("item-1", category=None)])

    assert outcome.ok
    assert 'ConflictResolution="AutoResolve"' in ews.sent("UpdateItem")[0]
    assert ews.sent("GetItem") == []
