"""Callback meetings through EWS, driven by stock exchangelib as the product drives it.

The shared mailbox (delegate access) books a meeting for a colleague; colleagues (through
impersonation, or as a person would through the control endpoint) answer it; the organizer
reads the answers, moves and cancels. Every answer the sandbox gives is checked against
Microsoft's schema by the ``sandbox`` fixture.
"""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta

import pytest
import requests
from exchangelib import DELEGATE, IMPERSONATION, Account, CalendarItem, EWSDateTime, EWSTimeZone
from exchangelib.errors import (
    ErrorCalendarIsOrganizerForAccept,
    ErrorNameResolutionNoResults,
    ErrorTimeIntervalTooBig,
)
from exchangelib.items import (
    SAVE_ONLY,
    SEND_ONLY_TO_ALL,
    SEND_TO_ALL_AND_SAVE_COPY,
    SEND_TO_NONE,
    MeetingCancellation,
    MeetingRequest,
    MeetingResponse,
)

from exchange_sandbox.server import SandboxHandle
from sandbox_helpers import BAKKER, DEVRIES, SHARED, account, post_soap, response_codes
from submission_helpers import delivered_after, sandbox_with_clock

AMS = EWSTimeZone("Europe/Amsterdam")


@pytest.fixture
def bakker(sandbox: SandboxHandle) -> Account:
    return account(sandbox, BAKKER, IMPERSONATION)


def book(
    shared: Account, start: EWSDateTime, *attendees: str, subject: str = "Terugbellen"
) -> CalendarItem:
    item = CalendarItem(
        account=shared,
        folder=shared.calendar,
        subject=subject,
        body="Mevrouw Smit, 06-12345678",
        start=start,
        end=start + timedelta(minutes=15),
        required_attendees=list(attendees),
    )
    item.save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
    return item


def control(sandbox: SandboxHandle, path: str, **body: object) -> dict[str, object]:
    answer = requests.post(f"{sandbox.url}/_sandbox/{path}", json=body, timeout=10)
    assert answer.status_code in (200, 201), answer.text
    result: dict[str, object] = answer.json()
    return result


def attendee_answers(shared: Account, subject: str = "Terugbellen") -> dict[str, str]:
    item = shared.calendar.get(subject=subject)
    return {a.mailbox.email_address: a.response_type for a in item.required_attendees or []}


def test_a_callback_in_amsterdam_time_keeps_its_wall_clock_across_the_dst_change(
    shared: Account, devries: Account
) -> None:
    before = EWSDateTime(2026, 3, 27, 10, 0, tzinfo=AMS)  # Friday, CET (UTC+1)
    after = EWSDateTime(2026, 3, 30, 10, 0, tzinfo=AMS)  # Monday, CEST (UTC+2)
    book(shared, before, DEVRIES, subject="Voor")
    book(shared, after, DEVRIES, subject="Na")
    mine = {
        c.subject: c
        for c in devries.calendar.view(
            start=EWSDateTime(2026, 3, 26, 0, 0, tzinfo=AMS),
            end=EWSDateTime(2026, 4, 1, 0, 0, tzinfo=AMS),
        )
    }
    assert mine["Voor"].start.astimezone(AMS).hour == mine["Na"].start.astimezone(AMS).hour == 10
    assert mine["Voor"].start.astimezone(EWSTimeZone("UTC")).hour == 9
    assert mine["Na"].start.astimezone(EWSTimeZone("UTC")).hour == 8
    organizer = shared.calendar.get(subject="Na")
    assert organizer._start_timezone.ms_id == "W. Europe Standard Time"
    assert (organizer.my_response_type, organizer.appointment_sequence_number) == ("Organizer", 0)
    busy = list(
        devries.protocol.get_free_busy_info(
            accounts=[(devries, "Required", False)],
            start=EWSDateTime(2026, 3, 30, 8, 0, tzinfo=AMS),
            end=EWSDateTime(2026, 3, 30, 12, 0, tzinfo=AMS),
            merged_free_busy_interval=60,
        )
    )
    assert busy[0].merged == "0010"  # tentative until Jan answers, 10:00-11:00 local time


def test_free_busy_has_each_mailbox_working_hours_and_every_busy_type(
    sandbox: SandboxHandle, shared: Account, devries: Account, bakker: Account
) -> None:
    day = "2026-12-02"  # a Wednesday: Anouk does not work then
    for subject, status, start, end in (
        ("Overleg", "Tentative", "08:30", "09:00"),
        ("Klant", "Busy", "09:00", "09:30"),
        ("Thuis", "WorkingElsewhere", "09:30", "10:00"),
        ("Onbekend", "NoData", "10:00", "10:30"),
        ("Tandarts", "OOF", "10:30", "11:00"),
    ):
        control(
            sandbox,
            "calendar",
            mailbox=DEVRIES,
            subject=subject,
            free_busy=status,
            start=f"{day}T{start}",
            end=f"{day}T{end}",
        )
    control(
        sandbox,
        "calendar",
        mailbox=BAKKER,
        subject="Vrij",
        free_busy="OOF",
        start=day,
        all_day=True,
    )
    jan, anouk = shared.protocol.get_free_busy_info(
        accounts=[(devries, "Required", False), (bakker, "Required", False)],
        start=EWSDateTime(2026, 12, 2, 8, 0, tzinfo=AMS),
        end=EWSDateTime(2026, 12, 2, 12, 0, tzinfo=AMS),
        merged_free_busy_interval=30,
    )
    # 0 free or working elsewhere, 1 tentative, 2 busy, 3 out of office, 4 no data
    assert jan.merged == "01204300"
    assert [e.busy_type for e in jan.calendar_events] == [
        "Tentative",
        "Busy",
        "WorkingElsewhere",
        "NoData",
        "OOF",
    ]
    assert anouk.merged == "33333333"
    [jan_hours] = jan.working_hours
    assert (jan_hours.weekdays, jan_hours.start.isoformat(), jan_hours.end.isoformat()) == (
        [1, 2, 3, 4, 5],
        "08:30:00",
        "17:00:00",
    )
    [anouk_hours] = anouk.working_hours
    assert (anouk_hours.weekdays, anouk_hours.start.isoformat()) == ([1, 2, 4, 5], "09:00:00")
    zone = jan.working_hours_timezone
    assert (zone.bias, zone.standard_time.iso_month, zone.daylight_time.iso_month) == (-60, 10, 3)
    assert (zone.daylight_time.bias, zone.daylight_time.time.isoformat()) == (-60, "02:00:00")
    # The shared mailbox's account has no rights on Jan's calendar: times only.
    assert jan.view_type == "FreeBusyMerged"


def test_a_colleague_accepts_through_ews_and_the_organizer_sees_the_answer(
    shared: Account, devries: Account
) -> None:
    book(shared, EWSDateTime(2026, 11, 30, 10, 0, tzinfo=AMS), DEVRIES, BAKKER)
    [request] = list(devries.inbox.all())
    assert isinstance(request, MeetingRequest)
    assert (request.meeting_request_type, request.intended_free_busy_status) == (
        "NewMeetingRequest",
        "Busy",
    )
    assert request.associated_calendar_item_id is not None
    answered = request.accept(body="Ik bel haar om tien uur.")
    # Exchange names the calendar item and the request it moved to Deleted Items.
    assert isinstance(answered, list)
    assert len(answered) == 2
    assert list(devries.inbox.all()) == []
    mine = devries.calendar.get(subject="Terugbellen")
    assert (mine.my_response_type, mine.legacy_free_busy_status) == ("Accept", "Busy")
    assert attendee_answers(shared) == {DEVRIES: "Accept", BAKKER: "Unknown"}
    [reply] = list(shared.inbox.all())
    assert isinstance(reply, MeetingResponse)
    assert (reply.subject, reply.item_class) == (
        "Accepted: Terugbellen",
        "IPM.Schedule.Meeting.Resp.Pos",
    )
    assert [type(i).__name__ for i in devries.sent.all()] == ["MeetingResponse"]


def test_tentative_then_decline_from_the_calendar_item(shared: Account, bakker: Account) -> None:
    book(shared, EWSDateTime(2026, 11, 30, 10, 0, tzinfo=AMS), BAKKER)
    bakker.calendar.get(subject="Terugbellen").tentatively_accept()
    assert attendee_answers(shared) == {BAKKER: "Tentative"}
    bakker.calendar.get(subject="Terugbellen").decline(body="Dan ben ik vrij.")
    assert list(bakker.calendar.all()) == []
    assert attendee_answers(shared) == {BAKKER: "Decline"}
    subjects = sorted(i.subject for i in shared.inbox.all())
    assert subjects == ["Declined: Terugbellen", "Tentative: Terugbellen"]


def test_a_colleague_declines_as_a_person_would_and_the_organizer_reads_it_in_ews(
    sandbox: SandboxHandle, shared: Account
) -> None:
    book(shared, EWSDateTime(2026, 11, 30, 10, 0, tzinfo=AMS), BAKKER)
    control(sandbox, "calendar/respond", mailbox=BAKKER, event="Terugbellen", response="decline")
    assert attendee_answers(shared) == {BAKKER: "Decline"}
    organizer = shared.calendar.get(subject="Terugbellen")
    [anouk] = organizer.required_attendees
    assert anouk.last_response_time is not None


def test_the_organizer_moves_then_cancels_the_meeting(shared: Account, devries: Account) -> None:
    organizer = book(shared, EWSDateTime(2026, 11, 30, 10, 0, tzinfo=AMS), DEVRIES)
    devries.calendar.get(subject="Terugbellen").accept()
    assert attendee_answers(shared) == {DEVRIES: "Accept"}
    organizer = shared.calendar.get(subject="Terugbellen")
    organizer.start = EWSDateTime(2026, 11, 30, 14, 0, tzinfo=AMS)
    organizer.end = organizer.start + timedelta(minutes=15)
    organizer.save(
        update_fields=["start", "end"], send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY
    )
    assert attendee_answers(shared) == {DEVRIES: "Unknown"}  # a new time: asked again
    mine = devries.calendar.get(subject="Terugbellen")
    assert mine.start.astimezone(AMS).hour == 14
    assert (mine.my_response_type, mine.appointment_sequence_number) == ("NoResponseReceived", 1)
    # Jan answered from the calendar, so the first request is still in the Inbox: out of date.
    requests_now = {
        i.meeting_request_type: i.is_out_of_date
        for i in devries.inbox.all()
        if isinstance(i, MeetingRequest)
    }
    assert requests_now == {"FullUpdate": False, "NewMeetingRequest": True}
    shared.calendar.get(subject="Terugbellen").cancel(body="Mevrouw heeft zelf gebeld.")
    assert list(shared.calendar.all()) == []
    mine = devries.calendar.get(subject="Canceled: Terugbellen")
    assert (mine.is_cancelled, mine.legacy_free_busy_status) == (True, "Free")
    assert any(isinstance(i, MeetingCancellation) for i in devries.inbox.all())
    stale = [i.is_out_of_date for i in devries.inbox.all() if isinstance(i, MeetingRequest)]
    assert stale == [True, True]


def test_deleting_the_organizers_meeting_with_cancellations_tells_the_attendees(
    shared: Account, devries: Account
) -> None:
    book(shared, EWSDateTime(2026, 11, 30, 10, 0, tzinfo=AMS), DEVRIES)
    shared.calendar.get(subject="Terugbellen").delete(
        send_meeting_cancellations=SEND_TO_ALL_AND_SAVE_COPY
    )
    assert devries.calendar.get(subject="Canceled: Terugbellen").is_cancelled


def test_refusals_are_exchanges(sandbox: SandboxHandle, shared: Account, devries: Account) -> None:
    organizer = book(shared, EWSDateTime(2026, 11, 30, 10, 0, tzinfo=AMS), DEVRIES)
    with pytest.raises(ErrorCalendarIsOrganizerForAccept):
        shared.calendar.get(subject="Terugbellen").accept()
    with pytest.raises(ErrorTimeIntervalTooBig):
        list(
            shared.protocol.get_free_busy_info(
                accounts=[(devries, "Required", False)],
                start=EWSDateTime(2026, 11, 1, 0, 0, tzinfo=AMS),
                end=EWSDateTime(2026, 12, 14, 0, 0, tzinfo=AMS),
            )
        )
    calendar = (
        f'<t:DistinguishedFolderId Id="calendar"><t:Mailbox><t:EmailAddress>{SHARED}'
        "</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId>"
    )
    without_invitations = post_soap(
        sandbox,
        f"<m:CreateItem><m:SavedItemFolderId>{calendar}</m:SavedItemFolderId><m:Items>"
        "<t:CalendarItem><t:Subject>x</t:Subject><t:Start>2026-11-30T09:00:00Z</t:Start>"
        "<t:End>2026-11-30T09:15:00Z</t:End></t:CalendarItem></m:Items></m:CreateItem>",
    )
    assert response_codes(without_invitations) == ["ErrorSendMeetingInvitationsRequired"]
    without_cancellations = post_soap(
        sandbox,
        f'<m:DeleteItem DeleteType="MoveToDeletedItems"><m:ItemIds><t:ItemId Id="{organizer.id}"/>'
        "</m:ItemIds></m:DeleteItem>",
    )
    assert response_codes(without_cancellations) == ["ErrorSendMeetingCancellationsRequired"]
    mine = devries.calendar.get(subject="Terugbellen")
    without_disposition = post_soap(
        sandbox,
        f'<m:CreateItem><m:Items><t:AcceptItem><t:ReferenceItemId Id="{mine.id}"/></t:AcceptItem>'
        "</m:Items></m:CreateItem>",
        header=f"<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>{DEVRIES}"
        "</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>",
    )
    assert response_codes(without_disposition) == ["ErrorMessageDispositionRequired"]
    shared.calendar.get(subject="Terugbellen").delete(send_meeting_cancellations=SEND_TO_NONE)


def test_resolve_names_finds_colleagues_and_contacts_and_says_when_it_is_ambiguous(
    shared: Account,
) -> None:
    both = shared.protocol.resolve_names(["Jan"])
    assert [(m.email_address, m.mailbox_type) for m in both] == [
        (DEVRIES, "Mailbox"),
        ("janneke.smit@installatie.example", "Contact"),
    ]
    [(mailbox, contact)] = shared.protocol.resolve_names(
        ["de vries"], return_full_contact_data=True
    )
    assert mailbox.email_address == DEVRIES
    assert (contact.given_name, contact.surname, contact.contact_source) == (
        "Jan",
        "de Vries",
        "ActiveDirectory",
    )
    (nobody,) = shared.protocol.resolve_names(["Vries"])
    assert isinstance(nobody, ErrorNameResolutionNoResults)
    assert [m.email_address for m in shared.protocol.resolve_names(["smtp:a.bakker@"])] == [BAKKER]


def test_the_delegate_sees_details_of_the_shared_calendar(
    sandbox: SandboxHandle, shared: Account
) -> None:
    book(shared, EWSDateTime(2026, 11, 30, 10, 0, tzinfo=AMS), DEVRIES)
    [view] = shared.protocol.get_free_busy_info(
        accounts=[(account(sandbox, SHARED, DELEGATE), "Required", False)],
        start=EWSDateTime(2026, 11, 30, 8, 0, tzinfo=AMS),
        end=EWSDateTime(2026, 11, 30, 12, 0, tzinfo=AMS),
    )
    assert view.view_type == "DetailedMerged"
    assert [e.details.subject for e in view.calendar_events] == ["Terugbellen"]


def test_send_only_to_all_keeps_no_copy_and_send_to_none_sends_nothing(
    shared: Account, devries: Account
) -> None:
    start = EWSDateTime(2026, 11, 30, 10, 0, tzinfo=AMS)
    for subject, mode in (("Alleen sturen", SEND_ONLY_TO_ALL), ("Niet sturen", SEND_TO_NONE)):
        CalendarItem(
            account=shared,
            folder=shared.calendar,
            subject=subject,
            start=start,
            end=start + timedelta(minutes=15),
            required_attendees=[DEVRIES],
        ).save(send_meeting_invitations=mode)
    assert list(shared.sent.all()) == []
    assert [i.subject for i in devries.inbox.all()] == ["Alleen sturen"]
    unsent = shared.calendar.get(subject="Niet sturen")
    assert unsent.meeting_request_was_sent is False


@pytest.mark.parametrize("delay_ms", [5_000, 60_000])
def test_with_a_transport_delay_the_colleague_sees_the_request_only_when_delivered(
    delay_ms: int,
) -> None:
    with sandbox_with_clock(delay_ms) as (handle, clock):
        shared = account(handle, SHARED, DELEGATE)
        devries = account(handle, DEVRIES, IMPERSONATION)
        book(shared, EWSDateTime(2026, 11, 30, 10, 0, tzinfo=AMS), DEVRIES)
        assert list(devries.inbox.all()) == []
        assert list(devries.calendar.all()) == []
        assert [type(i).__name__ for i in shared.outbox.all()] == ["MeetingRequest"]
        delivered_after(handle.store, clock, delay_ms)
        assert [type(i).__name__ for i in devries.inbox.all()] == ["MeetingRequest"]
        assert devries.calendar.get(subject="Terugbellen").legacy_free_busy_status == "Tentative"
        assert [type(i).__name__ for i in shared.sent.all()] == ["MeetingRequest"]


def test_an_answer_saved_as_a_draft_goes_out_with_send_item(
    sandbox: SandboxHandle, shared: Account, devries: Account
) -> None:
    book(shared, EWSDateTime(2026, 11, 30, 10, 0, tzinfo=AMS), DEVRIES)
    [request] = list(devries.inbox.all())
    saved = request.accept(message_disposition=SAVE_ONLY, folder=devries.drafts)
    assert isinstance(saved, list)
    assert len(saved) == 3  # the calendar item, the request and the draft answer
    [draft] = list(devries.drafts.all())
    assert isinstance(draft, MeetingResponse)
    assert attendee_answers(shared) == {DEVRIES: "Unknown"}  # nothing sent yet
    sent = post_soap(
        sandbox,
        f'<m:SendItem SaveItemToFolder="true"><m:ItemIds><t:ItemId Id="{draft.id}"/>'
        "</m:ItemIds></m:SendItem>",
        header=f"<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>{DEVRIES}"
        "</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>",
    )
    assert response_codes(sent) == ["NoError"]
    assert attendee_answers(shared) == {DEVRIES: "Accept"}


def test_the_organizers_reminder_is_kept_and_reaches_the_attendee(
    sandbox: SandboxHandle, shared: Account, devries: Account
) -> None:
    """ReminderIsSet/ReminderMinutesBeforeStart are kept as written (Exchange's default, when a
    request names neither, is a reminder 15 minutes before); the meeting request and the
    attendee's tentative item carry the organizer's reminder, the request's iCalendar a VALARM."""
    start = EWSDateTime(2026, 12, 1, 10, 0, tzinfo=AMS)
    item = CalendarItem(
        account=shared,
        folder=shared.calendar,
        subject="Met herinnering",
        start=start,
        end=start + timedelta(minutes=15),
        required_attendees=[DEVRIES],
        reminder_is_set=True,
        reminder_minutes_before_start=30,
    )
    item.save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
    # exchangelib always writes both elements (false, 0 by default): a plain request names none.
    calendar = (
        f'<t:DistinguishedFolderId Id="calendar"><t:Mailbox><t:EmailAddress>{SHARED}'
        "</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId>"
    )
    plain = post_soap(
        sandbox,
        '<m:CreateItem SendMeetingInvitations="SendToNone">'
        f"<m:SavedItemFolderId>{calendar}</m:SavedItemFolderId><m:Items>"
        "<t:CalendarItem><t:Subject>Standaard</t:Subject><t:Start>2026-12-01T10:00:00Z</t:Start>"
        "<t:End>2026-12-01T10:15:00Z</t:End></t:CalendarItem></m:Items></m:CreateItem>",
    )
    assert response_codes(plain) == ["NoError"]
    quiet = CalendarItem(
        account=shared,
        folder=shared.calendar,
        subject="Zonder",
        start=start + timedelta(hours=2),
        end=start + timedelta(hours=2, minutes=15),
        reminder_is_set=False,
    )
    quiet.save(send_meeting_invitations=SEND_TO_NONE)

    mine = shared.calendar.get(subject="Met herinnering")
    assert (mine.reminder_is_set, mine.reminder_minutes_before_start) == (True, 30)
    assert mine.reminder_due_by == start
    default = shared.calendar.get(subject="Standaard")
    assert (default.reminder_is_set, default.reminder_minutes_before_start) == (True, 15)
    assert shared.calendar.get(subject="Zonder").reminder_is_set is False
    request = devries.inbox.get(subject="Met herinnering")
    assert isinstance(request, MeetingRequest)
    assert (request.reminder_is_set, request.reminder_minutes_before_start) == (True, 30)
    copy = devries.calendar.get(subject="Met herinnering")
    assert (copy.reminder_is_set, copy.reminder_minutes_before_start) == (True, 30)
    mime = next(
        i.mime for i in sandbox.store.items(DEVRIES, "inbox") if i.subject == "Met herinnering"
    )
    assert mime is not None
    ical = next(
        part.get_content()
        for part in email.message_from_bytes(mime, policy=email.policy.default).walk()
        if part.get_content_type() == "text/calendar"
    )
    assert "TRIGGER;RELATED=START:-PT30M" in ical

    mine.reminder_minutes_before_start = 5
    mine.save(
        update_fields=["reminder_minutes_before_start"], send_meeting_invitations=SEND_TO_NONE
    )
    assert shared.calendar.get(subject="Met herinnering").reminder_minutes_before_start == 5
    (free_busy,) = devries.protocol.get_free_busy_info(
        accounts=[(shared, "Required", False)],
        start=start - timedelta(hours=1),
        end=start + timedelta(hours=4),
        merged_free_busy_interval=15,
        requested_view="Detailed",
    )
    reminders = {
        e.details.subject: e.details.is_reminder_set for e in free_busy.calendar_events or ()
    }
    assert reminders == {"Met herinnering": True, "Standaard": True, "Zonder": False}
