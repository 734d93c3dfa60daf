"""Graph message properties in the sandbox (a test double): a JSON message or PATCH body applied to an item.

Received and sent messages take only the properties Exchange lets change on them (isRead,
categories, flag, importance, extended properties); drafts take the rest as well.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from exchange_sandbox.graph import render
from exchange_sandbox.graph.errors import GraphError, bad_request
from exchange_sandbox.graph.meetings import MESSAGE_CLASS_TAG
from exchange_sandbox.store import Flag, Item, PropertyKey, ReadOnlyProperty, write_property

MAX_CUSTOM_HEADERS = 5
MESSAGE_CLASS = PropertyKey(property_type="String", property_tag=MESSAGE_CLASS_TAG)
_DRAFT_ONLY = {
    "subject",
    "body",
    "torecipients",
    "ccrecipients",
    "bccrecipients",
    "replyto",
    "internetmessageheaders",
    "from",
    "sender",
}


def apply_patch(item: Item, patch: dict[str, Any]) -> Item:
    """The item with the properties of a JSON message object set; 400 for what Graph refuses."""
    changes: dict[str, Any] = {}
    extended: Any = None
    for key, value in patch.items():
        name = key.lower()
        if key.startswith("@"):
            continue
        if name == "isread":
            changes["is_read"] = _bool(value, key)
        elif name == "categories":
            if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
                raise bad_request("categories must be a collection of strings.", "RequestBodyRead")
            changes["categories"] = tuple(value)
        elif name == "flag":
            changes["flag"] = _flag(value, item.flag)
        elif name == "importance":
            level = str(value).capitalize()
            if level not in ("Low", "Normal", "High"):
                raise bad_request(
                    f"The value '{value}' is not valid for importance.", "RequestBodyRead"
                )
            changes["importance"] = level
        elif name == "inferenceclassification":
            if value not in ("focused", "other"):
                raise bad_request(
                    f"The value '{value}' is not valid for inferenceClassification.",
                    "RequestBodyRead",
                )
        elif name == "singlevalueextendedproperties":
            extended = value
        elif name in _DRAFT_ONLY:
            if not item.is_draft:
                raise bad_request(
                    "Update of one or more properties of a sent or received message is not "
                    "allowed.",
                    "ErrorInvalidPropertyUpdateSentMessage",
                )
            changes.update(_draft_change(name, key, value))
        else:
            raise bad_request(
                f"The property '{key}' does not exist on type 'Microsoft.OutlookServices."
                "Message'. Make sure to only use property names that are defined by the type "
                "or mark the type as open type.",
                "RequestBodyRead",
            )
    item = replace(item, **changes)
    return item if extended is None else extended_patch(item, extended)


def _bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise bad_request(
            f"Cannot convert the literal '{value}' to the expected type 'Edm.Boolean' for '{key}'.",
            "RequestBodyRead",
        )
    return value


def _flag(value: Any, old: Flag) -> Flag:
    if not isinstance(value, dict):
        raise bad_request("flag must be a followupFlag object.", "RequestBodyRead")
    status_map = {"notflagged": "NotFlagged", "flagged": "Flagged", "complete": "Complete"}
    raw_status = str(value.get("flagStatus", "flagged" if value else "notFlagged")).lower()
    if raw_status not in status_map:
        raise bad_request(
            f"The value '{raw_status}' is not valid for flagStatus.", "RequestBodyRead"
        )
    status = status_map[raw_status]
    if status == "NotFlagged":
        return Flag()
    start = (
        render.parse_date_time_time_zone(value["startDateTime"], "startDateTime")
        if value.get("startDateTime")
        else old.start
    )
    due = (
        render.parse_date_time_time_zone(value["dueDateTime"], "dueDateTime")
        if value.get("dueDateTime")
        else old.due
    )
    if due is not None and start is None:
        raise bad_request(
            "The flag's startDateTime must be set when dueDateTime is set.", "ErrorInvalidArgument"
        )
    complete = None
    if status == "Complete":
        complete = (
            render.parse_date_time_time_zone(value["completedDateTime"], "completedDateTime")
            if value.get("completedDateTime")
            else datetime.now(UTC).replace(microsecond=0)
        )
    return Flag(status=status, start=start, due=due, complete=complete)  # type: ignore[arg-type]  # status comes from status_map


def extended_patch(item: Item, value: Any) -> Item:
    """``singleValueExtendedProperties`` written to an item (a message's or an event's)."""
    if not isinstance(value, list):
        raise bad_request("singleValueExtendedProperties must be a collection.", "RequestBodyRead")
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise bad_request("Each extended property needs an id and a value.", "RequestBodyRead")
        key = render.parse_property_id(entry["id"])
        if key.canonical == MESSAGE_CLASS.canonical:
            item = replace(item, item_class=render.check_property_value(key, entry.get("value")))
            continue
        try:
            item = write_property(item, key, render.check_property_value(key, entry.get("value")))
        except ReadOnlyProperty as exc:
            raise bad_request(
                f"The property '{entry['id']}' is read-only and cannot be set.",
                "ErrorInvalidPropertySet",
            ) from exc
    return item


def _draft_change(name: str, key: str, value: Any) -> dict[str, Any]:
    if name == "subject":
        if not isinstance(value, str):
            raise bad_request("subject must be a string.", "RequestBodyRead")
        return {"subject": value}
    if name == "body":
        if not isinstance(value, dict):
            raise bad_request("body must be an itemBody object.", "RequestBodyRead")
        kind = str(value.get("contentType", "text")).lower()
        return {
            "body": str(value.get("content", "")),
            "body_type": "HTML" if kind == "html" else "Text",
        }
    if name in ("torecipients", "ccrecipients", "bccrecipients"):
        field_name = {"torecipients": "to", "ccrecipients": "cc", "bccrecipients": "bcc"}[name]
        return {field_name: render.parse_recipients(value, key)}
    if name == "internetmessageheaders":
        if not isinstance(value, list):
            raise bad_request("internetMessageHeaders must be a collection.", "RequestBodyRead")
        headers = []
        for entry in value:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise bad_request(
                    "Each internet message header needs a name and a value.", "RequestBodyRead"
                )
            header_name = entry["name"]
            if not header_name.lower().startswith("x-"):
                raise GraphError(
                    400,
                    "InvalidInternetMessageHeader",
                    f"The internet message header name '{header_name}' should start with "
                    "'x-' or 'X-'.",
                )
            header_value = str(entry.get("value", ""))
            if "\r" in header_value or "\n" in header_value:
                raise GraphError(
                    400,
                    "InvalidInternetMessageHeader",
                    f"The internet message header value of '{header_name}' is not valid.",
                )
            headers.append((header_name, header_value))
        if len(headers) > MAX_CUSTOM_HEADERS:
            raise GraphError(
                400,
                "InvalidInternetMessageHeaderCollection",
                f"Maximum number of headers in one message should be less than or equal to {MAX_CUSTOM_HEADERS}.",
            )
        return {"headers": tuple(headers)}
    if name in ("from", "sender"):
        found = render.parse_recipients([value], key)
        return {"from_" if name == "from" else "sender": found[0]}
    return {}  # replyTo: kept by Exchange as a property the sandbox does not model
