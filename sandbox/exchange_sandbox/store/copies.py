"""What the sandbox store (a test double) keeps of a submitted message: its Sent Items copy and the recipients' copies.

Exchange keeps no MIME. It converts a message to MAPI properties and writes MIME again from
them when asked ("EWS, MIME, and the missing Internet message headers", Microsoft, 2011).
A header of a sent message therefore survives in the sender's copy only when it maps to a
property (Message-ID, In-Reply-To, References, From, Sender, To, Cc, Bcc, Reply-To, Subject,
Date, Importance, Thread-Index, Thread-Topic, the MIME structure) or is kept as a generic
named property in the PS_INTERNET_HEADERS set: [MS-OXCMAIL] 2.2.3.2.29 keeps every other
header (``X-`` headers, ``Auto-Submitted``, ...) except those it lists (:data:`DROPPED`),
such as Received, Return-Path, Resent-*, Organization, X-MimeOle, X-MS-TNEF-Correlator and
X-MS-Exchange-Organization-*.

Transport headers (PidTagTransportMessageHeaders) are written only when a message is
delivered from SMTP ([MS-OXCMAIL] 2.2.3.2.28), so a Sent Items copy has none; Graph, whose
``internetMessageHeaders`` come from them, shows a sent copy without any
(``copy_headers="none"``), while EWS shows the kept headers (``"kept"``).

Recipients get the Internet message as transport delivers it, without Bcc: the sender's
MAPI properties (extended properties, categories, flag) do not travel with it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Literal

from exchange_sandbox.store.mime import parse_mime, without_header
from exchange_sandbox.store.model import Flag, Item, NewItem

CopyHeaders = Literal["kept", "none"]

#: Headers [MS-OXCMAIL] 2.2.3.2.29 does not keep as generic named properties (lower case).
DROPPED = frozenset(
    name.lower()
    for name in (
        "Received",
        "Resent-From",
        "Resent-Sender",
        "Resent-Date",
        "Resent-Message-Id",
        "Content-Description",
        "Content-MD5",
        "Return-Path",
        "Comments",
        "AdHoc",
        "Apparently-To",
        "Approved",
        "Control",
        "Distribution",
        "Encoding",
        "FollowUp-To",
        "Lines",
        "Bytes",
        "Article",
        "Supercedes",
        "NewsGroups",
        "NntpPostingHost",
        "Organization",
        "Path",
        "RR",
        "Summary",
        "Trace",
        "Encrypted",
        "X-MimeOle",
        "X-MS-TNEF-Correlator",
    )
)
_RESERVED_PREFIXES = ("x-ms-exchange-organization-", "x-ms-exchange-forest-")
_RESERVED_KEPT = frozenset(
    f"x-ms-exchange-organization-{n}"
    for n in ("authas", "authdomain", "authmechanism", "authsource")
)


def kept(name: str) -> bool:
    """Whether the sender's stored copy keeps a header of this name."""
    lower = name.strip().lower()
    if lower in _RESERVED_KEPT:
        return True
    return lower not in DROPPED and not lower.startswith(_RESERVED_PREFIXES)


def kept_mime(mime: bytes) -> bytes:
    """The message with only the header fields the store keeps (folded lines included)."""
    head, sep, body = mime.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = mime.partition(b"\n\n")
    newline = b"\r\n" if sep == b"\r\n\r\n" else b"\n"
    lines: list[bytes] = []
    keeping = True
    for line in head.split(newline):
        if line[:1] in (b" ", b"\t"):
            if keeping:
                lines.append(line)
            continue
        keeping = kept(line.split(b":", 1)[0].decode("ascii", "replace"))
        if keeping:
            lines.append(line)
    return newline.join(lines) + sep + body


def in_transit_form(message: Item, copy_headers: CopyHeaders) -> Item:
    """The submitted message as the store shows it until transport takes it: still unsent."""
    mime = kept_mime(message.mime) if message.mime is not None else None
    headers = parse_mime(mime)["headers"] if mime is not None and copy_headers == "kept" else ()
    return replace(
        message, mime=mime, headers=headers, is_draft=True, is_read=True, responds_to=None
    )


def sent_copy(message: Item, copy_headers: CopyHeaders, now: datetime) -> Item:
    """The Sent Items copy of a submitted message, made when transport has taken it.

    It keeps the message's properties (Message-ID, conversation, extended properties,
    categories, the submission time as its Date), gets the kept headers only, and is new
    in the folder: created and received ``now``.
    """
    return replace(
        in_transit_form(message, copy_headers),
        is_draft=False,
        date_received=now,
        date_created=now,
        last_modified=now,
    )


def recipient_copy(message: Item, now: datetime) -> NewItem:
    """What a sandbox recipient receives: the Internet message without Bcc, arrived ``now``."""
    return NewItem(
        item_class=message.item_class,
        mime=without_header(message.mime, "Bcc") if message.mime is not None else None,
        subject=message.subject,
        from_=message.from_,
        to=message.to,
        cc=message.cc,
        body=message.body,
        body_type=message.body_type,
        importance=message.importance,
        in_reply_to=message.in_reply_to,
        references=message.references,
        flag=Flag(),
        date_received=now,
        # A meeting message keeps its meeting: the recipient's calendar attendant reads it.
        calendar=message.calendar,
    )
