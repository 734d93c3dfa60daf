"""The callback service over the in-memory mailbox and calendars and a real SQLite file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from topcontact_mail.domain.callbacks import BusyKind, BusyPeriod
from topcontact_mail.domain.message import Address
from topcontact_mail.domain.tracking.model import CallbackState
from topcontact_mail.ports.calendar import DirectoryEntry, MeetingOutcome, OutgoingMeeting
from topcontact_mail.services.callbacks import tracked_callbacks

from .callback_world import BOOKER, FORM, JAN, World, at, make_world


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def marker_of(world: World, item_id: str) -> dict[str, object]:
    marker = world.mailbox.items[item_id].marker
    assert marker is not None
    return dict(json.loads(marker))


# -- booking by mail --------------------------------------------------------------------------


def test_a_booking_mail_becomes_one_meeting_request_and_a_confirmation_naming_its_slot(
    world: World,
) -> None:
    booking = world.book_by_mail(FORM)

    summary = world.run()

    assert (summary.booked, summary.meetings_sent, summary.replies_sent) == (1, 1, 1)
    (meeting,) = world.calendars.live()
    assert meeting.attendee == JAN.address
    assert (meeting.start, meeting.end) == (at(30, 10, 15), at(30, 10, 30))
    assert meeting.subject == "Terugbellen: mevr. Jansen — 06 12345678 — lekkage badkamer"
    assert "tel:+31612345678" in meeting.html_body
    assert "Bel mevr. Jansen terug op 06 12345678." in meeting.text_body
    assert (meeting.categories, meeting.reminder_minutes) == (["Terugbelverzoek"], 15)
    assert world.calendars.inboxes[JAN.address] == [("request", meeting.subject)]
    ((kind, subject, text),) = world.replies()
    assert kind == "confirmation"
    assert (
        "Jan de Vries belt mevr. Jansen terug op maandag 30 november tussen 10:15 en 10:30." in text
    )
    assert subject == "Ingepland: terugbellen mevr. Jansen op maandag 30 november 10:15"
    (sent,) = world.mailbox.sent
    assert sent.outgoing.acknowledgement.in_reply_to == "<booking-1@ex01.woonservice.example>"
    assert sent.outgoing.original_item_id == booking
    assert ("X-TopContact-Mail", "callback") in sent.outgoing.acknowledgement.headers


def test_the_booking_mail_is_never_acknowledged_and_carries_the_claim(world: World) -> None:
    booking = world.book_by_mail(FORM)

    world.run()

    assert world.acknowledged() == []
    assert world.store.get(booking).reason == "callback_request"  # type: ignore[union-attr]
    marker = marker_of(world, booking)
    (meeting,) = world.store.meetings()
    assert (marker["decision"], marker["ref"], marker["state"]) == (
        "callback",
        meeting.ref,
        "planned",
    )


def test_a_second_pass_books_nothing_new(world: World) -> None:
    world.book_by_mail(FORM)
    world.run()

    world.mailbox.rewind()  # a full resync: every message shows up again
    summary = world.run()

    assert summary.booked == 0
    assert len(world.calendars.meetings) == 1
    assert len(world.replies()) == 1


def test_the_slot_is_free_in_the_colleagues_calendar_and_within_working_hours(
    world: World,
) -> None:
    world.calendars.busy[JAN.address] = [
        BusyPeriod(at(30, 10, 0), at(30, 12, 0)),
        BusyPeriod(at(30, 12, 0), at(30, 16, 45), BusyKind.TENTATIVE),
        BusyPeriod(at(1, 8, 30), at(1, 9, 0)),
    ]

    world.book_by_mail(FORM)
    world.run()

    (meeting,) = world.calendars.live()
    assert (meeting.start, meeting.end) == (at(30, 16, 45), at(30, 17, 0))


def test_a_colleague_on_leave_is_replaced_by_the_fallback(world: World) -> None:
    world.calendars.busy[JAN.address] = [BusyPeriod(at(30, 0), at(2, 0), BusyKind.OOF)]

    world.book_by_mail(FORM)
    world.run()

    (meeting,) = world.calendars.live()
    assert meeting.attendee == "a.bakker@woonservice.example"
    ((_, _, text),) = world.replies()
    assert "Anouk Bakker belt mevr. Jansen terug op maandag 30 november tussen 10:15" in text
    assert "Jan de Vries kan niet op tijd terugbellen. Daarom belt Anouk Bakker." in text


def test_nothing_free_in_the_term_books_the_first_slot_after_it_and_says_so(
    world: World,
) -> None:
    world.calendars.busy[JAN.address] = [BusyPeriod(at(30, 0), at(2, 0))]
    world.calendars.busy["a.bakker@woonservice.example"] = [BusyPeriod(at(30, 0), at(2, 0))]

    world.book_by_mail(FORM)
    world.run()

    (meeting,) = world.calendars.live()
    assert (meeting.attendee, meeting.start) == (JAN.address, at(2, 8, 30))
    ((_, _, text),) = world.replies()
    assert "Let op: dit is later dan afgesproken" in text
    assert "Jan de Vries heeft vóór dinsdag 1 december 17:00 geen vrij kwartier meer." in text


def test_the_colleague_is_found_in_the_directory_when_not_in_the_staff_list(
    world: World,
) -> None:
    world.calendars.people = [DirectoryEntry("Klaas Visser", "k.visser@woonservice.example")]

    world.book_by_mail(FORM.replace("Jan de Vries", "Klaas Visser"))
    world.run()

    (meeting,) = world.calendars.live()
    assert meeting.attendee == "k.visser@woonservice.example"


def test_the_callback_mailbox_of_its_own_refuses_strangers_and_machines(tmp_path: Path) -> None:
    world = make_world(tmp_path, own_mailbox=True)
    stranger = world.book_by_mail(FORM, sender=Address("h.jansen@example.nl", "H. Jansen"))
    colleague = world.book_by_mail(FORM, subject="Graag terugbellen")

    summary = world.callbacks.run_once()

    assert summary.booked == 1
    assert world.store.callback_for_item(stranger).state == "refused"  # type: ignore[union-attr]
    assert world.store.callback_for_item(colleague).state == "planned"  # type: ignore[union-attr]
    assert len(world.replies()) == 1
    assert marker_of(world, stranger)["state"] == "refused"


# -- bad forms: a clear reply, the mail kept and marked ------------------------------------------

BAD_FORMS = {
    "missing phone": (
        "Voor: Jan de Vries\nNaam: mevr. Jansen\nOnderwerp: lekkage",
        False,
        "Het telefoonnummer ontbreekt. Zet het achter 'Telefoon:'.",
    ),
    "unknown colleague": (
        FORM.replace("Jan de Vries", "Kees Pieters"),
        False,
        "We kennen geen collega 'Kees Pieters'.",
    ),
    "two colleagues with the same first name": (
        FORM.replace("Jan de Vries", "Jan"),
        False,
        "Bedoelt u Jan de Vries of Jan Bakker?",
    ),
    "a phone number with letters": (
        FORM.replace("06-12345678", "06-1234567 of via buurvrouw"),
        False,
        "In het telefoonnummer '06-1234567 of via buurvrouw' staan letters.",
    ),
    "an empty mail": ("", False, "We vinden geen gegevens in uw bericht."),
    "an HTML-only mail with a signature": (
        "<html><body><p>Hoi,</p><p>kun je deze inplannen?</p><p>Met vriendelijke groet,<br>"
        "Petra de Jong<br>Klantcontact | Woonservice IJsselland<br>T 0313 000 000</p>"
        "</body></html>",
        True,
        "We vinden geen gegevens in uw bericht.",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FORMS))
def test_a_bad_form_gets_a_clear_reply_and_is_kept_and_marked(world: World, case: str) -> None:
    body, html, expected = BAD_FORMS[case]
    booking = world.book_by_mail(body, html=html)

    summary = world.run()

    assert (summary.rejected, world.calendars.meetings) == (1, {})
    ((kind, subject, text),) = world.replies()
    assert kind == "problems"
    assert subject == "Terugbelverzoek niet ingepland: graag aanvullen"
    assert expected in text
    assert "Voor: \nNaam: \nTelefoon: " in text, "the blank form travels along"
    assert booking in world.mailbox.items, "the booking mail is kept"
    assert world.mailbox.items[booking].categories == [
        "Top Contact: terugbelverzoek niet ingepland"
    ]
    assert marker_of(world, booking)["state"] == "rejected"
    (callback,) = world.store.callbacks()
    assert callback.state == "rejected"
    assert world.acknowledged() == []


def test_an_html_form_with_a_signature_is_booked(world: World) -> None:
    world.book_by_mail(
        "<div>Voor: Anouk</div><div>Naam: dhr. Yilmaz</div><div>Tel: 0313 123456</div>"
        "<div>Onderwerp: huurachterstand</div><p>Met vriendelijke groet,<br>Petra</p>",
        html=True,
    )

    world.run()

    (meeting,) = world.calendars.live()
    assert meeting.attendee == "a.bakker@woonservice.example"
    assert meeting.subject == "Terugbellen: dhr. Yilmaz — 0313 123 456 — huurachterstand"


def test_a_corrected_form_in_a_reply_is_booked(world: World) -> None:
    world.book_by_mail("Voor: Jan de Vries\nNaam: mevr. Jansen\nOnderwerp: lekkage")
    world.run()

    world.book_by_mail(
        FORM + "\n-----Oorspronkelijk bericht-----\nVan: Team Klantcontact\nAan: Petra\n",
        subject="RE: Terugbelverzoek niet ingepland: graag aanvullen",
    )
    world.run()

    assert len(world.calendars.live()) == 1
    assert [kind for kind, _, _ in world.replies()] == ["problems", "confirmation"]


def test_a_calendar_that_cannot_be_read_is_told_to_the_booker(world: World) -> None:
    world.calendars.refused[JAN.address] = "ErrorNoFreeBusyAccess"

    world.book_by_mail(FORM)
    world.run()

    ((kind, _, text),) = world.replies()
    assert kind == "problems"
    assert "We kunnen de agenda van Jan de Vries niet inzien." in text


# -- exactly once ------------------------------------------------------------------------------


def test_a_meeting_whose_answer_was_lost_is_found_by_its_ref_not_created_again(
    world: World,
) -> None:
    world.calendars.lost_answers = 1
    world.book_by_mail(FORM)

    first = world.run()
    second = world.run()

    assert len(world.calendars.meetings) == 1
    assert (first.meetings_sent, first.replies_sent) == (1, 1)
    assert (second.meetings_sent, second.replies_sent) == (0, 0)
    assert world.calendars.requests["find"] >= 1, "it was looked for, not created again"


def test_a_busy_server_is_tried_again_and_nothing_is_doubled(world: World) -> None:
    world.calendars.transient_failures = 2
    world.book_by_mail(FORM)

    world.run()
    world.run()
    world.run()

    assert len(world.calendars.meetings) == 1
    assert len(world.replies()) == 1


class Crash(BaseException):
    """The process dies (SIGKILL): nothing after this line of the service runs."""


def test_a_crash_after_the_create_is_verified_before_anything_is_created_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    create = world.calendars.create_meetings

    def create_then_die(batch: Sequence[OutgoingMeeting]) -> list[MeetingOutcome]:
        create(batch)
        raise Crash

    monkeypatch.setattr(world.calendars, "create_meetings", create_then_die)
    world.book_by_mail(FORM)
    with pytest.raises(Crash):
        world.run()
    monkeypatch.setattr(world.calendars, "create_meetings", create)

    world.run()

    assert len(world.calendars.meetings) == 1
    assert [m.state for m in world.store.meetings()] == ["sent"]
    assert [kind for kind, _, _ in world.replies()] == ["confirmation"]


def test_an_unsure_meeting_not_found_waits_for_the_in_doubt_window(world: World) -> None:
    world.calendars.dropped_answers = 1  # the request broke off; it never reached the server
    world.book_by_mail(FORM)
    world.run()
    assert world.calendars.meetings == {}

    world.clock.advance(minutes=5)
    world.run()
    assert world.calendars.meetings == {}, "not found, but still inside the window: it waits"

    world.clock.advance(minutes=6)
    world.run()
    assert len(world.calendars.meetings) == 1
    assert len(world.replies()) == 1


# -- when the plan fails -------------------------------------------------------------------------


def test_a_decline_books_the_next_free_slot_and_tells_the_booker(world: World) -> None:
    world.book_by_mail(FORM)
    world.run()
    (first,) = world.store.meetings()
    world.calendars.respond(first.ref, "declined")

    world.clock.advance(minutes=30)
    summary = world.callbacks.run_once()

    assert summary.rebooked == 1
    (meeting,) = world.calendars.live()
    assert meeting.ref != first.ref
    assert (meeting.attendee, meeting.start) == (JAN.address, at(30, 10, 45))
    assert world.calendars.by_ref(first.ref).cancelled
    kinds = [kind for kind, _, _ in world.replies()]
    assert kinds == ["confirmation", "rebooked"]
    text = world.replies()[1][2]
    assert "Jan de Vries heeft het verzoek om mevr. Jansen terug te bellen geweigerd" in text
    assert (
        "Jan de Vries belt mevr. Jansen terug op maandag 30 november tussen 10:45 en 11:00." in text
    )


def test_a_response_in_the_organisers_inbox_is_routed_to_the_callbacks_at_once(
    world: World,
) -> None:
    world.book_by_mail(FORM)
    world.run()
    (first,) = world.store.meetings()
    response = world.calendars.respond(first.ref, "declined")
    world.calendars.by_ref(first.ref).response = "none"  # only the message tells
    world.deliver_response(response)

    world.clock.advance(seconds=5)  # long before the next regular check
    summary = world.run()

    assert summary.rebooked == 1
    assert world.store.get(response).reason == "meeting_message"  # type: ignore[union-attr]
    assert world.acknowledged() == []


def test_when_nothing_is_possible_the_booker_is_asked_to_contact_the_tenant(
    world: World,
) -> None:
    world.book_by_mail(FORM)
    world.run()
    (first,) = world.store.meetings()
    world.calendars.refused[JAN.address] = "ErrorMailRecipientNotFound"
    world.calendars.refused["a.bakker@woonservice.example"] = "ErrorMailRecipientNotFound"
    world.calendars.respond(first.ref, "declined")

    world.clock.advance(minutes=30)
    world.callbacks.run_once()

    kind, subject, text = world.replies()[-1]
    assert (kind, subject) == ("impossible", "Terugbellen mevr. Jansen: neem zelf contact op")
    assert "Neem contact op met mevr. Jansen op 06 12345678 en maak een nieuwe afspraak." in text
    (callback,) = world.store.callbacks()
    assert callback.state == "failed"


def test_a_meeting_deleted_in_outlook_is_booked_anew(world: World) -> None:
    world.book_by_mail(FORM)
    world.run()
    (first,) = world.store.meetings()
    world.calendars.delete(first.ref)

    world.clock.advance(minutes=10)
    world.callbacks.run_once()

    (meeting,) = world.calendars.live()
    assert meeting.ref != first.ref
    assert "is geannuleerd" in world.replies()[-1][2]


def test_a_meeting_moved_past_the_term_is_booked_anew_and_the_moved_one_cancelled(
    world: World,
) -> None:
    world.book_by_mail(FORM)
    world.run()
    (first,) = world.store.meetings()
    world.calendars.move(first.ref, at(3, 9, 0), at(3, 9, 15))

    world.clock.advance(minutes=10)
    world.callbacks.run_once()

    assert world.calendars.by_ref(first.ref).cancelled
    (meeting,) = world.calendars.live()
    assert meeting.start == at(30, 10, 30)
    assert "verzet naar een moment na de termijn" in world.replies()[-1][2]


def test_a_meeting_moved_within_the_term_keeps_its_new_time(world: World) -> None:
    world.book_by_mail(FORM)
    world.run()
    (first,) = world.store.meetings()
    world.calendars.move(first.ref, at(1, 14, 0), at(1, 14, 15))

    world.clock.advance(minutes=10)
    world.callbacks.run_once()

    (meeting,) = world.store.meetings()
    assert (meeting.state, meeting.slot_start) == ("sent", at(1, 14, 0))
    assert len(world.replies()) == 1


def test_done_and_missed_callbacks_for_the_tracking_overview(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    world.book_by_mail(FORM)
    world.book_by_mail(FORM.replace("mevr. Jansen", "dhr. Bos"))
    world.run()
    tenant = {c.id: c.details["tenant_name"] for c in world.store.callbacks()}
    meeting = {tenant[m.callback_id]: m for m in world.store.meetings()}
    world.calendars.categorise(JAN.address, meeting["mevr. Jansen"].ref, "Teruggebeld")

    world.clock.moment = at(30, 12, 0)
    world.callbacks.run_once()

    states = {c.details["tenant_name"]: c.state for c in world.store.callbacks()}
    assert states == {"mevr. Jansen": "done", "dhr. Bos": "missed"}
    tracked = {t.tenant: t for t in tracked_callbacks(world.store)}
    assert tracked["mevr. Jansen"].state is CallbackState.DONE
    assert tracked["dhr. Bos"].state is CallbackState.MISSED
    assert tracked["dhr. Bos"].slot_start == meeting["dhr. Bos"].slot_start
    assert tracked["dhr. Bos"].callback_by == at(1, 17, 0)
    assert tracked["dhr. Bos"].colleague == "Jan de Vries"


# -- the command line ---------------------------------------------------------------------------


def test_booking_on_the_command_line_creates_the_meeting_at_once(world: World) -> None:
    result = world.callbacks.book(
        colleague="Jan de Vries",
        tenant_name="mevr. Jansen",
        phone="0612345678",
        subject="lekkage badkamer",
        booked_by=BOOKER.email,
    )

    assert result.sent
    assert result.sentence == (
        "Jan de Vries belt mevr. Jansen terug op maandag 30 november tussen 10:15 en 10:30."
    )
    (meeting,) = world.calendars.live()
    assert meeting.attendee == JAN.address
    assert world.replies() == [], "the command's output is the confirmation"
    world.callbacks.run_once()
    assert len(world.calendars.meetings) == 1


def test_the_command_line_refuses_a_bad_booking_and_records_nothing(world: World) -> None:
    result = world.callbacks.book(
        colleague="Jan", tenant_name="", phone="06-abc", subject="lekkage"
    )

    assert result.callback is None
    assert [p.code for p in result.booking.problems] == [
        "ambiguous_colleague",
        "missing_name",
        "phone_letters",
    ]
    assert world.store.callbacks() == []


def test_a_callback_cancelled_on_the_command_line_is_cancelled_in_outlook(world: World) -> None:
    result = world.callbacks.book(
        colleague="Jan de Vries", tenant_name="mevr. Jansen", phone="0612345678", subject="x"
    )
    assert result.callback is not None

    done, _ = world.callbacks.cancel(result.callback.id)

    assert done
    assert world.calendars.live() == []
    assert world.calendars.inboxes[JAN.address][-1][0] == "cancelled"
    assert world.store.get_callback(result.callback.id).state == "cancelled"  # type: ignore[union-attr]


def test_a_dry_run_books_nothing(tmp_path: Path) -> None:
    world = make_world(tmp_path, dry_run=True)
    world.book_by_mail(FORM)

    world.callbacks.run_once()

    assert world.calendars.meetings == {}
    assert world.replies() == []


def test_the_callbacks_wait_while_the_calendar_server_is_away(world: World) -> None:
    from topcontact_mail.ports import MailboxUnavailable

    world.book_by_mail(FORM)
    world.acknowledge.run_once()
    world.calendars.unreachable = True

    with pytest.raises(MailboxUnavailable):
        world.callbacks.run_once()

    world.calendars.unreachable = False
    world.callbacks.run_once()
    assert len(world.calendars.live()) == 1


def test_the_whole_body_is_read_not_only_the_start_screening_sees(world: World) -> None:
    notes = "De klant belde al eerder. " * 200
    world.book_by_mail(FORM.replace("tweede keer deze maand", notes) + "Voorkeur: middag\n")

    world.run()

    (meeting,) = world.calendars.live()
    assert meeting.start == at(30, 12, 0), "the preference at the end of a long form is honoured"
