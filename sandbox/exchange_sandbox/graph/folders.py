"""Mail folders in the sandbox Graph endpoint (a test double): get, list, and folders of one's own.

- ``GET …/mailFolders/{id}``: a folder by id or well-known name (``msgfolderroot`` included);
- ``GET …/mailFolders`` (the folders under the root, "Top of Information Store") and
  ``GET …/mailFolders/{id}/childFolders``: ``$select``, ``$top``/``$skip`` with
  ``@odata.nextLink`` (Graph's default page of 10);
- ``POST …/mailFolders`` and ``POST …/mailFolders/{id}/childFolders`` with
  ``{"displayName", "isHidden"}`` (Create MailFolder, Create child folder): 201 with the new
  folder (class ``IPF.Note``); a sibling of the same name, in any case, is 409
  ``ErrorFolderExists`` "A folder with the specified name already exists.", as Exchange
  answers; a property mailFolder does not have is 400 ``RequestBodyRead``.

Deviations: ``isHidden`` is stored as false whatever is asked (hidden folders are not
modelled); a missing or empty ``displayName`` is refused with 400 ``ErrorInvalidRequest`` in
the sandbox's own words.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from exchange_sandbox.graph.errors import GraphError, Response, bad_request
from exchange_sandbox.graph.ids import to_rest
from exchange_sandbox.graph.odata import next_link, parse_select, top_skip
from exchange_sandbox.graph.request import Request, json_response
from exchange_sandbox.graph.schema import MAIL_FOLDER_PROPERTIES
from exchange_sandbox.store import FolderExists, FolderInfo

if TYPE_CHECKING:
    from exchange_sandbox.graph.app import GraphApp

#: What a new folder may be given (the writable mailFolder properties).
_CREATE = {"displayname", "ishidden"}


def folder_json(app: GraphApp, info: FolderInfo, select: set[str] | None) -> dict[str, Any]:
    folder: dict[str, Any] = {
        "id": to_rest(info.id),
        "displayName": info.display_name,
        "parentFolderId": to_rest(app.store.folder(info.mailbox, info.parent_name).id)
        if info.parent_name
        else None,
        "childFolderCount": info.child_count,
        "unreadItemCount": info.unread,
        "totalItemCount": info.total,
        "isHidden": False,
    }
    if select is not None:
        folder = {k: v for k, v in folder.items() if k == "id" or k.lower() in select}
    return folder


def get_folder(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    name = app.folder_name(mailbox, m.group("folder"))
    select = parse_select(req.query.get("select"), "mailFolder")
    folder = folder_json(app, app.store.folder(mailbox, name), select)
    context = f"{req.base}/v1.0/$metadata#users('{quote(mailbox)}')/mailFolders/$entity"
    return json_response(200, {"@odata.context": context, **folder})


def _parent(app: GraphApp, mailbox: str, m: re.Match[str]) -> str:
    segment = m.groupdict().get("folder")
    return app.folder_name(mailbox, segment) if segment else "msgfolderroot"


def list_folders(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    """The folders under a folder (under the root for ``/mailFolders``), a page at a time."""
    parent = _parent(app, mailbox, m)
    select = parse_select(req.query.get("select"), "mailFolder")
    children = app.store.child_folders(mailbox, parent)
    top, skip = top_skip(req, app.config.default_page_size)
    path = "mailFolders" if m.groupdict().get("folder") is None else "childFolders"
    body: dict[str, Any] = {
        "@odata.context": f"{req.base}/v1.0/$metadata#users('{quote(mailbox)}')/{path}",
        "value": [folder_json(app, f, select) for f in children[skip : skip + top]],
    }
    if skip + top < len(children):
        body["@odata.nextLink"] = next_link(req, {"$skip": str(skip + top)})
    return json_response(200, body)


def create_folder(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    """A folder of one's own under a folder (under the root for ``/mailFolders``): 201."""
    parent = _parent(app, mailbox, m)
    given = req.json()
    for key in given:
        if key.startswith("@"):
            continue
        if key.lower() not in _CREATE:
            known = key.lower() in MAIL_FOLDER_PROPERTIES
            raise bad_request(
                f"The property '{key}' cannot be set when a folder is created."
                if known
                else f"The property '{key}' does not exist on type 'microsoft.graph.mailFolder'. "
                "Make sure to only use property names that are defined by the type or mark "
                "the type as open type.",
                "RequestBodyRead",
            )
    name = next((v for k, v in given.items() if k.lower() == "displayname"), None)
    if not isinstance(name, str) or not name.strip():
        raise bad_request("A folder needs a displayName.", "ErrorInvalidRequest")
    try:
        info = app.store.create_folder(mailbox, parent, name, "IPF.Note")
    except FolderExists as exc:
        raise GraphError(
            409, "ErrorFolderExists", "A folder with the specified name already exists."
        ) from exc
    context = f"{req.base}/v1.0/$metadata#users('{quote(mailbox)}')/mailFolders/$entity"
    return json_response(201, {"@odata.context": context, **folder_json(app, info, None)})
