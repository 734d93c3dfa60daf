"""Callback meetings through Graph, driven by Microsoft's Python SDK (msgraph-sdk) as an app would.

The shared mailbox books a callback for two colleagues (an idempotent POST with a
``transactionId``), reads their free/busy and working hours with getSchedule, a colleague
accepts through the SDK and another tentatively through the control endpoint, the organizer
reads the answers, moves the meeting and cancels it; names and working hours come from
``/users`` and ``mailboxSettings``. The SDK writes the action parameters as the metadata
names them (``Comment``, ``SendResponse``, ``Schedules``, ``StartTime``).
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterator

import pytest
import requests
from graph_helpers import ANOUK, JAN, SHARED
from sdk_helpers import sdk_client

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph import GraphServiceClient
    from msgraph.generated.models.attendee import Attendee
    from msgraph.generated.models.attendee_type import AttendeeType
    from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.event import Event
    from msgraph.generated.models.event_message_response import EventMessageResponse
    from msgraph.generated.models.free_busy_status import FreeBusyStatus
    from msgraph.generated.models.item_body import ItemBody
    from msgraph.generated.models.location import Location
    from msgraph.generated.models.response_type import ResponseType
    from msgraph.generated.users.item.calendar.get_schedule.get_schedule_post_request_body import (
        GetSchedulePostRequestBody,
    )
    from msgraph.generated.users.item.calendar_view.calendar_view_request_builder import (
        CalendarViewRequestBuilder,
    )
    from msgraph.generated.users.item.events.item.accept.accept_post_request_body import (
        AcceptPostRequestBody,
    )
    from msgraph.generated.users.item.events.item.cancel.cancel_post_request_body import (
        CancelPostRequestBody,
    )
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder

from exchange_sandbox import GraphSandbox, SandboxHandle, serve_graph_tls
from exchange_sandbox.server import start_sandbox

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
TZ = "W. Europe Standard Time"
IN_AMSTERDAM = {"Prefer": f'outlook.timezone="{TZ}"'}


@pytest.fixture
def sandbox() -> Iterator[tuple[SandboxHandle, GraphSandbox]]:
    handle = start_sandbox()
    tls = serve_graph_tls(handle.server)
    yield handle, tls
    tls.stop()
    handle.stop()


def local(text: str) -> DateTimeTimeZone:
    return DateTimeTimeZone(date_time=text, time_zone=TZ)


def as_person(handle: SandboxHandle, path: str, **body: object) -> None:
    answer = requests.post(f"{handle.url}/_sandbox/{path}", json=body, timeout=10)
    assert answer.status_code in (200, 201), answer.text


async def event_of(client: GraphServiceClient, mailbox: str, day: str) -> Event:
    query = CalendarViewRequestBuilder.CalendarViewRequestBuilderGetQueryParameters(
        start_date_time=f"{day}T00:00:00Z", end_date_time=f"{day}T23:59:59Z"
    )
    found = await client.users.by_user_id(mailbox).calendar_view.get(
        RequestConfiguration(query_parameters=query, headers=IN_AMSTERDAM)
    )
    assert found is not None
    assert found.value
    return found.value[0]


def test_a_callback_booked_answered_moved_and_cancelled_through_the_sdk(
    sandbox: tuple[SandboxHandle, GraphSandbox],
) -> None:
    handle, tls = sandbox
    client = sdk_client(tls)

    async def scenario() -> None:
        shared = client.users.by_user_id(SHARED)
        event = Event(
            subject="Terugbellen mevrouw Smit",
            body=ItemBody(content="Bel 06-12345678 over de lekkage."),
            start=local("2026-03-30T10:00:00"),  # the Monday after the change to summer time
            end=local("2026-03-30T10:15:00"),
            location=Location(display_name="Telefoon"),
            attendees=[
                Attendee(email_address=EmailAddress(address=JAN), type=AttendeeType.Required),
                Attendee(email_address=EmailAddress(address=ANOUK), type=AttendeeType.Required),
            ],
            transaction_id="terugbel-42",
        )
        created = await shared.events.post(event)
        again = await shared.events.post(event)  # a retry after a lost answer
        assert created is not None
        assert again is not None
        assert again.id == created.id
        assert created.original_start_time_zone == TZ
        assert created.response_status is not None
        assert created.response_status.response == ResponseType.Organizer

        anouk_event = await event_of(client, ANOUK, "2026-03-30")
        assert anouk_event.start is not None
        assert anouk_event.start.date_time == "2026-03-30T10:00:00.0000000"
        assert anouk_event.show_as == FreeBusyStatus.Tentative
        await (
            client.users.by_user_id(ANOUK)
            .events.by_event_id(anouk_event.id or "")
            .accept.post(AcceptPostRequestBody(comment="Ik bel om tien uur.", send_response=True))
        )
        as_person(
            handle, "calendar/respond", mailbox=JAN, event="terugbel-42", response="tentative"
        )

        mine = await shared.events.by_event_id(created.id or "").get()
        assert mine is not None
        answers = {
            a.email_address.address: a.status.response
            for a in mine.attendees or []
            if a.email_address and a.status
        }
        assert answers == {JAN: ResponseType.TentativelyAccepted, ANOUK: ResponseType.Accepted}
        replies = await shared.messages.get()
        assert replies is not None
        kinds = sorted(
            (m.subject or "", m.meeting_message_type.value if m.meeting_message_type else "")
            for m in replies.value or []
            if isinstance(m, EventMessageResponse)
        )
        assert kinds == [
            ("Accepted: Terugbellen mevrouw Smit", "meetingAccepted"),
            ("Tentative: Terugbellen mevrouw Smit", "meetingTenativelyAccepted"),
        ]

        # The organizer moves it an hour: the colleagues are asked again.
        await shared.events.by_event_id(created.id or "").patch(
            Event(start=local("2026-03-30T11:00:00"), end=local("2026-03-30T11:15:00"))
        )
        anouk_event = await event_of(client, ANOUK, "2026-03-30")
        assert anouk_event.start is not None
        assert anouk_event.start.date_time == "2026-03-30T11:00:00.0000000"
        assert anouk_event.response_status is not None
        assert anouk_event.response_status.response == ResponseType.NotResponded

        await shared.events.by_event_id(created.id or "").cancel.post(
            CancelPostRequestBody(comment="Mevrouw heeft zelf gebeld.")
        )
        anouk_event = await event_of(client, ANOUK, "2026-03-30")
        assert anouk_event.is_cancelled
        assert anouk_event.show_as == FreeBusyStatus.Free
        assert anouk_event.subject == "Canceled: Terugbellen mevrouw Smit"

    asyncio.run(scenario())
    assert [it.folder for it in handle.store.items(SHARED, "deleteditems")] == ["deleteditems"]


def test_get_schedule_working_hours_and_busy_types_through_the_sdk(
    sandbox: tuple[SandboxHandle, GraphSandbox],
) -> None:
    handle, tls = sandbox
    client = sdk_client(tls)
    as_person(
        handle,
        "calendar",
        mailbox=ANOUK,
        subject="Verlof",
        start="2026-12-01",
        all_day=True,
        free_busy="OOF",
    )
    as_person(
        handle,
        "calendar",
        mailbox=JAN,
        subject="Thuis",
        start="2026-12-01T09:00",
        end="2026-12-01T10:00",
        free_busy="WorkingElsewhere",
    )
    as_person(
        handle,
        "calendar",
        mailbox=JAN,
        subject="Klant",
        start="2026-12-01T10:00",
        end="2026-12-01T10:30",
    )

    async def scenario() -> None:
        schedule = await client.users.by_user_id(SHARED).calendar.get_schedule.post(
            GetSchedulePostRequestBody(
                schedules=[JAN, ANOUK],
                start_time=local("2026-12-01T08:00:00"),
                end_time=local("2026-12-01T12:00:00"),
                availability_view_interval=60,
            ),
            RequestConfiguration(headers=IN_AMSTERDAM),
        )
        assert schedule is not None
        jan, anouk = schedule.value or []
        # Working elsewhere shows as free (0) in availabilityView; its item says what it is.
        assert jan.availability_view == "0020"
        assert [i.status for i in jan.schedule_items or []] == [
            FreeBusyStatus.WorkingElsewhere,
            FreeBusyStatus.Busy,
        ]
        assert anouk.availability_view == "3333"
        assert jan.working_hours is not None
        assert anouk.working_hours is not None
        assert [d.value for d in jan.working_hours.days_of_week or []] == [
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
        ]
        assert jan.working_hours.start_time is not None
        assert jan.working_hours.start_time.isoformat() == "08:30:00"
        assert "wednesday" not in [d.value for d in anouk.working_hours.days_of_week or []]
        assert anouk.working_hours.time_zone is not None
        assert anouk.working_hours.time_zone.name == TZ

        settings = await client.users.by_user_id(ANOUK).mailbox_settings.get()
        assert settings is not None
        assert settings.working_hours is not None
        assert settings.working_hours.start_time is not None
        assert settings.working_hours.start_time.isoformat() == "09:00:00"
        assert settings.time_zone == TZ

        query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
            filter="startswith(displayName,'Jan') or startswith(surname,'Bakker')",
            select=["displayName", "mail", "givenName", "surname"],
        )
        users = await client.users.get(RequestConfiguration(query_parameters=query))
        assert users is not None
        assert [(u.display_name, u.mail) for u in users.value or []] == [
            ("Anouk Bakker", ANOUK),
            ("Jan de Vries", JAN),
        ]
        search = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
            search='"displayName:vries"', count=True
        )
        found = await client.users.get(
            RequestConfiguration(query_parameters=search, headers={"ConsistencyLevel": "eventual"})
        )
        assert found is not None
        assert [u.mail for u in found.value or []] == [JAN]

    asyncio.run(scenario())


def test_working_hours_are_the_same_on_both_fronts(
    sandbox: tuple[SandboxHandle, GraphSandbox],
) -> None:
    handle, tls = sandbox
    from exchangelib import IMPERSONATION, EWSDateTime, EWSTimeZone

    from sandbox_helpers import account

    jan = account(handle, JAN, IMPERSONATION)
    ams = EWSTimeZone("Europe/Amsterdam")
    [view] = jan.protocol.get_free_busy_info(
        accounts=[(jan, "Required", False)],
        start=EWSDateTime(2026, 12, 1, 8, 0, tzinfo=ams),
        end=EWSDateTime(2026, 12, 1, 9, 0, tzinfo=ams),
    )
    [period] = view.working_hours
    client = sdk_client(tls)

    async def graph_hours() -> tuple[list[str], str, str]:
        settings = await client.users.by_user_id(JAN).mailbox_settings.get()
        assert settings is not None
        hours = settings.working_hours
        assert hours is not None
        assert hours.start_time is not None
        assert hours.end_time is not None
        return (
            [d.value for d in hours.days_of_week or []],
            hours.start_time.isoformat(),
            hours.end_time.isoformat(),
        )

    days, start, end = asyncio.run(graph_hours())
    names = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    assert [names[d - 1] for d in period.weekdays] == days
    assert (period.start.isoformat(), period.end.isoformat()) == (start, end)
