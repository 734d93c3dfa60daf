"""The calendar control endpoints: what a colleague does in Outlook, for tests and demos."""

from __future__ import annotations

from dataclasses import replace
from datetime import time
from pathlib import Path
from typing import Any

import requests
from exchangelib import DELEGATE, EWSDateTime, EWSTimeZone

from exchange_sandbox.schedule import mailbox_hours
from exchange_sandbox.server import SandboxHandle, start_sandbox
from exchange_sandbox.store import Address, Attendee
from sandbox_helpers import BAKKER, DEVRIES, SHARED, account, folder_items
from submission_helpers import GraphHttp


def control(sandbox: SandboxHandle, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{sandbox.url}/_sandbox/{path}", json=body, timeout=10)


def graph_meeting(sandbox: SandboxHandle, subject: str = "Terugbellen") -> str:
    """A meeting the shared mailbox organizes for both colleagues; returns its UID."""
    made = control(
        sandbox,
        "calendar",
        {
            "mailbox": SHARED,
            "subject": subject,
            "start": "2026-11-30T10:00",
            "end": "2026-11-30T10:15",
        },
    ).json()
    invited = tuple(Attendee(Address(a)) for a in (DEVRIES, BAKKER))
    item = sandbox.store.update(
        made["id"],
        lambda it: replace(it, calendar=replace(it.calendar, attendees=invited)),  # type: ignore[arg-type]  # made as a calendar item
    )
    sandbox.store.send_meeting(item.id)
    return str(made["uid"])


def test_an_all_day_leave_is_out_of_office_from_midnight_to_midnight_local_time(
    sandbox: SandboxHandle,
) -> None:
    answer = control(
        sandbox,
        "calendar",
        {
            "mailbox": BAKKER,
            "subject": "Verlof",
            "start": "2026-12-01",
            "free_busy": "oof",
            "all_day": True,
        },
    )
    assert answer.status_code == 201, answer.text
    made = answer.json()
    # Amsterdam is UTC+1 in December: the day runs from 23:00 UTC the evening before.
    assert (made["start"], made["end"], made["free_busy"]) == (
        "2026-11-30T23:00:00+00:00",
        "2026-12-01T23:00:00+00:00",
        "OOF",
    )
    [item] = folder_items(sandbox, BAKKER, "calendar")
    assert item["subject"] == "Verlof"


def test_an_appointment_in_summer_time_and_in_another_zone(sandbox: SandboxHandle) -> None:
    summer = control(
        sandbox,
        "calendar",
        {
            "mailbox": DEVRIES,
            "subject": "Tandarts",
            "start": "2026-03-30T10:00",
            "end": "2026-03-30T11:00",
        },
    ).json()
    assert summer["start"] == "2026-03-30T08:00:00+00:00"  # CEST since 29 March
    london = control(
        sandbox,
        "calendar",
        {
            "mailbox": DEVRIES,
            "subject": "Call",
            "start": "2026-03-30T10:00",
            "end": "2026-03-30T10:30",
            "time_zone": "GMT Standard Time",
            "free_busy": "WorkingElsewhere",
        },
    ).json()
    assert london["start"] == "2026-03-30T09:00:00+00:00"


def test_bad_requests_are_refused_with_a_reason(sandbox: SandboxHandle) -> None:
    cases = [
        ("calendar", {"mailbox": "niemand@woonservice.example"}, 404),
        ("calendar", {"mailbox": DEVRIES, "start": "2026-12-01T10:00", "end": "x"}, 400),
        ("calendar", {"mailbox": DEVRIES, "start": "2026-12-01", "free_busy": "Weg"}, 400),
        ("calendar/respond", {"mailbox": DEVRIES, "event": "Onbekend", "response": "accept"}, 404),
        ("calendar/respond", {"mailbox": DEVRIES}, 400),
        ("calendar/elsewhere", {"mailbox": DEVRIES}, 404),
    ]
    for path, body, status in cases:
        answer = control(sandbox, path, body)
        assert answer.status_code == status, (path, body, answer.text)
        assert "error" in answer.json()


def test_a_colleague_answers_by_subject_and_the_organizer_sees_it(sandbox: SandboxHandle) -> None:
    graph_meeting(sandbox)
    answer = control(
        sandbox,
        "calendar/respond",
        {"mailbox": DEVRIES, "event": "terugbellen", "response": "accept", "comment": "Prima"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["my_response"] == "Accept"
    assert answer.json()["request"] is not None  # answered from the Inbox, as in Outlook
    [organizer] = folder_items(sandbox, SHARED, "calendar")
    responses = {a["email"]: a["response"] for a in organizer["calendar"]["attendees"]}  # type: ignore[index]
    assert responses == {DEVRIES: "Accept", BAKKER: "Unknown"}
    [reply] = folder_items(sandbox, SHARED, "inbox")
    assert reply["item_class"] == "IPM.Schedule.Meeting.Resp.Pos"


def test_a_colleague_declines_by_uid_without_sending_and_nobody_is_told(
    sandbox: SandboxHandle,
) -> None:
    uid = graph_meeting(sandbox)
    answer = control(
        sandbox,
        "calendar/respond",
        {"mailbox": BAKKER, "event": uid, "response": "decline", "send_response": False},
    )
    assert answer.json()["folder"] == "deleteditems"
    assert folder_items(sandbox, SHARED, "inbox") == []


def test_a_colleague_moves_and_deletes_the_meeting_in_their_own_calendar(
    sandbox: SandboxHandle,
) -> None:
    graph_meeting(sandbox)
    moved = control(
        sandbox,
        "calendar/move",
        {
            "mailbox": DEVRIES,
            "event": "Terugbellen",
            "start": "2026-11-30T14:00",
            "end": "2026-11-30T14:15",
        },
    ).json()
    assert moved["start"] == "2026-11-30T13:00:00+00:00"
    [organizer] = folder_items(sandbox, SHARED, "calendar")
    assert organizer["calendar"]["start"] == "2026-11-30T09:00:00+00:00"  # type: ignore[index]
    deleted = control(sandbox, "calendar/delete", {"mailbox": BAKKER, "event": "Terugbellen"})
    assert deleted.json()["folder"] == "deleteditems"
    refused = control(sandbox, "calendar/delete", {"mailbox": SHARED, "event": "Terugbellen"})
    assert (refused.status_code, refused.json()["kind"]) == (409, "organizer")
    assert folder_items(sandbox, SHARED, "inbox") == []


def test_a_colleague_sets_working_hours_and_both_fronts_answer_them(
    sandbox: SandboxHandle,
) -> None:
    mornings = {
        "mailbox": BAKKER,
        "days": ["monday", "tuesday", "thursday"],
        "start": "08:30",
        "end": "12:30",
    }
    answer = control(sandbox, "calendar/working-hours", mornings)
    assert answer.status_code == 200, answer.text
    assert answer.json()["days"] == ["monday", "tuesday", "thursday"]
    assert answer.json()["time_zone"] == "W. Europe Standard Time"  # kept from before
    # Jan keeps the configuration's hours.
    ews = account(sandbox, SHARED, DELEGATE)
    zone = EWSTimeZone("Europe/Amsterdam")
    views = list(
        ews.protocol.get_free_busy_info(
            accounts=[(BAKKER, "Required", False), (DEVRIES, "Required", False)],
            start=EWSDateTime(2026, 12, 1, 8, 0, tzinfo=zone),
            end=EWSDateTime(2026, 12, 1, 18, 0, tzinfo=zone),
        )
    )
    (anouk,), (jan,) = (v.working_hours for v in views)
    assert (anouk.weekdays, anouk.start, anouk.end) == ([1, 2, 4], time(8, 30), time(12, 30))
    assert (jan.weekdays, jan.start, jan.end) == ([1, 2, 3, 4, 5], time(8, 30), time(17, 0))
    graph = GraphHttp(sandbox)
    schedule = graph.post(
        f"/users/{SHARED}/calendar/getSchedule",
        {
            "schedules": [BAKKER],
            "startTime": {"dateTime": "2026-12-01T08:00:00", "timeZone": "UTC"},
            "endTime": {"dateTime": "2026-12-01T18:00:00", "timeZone": "UTC"},
        },
    ).json()["value"][0]["workingHours"]
    settings = graph.get(f"/users/{BAKKER}/mailboxSettings/workingHours").json()
    for hours in (schedule, settings):
        assert hours["daysOfWeek"] == ["monday", "tuesday", "thursday"]
        assert (hours["startTime"], hours["endTime"]) == ("08:30:00.0000000", "12:30:00.0000000")

    per_day = control(sandbox, "calendar/working-hours", {"mailbox": BAKKER, "friday": "9-12"})
    assert per_day.status_code == 400
    assert "one time range for all work days" in per_day.json()["error"]
    unknown = control(sandbox, "calendar/working-hours", {"mailbox": "nobody@x.example"})
    assert unknown.status_code == 404
    reset = control(sandbox, "calendar/working-hours", {"mailbox": BAKKER, "reset": True})
    assert reset.json()["days"] == ["monday", "tuesday", "thursday", "friday"]  # the config's


def test_working_hours_a_colleague_set_survive_a_restart(tmp_path: Path) -> None:
    first = start_sandbox(state_dir=tmp_path)
    try:
        control(first, "calendar/working-hours", {"mailbox": DEVRIES, "start": "10:00"})
    finally:
        first.stop()
    second = start_sandbox(state_dir=tmp_path)
    try:
        hours = mailbox_hours(second.store, second.server.config, DEVRIES)
        assert (hours.start, hours.end) == (600, 1020)
    finally:
        second.stop()
