"""Item properties in EWS requests (sandbox, a test double): parsed into store values, applied to items."""

from __future__ import annotations

import base64
from contextvars import ContextVar
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

from lxml import etree

from exchange_sandbox.ews.faults import EwsFault
from exchange_sandbox.ews.xml import Element, boolean, t, text_of
from exchange_sandbox.ews.zones import SerializableZone, from_local, item_zone
from exchange_sandbox.store import (
    Address,
    Attendee,
    Flag,
    FlagStatus,
    Item,
    PropertyKey,
    ReadOnlyProperty,
    write_property,
)

REQUEST_ZONE: ContextVar[SerializableZone | None] = ContextVar("REQUEST_ZONE", default=None)
"""The TimeZoneContext of the request being answered (None: UTC), set by the service."""


def parse_dt(text: str | None, zone: SerializableZone | None = None) -> datetime:
    """An xs:dateTime of a request in UTC: an offset is honoured; a time without one is wall
    clock time of ``zone``, else of the request's TimeZoneContext, else UTC (Exchange 2010+)."""
    if not text:
        raise EwsFault("ErrorInvalidRequest", "A date/time value is missing.")
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise EwsFault("ErrorInvalidRequest", f"Invalid date/time value {text!r}.") from exc
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    zone = zone or REQUEST_ZONE.get()
    return from_local(zone, value) if zone is not None else value.replace(tzinfo=UTC)


def property_key(el: Element) -> PropertyKey:
    tag = el.get("PropertyTag")
    pid = el.get("PropertyId")
    ptype = el.get("PropertyType")
    if not ptype:
        raise EwsFault("ErrorInvalidRequest", "ExtendedFieldURI needs a PropertyType.")
    try:
        return PropertyKey(
            property_type=ptype,
            property_set_id=el.get("PropertySetId"),
            distinguished_set_id=el.get("DistinguishedPropertySetId"),
            property_name=el.get("PropertyName"),
            property_id=int(pid, 0) if pid is not None else None,
            property_tag=int(tag, 0) if tag is not None else None,
        )
    except ValueError as exc:
        raise EwsFault("ErrorInvalidPropertyRequest", "Bad extended property id.") from exc


def parse_address(el: Element | None) -> Address | None:
    if el is None:
        return None
    box = el if el.tag == t("Mailbox") else el.find(t("Mailbox"))
    if box is None:
        return None
    email = text_of(box, t("EmailAddress")) or ""
    if not email:
        return None
    return Address(email=email, name=text_of(box, t("Name")) or "")


def parse_addresses(el: Element | None) -> tuple[Address, ...]:
    if el is None:
        return ()
    return tuple(a for a in (parse_address(b) for b in el.findall(t("Mailbox"))) if a)


def parse_attendees(el: Element | None, required: bool) -> tuple[Attendee, ...]:
    if el is None:
        return ()
    out = []
    for att in el.findall(t("Attendee")):
        addr = parse_address(att.find(t("Mailbox")))
        if addr is not None:
            out.append(
                Attendee(
                    address=addr,
                    required=required,
                    response=text_of(att, t("ResponseType")) or "Unknown",
                )
            )
    return tuple(out)


def parse_flag(el: Element) -> Flag:
    status = text_of(el, t("FlagStatus")) or "NotFlagged"
    if status not in ("NotFlagged", "Flagged", "Complete"):
        raise EwsFault("ErrorInvalidValueForProperty", f"Invalid FlagStatus {status!r}.")

    def opt(tag: str) -> datetime | None:
        value = text_of(el, t(tag))
        return parse_dt(value) if value else None

    return Flag(
        status=cast(FlagStatus, status),  # checked against the Literal values just above
        start=opt("StartDate"),
        due=opt("DueDate"),
        complete=opt("CompleteDate"),
    )


def parse_extended(el: Element) -> tuple[PropertyKey, str | tuple[str, ...]]:
    uri = el.find(t("ExtendedFieldURI"))
    if uri is None:
        raise EwsFault("ErrorInvalidRequest", "ExtendedProperty without ExtendedFieldURI.")
    key = property_key(uri)
    values = el.find(t("Values"))
    if values is not None:
        return key, tuple(v.text or "" for v in values.findall(t("Value")))
    return key, text_of(el, t("Value")) or ""


def item_fields(el: Element) -> dict[str, Any]:
    """Python values of the properties set in a Message/CalendarItem element, by element name."""
    out: dict[str, Any] = {}
    extended: list[tuple[PropertyKey, str | tuple[str, ...]]] = []
    times: dict[str, str | None] = {}
    zones: dict[str, SerializableZone] = {}
    for child in el:
        name = etree.QName(child).localname
        if name == "MimeContent":
            try:
                out[name] = base64.b64decode(child.text or "", validate=False)
            except ValueError as exc:
                raise EwsFault(
                    "ErrorMimeContentInvalid", "MimeContent is not valid base64."
                ) from exc
        elif name in ("ToRecipients", "CcRecipients", "BccRecipients", "ReplyTo"):
            out[name] = parse_addresses(child)
        elif name in ("From", "Sender", "Organizer"):
            out[name] = parse_address(child)
        elif name in ("RequiredAttendees", "OptionalAttendees"):
            out[name] = parse_attendees(child, name == "RequiredAttendees")
        elif name == "Categories":
            out[name] = tuple(s.text or "" for s in child.findall(t("String")))
        elif name == "Flag":
            out[name] = parse_flag(child)
        elif name == "ExtendedProperty":
            extended.append(parse_extended(child))
        elif name == "Body":
            out[name] = (child.text or "", child.get("BodyType", "Text"))
        elif name in ("Start", "End"):
            times[name] = child.text  # read once the item's own time zones are known
        elif name in ("StartTimeZone", "EndTimeZone", "MeetingTimeZone"):
            zones[name] = item_zone(child)
            if name != "MeetingTimeZone" and child.get("Id"):
                out[f"{name}Id"] = child.get("Id")
            elif child.get("TimeZoneName"):
                out["StartTimeZoneId"] = out["EndTimeZoneId"] = child.get("TimeZoneName")
        elif name in ("IsRead", "IsAllDayEvent", "IsDraft", "ReminderIsSet"):
            out[name] = boolean(child.text)
        elif name == "ReminderMinutesBeforeStart":
            out[name] = int(child.text or "0")  # xs:int, checked by the schema
        else:
            out[name] = child.text or ""
    if extended:
        out["ExtendedProperty"] = extended
    # StartTimeZone governs Start, EndTimeZone End (Exchange 2010+); MeetingTimeZone both
    # (Exchange 2007); otherwise the TimeZoneContext ("Time zones and EWS in Exchange").
    meeting = zones.get("MeetingTimeZone")
    start_zone = zones.get("StartTimeZone") or meeting
    for name, text in times.items():
        zone = start_zone if name == "Start" else zones.get("EndTimeZone") or meeting
        out[name] = parse_dt(text, zone)
    return out


CALENDAR_FIELDS = {
    "Start": "start", "End": "end", "Location": "location", "LegacyFreeBusyStatus": "free_busy",
    "IsAllDayEvent": "is_all_day", "StartTimeZoneId": "start_zone", "EndTimeZoneId": "end_zone",
    "ReminderIsSet": "reminder_set", "ReminderMinutesBeforeStart": "reminder_minutes",
}  # fmt: skip
"""Calendar properties an update may set, by the name ``item_fields`` gives them."""


def apply_fields(item: Item, fields: dict[str, Any], append: bool = False) -> Item:
    """Set (or append to) the properties named in ``fields`` on an item."""
    changes: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "Subject":
            changes["subject"] = value
        elif name == "IsRead":
            changes["is_read"] = value
        elif name == "Flag":
            changes["flag"] = value
        elif name == "Categories":
            changes["categories"] = (
                tuple(dict.fromkeys(item.categories + value)) if append else value
            )
        elif name == "Importance":
            changes["importance"] = value
        elif name == "ItemClass":
            changes["item_class"] = value
        elif name == "Body":
            changes["body"] = item.body + value[0] if append else value[0]
            changes["body_type"] = value[1]
        elif name in ("ToRecipients", "CcRecipients", "BccRecipients"):
            attr = {"ToRecipients": "to", "CcRecipients": "cc", "BccRecipients": "bcc"}[name]
            changes[attr] = getattr(item, attr) + value if append else value
        elif name == "From":
            changes["from_"] = value
        elif name == "ExtendedProperty":
            for key, val in value:
                try:
                    item = write_property(item, key, val)
                except ReadOnlyProperty as exc:
                    raise EwsFault(
                        "ErrorInvalidPropertySet", f"{key.canonical} is read-only."
                    ) from exc
        elif name in CALENDAR_FIELDS:
            if item.calendar is None:
                raise EwsFault("ErrorInvalidPropertySet", f"{name} is not a property of this item.")
            attr = CALENDAR_FIELDS[name]
            changes["calendar"] = replace(changes.get("calendar", item.calendar), **{attr: value})
        elif name in ("RequiredAttendees", "OptionalAttendees"):
            if item.calendar is None:
                raise EwsFault("ErrorInvalidPropertySet", f"{name} is not a property of this item.")
            cal = changes.get("calendar", item.calendar)
            keep = tuple(a for a in cal.attendees if a.required != (name == "RequiredAttendees"))
            changes["calendar"] = replace(cal, attendees=keep + value)
        elif name in ("InternetMessageId", "References", "InReplyTo", "MimeContent"):
            raise EwsFault("ErrorInvalidPropertySet", f"{name} is read-only after creation.")
        else:
            raise EwsFault(
                "ErrorInvalidPropertySet", f"Setting {name} is not supported by the sandbox."
            )
    return replace(item, **changes)


def clear_field(item: Item, uri: Element) -> Item:
    if uri.tag == t("ExtendedFieldURI"):
        try:
            return write_property(item, property_key(uri), None)
        except ReadOnlyProperty as exc:
            raise EwsFault(
                "ErrorInvalidPropertyDelete", "This property cannot be deleted."
            ) from exc
    name = uri.get("FieldURI", "").split(":", 1)[-1]
    resets: dict[str, dict[str, Any]] = {
        "Flag": {"flag": Flag()},
        "Categories": {"categories": ()},
        "Body": {"body": ""},
        "Importance": {"importance": "Normal"},
        "ToRecipients": {"to": ()},
        "CcRecipients": {"cc": ()},
        "BccRecipients": {"bcc": ()},
    }
    if name not in resets:
        raise EwsFault("ErrorInvalidPropertyDelete", f"{name} cannot be deleted.")
    return replace(item, **resets[name])
