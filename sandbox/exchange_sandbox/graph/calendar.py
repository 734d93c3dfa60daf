"""Graph events in the sandbox (a test double): create, read, list, update, delete, calendarView.

- ``POST /users/{u}/events`` (or ``/calendar/events``): the event in the calendar; with
  attendees a meeting request goes to each through transport (``store.meetings``). A
  ``transactionId`` makes the POST idempotent per organizer mailbox: a POST repeating one
  answers the event the first made ("transactionId ... for the server to avoid redundant POST
  operations in case of client retries to create the same event", event resource).
- ``PATCH`` of the organizer's meeting sends the attendees an update (a new time asks their
  answer again); ``If-Match`` with a stale etag is 412.
- ``DELETE`` of the organizer's meeting sends a cancellation, as Graph documents ("deleting the
  event on the organizer's calendar sends a cancellation message to the meeting attendees");
  an attendee's delete removes their copy without an answer. Both move it to Deleted Items.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from exchange_sandbox.graph import events, render
from exchange_sandbox.graph.errors import Response, bad_request, not_found, stale_change_key
from exchange_sandbox.graph.odata import next_link, parse_expand, parse_select, top_skip
from exchange_sandbox.graph.patch import extended_patch
from exchange_sandbox.graph.request import Request, applied, json_response
from exchange_sandbox.store import (
    Address,
    Attendee,
    CalendarFields,
    ExtendedValue,
    Item,
    NewItem,
    PropertyKey,
    meetings,
    read_property,
)

if TYPE_CHECKING:
    from exchange_sandbox.graph.app import GraphApp

WEB = events.WEB
TRANSACTION_ID = events.TRANSACTION_ID


def _tz(req: Request) -> str:
    tz_name = req.prefer.get("outlook.timezone", "UTC")
    render.zone(tz_name)
    return tz_name


def _event(
    app: GraphApp, req: Request, item: Item, tz_name: str, *, shaped: bool = False
) -> dict[str, Any]:
    """The event of an item; ``shaped``: limited by the request's ``$select`` and with the
    extended properties its ``$expand`` names (reads; a POST or PATCH answers the whole event)."""
    body = events.event_json(item, app.ids.graph_id(item, req.immutable), tz_name, WEB)
    if not shaped:
        return body
    select = parse_select(req.query.get("select"), "event")
    expand = parse_expand(req.query.get("expand"))
    if select is not None:
        body = {
            k: v for k, v in body.items() if k.startswith("@") or k == "id" or k.lower() in select
        }
    if expand is not None:
        found = render.extended_json(item, expand, hidden=(TRANSACTION_ID,))
        if found:
            body["singleValueExtendedProperties"] = found
    return body


def _properties(value: Any) -> list[tuple[PropertyKey, str]]:
    """The ``singleValueExtendedProperties`` of an event body, checked before anything is made."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_request("singleValueExtendedProperties must be a collection.", "RequestBodyRead")
    found = []
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise bad_request("Each extended property needs an id and a value.", "RequestBodyRead")
        key = render.parse_property_id(entry["id"])
        found.append((key, render.check_property_value(key, entry.get("value"))))
    return found


def create_event(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    p = req.json()
    transaction = p.get("transactionId")
    tz_name = req.prefer.get("outlook.timezone") or str(
        (p.get("start") or {}).get("timeZone") or "UTC"
    )
    render.zone(tz_name)
    if isinstance(transaction, str) and transaction:
        for existing in app.store.items(mailbox, "calendar"):
            if read_property(existing, TRANSACTION_ID) == transaction:
                return json_response(201, _event(app, req, existing, tz_name), applied(req))
    start, end = events.parse_times(p)
    properties = _properties(p.get("singleValueExtendedProperties"))
    attendees = events.parse_attendees(p.get("attendees"))
    body_obj = p.get("body") or {}
    location = p.get("location") or {}
    me = Address(mailbox, app.display_name(mailbox))
    start_zone = events.zone_name(p.get("start"))
    reminder_set, reminder_minutes = events.reminder_in(p)
    cal = CalendarFields(
        start=start,
        end=end,
        organizer=me,
        attendees=attendees,
        free_busy=events.show_as_in(p.get("showAs")),
        location=str(location.get("displayName", "")) if isinstance(location, dict) else "",
        uid="040000008200E00074C5B7101A82E00800000000" + uuid.uuid4().hex.upper(),
        is_all_day=bool(p.get("isAllDay", False)),
        my_response="Organizer",
        start_zone=start_zone,
        end_zone=events.zone_name(p.get("end")) or start_zone,
        response_requested=bool(p.get("responseRequested", True)),
        reminder_set=reminder_set,
        reminder_minutes=reminder_minutes,
    )
    extended: dict[str, tuple[PropertyKey, ExtendedValue]] = {
        key.canonical: (key, value) for key, value in properties
    }
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
            body_type=_body_type(body_obj),
            is_read=True,
            calendar=cal,
            extended=extended,
            categories=tuple(str(c) for c in p.get("categories") or ()),
            importance=str(p.get("importance", "normal")).capitalize(),
        ),
    )
    if attendees:
        item = app.store.send_meeting(item.id, copy_headers="none")
    body = _event(app, req, item, tz_name)
    body["@odata.context"] = f"{req.base}/v1.0/$metadata#users('{quote(mailbox)}')/events/$entity"
    return json_response(201, body, applied(req))


def _body_type(body_obj: Any) -> str:
    kind = str(body_obj.get("contentType", "")).lower() if isinstance(body_obj, dict) else ""
    return "HTML" if kind == "html" else "Text"


def _calendar_item(app: GraphApp, mailbox: str, m: re.Match[str]) -> Item:
    item = app.item(mailbox, m.group("msg"))
    if item.calendar is None or not item.item_class.startswith("IPM.Appointment"):
        raise not_found()
    return item


def get_event(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    item = _calendar_item(app, mailbox, m)
    body = _event(app, req, item, _tz(req), shaped=True)
    body["@odata.context"] = f"{req.base}/v1.0/$metadata#users('{quote(mailbox)}')/events/$entity"
    return json_response(200, body, applied(req))


def list_events(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    tz_name = _tz(req)
    found = [(it.calendar.start, it) for it in app.store.items(mailbox, "calendar") if it.calendar]
    items = [it for _, it in sorted(found, key=lambda pair: pair[0])]
    return _page(app, req, mailbox, items, tz_name, "events")


def _page(
    app: GraphApp, req: Request, mailbox: str, items: list[Item], tz_name: str, what: str
) -> Response:
    top, skip = top_skip(req, app.config.default_page_size)
    body: dict[str, Any] = {
        "@odata.context": f"{req.base}/v1.0/$metadata#users('{quote(mailbox)}')/{what}",
        "value": [_event(app, req, it, tz_name, shaped=True) for it in items[skip : skip + top]],
    }
    if skip + top < len(items):
        body["@odata.nextLink"] = next_link(req, {"$skip": str(skip + top)})
    return json_response(200, body, applied(req))


def patch_event(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    before = _calendar_item(app, mailbox, m)
    etag = req.headers.get("if-match")
    if etag and etag.strip() not in ("*", f'W/"{before.change_key}"', before.change_key):
        raise stale_change_key()
    p = req.json()
    _properties(p.get("singleValueExtendedProperties"))  # 400 before anything changes
    old = before.calendar
    assert old is not None  # _calendar_item checked it
    start, end = events.parse_times(p, (old.start, old.end))
    changes: dict[str, Any] = {"start": start, "end": end}
    if "start" in p:
        changes["start_zone"] = events.zone_name(p["start"])
    if "end" in p:
        changes["end_zone"] = events.zone_name(p["end"])
    if "location" in p:
        location = p.get("location") or {}
        changes["location"] = (
            str(location.get("displayName", "")) if isinstance(location, dict) else ""
        )
    if "showAs" in p:
        changes["free_busy"] = events.show_as_in(p["showAs"])
    if "isAllDay" in p:
        changes["is_all_day"] = bool(p["isAllDay"])
    if "responseRequested" in p:
        changes["response_requested"] = bool(p["responseRequested"])
    if "isReminderOn" in p or "reminderMinutesBeforeStart" in p:
        on, minutes = events.reminder_in(p, (old.reminder_set, old.reminder_minutes))
        changes["reminder_set"], changes["reminder_minutes"] = on, minutes
    if "attendees" in p:
        if not meetings.is_organizer(before):
            raise bad_request("Only the organizer can change the attendees.", "ErrorInvalidRequest")
        changes["attendees"] = _keep_answers(events.parse_attendees(p["attendees"]), old)

    def patched(it: Item) -> Item:
        cal = replace(it.calendar or old, **changes)
        new = replace(it, calendar=cal)
        if "subject" in p:
            new = replace(new, subject=str(p["subject"] or ""))
        if "body" in p and isinstance(p["body"], dict):
            new = replace(
                new, body=str(p["body"].get("content", "")), body_type=_body_type(p["body"])
            )
        if "categories" in p:
            new = replace(new, categories=tuple(str(c) for c in p["categories"] or ()))
        if "importance" in p:
            new = replace(new, importance=str(p["importance"]).capitalize())
        if "singleValueExtendedProperties" in p:
            new = extended_patch(new, p["singleValueExtendedProperties"])
        return new

    after = app.store.update(before.id, patched)
    if meetings.is_organizer(after) and not after.calendar.is_cancelled:  # type: ignore[union-attr]  # checked above
        after = meetings.after_organizer_change(
            app.store, before, after, send=True, copy_headers="none"
        )
    tz_name = req.prefer.get("outlook.timezone") or str(
        (p.get("start") or {}).get("timeZone") or "UTC"
    )
    render.zone(tz_name)
    return json_response(200, _event(app, req, after, tz_name), applied(req))


def _keep_answers(attendees: tuple[Attendee, ...], old: CalendarFields) -> tuple[Attendee, ...]:
    known = {a.address.email.lower(): a for a in old.attendees}
    return tuple(
        replace(
            a,
            response=known[a.address.email.lower()].response,
            response_time=known[a.address.email.lower()].response_time,
        )
        if a.address.email.lower() in known
        else a
        for a in attendees
    )


def delete_event(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    item = _calendar_item(app, mailbox, m)
    cal = item.calendar
    if (
        meetings.is_organizer(item)
        and meetings.is_meeting(item)
        and cal is not None
        and not cal.is_cancelled
        and item.folder == "calendar"
    ):
        moved = meetings.cancel(app.store, item.id, "", True, True, "none")
    elif item.folder == "deleteditems":
        app.store.delete(item.id)
        return 204, {}, b""
    else:
        moved = app.store.move(item.id, "deleteditems")
    app.ids.carry(item, moved)
    return 204, {}, b""


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
    items = app.store.calendar_between(mailbox, start, end)
    return _page(app, req, mailbox, items, _tz(req), "calendarView")
