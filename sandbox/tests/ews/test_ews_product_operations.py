"""Every EWS operation topcontact-mail uses, driven by stock exchangelib (no project code) in strict mode.

The product reads new mail with SyncFolderItems and GetItem (its fields, an extended property
and TextBody), sends MIME with CreateItem SendAndSaveCopy, marks mail with UpdateItem (t:Flag,
categories, an extended property), finds its own marks with FindItem on an extended property,
listens with streaming and pull subscriptions, books callbacks with GetUserAvailability and a
CalendarItem with SendMeetingInvitations, and resolves names. Each request is validated against
Microsoft's schema by the sandbox and each answer by the test fixture.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from exchangelib import Account, CalendarItem, EWSDateTime, ExtendedProperty, Message
from exchangelib.errors import ErrorNameResolutionNoResults
from exchangelib.fields import Choice, ChoiceField, DateTimeField, EWSElementField, InvalidField
from exchangelib.items import SEND_TO_ALL_AND_SAVE_COPY
from exchangelib.properties import EWSElement
from exchangelib.version import EXCHANGE_2013

from exchange_sandbox.server import SandboxHandle
from sandbox_helpers import BAKKER, DEVRIES, SHARED, eml, folder_items

AMS = ZoneInfo("Europe/Amsterdam")


class Decision(ExtendedProperty):  # type: ignore[misc]  # exchangelib is untyped
    """A string property in a private property set, as the product marks what it decided."""

    property_set_id = "9a1f3c52-5d2e-4b8e-9c41-7e0b2f6d8a13"
    property_name = "Decision"
    property_type = "String"


class FollowupFlag(EWSElement):  # type: ignore[misc]  # exchangelib is untyped
    """t:Flag (item:Flag, Exchange 2013+), which exchangelib 5 does not model."""

    ELEMENT_NAME = "Flag"
    flag_status = ChoiceField(
        field_uri="FlagStatus",
        choices={Choice("NotFlagged"), Choice("Flagged"), Choice("Complete")},
        is_required=True,
    )
    start_date = DateTimeField(field_uri="StartDate")
    due_date = DateTimeField(field_uri="DueDate")


class FlagField(EWSElementField):  # type: ignore[misc]  # exchangelib is untyped
    def to_xml(self, value: Any, version: Any) -> Any:
        return value.to_xml(version=version)


@pytest.fixture(autouse=True)
def _fields() -> Iterator[None]:
    # The product registers a field of the same name when it is imported in this process:
    # it steps aside for this module's own, so no project code is exercised here.
    try:
        product = Message.get_field_by_fieldname("followup_flag")
        Message.remove_field(product)
    except InvalidField:
        product = None
    flag = FlagField(
        name="followup_flag", field_uri="item:Flag", value_cls=FollowupFlag,
        supported_from=EXCHANGE_2013,
    )  # fmt: skip
    Message.add_field(flag, insert_after="has_attachments")
    Message.register("decision", Decision)
    yield None
    Message.deregister("decision")
    Message.remove_field(flag)
    if product is not None:
        Message.add_field(product, insert_after="has_attachments")


FETCH_FIELDS = (
    "subject", "sender", "author", "to_recipients", "cc_recipients", "message_id",
    "conversation_id", "item_class", "datetime_received", "headers", "text_body",
    "categories", "decision",
)  # fmt: skip


def test_sync_then_get_item_with_the_products_fields(
    shared: Account, deliver: Callable[..., dict[str, str]]
) -> None:
    deliver(eml(subject="Vraag", body="Goedemiddag, mijn kraan lekt.", extra=f"Cc: {BAKKER}\r\n"))
    changes = list(shared.inbox.sync_items(only_fields=["decision", "datetime_received"]))
    assert [kind for kind, _ in changes] == ["create"]
    (item,) = shared.fetch(ids=[changes[0][1]], only_fields=FETCH_FIELDS)
    assert item.subject == "Vraag"
    assert item.author.email_address == "piet@example.org"
    assert [r.email_address for r in item.to_recipients] == [SHARED]
    assert [r.email_address for r in item.cc_recipients] == [BAKKER]
    assert item.text_body.strip() == "Goedemiddag, mijn kraan lekt."
    assert {h.name for h in item.headers} >= {"From", "Subject", "Message-ID"}
    assert item.conversation_id is not None
    assert item.decision is None


def test_update_item_sets_flag_categories_and_extended_property_then_find_item_finds_it(
    sandbox: SandboxHandle, shared: Account, deliver: Callable[..., dict[str, str]]
) -> None:
    deliver(eml(subject="Eerste"))
    deliver(eml(subject="Tweede"))
    first = next(i for i in shared.inbox.all().only("subject") if i.subject == "Eerste")
    due = EWSDateTime(2026, 12, 4, 17, 0, tzinfo=AMS)
    first.decision = "acknowledged:ref-1"
    first.categories = ["Top Contact"]
    first.followup_flag = FollowupFlag(
        flag_status="Flagged", start_date=due - timedelta(days=5), due_date=due
    )
    first.save(update_fields=["decision", "categories", "followup_flag"])
    stored = next(i for i in folder_items(sandbox, SHARED, "inbox") if i["subject"] == "Eerste")
    assert stored["flag"]["status"] == "Flagged"  # type: ignore[index]
    assert stored["flag"]["due"] == "2026-12-04T16:00:00+00:00"  # type: ignore[index]
    assert stored["categories"] == ["Top Contact"]
    found = list(shared.inbox.filter(decision="acknowledged:ref-1").only("subject", "decision"))
    assert [(f.subject, f.decision) for f in found] == [("Eerste", "acknowledged:ref-1")]
    assert list(shared.inbox.filter(decision="nothing")) == []


def test_find_item_in_sent_items_by_message_id(shared: Account) -> None:
    mime = eml(subject="Bevestiging", sender=SHARED, to="piet@example.org")
    Message(account=shared, folder=shared.sent, mime_content=mime).send_and_save()
    message_id = mime.decode().split("Message-ID: ", 1)[1].split("\r\n", 1)[0]
    found = list(shared.sent.filter(message_id__in=[message_id, "<x@y>"]).only("message_id"))
    assert [f.message_id for f in found] == [message_id]


def test_resolve_names(shared: Account) -> None:
    (resolved,) = shared.protocol.resolve_names(["Jan de"])
    assert resolved.email_address == DEVRIES
    (nobody,) = shared.protocol.resolve_names(["Niemand"])
    assert isinstance(nobody, ErrorNameResolutionNoResults)


def test_a_callback_meeting_in_amsterdam_time_with_invitations(
    sandbox: SandboxHandle, shared: Account, devries: Account
) -> None:
    start = EWSDateTime(2026, 11, 30, 10, 0, tzinfo=AMS)
    views = list(
        devries.protocol.get_free_busy_info(
            accounts=[(devries, "Required", False)],
            start=start - timedelta(hours=2),
            end=start + timedelta(hours=2),
            merged_free_busy_interval=60,
        )
    )
    assert views[0].merged == "0000"
    CalendarItem(
        account=shared,
        folder=shared.calendar,
        subject="Terugbelverzoek",
        start=start,
        end=start + timedelta(minutes=15),
        required_attendees=[DEVRIES],
    ).save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
    (organizer,) = folder_items(sandbox, SHARED, "calendar")
    assert organizer["calendar"]["start"] == "2026-11-30T09:00:00+00:00"  # type: ignore[index]
    views = list(
        devries.protocol.get_free_busy_info(
            accounts=[(devries, "Required", False)],
            start=start - timedelta(hours=2),
            end=start + timedelta(hours=2),
            merged_free_busy_interval=60,
        )
    )
    assert views[0].merged == "0010"  # tentative in the attendee's calendar, 10:00-11:00
