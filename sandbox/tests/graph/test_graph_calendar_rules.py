"""Graph calendar rules of the sandbox: event messages of a meeting's life, refusals, limits, the directory."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from graph_helpers import ANOUK, JAN, SHARED, Client, issue_token

from exchange_sandbox.config import DEFAULT_ROLES, GraphConfig, load_config
from exchange_sandbox.graph import GraphApp
from exchange_sandbox.store import MailStore

TZ = "W. Europe Standard Time"


@pytest.fixture
def cal(store: MailStore, config: GraphConfig) -> Client:
    """A Graph app with the shipped address book and working hours, allowed to read both."""
    roles = (*DEFAULT_ROLES, "User.Read.All", "MailboxSettings.Read")
    apps = (replace(config.apps[0], roles=roles), *config.apps[1:])
    app = GraphApp(store, replace(config, apps=apps), sandbox=load_config())
    return Client(app, issue_token(app))


def meeting(client: Client, *attendees: str, **extra: Any) -> dict[str, Any]:
    answer = client.post(
        f"/users/{SHARED}/events",
        {
            "subject": "Terugbellen",
            "start": {"dateTime": "2026-11-30T10:00:00", "timeZone": TZ},
            "end": {"dateTime": "2026-11-30T10:15:00", "timeZone": TZ},
            "attendees": [{"emailAddress": {"address": a}, "type": "required"} for a in attendees],
            **extra,
        },
    )
    assert answer.status == 201, answer.raw
    result: dict[str, Any] = answer.json
    return result


def their_event(client: Client, mailbox: str) -> dict[str, Any]:
    answer = client.get(f"/users/{mailbox}/events", headers={"Prefer": f'outlook.timezone="{TZ}"'})
    assert answer.status == 200, answer.raw
    [event] = answer.json["value"]
    result: dict[str, Any] = event
    return result


def inbox(client: Client, mailbox: str) -> list[dict[str, Any]]:
    answer = client.get(f"/users/{mailbox}/mailFolders/inbox/messages")
    assert answer.status == 200, answer.raw
    found: list[dict[str, Any]] = answer.json["value"]
    return found


def test_answers_are_202_without_a_body_and_in_any_parameter_casing(cal: Client) -> None:
    meeting(cal, JAN, ANOUK)
    jan = their_event(cal, JAN)
    assert jan["responseStatus"]["response"] == "notResponded"
    answer = cal.post(
        f"/users/{JAN}/events/{jan['id']}/accept", {"comment": "Prima", "sendResponse": True}
    )
    assert (answer.status, answer.raw) == (202, b"")
    anouk = their_event(cal, ANOUK)
    silent = cal.post(f"/users/{ANOUK}/events/{anouk['id']}/decline", {"SendResponse": False})
    assert silent.status == 202
    organizer = their_event(cal, SHARED)
    statuses = {a["emailAddress"]["address"]: a["status"] for a in organizer["attendees"]}
    assert statuses[JAN]["response"] == "accepted"
    assert statuses[JAN]["time"] != "0001-01-01T00:00:00Z"
    assert statuses[ANOUK]["response"] == "none"  # declined without telling the organizer
    [reply] = inbox(cal, SHARED)
    assert (reply["@odata.type"], reply["responseType"]) == (
        "#microsoft.graph.eventMessageResponse",
        "accepted",
    )
    assert cal.get(f"/users/{ANOUK}/events").json["value"] == []


def test_refusals_of_answers_and_cancellations(cal: Client) -> None:
    organizer = meeting(cal, JAN)
    own = cal.post(f"/users/{SHARED}/events/{organizer['id']}/accept", {})
    assert (own.status, own.json["error"]["code"]) == (400, "ErrorInvalidRequest")
    jan = their_event(cal, JAN)
    attendee_cancel = cal.post(f"/users/{JAN}/events/{jan['id']}/cancel", {"Comment": "x"})
    assert attendee_cancel.status == 400
    assert attendee_cancel.json["error"]["message"] == (
        "Your request can't be completed. You need to be an organizer to cancel a meeting."
    )
    proposal = cal.post(
        f"/users/{JAN}/events/{jan['id']}/decline",
        {
            "proposedNewTime": {
                "start": {"dateTime": "2026-11-30T11:00:00", "timeZone": TZ},
                "end": {"dateTime": "2026-11-30T11:15:00", "timeZone": TZ},
            }
        },
    )
    assert proposal.status == 400
    unknown = cal.post(f"/users/{JAN}/events/{jan['id']}/accept", {"note": "x"})
    assert (unknown.status, unknown.json["error"]["code"]) == (400, "RequestBodyRead")


def test_updates_and_cancellations_are_event_messages_and_supersede_the_request(
    cal: Client,
) -> None:
    organizer = meeting(cal, JAN)
    moved = cal.patch(
        f"/users/{SHARED}/events/{organizer['id']}",
        {
            "start": {"dateTime": "2026-11-30T11:00:00", "timeZone": TZ},
            "end": {"dateTime": "2026-11-30T11:15:00", "timeZone": TZ},
        },
    )
    assert moved.status == 200, moved.raw
    first, update = sorted(
        inbox(cal, JAN), key=lambda m: m["meetingRequestType"] != "newMeetingRequest"
    )
    assert (first["meetingRequestType"], first["isOutOfDate"]) == ("newMeetingRequest", True)
    assert (update["meetingRequestType"], update["isOutOfDate"]) == ("fullUpdate", False)
    assert update["previousStartDateTime"]["dateTime"] == "2026-11-30T09:00:00.0000000"
    stale = cal.patch(
        f"/users/{SHARED}/events/{organizer['id']}",
        {"subject": "x"},
        headers={"If-Match": organizer["@odata.etag"]},
    )
    assert stale.status == 412
    gone = cal.call("DELETE", f"/users/{SHARED}/events/{organizer['id']}")
    assert gone.status == 204
    cancelled = [m for m in inbox(cal, JAN) if m["meetingMessageType"] == "meetingCancelled"]
    assert [m["subject"] for m in cancelled] == ["Canceled: Terugbellen"]
    jan = their_event(cal, JAN)
    assert (jan["isCancelled"], jan["showAs"]) == (True, "free")


def test_get_schedule_limits_are_exchange_onlines(cal: Client) -> None:
    def schedule(who: list[str], end: str) -> Any:
        return cal.post(
            f"/users/{SHARED}/calendar/getSchedule",
            {
                "Schedules": who,
                "StartTime": {"dateTime": "2026-11-01T00:00:00", "timeZone": TZ},
                "EndTime": {"dateTime": end, "timeZone": TZ},
            },
        )

    too_many = schedule([f"u{n}@woonservice.example" for n in range(21)], "2026-11-02T00:00:00")
    assert (too_many.status, too_many.json["error"]["code"]) == (400, "ErrorMailboxDataArrayTooBig")
    assert "The allowed size = 20; the actual size = 21." in too_many.json["error"]["message"]
    too_long = schedule([JAN], "2027-01-03T00:00:00")  # 63 days
    assert (too_long.status, too_long.json["error"]["code"]) == (400, "ErrorTimeIntervalTooBig")
    assert (
        "The allowed limit = 62 days; the actual limit = 63 days."
        in too_long.json["error"]["message"]
    )
    assert schedule([JAN], "2027-01-02T00:00:00").status == 200


def test_the_directory_needs_its_roles_and_its_header_and_is_outside_the_access_policy(
    cal: Client, client: Client
) -> None:
    search = cal.get('/users?$search="displayName:jan"')
    assert (search.status, search.json["error"]["code"]) == (400, "Request_UnsupportedQuery")
    assert "ConsistencyLevel: eventual" in search.json["error"]["message"]
    assert cal.get("/users?$filter=endswith(mail,'.example')").json["error"]["code"] == (
        "Request_UnsupportedQuery"
    )
    assert cal.get("/users?$select=favouriteColour").status == 400
    assert client.get("/users").status == 403  # no User.Read.All
    assert client.get(f"/users/{JAN}/mailboxSettings").status == 403  # no MailboxSettings.Read
    jan = cal.get(f"/users/{JAN}?$select=displayName,mailboxSettings")
    assert jan.json["mailboxSettings"]["workingHours"]["startTime"] == "08:30:00.0000000"
    hours = cal.get(f"/users/{ANOUK}/mailboxSettings/workingHours")
    assert hours.json["daysOfWeek"] == ["monday", "tuesday", "thursday", "friday"]
    shared = cal.get(f"/users/{SHARED}/mailboxSettings/userPurpose")
    assert shared.json["value"] == "shared"
    assert cal.get(f"/users/{JAN}/mailboxSettings/userPurpose").json["value"] == "user"


def test_an_all_day_event_and_every_show_as_value_round_trip(cal: Client) -> None:
    for show_as in ("free", "tentative", "busy", "oof", "workingElsewhere", "unknown"):
        made = cal.post(
            f"/users/{JAN}/events",
            {
                "subject": show_as,
                "isAllDay": show_as == "oof",
                "showAs": show_as,
                "start": {"dateTime": "2026-12-01T00:00:00", "timeZone": TZ},
                "end": {"dateTime": "2026-12-02T00:00:00", "timeZone": TZ},
            },
        )
        assert made.json["showAs"] == show_as
    bad = cal.post(
        f"/users/{JAN}/events",
        {
            "showAs": "away",
            "start": {"dateTime": "2026-12-01T00:00:00"},
            "end": {"dateTime": "2026-12-01T01:00:00"},
        },
    )
    assert bad.status == 400


def test_the_colleague_controls_answer_on_a_graph_app_that_runs_alone(cal: Client) -> None:
    meeting(cal, JAN)
    leave = cal.post(
        "/_sandbox/graph/calendar",
        {
            "mailbox": ANOUK,
            "subject": "Verlof",
            "start": "2026-11-30",
            "all_day": True,
            "free_busy": "OOF",
        },
    )
    assert leave.status == 201, leave.raw
    answered = cal.post(
        "/_sandbox/graph/calendar/respond",
        {"mailbox": JAN, "event": "Terugbellen", "response": "decline"},
    )
    assert answered.json["my_response"] == "Decline"
    organizer = their_event(cal, SHARED)
    assert organizer["attendees"][0]["status"]["response"] == "declined"
