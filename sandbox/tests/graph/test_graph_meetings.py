"""Meeting messages through the sandbox Graph endpoint: eventMessage types and the message class."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from graph_helpers import ANOUK, SHARED, Client, customer_mail

from exchange_sandbox.store import MailStore, NewItem

TZ = "W. Europe Standard Time"
MESSAGE_CLASS = "String 0x001A"
EXPAND = quote(f"singleValueExtendedProperties($filter=id eq '{MESSAGE_CLASS}')")


def invite(client: Client, attendee: str) -> None:
    created = client.post(
        f"/users/{SHARED}/calendar/events",
        {
            "subject": "Terugbellen mevr. De Boer",
            "start": {"dateTime": "2026-11-30T10:00:00", "timeZone": TZ},
            "end": {"dateTime": "2026-11-30T10:30:00", "timeZone": TZ},
            "attendees": [{"emailAddress": {"address": attendee}, "type": "required"}],
        },
    )
    assert created.status == 201, created.raw


def only(answer: Any) -> dict[str, Any]:
    assert answer.status == 200, answer.raw
    [value] = answer.json["value"]
    return dict(value)


def test_a_meeting_request_is_an_event_message_request_with_its_message_id(
    client: Client, store: MailStore
) -> None:
    invite(client, ANOUK)
    listed = only(client.get(f"/users/{ANOUK}/mailFolders/inbox/messages?$expand={EXPAND}"))
    assert listed["@odata.type"] == "#microsoft.graph.eventMessageRequest"
    assert listed["meetingMessageType"] == "meetingRequest"
    assert listed["meetingRequestType"] == "newMeetingRequest"
    assert listed["startDateTime"]["dateTime"].startswith("2026-11-30T09:00:00")
    assert listed["internetMessageId"], "Exchange gives a meeting request a Message-ID"
    assert listed["singleValueExtendedProperties"] == [
        {"id": "String 0x001a", "value": "IPM.Schedule.Meeting.Request"}
    ]
    # The annotation stays with a $select; derived properties come when selected (with a cast).
    selected = only(
        client.get(
            f"/users/{ANOUK}/messages?$select=subject,"
            "microsoft.graph.eventMessage/meetingMessageType"
        )
    )
    assert selected["@odata.type"] == "#microsoft.graph.eventMessageRequest"
    assert selected["meetingMessageType"] == "meetingRequest"
    assert "startDateTime" not in selected
    delta = only(client.get(f"/users/{ANOUK}/mailFolders/inbox/messages/delta?$select=subject"))
    assert delta["@odata.type"] == "#microsoft.graph.eventMessageRequest"
    by_class = client.get(
        f"/users/{ANOUK}/messages?$filter=singleValueExtendedProperties/any(ep: ep/id eq "
        f"'{MESSAGE_CLASS}' and ep/value eq 'IPM.Schedule.Meeting.Request')"
    )
    assert only(by_class)["id"] == listed["id"]


def test_plain_mail_stays_a_message_with_class_ipm_note(client: Client, store: MailStore) -> None:
    store.deliver(SHARED, customer_mail())
    message = only(client.get(f"/users/{SHARED}/messages?$expand={EXPAND}"))
    assert "@odata.type" not in message
    assert "meetingMessageType" not in message
    assert message["singleValueExtendedProperties"][0]["value"] == "IPM.Note"


def test_responses_and_cancellations_have_their_own_types(client: Client, store: MailStore) -> None:
    for item_class in (
        "IPM.Schedule.Meeting.Resp.Tent",
        "IPM.Schedule.Meeting.Resp.Neg",
        "IPM.Schedule.Meeting.Canceled",
    ):
        store.create(SHARED, "inbox", NewItem(item_class=item_class, subject=item_class))
    values = client.get(f"/users/{SHARED}/mailFolders/inbox/messages").json["value"]
    kinds = {
        v["subject"]: (v["@odata.type"], v["meetingMessageType"], v.get("responseType"))
        for v in values
    }
    assert kinds == {
        "IPM.Schedule.Meeting.Resp.Tent": (
            "#microsoft.graph.eventMessageResponse",
            "meetingTenativelyAccepted",  # sic: Graph's enumeration member
            "tentativelyAccepted",
        ),
        "IPM.Schedule.Meeting.Resp.Neg": (
            "#microsoft.graph.eventMessageResponse",
            "meetingDeclined",
            "declined",
        ),
        "IPM.Schedule.Meeting.Canceled": (
            "#microsoft.graph.eventMessage",
            "meetingCancelled",
            None,
        ),
    }


EVENT = quote("microsoft.graph.eventMessage/event")


def test_an_event_message_expands_to_the_event_it_is_about_in_its_mailbox(
    client: Client, store: MailStore
) -> None:
    """`$expand=microsoft.graph.eventMessage/event` ("Get eventMessage"): the attendee's event
    for a request, the organizer's for a response (eventMessageResponse), `{}` once the event is
    gone from the calendar; a plain message has none, and the navigation needs its cast."""
    invite(client, ANOUK)
    request = only(client.get(f"/users/{ANOUK}/mailFolders/inbox/messages?$expand={EVENT}"))
    own = only(client.get(f"/users/{ANOUK}/events"))
    organizers = only(client.get(f"/users/{SHARED}/events"))
    assert request["event"]["id"] == own["id"]
    assert request["event"]["iCalUId"] == own["iCalUId"] == organizers["iCalUId"]
    assert request["event"]["responseStatus"]["response"] == "notResponded"

    declined = client.post(f"/users/{ANOUK}/events/{own['id']}/decline", {"sendResponse": True})
    assert declined.status == 202, declined.raw
    selected = quote("microsoft.graph.eventMessage/event($select=id,iCalUId)")
    response = only(
        client.get(f"/users/{SHARED}/mailFolders/inbox/messages?$select=subject&$expand={selected}")
    )
    assert response["@odata.type"] == "#microsoft.graph.eventMessageResponse"
    assert set(response["event"]) >= {"id", "iCalUId"}
    assert "subject" not in response["event"]
    assert (response["event"]["id"], response["event"]["iCalUId"]) == (
        organizers["id"],
        organizers["iCalUId"],
    )
    again = client.get(f"/users/{ANOUK}/messages/{request['id']}?$expand={EVENT}")
    assert again.json["event"] == {}, "the declined event left the calendar"

    store.deliver(SHARED, customer_mail())
    plain = [
        m
        for m in client.get(f"/users/{SHARED}/messages?$expand={EVENT}").json["value"]
        if "@odata.type" not in m  # a plain message is not annotated
    ]
    assert plain
    assert all("event" not in m for m in plain)
    uncast = client.get(f"/users/{SHARED}/messages?$expand=event")
    assert uncast.status == 400
    assert uncast.json["error"]["code"] == "RequestBroker--ParseUri"
    wrong = client.get(f"/users/{SHARED}/messages?$expand={quote(EVENT + '($select=nope)')}")
    assert wrong.status == 400
