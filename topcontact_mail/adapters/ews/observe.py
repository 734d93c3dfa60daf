"""Observing tracked messages over EWS: the facts the "answered?" rules read, in a few requests.

Per batch of watched messages:

1. GetItem of the messages (Outlook's last verb 0x1081/0x1082, the flag with its
   completion date, parent folder, categories, last change; no body);
2. a message EWS no longer knows by its id was moved (EWS gives a moved item a
   new id): it is looked for by its Message-ID in every mail folder (FindItem
   over the folders, restricted to those Message-IDs), then read as in 1;
3. FindItem in Sent Items for everything sent since the oldest of them arrived,
   with conversation, send time, subject and the service's ref; the messages
   of each tracked conversation are kept. (A restriction on `item:ConversationId`
   per conversation is avoided: the time window is one request for them all and
   works on every Exchange version.)
4. the folder's path from the mailbox root ("Inbox/Afgehandeld"), from one
   FindFolder (deep) of the mailbox, kept until an unknown folder shows up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from exchangelib import Q
from exchangelib.errors import ErrorItemNotFound
from exchangelib.folders import Calendar, Contacts, Tasks

from topcontact_mail.adapters.ews.finding import find_messages
from topcontact_mail.adapters.ews.items import (
    OBSERVE_FIELDS,
    SENT_FIELDS,
    observed_from_item,
    sent_message,
)
from topcontact_mail.adapters.sent_listing import SentListing
from topcontact_mail.domain.tracking.model import SentMessage
from topcontact_mail.ports import Observed, Watched

T = TypeVar("T")
Reader = Callable[[str, Callable[[], Any]], Any]
#: Message-IDs per FindItem when looking for moved messages.
MOVED_CHUNK = 50
#: Sent Items pages (FindItem IndexedPageItemView) of this size.
SENT_PAGE = 500
_NOT_MAIL = (Calendar, Contacts, Tasks)


class EwsObserver:
    """Reads what tracked messages show; `read` runs a request with the mailbox's read retries."""

    def __init__(self, account: Any, read: Reader, log: Any) -> None:
        self.account = account
        self.read = read
        self.log = log
        self._paths: dict[str, str] = {}
        self._folders: list[Any] = []
        self._sent = SentListing(self._list_sent)

    def observe(self, watched: Sequence[Watched], now: datetime) -> dict[str, Observed]:
        items = self._get([w.item_id for w in watched])
        gone = [w for w in watched if w.item_id not in items and w.internet_message_id]
        if gone:
            items.update(self._find_moved(gone))
        if not items:
            return {}
        parents = {i.parent_folder_id.id for i in items.values() if i.parent_folder_id}
        if parents - set(self._paths):
            self._load_folders()
        since = min(
            (i.datetime_received for i in items.values() if i.datetime_received),
            default=None,
        )
        conversations = {i.conversation_id.id for i in items.values() if i.conversation_id}
        sent = self._sent.sent_in(conversations, since) if since is not None else {}
        observed: dict[str, Observed] = {}
        for wanted_id, item in items.items():
            conversation = item.conversation_id.id if item.conversation_id else ""
            folder = self._paths.get(item.parent_folder_id.id, "") if item.parent_folder_id else ""
            observed[wanted_id] = observed_from_item(item, folder, sent.get(conversation, []), now)
        return observed

    def _get(self, item_ids: Sequence[str]) -> dict[str, Any]:
        """The messages by id; unknown ids (moved, deleted) left out, other per-item errors logged."""
        if not item_ids:
            return {}
        results = self.read(
            "GetItem",
            lambda: list(
                self.account.fetch(ids=[(i, None) for i in item_ids], only_fields=OBSERVE_FIELDS)
            ),
        )
        found: dict[str, Any] = {}
        for item_id, result in zip(item_ids, results, strict=True):
            if isinstance(result, ErrorItemNotFound):
                continue
            if isinstance(result, Exception):
                self.log.warning(
                    "tracked message cannot be read", item_id=item_id, error=str(result)
                )
                continue
            found[item_id] = result
        return found

    def _mail_folders(self) -> list[Any]:
        if not self._folders:
            self._load_folders()
        return self._folders

    def _load_folders(self) -> None:
        """Every folder of the mailbox with its path from the root (one FindFolder, deep)."""
        root = self.read("GetFolder", lambda: self.account.msg_folder_root)
        folders = self.read("FindFolder", lambda: list(root.walk()))
        prefix = f"{root.absolute}/"
        self._paths = {root.id: ""}
        self._folders = []
        for folder in folders:
            if isinstance(folder, Exception):
                continue
            self._paths[folder.id] = str(folder.absolute).removeprefix(prefix)
            if not isinstance(folder, _NOT_MAIL):
                self._folders.append(folder)

    def _find_moved(self, gone: Sequence[Watched]) -> dict[str, Any]:
        """Moved messages found again by their Message-ID, read as the others (by watched id)."""
        by_message_id = {w.internet_message_id: w.item_id for w in gone if w.internet_message_id}
        folders = self._mail_folders()
        new_ids: dict[str, str] = {}
        wanted = sorted(by_message_id)
        for start in range(0, len(wanted), MOVED_CHUNK):
            chunk = wanted[start : start + MOVED_CHUNK]
            for item in find_messages(
                self.read,
                self.account,
                folders,
                Q(message_id__in=chunk),
                ("message_id",),
                page_size=MOVED_CHUNK,
            ):
                if isinstance(item, Exception) or item.message_id not in by_message_id:
                    continue
                new_ids.setdefault(by_message_id[item.message_id], item.id)
        if not new_ids:
            return {}
        moved = self._get(list(new_ids.values()))
        return {old: moved[new] for old, new in new_ids.items() if new in moved}

    def _list_sent(self, since: datetime) -> dict[str, list[SentMessage]]:
        """Every message sent at or after `since`, by conversation (one FindItem a page)."""
        sent_folder = self.read("GetFolder", lambda: self.account.sent)
        sent_items = find_messages(
            self.read,
            self.account,
            [sent_folder],
            Q(datetime_sent__gte=since),
            SENT_FIELDS,
            page_size=SENT_PAGE,
            order_by="datetime_sent",
        )
        found: dict[str, list[SentMessage]] = {}
        for item in sent_items:
            if isinstance(item, Exception) or item.conversation_id is None:
                continue
            message = sent_message(item)
            if message is not None:
                found.setdefault(item.conversation_id.id, []).append(message)
        return found
