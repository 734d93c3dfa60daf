"""Action parameters of the sandbox Graph endpoint: metadata names, any casing, nothing dropped."""

from __future__ import annotations

from typing import Any

from graph_helpers import ANOUK, CUSTOMER, JAN, SHARED, Client, customer_mail

from exchange_sandbox.store import MailStore

TZ = "W. Europe Standard Time"


def delivered(client: Client, store: MailStore) -> str:
    store.deliver(SHARED, customer_mail())
    return str(client.get(f"/users/{SHARED}/mailFolders/inbox/messages").json["value"][0]["id"])


def test_reply_reads_the_comment_as_the_sdk_spells_it_and_as_the_docs_spell_it(
    client: Client, store: MailStore
) -> None:
    message_id = delivered(client, store)
    for comment in ({"Comment": "Bedankt (SDK)"}, {"comment": "Bedankt (docs)"}):
        answer = client.post(f"/users/{SHARED}/messages/{message_id}/reply", comment)
        assert answer.status == 202, answer.raw
    bodies = [item.body for item in store.items(SHARED, "sentitems")]
    assert any("Bedankt (SDK)" in body for body in bodies)
    assert any("Bedankt (docs)" in body for body in bodies)


def test_unknown_and_repeated_parameters_are_refused_not_ignored(
    client: Client, store: MailStore
) -> None:
    message_id = delivered(client, store)
    unknown = client.post(f"/users/{SHARED}/messages/{message_id}/reply", {"Comments": "x"})
    assert unknown.status == 400
    assert unknown.json["error"]["code"] == "RequestBodyRead"
    assert unknown.json["error"]["message"] == (
        "The parameter 'Comments' in the request payload is not a valid parameter for the "
        "operation 'reply'."
    )
    twice = client.post(
        f"/users/{SHARED}/messages/{message_id}/createReply", {"comment": "a", "Comment": "b"}
    )
    assert twice.status == 400
    assert store.items(SHARED, "sentitems") == []
    assert store.items(SHARED, "drafts") == []


def test_send_mail_takes_message_and_save_to_sent_items_in_any_casing(
    client: Client, store: MailStore
) -> None:
    message = {"subject": "Test", "toRecipients": [{"emailAddress": {"address": ANOUK}}]}
    assert client.post(f"/users/{SHARED}/sendMail", {"Message": message}).status == 202
    assert len(store.items(SHARED, "sentitems")) == 1
    # Microsoft's sendMail example sends the boolean as a string: "saveToSentItems": "false".
    for save in ({"SaveToSentItems": False}, {"saveToSentItems": "false"}):
        answer = client.post(f"/users/{SHARED}/sendMail", {"message": message, **save})
        assert answer.status == 202, answer.raw
    assert len(store.items(SHARED, "sentitems")) == 1
    assert len(store.items(ANOUK, "inbox")) == 3
    refused = client.post(f"/users/{SHARED}/sendMail", {"message": message, "saveToSent": False})
    assert refused.status == 400
    bad = client.post(f"/users/{SHARED}/sendMail", {"message": message, "saveToSentItems": "no"})
    assert bad.status == 400
    assert len(store.items(ANOUK, "inbox")) == 3


def test_move_takes_destination_id_as_the_sdk_sends_it(client: Client, store: MailStore) -> None:
    message_id = delivered(client, store)
    moved = client.post(
        f"/users/{SHARED}/messages/{message_id}/move", {"DestinationId": "deleteditems"}
    )
    assert moved.status == 201, moved.raw
    assert [it.subject for it in store.items(SHARED, "deleteditems")] == ["Lekkage in de badkamer"]


def schedule_body(**names: str) -> dict[str, Any]:
    return {
        names["schedules"]: [JAN, ANOUK],
        names["start"]: {"dateTime": "2026-11-30T09:00:00", "timeZone": TZ},
        names["end"]: {"dateTime": "2026-11-30T12:00:00", "timeZone": TZ},
        names["interval"]: 60,
    }


def test_get_schedule_accepts_the_documented_example_and_the_sdk_names(client: Client) -> None:
    documented = schedule_body(
        schedules="schedules", start="startTime", end="endTime", interval="availabilityViewInterval"
    )
    sdk = schedule_body(
        schedules="Schedules", start="StartTime", end="EndTime", interval="AvailabilityViewInterval"
    )
    for body in (documented, sdk):
        answer = client.post(
            f"/users/{SHARED}/calendar/getSchedule",
            body,
            headers={"Prefer": f'outlook.timezone="{TZ}"'},
        )
        assert answer.status == 200, answer.raw
        assert [s["availabilityView"] for s in answer.json["value"]] == ["000", "000"]


def test_actions_without_parameters_refuse_a_body_with_one(
    client: Client, store: MailStore
) -> None:
    draft = client.post(
        f"/users/{SHARED}/messages",
        {"subject": "Concept", "toRecipients": [{"emailAddress": {"address": CUSTOMER}}]},
    ).json
    refused = client.post(f"/users/{SHARED}/messages/{draft['id']}/send", {"saveToSentItems": 1})
    assert refused.status == 400
    assert client.post(f"/users/{SHARED}/messages/{draft['id']}/send").status == 202
