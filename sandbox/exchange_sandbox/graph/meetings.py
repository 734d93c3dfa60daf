"""Meeting messages in the sandbox Graph endpoint (a test double): message class to OData type.

Graph shows a meeting request, response or cancellation in a mail folder as an
``eventMessage`` (``eventMessageRequest``/``eventMessageResponse``), a derived type of
``message`` with ``meetingMessageType`` and the meeting's times (Graph v1.0 metadata,
``EntityType eventMessage``); the annotation ``@odata.type`` names the type. The item's
MAPI message class (PR_MESSAGE_CLASS, ``String 0x001A``) can be read as a single-value
extended property, as clients do to tell reports and meeting messages apart.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from exchange_sandbox.store import ExtendedValue, Item, PropertyKey, read_property

MESSAGE_CLASS_TAG = 0x001A

# Message class prefix -> (OData type, meetingMessageType), most specific first.
_CLASSES = (
    ("ipm.schedule.meeting.request", "eventMessageRequest", "meetingRequest"),
    ("ipm.schedule.meeting.resp.pos", "eventMessageResponse", "meetingAccepted"),
    # "Tenatively" is how the Graph enumeration spells it (EnumType meetingMessageType).
    ("ipm.schedule.meeting.resp.tent", "eventMessageResponse", "meetingTenativelyAccepted"),
    ("ipm.schedule.meeting.resp.neg", "eventMessageResponse", "meetingDeclined"),
    ("ipm.schedule.meeting.canceled", "eventMessage", "meetingCancelled"),
    ("ipm.schedule.meeting.", "eventMessage", "none"),
)
_RESPONSE_TYPES = {
    "meetingAccepted": "accepted",
    "meetingTenativelyAccepted": "tentativelyAccepted",
    "meetingDeclined": "declined",
}


def _kind(item: Item) -> tuple[str, str] | None:
    item_class = item.item_class.lower()
    for prefix, odata, meeting in _CLASSES:
        if item_class.startswith(prefix):
            return odata, meeting
    return None


def odata_type(item: Item) -> str:
    """``#microsoft.graph.message`` or the eventMessage type of a meeting message."""
    kind = _kind(item)
    return f"#microsoft.graph.{kind[0]}" if kind else "#microsoft.graph.message"


def is_meeting_message(item: Item) -> bool:
    return _kind(item) is not None


_REQUEST_TYPES = {
    "": "newMeetingRequest",
    "NewMeetingRequest": "newMeetingRequest",
    "FullUpdate": "fullUpdate",
    "InformationalUpdate": "informationalUpdate",
}


def event_message_properties(
    item: Item, date_time: Callable[[datetime], dict[str, Any]], out_of_date: bool = False
) -> dict[str, Any]:
    """The properties an eventMessage adds to a message (empty for a plain message);
    ``out_of_date``: a newer version of the meeting reached the mailbox (isOutOfDate)."""
    kind = _kind(item)
    if kind is None:
        return {}
    odata, meeting = kind
    cal = item.calendar
    props: dict[str, Any] = {
        "meetingMessageType": meeting,
        "type": "singleInstance",
        "isOutOfDate": out_of_date,
        "isAllDay": bool(cal and cal.is_all_day),
        "isDelegated": False,
        "startDateTime": date_time(cal.start) if cal else None,
        "endDateTime": date_time(cal.end) if cal else None,
        "location": {
            "displayName": cal.location if cal else "",
            "locationType": "default",
            "uniqueIdType": "unknown",
        },
        "recurrence": None,
    }
    if odata == "eventMessageRequest":
        previous_start = cal.previous_start if cal else None
        previous_end = cal.previous_end if cal else None
        props.update(
            {
                "meetingRequestType": _REQUEST_TYPES.get(cal.request_type if cal else "", "none"),
                "responseRequested": cal.response_requested if cal else True,
                "allowNewTimeProposals": True,
                "previousStartDateTime": date_time(previous_start) if previous_start else None,
                "previousEndDateTime": date_time(previous_end) if previous_end else None,
                "previousLocation": None,
            }
        )
    elif odata == "eventMessageResponse":
        props.update({"responseType": _RESPONSE_TYPES[meeting], "proposedNewTime": None})
    return props


def graph_property(item: Item, key: PropertyKey) -> ExtendedValue | None:
    """An extended property as Graph reads it; PR_MESSAGE_CLASS is the item's class."""
    if (
        key.property_tag == MESSAGE_CLASS_TAG
        and key.property_set_id is None
        and key.property_type == "String"
    ):
        return item.item_class
    return read_property(item, key)
