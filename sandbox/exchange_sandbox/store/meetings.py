"""Meetings in the sandbox store (a test double): requests, responses, updates and cancellations.

What Exchange's calendar attendant and Outlook's meeting workflow do, over the store, for both
fronts ([MS-OXOCAL] 3.1.4.6-3.1.5; "Calendars and EWS in Exchange"):

- **A request** is a message (``IPM.Schedule.Meeting.Request``) the organizer's mailbox sends
  through transport (:meth:`MailStore.submit`, so it waits the submission delay like any mail)
  to the attendees: required ones in To, optional ones in Cc. On delivery the attendant puts a
  tentative calendar item in the attendee's calendar (NoResponseReceived). The request and the
  item share the meeting's UID; the request carries the organizer's free/busy status
  (IntendedFreeBusyStatus) and the meeting's version (AppointmentSequenceNumber).
- **A response** (``IPM.Schedule.Meeting.Resp.Pos``/``.Tent``/``.Neg``, "Accepted: ",
  "Tentative: ", "Declined: ") goes from the attendee to the organizer. Responding sets the
  attendee's item (accepted: the intended status; tentative: Tentative; declined: moved to
  Deleted Items) and moves the request out of the Inbox to Deleted Items ("Propose a new
  meeting time by using EWS": the answer names the calendar item and "a copy of the meeting
  request that was placed in the attendee's Deleted Items folder"). On delivery the
  organizer's item records the answer and its time for that attendee.
- **An update** is a new request with a higher sequence (FullUpdate when the time changed,
  the attendee's answer then asked again; InformationalUpdate otherwise). A request older
  than the attendee's item is out of date: it changes nothing and cannot be answered.
- **A cancellation** (``IPM.Schedule.Meeting.Canceled``, "Canceled: ") deletes the
  organizer's item (to Deleted Items) and, on delivery, marks the attendee's item cancelled
  and free, with "Canceled: " before its subject; it stays in the calendar until removed.

Each meeting message carries an iCalendar part (METHOD REQUEST, REPLY or CANCEL), as
Exchange's MIME of meeting messages does.
"""

from __future__ import annotations

import email.utils
from dataclasses import replace
from datetime import datetime
from email import policy
from email.message import EmailMessage
from typing import TYPE_CHECKING

from exchange_sandbox.store.model import (
    Address,
    CalendarFields,
    Item,
    NewItem,
    PropertyKey,
    StoreError,
    utcnow,
)

if TYPE_CHECKING:
    from exchange_sandbox.store.mailstore import MailStore
    from exchange_sandbox.store.submission import CopyHeaders

REQUEST = "IPM.Schedule.Meeting.Request"
CANCELED = "IPM.Schedule.Meeting.Canceled"
RESPONSE = "IPM.Schedule.Meeting.Resp"
#: Answer -> (message class, subject prefix, iCalendar PARTSTAT).
ANSWERS = {
    "Accept": ("IPM.Schedule.Meeting.Resp.Pos", "Accepted: ", "ACCEPTED"),
    "Tentative": ("IPM.Schedule.Meeting.Resp.Tent", "Tentative: ", "TENTATIVE"),
    "Decline": ("IPM.Schedule.Meeting.Resp.Neg", "Declined: ", "DECLINED"),
}
CANCELED_PREFIX = "Canceled: "
#: Where the sandbox keeps an event's Graph ``transactionId`` (its POST idempotency key).
TRANSACTION_ID = PropertyKey(
    property_type="String",
    property_set_id="6ed8da90-450b-101b-98da-00aa003f1305",
    property_name="topcontact-sandbox-transactionId",
)


class MeetingError(StoreError):
    """A meeting action the item does not allow; ``kind`` says why, for the fronts' codes.

    Kinds: ``organizer`` (an organizer answers their own meeting), ``not_organizer`` (an
    attendee cancels or updates for all), ``cancelled`` (the meeting was cancelled),
    ``out_of_date`` (a newer request superseded this one), ``not_meeting`` (no meeting).
    """

    def __init__(self, kind: str, text: str) -> None:
        super().__init__(text)
        self.kind = kind
        self.text = text


def is_organizer(item: Item) -> bool:
    cal = item.calendar
    return cal is not None and cal.organizer.email.lower() == item.mailbox.lower()


def is_meeting(item: Item) -> bool:
    return item.calendar is not None and bool(item.calendar.attendees)


def calendar_item(store: MailStore, mailbox: str, uid: str) -> Item | None:
    """The meeting's item in a mailbox's calendar (by its UID), None when there is none."""
    if not uid:
        return None
    for item in store.items(mailbox, "calendar"):
        if item.calendar is not None and item.calendar.uid == uid:
            return item
    return None


def is_out_of_date(store: MailStore, message: Item) -> bool:
    """Whether a meeting message was superseded: its mailbox's item has a later version."""
    cal = message.calendar
    if cal is None or not message.item_class.startswith("IPM.Schedule.Meeting"):
        return False
    current = calendar_item(store, message.mailbox, cal.uid)
    return (
        current is not None
        and current.calendar is not None
        and (current.calendar.sequence > cal.sequence)
    )


# ---------------------------------------------------------------- the organizer


def send_requests(
    store: MailStore,
    item_id: str,
    request_type: str = "NewMeetingRequest",
    save_copy: bool = True,
    copy_headers: CopyHeaders = "kept",
    previous: tuple[datetime, datetime] | None = None,
) -> Item:
    """Send the meeting of an organizer's item to its attendees; the item, marked as sent."""
    item = store.get(item_id)
    cal = item.calendar
    if cal is None or not is_organizer(item):
        raise MeetingError("not_organizer", "Only the organizer sends meeting requests.")
    others = [a for a in cal.attendees if a.address.email.lower() != item.mailbox]
    if not others:
        return item
    item = store.update(
        item.id, lambda it: replace(it, calendar=replace(_cal(it), meeting_request_sent=True))
    )
    snapshot = replace(
        _cal(item),
        intended_free_busy=cal.free_busy,
        free_busy="Tentative",
        my_response="NoResponseReceived",
        request_type=request_type,
        previous_start=previous[0] if previous else None,
        previous_end=previous[1] if previous else None,
    )
    _submit(store, item, REQUEST, item.subject, item.body, snapshot, save_copy, copy_headers)
    return item


def after_organizer_change(
    store: MailStore,
    before: Item,
    after: Item,
    send: bool,
    save_copy: bool = True,
    copy_headers: CopyHeaders = "kept",
) -> Item:
    """The organizer changed a meeting: with ``send``, a new version goes to the attendees
    (FullUpdate when the time changed, whose answers are then asked again)."""
    old, new = before.calendar, after.calendar
    if not send or old is None or new is None or not is_organizer(after) or not is_meeting(after):
        return after
    moved = (old.start, old.end, old.is_all_day) != (new.start, new.end, new.is_all_day)
    changed = moved or (old.location, before.subject, before.body) != (
        new.location,
        after.subject,
        after.body,
    )
    if not changed and old.attendees == new.attendees:
        return after

    def bump(it: Item) -> Item:
        cal = _cal(it)
        attendees = (
            tuple(replace(a, response="Unknown", response_time=None) for a in cal.attendees)
            if moved
            else cal.attendees
        )
        return replace(it, calendar=replace(cal, sequence=old.sequence + 1, attendees=attendees))

    updated = store.update(after.id, bump)
    return send_requests(
        store,
        updated.id,
        "FullUpdate" if moved else "InformationalUpdate",
        save_copy,
        copy_headers,
        previous=(old.start, old.end) if moved else None,
    )


def cancel(
    store: MailStore,
    item_id: str,
    comment: str = "",
    send: bool = True,
    save_copy: bool = True,
    copy_headers: CopyHeaders = "kept",
    body_type: str = "Text",
) -> Item:
    """The organizer cancels: a cancellation to the attendees, the item to Deleted Items."""
    item = store.get(item_id)
    cal = item.calendar
    if cal is None:
        raise MeetingError("not_meeting", "The item is no calendar item.")
    if not is_organizer(item):
        raise MeetingError(
            "not_organizer", "User must be an organizer for CancelCalendarItem action."
        )
    with store.atomic():
        done = store.update(
            item.id,
            lambda it: replace(
                it,
                calendar=replace(_cal(it), is_cancelled=True, sequence=_cal(it).sequence + 1),
            ),
        )
        if send and is_meeting(done):
            snapshot = replace(
                _cal(done), free_busy="Free", my_response="Organizer", reminder_set=False
            )
            _submit(
                store,
                done,
                CANCELED,
                CANCELED_PREFIX + done.subject,
                comment,
                snapshot,
                save_copy,
                copy_headers,
                body_type,
            )
        return store.move(done.id, "deleteditems")


# ---------------------------------------------------------------- the attendee


def respond(
    store: MailStore,
    item_id: str,
    answer: str,
    comment: str = "",
    send: bool = True,
    save_copy: bool = True,
    copy_headers: CopyHeaders = "kept",
    body_type: str = "Text",
    draft: bool = False,
    draft_folder: str = "drafts",
) -> tuple[Item, Item | None, Item | None]:
    """An attendee answers a meeting request or their calendar item (Accept, Tentative, Decline).

    Returns the attendee's calendar item after the answer (in Deleted Items when declined),
    the request as moved to Deleted Items (None when the calendar item was answered) and the
    response saved as a draft (``draft``: EWS SaveOnly, in ``draft_folder``; sent later with
    SendItem), else None.
    """
    if answer not in ANSWERS:
        raise ValueError(f"unknown answer {answer!r}")
    item = store.get(item_id)
    cal = item.calendar
    kind = item.item_class
    if cal is None or not (kind.startswith("IPM.Appointment") or kind.startswith(REQUEST)):
        raise MeetingError("not_meeting", "The item is no meeting request or calendar item.")
    if is_organizer(item):
        raise MeetingError("organizer", "You can't respond to a meeting you organized.")
    if item.folder == "deleteditems" and kind.startswith("IPM.Appointment"):
        raise MeetingError("not_meeting", "The calendar item is in Deleted Items.")
    request = item if kind.startswith(REQUEST) else None
    if request is not None and is_out_of_date(store, request):
        raise MeetingError("out_of_date", "The meeting request is out of date.")
    own = calendar_item(store, item.mailbox, cal.uid) if request is not None else item
    if own is not None and own.calendar is not None and own.calendar.is_cancelled:
        raise MeetingError("cancelled", "The meeting has been cancelled.")
    now = utcnow()
    with store.atomic():
        if own is None:  # the tentative item was deleted meanwhile: answering brings it back
            own = store.create(item.mailbox, "calendar", _attendee_item(item, cal))
        status = {"Accept": cal.intended_free_busy or "Busy", "Tentative": "Tentative"}

        def answered(it: Item) -> Item:
            c = _cal(it)
            return replace(
                it,
                calendar=replace(
                    c, my_response=answer, reply_time=now, free_busy=status.get(answer, c.free_busy)
                ),
            )

        own = store.update(own.id, answered)
        if answer == "Decline":
            own = store.move(own.id, "deleteditems")
        moved = store.move(request.id, "deleteditems") if request is not None else None
        saved = None
        if send or draft:
            own_cal = _cal(own)
            snapshot = replace(own_cal, my_response=answer, reminder_set=False)
            cls, prefix, _ = ANSWERS[answer]
            message = _message(store, own, cls, prefix + own.subject, comment, snapshot, body_type)
            if draft:
                saved = store.create(own.mailbox, draft_folder, replace(message, is_draft=True))
            else:
                store.submit(own.mailbox, message, save_copy, copy_headers)
    return own, moved, saved


def remove_without_answer(store: MailStore, item_id: str) -> Item:
    """An attendee deletes the meeting from their calendar without answering (Deleted Items)."""
    item = store.get(item_id)
    if item.calendar is None:
        raise MeetingError("not_meeting", "The item is no calendar item.")
    if is_organizer(item) and is_meeting(item):
        raise MeetingError(
            "organizer", "The organizer cancels a meeting; deleting it sends no cancellation."
        )
    return item if item.folder == "deleteditems" else store.move(item.id, "deleteditems")


# ---------------------------------------------------------------- the calendar attendant


def on_delivered(store: MailStore, message: Item) -> None:
    """Process a meeting message transport delivered into a mailbox, as the attendant does."""
    cal = message.calendar
    if cal is None or not message.item_class.startswith("IPM.Schedule.Meeting"):
        return
    if message.item_class.startswith(REQUEST):
        _on_request(store, message, cal)
    elif message.item_class.startswith(RESPONSE):
        _on_response(store, message, cal)
    elif message.item_class.startswith(CANCELED):
        _on_cancellation(store, message, cal)


def _on_request(store: MailStore, message: Item, cal: CalendarFields) -> None:
    if cal.organizer.email.lower() == message.mailbox:
        return
    own = calendar_item(store, message.mailbox, cal.uid)
    if own is None:
        store.create(message.mailbox, "calendar", _attendee_item(message, cal))
        return
    old = _cal(own)
    if cal.sequence < old.sequence:
        return  # an old version: the item keeps the newer one
    again = cal.request_type == "FullUpdate" or old.is_cancelled

    def updated(it: Item) -> Item:
        return replace(
            it,
            subject=message.subject,
            body=message.body,
            body_type=message.body_type,
            calendar=replace(
                cal,
                free_busy="Tentative" if again else old.free_busy,
                my_response="NoResponseReceived" if again else old.my_response,
                reply_time=None if again else old.reply_time,
                request_type="",
            ),
        )

    store.update(own.id, updated)


def _on_response(store: MailStore, message: Item, cal: CalendarFields) -> None:
    own = calendar_item(store, message.mailbox, cal.uid)
    sender = (message.from_ or message.sender or Address("")).email.lower()
    if own is None or not is_organizer(own) or not sender:
        return

    def record(it: Item) -> Item:
        c = _cal(it)
        attendees = tuple(
            replace(a, response=cal.my_response, response_time=message.date_sent or utcnow())
            if a.address.email.lower() == sender
            else a
            for a in c.attendees
        )
        return replace(it, calendar=replace(c, attendees=attendees))

    store.update(own.id, record)


def _on_cancellation(store: MailStore, message: Item, cal: CalendarFields) -> None:
    own = calendar_item(store, message.mailbox, cal.uid)
    if own is None or is_organizer(own):
        return
    store.update(
        own.id,
        lambda it: replace(
            it,
            subject=it.subject
            if it.subject.startswith(CANCELED_PREFIX)
            else CANCELED_PREFIX + it.subject,
            calendar=replace(_cal(it), is_cancelled=True, free_busy="Free", sequence=cal.sequence),
        ),
    )


# ---------------------------------------------------------------- messages


def _cal(item: Item) -> CalendarFields:
    if item.calendar is None:
        raise MeetingError("not_meeting", "The item is no calendar item.")
    return item.calendar


def _attendee_item(message: Item, cal: CalendarFields) -> NewItem:
    """The tentative calendar item the attendant makes from a request."""
    return NewItem(
        item_class="IPM.Appointment",
        subject=message.subject,
        from_=cal.organizer,
        to=message.to,
        cc=message.cc,
        body=message.body,
        body_type=message.body_type,
        is_read=True,
        calendar=replace(
            cal,
            free_busy="Tentative",
            my_response="NoResponseReceived",
            request_type="",
            previous_start=None,
            previous_end=None,
            meeting_request_sent=False,
        ),
    )


def _submit(
    store: MailStore,
    item: Item,
    item_class: str,
    subject: str,
    body: str,
    snapshot: CalendarFields,
    save_copy: bool,
    copy_headers: CopyHeaders,
    body_type: str | None = None,
) -> None:
    message = _message(store, item, item_class, subject, body, snapshot, body_type)
    store.submit(item.mailbox, message, save_copy, copy_headers)


def _message(
    store: MailStore,
    item: Item,
    item_class: str,
    subject: str,
    body: str,
    snapshot: CalendarFields,
    body_type: str | None = None,
) -> NewItem:
    """A meeting message from ``item``'s mailbox: to the attendees (from the organizer) or to
    the organizer (an answer), with the meeting as it is now and an iCalendar part."""
    me = Address(item.mailbox, store.mailbox_name(item.mailbox))
    answering = item_class.startswith(RESPONSE)
    others = [a for a in snapshot.attendees if a.address.email.lower() != item.mailbox]
    to = (snapshot.organizer,) if answering else tuple(a.address for a in others if a.required)
    cc = () if answering else tuple(a.address for a in others if not a.required)
    kind = body_type or item.body_type
    return NewItem(
        item_class=item_class,
        mime=_mime(me, to, cc, subject, body, kind, snapshot, item_class),
        subject=subject,
        from_=me,
        to=to,
        cc=cc,
        body=body,
        body_type=kind,
        calendar=snapshot,
    )


def _ical_time(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _ical(me: Address, subject: str, cal: CalendarFields, item_class: str) -> tuple[str, str]:
    """The iCalendar object of a meeting message and its METHOD ([MS-OXCICAL])."""
    method = "REQUEST"
    if item_class.startswith(RESPONSE):
        method = "REPLY"
    elif item_class.startswith(CANCELED):
        method = "CANCEL"

    def line(name: str, value: str) -> str:
        return f"{name}:{value}"

    lines = [
        "BEGIN:VCALENDAR",
        "METHOD:" + method,
        "PRODID:Microsoft Exchange Server 2010",
        "VERSION:2.0",
        "BEGIN:VEVENT",
        line(f'ORGANIZER;CN="{cal.organizer.name}"', f"mailto:{cal.organizer.email}"),
    ]
    for attendee in _ical_attendees(me, cal, method):
        lines.append(attendee)
    lines += [
        line("SUMMARY;LANGUAGE=nl-NL", subject),
        line("DTSTART", _ical_time(cal.start)),
        line("DTEND", _ical_time(cal.end)),
        line("UID", cal.uid),
        line("SEQUENCE", str(cal.sequence)),
        line("DTSTAMP", _ical_time(utcnow())),
        line("LOCATION", cal.location),
        line("STATUS", "CANCELLED" if method == "CANCEL" else "CONFIRMED"),
        line("X-MICROSOFT-CDO-BUSYSTATUS", (cal.intended_free_busy or cal.free_busy).upper()),
    ]
    if method == "REQUEST" and cal.reminder_set:  # the organizer's reminder, as Exchange writes it
        lines += [
            "BEGIN:VALARM",
            "DESCRIPTION:REMINDER",
            f"TRIGGER;RELATED=START:-PT{cal.reminder_minutes}M",
            "ACTION:DISPLAY",
            "END:VALARM",
        ]
    lines += [
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n", method


def _ical_attendees(me: Address, cal: CalendarFields, method: str) -> list[str]:
    if method == "REPLY":
        status = ANSWERS.get(cal.my_response, ("", "", "NEEDS-ACTION"))[2]
        return [f'ATTENDEE;PARTSTAT={status};CN="{me.name}":mailto:{me.email}']
    out = []
    for a in cal.attendees:
        role = "REQ-PARTICIPANT" if a.required else "OPT-PARTICIPANT"
        out.append(
            f'ATTENDEE;ROLE={role};PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN="{a.address.name}"'
            f":mailto:{a.address.email}"
        )
    return out


def _mime(
    me: Address,
    to: tuple[Address, ...],
    cc: tuple[Address, ...],
    subject: str,
    body: str,
    body_type: str,
    cal: CalendarFields,
    item_class: str,
) -> bytes:
    """The Internet form of a meeting message: the text and a text/calendar alternative."""
    msg = EmailMessage()
    msg["From"] = email.utils.formataddr((me.name, me.email))
    if to:
        msg["To"] = ", ".join(email.utils.formataddr((a.name, a.email)) for a in to)
    if cc:
        msg["Cc"] = ", ".join(email.utils.formataddr((a.name, a.email)) for a in cc)
    msg["Subject"] = subject
    msg.set_content(body, subtype="html" if body_type.upper() == "HTML" else "plain")
    text, method = _ical(me, subject, cal, item_class)
    msg.add_alternative(text, subtype="calendar", params={"method": method})
    return msg.as_bytes(policy=policy.SMTP)


__all__ = [
    "ANSWERS",
    "CANCELED",
    "REQUEST",
    "RESPONSE",
    "TRANSACTION_ID",
    "MeetingError",
    "after_organizer_change",
    "calendar_item",
    "cancel",
    "is_meeting",
    "is_organizer",
    "is_out_of_date",
    "on_delivered",
    "remove_without_answer",
    "respond",
    "send_requests",
]
