"""Opaque ids of the sandbox mailbox store (a test double): items, change keys, folders, conversations."""

from __future__ import annotations

import base64
import struct
import uuid
from datetime import datetime

from exchange_sandbox.store.model import utcnow


def new_item_id(mailbox_guid: str) -> str:
    # Looks like an Exchange store id: opaque base64 carrying the mailbox and a unique part.
    raw = b"\x00\x00\x00\x00" + bytes.fromhex(mailbox_guid) + b"\x07\x00" + uuid.uuid4().bytes
    return base64.b64encode(raw).decode()


def new_change_key() -> str:
    # Exchange change keys of messages start with the bytes 09 00 00 00 16 00 00 00.
    raw = b"\x09\x00\x00\x00\x16\x00\x00\x00" + uuid.uuid4().bytes[:10]
    return base64.b64encode(raw).decode()


def encode_folder_id(mailbox_guid: str, index: int) -> str:
    """The id of the ``index``-th distinguished folder of a mailbox (stable, never stored)."""
    raw = b"\x00\x00\x00\x00" + bytes.fromhex(mailbox_guid) + b"\x01\x00" + bytes([index + 1]) * 4
    return base64.b64encode(raw).decode()


def encode_user_folder_id(mailbox_guid: str, key: str) -> str:
    """The id of a folder a user made: the mailbox, the folder marker and its 16-byte key."""
    raw = b"\x00\x00\x00\x00" + bytes.fromhex(mailbox_guid) + b"\x01\x00" + bytes.fromhex(key)
    return base64.b64encode(raw).decode()


def decode_user_folder_id(value: str) -> tuple[str, str] | None:
    """(mailbox guid, key) of an id made by :func:`encode_user_folder_id`, else None."""
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        return None
    if len(raw) != 38 or raw[:4] != b"\x00\x00\x00\x00" or raw[20:22] != b"\x01\x00":
        return None
    return raw[4:20].hex(), raw[22:].hex()


def is_folder_id(value: str) -> bool:
    """Whether a value is a folder id this store could have made (distinguished or not)."""
    return decode_folder_id(value) is not None or decode_user_folder_id(value) is not None


def decode_folder_id(value: str) -> tuple[str, int] | None:
    """(mailbox guid, folder index) of a folder id made by :func:`encode_folder_id`, else None."""
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        return None
    if len(raw) != 26 or raw[20:22] != b"\x01\x00":
        return None
    return raw[4:20].hex(), raw[22] - 1


def conversation_guid_from_index(index: bytes) -> str | None:
    """GUID part of a conversation index per [MS-OXOMSG] 2.2.1.2, or None if not usable."""
    if len(index) >= 22 and index[0] == 0x01:
        return index[6:22].hex()
    return None


def new_conversation_index(guid_hex: str | None = None, at: datetime | None = None) -> bytes:
    """A 22-byte conversation index header block as ScCreateConversationIndex builds it."""
    moment = at or utcnow()
    filetime = int((moment.timestamp() + 11644473600) * 10_000_000)
    # The header keeps the 5 most significant bytes of the 8-byte FILETIME.
    stamp = struct.pack(">Q", filetime)[:5]
    guid = bytes.fromhex(guid_hex) if guid_hex else uuid.uuid4().bytes
    return b"\x01" + stamp + guid


def decode_item_id(value: str) -> tuple[str, bytes] | None:
    """(mailbox guid, unique part) of an item id made by :func:`new_item_id`, else None."""
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        return None
    if len(raw) != 38 or raw[:4] != b"\x00\x00\x00\x00" or raw[20:22] != b"\x07\x00":
        return None
    return raw[4:20].hex(), raw[22:]
