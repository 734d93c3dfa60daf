"""The Graph delta query of the sandbox (a test double): rounds of pages and their state tokens.

A round starts with every message of the folder (the initial sync) or with the changes
since the previous round; ``Prefer: odata.maxpagesize`` cuts it into pages, linked by
``@odata.nextLink``, and its last page ends with an ``@odata.deltaLink`` for the next round.

A token carries the round it belongs to: the mailbox and folder, the options of the first
request (``$select``, ``changeType``, ``$expand``), the change-log position the round
started from and, within a round, how far it got. Tokens are signed with a per-process key;
a token that fails the signature, belongs to a previous sandbox process, or was issued
before an expiry ordered through the control endpoint is unknown: 410 Gone,
``SyncStateNotFound``, as Exchange Online answers for a sync state it no longer has.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import threading
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from exchange_sandbox.graph import render
from exchange_sandbox.graph.errors import GraphError, Response, bad_request
from exchange_sandbox.graph.odata import parse_expand, parse_filter, parse_select
from exchange_sandbox.graph.request import Request, applied, json_response
from exchange_sandbox.store import Item, ItemNotFound, MailStore

if TYPE_CHECKING:
    from exchange_sandbox.graph.app import GraphApp


@dataclass(frozen=True)
class DeltaState:
    mailbox: str
    folder: str
    select: str | None
    expand: str | None
    change_type: str | None
    since: int  # change-log position the round reports changes after (-1: initial sync)
    upto: int  # change-log position the round ends at
    cursor: str  # initial sync: "<created>|<id>" of the last item sent; else last change seq
    epoch: int
    filter: str | None = None  # receivedDateTime ge/gt … (the only $filter delta accepts)


class DeltaTokens:
    def __init__(self) -> None:
        self._key = os.urandom(32)
        self._lock = threading.Lock()
        self._epoch: dict[str, int] = {}  # mailbox ("" = every mailbox) -> generation

    def epoch(self, mailbox: str) -> int:
        with self._lock:
            return self._epoch.get("", 0) + self._epoch.get(mailbox.lower(), 0)

    def expire(self, mailbox: str | None = None) -> None:
        """Forget every sync state issued so far (for one mailbox, or all)."""
        with self._lock:
            key = (mailbox or "").lower()
            self._epoch[key] = self._epoch.get(key, 0) + 1

    def encode(self, state: DeltaState) -> str:
        payload = json.dumps(asdict(state), separators=(",", ":")).encode()
        mac = hmac.new(self._key, payload, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(mac + payload).decode().rstrip("=")

    def decode(self, token: str) -> DeltaState:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            mac, payload = raw[:16], raw[16:]
            ok = hmac.compare_digest(
                mac, hmac.new(self._key, payload, hashlib.sha256).digest()[:16]
            )
            data: Any = json.loads(payload) if ok else None
            state = DeltaState(**data) if isinstance(data, dict) else None
        except (ValueError, TypeError):
            state = None
        if state is None:
            raise gone(0)
        current = self.epoch(state.mailbox)
        if state.epoch != current:
            raise gone(state.epoch, current)
        return state


def gone(generation: int, highest: int | None = None) -> GraphError:
    top = highest if highest is not None else generation
    return GraphError(
        410,
        "SyncStateNotFound",
        f"The sync state generation is not found; generation={generation};[highest={top}].",
    )


# ---------------------------------------------------------------- the query


def delta(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    folder = app.folder_name(mailbox, m.group("folder"))
    token = req.query.get("deltatoken") or req.query.get("skiptoken")
    if token:
        state = app.delta.decode(token)
        if state.mailbox != mailbox or state.folder != folder:
            raise gone(state.epoch)
    else:
        if "search" in req.query:
            raise bad_request("$search is not supported on delta queries.", "ErrorInvalidUrlQuery")
        delta_filter = req.query.get("filter")
        if delta_filter and not re.match(
            r"^\s*receivedDateTime\s+(ge|gt)\s+\S+\s*$", delta_filter, re.IGNORECASE
        ):
            raise bad_request(
                "Delta queries support only $filter=receivedDateTime ge|gt {value}.",
                "ErrorInvalidUrlQueryFilter",
            )
        change_type = req.query.get("changetype")
        if change_type not in (None, "created", "updated", "deleted"):
            raise bad_request(
                f"The value '{change_type}' is not valid for changeType.",
                "ErrorInvalidUrlQuery",
            )
        state = DeltaState(
            mailbox=mailbox,
            folder=folder,
            select=req.query.get("select"),
            expand=req.query.get("expand"),
            change_type=change_type,
            since=-1,
            upto=app.store.latest_seq(),
            cursor="",
            epoch=app.delta.epoch(mailbox),
            filter=delta_filter,
        )
    size = app.config.default_page_size
    if req.prefer.get("odata.maxpagesize", "").isdigit():
        size = max(1, min(int(req.prefer["odata.maxpagesize"]), app.config.max_page_size))
    if state.since < 0:
        entries, next_state = _initial_page(app.store, state, size)
    else:
        entries, next_state = _change_page(app.store, state, size)
    select = parse_select(state.select)
    expand = parse_expand(state.expand)
    values: list[dict[str, Any]] = []
    for entry in entries:
        if isinstance(entry, str):
            values.append(
                {
                    "@odata.type": "#microsoft.graph.message",
                    "id": app.ids.former_id(entry, req.immutable),
                    "@removed": {"reason": "deleted"},
                }
            )
        else:
            rendered = render.message_json(
                entry,
                app.ids.graph_id(entry, req.immutable),
                app.folder_id(mailbox, folder),
                select,
                expand,
                "https://outlook.office365.com",
                req.prefer.get("outlook.body-content-type"),
            )
            values.append({"@odata.type": "#microsoft.graph.message", **rendered})
    base = f"{req.base}/v1.0/users/{quote(mailbox)}/mailFolders/{folder}/messages/delta"
    body: dict[str, Any] = {"@odata.context": f"{req.base}/v1.0/$metadata#Collection(message)"}
    if next_state.since >= 0 and next_state.cursor == "" and next_state.upto < 0:
        body["@odata.deltaLink"] = f"{base}?$deltatoken={app.delta.encode(next_state)}"
    else:
        body["@odata.nextLink"] = f"{base}?$skiptoken={app.delta.encode(next_state)}"
    body["value"] = values
    return json_response(200, body, applied(req, maxpagesize=size))


def _initial_page(
    store: MailStore, state: DeltaState, size: int
) -> tuple[list[Item | str], DeltaState]:
    predicate = parse_filter(state.filter)
    items = sorted(
        (it for it in store.items(state.mailbox, state.folder) if predicate(it)),
        key=_sync_key,
    )
    if state.change_type == "deleted":
        items = []
    remaining = (
        [it for it in items if _sync_key(it) > tuple(state.cursor.split("|", 1))]
        if state.cursor
        else items
    )
    page = remaining[:size]
    if len(remaining) > size:
        return list(page), replace(state, cursor="|".join(_sync_key(page[-1])))
    return list(page), replace(state, since=state.upto, upto=-1, cursor="")


def _change_page(
    store: MailStore, state: DeltaState, size: int
) -> tuple[list[Item | str], DeltaState]:
    upto = state.upto if state.upto >= 0 else store.latest_seq()
    log = store.changes_since(state.mailbox, [state.folder], state.since).changes
    first: dict[str, str] = {}
    last: dict[str, tuple[int, str]] = {}
    for change in log:
        if change.seq > upto:
            break
        first.setdefault(change.item_id, change.kind)
        last[change.item_id] = (change.seq, change.kind)
    predicate = parse_filter(state.filter)
    after = int(state.cursor) if state.cursor else state.since
    pending = sorted(
        ((seq, item_id, kind) for item_id, (seq, kind) in last.items() if seq > after),
    )
    entries: list[Item | str] = []
    cursor = after
    taken = 0
    for seq, item_id, kind in pending:
        if taken >= size:
            break
        cursor = seq
        created = first[item_id] == "create"
        if kind == "delete":
            if state.change_type in (None, "deleted"):
                entries.append(item_id)
                taken += 1
            continue
        if state.change_type == "deleted" or (state.change_type == "created" and not created):
            continue
        if state.change_type == "updated" and created:
            continue
        try:
            item = store.get(item_id)
        except ItemNotFound:
            continue  # removed after this round's end: reported next round
        if item.folder != state.folder or not predicate(item):
            continue
        entries.append(item)
        taken += 1
    more = any(seq > cursor for seq, _, _ in pending)
    if more:
        return entries, replace(state, upto=upto, cursor=str(cursor))
    return entries, replace(state, since=upto, upto=-1, cursor="")


def _sync_key(item: Item) -> tuple[str, str]:
    created = item.date_created.isoformat() if item.date_created else ""
    return created, item.id
