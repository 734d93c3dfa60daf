"""Items and folders as EWS XML (sandbox, a test double): the properties a shape asks for, in schema order.

Properties that are not set are left out, as Exchange does.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from exchange_sandbox.ews.bodies import as_text
from exchange_sandbox.ews.kinds import KIND_ORDER, NOT_FOUND_BY_FIND, item_kind
from exchange_sandbox.ews.shapes import FolderShape, Shape, wanted
from exchange_sandbox.ews.versions import has
from exchange_sandbox.ews.xml import Element, boolean, iso, sub, t
from exchange_sandbox.store import (
    Address,
    CalendarFields,
    FolderInfo,
    Item,
    PropertyKey,
    read_property,
)


def mailbox_el(
    parent: Element, addr: Address, tag: str = "Mailbox", mailbox_type: str | None = "OneOff"
) -> Element:
    """An EmailAddressType element; ``mailbox_type`` None leaves MailboxType out (Exchange 2007)."""
    box = sub(parent, t(tag))
    if addr.name:
        sub(box, t("Name"), addr.name)
    sub(box, t("EmailAddress"), addr.email)
    sub(box, t("RoutingType"), "SMTP")
    if mailbox_type is not None:
        sub(box, t("MailboxType"), mailbox_type)
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
    version: str = "Exchange2016"
    """The RequestServerVersion: what a later version introduced is left out."""
    operation: str = "GetItem"
    """FindItem and SyncFolderItems return no bodies, recipient lists or headers."""

    def mailbox_type(self, email: str) -> str | None:
        if not has(self.version, "MailboxType"):
            return None
        return "Mailbox" if self.is_known(email) else "OneOff"


def _recipients(tag: str, attr: str) -> Renderer:
    def render(parent: Element, item: Item, ctx: RenderContext) -> None:
        addrs: tuple[Address, ...] = getattr(item, attr)
        if addrs:
            box = sub(parent, t(tag))
            for a in addrs:
                mailbox_el(box, a, mailbox_type=ctx.mailbox_type(a.email))

    return render


def _single(tag: str, attr: str) -> Renderer:
    def render(parent: Element, item: Item, ctx: RenderContext) -> None:
        addr: Address | None = getattr(item, attr)
        if addr is not None:
            mailbox_el(sub(parent, t(tag)), addr, mailbox_type=ctx.mailbox_type(addr.email))

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


def _render_text_body(parent: Element, item: Item, ctx: RenderContext) -> None:
    # item:TextBody (Exchange 2013+): the body as plain text, whatever its stored format.
    sub(
        parent,
        t("TextBody"),
        as_text(item.body, item.body_type),
        BodyType="Text",
        IsTruncated="false",
    )


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
    "TextBody": _render_text_body,
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
    if ctx.operation in ("FindItem", "SyncFolderItems"):
        names -= NOT_FOUND_BY_FIND
    for name in dict.fromkeys(KIND_ORDER[kind]):
        if name in names and name in RENDERERS and has(ctx.version, name):
            RENDERERS[name](el, item, ctx)
    return el


def render_item_id_only(parent: Element, item: Item) -> Element:
    el = sub(parent, t(item_kind(item)))
    sub(el, t("ItemId"), Id=item.id, ChangeKey=item.change_key)
    return el


FOLDER_CLASSES = {"calendar": ("CalendarFolder", "IPF.Appointment")}


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
