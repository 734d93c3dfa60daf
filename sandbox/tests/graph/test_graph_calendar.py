"""Graph calendar operations of the sandbox: events with attendees, getSchedule, calendarView."""

from __future__ import annotations

from typing import Any

from graph_helpers import ANOUK, JAN, SHARED, Client, example

from exchange_sandbox.store import MailStore

TZ = "W. Europe Standard Time"


def event(
    subject: str, start: str, end: str, attendees: tuple[str, ...] = (), **extra: Any
) -> dict[str, Any]:
    return {
        "subject": subject,
        "body": {"contentType": "text", "content": "Terugbelverzoek"},
        "start": {"dateTime": start, "timeZone": TZ},
        "end": {"dateTime": end, "timeZone": TZ},
        "location": {"displayName": "Telefoon"},
        "attendees": [{"emailAddress": {"address": a}, "type": "required"} for a in attendees],
        **extra,
    }


def schedule(client: Client, who: list[str], start: str, end: str, interval: int = 60) -> Any:
    answer = client.post(
        f"/users/{SHARED}/calendar/getSchedule",
        {
            "schedules": who,
            "startTime": {"dateTime": start, "timeZone": TZ},
            "endTime": {"dateTime": end, "timeZone": TZ},
            "availabilityViewInterval": interval,
        },
        headers={"Prefer": f'outlook.timezone="{TZ}"'},
    )
    assert answer.status == 200, answer.raw
    return answer.json


def test_get_schedule_reflects_events_and_meeting_requests(
    client: Client, store: MailStore
) -> None:
    created = client.post(
        f"/users/{JAN}/calendar/events",
        event("Terugbellen dhr. Jansen", "2026-11-30T10:00:00", "2026-11-30T11:00:00", (ANOUK,)),
    )
    assert created.status == 201, created.raw
    assert created.json["start"] == {"dateTime": "2026-11-30T10:00:00.0000000", "timeZone": TZ}
    assert created.json["attendees"][0]["emailAddress"]["address"] == ANOUK
    [request] = store.items(ANOUK, "inbox")
    assert request.item_class == "IPM.Schedule.Meeting.Request"

    answer = schedule(
        client,
        [JAN, ANOUK, "onbekend@woonservice.example"],
        "2026-11-30T09:00:00",
        "2026-11-30T12:00:00",
    )
    documented = example("get_schedule.json")["response"]
    assert set(answer) == set(documented)
    jan, anouk, unknown = answer["value"]
    assert set(jan) == set(documented["value"][0])
    assert set(jan["scheduleItems"][0]) == set(documented["value"][0]["scheduleItems"][0])
    assert jan["availabilityView"] == "020"
    assert anouk["availabilityView"] == "010"
    assert jan["scheduleItems"][0]["start"] == {
        "dateTime": "2026-11-30T10:00:00.0000000",
        "timeZone": TZ,
    }
    assert jan["scheduleItems"][0]["status"] == "busy"
    assert unknown["error"]["responseCode"] == "ErrorMailRecipientNotFound"


def test_calendar_view_lists_events_in_the_window(client: Client) -> None:
    client.post(
        f"/users/{JAN}/events", event("Ochtend", "2026-11-30T09:00:00", "2026-11-30T09:30:00")
    )
    client.post(
        f"/users/{JAN}/events", event("Middag", "2026-11-30T14:00:00", "2026-11-30T14:30:00")
    )
    view = client.get(
        f"/users/{JAN}/calendarView?startDateTime=2026-11-30T07:00:00Z&endDateTime=2026-11-30T12:00:00Z"
    )
    assert view.status == 200
    assert [e["subject"] for e in view.json["value"]] == ["Ochtend"]
    assert client.get(f"/users/{JAN}/calendarView").status == 400


def test_a_repeated_transaction_id_creates_one_event(client: Client, store: MailStore) -> None:
    body = event("Terugbellen", "2026-12-01T10:00:00", "2026-12-01T10:15:00", transactionId="cb-42")
    first = client.post(f"/users/{JAN}/calendar/events", body)
    second = client.post(f"/users/{JAN}/calendar/events", body)
    assert first.status == second.status == 201
    assert first.json["id"] == second.json["id"]
    assert len(store.items(JAN, "calendar")) == 1


def test_an_events_reminder_is_kept_and_reaches_the_attendee(client: Client) -> None:
    """isReminderOn/reminderMinutesBeforeStart are kept as posted (left out: on, 15 minutes,
    the mailbox's default); the attendee's event carries the organizer's reminder."""
    posted = client.post(
        f"/users/{SHARED}/calendar/events",
        event(
            "Terugbellen",
            "2026-12-01T10:00:00",
            "2026-12-01T10:15:00",
            (JAN,),
            isReminderOn=True,
            reminderMinutesBeforeStart=30,
        ),
    )
    plain = client.post(
        f"/users/{SHARED}/events", event("Standaard", "2026-12-01T11:00:00", "2026-12-01T11:15:00")
    )
    quiet = client.post(
        f"/users/{SHARED}/events",
        event("Zonder", "2026-12-01T12:00:00", "2026-12-01T12:15:00", isReminderOn=False),
    )
    assert posted.status == plain.status == quiet.status == 201, posted.raw
    assert (posted.json["isReminderOn"], posted.json["reminderMinutesBeforeStart"]) == (True, 30)
    assert (plain.json["isReminderOn"], plain.json["reminderMinutesBeforeStart"]) == (True, 15)
    assert quiet.json["isReminderOn"] is False
    view = client.get(
        f"/users/{JAN}/calendarView?startDateTime=2026-12-01T00:00:00Z&endDateTime=2026-12-02T00:00:00Z"
    )
    (copy,) = view.json["value"]
    assert (copy["isReminderOn"], copy["reminderMinutesBeforeStart"]) == (True, 30)

    patched = client.patch(
        f"/users/{SHARED}/events/{posted.json['id']}", {"reminderMinutesBeforeStart": 5}
    )
    assert patched.status == 200, patched.raw
    assert (patched.json["isReminderOn"], patched.json["reminderMinutesBeforeStart"]) == (True, 5)
    wrong = client.patch(f"/users/{SHARED}/events/{posted.json['id']}", {"isReminderOn": "ja"})
    assert wrong.status == 400
    assert wrong.json["error"]["code"] == "RequestBodyRead"


REF = "String {9a1f3c52-5d2e-4b8e-9c41-7e0b2f6d8a13} Name TopContactMailCallbackRef"


def test_an_events_extended_properties_are_kept_and_read_with_expand_and_select(
    client: Client,
) -> None:
    """singleValueExtendedProperties on POST (and PATCH) of an event are kept; reads give them
    with `$expand=singleValueExtendedProperties($filter=id eq '…')` and honour `$select` (a
    property the event type lacks is 400); the sandbox's own transactionId record stays hidden."""
    posted = client.post(
        f"/users/{SHARED}/calendar/events",
        event(
            "Terugbellen",
            "2026-12-01T10:00:00",
            "2026-12-01T10:15:00",
            (JAN,),
            transactionId="cb-1",
            singleValueExtendedProperties=[{"id": REF, "value": "ref-1"}],
        ),
    )
    assert posted.status == 201, posted.raw
    expand = f"singleValueExtendedProperties($filter=id eq '{REF}')"
    view = client.get(
        f"/users/{SHARED}/calendarView?startDateTime=2026-12-01T00:00:00Z"
        f"&endDateTime=2026-12-02T00:00:00Z&$select=id,start,transactionId&$expand={expand}"
    )
    assert view.status == 200, view.raw
    (found,) = view.json["value"]
    assert set(found) - {"@odata.etag"} == {
        "id",
        "start",
        "transactionId",
        "singleValueExtendedProperties",
    }
    assert found["transactionId"] == "cb-1"
    assert found["singleValueExtendedProperties"] == [{"id": REF, "value": "ref-1"}]
    every = client.get(
        f"/users/{SHARED}/events/{posted.json['id']}?$expand=singleValueExtendedProperties"
    )
    assert every.json["singleValueExtendedProperties"] == [{"id": REF, "value": "ref-1"}]
    plain = client.get(f"/users/{SHARED}/events/{posted.json['id']}")
    assert "singleValueExtendedProperties" not in plain.json

    patched = client.patch(
        f"/users/{SHARED}/events/{posted.json['id']}",
        {"singleValueExtendedProperties": [{"id": REF, "value": "ref-2"}]},
    )
    assert patched.status == 200, patched.raw
    again = client.get(f"/users/{SHARED}/events/{posted.json['id']}?$expand={expand}")
    assert again.json["singleValueExtendedProperties"] == [{"id": REF, "value": "ref-2"}]
    unknown = client.get(f"/users/{SHARED}/events?$select=subject,flag")
    assert unknown.status == 400
    assert unknown.json["error"]["code"] == "RequestBroker--ParseUri"
    bad = client.post(
        f"/users/{SHARED}/events",
        event(
            "Fout",
            "2026-12-01T11:00:00",
            "2026-12-01T11:15:00",
            singleValueExtendedProperties=[{"id": "nonsense", "value": "x"}],
        ),
    )
    assert bad.status == 400
    assert [i.subject for i in client.app.store.items(SHARED, "calendar")] == ["Terugbellen"]
