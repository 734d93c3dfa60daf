"""EWS XML vocabulary of the sandbox Exchange server (a test double): render and parse items.

Elements are emitted in the order the EWS schema (types.xsd) prescribes, so answers validate
against Microsoft's schema; properties that are not set are left out, as Exchange does.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from lxml import etree

from exchange_sandbox.store import (
    Address,
    Attendee,
    CalendarFields,
    Flag,
    FlagStatus,
    FolderInfo,
    Item,
    PropertyKey,
    ReadOnlyProperty,
    read_property,
    write_property,
)

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
TNS = "http://schemas.microsoft.com/exchange/services/2006/types"
MNS = "http://schemas.microsoft.com/exchange/services/2006/messages"
ENS = "http://schemas.microsoft.com/exchange/services/2006/errors"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {"m": MNS, "t": TNS}

Element = etree._Element


class EwsFault(Exception):
    """An error answered as a response message (or SOAP fault) with an EWS response code."""

    def __init__(
        self,
        code: str,
        text: str = "",
        values: dict[str, str] | None = None,
        field_uri: str | None = None,
    ) -> None:
        super().__init__(f"{code}: {text}")
        self.code = code
        self.text = text or code
        self.values = values or {}
        self.field_uri = field_uri
        """The property an error is about (MessageXml/FieldURI), as Exchange names it."""


def t(tag: str) -> str:
    return f"{{{TNS}}}{tag}"


def m(tag: str) -> str:
    return f"{{{MNS}}}{tag}"


def sub(parent: Element, tag: str, text: str | None = None, **attrs: str) -> Element:
    el = etree.SubElement(parent, tag, attrib=attrs or None)
    if text is not None:
        el.text = text
    return el


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_dt(text: str | None) -> datetime:
    if not text:
        raise EwsFault("ErrorInvalidRequest", "A date/time value is missing.")
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise EwsFault("ErrorInvalidRequest", f"Invalid date/time value {text!r}.") from exc
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def boolean(text: str | None) -> bool:
    return (text or "").strip().lower() in ("true", "1")


def text_of(parent: Element, tag: str) -> str | None:
    el = parent.find(tag)
    return el.text if el is not None else None


# ---------------------------------------------------------------- schema order

ITEM_ORDER = [
    "MimeContent",
    "ItemId",
    "ParentFolderId",
    "ItemClass",
    "Subject",
    "Sensitivity",
    "Body",
    "Attachments",
    "DateTimeReceived",
    "Size",
    "Categories",
    "Importance",
    "InReplyTo",
    "IsSubmitted",
    "IsDraft",
    "IsFromMe",
    "IsResend",
    "IsUnmodified",
    "InternetMessageHeaders",
    "DateTimeSent",
    "DateTimeCreated",
    "ResponseObjects",
    "ReminderDueBy",
    "ReminderIsSet",
    "ReminderNextTime",
    "ReminderMinutesBeforeStart",
    "DisplayCc",
    "DisplayTo",
    "DisplayBcc",
    "HasAttachments",
    "ExtendedProperty",
    "Culture",
    "EffectiveRights",
    "LastModifiedName",
    "LastModifiedTime",
    "IsAssociated",
    "WebClientReadFormQueryString",
    "WebClientEditFormQueryString",
    "ConversationId",
    "UniqueBody",
    "Flag",
]
MESSAGE_ORDER = [
    "Sender",
    "ToRecipients",
    "CcRecipients",
    "BccRecipients",
    "IsReadReceiptRequested",
    "IsDeliveryReceiptRequested",
    "ConversationIndex",
    "ConversationTopic",
    "From",
    "InternetMessageId",
    "IsRead",
    "IsResponseRequested",
    "References",
    "ReplyTo",
    "ReceivedBy",
    "ReceivedRepresenting",
]
CALENDAR_ORDER = [
    "UID",
    "RecurrenceId",
    "DateTimeStamp",
    "Start",
    "End",
    "OriginalStart",
    "IsAllDayEvent",
    "LegacyFreeBusyStatus",
    "Location",
    "When",
    "IsMeeting",
    "IsCancelled",
    "IsRecurring",
    "MeetingRequestWasSent",
    "IsResponseRequested",
    "CalendarItemType",
    "MyResponseType",
    "Organizer",
    "RequiredAttendees",
    "OptionalAttendees",
]
MEETING_ORDER = [
    "AssociatedCalendarItemId",
    "IsDelegated",
    "IsOutOfDate",
    "HasBeenProcessed",
    "ResponseType",
    "UID",
]
MEETING_REQUEST_ORDER = [
    "MeetingRequestType",
    "IntendedFreeBusyStatus",
    "Start",
    "End",
    "OriginalStart",
    "IsAllDayEvent",
    "LegacyFreeBusyStatus",
    "Location",
    "When",
    "IsMeeting",
    "IsCancelled",
    "IsRecurring",
    "MeetingRequestWasSent",
    "CalendarItemType",
    "MyResponseType",
    "Organizer",
    "RequiredAttendees",
    "OptionalAttendees",
]

KIND_ORDER: dict[str, list[str]] = {
    "Message": ITEM_ORDER + MESSAGE_ORDER,
    "CalendarItem": ITEM_ORDER + CALENDAR_ORDER,
    "MeetingRequest": ITEM_ORDER + MESSAGE_ORDER + MEETING_ORDER + MEETING_REQUEST_ORDER,
    "MeetingResponse": ITEM_ORDER + MESSAGE_ORDER + MEETING_ORDER,
    "MeetingCancellation": ITEM_ORDER + MESSAGE_ORDER + MEETING_ORDER,
}

DEFAULT_SHAPE = {
    "Message": {"Subject", "Sensitivity", "HasAttachments", "IsAssociated", "ToRecipients", "From", "IsRead"},
    "CalendarItem": {
        "Subject", "Sensitivity", "HasAttachments", "IsAssociated", "Start", "End",
        "LegacyFreeBusyStatus", "Location", "CalendarItemType", "Organizer",
    },
}  # fmt: skip
NOT_IN_ALL_PROPERTIES = {"MimeContent", "UniqueBody", "InternetMessageHeaders"}


MESSAGE_KINDS = ("Message", "MeetingRequest", "MeetingResponse", "MeetingCancellation")
MEETING_KINDS = MESSAGE_KINDS[1:]
URI_KINDS: dict[str, tuple[str, ...]] = {
    "item": (*MESSAGE_KINDS, "CalendarItem"),
    "message": MESSAGE_KINDS,
    "meeting": MEETING_KINDS,
    "meetingRequest": ("MeetingRequest",),
    "calendar": ("CalendarItem", *MEETING_KINDS),
}
"""The item types (of those the sandbox models) a FieldURI prefix belongs to (types.xsd)."""


def applies_to(uri: str, kind: str) -> bool:
    """Whether a FieldURI names a property of this type of item (contacts:, task:... never)."""
    return kind in URI_KINDS.get(uri.split(":", 1)[0], ())


def item_kind(item: Item) -> str:
    cls = item.item_class
    if cls.startswith("IPM.Appointment"):
        return "CalendarItem"
    if cls.startswith("IPM.Schedule.Meeting.Request"):
        return "MeetingRequest"
    if cls.startswith("IPM.Schedule.Meeting.Resp"):
        return "MeetingResponse"
    if cls.startswith("IPM.Schedule.Meeting.Canceled"):
        return "MeetingCancellation"
    return "Message"


# ---------------------------------------------------------------- shapes


@dataclass
class Shape:
    base: str = "Default"
    names: set[str] = field(default_factory=set)
    extended: list[PropertyKey] = field(default_factory=list)
    include_mime: bool = False
    body_type: str = "Best"
    uris: list[str] = field(default_factory=list)
    """The FieldURIs of AdditionalProperties as requested (``meeting:IsOutOfDate``)."""


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


def parse_shape(el: Element | None) -> Shape:
    shape = Shape()
    if el is None:
        return shape
    shape.base = text_of(el, t("BaseShape")) or "Default"
    shape.include_mime = boolean(text_of(el, t("IncludeMimeContent")))
    shape.body_type = text_of(el, t("BodyType")) or "Best"
    props = el.find(t("AdditionalProperties"))
    if props is not None:
        for child in props:
            if child.tag == t("ExtendedFieldURI"):
                shape.extended.append(property_key(child))
            elif child.tag in (t("FieldURI"), t("IndexedFieldURI")):
                uri = child.get("FieldURI", "")
                shape.names.add(uri.split(":", 1)[-1])
                shape.uris.append(uri)
    if shape.include_mime:
        shape.names.add("MimeContent")
    return shape


def wanted(shape: Shape, kind: str) -> set[str]:
    names = set(shape.names)
    if shape.base == "AllProperties":
        names |= set(KIND_ORDER[kind]) - NOT_IN_ALL_PROPERTIES
    elif shape.base == "Default":
        names |= DEFAULT_SHAPE.get(kind, DEFAULT_SHAPE["Message"])
    names.add("ItemId")
    return names


# ---------------------------------------------------------------- rendering


def mailbox_el(
    parent: Element, addr: Address, tag: str = "Mailbox", known: bool = False
) -> Element:
    box = sub(parent, t(tag))
    if addr.name:
        sub(box, t("Name"), addr.name)
    sub(box, t("EmailAddress"), addr.email)
    sub(box, t("RoutingType"), "SMTP")
    sub(box, t("MailboxType"), "Mailbox" if known else "OneOff")
    return box


def conversation_ews_id(guid_hex: str) -> str:
    # Exchange wraps the 16-byte conversation GUID in a small typed id structure.
    return base64.b64encode(b"\x00\x04\x10\x00" + bytes.fromhex(guid_hex)).decode()


def render_extended(parent: Element, key: PropertyKey, value: str | tuple[str, ...]) -> None:
    prop = sub(parent, t("ExtendedProperty"))
    attrs: dict[str, str] = {}
    if key.distinguished_set_id:
        attrs["DistinguishedPropertySetId"] = key.distinguished_set_id
    if key.property_set_id:
        attrs["PropertySetId"] = key.property_set_id
    if key.property_tag is not None:
        attrs["PropertyTag"] = f"0x{key.property_tag:x}"
    if key.property_name is not None:
        attrs["PropertyName"] = key.property_name
    if key.property_id is not None:
        attrs["PropertyId"] = str(key.property_id)
    attrs["PropertyType"] = key.property_type
    sub(prop, t("ExtendedFieldURI"), **attrs)
    if isinstance(value, tuple):
        values = sub(prop, t("Values"))
        for v in value:
            sub(values, t("Value"), v)
    else:
        sub(prop, t("Value"), value)


Renderer = Callable[[Element, Item, "RenderContext"], None]


@dataclass
class RenderContext:
    folder_id: Callable[[str, str], str]
    is_known: Callable[[str], bool]
    shape: Shape


def _recipients(tag: str, attr: str) -> Renderer:
    def render(parent: Element, item: Item, ctx: RenderContext) -> None:
        addrs: tuple[Address, ...] = getattr(item, attr)
        if addrs:
            box = sub(parent, t(tag))
            for a in addrs:
                mailbox_el(box, a, known=ctx.is_known(a.email))

    return render


def _single(tag: str, attr: str) -> Renderer:
    def render(parent: Element, item: Item, ctx: RenderContext) -> None:
        addr: Address | None = getattr(item, attr)
        if addr is not None:
            mailbox_el(sub(parent, t(tag)), addr, known=ctx.is_known(addr.email))

    return render


def _text(tag: str, get: Callable[[Item], str | None]) -> Renderer:
    def render(parent: Element, item: Item, ctx: RenderContext) -> None:
        value = get(item)
        if value is not None and value != "":
            sub(parent, t(tag), value)

    return render


def _bool(tag: str, get: Callable[[Item], bool]) -> Renderer:
    return _text(tag, lambda it: "true" if get(it) else "false")


def _date(tag: str, get: Callable[[Item], datetime | None]) -> Renderer:
    return _text(tag, lambda it: iso(v) if (v := get(it)) is not None else None)


def _cal(get: Callable[[CalendarFields], str | None]) -> Callable[[Item], str | None]:
    return lambda it: get(it.calendar) if it.calendar is not None else None


def _render_mime(parent: Element, item: Item, ctx: RenderContext) -> None:
    if item.mime is not None:
        sub(parent, t("MimeContent"), base64.b64encode(item.mime).decode(), CharacterSet="UTF-8")


def _render_item_id(parent: Element, item: Item, ctx: RenderContext) -> None:
    sub(parent, t("ItemId"), Id=item.id, ChangeKey=item.change_key)


def _render_parent(parent: Element, item: Item, ctx: RenderContext) -> None:
    sub(
        parent,
        t("ParentFolderId"),
        Id=ctx.folder_id(item.mailbox, item.folder),
        ChangeKey="AQAAAA==",
    )


def _render_body(parent: Element, item: Item, ctx: RenderContext) -> None:
    body_type = item.body_type
    body = item.body
    if ctx.shape.body_type == "Text" and body_type == "HTML":
        body_type = "Text"
    elif ctx.shape.body_type == "HTML" and body_type == "Text":
        body_type = "HTML"
        body = (
            "<html><body><pre>"
            + (body.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
            + "</pre></body></html>"
        )
    sub(parent, t("Body"), body, BodyType=body_type, IsTruncated="false")


def _render_categories(parent: Element, item: Item, ctx: RenderContext) -> None:
    if item.categories:
        cats = sub(parent, t("Categories"))
        for c in item.categories:
            sub(cats, t("String"), c)


def _render_headers(parent: Element, item: Item, ctx: RenderContext) -> None:
    if item.headers:
        box = sub(parent, t("InternetMessageHeaders"))
        for name, value in item.headers:
            sub(box, t("InternetMessageHeader"), value, HeaderName=name)


def _render_extended(parent: Element, item: Item, ctx: RenderContext) -> None:
    for key in ctx.shape.extended:
        value = read_property(item, key)
        if value is not None:
            # Echo the property as the client named it, like Exchange does.
            render_extended(parent, key, value)


def _render_conversation(parent: Element, item: Item, ctx: RenderContext) -> None:
    if item.conversation_id:
        sub(parent, t("ConversationId"), Id=conversation_ews_id(item.conversation_id))


def _render_flag(parent: Element, item: Item, ctx: RenderContext) -> None:
    box = sub(parent, t("Flag"))
    sub(box, t("FlagStatus"), item.flag.status)
    if item.flag.start is not None:
        sub(box, t("StartDate"), iso(item.flag.start))
    if item.flag.due is not None:
        sub(box, t("DueDate"), iso(item.flag.due))
    if item.flag.complete is not None:
        sub(box, t("CompleteDate"), iso(item.flag.complete))


def _render_references(parent: Element, item: Item, ctx: RenderContext) -> None:
    if item.references:
        sub(parent, t("References"), " ".join(item.references))


def _render_organizer(parent: Element, item: Item, ctx: RenderContext) -> None:
    if item.calendar is not None:
        org = item.calendar.organizer
        mailbox_el(sub(parent, t("Organizer")), org, known=ctx.is_known(org.email))


def _attendees(tag: str, required: bool) -> Renderer:
    def render(parent: Element, item: Item, ctx: RenderContext) -> None:
        if item.calendar is None:
            return
        chosen = [a for a in item.calendar.attendees if a.required == required]
        if chosen:
            box = sub(parent, t(tag))
            for a in chosen:
                att = sub(box, t("Attendee"))
                mailbox_el(att, a.address, known=ctx.is_known(a.address.email))
                sub(att, t("ResponseType"), a.response)

    return render


def _display(attr: str) -> Callable[[Item], str]:
    return lambda it: "; ".join(a.name or a.email for a in getattr(it, attr))


def _is_meeting(it: Item) -> bool:
    return it.calendar is not None and bool(it.calendar.attendees)


def _my_response(it: Item) -> str:
    if it.calendar is None:
        return "Unknown"
    if it.calendar.organizer.email.lower() == it.mailbox:
        return "Organizer"
    return "NoResponseReceived" if it.calendar.free_busy == "Tentative" else "Accept"


def _response_objects(it: Item) -> tuple[str, ...]:
    """The actions Exchange offers on an item (ResponseObjects), in Exchange's order."""
    kind = item_kind(it)
    reply = ("ReplyToItem", "ReplyAllToItem", "ForwardItem")
    if it.is_draft:
        return ()
    if kind == "MeetingRequest":
        return ("AcceptItem", "TentativelyAcceptItem", "DeclineItem", *reply)
    if kind == "CalendarItem":
        if _my_response(it) != "Organizer":
            return ("AcceptItem", "TentativelyAcceptItem", "DeclineItem", *reply)
        return ("CancelCalendarItem", "ForwardItem") if _is_meeting(it) else ("ForwardItem",)
    return reply


def _render_response_objects(parent: Element, item: Item, ctx: RenderContext) -> None:
    names = _response_objects(item)
    if names:
        box = sub(parent, t("ResponseObjects"))
        for name in names:
            sub(box, t(name))


PID_TAG_PROCESSED = PropertyKey(property_type="Boolean", property_tag=0x7D01)
"""PidTagProcessed, behind a meeting message's HasBeenProcessed."""


def _has_been_processed(it: Item) -> bool:
    value = read_property(it, PID_TAG_PROCESSED)
    return isinstance(value, str) and boolean(value)


def _is_out_of_date(it: Item) -> bool:
    # A meeting message is out of date once its organizer sent a newer version of the meeting;
    # the sandbox sends every meeting once and never updates it, so none is ever superseded.
    return False


RENDERERS: dict[str, Renderer] = {
    "MimeContent": _render_mime,
    "ItemId": _render_item_id,
    "ParentFolderId": _render_parent,
    "ItemClass": _text("ItemClass", lambda it: it.item_class),
    "Subject": _text("Subject", lambda it: it.subject),
    "Sensitivity": _text("Sensitivity", lambda it: "Normal"),
    "Body": _render_body,
    "DateTimeReceived": _date("DateTimeReceived", lambda it: it.date_received),
    "Size": _text("Size", lambda it: str(it.size)),
    "Categories": _render_categories,
    "Importance": _text("Importance", lambda it: it.importance),
    "InReplyTo": _text("InReplyTo", lambda it: it.in_reply_to),
    "IsSubmitted": _bool("IsSubmitted", lambda it: it.folder == "sentitems"),
    "IsDraft": _bool("IsDraft", lambda it: it.is_draft),
    "IsFromMe": _bool(
        "IsFromMe", lambda it: it.from_ is not None and it.from_.email.lower() == it.mailbox
    ),
    "IsResend": _bool("IsResend", lambda it: False),
    "IsUnmodified": _bool("IsUnmodified", lambda it: it.last_modified == it.date_created),
    "InternetMessageHeaders": _render_headers,
    "DateTimeSent": _date("DateTimeSent", lambda it: it.date_sent),
    "DateTimeCreated": _date("DateTimeCreated", lambda it: it.date_created),
    "ResponseObjects": _render_response_objects,
    "ReminderIsSet": _bool("ReminderIsSet", lambda it: False),
    "DisplayCc": _text("DisplayCc", _display("cc")),
    "DisplayTo": _text("DisplayTo", _display("to")),
    "HasAttachments": _bool("HasAttachments", lambda it: False),
    "ExtendedProperty": _render_extended,
    "LastModifiedTime": _date("LastModifiedTime", lambda it: it.last_modified),
    "IsAssociated": _bool("IsAssociated", lambda it: False),
    "ConversationId": _render_conversation,
    "Flag": _render_flag,
    "Sender": _single("Sender", "sender"),
    "ToRecipients": _recipients("ToRecipients", "to"),
    "CcRecipients": _recipients("CcRecipients", "cc"),
    "BccRecipients": _recipients("BccRecipients", "bcc"),
    "IsReadReceiptRequested": _bool("IsReadReceiptRequested", lambda it: False),
    "IsDeliveryReceiptRequested": _bool("IsDeliveryReceiptRequested", lambda it: False),
    "ConversationIndex": _text(
        "ConversationIndex", lambda it: base64.b64encode(it.conversation_index).decode() or None
    ),
    "ConversationTopic": _text("ConversationTopic", lambda it: it.subject),
    "From": _single("From", "from_"),
    "InternetMessageId": _text("InternetMessageId", lambda it: it.message_id),
    "IsRead": _bool("IsRead", lambda it: it.is_read),
    "References": _render_references,
    "UID": _text("UID", _cal(lambda c: c.uid)),
    "Start": _date("Start", lambda it: it.calendar.start if it.calendar else None),
    "End": _date("End", lambda it: it.calendar.end if it.calendar else None),
    "IsAllDayEvent": _text("IsAllDayEvent", _cal(lambda c: "true" if c.is_all_day else "false")),
    "LegacyFreeBusyStatus": _text("LegacyFreeBusyStatus", _cal(lambda c: c.free_busy)),
    "Location": _text("Location", _cal(lambda c: c.location)),
    "IsMeeting": _bool("IsMeeting", _is_meeting),
    "IsCancelled": _text("IsCancelled", _cal(lambda c: "false")),
    "IsRecurring": _text("IsRecurring", _cal(lambda c: "false")),
    "MeetingRequestWasSent": _text(
        "MeetingRequestWasSent", _cal(lambda c: "true" if c.attendees else "false")
    ),
    "CalendarItemType": _text("CalendarItemType", _cal(lambda c: "Single")),
    "MyResponseType": _text("MyResponseType", lambda it: _my_response(it) if it.calendar else None),
    "Organizer": _render_organizer,
    "RequiredAttendees": _attendees("RequiredAttendees", True),
    "OptionalAttendees": _attendees("OptionalAttendees", False),
    "IsOutOfDate": _bool("IsOutOfDate", _is_out_of_date),
    "HasBeenProcessed": _bool("HasBeenProcessed", _has_been_processed),
    "ResponseType": _text("ResponseType", lambda it: "NoResponseReceived"),
    "MeetingRequestType": _text("MeetingRequestType", lambda it: "NewMeetingRequest"),
    "IntendedFreeBusyStatus": _text("IntendedFreeBusyStatus", lambda it: "Busy"),
}


def render_item(parent: Element, item: Item, ctx: RenderContext) -> Element:
    kind = item_kind(item)
    el = sub(parent, t(kind))
    names = wanted(ctx.shape, kind)
    if ctx.shape.extended:
        names.add("ExtendedProperty")
    for name in dict.fromkeys(KIND_ORDER[kind]):
        if name in names and name in RENDERERS:
            RENDERERS[name](el, item, ctx)
    return el


def render_item_id_only(parent: Element, item: Item) -> Element:
    el = sub(parent, t(item_kind(item)))
    sub(el, t("ItemId"), Id=item.id, ChangeKey=item.change_key)
    return el


FOLDER_CLASSES = {"calendar": ("CalendarFolder", "IPF.Appointment")}

FOLDER_DEFAULT_SHAPE = {"DisplayName", "TotalCount", "ChildFolderCount", "UnreadCount"}
"""The folder properties of BaseShape Default (Microsoft's GetFolder/FindFolder examples)."""
FOLDER_ALL_PROPERTIES = {"ParentFolderId", "FolderClass"} | FOLDER_DEFAULT_SHAPE


@dataclass
class FolderShape:
    """A FolderShape: its BaseShape and the folder:* properties named in AdditionalProperties."""

    base: str = "Default"
    names: set[str] = field(default_factory=set)

    def wanted(self) -> set[str]:
        if self.base == "AllProperties":
            return self.names | FOLDER_ALL_PROPERTIES
        if self.base == "Default":
            return self.names | FOLDER_DEFAULT_SHAPE
        return set(self.names)


def parse_folder_shape(el: Element | None) -> FolderShape:
    if el is None:
        return FolderShape()
    shape = FolderShape(base=text_of(el, t("BaseShape")) or "Default")
    props = el.find(t("AdditionalProperties"))
    if props is not None:
        for child in props:
            if child.tag == t("FieldURI"):
                shape.names.add(child.get("FieldURI", "").split(":", 1)[-1])
    return shape


def render_folder(
    parent: Element, info: FolderInfo, shape: FolderShape, parent_id: str | None
) -> Element:
    """A folder with the properties its shape asks for, in the schema's order (BaseFolderType)."""
    tag, folder_class = FOLDER_CLASSES.get(info.name, ("Folder", "IPF.Note"))
    if info.name in ("root", "msgfolderroot"):
        folder_class = ""
    names = shape.wanted()
    el = sub(parent, t(tag))
    sub(el, t("FolderId"), Id=info.id, ChangeKey="AQAAABYAAAA=")
    if "ParentFolderId" in names and parent_id is not None:
        sub(el, t("ParentFolderId"), Id=parent_id, ChangeKey="AQAAAA==")
    if "FolderClass" in names and folder_class:
        sub(el, t("FolderClass"), folder_class)
    if "DisplayName" in names:
        sub(el, t("DisplayName"), info.display_name)
    if "TotalCount" in names:
        sub(el, t("TotalCount"), str(info.total))
    if "ChildFolderCount" in names:
        sub(el, t("ChildFolderCount"), str(info.child_count))
    if "UnreadCount" in names and tag == "Folder":  # CalendarFolderType has no UnreadCount
        sub(el, t("UnreadCount"), str(info.unread))
    return el


# ---------------------------------------------------------------- parsing items


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
            out[name] = parse_dt(child.text)
        elif name in ("IsRead", "IsAllDayEvent", "IsDraft"):
            out[name] = boolean(child.text)
        else:
            out[name] = child.text or ""
    if extended:
        out["ExtendedProperty"] = extended
    return out


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
        elif name in ("Start", "End", "Location", "LegacyFreeBusyStatus", "IsAllDayEvent"):
            if item.calendar is None:
                raise EwsFault("ErrorInvalidPropertySet", f"{name} is not a property of this item.")
            attr = {
                "Start": "start", "End": "end", "Location": "location",
                "LegacyFreeBusyStatus": "free_busy", "IsAllDayEvent": "is_all_day",
            }[name]  # fmt: skip
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


# ---------------------------------------------------------------- time zones


@dataclass(frozen=True)
class ZoneRule:
    """A Windows time zone with the yearly DST rule Exchange publishes for it."""

    ms_id: str
    name: str
    std_bias: int  # minutes, UTC = local + bias
    dst: tuple[tuple[int, int, int], tuple[int, int, int]] | None  # (month, occurrence, hour) x2


ZONES = {
    z.ms_id: z
    for z in (
        ZoneRule("UTC", "(UTC) Coordinated Universal Time", 0, None),
        ZoneRule(
            "W. Europe Standard Time",
            "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
            -60,
            ((3, -1, 2), (10, -1, 3)),
        ),
        ZoneRule(
            "Romance Standard Time",
            "(UTC+01:00) Brussels, Copenhagen, Madrid, Paris",
            -60,
            ((3, -1, 2), (10, -1, 3)),
        ),
        ZoneRule(
            "Central Europe Standard Time",
            "(UTC+01:00) Belgrade, Bratislava, Budapest, Ljubljana, Prague",
            -60,
            ((3, -1, 2), (10, -1, 3)),
        ),
        ZoneRule(
            "GMT Standard Time",
            "(UTC+00:00) Dublin, Edinburgh, Lisbon, London",
            0,
            ((3, -1, 1), (10, -1, 2)),
        ),
    )
}


def render_zone(parent: Element, zone: ZoneRule) -> None:
    tzd = sub(parent, t("TimeZoneDefinition"), Name=zone.name, Id=zone.ms_id)
    periods = sub(tzd, t("Periods"))
    prefix = f"trule:Microsoft/Registry/{zone.ms_id}/2006"

    def dur(minutes: int) -> str:
        sign = "-" if minutes < 0 else ""
        minutes = abs(minutes)
        return f"{sign}PT{minutes // 60}H" + (f"{minutes % 60}M" if minutes % 60 else "")

    sub(periods, t("Period"), Bias=dur(zone.std_bias), Name="Standard", Id=f"{prefix}-Standard")
    if zone.dst:
        sub(
            periods,
            t("Period"),
            Bias=dur(zone.std_bias - 60),
            Name="Daylight",
            Id=f"{prefix}-Daylight",
        )
    groups = sub(tzd, t("TransitionsGroups"))
    group = sub(groups, t("TransitionsGroup"), Id="0")
    if zone.dst is None:
        tr = sub(group, t("Transition"))
        sub(tr, t("To"), f"{prefix}-Standard", Kind="Period")
    else:
        for (month, occ, hour), target in zip(zone.dst, ("Daylight", "Standard"), strict=True):
            tr = sub(group, t("RecurringDayTransition"))
            sub(tr, t("To"), f"{prefix}-{target}", Kind="Period")
            sub(tr, t("TimeOffset"), f"PT{hour}H")
            sub(tr, t("Month"), str(month))
            sub(tr, t("DayOfWeek"), "Sunday")
            sub(tr, t("Occurrence"), str(occ))
    transitions = sub(tzd, t("Transitions"))
    tr = sub(transitions, t("Transition"))
    sub(tr, t("To"), "0", Kind="Group")


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class SerializableZone:
    """The TimeZone of GetUserAvailability: a bias plus a yearly standard/daylight rule."""

    bias: int
    std: (
        tuple[int, int, int, int, int] | None
    )  # bias, month, occurrence(1-5), weekday(0=Mon), minutes
    dst: tuple[int, int, int, int, int] | None

    @classmethod
    def parse(cls, el: Element | None) -> SerializableZone:
        if el is None:
            return cls(0, None, None)

        def rule(tag: str) -> tuple[int, int, int, int, int] | None:
            part = el.find(t(tag))
            if part is None:
                return None
            hh, mm, *_ = (text_of(part, t("Time")) or "00:00:00").split(":")
            day = text_of(part, t("DayOfWeek")) or "Sunday"
            return (
                int(text_of(part, t("Bias")) or 0),
                int(text_of(part, t("Month")) or 1),
                int(text_of(part, t("DayOrder")) or 1),
                WEEKDAYS.index(day) if day in WEEKDAYS else 6,
                int(hh) * 60 + int(mm),
            )

        return cls(int(text_of(el, t("Bias")) or 0), rule("StandardTime"), rule("DaylightTime"))

    @staticmethod
    def _transition(year: int, r: tuple[int, int, int, int, int]) -> datetime:
        _, month, order, weekday, minutes = r
        first = datetime(year, month, 1)  # noqa: DTZ001  # local wall-clock time of the zone being modelled
        offset = (weekday - first.weekday()) % 7
        day = first + timedelta(days=offset + 7 * (order - 1))
        while day.month != month:  # occurrence 5 means "last"
            day -= timedelta(days=7)
        return day + timedelta(minutes=minutes)

    def to_local(self, moment: datetime) -> datetime:
        """Naive local wall-clock time of a UTC moment in this zone."""
        utc = moment.astimezone(UTC).replace(tzinfo=None)
        std_local = utc - timedelta(minutes=self.bias + (self.std[0] if self.std else 0))
        if self.std is None or self.dst is None or self.dst[1] == 0:
            return std_local
        dst_local = utc - timedelta(minutes=self.bias + self.dst[0])
        start = self._transition(utc.year, self.dst)
        end = self._transition(utc.year, self.std)
        in_dst = start <= std_local < end if start < end else not (end <= std_local < start)
        return dst_local if in_dst else std_local


def local_iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S")


def collect(elements: Iterable[Element]) -> list[Element]:
    return list(elements)
