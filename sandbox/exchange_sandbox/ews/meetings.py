"""Meetings through EWS in the sandbox (a test double): calendar items with invitations, answers, updates, cancellations.

- CreateItem of a CalendarItem needs ``SendMeetingInvitations`` (ErrorSendMeetingInvitations
  Required, ResponseCode reference): ``SendToNone`` saves it, ``SendOnlyToAll`` sends the
  meeting request, ``SendToAllAndSaveCopy`` also keeps it in Sent Items. Times without an
  offset are wall-clock times of the item's StartTimeZone/EndTimeZone (see ``fields``); the
  zones are kept and shown.
- CreateItem of AcceptItem, TentativelyAcceptItem or DeclineItem (ReferenceItemId: the meeting
  request or the attendee's calendar item) needs ``MessageDisposition``
  (ErrorMessageDispositionRequired): SendAndSaveCopy/SendOnly send the answer, SaveOnly keeps
  it in Drafts for SendItem. The answer names the attendee's calendar item and the request, now
  in Deleted Items, as Exchange 2013 does ("Propose a new meeting time by using EWS").
- CreateItem of CancelCalendarItem (the organizer's item) sends the cancellation and names the
  item, now in Deleted Items ("Delete appointments and cancel meetings by using EWS").
- DeleteItem of a calendar item needs ``SendMeetingCancellations``
  (ErrorSendMeetingCancellationsRequired); the organizer's meeting with SendToAllAndSaveCopy
  or SendOnlyToAll is cancelled for everyone.
- UpdateItem of the organizer's meeting with ``SendMeetingInvitationsOrCancellations`` other
  than SendToNone sends an update; an item in Deleted Items cannot be (ErrorCalendarCannot
  UpdateDeletedItem).

The workflow itself (who gets what, what the attendant does on delivery) is the store's
(:mod:`exchange_sandbox.store.meetings`).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from lxml import etree

from exchange_sandbox.ews.access import Caller, check_send_as, item_ref, own_mailbox
from exchange_sandbox.ews.faults import EwsFault
from exchange_sandbox.ews.render import render_item_id_only
from exchange_sandbox.ews.xml import Element, m, sub, t
from exchange_sandbox.store import (
    Address,
    Attendee,
    CalendarFields,
    FolderInfo,
    Item,
    MailStore,
    MeetingError,
    NewItem,
    meetings,
)

ANSWERS = {"AcceptItem": "Accept", "TentativelyAcceptItem": "Tentative", "DeclineItem": "Decline"}
MEETING_RESPONSE_OBJECTS = (*ANSWERS, "CancelCalendarItem")
_SUFFIX = {"Accept": "Accept", "Tentative": "Tentative", "Decline": "Decline"}
_VERB = {"Accept": "accept", "Tentative": "tentatively accept", "Decline": "decline"}
_INVALID_ITEM = {
    "Accept": "ErrorInvalidItemForOperationAcceptItem",
    "Tentative": "ErrorInvalidItemForOperationTentative",
    "Decline": "ErrorInvalidItemForOperationDeclineItem",
}


def create_calendar(
    store: MailStore,
    caller: Caller,
    target: FolderInfo | None,
    new: NewItem,
    fields: dict[str, Any],
    invitations: str | None,
) -> Item:
    """CreateItem of a CalendarItem: the item in the calendar, and the invitations asked for."""
    if invitations is None:
        raise EwsFault(
            "ErrorSendMeetingInvitationsRequired",
            "The SendMeetingInvitations attribute is required for calendar items.",
        )
    info = target or store.folder(own_mailbox(store, caller), "calendar")
    if info.name != "calendar":
        raise EwsFault("ErrorInvalidRequest", "Calendar items belong in a calendar folder.")
    if "Start" not in fields or "End" not in fields:
        raise EwsFault("ErrorInvalidRequest", "A calendar item needs Start and End.")
    if fields["End"] < fields["Start"]:
        raise EwsFault(
            "ErrorCalendarEndDateIsEarlierThanStartDate", "EndDate is earlier than StartDate."
        )
    organizer = Address(email=info.mailbox, name=store.mailbox_name(info.mailbox))
    attendees: tuple[Attendee, ...] = fields.get("RequiredAttendees", ()) + fields.get(
        "OptionalAttendees", ()
    )
    start_zone = fields.get("StartTimeZoneId", "")
    cal = CalendarFields(
        start=fields["Start"],
        end=fields["End"],
        organizer=organizer,
        attendees=tuple(replace(a, response="Unknown", response_time=None) for a in attendees),
        free_busy=fields.get("LegacyFreeBusyStatus") or "Busy",
        location=fields.get("Location", ""),
        uid=fields.get("UID")
        or "040000008200E00074C5B7101A82E00800000000" + uuid.uuid4().hex.upper(),
        is_all_day=bool(fields.get("IsAllDayEvent", False)),
        my_response="Organizer",
        start_zone=start_zone,
        end_zone=fields.get("EndTimeZoneId", start_zone),
        # Without them, the mailbox's defaults: a reminder, 15 minutes before.
        reminder_set=fields.get("ReminderIsSet", True),
        reminder_minutes=fields.get("ReminderMinutesBeforeStart", 15),
    )
    item = store.create(
        info.mailbox,
        "calendar",
        replace(new, item_class="IPM.Appointment", calendar=cal, from_=organizer, is_read=True),
    )
    if attendees and invitations in ("SendOnlyToAll", "SendToAllAndSaveCopy"):
        check_send_as(store, caller, info.mailbox)
        item = store.send_meeting(item.id, save_copy=invitations == "SendToAllAndSaveCopy")
    return item


def meeting_response(
    store: MailStore,
    caller: Caller,
    el: Element,
    disposition: str | None,
    target: FolderInfo | None,
    out: Element,
) -> None:
    """CreateItem of AcceptItem, TentativelyAcceptItem, DeclineItem or CancelCalendarItem;
    a SaveOnly answer goes to ``target`` (SavedItemFolderId), else to Drafts."""
    kind = etree.QName(el).localname
    if disposition is None:
        raise EwsFault(
            "ErrorMessageDispositionRequired",
            "MessageDisposition is required for meeting responses and cancellations.",
        )
    ref = el.find(t("ReferenceItemId"))
    if ref is None:
        raise EwsFault(
            "ErrorMissingInformationReferenceItemId", "ReferenceItemId must be specified."
        )
    item = item_ref(store, ref, caller)
    check_send_as(store, caller, item.mailbox)
    body_el = el.find(t("NewBodyContent"))
    if body_el is None:
        body_el = el.find(t("Body"))
    comment = (body_el.text or "") if body_el is not None else ""
    body_type = body_el.get("BodyType", "Text") if body_el is not None else "Text"
    if el.find(t("ProposedStart")) is not None or el.find(t("ProposedEnd")) is not None:
        raise EwsFault(
            "ErrorInvalidRequest", "The sandbox does not model new time proposals (ProposedStart)."
        )
    send = disposition != "SaveOnly"
    save_copy = disposition == "SendAndSaveCopy"
    items_out = sub(out, m("Items"))
    try:
        if kind == "CancelCalendarItem":
            if not send:
                raise EwsFault(
                    "ErrorInvalidRequest",
                    "The sandbox sends cancellations; SaveOnly is not modelled.",
                )
            done = meetings.cancel(store, item.id, comment, True, save_copy, "kept", body_type)
            render_item_id_only(items_out, done)
            return
        answer = ANSWERS[kind]
        own, request, draft = meetings.respond(
            store,
            item.id,
            answer,
            comment,
            send=send,
            save_copy=save_copy,
            body_type=body_type,
            draft=not send,
            draft_folder=_draft_folder(item, target),
        )
    except MeetingError as exc:
        raise _fault(exc, kind) from exc
    render_item_id_only(items_out, own)
    if request is not None:
        render_item_id_only(items_out, request)
    if draft is not None:
        render_item_id_only(items_out, draft)


def _draft_folder(item: Item, target: FolderInfo | None) -> str:
    if target is None:
        return "drafts"
    if target.mailbox != item.mailbox or target.name in ("root", "msgfolderroot", "calendar"):
        raise EwsFault("ErrorInvalidRequest", "A meeting answer is saved in its own mailbox.")
    return target.name


def _fault(exc: MeetingError, kind: str) -> EwsFault:
    """The response code Exchange gives for a refused meeting action (ResponseCode reference)."""
    if kind == "CancelCalendarItem":
        if exc.kind == "not_organizer":
            return EwsFault("ErrorCalendarIsNotOrganizer", exc.text)
        return EwsFault("ErrorInvalidItemForOperationCancelItem", exc.text)
    answer = ANSWERS[kind]
    suffix = _SUFFIX[answer]
    if exc.kind == "organizer":
        return EwsFault(
            f"ErrorCalendarIsOrganizerFor{suffix}",
            f"You can't {_VERB[answer]} this meeting because you're the meeting organizer.",
        )
    if exc.kind == "cancelled":
        return EwsFault(f"ErrorCalendarIsCancelledFor{suffix}", "The meeting has been canceled.")
    if exc.kind == "out_of_date":
        return EwsFault(
            "ErrorCalendarMeetingRequestIsOutOfDate",
            "The meeting request is out of date. The calendar couldn't be updated.",
        )
    return EwsFault(_INVALID_ITEM[answer], exc.text)


def delete_calendar_item(
    store: MailStore, item: Item, delete_type: str, cancellations: str | None
) -> None:
    """DeleteItem of a calendar item: an organizer's meeting may be cancelled for everyone."""
    if cancellations is None:
        raise EwsFault(
            "ErrorSendMeetingCancellationsRequired",
            "The SendMeetingCancellations attribute is required for calendar items.",
        )
    if (
        cancellations in ("SendOnlyToAll", "SendToAllAndSaveCopy")
        and meetings.is_organizer(item)
        and meetings.is_meeting(item)
        and item.folder == "calendar"
    ):
        done = meetings.cancel(store, item.id, "", True, cancellations == "SendToAllAndSaveCopy")
        if delete_type != "MoveToDeletedItems":
            store.delete(done.id)
        return
    if delete_type == "MoveToDeletedItems" and item.folder != "deleteditems":
        store.move(item.id, "deleteditems")
    else:
        store.delete(item.id)


def after_update(store: MailStore, before: Item, after: Item, mode: str | None) -> Item:
    """UpdateItem changed a calendar item: the organizer's update goes out when asked for."""
    send = mode not in (None, "SendToNone")
    if send and before.folder == "deleteditems":
        raise EwsFault(
            "ErrorCalendarCannotUpdateDeletedItem",
            "A calendar item in Deleted Items cannot be updated with meeting updates.",
        )
    return meetings.after_organizer_change(
        store, before, after, send, save_copy=bool(mode and mode.endswith("SaveCopy"))
    )
