"""The callback ports' contract: calendars, directory and bodies behave the same on every backend.

These are the promises the callback service relies on, held against the memory
fake and against EWS and Graph on the sandbox Exchange server, which speaks the
wire protocols (meeting requests through transport, answers, cancellations,
per-mailbox working hours, reminders, the directory). What a colleague does is
done as they do it: the backend's own operations (EWS DeclineItem, Graph
`POST /events/{id}/decline`) or the sandbox's calendar controls.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tests.contract.calendar_harness import ANOUK, JAN, SHARED, CalendarHarness, calendars, eml
from topcontact_mail.domain.calendar import Interval
from topcontact_mail.domain.callbacks import BusyKind, WorkingHours
from topcontact_mail.domain.message import Address
from topcontact_mail.ports.calendar import MailBody, MeetingLookup, OutgoingMeeting

__all__ = ["calendars"]  # the fixture, imported for pytest

AMS = ZoneInfo("Europe/Amsterdam")
TUESDAY_10 = datetime(2026, 12, 1, 10, 0, tzinfo=AMS)
SUMMER_10 = datetime(2027, 6, 15, 10, 0, tzinfo=AMS)


def meeting(ref: str, start: datetime = TUESDAY_10, attendee: str = JAN) -> OutgoingMeeting:
    return OutgoingMeeting(
        ref=ref,
        attendee=Address(attendee, "Jan de Vries"),
        subject="Terugbellen: mevr. Jansen — 06 12345678 — lekkage badkamer",
        text_body="Bel mevr. Jansen terug op 06 12345678.",
        html_body='<p>Bel mevr. Jansen terug op <a href="tel:+31612345678">06 12345678</a>.</p>',
        start=start.astimezone(UTC),
        end=(start + timedelta(minutes=15)).astimezone(UTC),
        time_zone="Europe/Amsterdam",
        categories=("Terugbelverzoek",),
        reminder_minutes=15,
        location="Telefonisch: 06 12345678",
    )


def lookup(ref: str, start: datetime = TUESDAY_10, item_id: str | None = None) -> MeetingLookup:
    return MeetingLookup(ref, item_id, start, start + timedelta(minutes=15))


def create(harness: CalendarHarness, ref: str, start: datetime = TUESDAY_10) -> str:
    (outcome,) = harness.backend.create_meetings([meeting(ref, start)])
    assert outcome.ok, outcome.error
    assert outcome.item_id
    return outcome.item_id


# -- free/busy --------------------------------------------------------------------------------


def test_free_busy_shows_a_colleagues_busy_time_and_working_hours(
    calendars: CalendarHarness,
) -> None:
    calendars.busy(JAN, TUESDAY_10, TUESDAY_10 + timedelta(hours=1))
    calendars.busy(JAN, TUESDAY_10 + timedelta(hours=2), TUESDAY_10 + timedelta(hours=3), "OOF")

    seen = calendars.backend.availability(
        [JAN, ANOUK], TUESDAY_10 - timedelta(hours=2), TUESDAY_10 + timedelta(hours=8)
    )

    jan = seen[JAN]
    assert jan.error == ""
    periods = sorted((p.start.astimezone(UTC), p.end.astimezone(UTC), p.kind) for p in jan.busy)
    assert periods == [
        (
            datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
            datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
            BusyKind.BUSY,
        ),
        (
            datetime(2026, 12, 1, 11, 0, tzinfo=UTC),
            datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
            BusyKind.OOF,
        ),
    ]
    assert seen[ANOUK].busy == ()
    if calendars.name != "memory":  # the sandbox reports Monday to Friday
        assert jan.working_hours is not None
        assert sorted(jan.working_hours.by_weekday) == [1, 2, 3, 4, 5]


def test_free_busy_reports_each_colleagues_own_working_hours(calendars: CalendarHarness) -> None:
    mornings = WorkingHours({d: (Interval(time(8, 30), time(12, 30)),) for d in (1, 2, 4)})
    calendars.working_hours(ANOUK, mornings)

    seen = calendars.backend.availability([JAN, ANOUK], TUESDAY_10, TUESDAY_10 + timedelta(hours=1))

    assert seen[ANOUK].working_hours == mornings
    assert seen[JAN].working_hours != mornings


def test_an_unknown_mailbox_gets_an_error_not_an_exception(calendars: CalendarHarness) -> None:
    if calendars._memory is not None:
        calendars._memory.refused["nobody@woonservice.example"] = "ErrorMailRecipientNotFound"

    seen = calendars.backend.availability(
        [JAN, "nobody@woonservice.example"], TUESDAY_10, TUESDAY_10 + timedelta(hours=1)
    )

    assert seen[JAN].error == ""
    assert seen["nobody@woonservice.example"].error


# -- meeting requests ---------------------------------------------------------------------------


def test_a_meeting_request_reaches_the_colleagues_calendar_and_inbox(
    calendars: CalendarHarness,
) -> None:
    item_id = create(calendars, "ref-1")

    (copy,) = calendars.copies(JAN)
    assert copy.subject == "Terugbellen: mevr. Jansen — 06 12345678 — lekkage badkamer"
    assert (copy.start, copy.end) == (TUESDAY_10, TUESDAY_10 + timedelta(minutes=15))
    assert calendars.inbox(JAN) == ["request"]
    busy = calendars.backend.availability([JAN], TUESDAY_10, TUESDAY_10 + timedelta(hours=1))
    assert [p.kind for p in busy[JAN].busy] == [BusyKind.TENTATIVE]
    found = calendars.backend.find_meetings([lookup("ref-1", item_id=item_id)])
    state = found["ref-1"]
    assert (state.item_id, state.uid) == (item_id, copy.uid)
    assert (state.start, state.end) == (TUESDAY_10, TUESDAY_10 + timedelta(minutes=15))
    assert state.responses == {JAN: "none"}
    assert not state.cancelled


def test_a_meeting_in_summer_time_keeps_its_local_time(calendars: CalendarHarness) -> None:
    create(calendars, "ref-summer", SUMMER_10)

    (copy,) = calendars.copies(JAN)
    assert copy.start.astimezone(UTC) == datetime(2027, 6, 15, 8, 0, tzinfo=UTC)
    assert copy.start.astimezone(AMS).hour == 10


def test_a_meeting_is_found_by_its_ref_alone(calendars: CalendarHarness) -> None:
    create(calendars, "ref-2")
    create(calendars, "ref-3", TUESDAY_10 + timedelta(hours=1))

    found = calendars.backend.find_meetings([lookup("ref-2"), lookup("ref-unknown")])

    assert set(found) == {"ref-2"}
    assert found["ref-2"].start == TUESDAY_10


def test_a_meeting_is_found_by_its_ref_and_id(calendars: CalendarHarness) -> None:
    item_id = create(calendars, "ref-4")

    found = calendars.backend.find_meetings(
        [lookup("ref-4", item_id=item_id), lookup("ref-unknown")]
    )

    assert set(found) == {"ref-4"}


def test_the_organisers_copy_carries_the_category(calendars: CalendarHarness) -> None:
    item_id = create(calendars, "ref-5")

    state = calendars.backend.find_meetings([lookup("ref-5", item_id=item_id)])["ref-5"]

    assert state.categories == ("Terugbelverzoek",)


def test_the_meeting_has_its_reminder(calendars: CalendarHarness) -> None:
    """The organiser's item and the colleague's copy remind 15 minutes before."""
    create(calendars, "ref-6")
    if calendars._memory is not None:
        assert calendars._memory.by_ref("ref-6").reminder_minutes == 15
        return
    uid = calendars.copies(JAN)[0].uid
    for item in (calendars.organiser_item(uid), calendars.attendee_item(JAN, uid)):
        assert item.calendar is not None
        assert (item.calendar.reminder_set, item.calendar.reminder_minutes) == (True, 15)


def test_a_create_whose_answer_is_lost_is_of_unknown_outcome_and_found_by_its_ref(
    calendars: CalendarHarness,
) -> None:
    calendars.lose_answers()

    (outcome,) = calendars.backend.create_meetings([meeting("ref-lost")])
    calendars.heal()

    assert not outcome.ok
    assert outcome.transient
    assert not outcome.clean, "it may have been done: look before creating it again"
    assert len(calendars.copies(JAN)) == 1
    assert set(calendars.backend.find_meetings([lookup("ref-lost")])) == {"ref-lost"}


def test_a_meeting_moved_by_staff_shows_its_new_time(calendars: CalendarHarness) -> None:
    item_id = create(calendars, "ref-7")
    uid = calendars.copies(JAN)[0].uid
    later = TUESDAY_10 + timedelta(days=1, hours=3)

    calendars.move("ref-7", uid, later, later + timedelta(minutes=15))

    state = calendars.backend.find_meetings([lookup("ref-7", item_id=item_id)])["ref-7"]
    assert state.start == later


def test_a_category_the_colleague_sets_on_their_copy_is_read(calendars: CalendarHarness) -> None:
    create(calendars, "ref-8")
    uid = calendars.copies(JAN)[0].uid
    assert calendars.backend.attendee_categories(JAN, uid, TUESDAY_10, TUESDAY_10) == ()

    calendars.categorise_copy(JAN, "ref-8", uid, "Teruggebeld")

    end = TUESDAY_10 + timedelta(minutes=15)
    assert calendars.backend.attendee_categories(JAN, uid, TUESDAY_10, end) == ("Teruggebeld",)
    assert calendars.backend.attendee_categories(ANOUK, uid, TUESDAY_10, end) is None


def test_a_cancelled_meeting_leaves_the_organisers_calendar(calendars: CalendarHarness) -> None:
    item_id = create(calendars, "ref-9")

    outcome = calendars.backend.cancel_meeting("ref-9", item_id, "Opnieuw ingepland")

    assert outcome.ok
    found = calendars.backend.find_meetings([lookup("ref-9", item_id=item_id)])
    assert "ref-9" not in found or found["ref-9"].cancelled
    assert calendars.backend.cancel_meeting("ref-9", item_id, "nog eens").ok, "idempotent"


def test_a_cancelled_meeting_frees_the_colleagues_calendar_with_a_notice(
    calendars: CalendarHarness,
) -> None:
    """The colleague gets the cancellation; Exchange's calendar attendant marks their copy
    cancelled ("Canceled: …", free) and leaves it until they remove it (RemoveCanceledMeetings
    is off by default), so it no longer takes their time."""
    item_id = create(calendars, "ref-10")

    calendars.backend.cancel_meeting("ref-10", item_id, "Opnieuw ingepland")

    assert [c.cancelled for c in calendars.copies(JAN)] == [True]
    assert calendars.inbox(JAN) == ["request", "cancelled"]
    seen = calendars.backend.availability([JAN], TUESDAY_10, TUESDAY_10 + timedelta(hours=1))
    assert seen[JAN].busy == () or all(p.kind is BusyKind.FREE for p in seen[JAN].busy)


def test_a_cancelled_meeting_is_found_again_where_the_backend_keeps_it(
    calendars: CalendarHarness,
) -> None:
    """EWS keeps the organiser's cancelled item in Deleted Items, so its ref is found (and never
    created twice); Graph's DELETE takes the event out of the calendar (docs/callbacks.md)."""
    item_id = create(calendars, "ref-11")
    calendars.backend.cancel_meeting("ref-11", item_id, "")

    found = calendars.backend.find_meetings([lookup("ref-11", item_id=item_id)])

    if calendars.name == "graph":
        assert "ref-11" not in found
    else:
        assert found["ref-11"].cancelled


def test_a_decline_shows_on_the_organisers_copy_and_as_a_response(
    calendars: CalendarHarness,
) -> None:
    item_id = create(calendars, "ref-12")

    calendars.decline("ref-12", JAN)

    state = calendars.backend.find_meetings([lookup("ref-12", item_id=item_id)])["ref-12"]
    assert state.responses[JAN] == "declined"
    (response,) = calendars.backend.read_responses(calendars.response_ids())
    assert (response.attendee, response.response) == (JAN, "declined")
    assert response.uid == state.uid or response.meeting_item_id == state.item_id


def test_read_responses_skips_messages_that_are_no_responses(calendars: CalendarHarness) -> None:
    item_id = calendars.deliver(eml("Vraag", "Hallo"), MailBody("Hallo", False))

    assert calendars.backend.read_responses([item_id]) == []


# -- the directory and bodies ------------------------------------------------------------------


def test_resolve_names_finds_a_colleague_by_name(calendars: CalendarHarness) -> None:
    if calendars._memory is not None:
        from topcontact_mail.ports.calendar import DirectoryEntry

        calendars._memory.people = [DirectoryEntry("Jan de Vries", JAN)]

    found = calendars.backend.resolve_names("Jan de Vries")

    assert [(e.name, e.address) for e in found] == [("Jan de Vries", JAN)]
    assert calendars.backend.resolve_names("Niemand") == []


def test_the_whole_body_of_a_booking_mail_is_read_as_written(calendars: CalendarHarness) -> None:
    text = "Voor: Jan de Vries\nNaam: mevr. Jansen\n" + "Notities: " + "lang verhaal " * 400
    plain = calendars.deliver(eml("Terugbelverzoek", text), MailBody(text, False))
    html = "<p>Voor: Anouk</p><p>Naam: dhr. Bos</p>"
    rich = calendars.deliver(eml("Terugbelverzoek 2", html, html=True), MailBody(html, True))

    first = calendars.backend.read_body(SHARED, plain)
    second = calendars.backend.read_body(SHARED, rich)

    assert first is not None
    assert not first.html
    assert first.content.replace("\r\n", "\n").strip() == text.strip()
    assert second is not None
    assert second.html
    assert "<p>Voor: Anouk</p>" in second.content
