"""MIME that the sandbox Graph endpoint (a test double) writes when it sends, as Exchange would.

Exchange writes the Internet message from the item's properties when it is sent: address
and threading headers, ``Thread-Index``/``Thread-Topic``, the custom ``x-`` headers given in
``internetMessageHeaders``, and ``X-Auto-Response-Suppress`` mapped from the MAPI property
PidTagAutoResponseSuppress (0x3FDF) as [MS-OXCMAIL] 2.1.3.2.20 specifies.

What Graph does with ``Auto-Submitted``: ``internetMessageHeaders`` refuses every name that
does not start with ``x-``/``X-`` (400 ``InvalidInternetMessageHeader``, see
terminal42/contao-notification_center#436 and redaxo/core#6588), and a MIME submission is
reported to lose its ``Auto-Submitted`` header on the way out (microsoftgraph/
msgraph-sdk-dotnet#2209; redaxo/core#6590 cites a Microsoft Q&A answer saying the same).
The sandbox does both, so ``Auto-Submitted`` can only be added by a mail-flow (transport)
rule of the tenant.
"""

from __future__ import annotations

import base64
import email.utils
import os
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import SMTP, compat32

from exchange_sandbox.graph.render import normalized_subject
from exchange_sandbox.store import Address, Item, PropertyKey, read_property, utcnow

AUTO_RESPONSE_SUPPRESS = PropertyKey(property_type="Integer", property_tag=0x3FDF)
_SUPPRESS_BITS = (
    (0x01, "DR"),
    (0x02, "NDR"),
    (0x04, "RN"),
    (0x08, "NRN"),
    (0x10, "OOF"),
    (0x20, "AutoReply"),
)
# Headers Exchange Online is reported to drop from MIME submissions.
STRIPPED_ON_SUBMISSION = ("auto-submitted", "return-path")
MESSAGE_ID_HOST = "SANDBOX01.eurprd01.prod.exchangelabs.invalid"


def new_message_id() -> str:
    return f"<{uuid.uuid4().hex.upper()}@{MESSAGE_ID_HOST}>"


def auto_response_suppress(value: str) -> str | None:
    """The X-Auto-Response-Suppress header value for a PidTagAutoResponseSuppress value."""
    try:
        number = int(value)
    except ValueError:
        return None
    if number == -1 or number & 0xFFFFFFFF == 0xFFFFFFFF:
        return "All"
    if number == 0:
        return "None"
    return ", ".join(name for bit, name in _SUPPRESS_BITS if number & bit) or None


def child_thread_index(index: bytes, at: datetime | None = None) -> bytes:
    """The parent's conversation index plus a 5-byte child block ([MS-OXOMSG] 2.2.1.3)."""
    if len(index) < 22:
        return index
    parent_ft = int.from_bytes(index[1:6] + b"\x00\x00\x00", "big")
    now_ft = int(((at or utcnow()).timestamp() + 11644473600) * 10_000_000)
    delta = max(now_ft - parent_ft, 0)
    # Time difference in units of 2**18 ticks (when it fits in 31 bits), plus 8 random bits.
    block = ((delta >> 18) & 0x7FFFFFFF) << 8 | os.urandom(1)[0]
    return index + block.to_bytes(5, "big")


def _address(a: Address) -> str:
    return email.utils.formataddr((a.name, a.email)) if a.name else a.email


def outgoing_mime(
    item: Item,
    sender: Address,
    message_id: str,
    sent: datetime | None = None,
    thread_index: bytes | None = None,
) -> bytes:
    """The RFC 5322 message Exchange writes for ``item`` when it is sent (no Bcc header)."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = _address(item.from_ or sender)
    if item.sender is not None and item.from_ is not None and item.sender != item.from_:
        msg["Sender"] = _address(item.sender)
    if item.to:
        msg["To"] = ", ".join(_address(a) for a in item.to)
    if item.cc:
        msg["Cc"] = ", ".join(_address(a) for a in item.cc)
    msg["Subject"] = item.subject
    msg["Thread-Topic"] = normalized_subject(item.subject)
    index = thread_index if thread_index is not None else item.conversation_index
    if index:
        msg["Thread-Index"] = base64.b64encode(index).decode()
    msg["Date"] = email.utils.format_datetime((sent or utcnow()).astimezone(UTC))
    ids = [("Message-ID", [message_id])]
    if item.in_reply_to:
        ids.append(("In-Reply-To", [item.in_reply_to]))
    if item.references:
        ids.append(("References", list(item.references)))
    msg["Accept-Language"] = "nl-NL, en-US"
    msg["Content-Language"] = "nl-NL"
    msg["X-MS-Has-Attach"] = ""
    msg["X-MS-TNEF-Correlator"] = ""
    for name, value in item.headers:
        if name.lower().startswith("x-"):
            msg[name] = value
    suppress = read_property(item, AUTO_RESPONSE_SUPPRESS)
    if isinstance(suppress, str):
        header = auto_response_suppress(suppress)
        if header is not None and "X-Auto-Response-Suppress" not in msg:
            msg["X-Auto-Response-Suppress"] = header
    subtype = "html" if item.body_type.upper() == "HTML" else "plain"
    msg.set_content(item.body or "", subtype=subtype, charset="utf-8")
    return _with_identification(msg.as_bytes(), ids)


def _with_identification(raw: bytes, headers: list[tuple[str, list[str]]]) -> bytes:
    """`raw` with Message-ID, In-Reply-To and References written as Exchange writes them.

    Python's email package would turn a msg-id longer than a line into RFC 2047
    encoded words; Exchange writes every id whole, folding only between ids.
    """
    lines = b"".join(
        f"{name}: {' '.join(ids)}\r\n".encode()
        if len(ids) == 1
        else (f"{name}: " + "\r\n ".join(ids) + "\r\n").encode()
        for name, ids in headers
    )
    head, sep, body = raw.partition(b"\r\n\r\n")
    return head + b"\r\n" + lines.rstrip(b"\r\n") + sep + body


def sanitize_submission(
    mime: bytes, sender: Address, at: datetime | None = None
) -> tuple[bytes, str]:
    """A MIME submission as Exchange Online sends it on, and its Message-ID.

    Drops the headers Exchange is reported to strip, stamps a Message-ID and Date (``at``, the
    submission time) when missing and sets From to the mailbox when the submitter left it out.
    """
    msg = BytesParser(policy=compat32).parsebytes(mime)
    for name in STRIPPED_ON_SUBMISSION:
        del msg[name]
    if not msg.get("Message-ID"):
        msg["Message-ID"] = new_message_id()
    if not msg.get("Date"):
        msg["Date"] = email.utils.format_datetime((at or utcnow()).astimezone(UTC))
    if not msg.get("From"):
        msg["From"] = _address(sender)
    return msg.as_bytes(), str(msg["Message-ID"]).strip()
