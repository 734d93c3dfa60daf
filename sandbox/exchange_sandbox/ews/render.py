"""Items and folders as EWS XML (sandbox, a test double): the properties a shape asks for, in schema order.

Properties that are not set are left out, as Exchange does.
"""

from __future__ import annotations

import base64

from exchange_sandbox.ews.bodies import as_text
from exchange_sandbox.ews.ids import conversation_id
from exchange_sandbox.ews.kinds import KIND_ORDER, NOT_FOUND_BY_FIND, item_kind
from exchange_sandbox.ews.render_calendar import RENDERERS as CALENDAR_RENDERERS
from exchange_sandbox.ews.render_parts import (
    RenderContext,
    Renderer,
    boolean,
    date,
    mailbox_el,
    text,
)
from exchange_sandbox.ews.shapes import FolderShape, wanted
from exchange_sandbox.ews.versions import has
from exchange_sandbox.ews.xml import Element, iso, sub, t
from exchange_sandbox.store import (
    Address,
    FolderInfo,
    Item,
    PropertyKey,
    read_property,
)


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
        sub(parent, t("ConversationId"), Id=conversation_id(item.conversation_id))


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


def _display(tag: str, attr: str) -> Renderer:
    """DisplayTo/DisplayCc: the names, ``;``-separated, written even when empty (as Exchange
    does); a calendar item's are its required and optional attendees."""

    def render(parent: Element, item: Item, ctx: RenderContext) -> None:
        addresses: tuple[Address, ...] = getattr(item, attr)
        if item.calendar is not None and item_kind(item) == "CalendarItem":
            wanted = attr == "to"
            addresses = tuple(a.address for a in item.calendar.attendees if a.required == wanted)
        sub(parent, t(tag), "; ".join(a.name or a.email for a in addresses))

    return render


RENDERERS: dict[str, Renderer] = {
    "MimeContent": _render_mime,
    "ItemId": _render_item_id,
    "ParentFolderId": _render_parent,
    "ItemClass": text("ItemClass", lambda it: it.item_class),
    "Subject": text("Subject", lambda it: it.subject),
    "Sensitivity": text("Sensitivity", lambda it: "Normal"),
    "Body": _render_body,
    "DateTimeReceived": date("DateTimeReceived", lambda it: it.date_received),
    "Size": text("Size", lambda it: str(it.size)),
    "Categories": _render_categories,
    "Importance": text("Importance", lambda it: it.importance),
    "InReplyTo": text("InReplyTo", lambda it: it.in_reply_to),
    "IsSubmitted": boolean("IsSubmitted", lambda it: it.folder == "sentitems"),
    "IsDraft": boolean("IsDraft", lambda it: it.is_draft),
    "IsFromMe": boolean(
        "IsFromMe", lambda it: it.from_ is not None and it.from_.email.lower() == it.mailbox
    ),
    "IsResend": boolean("IsResend", lambda it: False),
    "IsUnmodified": boolean("IsUnmodified", lambda it: it.last_modified == it.date_created),
    "InternetMessageHeaders": _render_headers,
    "DateTimeSent": date("DateTimeSent", lambda it: it.date_sent),
    "DateTimeCreated": date("DateTimeCreated", lambda it: it.date_created),
    # A reminder belongs to calendar items and meeting messages; a message has none.
    "ReminderDueBy": date(
        "ReminderDueBy",
        lambda it: it.calendar.start if it.calendar and it.calendar.reminder_set else None,
    ),
    "ReminderIsSet": boolean(
        "ReminderIsSet", lambda it: it.calendar is not None and it.calendar.reminder_set
    ),
    "ReminderMinutesBeforeStart": text(
        "ReminderMinutesBeforeStart",
        lambda it: str(it.calendar.reminder_minutes) if it.calendar else None,
    ),
    "DisplayCc": _display("DisplayCc", "cc"),
    "DisplayTo": _display("DisplayTo", "to"),
    "HasAttachments": boolean("HasAttachments", lambda it: False),
    "ExtendedProperty": _render_extended,
    "LastModifiedTime": date("LastModifiedTime", lambda it: it.last_modified),
    "IsAssociated": boolean("IsAssociated", lambda it: False),
    "ConversationId": _render_conversation,
    "Flag": _render_flag,
    "TextBody": _render_text_body,
    "Sender": _single("Sender", "sender"),
    "ToRecipients": _recipients("ToRecipients", "to"),
    "CcRecipients": _recipients("CcRecipients", "cc"),
    "BccRecipients": _recipients("BccRecipients", "bcc"),
    "IsReadReceiptRequested": boolean("IsReadReceiptRequested", lambda it: False),
    "IsDeliveryReceiptRequested": boolean("IsDeliveryReceiptRequested", lambda it: False),
    "ConversationIndex": text(
        "ConversationIndex", lambda it: base64.b64encode(it.conversation_index).decode() or None
    ),
    "ConversationTopic": text("ConversationTopic", lambda it: it.subject),
    "From": _single("From", "from_"),
    "InternetMessageId": text("InternetMessageId", lambda it: it.message_id),
    "IsRead": boolean("IsRead", lambda it: it.is_read),
    "References": _render_references,
    **CALENDAR_RENDERERS,
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
#: The element a folder users made is shown as, by the start of its class.
_MADE_TAGS = {
    "CalendarFolder": "IPF.Appointment",
    "ContactsFolder": "IPF.Contact",
    "TasksFolder": "IPF.Task",
}


def render_folder(
    parent: Element, info: FolderInfo, shape: FolderShape, parent_id: str | None
) -> Element:
    """A folder with the properties its shape asks for, in the schema's order (BaseFolderType)."""
    tag, folder_class = FOLDER_CLASSES.get(info.name, ("Folder", "IPF.Note"))
    if info.name in ("root", "msgfolderroot"):
        folder_class = ""
    if info.user_made:  # the class it was made with (none for a plain Folder without one)
        folder_class = info.folder_class
        tag = next((k for k, c in _MADE_TAGS.items() if folder_class.startswith(c)), "Folder")
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
    if "UnreadCount" in names and tag in ("Folder", "TasksFolder"):  # FolderType and its kin
        sub(el, t("UnreadCount"), str(info.unread))
    return el
