"""EWS SyncFolderItems of the sandbox (a test double): sync states over the store's change log.

A sync state names the mailbox, the folder and the change-log position it reached; one of
another folder, or not made by the sandbox, is ErrorInvalidSyncStateData.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from exchange_sandbox.ews.access import Caller, folder_ref, render_context
from exchange_sandbox.ews.faults import EwsFault
from exchange_sandbox.ews.render import render_item
from exchange_sandbox.ews.responses import each
from exchange_sandbox.ews.shapes import parse_shape
from exchange_sandbox.ews.xml import Element, m, sub, t, text_of, xs_bool
from exchange_sandbox.store import ItemNotFound, MailStore


def encode_sync_state(mailbox: str, folder: str, seq: int) -> str:
    payload = json.dumps({"v": 1, "m": mailbox, "f": folder, "s": seq}).encode()
    return base64.b64encode(b"SBXSYNC" + payload).decode()


def decode_sync_state(value: str, mailbox: str, folder: str) -> int:
    try:
        raw = base64.b64decode(value, validate=True)
        if not raw.startswith(b"SBXSYNC"):
            raise ValueError("not a sandbox sync state")
        data = json.loads(raw[7:])
        if data["m"] != mailbox or data["f"] != folder:
            raise ValueError("sync state of another folder")
        return int(data["s"])
    except (ValueError, KeyError, TypeError) as exc:
        raise EwsFault("ErrorInvalidSyncStateData", "Invalid synchronization state data.") from exc


def sync_folder_items(store: MailStore, op: Element, caller: Caller) -> Element:
    shape = parse_shape(op.find(m("ItemShape")))
    ctx = render_context(store, shape, caller, "SyncFolderItems")
    ref_box = op.find(m("SyncFolderId"))
    state = text_of(op, m("SyncState"))
    max_changes = int(text_of(op, m("MaxChangesReturned")) or "100")
    if not 1 <= max_changes <= 512:
        raise EwsFault("ErrorInvalidRequest", "MaxChangesReturned must be between 1 and 512.")
    ignore_el = op.find(m("Ignore"))
    ignore = {el.get("Id") for el in ignore_el} if ignore_el is not None else set()

    def build(ref: Element, out: Element) -> None:
        info = folder_ref(store, ref, caller)
        after = decode_sync_state(state, info.mailbox, info.name) if state else 0
        page = store.changes_since(info.mailbox, [info.name], after)
        order: dict[str, dict[str, Any]] = {}
        last = after
        consumed = 0
        for change in page.changes:
            if change.item_id not in order and len(order) >= max_changes:
                break
            entry = order.setdefault(
                change.item_id, {"created": False, "deleted": False, "kinds": set()}
            )
            if change.kind == "create":
                entry["created"] = True
            elif change.kind == "delete":
                entry["deleted"] = True
            entry["kinds"].add(change.kind)
            last = change.seq
            consumed += 1
        more = consumed < len(page.changes)
        sub(out, m("SyncState"), encode_sync_state(info.mailbox, info.name, last))
        sub(out, m("IncludesLastItemInRange"), xs_bool(not more))
        changes = sub(out, m("Changes"))
        for item_id, entry in order.items():
            if item_id in ignore:
                continue
            if entry["deleted"]:
                if not entry["created"]:
                    box = sub(changes, t("Delete"))
                    sub(box, t("ItemId"), Id=item_id, ChangeKey="AAAAAA==")
                continue
            try:
                item = store.get(item_id)
            except ItemNotFound:
                continue
            if entry["created"]:
                render_item(sub(changes, t("Create")), item, ctx)
            elif entry["kinds"] == {"read_flag"}:
                box = sub(changes, t("ReadFlagChange"))
                sub(box, t("ItemId"), Id=item.id, ChangeKey=item.change_key)
                sub(box, t("IsRead"), xs_bool(item.is_read))
            else:
                render_item(sub(changes, t("Update")), item, ctx)

    if ref_box is None or len(ref_box) == 0:
        raise EwsFault("ErrorInvalidRequest", "SyncFolderId is missing.")

    def error_tail(msg: Element) -> None:
        # Exchange keeps these elements (empty) in failed sync answers; exchangelib relies on it.
        sub(msg, m("SyncState"))
        sub(msg, m("IncludesLastItemInRange"), "true")

    return each("SyncFolderItems", [ref_box[0]], build, error_tail)
