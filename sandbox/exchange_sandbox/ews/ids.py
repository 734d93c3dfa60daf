"""Item and folder ids as EWS reads and converts them (sandbox, a test double).

Exchange checks an id before it looks anything up: an empty ``Id`` is ErrorInvalidIdEmpty, one
that does not decode to an id structure ErrorInvalidIdMalformed, an Exchange 2007 (RTM) id in
a later request ErrorInvalidIdMalformedEwsLegacyIdFormat, an unparsable ``ChangeKey``
ErrorInvalidChangeKey (ResponseCode reference). Only then is the id looked up (ErrorItemNotFound).

ConvertId's formats, as far as the sandbox's ids allow (its EWS ids are its store ids):

- ``EwsId``: the id EWS answers with.
- ``EntryId`` / ``HexEntryId``: a MAPI PR_ENTRYID of the sandbox's making (flags, the mailbox
  GUID as provider UID, type 0x0007 for a message and 0x0001 for a folder, then folder and
  message keys), base64 or upper-case hex.
- ``StoreId``: the store id with its 2-byte length in front; ``OwaId``: "F" and the entry id,
  base64 and URL-encoded, like Exchange 2007/2010's ("RgAAAA...").
- ``EwsLegacyId``: the Exchange 2007 RTM form; accepted only in Exchange2007 requests.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from dataclasses import dataclass
from urllib.parse import quote, unquote

from exchange_sandbox.ews.faults import EwsFault
from exchange_sandbox.store.ids import (
    decode_folder_id,
    decode_item_id,
    encode_folder_id,
    is_folder_id,
)

FORMATS = ("EwsLegacyId", "EwsId", "EntryId", "HexEntryId", "StoreId", "OwaId")
_LEGACY = b"\x4c\x01"  # the sandbox's marker of an Exchange 2007 RTM id


@dataclass(frozen=True)
class StoreRef:
    """What an id names: an item (``key`` its 16-byte unique part) or a folder (``index``)."""

    mailbox_guid: str
    key: bytes = b""
    folder_index: int = -1

    @property
    def is_folder(self) -> bool:
        return self.folder_index >= 0

    def ews_id(self) -> str:
        if self.is_folder:
            return encode_folder_id(self.mailbox_guid, self.folder_index)
        raw = b"\x00" * 4 + bytes.fromhex(self.mailbox_guid) + b"\x07\x00" + self.key
        return base64.b64encode(raw).decode()


def empty_or_malformed(value: str, what: str = "Id") -> None:
    """ErrorInvalidIdEmpty or ErrorInvalidIdMalformed for what is no id at all."""
    if not value:
        raise EwsFault("ErrorInvalidIdEmpty", f"{what} is empty.")
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EwsFault("ErrorInvalidIdMalformed", "Id is malformed.") from exc


def check_change_key(value: str | None) -> None:
    """A ChangeKey, when given, is base64 and not empty (ErrorInvalidChangeKey otherwise)."""
    if value is None:
        return
    try:
        if not value or not base64.b64decode(value, validate=True):
            raise ValueError("empty change key")
    except (binascii.Error, ValueError) as exc:
        raise EwsFault("ErrorInvalidChangeKey", "ChangeKey is invalid.") from exc


def _legacy(value: str) -> str | None:
    """The EwsId inside an Exchange 2007 RTM id, or None when ``value`` is none."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return base64.b64encode(raw[2:]).decode() if raw.startswith(_LEGACY) else None


def item_id(value: str, version: str) -> str:
    """The store id an ItemId's Id names, after Exchange's checks of its form."""
    empty_or_malformed(value)
    inner = _legacy(value)
    if inner is not None:
        if version != "Exchange2007":
            raise EwsFault(
                "ErrorInvalidIdMalformedEwsLegacyIdFormat",
                "The EWS Id is in EwsLegacyId format which is not supported by the Exchange "
                "version specified by your request. Please use the ConvertId method to convert "
                "from EwsLegacyId to EwsId format.",
            )
        value = inner
    if decode_item_id(value) is None:
        raise EwsFault("ErrorInvalidIdMalformed", "Id is malformed.")
    return value


def folder_id(value: str, version: str) -> str:
    """The store id a FolderId's Id names, after Exchange's checks of its form."""
    empty_or_malformed(value)
    inner = _legacy(value)
    if inner is not None and version != "Exchange2007":
        raise EwsFault(
            "ErrorInvalidIdMalformedEwsLegacyIdFormat",
            "The EWS Id is in EwsLegacyId format which is not supported by the Exchange "
            "version specified by your request.",
        )
    value = inner or value
    if not is_folder_id(value):
        raise EwsFault("ErrorInvalidIdMalformed", "Id is malformed.")
    return value


def conversation_id(guid_hex: str) -> str:
    """The ConversationId EWS shows for a conversation GUID (and compares in restrictions).

    Exchange wraps the 16-byte conversation GUID in a small typed id structure.
    """
    return base64.b64encode(b"\x00\x04\x10\x00" + bytes.fromhex(guid_hex)).decode()


# ------------------------------------------------------------------ ConvertId


def _entry_id(ref: StoreRef) -> bytes:
    guid = bytes.fromhex(ref.mailbox_guid)
    if ref.is_folder:
        return b"\x00" * 4 + guid + b"\x01\x00" + guid + struct.pack("<Q", ref.folder_index)
    folder_key = guid + b"\x00" * 8
    return b"\x00" * 4 + guid + b"\x07\x00" + folder_key + ref.key + b"\x00" * 8


def _from_entry_id(raw: bytes) -> StoreRef | None:
    if raw[:4] != b"\x00" * 4 or len(raw) not in (46, 70):
        return None
    guid = raw[4:20].hex()
    if len(raw) == 46 and raw[20:22] == b"\x01\x00":
        return StoreRef(guid, folder_index=struct.unpack("<Q", raw[38:46])[0])
    if len(raw) == 70 and raw[20:22] == b"\x07\x00":
        return StoreRef(guid, key=raw[46:62])
    return None


def parse(value: str, form: str) -> StoreRef:
    """What an id in one of ConvertId's formats names (ErrorInvalidIdMalformed if nothing)."""
    if not value:
        raise EwsFault("ErrorInvalidIdEmpty", "Id is empty.")
    ref: StoreRef | None = None
    try:
        if form == "EwsLegacyId":
            inner = _legacy(value)
            ref = _ews(inner) if inner is not None else None
        elif form == "EwsId":
            ref = None if _legacy(value) is not None else _ews(value)
        elif form == "EntryId":
            ref = _from_entry_id(base64.b64decode(value, validate=True))
        elif form == "HexEntryId":
            ref = (
                _from_entry_id(bytes.fromhex(value))
                if re.fullmatch("[0-9A-Fa-f]+", value)
                else None
            )
        elif form == "StoreId":
            raw = base64.b64decode(value, validate=True)
            size = struct.unpack("<H", raw[:2])[0] if len(raw) > 2 else -1
            ref = _ews(base64.b64encode(raw[2:]).decode()) if size == len(raw) - 2 else None
        elif form == "OwaId":
            raw = base64.b64decode(unquote(value), validate=True)
            ref = _from_entry_id(raw[1:]) if raw[:1] == b"F" else None
    except (binascii.Error, ValueError):
        ref = None
    if ref is None:
        raise EwsFault("ErrorInvalidIdMalformed", "Id is malformed.")
    return ref


def _ews(value: str) -> StoreRef | None:
    item = decode_item_id(value)
    if item is not None:
        return StoreRef(item[0], key=item[1])
    folder = decode_folder_id(value)
    return StoreRef(folder[0], folder_index=folder[1]) if folder is not None else None


def render(ref: StoreRef, form: str) -> str:
    """The id of ``ref`` in one of ConvertId's formats."""
    ews = ref.ews_id()
    if form == "EwsId":
        return ews
    if form == "EwsLegacyId":
        return base64.b64encode(_LEGACY + base64.b64decode(ews)).decode()
    if form == "StoreId":
        raw = base64.b64decode(ews)
        return base64.b64encode(struct.pack("<H", len(raw)) + raw).decode()
    entry = _entry_id(ref)
    if form == "EntryId":
        return base64.b64encode(entry).decode()
    if form == "HexEntryId":
        return entry.hex().upper()
    return quote(base64.b64encode(b"F" + entry).decode(), safe="")
