"""EWS folder operations of the sandbox (a test double): GetFolder, FindFolder and CreateFolder.

CreateFolder ("CreateFolder operation" reference) makes folders of one's own under any folder
of a mailbox the caller may open: one response message per folder, with the new folder's id.
A ``t:Folder`` takes its ``FolderClass`` as given (none when absent; Exchange allows a custom
class only on the generic element), ``t:CalendarFolder``, ``t:ContactsFolder`` and
``t:TasksFolder`` get IPF.Appointment, IPF.Contact and IPF.Task. A sibling of the same name,
in any case, is ErrorFolderExists ("A folder with the specified name already exists.", the
reference's error example, with an empty ``Folders``); a bad parent is answered in each
folder's message (ErrorFolderNotFound, ErrorInvalidIdMalformed). Search folders are not
modelled (ErrorInvalidRequest), nor a folder without a DisplayName (ErrorInvalidRequest, the
sandbox's words).
"""

from __future__ import annotations

from lxml import etree

from exchange_sandbox.ews.access import Caller, folder_list, folder_ref, parent_id
from exchange_sandbox.ews.faults import EwsFault
from exchange_sandbox.ews.render import render_folder
from exchange_sandbox.ews.responses import each
from exchange_sandbox.ews.shapes import parse_folder_shape
from exchange_sandbox.ews.xml import Element, m, sub, t, text_of
from exchange_sandbox.store import FolderExists, FolderInfo, MailStore

#: The folder elements CreateFolder takes and the class each gives a new folder.
_CLASSES = {
    "Folder": "",
    "CalendarFolder": "IPF.Appointment",
    "ContactsFolder": "IPF.Contact",
    "TasksFolder": "IPF.Task",
}


def get_folder(store: MailStore, op: Element, caller: Caller) -> Element:
    shape = parse_folder_shape(op.find(m("FolderShape")))

    def build(ref: Element, out: Element) -> None:
        info = folder_ref(store, ref, caller)
        folders = sub(out, m("Folders"))
        render_folder(folders, info, shape, parent_id(store, info))

    def error_tail(msg: Element) -> None:
        # Exchange keeps an empty Folders element in a failed GetFolder message.
        sub(msg, m("Folders"))

    return each("GetFolder", folder_list(op.find(m("FolderIds"))), build, error_tail)


def find_folder(store: MailStore, op: Element, caller: Caller) -> Element:
    shape = parse_folder_shape(op.find(m("FolderShape")))
    deep = op.get("Traversal") == "Deep"

    def build(ref: Element, out: Element) -> None:
        info = folder_ref(store, ref, caller)
        found: list[FolderInfo] = []
        todo = store.child_folders(info.mailbox, info.name)
        while todo:
            child = todo.pop(0)
            found.append(child)
            if deep:
                todo.extend(store.child_folders(child.mailbox, child.name))
        root = sub(
            out,
            m("RootFolder"),
            TotalItemsInView=str(len(found)),
            IncludesLastItemInRange="true",
        )
        folders = sub(root, t("Folders"))
        for child in found:
            render_folder(folders, child, shape, parent_id(store, child))

    return each("FindFolder", folder_list(op.find(m("ParentFolderIds"))), build)


def create_folder(store: MailStore, op: Element, caller: Caller) -> Element:
    parent_el = op.find(m("ParentFolderId"))
    folders_el = op.find(m("Folders"))

    def build(el: Element, out: Element) -> None:
        # Exchange answers a bad parent in each folder's message, as CreateItem's folder.
        if parent_el is None or not len(parent_el):
            raise EwsFault("ErrorInvalidRequest", "ParentFolderId is missing.")
        parent = folder_ref(store, parent_el[0], caller)
        kind = etree.QName(el).localname
        if kind not in _CLASSES:
            raise EwsFault("ErrorInvalidRequest", f"The sandbox cannot create a {kind}.")
        name = text_of(el, t("DisplayName"))
        if not name:
            raise EwsFault("ErrorInvalidRequest", "The sandbox needs a DisplayName for a folder.")
        folder_class = _CLASSES[kind] or (text_of(el, t("FolderClass")) or "")
        try:
            info = store.create_folder(parent.mailbox, parent.name, name, folder_class)
        except FolderExists as exc:
            raise EwsFault(
                "ErrorFolderExists", "A folder with the specified name already exists."
            ) from exc
        made = sub(sub(out, m("Folders")), t(kind))
        sub(made, t("FolderId"), Id=info.id, ChangeKey="AQAAABYAAAA=")

    def error_tail(msg: Element) -> None:
        # The reference's error example keeps an empty Folders element.
        sub(msg, m("Folders"))

    return each(
        "CreateFolder", list(folders_el) if folders_el is not None else [], build, error_tail
    )
