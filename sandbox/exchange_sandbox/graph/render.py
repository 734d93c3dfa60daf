"""JSON shapes of the sandbox Graph endpoint (a test double): message, event, recipients, dates.

Property names, casing and value forms follow the Graph v1.0 reference (message, event,
followupFlag, dateTimeTimeZone, singleValueLegacyExtendedProperty resources).
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from html import escape, unescape
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from exchange_sandbox.graph.errors import GraphError, bad_request
from exchange_sandbox.graph.meetings import event_message_properties, graph_property, odata_type
from exchange_sandbox.store import Address, Item, PropertyKey
from exchange_sandbox.timezones import ZONES

JsonObj = dict[str, Any]

# Windows time-zone names Graph uses in dateTimeTimeZone, mapped to IANA (CLDR windowsZones).
WINDOWS_ZONES = {
    **{rule.ms_id: rule.iana_name for rule in ZONES.values()},
    "Coordinated Universal Time": "UTC",
    "E. Europe Standard Time": "Europe/Chisinau",
}

_PROP_TAG = re.compile(r"^\s*(\w+)\s+0x([0-9a-fA-F]{1,4})\s*$")
_PROP_NAMED = re.compile(
    r"^\s*(\w+)\s+\{([0-9a-fA-F-]{36})\}\s+(Name|Id)\s+(.+?)\s*$", re.IGNORECASE
)
_PROP_TYPES = {
    t.lower(): t
    for t in (
        "String",
        "Integer",
        "Boolean",
        "SystemTime",
        "Long",
        "Double",
        "Binary",
        "Short",
        "Float",
        "Currency",
        "CLSID",
        "ApplicationTime",
    )
}
_SUBJECT_PREFIX = re.compile(r"^\s*[^\s:]{1,3}:\s*")


def iso(dt: datetime | None) -> str | None:
    """A DateTimeOffset value as Graph writes it: UTC with a ``Z``, whole seconds."""
    if dt is None:
        return None
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(WINDOWS_ZONES.get(name, name))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise GraphError(
            400,
            "ErrorTimeZoneNotSupported",
            f"A valid TimeZone value must be specified. "
            f"The following TimeZone value is not supported: '{name}'.",
        ) from exc


def date_time_time_zone(dt: datetime, tz_name: str = "UTC") -> JsonObj:
    local = dt.astimezone(zone(tz_name))
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": tz_name}


def parse_date_time_time_zone(value: Any, what: str) -> datetime:
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        raise bad_request(f"{what} must be a dateTimeTimeZone object.", "ErrorInvalidRequest")
    tz_name = str(value.get("timeZone") or "UTC")
    return parse_datetime(value["dateTime"], zone(tz_name))


def parse_datetime(text: str, default_zone: ZoneInfo | None = None) -> datetime:
    raw = text.strip().replace("Z", "+00:00")
    # Graph writes 7 fractional digits; Python reads at most 6.
    raw = re.sub(r"(\.\d{6})\d+", r"\1", raw)
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise bad_request(
            f"Cannot convert the literal '{text}' to the expected type 'Edm.DateTimeOffset'.",
            "BadRequest",
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_zone or UTC)
    return parsed.astimezone(UTC)


def recipient(address: Address | None) -> JsonObj | None:
    if address is None:
        return None
    return {"emailAddress": {"name": address.name or address.email, "address": address.email}}


def parse_recipients(value: Any, what: str) -> tuple[Address, ...]:
    if not isinstance(value, list):
        raise bad_request(f"'{what}' must be a collection of recipients.", "RequestBodyRead")
    result = []
    for entry in value:
        email_address = entry.get("emailAddress") if isinstance(entry, dict) else None
        if not isinstance(email_address, dict) or not email_address.get("address"):
            raise bad_request(
                "At least one recipient is not valid., A message can't be sent because it "
                "contains no recipients.",
                "ErrorInvalidRecipients",
            )
        result.append(Address(str(email_address["address"]), str(email_address.get("name", ""))))
    return tuple(result)


def normalized_subject(subject: str) -> str:
    """The subject without one prefix of at most three characters and a colon (MAPI rule)."""
    return _SUBJECT_PREFIX.sub("", subject, count=1)


# ---------------------------------------------------------------- extended properties


def parse_property_id(text: str) -> PropertyKey:
    tag = _PROP_TAG.match(text)
    if tag:
        ptype = _PROP_TYPES.get(tag.group(1).lower())
        if ptype is not None:
            return PropertyKey(property_type=ptype, property_tag=int(tag.group(2), 16))
    named = _PROP_NAMED.match(text)
    if named:
        ptype = _PROP_TYPES.get(named.group(1).lower())
        if ptype is not None:
            guid = str(uuid.UUID(named.group(2)))
            if named.group(3).lower() == "name":
                return PropertyKey(
                    property_type=ptype, property_set_id=guid, property_name=named.group(4)
                )
            try:
                prop_id = int(named.group(4), 16 if named.group(4).lower().startswith("0x") else 10)
            except ValueError:
                prop_id = -1
            if prop_id >= 0:
                return PropertyKey(property_type=ptype, property_set_id=guid, property_id=prop_id)
    raise bad_request(
        f"The extended property id '{text}' is not valid.", "ErrorInvalidExtendedPropertyValue"
    )


def property_id(key: PropertyKey) -> str:
    if key.property_tag is not None:
        return f"{key.property_type} 0x{key.property_tag:04x}"
    guid = (key.property_set_id or "").lower()
    if key.property_name is not None:
        return f"{key.property_type} {{{guid}}} Name {key.property_name}"
    return f"{key.property_type} {{{guid}}} Id 0x{(key.property_id or 0):04x}"


def check_property_value(key: PropertyKey, value: Any) -> str:
    if not isinstance(value, str):
        raise bad_request(
            "The value of a single-value extended property must be a string.",
            "ErrorInvalidExtendedPropertyValue",
        )
    if key.property_type in ("Integer", "Short", "Long"):
        try:
            int(value)
        except ValueError as exc:
            raise bad_request(
                f"The value '{value}' is not valid for an extended property of type "
                f"'{key.property_type}'.",
                "ErrorInvalidExtendedPropertyValue",
            ) from exc
    if key.property_type == "Boolean" and value.lower() not in ("true", "false"):
        raise bad_request(
            f"The value '{value}' is not valid for a Boolean extended property.",
            "ErrorInvalidExtendedPropertyValue",
        )
    return value


# ---------------------------------------------------------------- messages


def header_value(item: Item, name: str) -> str:
    for key, value in item.headers:
        if key.lower() == name.lower():
            return value
    return ""


def conversation_id(item: Item) -> str:
    # Exchange's conversation ids are a 6-byte header and the 16-byte conversation GUID.
    raw = b"\x00\x00\x00\x00\x10\x00" + bytes.fromhex(item.conversation_id or "0" * 32)
    return base64.urlsafe_b64encode(raw).decode()


def body_preview(item: Item) -> str:
    text = item.body
    if item.body_type.upper() == "HTML":
        text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(text.split())[:255]


def message_json(
    item: Item,
    graph_id: str,
    parent_folder_id: str,
    select: set[str] | None,
    expand_props: Iterable[str] | None,
    web_base: str,
    body_format: str | None = None,
    out_of_date: bool = False,
) -> JsonObj:
    """A message resource, limited to ``select`` (lower-case names) when given.

    ``body_format`` ("text"/"html", from ``Prefer: outlook.body-content-type``) converts the
    body as Exchange does on request."""
    reply_to = tuple(
        Address(email=a.strip("<> "), name="")
        for a in header_value(item, "Reply-To").split(",")
        if "@" in a
    )
    full: JsonObj = {
        "@odata.etag": f'W/"{item.change_key}"',
        "id": graph_id,
        "createdDateTime": iso(item.date_created),
        "lastModifiedDateTime": iso(item.last_modified),
        "changeKey": item.change_key,
        "categories": list(item.categories),
        "receivedDateTime": iso(item.date_received),
        "sentDateTime": iso(item.date_sent),
        "hasAttachments": False,
        "internetMessageId": item.message_id or None,
        "subject": item.subject,
        "bodyPreview": body_preview(item),
        "importance": item.importance.lower(),
        "parentFolderId": parent_folder_id,
        "conversationId": conversation_id(item),
        "conversationIndex": base64.b64encode(item.conversation_index).decode(),
        "isDeliveryReceiptRequested": False,
        "isReadReceiptRequested": False,
        "isRead": item.is_read,
        "isDraft": item.is_draft,
        "webLink": f"{web_base}/owa/?ItemID={graph_id}&exvsurl=1&viewmodel=ReadMessageItem",
        "inferenceClassification": "focused",
        "body": item_body(item, body_format),
        "sender": recipient(item.sender),
        "from": recipient(item.from_),
        "toRecipients": [recipient(a) for a in item.to],
        "ccRecipients": [recipient(a) for a in item.cc],
        "bccRecipients": [recipient(a) for a in item.bcc],
        "replyTo": [recipient(a) for a in reply_to],
        "flag": flag_json(item),
        **event_message_properties(item, date_time_time_zone, out_of_date),
    }
    if odata_type(item) != "#microsoft.graph.message":
        # A derived type (a meeting message) is annotated, whatever the $select.
        full = {"@odata.type": odata_type(item), **full}
    if select is None:
        result = full
    else:
        by_lower = {k.lower(): k for k in full}
        result = {k: full[k] for k in ("@odata.type", "@odata.etag") if k in full}
        result["id"] = graph_id
        for name in (n.rsplit("/", 1)[-1] for n in select):
            if name in by_lower:
                result[by_lower[name]] = full[by_lower[name]]
            elif name == "internetmessageheaders":
                result["internetMessageHeaders"] = [
                    {"name": k, "value": v} for k, v in item.headers
                ]
            elif name == "uniquebody":
                result["uniqueBody"] = full["body"]
    if expand_props is not None:
        found = extended_json(item, expand_props)
        if found:
            result["singleValueExtendedProperties"] = found
    return result


def extended_json(
    item: Item, expand_props: Iterable[str], hidden: Iterable[PropertyKey] = ()
) -> list[JsonObj]:
    """``singleValueExtendedProperties`` as ``$expand`` asks for them: the named ids, or (none
    named) every property the item has but the sandbox's own ``hidden`` bookkeeping."""
    named = list(expand_props)
    skip = {key.canonical for key in hidden}
    keys = (
        [parse_property_id(p) for p in named]
        if named
        else [key for key, _ in item.extended.values() if key.canonical not in skip]
    )
    found = []
    for key in keys:
        value = graph_property(item, key)
        if isinstance(value, str):
            found.append({"id": property_id(key), "value": value})
    return found


def item_body(item: Item, body_format: str | None = None) -> JsonObj:
    is_html = item.body_type.upper() == "HTML"
    wanted = (body_format or "").lower()
    if wanted == "text" and is_html:
        text = re.sub(r"<(br|/p|/div)[^>]*>", "\n", item.body, flags=re.IGNORECASE)
        text = unescape(re.sub(r"<[^>]+>", "", text))
        return {"contentType": "text", "content": text.strip()}
    if wanted == "html" and not is_html:
        html = escape(item.body).replace("\n", "<br>")
        return {
            "contentType": "html",
            "content": f"<html><head></head><body><div>{html}</div></body></html>",
        }
    return {"contentType": "html" if is_html else "text", "content": item.body}


def flag_json(item: Item) -> JsonObj:
    status = {"NotFlagged": "notFlagged", "Flagged": "flagged", "Complete": "complete"}
    flag: JsonObj = {"flagStatus": status.get(item.flag.status, "notFlagged")}
    if item.flag.start is not None:
        flag["startDateTime"] = date_time_time_zone(item.flag.start)
    if item.flag.due is not None:
        flag["dueDateTime"] = date_time_time_zone(item.flag.due)
    if item.flag.complete is not None:
        flag["completedDateTime"] = date_time_time_zone(item.flag.complete)
    return flag


def quoted_reply_body(original: Item, comment: str) -> str:
    sent = original.date_sent or original.date_received or datetime.now(UTC)
    sender = original.from_ or original.sender
    header = (
        f"<b>From:</b> {escape(sender.name or sender.email) if sender else ''}<br>"
        f"<b>Sent:</b> {sent.strftime('%A, %B %d, %Y %I:%M %p')}<br>"
        f"<b>To:</b> {escape('; '.join(a.name or a.email for a in original.to))}<br>"
        f"<b>Subject:</b> {escape(original.subject)}"
    )
    quoted = (
        original.body
        if original.body_type.upper() == "HTML"
        else f"<div>{escape(original.body).replace(chr(10), '<br>')}</div>"
    )
    return (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        f'</head><body><div>{escape(comment)}</div><hr style="display:inline-block;width:98%">'
        f'<div id="divRplyFwdMsg">{header}</div><br>{quoted}</body></html>'
    )
