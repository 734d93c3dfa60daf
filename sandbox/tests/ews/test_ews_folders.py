"""Folders of one's own over EWS: CreateFolder, found by FindFolder and GetFolder, holding mail.

What staff do in Outlook when they file answered mail: make ``Inbox/Afgehandeld`` and move
messages into it. Through exchangelib (CreateFolder, FindFolder deep, MoveItem, FindItem) and
plain SOAP for the refusals; every answer is checked against Microsoft's schema.
"""

from __future__ import annotations

import pytest
from exchangelib import Account
from exchangelib.errors import ErrorFolderExists
from exchangelib.folders import Folder, Messages
from lxml import etree

from exchange_sandbox.server import SandboxHandle
from sandbox_helpers import DEVRIES, MNS, SHARED, TNS, eml, post_soap, response_codes


def _create(parent: str, *names: str, mailbox: str = SHARED) -> bytes:
    folders = "".join(f"<t:Folder><t:DisplayName>{n}</t:DisplayName></t:Folder>" for n in names)
    return (
        "<m:CreateFolder><m:ParentFolderId>"
        f'<t:DistinguishedFolderId Id="{parent}"><t:Mailbox>'
        f"<t:EmailAddress>{mailbox}</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId>"
        f"</m:ParentFolderId><m:Folders>{folders}</m:Folders></m:CreateFolder>"
    ).encode()


def test_a_done_folder_is_made_found_and_holds_the_messages_moved_into_it(
    sandbox: SandboxHandle, shared: Account
) -> None:
    original = sandbox.store.deliver(SHARED, eml(subject="Kraan lekt"))
    done = Messages(parent=shared.inbox, name="Afgehandeld")
    done.save()  # CreateFolder

    paths = {
        str(f.absolute).removeprefix(f"{shared.msg_folder_root.absolute}/"): f
        for f in shared.msg_folder_root.walk()  # FindFolder, Traversal Deep
    }
    assert "Inbox/Afgehandeld" in paths
    found = paths["Inbox/Afgehandeld"]
    assert (found.id, found.folder_class) == (done.id, "IPF.Note")
    shared.inbox.refresh()  # GetFolder
    assert shared.inbox.child_folder_count == 1

    shared.inbox.get(id=original.id).move(done)  # MoveItem

    (moved,) = done.all().only("subject", "parent_folder_id")  # FindItem in the folder
    assert moved.subject == "Kraan lekt"
    assert moved.parent_folder_id.id == done.id
    assert list(shared.inbox.all()) == []
    done.refresh()
    assert done.total_count == 1


def test_a_name_taken_in_the_folder_is_error_folder_exists_in_any_case(
    sandbox: SandboxHandle, shared: Account
) -> None:
    Messages(parent=shared.inbox, name="Afgehandeld").save()
    with pytest.raises(ErrorFolderExists, match="A folder with the specified name already exists"):
        Messages(parent=shared.inbox, name="AFGEHANDELD").save()
    # The same name elsewhere is another folder; a distinguished folder's name is taken too.
    Messages(parent=shared.msg_folder_root, name="Afgehandeld").save()
    with pytest.raises(ErrorFolderExists):
        Messages(parent=shared.msg_folder_root, name="inbox").save()


def test_create_folder_answers_each_folder_on_its_own(sandbox: SandboxHandle) -> None:
    answer = post_soap(sandbox, _create("inbox", "Afgehandeld", "Afgehandeld", "Wacht").decode())
    assert answer.status_code == 200
    assert response_codes(answer) == ["NoError", "ErrorFolderExists", "NoError"]
    root = etree.fromstring(answer.content)
    failed = root.findall(f".//{{{MNS}}}CreateFolderResponseMessage")[1]
    assert failed.findtext(f"{{{MNS}}}MessageText") == (
        "A folder with the specified name already exists."
    )
    folders = failed.find(f"{{{MNS}}}Folders")
    assert folders is not None
    assert len(folders) == 0
    made = [f.get("Id") for f in root.iter(f"{{{TNS}}}FolderId")]
    assert len(made) == 2
    assert all(made)


def test_a_plain_folder_has_no_class_and_a_bad_parent_is_answered_per_folder(
    sandbox: SandboxHandle, shared: Account
) -> None:
    plain = Folder(parent=shared.inbox, name="Zonder klasse")
    plain.save()
    (found,) = [f for f in shared.inbox.children if f.name == "Zonder klasse"]
    assert found.folder_class is None

    # A mailbox the service account may not open (impersonation only): refused per folder.
    refused = post_soap(sandbox, _create("inbox", "Privé", mailbox=DEVRIES).decode())
    assert response_codes(refused) == ["ErrorAccessDenied"]
    unknown = post_soap(
        sandbox,
        '<m:CreateFolder><m:ParentFolderId><t:FolderId Id="AAAA"/></m:ParentFolderId>'
        "<m:Folders><t:Folder><t:DisplayName>X</t:DisplayName></t:Folder></m:Folders>"
        "</m:CreateFolder>",
    )
    assert response_codes(unknown) == ["ErrorInvalidIdMalformed"]


def test_folders_in_folders_show_in_a_deep_find_folder(
    sandbox: SandboxHandle, shared: Account
) -> None:
    done = Messages(parent=shared.inbox, name="Afgehandeld")
    done.save()
    Messages(parent=done, name="2026").save()
    paths = {
        str(f.absolute).removeprefix(f"{shared.msg_folder_root.absolute}/")
        for f in shared.msg_folder_root.walk()
    }
    assert {"Inbox/Afgehandeld", "Inbox/Afgehandeld/2026"} <= paths
