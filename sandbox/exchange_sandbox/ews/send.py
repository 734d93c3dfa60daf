"""EWS operations that create and send items in the sandbox (a test double): CreateItem, SendItem.

Sending checks send-as rights on From and Sender (also inside MIME); a sent message is
submitted, not saved, so the answer carries no id, as with Exchange.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lxml import etree

from exchange_sandbox.ews import meetings
from exchange_sandbox.ews.access import (
    Caller,
    check_mailbox,
    check_send_as,
    folder_ref,
    item_ref,
    own_mailbox,
)
from exchange_sandbox.ews.faults import EwsFault
from exchange_sandbox.ews.fields import item_fields
from exchange_sandbox.ews.meetings import MEETING_RESPONSE_OBJECTS
from exchange_sandbox.ews.render import render_item_id_only
from exchange_sandbox.ews.replies import RESPONSE_OBJECTS, create_response
from exchange_sandbox.ews.responses import each, empty_items
from exchange_sandbox.ews.xml import Element, boolean, m, sub
from exchange_sandbox.store import (
    Address,
    Flag,
    FolderInfo,
    MailStore,
    NewItem,
    parse_mime,
)


def _new_item(el: Element) -> tuple[str, NewItem, dict[str, Any]]:
    kind = etree.QName(el).localname
    f = item_fields(el)
    body = f.get("Body", ("", "Text"))
    new = NewItem(
        item_class=f.get("ItemClass")
        or ("IPM.Appointment" if kind == "CalendarItem" else "IPM.Note"),
        mime=f.get("MimeContent"),
        subject=f.get("Subject", ""),
        from_=f.get("From"),
        to=f.get("ToRecipients", ()),
        cc=f.get("CcRecipients", ()),
        bcc=f.get("BccRecipients", ()),
        body=body[0],
        body_type=body[1],
        is_read=f.get("IsRead", False),
        flag=f.get("Flag", Flag()),
        categories=f.get("Categories", ()),
        extended={k.canonical: (k, v) for k, v in f.get("ExtendedProperty", [])},
        importance=f.get("Importance", "Normal"),
        in_reply_to=f.get("InReplyTo", ""),
        references=tuple(f.get("References", "").split()),
    )
    return kind, new, f


def create_item(store: MailStore, op: Element, caller: Caller) -> Element:
    # Both are required where they apply (ErrorMessageDispositionRequired for messages and
    # responses, ErrorSendMeetingInvitationsRequired for calendar items); no default.
    given = op.get("MessageDisposition")
    invitations = op.get("SendMeetingInvitations")
    saved = op.find(m("SavedItemFolderId"))
    items_el = op.find(m("Items"))

    def build(el: Element, out: Element) -> None:
        # Exchange answers a bad SavedItemFolderId in each item's message, not as a fault.
        target = folder_ref(store, saved[0], caller) if saved is not None and len(saved) else None
        kind = etree.QName(el).localname
        if kind in MEETING_RESPONSE_OBJECTS:
            meetings.meeting_response(store, caller, el, given, target, out)
            return
        if kind == "CalendarItem":
            _, new, fields = _new_item(el)
            item = meetings.create_calendar(store, caller, target, new, fields, invitations)
            render_item_id_only(sub(out, m("Items")), item)
            return
        if given is None:
            raise EwsFault(
                "ErrorMessageDispositionRequired",
                "MessageDisposition is required when creating messages and responses.",
            )
        disposition = given
        if kind in RESPONSE_OBJECTS:
            create_response(store, caller, el, disposition, target, out)
            return
        kind, new, fields = _new_item(el)
        items_out = sub(out, m("Items"))
        if kind != "Message":
            raise EwsFault("ErrorInvalidRequest", f"The sandbox cannot create {kind} items.")
        if disposition == "SaveOnly":
            info = target or store.folder(own_mailbox(store, caller), "drafts")
            item = store.create(info.mailbox, info.name, replace(new, is_draft=True))
            render_item_id_only(items_out, item)
            return
        if disposition not in ("SendOnly", "SendAndSaveCopy"):
            raise EwsFault("ErrorInvalidRequest", f"Unknown MessageDisposition {disposition}.")
        if disposition == "SendAndSaveCopy" and target is not None and target.name != "sentitems":
            raise EwsFault(
                "ErrorInvalidRequest", "The sandbox saves sent copies in Sent Items only."
            )
        mailbox = _sending_mailbox(store, caller, target, new, fields.get("Sender"))
        # Like Exchange, a sent message gets no id in the answer: it is submitted, not saved.
        store.send(mailbox, new, save_copy=disposition == "SendAndSaveCopy")

    return each("CreateItem", list(items_el) if items_el is not None else [], build, empty_items)


def _sending_mailbox(
    store: MailStore,
    caller: Caller,
    target: FolderInfo | None,
    new: NewItem,
    sender_field: Address | None = None,
) -> str:
    """The mailbox a message is sent from, after checking the caller may send as its
    From and Sender (in the item or its MIME): ErrorSendAsDenied otherwise."""
    senders = [a for a in (new.from_, sender_field) if a is not None]
    if new.mime is not None:
        parsed = parse_mime(new.mime)
        senders += [a for a in (parsed["from_"], parsed["sender"]) if a is not None]
    for address in senders:
        check_send_as(store, caller, address.email)
    if target is not None:
        return target.mailbox
    if senders and store.has_mailbox(senders[0].email):
        return check_mailbox(store, caller, senders[0].email)
    return own_mailbox(store, caller)


def send_item(store: MailStore, op: Element, caller: Caller) -> Element:
    save = boolean(op.get("SaveItemToFolder", "true"))
    saved = op.find(m("SavedItemFolderId"))

    def build(ref: Element, out: Element) -> None:
        if saved is not None and not save:
            raise EwsFault(
                "ErrorInvalidSendItemSaveSettings",
                "SavedItemFolderId is not allowed when SaveItemToFolder is false.",
            )
        target = folder_ref(store, saved[0], caller) if saved is not None and len(saved) else None
        item = item_ref(store, ref, caller)
        if target is not None and target.mailbox != item.mailbox:
            raise EwsFault("ErrorInvalidRequest", "A draft is sent from its own mailbox.")
        if item.from_ is not None:
            check_send_as(store, caller, item.from_.email)
        draft = NewItem(
            item_class=item.item_class,
            mime=item.mime,
            subject=item.subject,
            from_=item.from_ or Address(item.mailbox, store.mailbox_name(item.mailbox)),
            to=item.to,
            cc=item.cc,
            bcc=item.bcc,
            body=item.body,
            body_type=item.body_type,
            categories=item.categories,
            extended=item.extended,
            importance=item.importance,
            in_reply_to=item.in_reply_to,
            references=item.references,
            # A saved meeting response keeps its meeting: the organizer's attendant reads it.
            calendar=item.calendar,
            # A saved reply or forward marks its original when it is sent, not before.
            responds_to=item.responds_to,
        )
        store.send(item.mailbox, draft, save_copy=save)
        store.delete(item.id)

    ids = op.find(m("ItemIds"))
    return each("SendItem", list(ids) if ids is not None else [], build)
