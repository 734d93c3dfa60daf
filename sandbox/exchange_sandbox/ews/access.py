"""Who asks and what they may open (EWS sandbox, a test double): callers, impersonation, rights.

A caller is the authenticated user, possibly acting for another mailbox through the
``ExchangeImpersonation`` header (ApplicationImpersonation rights), otherwise for its own
mailbox and the mailboxes it has delegate (full access) rights on. Every folder and item
reference in a request is resolved here, with the access check Exchange makes.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from exchange_sandbox.config import UserConfig
from exchange_sandbox.ews import ids
from exchange_sandbox.ews.faults import EwsFault
from exchange_sandbox.ews.render_parts import RenderContext
from exchange_sandbox.ews.shapes import Shape
from exchange_sandbox.ews.xml import Element, t, text_of
from exchange_sandbox.store import (
    DISTINGUISHED_FOLDERS,
    FolderInfo,
    FolderNotFound,
    Item,
    ItemNotFound,
    MailStore,
    meetings,
)


@dataclass
class Caller:
    user: UserConfig
    impersonated: str | None = None
    request_version: str = "Exchange2007"
    """The RequestServerVersion of the request (Exchange2007_SP1, Exchange2016, ...)."""

    @property
    def principal_mailbox(self) -> str | None:
        return self.impersonated or (self.user.mailbox.lower() if self.user.mailbox else None)


def caller_of(store: MailStore, header: Element | None, user: UserConfig, version: str) -> Caller:
    """The caller of a request: its user, impersonation target and RequestServerVersion."""
    caller = _identity(store, header, user)
    caller.request_version = version
    return caller


def _identity(store: MailStore, header: Element | None, user: UserConfig) -> Caller:
    if header is None:
        return Caller(user=user)
    imp = header.find(t("ExchangeImpersonation"))
    if imp is None:
        return Caller(user=user)
    sid = imp.find(t("ConnectingSID"))
    target = None
    if sid is not None:
        for tag in ("PrimarySmtpAddress", "SmtpAddress", "PrincipalName"):
            target = text_of(sid, t(tag)) or target
    if not target:
        raise EwsFault("ErrorInvalidRequest", "ExchangeImpersonation needs a ConnectingSID.")
    if not store.has_mailbox(target):
        raise EwsFault(
            "ErrorNonExistentMailbox",
            f"The SMTP address has no mailbox associated with it: {target}",
        )
    if not user.may_impersonate(target):
        raise EwsFault(
            "ErrorImpersonateUserDenied",
            "The account does not have permission to impersonate the requested user.",
        )
    return Caller(user=user, impersonated=target.lower())


def check_mailbox(store: MailStore, caller: Caller, address: str) -> str:
    """The mailbox's address in lower case, if it exists and the caller may open it."""
    addr = address.lower()
    if not store.has_mailbox(addr):
        raise EwsFault(
            "ErrorNonExistentMailbox",
            f"The SMTP address has no mailbox associated with it: {address}",
        )
    if caller.impersonated is not None:
        if addr != caller.impersonated:
            raise EwsFault(
                "ErrorAccessDenied", "Access is denied. Check credentials and try again."
            )
        return addr
    if not caller.user.may_open(addr):
        raise EwsFault("ErrorAccessDenied", "Access is denied. Check credentials and try again.")
    return addr


def own_mailbox(store: MailStore, caller: Caller) -> str:
    """The mailbox a request means when it names none: the impersonated or the user's own."""
    mailbox = caller.principal_mailbox
    if mailbox is None:
        raise EwsFault(
            "ErrorNonExistentMailbox",
            f"The account {caller.user.name} has no mailbox; name a mailbox in the request.",
        )
    return check_mailbox(store, caller, mailbox)


def folder_ref(store: MailStore, el: Element, caller: Caller) -> FolderInfo:
    """Resolve a DistinguishedFolderId or FolderId element, checking access."""
    if el.tag == t("DistinguishedFolderId"):
        name = el.get("Id", "")
        box = el.find(t("Mailbox"))
        address = text_of(box, t("EmailAddress")) if box is not None else None
        mailbox = check_mailbox(store, caller, address) if address else own_mailbox(store, caller)
        if name not in DISTINGUISHED_FOLDERS:
            raise EwsFault("ErrorFolderNotFound", f"The sandbox has no {name} folder.")
        return store.folder(mailbox, name)
    if el.tag == t("FolderId"):
        folder_id = ids.folder_id(el.get("Id", ""), caller.request_version)
        ids.check_change_key(el.get("ChangeKey"))
        try:
            info = store.folder_by_id(folder_id)
        except FolderNotFound as exc:
            raise EwsFault(
                "ErrorFolderNotFound", "The specified folder could not be found in the store."
            ) from exc
        check_mailbox(store, caller, info.mailbox)
        return info
    raise EwsFault("ErrorInvalidRequest", f"Unsupported folder reference {el.tag}.")


def folder_list(container: Element | None) -> list[Element]:
    if container is None:
        raise EwsFault("ErrorInvalidRequest", "Folder ids are missing.")
    return list(container)


def item_ref(store: MailStore, el: Element, caller: Caller) -> Item:
    """The item an ItemId element names, if the caller may open its mailbox."""
    if el.tag not in (t("ItemId"), t("ReferenceItemId")):
        raise EwsFault(
            "ErrorInvalidRequest", f"Unsupported item reference {etree.QName(el).localname}."
        )
    item_id = ids.item_id(el.get("Id", ""), caller.request_version)
    ids.check_change_key(el.get("ChangeKey"))
    try:
        item = store.get(item_id)
    except ItemNotFound as exc:
        raise EwsFault(
            "ErrorItemNotFound", "The specified object was not found in the store."
        ) from exc
    check_mailbox(store, caller, item.mailbox)
    return item


def check_send_as(store: MailStore, caller: Caller, address: str) -> None:
    """Send-as rights: the mailbox the caller owns or impersonates, or a delegated one."""
    addr = address.lower()
    if caller.impersonated is not None:
        allowed = addr == caller.impersonated
    else:
        allowed = store.has_mailbox(addr) and caller.user.may_open(addr)
    if not allowed:
        raise EwsFault(
            "ErrorSendAsDenied",
            "The user account which was used to submit this request does not have the right "
            "to send mail on behalf of the specified sending account.",
        )


def render_context(
    store: MailStore, shape: Shape, caller: Caller, operation: str = "GetItem"
) -> RenderContext:
    return RenderContext(
        folder_id=lambda mailbox, folder: store.folder(mailbox, folder).id,
        is_known=store.has_mailbox,
        shape=shape,
        version=caller.request_version,
        operation=operation,
        calendar_item=lambda mailbox, uid: meetings.calendar_item(store, mailbox, uid),
    )


def parent_id(store: MailStore, info: FolderInfo) -> str | None:
    if info.parent_name is None:
        return None
    return store.folder(info.mailbox, info.parent_name).id
