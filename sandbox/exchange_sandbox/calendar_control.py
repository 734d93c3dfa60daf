"""Calendar control endpoints of the sandbox (a test double): what a colleague does in Outlook.

Tests and demos use them to put the world in a state the product must cope with; nothing here
is an Exchange protocol. All take JSON and answer JSON (see ``control``):

- ``POST /_sandbox/calendar {"mailbox", "subject", "start", "end", "free_busy", "all_day",
  "location", "body", "time_zone"}``: an appointment the colleague made themselves (no
  attendees). ``free_busy`` is Free, Tentative, Busy (default), OOF, WorkingElsewhere or
  NoData. Times are ISO 8601; without an offset they are wall-clock times of ``time_zone``
  (a Windows id or IANA name; default: the mailbox's working-hours zone). ``all_day``: whole
  days from midnight to midnight in that zone, ``start`` and ``end`` dates, ``end``
  exclusive (default: the day after ``start``) — a colleague on leave is
  ``{"free_busy": "OOF", "all_day": true}``.
- ``POST /_sandbox/calendar/respond {"mailbox", "event", "response", "comment",
  "send_response"}``: the colleague answers a meeting (``accept``, ``tentative``,
  ``decline``), from the request in their Inbox when it is there (Outlook then moves it to
  Deleted Items), else from the calendar item; ``send_response`` (default true) sends the
  organizer the answer.
- ``POST /_sandbox/calendar/move {"mailbox", "event", "start", "end", "time_zone"}``: the
  colleague drags the meeting to another time in their own calendar; the organizer is not told.
- ``POST /_sandbox/calendar/delete {"mailbox", "event"}``: the colleague deletes the meeting
  from their calendar without answering (to Deleted Items); the organizer is not told.
- ``POST /_sandbox/calendar/working-hours {"mailbox", "days", "start", "end", "time_zone"}``:
  the colleague sets their working hours in Outlook's options (one time range for the listed
  work days, as Exchange keeps them; keys left out keep their value; ``{"mailbox", "reset":
  true}`` goes back to the configuration's). Both fronts answer them from then on (EWS
  GetUserAvailability, Graph getSchedule and mailboxSettings); they are kept in the mailbox.

``event`` names the meeting in that mailbox: an item id (of the calendar item or the meeting
request), the meeting's iCalUId (UID), the organizer's Graph ``transactionId``, or the subject
(exactly, case-insensitive; 409 when several meetings have it). Answers: 404 for an unknown
mailbox or meeting, 409 with ``kind`` (organizer, cancelled, out_of_date, not_meeting) when
the meeting does not allow the action, 400 for a bad value.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from exchange_sandbox.schedule import (
    BUSY_TYPES,
    WorkingHoursError,
    mailbox_hours,
    set_mailbox_hours,
)
from exchange_sandbox.store import (
    Address,
    CalendarFields,
    Item,
    ItemNotFound,
    MailStore,
    MeetingError,
    NewItem,
    meetings,
    read_property,
)
from exchange_sandbox.timezones import windows_rule

if TYPE_CHECKING:
    from exchange_sandbox.config import SandboxConfig

Answer = tuple[int, Any]
_ANSWERS = {"accept": "Accept", "tentative": "Tentative", "decline": "Decline"}


class Refused(Exception):
    """A control request that cannot be carried out: its HTTP status and JSON body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("error", ""))
        self.status = status
        self.body = body


def calendar_control(
    store: MailStore, config: SandboxConfig, verb: str, rest: list[str], body: bytes
) -> Answer:
    """Answer ``/_sandbox/calendar[/respond|/move|/delete]``; ``rest`` follows ``calendar``."""
    if verb != "POST" or rest not in ([], ["respond"], ["move"], ["delete"], ["working-hours"]):
        path = "/".join(["calendar", *rest])
        return 404, {"error": f"unknown control endpoint {verb} /_sandbox/{path}"}
    try:
        data = json.loads(body or b"{}")
        if not isinstance(data, dict):
            raise Refused(400, {"error": "the body must be a JSON object"})
        mailbox = str(data.get("mailbox", "")).lower()
        if not store.has_mailbox(mailbox):
            raise Refused(404, {"error": f"no mailbox {mailbox or '(none given)'}"})
        if not rest:
            return 201, _put(store, config, mailbox, data)
        action = rest[0]
        if action == "working-hours":
            return 200, _working_hours(store, config, mailbox, data)
        found = _find(store, mailbox, data.get("event"))
        if action == "respond":
            return 200, _respond(store, found, data)
        if action == "move":
            return 200, _move(store, config, mailbox, found, data)
        return 200, _delete(store, found)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return 400, {"error": f"the body must be a JSON object: {exc}"}
    except Refused as exc:
        return exc.status, exc.body
    except MeetingError as exc:
        return 409, {"error": exc.text, "kind": exc.kind}


def _working_hours(
    store: MailStore, config: SandboxConfig, mailbox: str, data: dict[str, Any]
) -> Any:
    section = {k: v for k, v in data.items() if k != "mailbox"}
    try:
        hours = set_mailbox_hours(store, config, mailbox, section)
    except WorkingHoursError as exc:
        raise Refused(400, {"error": str(exc)}) from exc
    return {"mailbox": mailbox, **hours.as_json()}


def _zone(store: MailStore, config: SandboxConfig, mailbox: str, name: Any) -> ZoneInfo:
    rule = windows_rule(str(name)) if name else mailbox_hours(store, config, mailbox).zone
    if rule is None:
        raise Refused(400, {"error": f"unknown time zone {name!r}"})
    return ZoneInfo(rule.iana_name)


def _moment(value: Any, zone: ZoneInfo, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise Refused(400, {"error": f"{what} is no ISO 8601 date-time: {value!r}"}) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _day(value: Any, zone: ZoneInfo, what: str) -> datetime:
    try:
        day = date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise Refused(400, {"error": f"{what} is no ISO 8601 date: {value!r}"}) from exc
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _times(
    store: MailStore, config: SandboxConfig, mailbox: str, data: dict[str, Any]
) -> tuple[datetime, datetime]:
    zone = _zone(store, config, mailbox, data.get("time_zone"))
    if "start" not in data:
        raise Refused(400, {"error": "start is required"})
    if data.get("all_day"):
        start = _day(data["start"], zone, "start")
        end = _day(data["end"], zone, "end") if data.get("end") else None
        if end is None or end <= start:
            end = datetime.combine(
                start.astimezone(zone).date() + timedelta(days=1), time(0), zone
            ).astimezone(UTC)
        return start, end
    if "end" not in data:
        raise Refused(400, {"error": "end is required"})
    start, end = _moment(data["start"], zone, "start"), _moment(data["end"], zone, "end")
    if end < start:
        raise Refused(400, {"error": "end is before start"})
    return start, end


def _put(store: MailStore, config: SandboxConfig, mailbox: str, data: dict[str, Any]) -> Any:
    status = str(data.get("free_busy", "Busy"))
    by_lower = {b.lower(): b for b in BUSY_TYPES}
    if status.lower() not in by_lower:
        raise Refused(400, {"error": f"free_busy must be one of {', '.join(BUSY_TYPES)}"})
    start, end = _times(store, config, mailbox, data)
    rule = windows_rule(str(data["time_zone"])) if data.get("time_zone") else None
    zone_id = (rule or mailbox_hours(store, config, mailbox).zone).ms_id
    me = Address(mailbox, store.mailbox_name(mailbox))
    item = store.create(
        mailbox,
        "calendar",
        NewItem(
            item_class="IPM.Appointment",
            subject=str(data.get("subject", "")),
            from_=me,
            body=str(data.get("body", "")),
            is_read=True,
            calendar=CalendarFields(
                start=start,
                end=end,
                organizer=me,
                free_busy=by_lower[status.lower()],
                location=str(data.get("location", "")),
                uid="040000008200E00074C5B7101A82E00800000000" + uuid.uuid4().hex.upper(),
                is_all_day=bool(data.get("all_day", False)),
                my_response="Organizer",
                start_zone=zone_id,
                end_zone=zone_id,
            ),
        ),
    )
    return _summary(item)


def _find(store: MailStore, mailbox: str, ref: Any) -> Item:
    """The meeting ``ref`` names in ``mailbox``: the request in the Inbox when there is one
    (Outlook answers from it), else the calendar item."""
    if not ref:
        raise Refused(
            400, {"error": "event is required (an id, iCalUId, transactionId or subject)"}
        )
    text = str(ref)
    with_uid = None
    try:
        item = store.get(text)
        if item.mailbox == mailbox and item.calendar is not None:
            with_uid = item.calendar.uid
    except ItemNotFound:
        pass  # not an id of this store: try the other ways
    if with_uid is None:
        with_uid = _uid_of(store, mailbox, text)
    requests = [
        it
        for it in store.items(mailbox, "inbox")
        if it.calendar is not None
        and it.calendar.uid == with_uid
        and it.item_class.startswith(meetings.REQUEST)
        and not meetings.is_out_of_date(store, it)
    ]
    if requests:
        return requests[0]
    own = meetings.calendar_item(store, mailbox, with_uid)
    if own is None:
        raise Refused(404, {"error": f"no meeting {text!r} in the calendar of {mailbox}"})
    return own


def _uid_of(store: MailStore, mailbox: str, text: str) -> str:
    cal_items = [it for it in store.items(mailbox, "calendar") if it.calendar is not None]
    for it in cal_items:
        if it.calendar is not None and it.calendar.uid == text:
            return text
    # The organizer's transactionId (Graph) lives on the organizer's item only.
    for box in store.mailboxes():
        for it in store.items(box.email, "calendar"):
            if it.calendar is not None and read_property(it, meetings.TRANSACTION_ID) == text:
                return it.calendar.uid
    named = {
        it.calendar.uid
        for it in cal_items
        if it.calendar is not None and it.subject.lower() == text.lower()
    }
    if len(named) > 1:
        raise Refused(409, {"error": f"several meetings are called {text!r}", "kind": "ambiguous"})
    if not named:
        raise Refused(404, {"error": f"no meeting {text!r} in the calendar of {mailbox}"})
    return named.pop()


def _respond(store: MailStore, item: Item, data: dict[str, Any]) -> Any:
    answer = _ANSWERS.get(str(data.get("response", "")).lower())
    if answer is None:
        raise Refused(400, {"error": "response must be accept, tentative or decline"})
    send = data.get("send_response", True)
    if not isinstance(send, bool):
        raise Refused(400, {"error": "send_response must be true or false"})
    own, request, _ = meetings.respond(
        store, item.id, answer, str(data.get("comment", "")), send=send
    )
    return {
        **_summary(own),
        "request": request.id if request is not None else None,
        "response_sent": send,
    }


def _move(
    store: MailStore, config: SandboxConfig, mailbox: str, item: Item, data: dict[str, Any]
) -> Any:
    own = item
    if item.calendar is not None and item.item_class.startswith(meetings.REQUEST):
        found = meetings.calendar_item(store, mailbox, item.calendar.uid)
        if found is None:
            raise Refused(404, {"error": "the meeting is not in the calendar"})
        own = found
    start, end = _times(store, config, mailbox, {**data, "all_day": False})
    moved = store.update(
        own.id,
        lambda it: (
            replace(it, calendar=replace(it.calendar, start=start, end=end))
            if it.calendar is not None
            else it
        ),
    )
    return _summary(moved)


def _delete(store: MailStore, item: Item) -> Any:
    own = item
    if item.calendar is not None and item.item_class.startswith(meetings.REQUEST):
        own = meetings.calendar_item(store, item.mailbox, item.calendar.uid) or item
    return _summary(meetings.remove_without_answer(store, own.id))


def _summary(item: Item) -> dict[str, Any]:
    cal = item.calendar
    return {
        "id": item.id,
        "folder": item.folder,
        "subject": item.subject,
        "uid": cal.uid if cal else None,
        "start": cal.start.isoformat() if cal else None,
        "end": cal.end.isoformat() if cal else None,
        "free_busy": cal.free_busy if cal else None,
        "my_response": cal.my_response if cal else None,
    }
