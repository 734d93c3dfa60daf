"""EWS item operations of the sandbox (a test double): GetItem, FindItem, UpdateItem, DeleteItem, MoveItem."""

from __future__ import annotations

from lxml import etree

from exchange_sandbox.ews import meetings
from exchange_sandbox.ews.access import (
    Caller,
    folder_list,
    folder_ref,
    item_ref,
    render_context,
)
from exchange_sandbox.ews.faults import EwsFault
from exchange_sandbox.ews.fields import (
    apply_fields,
    clear_field,
    item_fields,
    parse_dt,
    property_key,
)
from exchange_sandbox.ews.kinds import NOT_FOUND_BY_FIND, applies_to, item_kind
from exchange_sandbox.ews.render import render_item, render_item_id_only
from exchange_sandbox.ews.responses import each, empty_items
from exchange_sandbox.ews.restrictions import getter, matches, sort_key
from exchange_sandbox.ews.shapes import parse_shape
from exchange_sandbox.ews.xml import Element, m, sub, t, xs_bool
from exchange_sandbox.store import ChangeKeyMismatch, Item, MailStore


def get_item(store: MailStore, op: Element, caller: Caller) -> Element:
    shape = parse_shape(op.find(m("ItemShape")))
    ctx = render_context(store, shape, caller)

    strict = caller.request_version.startswith("Exchange2007")

    def build(ref: Element, out: Element) -> None:
        item = item_ref(store, ref, caller)
        if strict:
            # In the Exchange 2007 schema a property another item type has is an error (as in
            # Microsoft's Exchange 2007 example); from Exchange2010 on such properties are
            # left out, which exchangelib relies on when it asks for the fields of all types.
            for uri in shape.uris:
                if not applies_to(uri, item_kind(item)):
                    raise EwsFault(
                        "ErrorInvalidPropertyRequest",
                        "Property is not valid for this object type.",
                        field_uri=uri,
                    )
        render_item(sub(out, m("Items")), item, ctx)

    ids = op.find(m("ItemIds"))
    return each("GetItem", list(ids) if ids is not None else [], build, empty_items)


def find_item(store: MailStore, op: Element, caller: Caller) -> Element:
    shape = parse_shape(op.find(m("ItemShape")))
    ctx = render_context(store, shape, caller, "FindItem")
    restriction = op.find(m("Restriction"))
    sort = op.find(m("SortOrder"))
    paging = op.find(m("IndexedPageItemView"))
    calview = op.find(m("CalendarView"))

    refused = [u for u in shape.uris if u.split(":", 1)[-1] in NOT_FOUND_BY_FIND]
    if shape.include_mime:
        refused.insert(0, "item:MimeContent")

    def build(ref: Element, out: Element) -> None:
        if refused:
            raise EwsFault(
                "ErrorInvalidPropertyForOperation",
                "This property is not valid for this operation.",
                field_uri=refused[0],
            )
        info = folder_ref(store, ref, caller)
        items = store.items(info.mailbox, info.name)
        if calview is not None:
            start = parse_dt(calview.get("StartDate"))
            end = parse_dt(calview.get("EndDate"))
            items = store.calendar_between(info.mailbox, start, end)
        if restriction is not None and len(restriction):
            items = [it for it in items if matches(restriction[0], it)]
        if sort is not None:
            for order in reversed(list(sort)):
                uri = order[0] if len(order) else None
                if uri is None:
                    continue
                get = getter(uri)
                items.sort(
                    key=lambda it, g=get: sort_key(g(it)),  # type: ignore[misc]  # default arg binds the loop's getter
                    reverse=order.get("Order") == "Descending",
                )
        total = len(items)
        offset = 0
        if paging is not None:
            offset = int(paging.get("Offset", "0"))
            limit = int(paging.get("MaxEntriesReturned", str(total)) or total)
            if paging.get("BasePoint") == "End":
                offset = max(total - offset - limit, 0)
            page = items[offset : offset + limit]
        elif calview is not None and calview.get("MaxEntriesReturned"):
            limit = int(calview.get("MaxEntriesReturned", "0"))
            if total > limit:
                raise EwsFault(
                    "ErrorCalendarViewRangeTooBig",
                    "The number of calendar entries exceeds the MaxEntriesReturned value.",
                )
            page = items
        else:
            page = items
        attrs = {
            "TotalItemsInView": str(total),
            "IncludesLastItemInRange": xs_bool(offset + len(page) >= total),
        }
        if calview is None:
            attrs = {"IndexedPagingOffset": str(offset + len(page)), **attrs}
        root = sub(out, m("RootFolder"), **attrs)
        box = sub(root, t("Items"))
        for it in page:
            render_item(box, it, ctx)

    return each("FindItem", folder_list(op.find(m("ParentFolderIds"))), build)


def update_item(store: MailStore, op: Element, caller: Caller) -> Element:
    conflict = op.get("ConflictResolution", "AutoResolve")
    invitations = op.get("SendMeetingInvitationsOrCancellations")
    changes_el = op.find(m("ItemChanges"))

    def build(change: Element, out: Element) -> None:
        ref = change.find(t("ItemId"))
        if ref is None:
            raise EwsFault("ErrorInvalidRequest", "ItemChange without ItemId.")
        item = item_ref(store, ref, caller)
        expected = ref.get("ChangeKey") if conflict == "NeverOverwrite" else None
        updates = change.find(t("Updates"))
        steps = list(updates) if updates is not None else []

        def mutate(old: Item) -> Item:
            new = old
            for step in steps:
                kind = etree.QName(step).localname
                uri = step[0] if len(step) else None
                if uri is None:
                    raise EwsFault("ErrorInvalidRequest", f"{kind} without a field.")
                if kind == "DeleteItemField":
                    new = clear_field(new, uri)
                    continue
                if len(step) < 2:
                    raise EwsFault("ErrorInvalidRequest", f"{kind} without an item element.")
                fields = item_fields(step[1])
                if uri.tag == t("ExtendedFieldURI"):
                    want = property_key(uri).canonical
                    if not any(k.canonical == want for k, _ in fields.get("ExtendedProperty", [])):
                        raise EwsFault(
                            "ErrorInvalidRequest",
                            "ExtendedProperty does not match its ExtendedFieldURI.",
                        )
                new = apply_fields(new, fields, append=kind == "AppendToItemField")
            return new

        try:
            updated = store.update(item.id, mutate, expected_change_key=expected)
        except ChangeKeyMismatch as exc:
            raise EwsFault(
                "ErrorIrresolvableConflict",
                "The send or update operation could not be performed because the change key passed in the "
                "request does not match the current change key for the item.",
            ) from exc
        if updated.calendar is not None:
            updated = meetings.after_update(store, item, updated, invitations)
        render_item_id_only(sub(out, m("Items")), updated)
        conflicts = sub(out, m("ConflictResults"))
        sub(conflicts, t("Count"), "0")

    return each(
        "UpdateItem", list(changes_el) if changes_el is not None else [], build, empty_items
    )


def delete_item(store: MailStore, op: Element, caller: Caller) -> Element:
    delete_type = op.get("DeleteType", "MoveToDeletedItems")
    cancellations = op.get("SendMeetingCancellations")

    def build(ref: Element, out: Element) -> None:
        item = item_ref(store, ref, caller)
        if item_kind(item) == "CalendarItem":
            meetings.delete_calendar_item(store, item, delete_type, cancellations)
            return
        if delete_type == "MoveToDeletedItems" and item.folder != "deleteditems":
            store.move(item.id, "deleteditems")
        else:
            store.delete(item.id)

    ids = op.find(m("ItemIds"))
    return each("DeleteItem", list(ids) if ids is not None else [], build)


def move_item(store: MailStore, op: Element, caller: Caller) -> Element:
    target_box = op.find(m("ToFolderId"))

    def build(ref: Element, out: Element) -> None:
        if target_box is None or len(target_box) == 0:
            raise EwsFault("ErrorInvalidRequest", "ToFolderId is missing.")
        # Exchange answers a bad ToFolderId in each item's message, not as a fault.
        target = folder_ref(store, target_box[0], caller)
        item = item_ref(store, ref, caller)
        if target.mailbox != item.mailbox:
            raise EwsFault(
                "ErrorInvalidRequest", "The sandbox moves items within one mailbox only."
            )
        if not store.holds_items(target.mailbox, target.name):
            raise EwsFault("ErrorInvalidRequest", f"Items cannot live in {target.name}.")
        moved = item if item.folder == target.name else store.move(item.id, target.name)
        render_item_id_only(sub(out, m("Items")), moved)

    ids = op.find(m("ItemIds"))
    return each("MoveItem", list(ids) if ids is not None else [], build, empty_items)
