"""Graph calendars in the sandbox (a test double): events, calendarView and getSchedule.

An event with attendees sends them meeting requests (tentative in their calendars); a
``transactionId`` makes the POST idempotent, as Graph documents.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from exchange_sandbox.graph import render
from exchange_sandbox.graph.actions import parameters
from exchange_sandbox.graph.errors import Response, bad_request, not_found
from exchange_sandbox.graph.mime import new_message_id
from exchange_sandbox.graph.odata import next_link, top_skip
from exchange_sandbox.graph.request import Request, applied, json_response
from exchange_sandbox.store import (
    Address,
    Attendee,
    CalendarFields,
    ExtendedValue,
    NewItem,
    PropertyKey,
    read_property,
)

if TYPE_CHECKING:
    from exchange_sandbox.graph.app import GraphApp

# Where the sandbox keeps an event's transactionId (Graph's idempotency key for POST events).
TRANSACTION_ID = PropertyKey(
    property_type="String",
    property_set_id="6ed8da90-450b-101b-98da-00aa003f1305",
    property_name="topcontact-sandbox-transactionId",
)


def create_event(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    p = req.json()
    transaction = p.get("transactionId")
    tz_name = req.prefer.get("outlook.timezone") or str(
        (p.get("start") or {}).get("timeZone") or "UTC"
    )
    if isinstance(transaction, str) and transaction:
        for existing in app.store.items(mailbox, "calendar"):
            if read_property(existing, TRANSACTION_ID) == transaction:
                body = render.event_json(
                    existing,
                    app.ids.graph_id(existing, req.immutable),
                    tz_name,
                    "https://outlook.office365.com",
                )
                body["transactionId"] = transaction
                return json_response(201, body, applied(req))
    start = render.parse_date_time_time_zone(p.get("start"), "start")
    end = render.parse_date_time_time_zone(p.get("end"), "end")
    if end < start:
        raise bad_request("The end of the event must be after its start.", "ErrorInvalidRequest")
    attendees = []
    for entry in p.get("attendees") or []:
        address = render.parse_recipients([entry], "attendees")[0]
        kind = str(entry.get("type", "required")).lower()
        attendees.append(Attendee(address=address, required=kind != "optional"))
    body_obj = p.get("body") or {}
    show = str(p.get("showAs", "busy")).lower()
    location = p.get("location") or {}
    me = Address(mailbox, app.display_name(mailbox))
    cal = CalendarFields(
        start=start,
        end=end,
        organizer=me,
        attendees=tuple(attendees),
        free_busy=render.SHOW_AS_IN.get(show, "Busy"),
        location=str(location.get("displayName", "")) if isinstance(location, dict) else "",
        uid=uuid.uuid4().hex.upper(),
        is_all_day=bool(p.get("isAllDay", False)),
    )
    extended: dict[str, tuple[PropertyKey, ExtendedValue]] = {}
    if isinstance(transaction, str) and transaction:
        extended[TRANSACTION_ID.canonical] = (TRANSACTION_ID, transaction)
    item = app.store.create(
        mailbox,
        "calendar",
        NewItem(
            item_class="IPM.Appointment",
            subject=str(p.get("subject", "")),
            from_=me,
            to=tuple(a.address for a in attendees if a.required),
            cc=tuple(a.address for a in attendees if not a.required),
            body=str(body_obj.get("content", "")) if isinstance(body_obj, dict) else "",
            body_type="HTML"
            if isinstance(body_obj, dict) and str(body_obj.get("contentType", "")).lower() == "html"
            else "Text",
            is_read=True,
            calendar=cal,
            extended=extended,
        ),
    )
    if attendees:
        # Transport gives the invitation one Internet message id, as any message it sends;
        # the store's meeting delivery leaves it empty, so it is stamped here.
        message_id = new_message_id()
        for invitation in app.store.send_meeting(item.id):
            if not invitation.message_id:
                app.store.update(invitation.id, lambda it: replace(it, message_id=message_id))
    body = render.event_json(
        item, app.ids.graph_id(item, req.immutable), tz_name, "https://outlook.office365.com"
    )
    body["transactionId"] = transaction if isinstance(transaction, str) else None
    body["@odata.context"] = f"{req.base}/v1.0/$metadata#users('{quote(mailbox)}')/events/$entity"
    return json_response(201, body, applied(req))


def calendar_view(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    start_text = req.query.get("startdatetime")
    end_text = req.query.get("enddatetime")
    if not start_text or not end_text:
        raise bad_request(
            "This request requires a time window specified by the query string parameters "
            "StartDateTime and EndDateTime.",
            "ErrorInvalidParameter",
        )
    start, end = render.parse_datetime(start_text), render.parse_datetime(end_text)
    tz_name = req.prefer.get("outlook.timezone", "UTC")
    render.zone(tz_name)
    items = app.store.calendar_between(mailbox, start, end)
    top, skip = top_skip(req, app.config.default_page_size)
    body: dict[str, Any] = {
        "@odata.context": f"{req.base}/v1.0/$metadata#users('{quote(mailbox)}')/calendarView",
        "value": [
            render.event_json(
                it,
                app.ids.graph_id(it, req.immutable),
                tz_name,
                "https://outlook.office365.com",
            )
            for it in items[skip : skip + top]
        ],
    }
    if skip + top < len(items):
        body["@odata.nextLink"] = next_link(req, {"$skip": str(skip + top)})
    return json_response(200, body, applied(req))


def get_schedule(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    p = parameters(req, "getSchedule")
    schedules = p.get("Schedules")
    if not isinstance(schedules, list) or not schedules:
        raise bad_request("The 'Schedules' parameter is required.", "ErrorInvalidParameter")
    start = render.parse_date_time_time_zone(p.get("StartTime"), "StartTime")
    end = render.parse_date_time_time_zone(p.get("EndTime"), "EndTime")
    interval = p.get("AvailabilityViewInterval", 30)
    if not isinstance(interval, int) or not 5 <= interval <= 1440:
        raise bad_request(
            "availabilityViewInterval must be between 5 and 1440 minutes.",
            "ErrorInvalidParameter",
        )
    tz_name = req.prefer.get("outlook.timezone", "UTC")
    render.zone(tz_name)
    result: list[dict[str, Any]] = []
    for schedule in schedules:
        address = str(schedule)
        if not app.store.has_mailbox(address):
            result.append(
                {
                    "scheduleId": address,
                    "availabilityView": "",
                    "scheduleItems": [],
                    "error": {
                        "message": f"The recipient '{address}' could not be found.",
                        "responseCode": "ErrorMailRecipientNotFound",
                    },
                }
            )
            continue
        items = [
            it for it in app.store.calendar_between(address, start, end) if it.calendar is not None
        ]
        view = []
        for slot_start, slot_end in render.slots(start, end, interval):
            busy = [
                it.calendar.free_busy
                for it in items
                if it.calendar is not None
                and it.calendar.start < slot_end
                and it.calendar.end > slot_start
            ]
            top = max(busy, key=lambda s: render.AVAILABILITY_RANK.get(s, 3), default="Free")
            view.append(str(render.AVAILABILITY_DIGIT.get(top, 2)))
        result.append(
            {
                "scheduleId": address,
                "availabilityView": "".join(view),
                "scheduleItems": [
                    {
                        "isPrivate": False,
                        "status": render.show_as(it.calendar.free_busy),
                        "subject": it.subject,
                        "location": it.calendar.location,
                        "start": render.date_time_time_zone(it.calendar.start, tz_name),
                        "end": render.date_time_time_zone(it.calendar.end, tz_name),
                    }
                    for it in items
                    if it.calendar is not None and it.calendar.free_busy != "Free"
                ],
                "workingHours": {
                    "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                    "startTime": "08:00:00.0000000",
                    "endTime": "17:00:00.0000000",
                    "timeZone": {"name": app.config.working_hours_time_zone},
                },
            }
        )
    return json_response(
        200,
        {
            "@odata.context": f"{req.base}/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)",
            "value": result,
        },
    )


def delete_event(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    item = app.item(mailbox, m.group("msg"))
    if item.calendar is None:
        raise not_found()
    # As Graph documents: the event moves to Deleted Items (no attendees here: no cancellation).
    app.ids.carry(item, app.store.move(item.id, "deleteditems"))
    return 204, {}, b""
