"""The meeting workflow of the store, under both fronts: requests, answers, updates, cancellations."""

from __future__ import annotations

import email
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from exchange_sandbox.store import (
    Address,
    Attendee,
    CalendarFields,
    Item,
    MailStore,
    MeetingError,
    NewItem,
    meetings,
)
from submission_helpers import FakeClock, delivered_after

SHARED = "klantcontact@woonservice.example"
JAN = "j.devries@woonservice.example"
ANOUK = "a.bakker@woonservice.example"
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))


@pytest.fixture
def store(clock: FakeClock) -> MailStore:
    mail = MailStore(clock=clock)
    for address, name in ((SHARED, "Klantcontact"), (JAN, "Jan de Vries"), (ANOUK, "Anouk Bakker")):
        mail.ensure_mailbox(address, name)
    return mail


def book(store: MailStore, attendees: tuple[str, ...] = (JAN, ANOUK), send: bool = True) -> Item:
    organizer = Address(SHARED, "Klantcontact")
    item = store.create(
        SHARED,
        "calendar",
        NewItem(
            item_class="IPM.Appointment",
            subject="Terugbellen mevr. Smit",
            from_=organizer,
            body="Bel 06-12345678",
            calendar=CalendarFields(
                start=START,
                end=START + timedelta(minutes=15),
                organizer=organizer,
                attendees=tuple(Attendee(Address(a)) for a in attendees),
                uid="UID-1",
                my_response="Organizer",
            ),
        ),
    )
    return store.send_meeting(item.id) if send else item


def own(store: MailStore, mailbox: str) -> Item:
    found = meetings.calendar_item(store, mailbox, "UID-1")
    assert found is not None
    return found


def request_of(store: MailStore, mailbox: str) -> Item:
    [request] = [i for i in store.items(mailbox, "inbox") if i.item_class == meetings.REQUEST]
    return request


def test_a_request_reaches_each_attendee_with_a_tentative_item_and_a_copy_in_sent_items(
    store: MailStore,
) -> None:
    organizer = book(store)
    assert organizer.calendar is not None
    assert organizer.calendar.meeting_request_sent
    for mailbox in (JAN, ANOUK):
        request = request_of(store, mailbox)
        assert request.calendar is not None
        assert (request.calendar.uid, request.calendar.intended_free_busy) == ("UID-1", "Busy")
        item = own(store, mailbox)
        assert item.calendar is not None
        assert (item.calendar.free_busy, item.calendar.my_response) == (
            "Tentative",
            "NoResponseReceived",
        )
    [copy] = store.items(SHARED, "sentitems")
    assert copy.item_class == meetings.REQUEST
    parsed = email.message_from_bytes(request_of(store, JAN).mime or b"")
    calendar_part = next(p for p in parsed.walk() if p.get_content_type() == "text/calendar")
    assert calendar_part.get_param("method") == "REQUEST"
    assert "UID:UID-1" in calendar_part.get_payload(decode=True).decode()


@pytest.mark.parametrize("delay_ms", [5_000, 60_000])
def test_with_a_transport_delay_the_attendee_sees_nothing_until_delivery(
    store: MailStore, clock: FakeClock, delay_ms: int
) -> None:
    store.submissions.change({"delay_ms": delay_ms})
    book(store)
    assert meetings.calendar_item(store, JAN, "UID-1") is None
    assert store.items(JAN, "inbox") == []
    delivered_after(store, clock, delay_ms)
    assert own(store, JAN).calendar is not None
    respond = meetings.respond(store, request_of(store, JAN).id, "Accept")
    assert respond[0].calendar is not None
    organizer = own(store, SHARED)
    assert organizer.calendar is not None
    assert [a.response for a in organizer.calendar.attendees] == ["Unknown", "Unknown"]
    delivered_after(store, clock, delay_ms)
    organizer = own(store, SHARED)
    assert organizer.calendar is not None
    assert [a.response for a in organizer.calendar.attendees] == ["Accept", "Unknown"]


@pytest.mark.parametrize(
    ("answer", "status", "folder", "item_class", "prefix"),
    [
        ("Accept", "Busy", "calendar", "IPM.Schedule.Meeting.Resp.Pos", "Accepted: "),
        ("Tentative", "Tentative", "calendar", "IPM.Schedule.Meeting.Resp.Tent", "Tentative: "),
        ("Decline", "Tentative", "deleteditems", "IPM.Schedule.Meeting.Resp.Neg", "Declined: "),
    ],
)
def test_an_answer_sets_the_attendees_item_and_reaches_the_organizers_item_and_inbox(
    store: MailStore, answer: str, status: str, folder: str, item_class: str, prefix: str
) -> None:
    book(store)
    request = request_of(store, JAN)
    mine, moved, draft = meetings.respond(store, request.id, answer, "Ik bel om 10 uur")
    assert (mine.folder, mine.calendar and mine.calendar.my_response) == (folder, answer)
    assert mine.calendar is not None
    assert mine.calendar.free_busy == status
    assert moved is not None
    assert moved.folder == "deleteditems"
    assert draft is None
    [response] = store.items(SHARED, "inbox")
    assert (response.item_class, response.subject) == (item_class, prefix + request.subject)
    assert "Ik bel om 10 uur" in response.body
    organizer = own(store, SHARED)
    assert organizer.calendar is not None
    jan = organizer.calendar.attendees[0]
    assert (jan.response, jan.response_time is not None) == (answer, True)
    [sent] = store.items(JAN, "sentitems")
    assert sent.item_class == item_class


def test_an_answer_without_sending_changes_only_the_attendees_calendar(store: MailStore) -> None:
    book(store)
    meetings.respond(store, own(store, JAN).id, "Accept", send=False)
    assert store.items(SHARED, "inbox") == []
    assert [i.item_class for i in store.items(JAN, "inbox")] == [meetings.REQUEST]


def test_the_organizer_cannot_answer_and_an_attendee_cannot_cancel(store: MailStore) -> None:
    organizer = book(store)
    with pytest.raises(MeetingError) as refused:
        meetings.respond(store, organizer.id, "Accept")
    assert refused.value.kind == "organizer"
    with pytest.raises(MeetingError) as refused:
        meetings.cancel(store, own(store, JAN).id)
    assert refused.value.kind == "not_organizer"


def test_a_new_time_asks_again_and_supersedes_the_first_request(store: MailStore) -> None:
    organizer = book(store)
    first = request_of(store, JAN)
    meetings.respond(store, first.id, "Accept", send=True)
    before = own(store, SHARED)
    later = store.update(
        organizer.id,
        lambda it: replace(
            it,
            calendar=replace(
                it.calendar or before.calendar,  # type: ignore[arg-type]  # a calendar item
                start=START + timedelta(hours=1),
                end=START + timedelta(hours=1, minutes=15),
            ),
        ),
    )
    meetings.after_organizer_change(store, before, later, send=True)
    organizer = own(store, SHARED)
    assert organizer.calendar is not None
    assert organizer.calendar.sequence == 1
    assert [a.response for a in organizer.calendar.attendees] == ["Unknown", "Unknown"]
    mine = own(store, JAN)
    assert mine.calendar is not None
    assert (mine.calendar.start, mine.calendar.my_response, mine.calendar.free_busy) == (
        START + timedelta(hours=1),
        "NoResponseReceived",
        "Tentative",
    )
    update = request_of(store, JAN)
    assert update.calendar is not None
    assert update.calendar.request_type == "FullUpdate"
    assert update.calendar.previous_start == START
    # Anouk never answered the first request; now it is out of date and cannot be answered.
    stale = [r for r in store.items(ANOUK, "inbox") if r.calendar and r.calendar.sequence == 0]
    assert meetings.is_out_of_date(store, stale[0])
    with pytest.raises(MeetingError) as refused:
        meetings.respond(store, stale[0].id, "Accept")
    assert refused.value.kind == "out_of_date"
    assert first.id not in {i.id for i in store.items(JAN, "inbox")}


def test_a_change_of_place_only_informs_and_keeps_the_answers(store: MailStore) -> None:
    organizer = book(store)
    meetings.respond(store, own(store, JAN).id, "Accept")
    before = own(store, SHARED)
    later = store.update(
        organizer.id,
        lambda it: replace(it, calendar=replace(it.calendar, location="Telefoon")),  # type: ignore[arg-type]  # a calendar item
    )
    meetings.after_organizer_change(store, before, later, send=True)
    mine = own(store, JAN)
    assert mine.calendar is not None
    assert (mine.calendar.location, mine.calendar.my_response) == ("Telefoon", "Accept")
    organizer = own(store, SHARED)
    assert organizer.calendar is not None
    assert organizer.calendar.attendees[0].response == "Accept"


def test_a_cancellation_deletes_the_organizers_item_and_frees_the_attendees(
    store: MailStore,
) -> None:
    organizer = book(store)
    moved = meetings.cancel(store, organizer.id, "Gaat niet door")
    assert moved.folder == "deleteditems"
    assert moved.calendar is not None
    assert moved.calendar.is_cancelled
    mine = own(store, JAN)
    assert mine.calendar is not None
    assert (mine.subject, mine.calendar.is_cancelled, mine.calendar.free_busy) == (
        "Canceled: Terugbellen mevr. Smit",
        True,
        "Free",
    )
    [cancellation] = [i for i in store.items(JAN, "inbox") if i.item_class == meetings.CANCELED]
    assert "Gaat niet door" in cancellation.body
    with pytest.raises(MeetingError) as refused:
        meetings.respond(store, mine.id, "Accept")
    assert refused.value.kind == "cancelled"


def test_an_attendee_removes_the_meeting_without_telling_the_organizer(store: MailStore) -> None:
    book(store)
    removed = meetings.remove_without_answer(store, own(store, JAN).id)
    assert removed.folder == "deleteditems"
    assert store.items(SHARED, "inbox") == []
    organizer = own(store, SHARED)
    assert organizer.calendar is not None
    assert organizer.calendar.attendees[0].response == "Unknown"
