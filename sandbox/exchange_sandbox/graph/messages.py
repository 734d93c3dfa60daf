"""Graph messages in the sandbox (a test double): get, list, create, update, delete, move, MIME.

Deleting moves to Deleted Items (from there: gone), ``permanentDelete`` removes at once;
a move gives the message a new id unless the client asked for immutable ids.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from exchange_sandbox.graph.actions import parameters
from exchange_sandbox.graph.errors import GraphError, Response, bad_request, stale_change_key
from exchange_sandbox.graph.mime import new_message_id, outgoing_mime
from exchange_sandbox.graph.odata import (
    next_link,
    parse_filter,
    top_skip,
    unknown_property,
)
from exchange_sandbox.graph.patch import apply_patch
from exchange_sandbox.graph.request import Request, applied, json_response
from exchange_sandbox.graph.schema import MESSAGE_PROPERTIES
from exchange_sandbox.graph.search import MAX_RESULTS, parse_search
from exchange_sandbox.store import Address, ChangeKeyMismatch, Item, NewItem

if TYPE_CHECKING:
    from exchange_sandbox.graph.app import GraphApp

MAIL_FOLDERS = ("inbox", "sentitems", "drafts", "deleteditems", "outbox")


def mail_folders(app: GraphApp, mailbox: str) -> tuple[str, ...]:
    """The folders that hold the mailbox's messages: the distinguished mail folders and the mail
    folders users made (``/messages`` lists them all; ``move`` moves to them)."""
    made = tuple(
        f.name
        for f in app.store.user_folders(mailbox)
        if not f.folder_class or f.folder_class.startswith("IPF.Note")
    )
    return MAIL_FOLDERS + made


def get_message(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    item = app.item(mailbox, m.group("msg"))
    body = app.message(req, item)
    body["@odata.context"] = f"{req.base}/v1.0/$metadata#users('{quote(mailbox)}')/messages/$entity"
    return json_response(200, body, applied(req))


def get_mime(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    item = app.item(mailbox, m.group("msg"))
    mime = item.mime
    if mime is None:
        sender = Address(mailbox, app.display_name(mailbox))
        mime = outgoing_mime(item, sender, item.message_id or new_message_id())
    return 200, {"Content-Type": "text/plain"}, mime


def list_messages(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    folder_seg = m.groupdict().get("folder")
    folders = (app.folder_name(mailbox, folder_seg),) if folder_seg else mail_folders(app, mailbox)
    items = [
        it
        for f in folders
        for it in app.store.items(mailbox, f)
        if not it.item_class.startswith("IPM.Appointment")
    ]
    if "search" in req.query:
        return _search(app, req, mailbox, items)
    predicate = parse_filter(req.query.get("filter"))
    items = [it for it in items if predicate(it)]
    order = (req.query.get("orderby") or "receivedDateTime desc").strip().split()
    if order[0].lower() not in MESSAGE_PROPERTIES:
        raise unknown_property(order[0])
    if order[0].lower() not in ("receiveddatetime", "sentdatetime", "createddatetime"):
        raise bad_request(
            f"The $orderby property '{order[0]}' is not supported.", "ErrorInvalidProperty"
        )
    attr = {"receiveddatetime": "date_received", "sentdatetime": "date_sent"}.get(
        order[0].lower(), "date_created"
    )
    epoch = datetime.min.replace(tzinfo=UTC)
    items.sort(
        key=lambda it: getattr(it, attr) or epoch,
        reverse=len(order) < 2 or order[1].lower() != "asc",
    )
    top, skip = top_skip(req, app.config.default_page_size)
    page = items[skip : skip + top]
    body: dict[str, Any] = {
        "@odata.context": f"{req.base}/v1.0/$metadata#users('{quote(mailbox)}')/messages",
        "value": [app.message(req, it) for it in page],
    }
    if skip + top < len(items):
        body["@odata.nextLink"] = next_link(req, {"$skip": str(skip + top)})
    return json_response(200, body, applied(req))


def _search(app: GraphApp, req: Request, mailbox: str, items: list[Item]) -> Response:
    """``$search``: newest sent first, up to 1000, paged with ``$skiptoken`` (not ``$skip``)."""
    for option, name in (("filter", "$filter"), ("orderby", "$orderBy"), ("skip", "$skip")):
        if option in req.query:
            raise bad_request(
                f"The query parameter '{name}' is not supported with '$search'.",
                "ErrorInvalidUrlQuery",
            )
    test = parse_search(req.query["search"])
    epoch = datetime.min.replace(tzinfo=UTC)
    found = sorted((it for it in items if test(it)), key=lambda it: it.date_sent or epoch)
    found = found[::-1][:MAX_RESULTS]
    top, _ = top_skip(req, app.config.default_page_size)
    offset = req.query.get("skiptoken", "0")
    start = int(offset) if offset.isdigit() else 0
    body: dict[str, Any] = {
        "@odata.context": f"{req.base}/v1.0/$metadata#users('{quote(mailbox)}')/messages",
        "value": [app.message(req, it) for it in found[start : start + top]],
    }
    if start + top < len(found):
        body["@odata.nextLink"] = next_link(req, {"$skiptoken": str(start + top)})
    return json_response(200, body, applied(req))


def create_message(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    item = new_draft(app, mailbox, req.json())
    return json_response(201, app.message(req, item), applied(req))


def new_draft(app: GraphApp, mailbox: str, message: dict[str, Any]) -> Item:
    """A draft in Drafts with the properties of a JSON message (removed again if one is invalid)."""
    me = Address(mailbox, app.display_name(mailbox))
    draft = app.store.create(
        mailbox, "drafts", NewItem(from_=me, is_draft=True, is_read=True, body_type="HTML")
    )
    try:
        return app.store.update(draft.id, lambda it: apply_patch(it, message))
    except GraphError:
        app.store.delete(draft.id)
        raise


def patch_message(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    item = app.item(mailbox, m.group("msg"))
    patch = req.json()
    expected = _if_match(req.headers.get("if-match"))
    if expected is not None and expected != item.change_key:
        raise stale_change_key()
    try:
        updated = app.store.update(
            item.id, lambda it: apply_patch(it, patch), expected_change_key=expected
        )
    except ChangeKeyMismatch:
        raise stale_change_key() from None
    return json_response(200, app.message(req, updated), applied(req))


def _if_match(value: str | None) -> str | None:
    """The change key an If-Match header names (`W/"CQAAAB..."`), None for none or `*`."""
    if value is None or value.strip() == "*":
        return None
    return value.strip().removeprefix("W/").strip('"')


def delete_message(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    item = app.item(mailbox, m.group("msg"))
    if item.folder == "deleteditems":
        app.store.delete(item.id)
    else:
        app.ids.carry(item, app.store.move(item.id, "deleteditems"))
    return 204, {}, b""


def purge(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    """`permanentDelete` of a message or an event: gone at once, not in Deleted Items."""
    parameters(req, "permanentDelete")
    app.store.delete(app.item(mailbox, m.group("msg")).id)
    return 204, {}, b""


def move_message(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    item = app.item(mailbox, m.group("msg"))
    destination = parameters(req, "move").get("DestinationId")
    if not isinstance(destination, str):
        raise bad_request("The DestinationId parameter is required.", "ErrorInvalidIdMalformed")
    folder = app.folder_name(mailbox, destination)
    if folder not in mail_folders(app, mailbox):
        raise bad_request("Messages can only be moved to mail folders.", "ErrorInvalidOperation")
    moved = app.store.move(item.id, folder)
    app.ids.carry(item, moved)
    return json_response(201, app.message(req, moved), applied(req))
