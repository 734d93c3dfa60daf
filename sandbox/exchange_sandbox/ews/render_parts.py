"""Building blocks of EWS item rendering (sandbox, a test double): the context and small renderers.

A renderer writes one property of an item into its element, or nothing when the item has no
value for it (Exchange leaves out what is not set). :mod:`~exchange_sandbox.ews.render`
(items and folders) and :mod:`~exchange_sandbox.ews.render_calendar` (calendar items and
meeting messages) build their tables from these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from exchange_sandbox.ews.shapes import Shape
from exchange_sandbox.ews.versions import has
from exchange_sandbox.ews.xml import Element, iso, sub, t
from exchange_sandbox.store import Address, CalendarFields, Item

Renderer = Callable[[Element, Item, "RenderContext"], None]


def _no_item(mailbox: str, uid: str) -> Item | None:
    return None


@dataclass
class RenderContext:
    folder_id: Callable[[str, str], str]
    is_known: Callable[[str], bool]
    shape: Shape
    version: str = "Exchange2016"
    """The RequestServerVersion: what a later version introduced is left out."""
    operation: str = "GetItem"
    """FindItem and SyncFolderItems return no bodies, recipient lists or headers."""
    calendar_item: Callable[[str, str], Item | None] = field(default=_no_item)
    """The meeting's item (by UID) in a mailbox's calendar, for a meeting message."""

    def mailbox_type(self, email: str) -> str | None:
        if not has(self.version, "MailboxType"):
            return None
        return "Mailbox" if self.is_known(email) else "OneOff"


def mailbox_el(
    parent: Element, addr: Address, tag: str = "Mailbox", mailbox_type: str | None = "OneOff"
) -> Element:
    """An EmailAddressType element; ``mailbox_type`` None leaves MailboxType out (Exchange 2007)."""
    box = sub(parent, t(tag))
    if addr.name:
        sub(box, t("Name"), addr.name)
    sub(box, t("EmailAddress"), addr.email)
    sub(box, t("RoutingType"), "SMTP")
    if mailbox_type is not None:
        sub(box, t("MailboxType"), mailbox_type)
    return box


def text(tag: str, get: Callable[[Item], str | None]) -> Renderer:
    def render(parent: Element, item: Item, ctx: RenderContext) -> None:
        value = get(item)
        if value is not None and value != "":
            sub(parent, t(tag), value)

    return render


def boolean(tag: str, get: Callable[[Item], bool]) -> Renderer:
    return text(tag, lambda it: "true" if get(it) else "false")


def date(tag: str, get: Callable[[Item], datetime | None]) -> Renderer:
    return text(tag, lambda it: iso(v) if (v := get(it)) is not None else None)


def cal(get: Callable[[CalendarFields], str | None]) -> Callable[[Item], str | None]:
    return lambda it: get(it.calendar) if it.calendar is not None else None
