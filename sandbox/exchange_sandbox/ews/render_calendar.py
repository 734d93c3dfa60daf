"""Calendar items and meeting messages as EWS XML (sandbox, a test double): their properties.

Calendar items (CalendarItemType) and meeting messages (MeetingRequest, MeetingResponse,
MeetingCancellation, all MeetingMessageType) as Exchange renders them: the owner's answer
(MyResponseType), each attendee's answer and its time (ResponseType, LastResponseTime), the
version (AppointmentSequenceNumber) and state flags (AppointmentState: 1 meeting, 2 received,
4 cancelled), the zones the item was made in (StartTimeZone, EndTimeZone), and on a meeting
message the item it belongs to in the same mailbox (AssociatedCalendarItemId) and whether a
newer version superseded it (IsOutOfDate).
"""

from __future__ import annotations

from datetime import timedelta

from exchange_sandbox.ews import render_parts as part
from exchange_sandbox.ews.kinds import item_kind
from exchange_sandbox.ews.render_parts import RenderContext, Renderer, mailbox_el
from exchange_sandbox.ews.versions import at_least
from exchange_sandbox.ews.xml import Element, boolean, iso, sub, t
from exchange_sandbox.ews.zones import render_zone
from exchange_sandbox.store import Item, PropertyKey, read_property
from exchange_sandbox.timezones import ZONES

PID_TAG_PROCESSED = PropertyKey(property_type="Boolean", property_tag=0x7D01)
"""PidTagProcessed, behind a meeting message's HasBeenProcessed."""


def is_meeting(it: Item) -> bool:
    return it.calendar is not None and bool(it.calendar.attendees)


def is_organizer(it: Item) -> bool:
    return it.calendar is not None and it.calendar.organizer.email.lower() == it.mailbox


def my_response(it: Item) -> str:
    """The owner's answer (MyResponseType): Organizer for their own items."""
    cal = it.calendar
    if cal is None:
        return "Unknown"
    if is_organizer(it):
        return "Organizer"
    return cal.my_response or "NoResponseReceived"


def _render_organizer(parent: Element, item: Item, ctx: RenderContext) -> None:
    if item.calendar is not None:
        org = item.calendar.organizer
        mailbox_el(sub(parent, t("Organizer")), org, mailbox_type=ctx.mailbox_type(org.email))


def _attendees(tag: str, required: bool) -> Renderer:
    def render(parent: Element, item: Item, ctx: RenderContext) -> None:
        if item.calendar is None:
            return
        chosen = [a for a in item.calendar.attendees if a.required == required]
        if chosen:
            box = sub(parent, t(tag))
            for a in chosen:
                att = sub(box, t("Attendee"))
                mailbox_el(att, a.address, mailbox_type=ctx.mailbox_type(a.address.email))
                sub(att, t("ResponseType"), a.response)
                if a.response_time is not None:
                    sub(att, t("LastResponseTime"), iso(a.response_time))

    return render


def response_objects(it: Item, version: str = "Exchange2016") -> tuple[str, ...]:
    """The actions Exchange offers on an item (ResponseObjects), in Exchange's order."""
    kind = item_kind(it)
    reply = ("ReplyToItem", "ReplyAllToItem", "ForwardItem")
    propose = ("ProposeNewTime",) if at_least(version, "Exchange2013") else ()
    if it.is_draft:
        return ()
    cancelled = it.calendar is not None and it.calendar.is_cancelled
    if kind == "MeetingRequest":
        return ("AcceptItem", "TentativelyAcceptItem", "DeclineItem", *propose, *reply)
    if kind == "MeetingCancellation":
        return ("RemoveItem", *reply)
    if kind == "CalendarItem":
        if is_organizer(it):
            return ("CancelCalendarItem", "ForwardItem") if is_meeting(it) else ("ForwardItem",)
        if cancelled:
            return ("RemoveItem", *reply)
        return ("AcceptItem", "TentativelyAcceptItem", "DeclineItem", *propose, *reply)
    return reply


def _render_response_objects(parent: Element, item: Item, ctx: RenderContext) -> None:
    names = response_objects(item, ctx.version)
    if names:
        box = sub(parent, t("ResponseObjects"))
        for name in names:
            sub(box, t(name))


def _associated(item: Item, ctx: RenderContext) -> Item | None:
    cal = item.calendar
    return ctx.calendar_item(item.mailbox, cal.uid) if cal is not None else None


def _render_associated(parent: Element, item: Item, ctx: RenderContext) -> None:
    own = _associated(item, ctx)
    if own is not None:
        sub(parent, t("AssociatedCalendarItemId"), Id=own.id, ChangeKey=own.change_key)


def _is_out_of_date(item: Item, ctx: RenderContext) -> bool:
    own = _associated(item, ctx)
    cal = item.calendar
    return (
        own is not None
        and own.calendar is not None
        and cal is not None
        and own.calendar.sequence > cal.sequence
    )


def _has_been_processed(it: Item) -> bool:
    value = read_property(it, PID_TAG_PROCESSED)
    if isinstance(value, str):
        return boolean(value)
    # The calendar attendant processes every meeting message it delivers.
    return it.folder != "drafts" and not it.is_draft and it.folder != "sentitems"


def _message_response(it: Item) -> str:
    """A meeting message's ResponseType: the answer a response carries; on a request or a
    cancellation the recipient's own answer so far."""
    cal = it.calendar
    if cal is None:
        return "Unknown"
    if item_kind(it) == "MeetingResponse":
        return cal.my_response or "Unknown"
    if cal.organizer.email.lower() == it.mailbox:
        return "Organizer"
    return cal.my_response or "NoResponseReceived"


def _appointment_state(it: Item) -> str | None:
    cal = it.calendar
    if cal is None:
        return None
    state = (1 if cal.attendees else 0) | (0 if is_organizer(it) else 2)
    if not cal.attendees:
        state = 0
    return str(state | (4 if cal.is_cancelled else 0))


def _duration(it: Item) -> str | None:
    cal = it.calendar
    if cal is None:
        return None
    seconds = int((cal.end - cal.start) / timedelta(seconds=1))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = "P" + (f"{days}D" if days else "")
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    clock += f"{secs}S" if secs else ""
    return text + ("T" + clock if clock else ("" if days else "T0S"))


def _zone_of(it: Item, end: bool = False) -> str:
    cal = it.calendar
    if cal is None:
        return "UTC"
    name = (cal.end_zone or cal.start_zone) if end else cal.start_zone
    return name if name in ZONES else "UTC"


def _render_zone(tag: str, end: bool) -> Renderer:
    def render(parent: Element, item: Item, ctx: RenderContext) -> None:
        if item.calendar is not None:
            render_zone(parent, ZONES[_zone_of(item, end)], tag)

    return render


RENDERERS: dict[str, Renderer] = {
    "ResponseObjects": _render_response_objects,
    "UID": part.text("UID", part.cal(lambda c: c.uid)),
    "DateTimeStamp": part.date("DateTimeStamp", lambda it: it.date_sent or it.date_created),
    "Start": part.date("Start", lambda it: it.calendar.start if it.calendar else None),
    "End": part.date("End", lambda it: it.calendar.end if it.calendar else None),
    "IsAllDayEvent": part.text(
        "IsAllDayEvent", part.cal(lambda c: "true" if c.is_all_day else "false")
    ),
    "LegacyFreeBusyStatus": part.text("LegacyFreeBusyStatus", part.cal(lambda c: c.free_busy)),
    "Location": part.text("Location", part.cal(lambda c: c.location)),
    "IsMeeting": part.boolean("IsMeeting", is_meeting),
    "IsCancelled": part.text(
        "IsCancelled", part.cal(lambda c: "true" if c.is_cancelled else "false")
    ),
    "IsRecurring": part.text("IsRecurring", part.cal(lambda c: "false")),
    "MeetingRequestWasSent": part.text(
        "MeetingRequestWasSent",
        part.cal(lambda c: "true" if c.meeting_request_sent else "false"),
    ),
    "IsResponseRequested": part.text(
        "IsResponseRequested", part.cal(lambda c: "true" if c.response_requested else "false")
    ),
    "CalendarItemType": part.text("CalendarItemType", part.cal(lambda c: "Single")),
    "MyResponseType": part.text(
        "MyResponseType", lambda it: my_response(it) if it.calendar else None
    ),
    "Organizer": _render_organizer,
    "RequiredAttendees": _attendees("RequiredAttendees", True),
    "OptionalAttendees": _attendees("OptionalAttendees", False),
    "Duration": part.text("Duration", _duration),
    "TimeZone": part.text("TimeZone", lambda it: ZONES[_zone_of(it)].name if it.calendar else None),
    "AppointmentReplyTime": part.date(
        "AppointmentReplyTime", lambda it: it.calendar.reply_time if it.calendar else None
    ),
    "AppointmentSequenceNumber": part.text(
        "AppointmentSequenceNumber", part.cal(lambda c: str(c.sequence))
    ),
    "AppointmentState": part.text("AppointmentState", _appointment_state),
    "StartTimeZone": _render_zone("StartTimeZone", end=False),
    "EndTimeZone": _render_zone("EndTimeZone", end=True),
    "IsOrganizer": part.boolean("IsOrganizer", is_organizer),
    "AssociatedCalendarItemId": _render_associated,
    "IsDelegated": part.boolean("IsDelegated", lambda it: False),
    "IsOutOfDate": lambda parent, item, ctx: part.boolean(
        "IsOutOfDate", lambda it: _is_out_of_date(it, ctx)
    )(parent, item, ctx),
    "HasBeenProcessed": part.boolean("HasBeenProcessed", _has_been_processed),
    "ResponseType": part.text("ResponseType", _message_response),
    "MeetingRequestType": part.text(
        "MeetingRequestType", part.cal(lambda c: c.request_type or "NewMeetingRequest")
    ),
    "IntendedFreeBusyStatus": part.text(
        "IntendedFreeBusyStatus", part.cal(lambda c: c.intended_free_busy or "Busy")
    ),
}
"""The renderers of calendar and meeting properties, by element name."""
