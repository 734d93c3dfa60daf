"""Raw RFC 5322 bytes (an .eml file, EWS MIME content) turned into an `IncomingMessage`.

Mail from the outside world is often broken: undeclared 8-bit bytes, unknown
charsets, RFC 2047 words in odd places, missing or duplicated headers, MIME
without boundaries. The parser takes all of it and gives the best reading it
can; only input that is not mail at all (binary data, no header block) raises
`UnreadableMessage`. Everything else decoded here is data: values are unfolded
and stripped of line breaks and control characters so nothing downstream can
be tricked into writing a header from them.
"""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Iterator
from datetime import datetime
from email import message_from_bytes
from email.header import decode_header
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses

from topcontact_mail.domain.message import Address, IncomingMessage

#: Bytes of a message that are parsed at all; the rest of a huge message is not needed to screen it.
MAX_PARSE_BYTES = 4 * 1024 * 1024
#: Characters of body text kept in `text_sample` (only used to guess the language).
TEXT_SAMPLE_CHARS = 2000
#: MIME parts looked at, so a message of ten thousand empty parts cannot stall the service.
MAX_PARTS = 200
_MAX_DEPTH = 20
#: Bytes of one body part decoded for the text sample.
_MAX_PART_BYTES = 256 * 1024

_LEADING_BLANK_LINES = re.compile(rb"\A(?:[ \t]*\r?\n)+")
_FIELD_LINE = re.compile(rb"^[!-9;-~]+[ \t]*:")
_MAIL_FIELDS = frozenset(
    {
        b"from",
        b"to",
        b"cc",
        b"subject",
        b"date",
        b"message-id",
        b"received",
        b"return-path",
        b"mime-version",
        b"content-type",
        b"sender",
        b"reply-to",
        b"delivered-to",
    }
)
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\u2028\u2029\x85]")
_SPACES = re.compile(r"[ \t]+")
_SCL_HEADER = "X-MS-Exchange-Organization-SCL"


class UnreadableMessage(Exception):
    """The input is not a mail message at all; `reason` says why in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_message(raw: bytes, received: datetime | None = None) -> IncomingMessage:
    """Read `raw` as a mail message; raise `UnreadableMessage` only when it is not mail at all."""
    data = bytes(raw[:MAX_PARSE_BYTES])
    _check_is_mail(data)
    try:
        msg = message_from_bytes(_without_mbox_line(data), policy=compat32)
    except Exception as exc:  # compat32 is lenient, but a parser bug must not escape
        raise UnreadableMessage(
            f"the MIME structure cannot be read ({type(exc).__name__})"
        ) from None

    headers = tuple(_headers(msg))

    def first(name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in headers if key.lower() == wanted), None)

    raw_values = _raw_header_values(msg)
    return IncomingMessage(
        subject=first("Subject") or "",
        sender=_sender(raw_values.get("from", [])),
        recipients=tuple(_addresses(raw_values.get("to", []) + raw_values.get("cc", []))),
        headers=headers,
        message_id=_message_id(first("Message-ID")),
        return_path=_return_path(first("Return-Path")),
        item_class=None,
        content_type=_content_type(msg),
        spam_confidence=_scl(first(_SCL_HEADER)),
        conversation_id=None,
        received=received,
        text_sample=_text_sample(msg),
        part_types=tuple(_part_types(msg)),
    )


# --- is it mail at all -------------------------------------------------------------------------


def _without_mbox_line(data: bytes) -> bytes:
    """The message without blank lines before the headers and without an mbox "From " line."""
    data = _LEADING_BLANK_LINES.sub(b"", data, count=1)
    if data.startswith(b"From "):
        return data.partition(b"\n")[2]
    return data


def _header_block(data: bytes) -> bytes:
    body = _without_mbox_line(data)
    match = re.search(rb"\r?\n\r?\n", body)
    return body[: match.start()] if match else body


def _check_is_mail(data: bytes) -> None:
    if not data.strip():
        raise UnreadableMessage("the file is empty")
    block = _header_block(data)[:65536]
    if b"\x00" in block:
        raise UnreadableMessage("binary data, not a mail message (NUL bytes in the header block)")
    controls = sum(1 for byte in block if byte < 0x20 and byte not in (9, 10, 13))
    if controls > max(4, len(block) // 50):
        raise UnreadableMessage(
            "binary data, not a mail message (control bytes in the header block)"
        )
    lines = block.splitlines()
    if not lines or not _FIELD_LINE.match(lines[0]):
        raise UnreadableMessage(
            "no header block: the first line is not a 'Name: value' header field"
        )
    names = {line.split(b":", 1)[0].strip().lower() for line in lines if _FIELD_LINE.match(line)}
    if not names & _MAIL_FIELDS:
        raise UnreadableMessage(
            "no mail header fields (From, To, Subject, Date, Received, ...) in the header block"
        )


# --- header values -------------------------------------------------------------------------------


def _as_text(value: object) -> str:
    """A header value as compat32 gives it (str with surrogate escapes, or a Header) made text."""
    if not isinstance(value, str):
        try:
            return str(value)
        except Exception:
            return ""
    if not any("\udc80" <= char <= "\udcff" for char in value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _decode_words(value: str) -> str:
    """RFC 2047 encoded words decoded; unknown charsets and broken words kept readable."""
    if "=?" not in value:
        return value
    try:
        chunks = decode_header(value)
    except Exception:
        return value
    pieces: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            pieces.append(chunk)
            continue
        pieces.append(_decode_bytes(chunk, charset))
    # decode_header drops the blanks between an encoded word and plain text; put one back.
    joined = ""
    for piece in pieces:
        if joined and not joined[-1].isspace() and piece and not piece[0].isspace():
            joined += " " if len(chunks) > 1 and _needs_space(joined, piece) else ""
        joined += piece
    return joined


def _needs_space(before: str, after: str) -> bool:
    return before[-1].isalnum() and after[0].isalnum()


def _decode_bytes(data: bytes, charset: str | None) -> str:
    for candidate in (charset, "utf-8", "cp1252"):
        if not candidate or candidate in ("unknown-8bit", "x-unknown"):
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return data.decode("latin-1")


def _clean(value: str) -> str:
    """A single-line value: unfolded, control characters (CR/LF included) turned into spaces."""
    value = re.sub(r"\r?\n[ \t]+", " ", value)
    value = _CONTROL.sub(" ", value)
    return _SPACES.sub(" ", value).strip()


def _header_text(raw: object) -> str:
    text = _as_text(raw)
    try:
        return _clean(_decode_words(_clean(text)))
    except Exception:
        return _clean(text)


def _raw_items(msg: Message) -> list[tuple[str, object]]:
    # raw_items keeps undeclared 8-bit bytes as surrogate escapes; items() would turn them into U+FFFD.
    try:
        return list(msg.raw_items())
    except Exception:
        return list(msg.items())


def _headers(msg: Message) -> Iterator[tuple[str, str]]:
    for name, raw in _raw_items(msg):
        clean_name = _clean(_as_text(name))
        if clean_name:
            yield clean_name, _header_text(raw)


def _raw_header_values(msg: Message) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for name, raw in _raw_items(msg):
        values.setdefault(_as_text(name).strip().lower(), []).append(_clean(_as_text(raw)))
    return values


# --- addresses -----------------------------------------------------------------------------------


def _pairs(raw_values: list[str]) -> list[tuple[str, str]]:
    try:
        return getaddresses(raw_values)
    except Exception:
        return []


def _address(name: str, email: str) -> Address | None:
    email = _clean(email).strip("<>").strip()
    if not email:
        return None
    try:
        display = _clean(_decode_words(name))
    except Exception:
        display = _clean(name)
    return Address(email=email, name=display)


def _sender(raw_values: list[str]) -> Address | None:
    # Several or odd From fields: the first one that names a mail address wins.
    fallback: Address | None = None
    for value in raw_values:
        for name, email in _pairs([value]):
            address = _address(name, email)
            if address is None:
                continue
            if "@" in address.email:
                return address
            fallback = fallback or address
    return fallback


def _addresses(raw_values: list[str]) -> Iterator[Address]:
    seen: set[str] = set()
    for name, email in _pairs(raw_values):
        address = _address(name, email)
        if address is not None and "@" in address.email and address.key not in seen:
            seen.add(address.key)
            yield address


def _message_id(value: str | None) -> str | None:
    if not value:
        return None
    return value.split()[0] if value.split() else None


def _return_path(value: str | None) -> str | None:
    if value is None:
        return None
    inner = value.strip()
    if inner.startswith("<"):
        inner = inner[1:].partition(">")[0]
    return inner.strip()


def _scl(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        level = int(value.strip())
    except ValueError:
        return None
    return level if -1 <= level <= 9 else None


# --- structure -----------------------------------------------------------------------------------


def _type_with_params(part: Message) -> str:
    mime_type = part.get_content_type().lower()
    param = {"multipart/report": "report-type", "text/calendar": "method"}.get(mime_type)
    if param:
        value = part.get_param(param)
        if isinstance(value, str) and value.strip():
            return f"{mime_type}; {param}={_clean(value).lower()}"
    return mime_type


def _content_type(msg: Message) -> str | None:
    try:
        return _type_with_params(msg)
    except Exception:
        return None


def _children(part: Message) -> list[Message]:
    # Attached messages (message/rfc822) stay closed: a forwarded bounce is not our bounce.
    if part.get_content_maintype() == "message" or not part.is_multipart():
        return []
    payload = part.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def _walk(msg: Message) -> Iterator[Message]:
    stack: list[tuple[Message, int]] = [(child, 1) for child in reversed(_children(msg))]
    count = 0
    while stack and count < MAX_PARTS:
        part, depth = stack.pop()
        count += 1
        yield part
        if depth < _MAX_DEPTH:
            stack.extend((child, depth + 1) for child in reversed(_children(part)))


def _part_types(msg: Message) -> Iterator[str]:
    try:
        for part in _walk(msg):
            yield _type_with_params(part)
    except Exception:
        return


# --- text sample ---------------------------------------------------------------------------------


def _is_attachment(part: Message) -> bool:
    disposition = str(part.get("Content-Disposition", "")).lower()
    return disposition.startswith("attachment")


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "us-ascii"
    data = payload[:_MAX_PART_BYTES]
    if charset in ("us-ascii", "ascii"):
        charset = "utf-8"
    return _decode_bytes(data, charset)


_SCRIPT = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def _html_text(markup: str) -> str:
    return html.unescape(_TAG.sub(" ", _SCRIPT.sub(" ", markup)))


def _text_sample(msg: Message) -> str:
    parts = [msg] if not msg.is_multipart() else list(_walk(msg))
    for wanted, convert in (("text/plain", None), ("text/html", _html_text)):
        for part in parts:
            text = ""
            with contextlib.suppress(Exception):
                if part.get_content_type() == wanted and not _is_attachment(part):
                    text = _part_text(part)
                    if convert is not None:
                        text = convert(text)
            sample = " ".join(_CONTROL.sub(" ", text).split())
            if sample:
                return sample[:TEXT_SAMPLE_CHARS]
    return ""
