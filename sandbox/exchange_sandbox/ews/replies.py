"""Replies and forwards in EWS (sandbox, a test double): CreateItem with ReplyToItem, ReplyAllToItem, ForwardItem.

A response object names the item it answers (``ReferenceItemId``); Exchange builds the new
message from it, in the referenced item's mailbox: "RE: "/"FW: " subject, recipients (the
sender; for reply-all everyone but oneself; for a forward only those given), the new body
above the quoted original, and the threading headers: ``In-Reply-To`` and ``References``
(replies) and ``Thread-Index``/``Thread-Topic`` (the original's conversation index with a
child block, so every copy stays in the original's conversation, [MS-OXOMSG] 2.2.1.3).
Errors as documented for CreateItem: ErrorMissingInformationReferenceItemId,
ErrorInvalidReferenceItem (a draft or one's own meeting replied to, not a message or calendar
item), ErrorInvalidRecipients (a forward sent to nobody). When the response is submitted
(SendOnly, SendAndSaveCopy, or SendItem of the SaveOnly draft), the original records it:
last verb 102/103/104 and its time (``store.verbs``).
"""

from __future__ import annotations

import base64
import email.utils
import html
import os
import re
from dataclasses import replace
from email import policy
from email.message import EmailMessage

from exchange_sandbox.ews.access import Caller, check_send_as, item_ref
from exchange_sandbox.ews.bodies import as_text
from exchange_sandbox.ews.faults import EwsFault
from exchange_sandbox.ews.fields import parse_addresses
from exchange_sandbox.ews.kinds import MESSAGE_KINDS, item_kind
from exchange_sandbox.ews.render import render_item_id_only
from exchange_sandbox.ews.xml import Element, m, sub, t, text_of
from exchange_sandbox.store import (
    Address,
    FolderInfo,
    Item,
    MailStore,
    NewItem,
    RespondsTo,
    utcnow,
    verbs,
)

RESPONSE_OBJECTS = ("ReplyToItem", "ReplyAllToItem", "ForwardItem")
_VERBS = {
    "ReplyToItem": verbs.VERB_REPLY,
    "ReplyAllToItem": verbs.VERB_REPLY_ALL,
    "ForwardItem": verbs.VERB_FORWARD,
}
_PREFIX = {"ReplyToItem": "RE: ", "ReplyAllToItem": "RE: ", "ForwardItem": "FW: "}
_ALREADY = re.compile(r"^(re|fw|fwd|aw|wg|antw|doorst)\s*:", re.IGNORECASE)


def create_response(
    store: MailStore,
    caller: Caller,
    el: Element,
    disposition: str,
    target: FolderInfo | None,
    out: Element,
) -> None:
    """Carry out one response object of a CreateItem; a saved draft's id goes into ``out``."""
    kind = el.tag.split("}", 1)[-1] if isinstance(el.tag, str) else ""
    ref = el.find(t("ReferenceItemId"))
    if ref is None:
        raise EwsFault(
            "ErrorMissingInformationReferenceItemId", "ReferenceItemId must be specified."
        )
    original = item_ref(store, ref, caller)
    _check_reference(kind, original)
    mailbox = original.mailbox
    me = Address(mailbox, store.mailbox_name(mailbox))
    to, cc, bcc = _recipients(kind, el, original, mailbox)
    if disposition != "SaveOnly" and not (to or cc or bcc):
        raise EwsFault("ErrorInvalidRecipients", "At least one recipient is required.")
    check_send_as(store, caller, mailbox)
    subject = text_of(el, t("Subject")) or _subject(kind, original.subject)
    mime = _compose(kind, el, original, me, to, cc, bcc, subject)
    draft = NewItem(
        mime=mime,
        subject=subject,
        from_=me,
        to=to,
        cc=cc,
        bcc=bcc,
        in_reply_to=original.message_id if kind != "ForwardItem" else "",
        references=_references(original) if kind != "ForwardItem" else (),
        # Sending it (now, or the draft later with SendItem) sets the original's last verb.
        responds_to=RespondsTo(original.id, original.message_id, _VERBS[kind]),
    )
    items_out = sub(out, m("Items"))
    if disposition == "SaveOnly":
        folder = target or store.folder(mailbox, "drafts")
        saved = store.create(folder.mailbox, folder.name, replace(draft, is_draft=True))
        render_item_id_only(items_out, saved)
        return
    # Sent like any message: submitted, so the answer carries no id (as create_item's sends).
    store.send(mailbox, draft, save_copy=disposition == "SendAndSaveCopy")


def _check_reference(kind: str, original: Item) -> None:
    found = item_kind(original)
    if found not in (*MESSAGE_KINDS, "CalendarItem"):
        raise EwsFault(
            "ErrorInvalidReferenceItem",
            "The reference item does not support the requested operation.",
        )
    replying = kind != "ForwardItem"
    if replying and original.is_draft:
        raise EwsFault(
            "ErrorInvalidReferenceItem",
            "The reference item does not support the requested operation.",
        )
    cal = original.calendar
    if (
        replying
        and found == "CalendarItem"
        and cal is not None
        and cal.organizer.email.lower() == original.mailbox
    ):
        raise EwsFault(
            "ErrorInvalidReferenceItem",
            "The reference item does not support the requested operation.",
        )


def _recipients(
    kind: str, el: Element, original: Item, mailbox: str
) -> tuple[tuple[Address, ...], tuple[Address, ...], tuple[Address, ...]]:
    given = [
        parse_addresses(el.find(t(tag)))
        for tag in ("ToRecipients", "CcRecipients", "BccRecipients")
    ]
    if kind == "ForwardItem":
        return given[0], given[1], given[2]
    sender = original.from_ or original.sender
    to: tuple[Address, ...] = _reply_to(original) or ((sender,) if sender is not None else ())
    cc: tuple[Address, ...] = ()
    if kind == "ReplyAllToItem":
        to += original.to
        cc = original.cc
    to, cc = _without(to + given[0], mailbox), _without(cc + given[1], mailbox)
    return (
        to,
        tuple(a for a in cc if a.email.lower() not in {b.email.lower() for b in to}),
        given[2],
    )


def _reply_to(original: Item) -> tuple[Address, ...]:
    values = [v for k, v in original.headers if k.lower() == "reply-to"]
    pairs = email.utils.getaddresses(values)
    return tuple(Address(addr, name) for name, addr in pairs if addr)


def _without(addresses: tuple[Address, ...], mailbox: str) -> tuple[Address, ...]:
    seen: set[str] = {mailbox.lower()}
    kept = []
    for a in addresses:
        if a.email.lower() not in seen:
            seen.add(a.email.lower())
            kept.append(a)
    return tuple(kept)


def _subject(kind: str, subject: str) -> str:
    prefix = _PREFIX[kind]
    if kind != "ForwardItem" and _ALREADY.match(subject) and subject[:2].lower() == "re":
        return subject
    return prefix + subject


def _references(original: Item) -> tuple[str, ...]:
    refs = list(original.references)
    if original.in_reply_to and original.in_reply_to not in refs:
        refs.append(original.in_reply_to)
    if original.message_id:
        refs.append(original.message_id)
    return tuple(refs)


def child_index(index: bytes) -> bytes:
    """The conversation index of a response: the original's plus a 5-byte child block."""
    if len(index) < 22:
        return index
    header_ft = int.from_bytes(index[1:6] + b"\x00\x00\x00", "big")
    now_ft = int((utcnow().timestamp() + 11644473600) * 10_000_000)
    delta = max(0, now_ft - header_ft)
    code, value = (
        (0, (delta >> 18) & 0x7FFFFFFF) if delta < 1 << 49 else (1, (delta >> 23) & 0x7FFFFFFF)
    )
    block = ((code << 31 | value) << 8) | (os.urandom(1)[0] & 0xF0) | 0x0
    return index + block.to_bytes(5, "big")


def _compose(
    kind: str,
    el: Element,
    original: Item,
    me: Address,
    to: tuple[Address, ...],
    cc: tuple[Address, ...],
    bcc: tuple[Address, ...],
    subject: str,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = email.utils.formataddr((me.name, me.email))
    for header, addrs in (("To", to), ("Cc", cc), ("Bcc", bcc)):
        if addrs:
            msg[header] = ", ".join(email.utils.formataddr((a.name, a.email)) for a in addrs)
    msg["Subject"] = subject
    msg["Thread-Topic"] = _ALREADY.sub("", original.subject).strip() or original.subject
    msg["Thread-Index"] = base64.b64encode(child_index(original.conversation_index)).decode()
    if kind != "ForwardItem" and original.message_id:
        msg["In-Reply-To"] = original.message_id
        msg["References"] = " ".join(_references(original))
    new = el.find(t("NewBodyContent"))
    if new is None:
        new = el.find(t("Body"))
    new_text = (new.text or "") if new is not None else ""
    as_html = new is not None and new.get("BodyType") == "HTML"
    sent = original.date_sent or original.date_received or utcnow()
    lines = [
        f"From: {_named(original.from_ or original.sender)}",
        f"Sent: {email.utils.format_datetime(sent)}",
        f"To: {'; '.join(_named(a) for a in original.to)}",
        f"Subject: {original.subject}",
    ]
    quoted = as_text(original.body, original.body_type)
    if as_html:
        body = (
            f"<html><body>{new_text}<hr>"
            + "<br>".join(html.escape(line) for line in lines)
            + f"<br><br><pre>{html.escape(quoted)}</pre></body></html>"
        )
        msg.set_content(body, subtype="html")
    else:
        body = new_text + "\r\n\r\n________________________________\r\n" + "\r\n".join(lines)
        msg.set_content(body + "\r\n\r\n" + quoted)
    return msg.as_bytes(policy=policy.SMTP)


def _named(address: Address | None) -> str:
    if address is None:
        return ""
    return f"{address.name} <{address.email}>" if address.name else address.email
