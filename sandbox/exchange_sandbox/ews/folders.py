"""EWS folder operations of the sandbox (a test double): GetFolder and FindFolder."""

from __future__ import annotations

from exchange_sandbox.ews.access import Caller, folder_list, folder_ref, parent_id
from exchange_sandbox.ews.render import render_folder
from exchange_sandbox.ews.responses import each
from exchange_sandbox.ews.shapes import parse_folder_shape
from exchange_sandbox.ews.xml import Element, m, sub, t
from exchange_sandbox.store import FolderInfo, MailStore


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
