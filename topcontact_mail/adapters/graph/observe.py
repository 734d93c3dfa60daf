"""Observing tracked messages over Graph: the facts the "answered?" rules read, in `$batch`es.

Per batch of watched messages (immutable ids, so a message staff move keeps its id):

1. GET of each message with `$select` of the flag, parent folder, categories,
   last change, conversation, subject and sender, and `$expand` of Outlook's
   last verb (`Integer 0x1081`) and its time (`SystemTime 0x1082`), 20 per batch;
   a message Graph no longer knows by its id is looked for by its Message-ID;
2. Sent Items since the oldest of them arrived (`sentDateTime ge`, pages of 500),
   with conversation, send time, subject, Message-ID and the service's ref
   property; the messages of each tracked conversation are kept. One listing
   serves the later batches of a pass for 30 s (`adapters/sent_listing.py`; a pass observes
   its targets oldest first). A request per conversation would cost as many
   requests as there are open targets, each pass;
3. the folder's path from the mailbox root, from `parentFolderId` upwards (each
   folder read once and kept).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from topcontact_mail.adapters.graph import fields
from topcontact_mail.adapters.graph.client import MAX_BATCH, BatchStep, GraphClient
from topcontact_mail.adapters.sent_listing import SentListing
from topcontact_mail.domain.tracking.model import Observation, SentMessage
from topcontact_mail.domain.tracking.rules.sent import kind_from_subject
from topcontact_mail.ports import MailboxUnavailable, Observed, Watched

#: Folders deeper than this are not followed further up (a loop would be a server bug).
MAX_FOLDER_DEPTH = 20
#: Sent Items messages per page of the listing (Graph allows up to 1,000).
SENT_PAGE = 500
#: Pages of the listing at most (a mailbox that sent more since its oldest open target is
#: read up to here; its oldest conversations are then seen by the next pass's listing).
SENT_MAX_PAGES = 40


def _query(select: Sequence[str], expand: Sequence[str] = (), **extra: str) -> str:
    params = {"$select": ",".join(select), **extra}
    if expand:
        params["$expand"] = fields.expand_parameter(expand)
    return urlencode(params, quote_via=quote, safe="$,()'")


class GraphObserver:
    """Reads what tracked messages show through the mailbox's Graph client."""

    def __init__(self, client: GraphClient, user: str) -> None:
        self.client = client
        self.user = user
        self._folders: dict[str, tuple[str, str | None]] = {}
        self._root: str | None = None
        self._sent = SentListing(self._list_sent)

    def _message_url(self, item_id: str) -> str:
        return f"{self.user}/messages/{quote(item_id, safe='')}"

    def _batch(self, steps: list[BatchStep], what: str) -> dict[str, Any]:
        """Run GETs in batches of 20; the bodies by step id. Not found (404), and an id Graph
        cannot read (400 ErrorInvalidIdMalformed: an EWS id kept from before a switch of
        backend) are left out: the message is then looked for by its Message-ID."""
        bodies: dict[str, Any] = {}
        for start in range(0, len(steps), MAX_BATCH):
            chunk = steps[start : start + MAX_BATCH]
            answers = self.client.batch(chunk, may_repeat=True)
            for step in chunk:
                answer = answers[step.id]
                if answer.status == 404 or answer.error_code == "ErrorInvalidIdMalformed":
                    continue
                if not answer.ok or not isinstance(answer.body, dict):
                    raise MailboxUnavailable(f"{what} failed: {answer.describe()}")
                bodies[step.id] = answer.body
        return bodies

    def observe(self, watched: Sequence[Watched], now: datetime) -> dict[str, Observed]:
        query = _query(
            fields.OBSERVE_FIELDS,
            (fields.LAST_VERB_PROPERTY, fields.LAST_VERB_TIME_PROPERTY),
        )
        steps = [
            BatchStep(w.item_id, "GET", f"{self._message_url(w.item_id)}?{query}") for w in watched
        ]
        messages = self._batch(steps, "reading tracked messages")
        gone = [w for w in watched if w.item_id not in messages and w.internet_message_id]
        if gone:
            messages.update(self._find_moved(gone, query))
        conversations = {
            str(m["conversationId"]) for m in messages.values() if m.get("conversationId")
        }
        since = min(
            (t for m in messages.values() if (t := fields.parse_time(m.get("receivedDateTime")))),
            default=None,
        )
        sent = self._sent.sent_in(conversations, since) if since is not None else {}
        self._load_folders(
            {str(m["parentFolderId"]) for m in messages.values() if m.get("parentFolderId")}
        )
        return {
            item_id: self._observed(message, sent, now) for item_id, message in messages.items()
        }

    def _find_moved(self, gone: Sequence[Watched], query: str) -> dict[str, Any]:
        """Messages not found by id, looked for by Message-ID; read as the others."""
        steps = []
        for w in gone:
            value = (w.internet_message_id or "").replace("'", "''")
            search = urlencode(
                {"$filter": f"internetMessageId eq '{value}'", "$select": "id", "$top": "1"},
                quote_via=quote,
                safe="$,()'",
            )
            steps.append(BatchStep(w.item_id, "GET", f"{self.user}/messages?{search}"))
        found = self._batch(steps, "looking for moved messages")
        new_ids = {
            old: str(body["value"][0]["id"])
            for old, body in found.items()
            if body.get("value") and isinstance(body["value"][0], dict)
        }
        reads = [
            BatchStep(old, "GET", f"{self._message_url(new)}?{query}")
            for old, new in new_ids.items()
        ]
        return self._batch(reads, "reading moved messages")

    def _list_sent(self, since: datetime) -> dict[str, list[SentMessage]]:
        """Every message sent at or after `since`, by conversation (pages of `SENT_PAGE`)."""
        moment = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        query = _query(
            fields.SENT_FIELDS,
            (fields.ACK_REF_PROPERTY,),
            **{"$filter": f"sentDateTime ge {moment}", "$top": str(SENT_PAGE)},
        )
        url: str | None = f"{self.user}/mailFolders/sentitems/messages?{query}"
        found: dict[str, list[SentMessage]] = {}
        for _ in range(SENT_MAX_PAGES):
            if url is None:
                break
            page = self.client.request("GET", url, may_repeat=True)
            if not page.ok or not isinstance(page.body, dict):
                raise MailboxUnavailable(f"searching Sent Items failed: {page.describe()}")
            for entry in page.body.get("value") or ():
                message = _sent_message(entry)
                conversation = entry.get("conversationId") if isinstance(entry, dict) else None
                if message is not None and conversation:
                    found.setdefault(str(conversation), []).append(message)
            link = page.body.get("@odata.nextLink")
            url = str(link) if link else None
        return found

    def _load_folders(self, folder_ids: Iterable[str]) -> None:
        """Read the folders (and their parents) not known yet, up to the mailbox root."""
        wanted = {f for f in folder_ids if f and f not in self._folders}
        if not wanted:
            return
        if self._root is None:
            # The root ("Top of Information Store", well-known name `msgfolderroot`) is the
            # Inbox's parent: one request, and the same id the folders' parentFolderId names.
            inbox = self.client.request(
                "GET", f"{self.user}/mailFolders/inbox?$select=parentFolderId", may_repeat=True
            )
            if not inbox.ok or not isinstance(inbox.body, dict):
                raise MailboxUnavailable(f"reading the mailbox root failed: {inbox.describe()}")
            self._root = str(inbox.body.get("parentFolderId") or "")
        todo = {f for f in wanted if f != self._root}
        for _ in range(MAX_FOLDER_DEPTH):
            if not todo:
                return
            steps = [
                BatchStep(
                    f,
                    "GET",
                    f"{self.user}/mailFolders/{quote(f, safe='')}?$select=displayName,parentFolderId",
                )
                for f in sorted(todo)
            ]
            bodies = self._batch(steps, "reading folders")
            parents: set[str] = set()
            for folder_id in todo:
                body = bodies.get(folder_id) or {}
                parent = body.get("parentFolderId")
                self._folders[folder_id] = (str(body.get("displayName") or ""), parent)
                if parent and parent not in self._folders and parent != self._root:
                    parents.add(str(parent))
            todo = parents

    def _path(self, folder_id: str | None) -> str:
        names: list[str] = []
        current = folder_id
        for _ in range(MAX_FOLDER_DEPTH):
            if not current or current == self._root or current not in self._folders:
                break
            name, current = self._folders[current]
            names.append(name)
        return "/".join(reversed(names))

    def _observed(
        self, message: dict[str, Any], sent: dict[str, list[SentMessage]], now: datetime
    ) -> Observed:
        received = fields.parse_time(message.get("receivedDateTime")) or now
        flag: dict[str, Any] = message["flag"] if isinstance(message.get("flag"), dict) else {}
        verb = fields.property_value(message, fields.LAST_VERB_PROPERTY)
        conversation = str(message.get("conversationId") or "")
        observation = Observation(
            item_id=str(message["id"]),
            received=received,
            observed_at=now,
            sent=tuple(s for s in sent.get(conversation, []) if s.sent_at >= received),
            last_verb=_int(verb),
            last_verb_at=fields.parse_time(
                fields.property_value(message, fields.LAST_VERB_TIME_PROPERTY)
            ),
            flag_complete=str(flag.get("flagStatus", "")).lower() == "complete",
            flag_completed_at=fields.parse_date_time_time_zone(flag.get("completedDateTime")),
            folder=self._path(message.get("parentFolderId")),
            categories=tuple(str(c) for c in message.get("categories") or ()),
            last_modified=fields.parse_time(message.get("lastModifiedDateTime")),
        )
        sender = fields.message_sender(message)
        return Observed(
            observation,
            subject=str(message.get("subject") or ""),
            tenant=(sender.name or sender.email) if sender else "",
            link=str(message.get("webLink") or ""),
        )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _sent_message(entry: Any) -> SentMessage | None:
    if not isinstance(entry, dict):
        return None
    sent_at = fields.parse_time(entry.get("sentDateTime"))
    if sent_at is None:
        return None
    return SentMessage(
        kind=kind_from_subject(str(entry.get("subject") or "")),
        sent_at=sent_at,
        message_id=entry.get("internetMessageId") or None,
        from_service=bool(fields.property_value(entry, fields.ACK_REF_PROPERTY)),
    )
