"""Times without an offset are read in the request's time zone, as Exchange reads them.

"Time zones and EWS in Exchange", table 2: from Exchange2010 requests on, a dateTime without
offset is wall-clock time of the TimeZoneContext, or of the calendar item's StartTimeZone
(Start) and EndTimeZone (End); Exchange2007_SP1 requests ignore TimeZoneContext and use the
item's MeetingTimeZone. GetUserAvailability reads its window in its own TimeZone.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from exchange_sandbox.ews.zones import ZONES, SerializableZone, from_local
from exchange_sandbox.server import SandboxHandle
from sandbox_helpers import SHARED, folder_items, post_soap, response_codes

CONTEXT = (
    '<t:TimeZoneContext><t:TimeZoneDefinition Id="W. Europe Standard Time"/></t:TimeZoneContext>'
)
CALENDAR = (
    f'<t:DistinguishedFolderId Id="calendar"><t:Mailbox><t:EmailAddress>{SHARED}'
    "</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId>"
)


def _create(start: str, end: str, zones: str = "") -> str:
    return (
        '<m:CreateItem SendMeetingInvitations="SendToNone">'
        f"<m:SavedItemFolderId>{CALENDAR}</m:SavedItemFolderId><m:Items><t:CalendarItem>"
        f"<t:Subject>Terugbellen</t:Subject><t:Start>{start}</t:Start><t:End>{end}</t:End>"
        f"{zones}</t:CalendarItem></m:Items></m:CreateItem>"
    )


def _stored(sandbox: SandboxHandle) -> tuple[str, str]:
    (item,) = folder_items(sandbox, SHARED, "calendar")
    calendar = item["calendar"]
    assert isinstance(calendar, dict)
    return calendar["start"], calendar["end"]


@pytest.mark.parametrize(
    ("day", "utc_hour"), [("2026-11-30", 9), ("2026-06-30", 8)]
)  # winter: UTC+1, summer: UTC+2
def test_a_naive_time_is_wall_clock_time_of_the_time_zone_context(
    sandbox: SandboxHandle, day: str, utc_hour: int
) -> None:
    answer = post_soap(sandbox, _create(f"{day}T10:00:00", f"{day}T10:15:00"), header=CONTEXT)
    assert response_codes(answer) == ["NoError"]
    assert _stored(sandbox) == (
        f"{day}T{utc_hour:02d}:00:00+00:00",
        f"{day}T{utc_hour:02d}:15:00+00:00",
    )


def test_without_a_time_zone_context_a_naive_time_is_utc(sandbox: SandboxHandle) -> None:
    post_soap(sandbox, _create("2026-11-30T10:00:00", "2026-11-30T10:15:00"))
    assert _stored(sandbox)[0] == "2026-11-30T10:00:00+00:00"


def test_an_offset_always_wins(sandbox: SandboxHandle) -> None:
    post_soap(sandbox, _create("2026-11-30T10:00:00Z", "2026-11-30T10:15:00-05:00"), header=CONTEXT)
    assert _stored(sandbox) == ("2026-11-30T10:00:00+00:00", "2026-11-30T15:15:00+00:00")


def test_start_and_end_time_zones_of_the_item_win_over_the_context(
    sandbox: SandboxHandle,
) -> None:
    zones = '<t:StartTimeZone Id="GMT Standard Time"/><t:EndTimeZone Id="Pacific Standard Time"/>'
    post_soap(sandbox, _create("2026-11-30T10:00:00", "2026-11-30T02:30:00", zones), header=CONTEXT)
    assert _stored(sandbox) == ("2026-11-30T10:00:00+00:00", "2026-11-30T10:30:00+00:00")


def test_an_exchange_2007_request_ignores_the_context_and_reads_the_meeting_time_zone(
    sandbox: SandboxHandle,
) -> None:
    meeting = '<t:MeetingTimeZone TimeZoneName="W. Europe Standard Time"/>'
    post_soap(
        sandbox,
        _create("2026-11-30T10:00:00", "2026-11-30T10:15:00", meeting),
        version="Exchange2007_SP1",
    )
    assert _stored(sandbox)[0] == "2026-11-30T09:00:00+00:00"


def test_an_exchange_2007_request_with_only_a_context_is_utc(sandbox: SandboxHandle) -> None:
    post_soap(
        sandbox,
        _create("2026-11-30T10:00:00", "2026-11-30T10:15:00"),
        header=CONTEXT,
        version="Exchange2007_SP1",
    )
    assert _stored(sandbox)[0] == "2026-11-30T10:00:00+00:00"


def test_update_item_reads_a_naive_start_in_the_context(sandbox: SandboxHandle) -> None:
    post_soap(sandbox, _create("2026-11-30T10:00:00Z", "2026-11-30T12:00:00Z"))
    item_id = folder_items(sandbox, SHARED, "calendar")[0]["id"]
    answer = post_soap(
        sandbox,
        '<m:UpdateItem ConflictResolution="AlwaysOverwrite" SendMeetingInvitationsOrCancellations'
        f'="SendToNone"><m:ItemChanges><t:ItemChange><t:ItemId Id="{item_id}"/><t:Updates>'
        '<t:SetItemField><t:FieldURI FieldURI="calendar:Start"/><t:CalendarItem>'
        "<t:Start>2026-11-30T11:00:00</t:Start></t:CalendarItem></t:SetItemField>"
        "</t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>",
        header=CONTEXT,
    )
    assert response_codes(answer) == ["NoError"]
    assert _stored(sandbox)[0] == "2026-11-30T10:00:00+00:00"


def test_an_unknown_time_zone_is_error_time_zone(sandbox: SandboxHandle) -> None:
    answer = post_soap(
        sandbox,
        _create("2026-11-30T10:00:00", "2026-11-30T10:15:00"),
        header='<t:TimeZoneContext><t:TimeZoneDefinition Id="Mars Standard Time"/></t:TimeZoneContext>',
    )
    assert b"<e:ResponseCode" in answer.content
    assert b"ErrorTimeZone" in answer.content


def _availability(time_zone: str, start: str, end: str) -> str:
    return (
        f"<m:GetUserAvailabilityRequest>{time_zone}<m:MailboxDataArray><t:MailboxData>"
        f"<t:Email><t:Address>{SHARED}</t:Address></t:Email><t:AttendeeType>Required"
        "</t:AttendeeType></t:MailboxData></m:MailboxDataArray><t:FreeBusyViewOptions>"
        f"<t:TimeWindow><t:StartTime>{start}</t:StartTime><t:EndTime>{end}</t:EndTime>"
        "</t:TimeWindow><t:MergedFreeBusyIntervalInMinutes>60</t:MergedFreeBusyIntervalInMinutes>"
        "<t:RequestedView>MergedOnly</t:RequestedView></t:FreeBusyViewOptions>"
        "</m:GetUserAvailabilityRequest>"
    )


AMSTERDAM = (
    "<t:TimeZone><t:Bias>-60</t:Bias><t:StandardTime><t:Bias>0</t:Bias><t:Time>03:00:00</t:Time>"
    "<t:DayOrder>5</t:DayOrder><t:Month>10</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek>"
    "</t:StandardTime><t:DaylightTime><t:Bias>-60</t:Bias><t:Time>02:00:00</t:Time>"
    "<t:DayOrder>5</t:DayOrder><t:Month>3</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek>"
    "</t:DaylightTime></t:TimeZone>"
)


@pytest.mark.parametrize(
    ("time_zone", "header"), [(AMSTERDAM, ""), ("", CONTEXT)], ids=["TimeZone", "TimeZoneContext"]
)
def test_get_user_availability_reads_its_window_in_the_given_zone(
    sandbox: SandboxHandle, time_zone: str, header: str
) -> None:
    # A meeting 10:00-11:00 Amsterdam time (09:00Z) in a window of 08:00-12:00 Amsterdam time.
    post_soap(sandbox, _create("2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z"))
    answer = post_soap(
        sandbox,
        _availability(time_zone, "2026-11-30T08:00:00", "2026-11-30T12:00:00"),
        header=header,
    )
    merged = answer.content.decode().split("<t:MergedFreeBusy>", 1)[1].split("<", 1)[0]
    assert merged == "0020"


def test_the_daylight_saving_changes_fall_on_the_hour_windows_names() -> None:
    amsterdam = SerializableZone.of_rule(ZONES["W. Europe Standard Time"])
    # 25 October 2026: 03:00 summer time becomes 02:00 winter time (01:00Z).
    assert amsterdam.to_local(datetime(2026, 10, 25, 0, 59, tzinfo=UTC)).hour == 2
    assert amsterdam.to_local(datetime(2026, 10, 25, 1, 0, tzinfo=UTC)).hour == 2
    assert amsterdam.to_local(datetime(2026, 10, 25, 1, 0, tzinfo=UTC)).minute == 0
    # 29 March 2026: 02:00 winter time becomes 03:00 summer time (01:00Z).
    assert amsterdam.to_local(datetime(2026, 3, 29, 0, 59, tzinfo=UTC)).hour == 1
    assert amsterdam.to_local(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)).hour == 3
    assert from_local(amsterdam, datetime(2026, 7, 1, 12, 0)) == datetime(
        2026, 7, 1, 10, 0, tzinfo=UTC
    )
    sydney = SerializableZone.of_rule(ZONES["AUS Eastern Standard Time"])
    assert sydney.to_local(datetime(2026, 1, 15, 0, 0, tzinfo=UTC)).hour == 11  # summer there
    assert sydney.to_local(datetime(2026, 7, 15, 0, 0, tzinfo=UTC)).hour == 10
