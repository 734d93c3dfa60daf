"""FindItem with the properties it can return, each page one request tried on its own.

exchangelib's QuerySet asks FindItem only for what it calls simple properties and fetches
the others afterwards with GetItem, 100 items a request, inside the same `list(query)`:
`message_id` (a text field, which FindItem would cut at 512 bytes) and every extended
property, the service's ref among them. Retried as one call, a listing of 170 sent mails
was one FindItem and two GetItems, and any of the three failing made all three go again:
with 30 % of answers too slow, a try of it failed two times in three instead of one in
three, and a tracking pass ran out of attempts (the proving ground's faults scenario).

Exchange's FindItem returns InternetMessageId and extended properties itself (the EWS
Managed API marks InternetMessageId CanFind; only bodies, recipient lists, attachments and
MIME are left out), so one FindItem answers each page, and a page that fails is the only
request asked again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from exchangelib import Message, Q
from exchangelib.fields import FieldOrder, FieldPath
from exchangelib.items import ID_ONLY, SHALLOW
from exchangelib.restriction import Restriction
from exchangelib.services import FindItem

Reader = Callable[[str, Callable[[], Any]], Any]


def find_messages(
    read: Reader,
    account: Any,
    folders: Sequence[Any],
    where: Q,
    fields: Sequence[str],
    *,
    page_size: int,
    order_by: str | None = None,
) -> list[Any]:
    """The messages in `folders` matching `where`, with `fields` (Message field names).

    `read` runs one request with the read retries. One folder is read page by page, a
    request (and its retries) per page; several folders share each page, and their
    results are expected to fit in one (a lookup by refs or Message-IDs).
    """
    if not folders:
        return []
    paths = {FieldPath(field=Message.get_field_by_fieldname(name)) for name in fields}
    restriction = Restriction(where, folders=folders, applies_to=Restriction.ITEMS)
    order = [FieldOrder.from_string(order_by, folder=folders[0])] if order_by else None
    single = len(folders) == 1

    def page(offset: int) -> list[Any]:
        service = FindItem(account=account, page_size=page_size)
        return list(
            service.call(
                folders=folders,
                additional_fields=paths,
                restriction=restriction,
                order_fields=order,
                shape=ID_ONLY,
                query_string=None,
                depth=SHALLOW,
                calendar_view=None,
                # One folder: exactly one page per call, so a retry repeats only that page.
                max_items=page_size if single else None,
                offset=offset,
            )
        )

    found: list[Any] = []
    offset = 0
    while True:
        items = read("FindItem", lambda o=offset: page(o))  # type: ignore[misc]
        found.extend(items)
        if not single or len(items) < page_size:
            return found
        offset += page_size
