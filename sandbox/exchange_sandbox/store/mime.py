"""RFC 5322 side of the sandbox mailbox store (a test double): header parsing and transport MIME."""

from __future__ import annotations

import email.utils
import re
import uuid
from datetime import UTC, datetime
from email import policy
from email.errors import MessageError
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from typing import Any

from exchange_sandbox.store.model import Address, NewItem, utcnow


def _decode(value: str) -> str:
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError, MessageError):
        # Broken encoded-words (a charset name that is no ASCII raises CharsetError) are
        # shown raw, as Exchange does with undecodable headers.
        return value


def _addresses(msg: Message, name: str) -> tuple[Address, ...]:
    values = msg.get_all(name) or []
    pairs = email.utils.getaddresses([_decode(str(v)) for v in values])
    return tuple(Address(email=addr, name=disp) for disp, addr in pairs if addr)


def _msgids(value: str) -> tuple[str, ...]:
    """The msg-ids of an identification header, whole.

    A domain literal (`<x@[...]>`) may hold commas and even `<` or `>`, so the
    ids are scanned, not split.
    """
    found: list[str] = []
    start = value.find("<")
    while start != -1:
        end = start + 1
        in_literal = False
        while end < len(value):
            char = value[end]
            if char == "[":
                in_literal = True
            elif char == "]":
                in_literal = False
            elif (char == ">" and not in_literal) or char.isspace():
                break
            end += 1
        if end < len(value) and value[end] == ">":
            found.append(value[start : end + 1])
            start = value.find("<", end + 1)
        else:
            start = value.find("<", start + 1)
    return tuple(found)


def _message(mime: bytes) -> tuple[Message, bool]:
    """The parsed message, and whether its parts were parsed.

    Python's parser recurses once per multipart level and gives up (RecursionError) at a
    depth Exchange stores without complaint (1,000 and more); such a message keeps its
    headers, and its body is looked for without the parser.
    """
    try:
        return BytesParser(policy=policy.compat32).parsebytes(mime), True
    except RecursionError:
        return BytesParser(policy=policy.compat32).parsebytes(mime, headersonly=True), False


def _first_text_part(msg: Message) -> Message | None:
    """The first text/* part, depth first, without recursion (nesting may be very deep)."""
    stack = [msg]
    while stack:
        part = stack.pop()
        if part.is_multipart():
            payload = part.get_payload()
            subparts = (
                [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []
            )
            stack.extend(reversed(subparts))
        elif part.get_content_maintype() == "text":
            return part
    return None


_TEXT_PART = re.compile(
    rb"(?im)^content-type:[ \t]*text/(plain|html)\b[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*\r?\n"
    rb"(?:[^\r\n]+\r?\n)*\r?\n(.*?)(?=\r?\n--|\Z)",
    re.DOTALL,
)


def _body(msg: Message, parsed: bool, mime: bytes) -> tuple[str, str]:
    """The text of the first text part and its format ("Text" or "HTML")."""
    if not parsed:
        found = _TEXT_PART.search(mime)
        if found is None:
            return "", "Text"
        text = found.group(2).decode("utf-8", errors="replace")
        return text, "HTML" if found.group(1).lower() == b"html" else "Text"
    part = _first_text_part(msg)
    if part is None:
        return "", "Text"
    try:
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            return "", "Text"
        text = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    except (LookupError, ValueError):
        return "", "Text"
    return text, "HTML" if part.get_content_subtype() == "html" else "Text"


def parse_mime(mime: bytes) -> dict[str, Any]:
    """Header fields of an RFC 5322 message, tolerant of malformed input."""
    msg, parsed = _message(mime)
    headers = tuple((k, " ".join(str(v).split())) for k, v in msg.items())
    from_ = _addresses(msg, "From")
    sender = _addresses(msg, "Sender")
    date_sent: datetime | None = None
    if msg.get("Date"):
        try:
            parsed_date = email.utils.parsedate_to_datetime(str(msg["Date"]))
            date_sent = (
                parsed_date.astimezone(UTC)
                if parsed_date.tzinfo
                else parsed_date.replace(tzinfo=UTC)
            )
        except (TypeError, ValueError):
            date_sent = None
    body, body_type = _body(msg, parsed, mime)
    importance = {"high": "High", "low": "Low"}.get(
        str(msg.get("Importance", "")).strip().lower(), "Normal"
    )
    return {
        "headers": headers,
        "subject": _decode(str(msg.get("Subject", ""))).strip(),
        "from_": from_[0] if from_ else None,
        "sender": sender[0] if sender else (from_[0] if from_ else None),
        "to": _addresses(msg, "To"),
        "cc": _addresses(msg, "Cc"),
        "bcc": _addresses(msg, "Bcc"),
        "message_id": str(msg.get("Message-ID", "")).strip(),
        "in_reply_to": " ".join(_msgids(str(msg.get("In-Reply-To", "")))),
        "references": _msgids(str(msg.get("References", ""))),
        "thread_index": str(msg.get("Thread-Index", "")).strip(),
        "date_sent": date_sent,
        "body": body,
        "body_type": body_type,
        "importance": importance,
    }


def without_header(mime: bytes, name: str) -> bytes:
    """The message without one header field (and its folded continuation lines)."""
    head, sep, body = mime.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = mime.partition(b"\n\n")
    newline = b"\r\n" if sep == b"\r\n\r\n" else b"\n"
    kept: list[bytes] = []
    skipping = False
    for line in head.split(newline):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        skipping = line.split(b":", 1)[0].strip().lower() == name.lower().encode()
        if not skipping:
            kept.append(line)
    return newline.join(kept) + sep + body


def submitted_mime(
    mailbox: str, draft: NewItem, sender: Address | None, at: datetime | None = None
) -> bytes:
    """The MIME a submitted message leaves with, as Exchange transport completes it.

    A draft without MIME gets it composed (From is ``sender``); MIME without Message-ID,
    Date or From gets those headers added, the Date being the submission time ``at``.
    """
    domain = mailbox.rsplit("@", 1)[-1]
    message_id = f"<{uuid.uuid4().hex}@sandbox-ex01.{domain}>"
    date = email.utils.format_datetime((at or utcnow()).astimezone(UTC).replace(microsecond=0))
    if draft.mime is None:
        msg = EmailMessage()
        sender = sender or Address(mailbox)
        msg["From"] = email.utils.formataddr((sender.name, sender.email))
        for header, addrs in (("To", draft.to), ("Cc", draft.cc), ("Bcc", draft.bcc)):
            if addrs:
                msg[header] = ", ".join(email.utils.formataddr((a.name, a.email)) for a in addrs)
        msg["Subject"] = draft.subject
        msg["Date"] = date
        msg["Message-ID"] = message_id
        if draft.in_reply_to:
            msg["In-Reply-To"] = draft.in_reply_to
        if draft.references:
            msg["References"] = " ".join(draft.references)
        msg.set_content(draft.body, subtype="html" if draft.body_type == "HTML" else "plain")
        return msg.as_bytes(policy=policy.SMTP)
    present = {k.lower() for k, _ in parse_mime(draft.mime)["headers"]}
    extra = b""
    if "message-id" not in present:
        extra += f"Message-ID: {message_id}\r\n".encode()
    if "date" not in present:
        extra += f"Date: {date}\r\n".encode()
    if "from" not in present:
        extra += f"From: {mailbox}\r\n".encode()
    return extra + draft.mime
