"""The Graph delta query of the sandbox (a test double): rounds of pages and their state tokens.

A round starts with every message of the folder (the initial sync) or with the changes
since the previous round; ``Prefer: odata.maxpagesize`` cuts it into pages, linked by
``@odata.nextLink``, and its last page ends with an ``@odata.deltaLink`` for the next round.
A message created since the previous round comes whole (its ``$select``); one only updated
comes back with its id and the few properties Exchange Online is reported to send for a
change (``isRead``, ``parentFolderId``, ``categories``, ``flag``, those the ``$select``
names), as the delta query overview allows ("at least the properties that have been
updated"; microsoftgraph/microsoft-graph-docs-contrib#5544).

A token carries the round it belongs to: the mailbox and folder, the options of the first
request (``$select``, ``changeType``, ``$expand``), the change-log position the round
started from and, within a round, how far it got. Tokens are signed with a per-process key.
Exchange Online keeps sync states in a cache of limited size and drops the oldest ("Token
duration" in the delta query overview): a token older than ``delta_token_lifetime_seconds``,
one of a mailbox that has been issued more than ``delta_token_cache_size`` newer tokens
since, one issued before an expiry ordered through the control endpoint, one of a previous
sandbox process or one that fails the signature is unknown: 410 Gone, ``SyncStateNotFound``,
with a ``Location`` header holding the initial delta request ("Synchronization reset").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from exchange_sandbox.graph import render
from exchange_sandbox.graph.errors import GraphError, Response, bad_request
from exchange_sandbox.graph.meetings import odata_type
from exchange_sandbox.graph.odata import parse_expand, parse_filter, parse_select
from exchange_sandbox.graph.request import Request, applied, json_response
from exchange_sandbox.store import Item, ItemNotFound, MailStore, meetings

if TYPE_CHECKING:
    from exchange_sandbox.graph.app import GraphApp

#: What an update (not a creation) carries besides the id, when the $select names it.
UPDATE_PROPERTIES = ("isRead", "parentFolderId", "categories", "flag")


@dataclass(frozen=True)
class DeltaState:
    mailbox: str
    folder: str
    select: str | None
    expand: str | None
    change_type: str | None
    since: int  # change-log position the round reports changes after (-1: initial sync)
    upto: int  # change-log position the round ends at
    cursor: str  # initial sync: "<created>|<creation seq>" of the last item; else last change seq
    epoch: int
    filter: str | None = None  # receivedDateTime ge/gt … (the only $filter delta accepts)
    issued: float = 0.0  # when the token was handed out (time.time())
    serial: int = 0  # the how-manieth token of its mailbox


class TokenGone(Exception):
    """A sync state the sandbox no longer has (``state`` None: not one it ever issued)."""

    def __init__(self, state: DeltaState | None, detail: str) -> None:
        super().__init__(detail)
        self.state = state
        self.detail = detail


class DeltaTokens:
    """Issues and checks delta/skip tokens: signature, lifetime, per-mailbox cache, expiry."""

    def __init__(
        self,
        lifetime_seconds: int = 0,
        cache_size: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.lifetime_seconds = lifetime_seconds  # 0: no age limit
        self.cache_size = cache_size  # 0: every token kept
        self._clock = clock
        self._key = os.urandom(32)
        self._lock = threading.Lock()
        self._epoch: dict[str, int] = {}  # mailbox ("" = every mailbox) -> generation
        self._serial: dict[str, int] = {}  # mailbox -> tokens issued

    def epoch(self, mailbox: str) -> int:
        with self._lock:
            return self._epoch.get("", 0) + self._epoch.get(mailbox.lower(), 0)

    def expire(self, mailbox: str | None = None) -> None:
        """Forget every sync state issued so far (for one mailbox, or all)."""
        with self._lock:
            key = (mailbox or "").lower()
            self._epoch[key] = self._epoch.get(key, 0) + 1

    def encode(self, state: DeltaState) -> str:
        with self._lock:
            serial = self._serial.get(state.mailbox, 0) + 1
            self._serial[state.mailbox] = serial
        stamped = replace(state, issued=round(self._clock(), 3), serial=serial)
        payload = json.dumps(asdict(stamped), separators=(",", ":")).encode()
        mac = hmac.new(self._key, payload, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(mac + payload).decode().rstrip("=")

    def decode(self, token: str) -> DeltaState:
        """The state of a token; TokenGone when it is unknown, expired or pruned."""
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
            raise TokenGone(None, "generation=0;[highest=0]")
        current = self.epoch(state.mailbox)
        if state.epoch != current:
            raise TokenGone(state, f"generation={state.epoch};[highest={current}]")
        with self._lock:
            newest = self._serial.get(state.mailbox, 0)
        if self.cache_size and newest - state.serial >= self.cache_size:
            raise TokenGone(state, f"generation={state.serial};[highest={newest}]")
        if self.lifetime_seconds and self._clock() - state.issued > self.lifetime_seconds:
            raise TokenGone(state, f"generation={state.serial};[highest={newest}]")
        return state


def _gone(exc: TokenGone, req: Request, mailbox: str, folder_segment: str) -> GraphError:
    """410 SyncStateNotFound with the initial request in ``Location`` (a full resync)."""
    state = exc.state
    options: dict[str, str] = {}
    if state is not None:
        for name, value in (
            ("$select", state.select),
            ("$expand", state.expand),
            ("$filter", state.filter),
            ("changeType", state.change_type),
        ):
            if value:
                options[name] = value
    base = f"{req.base}/v1.0/users/{quote(mailbox)}/mailFolders/{folder_segment}/messages/delta"
    location = f"{base}?{urlencode(options, safe='$,()/: =')}" if options else base
    return GraphError(
        410,
        "SyncStateNotFound",
        f"The sync state generation is not found; {exc.detail}.",
        {"Location": location},
    )


# ---------------------------------------------------------------- the query


def delta(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    folder = app.folder_name(mailbox, m.group("folder"))
    token = req.query.get("deltatoken") or req.query.get("skiptoken")
    if token:
        try:
            state = app.delta.decode(token)
        except TokenGone as exc:
            raise _gone(exc, req, mailbox, m.group("folder")) from exc
        if state.mailbox != mailbox or state.folder != folder:
            raise _gone(
                TokenGone(None, "generation=0;[highest=0]"), req, mailbox, m.group("folder")
            )
    else:
        state = _first_state(app, req, mailbox, folder)
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
    for entry, created in entries:
        if isinstance(entry, str):
            values.append(
                {
                    "@odata.type": "#microsoft.graph.message",
                    "id": app.ids.former_id(entry, req.immutable),
                    "@removed": {"reason": "deleted"},
                }
            )
            continue
        rendered = render.message_json(
            entry,
            app.ids.graph_id(entry, req.immutable),
            app.folder_id(mailbox, folder),
            select,
            expand,
            "https://outlook.office365.com",
            req.prefer.get("outlook.body-content-type"),
            meetings.is_out_of_date(app.store, entry),
        )
        if not created and app.config.delta_partial_updates:
            rendered = _update_only(rendered, select)
        values.append({"@odata.type": odata_type(entry), **rendered})
    base = f"{req.base}/v1.0/users/{quote(mailbox)}/mailFolders/{folder}/messages/delta"
    body: dict[str, Any] = {"@odata.context": f"{req.base}/v1.0/$metadata#Collection(message)"}
    if next_state.since >= 0 and next_state.cursor == "" and next_state.upto < 0:
        body["@odata.deltaLink"] = f"{base}?$deltatoken={app.delta.encode(next_state)}"
    else:
        body["@odata.nextLink"] = f"{base}?$skiptoken={app.delta.encode(next_state)}"
    body["value"] = values
    return json_response(200, body, applied(req, maxpagesize=size))


def _first_state(app: GraphApp, req: Request, mailbox: str, folder: str) -> DeltaState:
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
    # Refuse unknown $select and $expand now, not on the first page of the next round.
    parse_select(req.query.get("select"))
    parse_expand(req.query.get("expand"))
    return DeltaState(
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


def _update_only(rendered: dict[str, Any], select: set[str] | None) -> dict[str, Any]:
    """An updated message as Exchange Online reports it: id and a few changed properties."""
    kept: dict[str, Any] = {k: rendered[k] for k in ("@odata.etag", "id") if k in rendered}
    for name in UPDATE_PROPERTIES:
        if name in rendered and (select is None or name.lower() in select):
            kept[name] = rendered[name]
    return kept


Entry = tuple[Item | str, bool]  # an item (or the id of a removed one), and whether it is new


def _initial_page(store: MailStore, state: DeltaState, size: int) -> tuple[list[Entry], DeltaState]:
    predicate = parse_filter(state.filter)
    items = sorted(
        (
            (_sync_key(seq, it), it)
            for seq, it in store.items_in_creation_order(state.mailbox, state.folder)
            if predicate(it)
        ),
        key=lambda keyed: keyed[0],
    )
    if state.change_type == "deleted":
        items = []
    remaining = (
        [(key, it) for key, it in items if key > tuple(state.cursor.split("|", 1))]
        if state.cursor
        else items
    )
    page: list[Entry] = [(it, True) for _, it in remaining[:size]]
    if len(remaining) > size:
        return page, replace(state, cursor="|".join(remaining[size - 1][0]))
    return page, replace(state, since=state.upto, upto=-1, cursor="")


def _change_page(store: MailStore, state: DeltaState, size: int) -> tuple[list[Entry], DeltaState]:
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
    entries: list[Entry] = []
    cursor = after
    for seq, item_id, kind in pending:
        if len(entries) >= size:
            break
        cursor = seq
        created = first[item_id] == "create"
        if kind == "delete":
            if state.change_type in (None, "deleted"):
                entries.append((item_id, False))
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
        entries.append((item, created))
    more = any(seq > cursor for seq, _, _ in pending)
    if more:
        return entries, replace(state, upto=upto, cursor=str(cursor))
    return entries, replace(state, since=upto, upto=-1, cursor="")


def _sync_key(seq: int, item: Item) -> tuple[str, str]:
    """Creation time, then creation order: items created within one second (the resolution of
    `date_created`) come in the order they were created, never in the random order of their ids
    (a test delivering a conversation in one second would otherwise see a reply before the
    message it answers on an earlier page, by chance)."""
    created = item.date_created.isoformat() if item.date_created else ""
    return created, f"{seq:020d}"
