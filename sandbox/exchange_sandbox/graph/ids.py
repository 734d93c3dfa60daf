"""Item ids of the sandbox Graph endpoint (a test double): REST ids and immutable ids.

Graph shows the store's EWS ids in their URL-safe REST form (``/``→``-``, ``+``→``_``),
which change when an item is moved, as Exchange's do. With ``Prefer:
IdType="ImmutableId"`` it shows an immutable id instead: derived from the id the item had
when the sandbox first saw it, and followed across moves by reading the store's change log
(a move is logged as a delete immediately followed by a create of the same item in the same
mailbox, whichever front-end did it). Sending a draft keeps its immutable id on the Sent
Items copy, as documented for Graph. Deviation: the move history is kept in memory, so an
immutable id of an item moved before a sandbox restart is not found after it.
"""

from __future__ import annotations

import base64
import binascii
import threading
import uuid
from dataclasses import dataclass

from exchange_sandbox.store import Item, ItemNotFound, MailStore

_IMMUTABLE_MARK = b"\x00\x00\x00\x00\x4a\x49\x00"  # never starts a store id (mailbox guid follows)


def _immutable(origin: str) -> str:
    return to_rest(base64.b64encode(_IMMUTABLE_MARK + base64.b64decode(origin)).decode())


def to_rest(ews_id: str) -> str:
    return ews_id.replace("/", "-").replace("+", "_")


def from_rest(rest_id: str) -> str:
    return rest_id.replace("-", "/").replace("_", "+")


@dataclass(frozen=True)
class _Fingerprint:
    mailbox: str
    message_id: str
    subject: str
    created: str


def _fingerprint(item: Item) -> _Fingerprint:
    created = item.date_created.isoformat() if item.date_created else ""
    return _Fingerprint(item.mailbox, item.message_id, item.subject, created)


class IdMap:
    """Translates Graph ids (REST or immutable) to current store ids and back."""

    def __init__(self, store: MailStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._current: dict[str, str] = {}  # original store id -> current store id
        self._origin: dict[str, str] = {}  # current store id -> original store id
        self._prints: dict[str, _Fingerprint] = {}  # current store id -> fingerprint
        self._seen_seq: dict[str, int] = {}  # mailbox -> change log position followed
        self._retired: dict[str, str] = {}  # former store id -> original store id

    # ------------------------------------------------------------ rendering

    def graph_id(self, item: Item, immutable: bool) -> str:
        if not immutable:
            return to_rest(item.id)
        with self._lock:
            self._follow(item.mailbox)
            origin = self._origin.get(item.id, item.id)
            if origin == item.id:
                self._current.setdefault(origin, item.id)
                self._origin.setdefault(item.id, origin)
            self._prints[item.id] = _fingerprint(item)
        return _immutable(origin)

    def former_id(self, store_id: str, immutable: bool) -> str:
        """The Graph id to report for an item that is no longer where it was (delta removals)."""
        if not immutable:
            return to_rest(store_id)
        with self._lock:
            origin = self._retired.get(store_id) or self._origin.get(store_id, store_id)
        return _immutable(origin)

    # ------------------------------------------------------------ parsing

    def resolve(self, graph_id: str) -> Item:
        """The item a REST or immutable id refers to now; ItemNotFound, or MalformedId."""
        raw = _decode(graph_id)
        if not raw.startswith(_IMMUTABLE_MARK):
            return self._store.get(from_rest(graph_id))
        origin = base64.b64encode(raw[len(_IMMUTABLE_MARK) :]).decode()
        try:
            mailbox_guid_item = self._store.get(origin)
        except ItemNotFound:
            mailbox_guid_item = None
        if mailbox_guid_item is not None:
            return mailbox_guid_item
        with self._lock:
            for mailbox in list(self._seen_seq):
                self._follow(mailbox)
            current = self._current.get(origin)
        if current is None or current == origin:
            raise ItemNotFound(graph_id)
        return self._store.get(current)

    # ------------------------------------------------------------ bookkeeping

    def carry(self, old: Item, new: Item) -> None:
        """Give ``new`` the immutable id of ``old`` (a sent draft, a move done here)."""
        with self._lock:
            origin = self._origin.pop(old.id, old.id)
            self._prints.pop(old.id, None)
            self._retired[old.id] = origin
            self._current[origin] = new.id
            self._origin[new.id] = origin
            self._prints[new.id] = _fingerprint(new)

    def _follow(self, mailbox: str) -> None:
        """Read the mailbox's change log since last time and carry ids across moves."""
        after = self._seen_seq.get(mailbox)
        if after is None:
            # Nothing of this mailbox has been shown yet: no id to follow before now.
            self._seen_seq[mailbox] = self._store.latest_seq()
            return
        page = self._store.changes_since(mailbox, None, after)
        changes = page.changes
        for i, change in enumerate(changes):
            if change.kind != "delete" or change.item_id not in self._prints:
                continue
            nxt = changes[i + 1] if i + 1 < len(changes) else None
            if nxt is None or nxt.kind != "create" or nxt.seq != change.seq + 1:
                continue
            try:
                new = self._store.get(nxt.item_id)
            except ItemNotFound:
                continue
            if _fingerprint(new) == self._prints[change.item_id]:
                origin = self._origin.pop(change.item_id, change.item_id)
                del self._prints[change.item_id]
                self._retired[change.item_id] = origin
                self._current[origin] = new.id
                self._origin[new.id] = origin
                self._prints[new.id] = _fingerprint(new)
        self._seen_seq[mailbox] = max(after, page.last_seq)


class MalformedId(ValueError):
    """Not an id Exchange could have made (Graph: 400 ErrorInvalidIdMalformed)."""


# A store item id is 4 zero bytes, the 16-byte mailbox GUID, 07 00 and a 16-byte unique part;
# an immutable id is the mark followed by such an id.
_ITEM_ID_LENGTH = 38


def _decode(graph_id: str) -> bytes:
    try:
        raw = base64.b64decode(from_rest(graph_id), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedId(graph_id) from exc
    body = raw[len(_IMMUTABLE_MARK) :] if raw.startswith(_IMMUTABLE_MARK) else raw
    if len(body) != _ITEM_ID_LENGTH or body[:4] != bytes(4) or body[20:22] != b"\x07\x00":
        raise MalformedId(graph_id)
    return raw


def user_object_id(address: str) -> str:
    """The sandbox's stable Entra object id of a mailbox user (a UUID from the address)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "mailbox:" + address.lower()))
