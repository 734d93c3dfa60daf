"""Mail folders over Microsoft Graph (plain HTTP): msgfolderroot, childFolders, folders of one's own.

Create child folder (``POST /users/{id}/mailFolders/{id}/childFolders`` with ``displayName``
and ``isHidden``, 201), list child folders (``GET …/childFolders``), Create MailFolder (``POST
/users/{id}/mailFolders``), and the well-known name ``msgfolderroot``; a name taken is 409
``ErrorFolderExists``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from exchange_sandbox.server import SandboxHandle
from submission_helpers import SHARED, GraphHttp, sandbox_with_clock

IMMUTABLE = {"Prefer": 'IdType="ImmutableId"'}
QUESTION = (
    f"From: Huurder <huurder@example.org>\r\nTo: {SHARED}\r\nSubject: Kraan lekt\r\n"
    "Message-ID: <kraan@example.org>\r\n\r\nHelp.\r\n"
).encode()


@pytest.fixture
def running() -> Iterator[tuple[SandboxHandle, GraphHttp]]:
    with sandbox_with_clock(0) as (handle, _):
        yield handle, GraphHttp(handle)


def test_msgfolderroot_is_the_inbox_parent_and_lists_the_top_folders(
    running: tuple[SandboxHandle, GraphHttp],
) -> None:
    _, graph = running
    root = graph.get(f"/users/{SHARED}/mailFolders/msgfolderroot")
    assert root.status_code == 200, root.text
    inbox = graph.get(f"/users/{SHARED}/mailFolders/Inbox?$select=parentFolderId").json()
    assert root.json()["id"] == inbox["parentFolderId"]
    assert root.json()["displayName"] == "Top of Information Store"
    same = graph.get(f"/users/{SHARED}/mailFolders/MsgFolderRoot?$select=id").json()
    assert same["id"] == root.json()["id"]  # well-known names in any case

    top = graph.get(f"/users/{SHARED}/mailFolders?$top=50").json()["value"]
    children = graph.get(f"/users/{SHARED}/mailFolders/msgfolderroot/childFolders?$top=50")
    assert {f["displayName"] for f in top} >= {"Inbox", "Sent Items", "Deleted Items"}
    assert [f["id"] for f in children.json()["value"]] == [f["id"] for f in top]


def test_a_done_folder_is_made_under_the_inbox_and_messages_move_into_it(
    running: tuple[SandboxHandle, GraphHttp],
) -> None:
    handle, graph = running
    handle.store.deliver(SHARED, QUESTION)
    made = graph.post(
        f"/users/{SHARED}/mailFolders/inbox/childFolders",
        {"displayName": "Afgehandeld", "isHidden": False},  # the reference's request body
    )
    assert made.status_code == 201, made.text
    folder = made.json()
    inbox = graph.get(f"/users/{SHARED}/mailFolders/inbox").json()
    assert (folder["displayName"], folder["parentFolderId"]) == ("Afgehandeld", inbox["id"])
    assert (folder["childFolderCount"], folder["totalItemCount"], folder["isHidden"]) == (
        0,
        0,
        False,
    )
    assert inbox["childFolderCount"] == 1
    listed = graph.get(f"/users/{SHARED}/mailFolders/inbox/childFolders").json()["value"]
    assert [f["id"] for f in listed] == [folder["id"]]

    [message] = graph.folder(SHARED, "inbox", "?$select=id")
    moved = graph.post(
        f"/users/{SHARED}/messages/{message['id']}/move",
        {"destinationId": folder["id"]},
        headers=IMMUTABLE,
    )
    assert moved.status_code == 201, moved.text
    assert moved.json()["parentFolderId"] == folder["id"]
    assert [m["subject"] for m in graph.folder(SHARED, folder["id"], "?$select=subject")] == [
        "Kraan lekt"
    ]
    # Found again by its Message-ID across the mailbox, as a moved message is looked for.
    search = graph.get(
        f"/users/{SHARED}/messages?$filter=internetMessageId eq '<kraan@example.org>'"
        "&$select=parentFolderId"
    )
    assert [m["parentFolderId"] for m in search.json()["value"]] == [folder["id"]]
    # Its path reads upwards: Afgehandeld, Inbox, the root.
    up = graph.get(f"/users/{SHARED}/mailFolders/{folder['id']}?$select=displayName,parentFolderId")
    assert up.json()["parentFolderId"] == inbox["id"]


def test_a_name_taken_among_siblings_is_409_error_folder_exists(
    running: tuple[SandboxHandle, GraphHttp],
) -> None:
    _, graph = running
    url = f"/users/{SHARED}/mailFolders/inbox/childFolders"
    assert graph.post(url, {"displayName": "Afgehandeld"}).status_code == 201
    taken = graph.post(url, {"displayName": "AFGEHANDELD"})
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "ErrorFolderExists"
    assert taken.json()["error"]["message"] == "A folder with the specified name already exists."
    # The same name under another folder, and at the top, is another folder.
    assert graph.post(
        f"/users/{SHARED}/mailFolders", {"displayName": "Afgehandeld"}
    ).status_code == (201)
    unknown = graph.post(url, {"displayName": "X", "colour": "blue"})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "RequestBodyRead"
    assert graph.post(url, {"isHidden": False}).status_code == 400  # no name


def test_child_folders_come_in_pages(running: tuple[SandboxHandle, GraphHttp]) -> None:
    _, graph = running
    url = f"/users/{SHARED}/mailFolders/inbox/childFolders"
    for n in range(12):
        assert graph.post(url, {"displayName": f"Map {n}"}).status_code == 201
    first = graph.get(url).json()
    assert len(first["value"]) == 10
    rest = graph.session.get(first["@odata.nextLink"], timeout=10).json()
    assert [f["displayName"] for f in rest["value"]] == ["Map 10", "Map 11"]
    assert "@odata.nextLink" not in rest
