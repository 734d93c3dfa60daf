"""The EWS mailbox for keeping the promise, one call at a time: observe, team mails, tracking marks."""

from __future__ import annotations

from datetime import UTC, datetime

from topcontact_mail.adapters.ews import EwsMailbox
from topcontact_mail.domain.message import Address
from topcontact_mail.ports import Mark, OutgoingNotice, Watched

from .support import (
    FakeEws,
    Item,
    _messages,
    _ok,
    connection_dropped,
    create_answer,
    get_item_answer,
    item_changes,
    update_answer,
)


def tracked_item(item_id: str, *, verb: int | None, verb_at: str | None, flag: str) -> str:
    """GetItem of a tracked message with Outlook's last verb and the flag (no conversation, no
    folder: observing then needs no other request)."""
    props = ""
    if verb is not None:
        props += (
            '<t:ExtendedProperty><t:ExtendedFieldURI PropertyTag="0x1081" PropertyType="Integer"/>'
            f"<t:Value>{verb}</t:Value></t:ExtendedProperty>"
        )
    if verb_at is not None:
        props += (
            '<t:ExtendedProperty><t:ExtendedFieldURI PropertyTag="0x1082" PropertyType="SystemTime"/>'
            f"<t:Value>{verb_at}</t:Value></t:ExtendedProperty>"
        )
    message = (
        f'<t:Message><t:ItemId Id="{item_id}" ChangeKey="ck"/><t:Subject>Lekkage</t:Subject>'
        "<t:DateTimeReceived>2026-11-27T09:00:00Z</t:DateTimeReceived>"
        "<t:Categories><t:String>Jan</t:String></t:Categories>"
        "<t:LastModifiedTime>2026-12-01T10:00:00Z</t:LastModifiedTime>"
        f"{props}{flag}"
        "<t:Sender><t:Mailbox><t:Name>Jan Jansen</t:Name><t:EmailAddress>jan@example.nl"
        "</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType></t:Mailbox></t:Sender>"
        "</t:Message>"
    )
    return _messages("GetItem", [_ok("GetItem", f"<m:Items>{message}</m:Items>")])


COMPLETE = (
    "<t:Flag><t:FlagStatus>Complete</t:FlagStatus>"
    "<t:CompleteDate>2026-12-01T09:30:00Z</t:CompleteDate></t:Flag>"
)


def test_observing_asks_for_the_last_verb_and_the_flag_and_reads_them(
    ews: FakeEws, mailbox: EwsMailbox
) -> None:
    ews.on(
        "GetItem",
        tracked_item("item-1", verb=102, verb_at="2026-11-30T14:00:00Z", flag=COMPLETE),
    )

    seen = mailbox.observe([Watched("item-1", "<m1@example.nl>")])

    (request,) = ews.sent("GetItem")
    assert 'PropertyTag="0x1081" PropertyType="Integer"' in request
    assert 'PropertyTag="0x1082" PropertyType="SystemTime"' in request
    assert 'FieldURI="item:Flag"' in request
    assert 'FieldURI="item:ParentFolderId"' in request
    assert "TextBody" not in request
    assert "MimeContent" not in request
    observation = seen["item-1"].observation
    assert (observation.last_verb, observation.last_verb_at) == (
        102,
        datetime(2026, 11, 30, 14, 0, tzinfo=UTC),
    )
    assert observation.flag_complete
    assert observation.flag_completed_at == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert observation.categories == ("Jan",)
    assert observation.last_modified == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert (seen["item-1"].subject, seen["item-1"].tenant) == ("Lekkage", "Jan Jansen")


def test_a_flag_not_complete_and_no_verb_is_read_as_such(ews: FakeEws, mailbox: EwsMailbox) -> None:
    flagged = "<t:Flag><t:FlagStatus>Flagged</t:FlagStatus></t:Flag>"
    ews.on("GetItem", tracked_item("item-1", verb=None, verb_at=None, flag=flagged))

    observation = mailbox.observe([Watched("item-1")])["item-1"].observation

    assert (observation.last_verb, observation.flag_complete) == (None, False)


def test_a_message_exchange_no_longer_knows_without_a_message_id_is_left_out(
    ews: FakeEws, mailbox: EwsMailbox
) -> None:
    ews.on("GetItem", get_item_answer("ErrorItemNotFound"))

    assert mailbox.observe([Watched("item-1")]) == {}


def test_a_team_mail_carries_its_ref_and_goes_out_with_a_copy(
    ews: FakeEws, mailbox: EwsMailbox
) -> None:
    ews.on("CreateItem", create_answer("NoError"))
    notice = OutgoingNotice(
        "team-1", (Address("teamleider@woonservice.example"),), "Termijn voorbij", "Lijst"
    )

    (outcome,) = mailbox.send_notices([notice])

    assert outcome.ok
    (request,) = ews.sent("CreateItem")
    assert 'MessageDisposition="SendAndSaveCopy"' in request
    assert 'PropertyName="TopContactMailAckRef"' in request
    assert "<t:Value>team-1</t:Value>" in request
    assert "teamleider@woonservice.example" in request


def test_a_team_mail_whose_answer_was_lost_is_unknown_not_failed(
    ews: FakeEws, mailbox: EwsMailbox
) -> None:
    ews.on("CreateItem", connection_dropped())
    notice = OutgoingNotice("team-1", (Address("t@woonservice.example"),), "S", "T")

    (outcome,) = mailbox.send_notices([notice])

    assert not outcome.ok
    assert outcome.transient
    assert not outcome.clean  # it may have gone out: looked for before any new try


def test_a_tracking_mark_leaves_the_marker_and_takes_its_category_off(
    ews: FakeEws, mailbox: EwsMailbox
) -> None:
    ews.on("GetItem", get_item_answer(Item("item-1", categories=["Rood", "bijna te laat"])))
    ews.on("UpdateItem", update_answer("NoError"))

    (outcome,) = mailbox.mark(
        [Mark("item-1", None, category="te laat", remove_categories=("bijna te laat",))]
    )

    assert outcome.ok
    (request,) = ews.sent("UpdateItem")
    assert item_changes(request)["item-1"] == {"categories": ["Rood", "te laat"]}
