"""Events as Graph JSON in the sandbox (a test double): the event resource, read and written.

Property names and values follow the v1.0 ``event`` resource and Microsoft's "Create event"
example response: ``responseStatus`` of the mailbox's owner ("organizer" on their own
meeting), each attendee's ``status`` (``response`` none, organizer, tentativelyAccepted,
accepted, declined, notResponded, with its ``time``; "0001-01-01T00:00:00Z" when there is
none), ``showAs`` (free, tentative, busy, oof, workingElsewhere, unknown),
``originalStartTimeZone`` (the zone the event was made in), ``transactionId``.
"""

from __future__ import annotations

from typing import Any

from exchange_sandbox.graph.errors import GraphError, bad_request
from exchange_sandbox.graph.render import (
    JsonObj,
    body_preview,
    date_time_time_zone,
    iso,
    parse_date_time_time_zone,
    parse_recipients,
    recipient,
    zone,
)
from exchange_sandbox.store import Attendee, Item, meetings, read_property
from exchange_sandbox.timezones import windows_rule

TRANSACTION_ID = meetings.TRANSACTION_ID
NO_TIME = "0001-01-01T00:00:00Z"
WEB = "https://outlook.office365.com"

_SHOW_AS = {
    "Free": "free",
    "Tentative": "tentative",
    "Busy": "busy",
    "OOF": "oof",
    "WorkingElsewhere": "workingElsewhere",
    "NoData": "unknown",
}
SHOW_AS_IN = {v.lower(): k for k, v in _SHOW_AS.items()}
_RESPONSES = {
    "Unknown": "none",
    "Organizer": "organizer",
    "Tentative": "tentativelyAccepted",
    "Accept": "accepted",
    "Decline": "declined",
    "NoResponseReceived": "notResponded",
}


def show_as(free_busy: str) -> str:
    return _SHOW_AS.get(free_busy, "busy")


def response(ews_response: str) -> str:
    """Graph's responseType for an EWS ResponseType value."""
    return _RESPONSES.get(ews_response, "none")


def event_json(item: Item, graph_id: str, tz_name: str, web_base: str) -> JsonObj:
    cal = item.calendar
    if cal is None:
        raise GraphError(
            404, "ErrorItemNotFound", "The specified object was not found in the store."
        )
    organizer_is_owner = cal.organizer.email.lower() == item.mailbox.lower()
    if organizer_is_owner:
        status = {"response": "organizer", "time": NO_TIME}
    else:
        status = {
            "response": response(cal.my_response or "NoResponseReceived"),
            "time": iso(cal.reply_time) or NO_TIME,
        }
    transaction = read_property(item, TRANSACTION_ID)
    return {
        "@odata.etag": f'W/"{item.change_key}"',
        "id": graph_id,
        "createdDateTime": iso(item.date_created),
        "lastModifiedDateTime": iso(item.last_modified),
        "changeKey": item.change_key,
        "categories": list(item.categories),
        "transactionId": transaction if isinstance(transaction, str) else None,
        "originalStartTimeZone": cal.start_zone or "UTC",
        "originalEndTimeZone": cal.end_zone or cal.start_zone or "UTC",
        "iCalUId": cal.uid or None,
        "reminderMinutesBeforeStart": cal.reminder_minutes,
        "isReminderOn": cal.reminder_set,
        "hasAttachments": False,
        "subject": item.subject,
        "bodyPreview": body_preview(item),
        "importance": item.importance.lower(),
        "sensitivity": "normal",
        "isAllDay": cal.is_all_day,
        "isCancelled": cal.is_cancelled,
        "isOrganizer": organizer_is_owner,
        "responseRequested": cal.response_requested,
        "seriesMasterId": None,
        "showAs": show_as(cal.free_busy),
        "type": "singleInstance",
        "webLink": f"{web_base}/owa/?itemid={graph_id}&exvsurl=1&path=/calendar/item",
        "onlineMeetingUrl": None,
        "isOnlineMeeting": False,
        "onlineMeetingProvider": "unknown",
        "allowNewTimeProposals": True,
        "responseStatus": status,
        "body": {
            "contentType": "html" if item.body_type.upper() == "HTML" else "text",
            "content": item.body,
        },
        "start": date_time_time_zone(cal.start, tz_name),
        "end": date_time_time_zone(cal.end, tz_name),
        "location": {
            "displayName": cal.location,
            "locationType": "default",
            "uniqueIdType": "unknown",
        },
        "locations": [
            {"displayName": cal.location, "locationType": "default", "uniqueIdType": "unknown"}
        ]
        if cal.location
        else [],
        "recurrence": None,
        "attendees": [
            {
                "type": "required" if att.required else "optional",
                "status": {
                    "response": response(att.response),
                    "time": iso(att.response_time) or NO_TIME,
                },
                "emailAddress": {
                    "name": att.address.name or att.address.email,
                    "address": att.address.email,
                },
            }
            for att in cal.attendees
        ],
        "organizer": recipient(cal.organizer),
    }


def zone_name(value: Any) -> str:
    """The Windows zone a dateTimeTimeZone names ("" for UTC or a zone Exchange would not keep)."""
    name = str((value or {}).get("timeZone") or "UTC") if isinstance(value, dict) else "UTC"
    zone(name)  # 400 for a zone Graph does not know
    rule = windows_rule(name)
    return rule.ms_id if rule is not None and rule.ms_id != "UTC" else ""


def parse_attendees(value: Any) -> tuple[Attendee, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise bad_request("'attendees' must be a collection of attendees.", "RequestBodyRead")
    attendees = []
    for entry in value:
        address = parse_recipients([entry], "attendees")[0]
        kind = str(entry.get("type", "required")).lower()
        if kind not in ("required", "optional", "resource"):
            raise bad_request(
                f"Requested value '{entry.get('type')}' was not found.", "RequestBodyRead"
            )
        attendees.append(Attendee(address=address, required=kind != "optional"))
    return tuple(attendees)


def parse_times(p: dict[str, Any], old: tuple[Any, Any] | None = None) -> tuple[Any, Any]:
    """The start and end of an event body (the old ones for those it leaves out)."""
    start = parse_date_time_time_zone(p["start"], "start") if "start" in p else None
    end = parse_date_time_time_zone(p["end"], "end") if "end" in p else None
    start = start or (old[0] if old else None)
    end = end or (old[1] if old else None)
    if start is None or end is None:
        raise bad_request("An event needs a start and an end.", "ErrorInvalidRequest")
    if end < start:
        raise bad_request("The end of the event must be after its start.", "ErrorInvalidRequest")
    return start, end


def reminder_in(p: dict[str, Any], old: tuple[bool, int] = (True, 15)) -> tuple[bool, int]:
    """``isReminderOn`` and ``reminderMinutesBeforeStart`` of an event body (the old values, or
    the mailbox's defaults — on, 15 minutes — for those it leaves out)."""
    on, minutes = old
    if "isReminderOn" in p:
        if not isinstance(p["isReminderOn"], bool):
            raise bad_request(
                f"Cannot convert the literal '{p['isReminderOn']}' to the expected type "
                "'Edm.Boolean'.",
                "RequestBodyRead",
            )
        on = p["isReminderOn"]
    if "reminderMinutesBeforeStart" in p:
        value = p["reminderMinutesBeforeStart"]
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad_request(
                f"Cannot convert the literal '{value}' to the expected type 'Edm.Int32'.",
                "RequestBodyRead",
            )
        minutes = value
    return on, minutes


def show_as_in(value: Any, default: str = "Busy") -> str:
    if value is None:
        return default
    found = SHOW_AS_IN.get(str(value).lower())
    if found is None:
        raise bad_request(f"Requested value '{value}' was not found.", "RequestBodyRead")
    return found
