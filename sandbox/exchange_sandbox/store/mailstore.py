"""The sandbox mailbox store (a test double): mailboxes, folders, items and the change log in SQLite."""

from __future__ import annotations

import base64
import contextlib
import json
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from exchange_sandbox.store import meetings, verbs
from exchange_sandbox.store.codec import item_from_row, item_to_json
from exchange_sandbox.store.ids import (
    conversation_guid_from_index,
    decode_folder_id,
    decode_user_folder_id,
    encode_folder_id,
    encode_user_folder_id,
    new_change_key,
    new_conversation_index,
    new_item_id,
)
from exchange_sandbox.store.mime import parse_mime
from exchange_sandbox.store.model import (
    DISTINGUISHED_FOLDERS,
    ITEM_FOLDERS,
    Address,
    Change,
    ChangeKeyMismatch,
    ChangeKind,
    ChangePage,
    FolderExists,
    FolderInfo,
    FolderNotFound,
    Item,
    ItemNotFound,
    MailboxNotFound,
    NewItem,
    in_utc,
    utcnow,
)
from exchange_sandbox.store.properties import write_property
from exchange_sandbox.store.submission import (
    Clock,
    CopyHeaders,
    Submission,
    SubmissionQueue,
    wall_clock,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS mailboxes (address TEXT PRIMARY KEY, display_name TEXT NOT NULL,
    guid TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY, mailbox TEXT NOT NULL,
    folder TEXT NOT NULL, change_key TEXT NOT NULL, created_seq INTEGER NOT NULL,
    message_id TEXT NOT NULL, conversation_id TEXT NOT NULL, mime BLOB, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS items_folder ON items (mailbox, folder, created_seq);
CREATE INDEX IF NOT EXISTS items_msgid ON items (mailbox, message_id);
CREATE TABLE IF NOT EXISTS changes (seq INTEGER PRIMARY KEY AUTOINCREMENT,
    mailbox TEXT NOT NULL, folder TEXT NOT NULL, item_id TEXT NOT NULL, kind TEXT NOT NULL,
    is_read INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS changes_folder ON changes (mailbox, folder, seq);
CREATE TABLE IF NOT EXISTS folders (name TEXT PRIMARY KEY, mailbox TEXT NOT NULL,
    display_name TEXT NOT NULL, parent TEXT NOT NULL, folder_class TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS folders_parent ON folders (mailbox, parent);
CREATE TABLE IF NOT EXISTS mailbox_settings (address TEXT NOT NULL, name TEXT NOT NULL,
    value TEXT NOT NULL, PRIMARY KEY (address, name));
"""
#: Store names of folders a user made: this prefix and the 32 hex digits of the folder's key.
USER_FOLDER_PREFIX = "u"


class MailStore:
    """Thread-safe mailbox store, persisted in SQLite when given a state directory."""

    def __init__(self, state_dir: Path | None = None, clock: Clock | None = None) -> None:
        self._lock = threading.RLock()
        self._depth = 0  # nesting of _transaction
        if state_dir is not None:
            state_dir.mkdir(parents=True, exist_ok=True)
            target = str(state_dir / "sandbox.sqlite3")
        else:
            target = ":memory:"
        # One connection guarded by a lock: the HTTP server's threads share it.
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        if state_dir is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        #: Transport: sent messages wait here until their delay has passed (see ``submission``).
        self.submissions = SubmissionQueue(self, self._db, self._lock, clock or wall_clock)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One explicit transaction (the caller holds the lock): committed, or rolled back.

        Nested use joins the outer transaction, so :meth:`atomic` can span several calls.
        """
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._db.execute("BEGIN")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        finally:
            self._depth = 0
        self._db.execute("COMMIT")

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """Hold the store and one transaction: the store calls made inside commit together."""
        with self._lock, self._transaction():
            yield

    def close(self) -> None:
        self.submissions.stop()
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------ mailboxes

    def ensure_mailbox(self, address: str, display_name: str = "") -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO mailboxes (address, display_name, guid) VALUES (?, ?, ?)",
                (address.lower(), display_name, uuid.uuid4().hex),
            )
            if display_name:
                self._db.execute(
                    "UPDATE mailboxes SET display_name = ? WHERE address = ?",
                    (display_name, address.lower()),
                )

    def has_mailbox(self, address: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM mailboxes WHERE address = ?", (address.lower(),)
            ).fetchone()
            return row is not None

    def mailbox_name(self, address: str) -> str:
        return self._mailbox_row(address)["display_name"]  # type: ignore[no-any-return]  # sqlite3.Row is untyped

    def mailboxes(self) -> list[Address]:
        with self._lock:
            rows = self._db.execute(
                "SELECT address, display_name FROM mailboxes ORDER BY address"
            ).fetchall()
            return [Address(email=r["address"], name=r["display_name"]) for r in rows]

    def mailbox_setting(self, address: str, name: str) -> Any:
        """A setting the mailbox's owner made (JSON), None when they made none.

        Exchange keeps such settings in the mailbox itself (working hours: the
        ``IPM.Configuration.WorkHours`` message of the Calendar folder), so they survive a
        restart with the store."""
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM mailbox_settings WHERE address = ? AND name = ?",
                (address.lower(), name),
            ).fetchone()
        return json.loads(row["value"]) if row is not None else None

    def set_mailbox_setting(self, address: str, name: str, value: Any) -> None:
        """Keep a setting of the mailbox (JSON); None removes it."""
        self._mailbox_row(address)  # MailboxNotFound for an unknown mailbox
        with self._lock:
            if value is None:
                self._db.execute(
                    "DELETE FROM mailbox_settings WHERE address = ? AND name = ?",
                    (address.lower(), name),
                )
            else:
                self._db.execute(
                    "INSERT OR REPLACE INTO mailbox_settings (address, name, value) "
                    "VALUES (?, ?, ?)",
                    (address.lower(), name, json.dumps(value)),
                )

    def _mailbox_row(self, address: str) -> sqlite3.Row:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM mailboxes WHERE address = ?", (address.lower(),)
            ).fetchone()
        if row is None:
            raise MailboxNotFound(address)
        return row  # type: ignore[no-any-return]  # sqlite3 rows are typed Any

    # ------------------------------------------------------------ folders

    def _folder_id(self, mailbox: str, name: str) -> str:
        guid = self._mailbox_row(mailbox)["guid"]
        if name.startswith(USER_FOLDER_PREFIX):
            return encode_user_folder_id(guid, name[len(USER_FOLDER_PREFIX) :])
        return encode_folder_id(guid, list(DISTINGUISHED_FOLDERS).index(name))

    def _user_folder(self, mailbox: str, name: str) -> sqlite3.Row | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM folders WHERE name = ? AND mailbox = ?", (name, mailbox.lower())
            ).fetchone()
        return row  # type: ignore[no-any-return]  # sqlite3 rows are typed Any

    def folder(self, mailbox: str, name: str) -> FolderInfo:
        """A folder by its store name: a distinguished name or the name of one a user made."""
        mailbox = mailbox.lower()
        folder_class = ""
        user_made = False
        if name in DISTINGUISHED_FOLDERS:
            display, parent = DISTINGUISHED_FOLDERS[name]
        else:
            row = self._user_folder(mailbox, name)
            if row is None:
                raise FolderNotFound(name)
            display, parent, folder_class = row["display_name"], row["parent"], row["folder_class"]
            user_made = True
        with self._lock:
            fid = self._folder_id(mailbox, name)
            row = self._db.execute(
                "SELECT COUNT(*) AS n, COALESCE(SUM(json_extract(data, '$.is_read') = 0), 0) AS u"
                " FROM items WHERE mailbox = ? AND folder = ?",
                (mailbox, name),
            ).fetchone()
            made = self._db.execute(
                "SELECT COUNT(*) AS n FROM folders WHERE mailbox = ? AND parent = ?",
                (mailbox, name),
            ).fetchone()
        children = sum(1 for _, (_, p) in DISTINGUISHED_FOLDERS.items() if p == name)
        return FolderInfo(
            id=fid,
            mailbox=mailbox,
            name=name,
            display_name=display,
            parent_name=parent,
            total=int(row["n"]),
            unread=int(row["u"]),
            child_count=children + int(made["n"]),
            folder_class=folder_class,
            user_made=user_made,
        )

    def folder_by_id(self, folder_id: str) -> FolderInfo:
        parsed = decode_folder_id(folder_id)
        made = decode_user_folder_id(folder_id) if parsed is None else None
        if parsed is None and made is None:
            raise FolderNotFound(folder_id)
        guid = parsed[0] if parsed is not None else made[0]  # type: ignore[index]  # one is set
        with self._lock:
            row = self._db.execute(
                "SELECT address FROM mailboxes WHERE guid = ?", (guid,)
            ).fetchone()
        if row is None:
            raise FolderNotFound(folder_id)
        if made is not None:
            return self.folder(row["address"], USER_FOLDER_PREFIX + made[1])
        names = list(DISTINGUISHED_FOLDERS)
        index = parsed[1]  # type: ignore[index]  # parsed is set here
        if not 0 <= index < len(names):
            raise FolderNotFound(folder_id)
        return self.folder(row["address"], names[index])

    def child_folders(self, mailbox: str, name: str) -> list[FolderInfo]:
        """The folders directly under a folder: distinguished ones, then those users made."""
        with self._lock:
            rows = self._db.execute(
                "SELECT name FROM folders WHERE mailbox = ? AND parent = ? ORDER BY rowid",
                (mailbox.lower(), name),
            ).fetchall()
        return [
            self.folder(mailbox, n)
            for n, (_, parent) in DISTINGUISHED_FOLDERS.items()
            if parent == name
        ] + [self.folder(mailbox, r["name"]) for r in rows]

    def user_folders(self, mailbox: str) -> list[FolderInfo]:
        """Every folder users made in the mailbox, in the order they were made."""
        with self._lock:
            rows = self._db.execute(
                "SELECT name FROM folders WHERE mailbox = ? ORDER BY rowid", (mailbox.lower(),)
            ).fetchall()
        return [self.folder(mailbox, r["name"]) for r in rows]

    def create_folder(
        self, mailbox: str, parent: str, display_name: str, folder_class: str = ""
    ) -> FolderInfo:
        """Make a folder under ``parent`` (a store folder name), as CreateFolder does.

        A sibling of the same name, in any case, is FolderExists; the new folder has a
        stable id of its own and holds items like any mail folder.
        """
        mailbox = mailbox.lower()
        with self._lock:
            self.folder(mailbox, parent)  # FolderNotFound for an unknown parent
            taken = {f.display_name.lower() for f in self.child_folders(mailbox, parent)}
            if display_name.lower() in taken:
                raise FolderExists(display_name)
            name = USER_FOLDER_PREFIX + uuid.uuid4().hex
            with self._transaction():
                self._db.execute(
                    "INSERT INTO folders (name, mailbox, display_name, parent, folder_class)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (name, mailbox, display_name, parent, folder_class),
                )
            return self.folder(mailbox, name)

    def holds_items(self, mailbox: str, folder: str) -> bool:
        """Whether items can be stored in a folder: a distinguished item folder or one made."""
        return folder in ITEM_FOLDERS or self._user_folder(mailbox, folder) is not None

    def _check_item_folder(self, mailbox: str, folder: str) -> None:
        if not self.holds_items(mailbox, folder):
            raise FolderNotFound(folder)

    # ------------------------------------------------------------ items

    def _log(self, item: Item, kind: ChangeKind) -> int:
        cur = self._db.execute(
            "INSERT INTO changes (mailbox, folder, item_id, kind, is_read) VALUES (?, ?, ?, ?, ?)",
            (item.mailbox, item.folder, item.id, kind, int(item.is_read)),
        )
        return int(cur.lastrowid or 0)

    def _write(self, item: Item, created_seq: int | None = None) -> None:
        if created_seq is None:
            self._db.execute(
                "UPDATE items SET folder = ?, change_key = ?, message_id = ?, conversation_id = ?,"
                " mime = ?, data = ? WHERE id = ?",
                (
                    item.folder,
                    item.change_key,
                    item.message_id,
                    item.conversation_id,
                    item.mime,
                    item_to_json(item),
                    item.id,
                ),
            )
        else:
            self._db.execute(
                "INSERT INTO items (id, mailbox, folder, change_key, created_seq, message_id,"
                " conversation_id, mime, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    item.id,
                    item.mailbox,
                    item.folder,
                    item.change_key,
                    created_seq,
                    item.message_id,
                    item.conversation_id,
                    item.mime,
                    item_to_json(item),
                ),
            )

    def _conversation(
        self, mailbox: str, thread_index: str, parents: Iterable[str]
    ) -> tuple[str, bytes]:
        if thread_index:
            try:
                index = base64.b64decode(thread_index)
            except ValueError:
                index = b""
            guid = conversation_guid_from_index(index)
            if guid is not None:
                return guid, index
        for msgid in parents:
            row = self._db.execute(
                "SELECT conversation_id FROM items WHERE mailbox = ? AND message_id = ? LIMIT 1",
                (mailbox, msgid),
            ).fetchone()
            if row is not None and row["conversation_id"]:
                guid = str(row["conversation_id"])
                return guid, new_conversation_index(guid)
        index = new_conversation_index()
        return index[6:22].hex(), index

    def create(self, mailbox: str, folder: str, draft: NewItem) -> Item:
        """Store a new item; MIME content, when present, supplies headers and addresses."""
        with self._lock:
            return self._add(self.compose(mailbox, folder, draft))

    def add_copy(self, template: Item, folder: str) -> Item:
        """Store a copy of an item value in a folder of its mailbox, with a new id and change key."""
        with self._lock:
            self._check_item_folder(template.mailbox, folder)
            guid = self._mailbox_row(template.mailbox)["guid"]
            return self._add(
                replace(template, id=new_item_id(guid), change_key=new_change_key(), folder=folder)
            )

    def _add(self, item: Item) -> Item:
        with self._transaction():
            seq = self._log(item, "create")
            self._write(item, created_seq=seq)
        return item

    def compose(self, mailbox: str, folder: str, draft: NewItem) -> Item:
        """The item :meth:`create` would store (id, conversation, dates), without storing it."""
        mailbox = mailbox.lower()
        self._check_item_folder(mailbox, folder)
        now = utcnow()
        fields: dict[str, Any] = {
            "subject": draft.subject,
            "from_": draft.from_,
            "sender": draft.from_,
            "to": draft.to,
            "cc": draft.cc,
            "bcc": draft.bcc,
            "body": draft.body,
            "body_type": draft.body_type,
            "importance": draft.importance,
            "in_reply_to": draft.in_reply_to,
            "references": draft.references,
        }
        thread_index = draft.thread_index
        headers: tuple[tuple[str, str], ...] = ()
        message_id = ""
        date_sent: datetime | None = None
        if draft.mime is not None:
            parsed = parse_mime(draft.mime)
            thread_index = parsed.pop("thread_index") or thread_index
            headers = parsed.pop("headers")
            message_id = parsed.pop("message_id")
            date_sent = parsed.pop("date_sent")
            if not draft.body:  # the body comes from the MIME, and so does its format
                fields["body_type"] = parsed.pop("body_type")
            for key, value in parsed.items():
                # Explicit fields win over MIME, like EWS properties set next to MimeContent.
                if value and not fields.get(key):
                    fields[key] = value
        with self._lock:
            guid = self._mailbox_row(mailbox)["guid"]
            parents = [
                *([fields["in_reply_to"]] if fields["in_reply_to"] else []),
                *reversed(fields["references"]),
            ]
            conv_id, conv_index = self._conversation(mailbox, thread_index, parents)
            item = Item(
                id=new_item_id(guid),
                change_key=new_change_key(),
                mailbox=mailbox,
                folder=folder,
                item_class=draft.item_class,
                mime=draft.mime,
                headers=headers,
                message_id=message_id,
                conversation_id=conv_id,
                conversation_index=conv_index,
                date_received=draft.date_received or now,
                date_sent=date_sent or (None if draft.is_draft else now),
                date_created=now,
                last_modified=now,
                is_read=draft.is_read,
                is_draft=draft.is_draft,
                flag=draft.flag,
                categories=draft.categories,
                calendar=draft.calendar,
                responds_to=draft.responds_to,
                **fields,
            )
            for prop_key, prop_value in draft.extended.values():
                item = write_property(item, prop_key, prop_value)
            return in_utc(item)

    def get(self, item_id: str) -> Item:
        with self._lock:
            row = self._db.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise ItemNotFound(item_id)
        return item_from_row(row)

    def find_message(self, mailbox: str, message_id: str) -> Item | None:
        """A message of the mailbox by its Message-ID: a received one before a sent or unsent copy."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM items WHERE mailbox = ? AND message_id = ? ORDER BY created_seq",
                (mailbox.lower(), message_id),
            ).fetchall()
        found = [item_from_row(r) for r in rows]
        found.sort(key=lambda it: it.folder in ("sentitems", "outbox", "drafts"))
        return found[0] if found else None

    def items(self, mailbox: str, folder: str) -> list[Item]:
        """Items of a folder, newest first (as Exchange's default DateTimeReceived order)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM items WHERE mailbox = ? AND folder = ? ORDER BY created_seq DESC",
                (mailbox.lower(), folder),
            ).fetchall()
        return [item_from_row(r) for r in rows]

    def items_in_creation_order(self, mailbox: str, folder: str) -> list[tuple[int, Item]]:
        """Items of a folder with their creation sequence, oldest first.

        The sequence orders items created within the same second (`date_created` has whole
        seconds) as they were created, as Exchange's own finer clock does.
        """
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM items WHERE mailbox = ? AND folder = ? ORDER BY created_seq",
                (mailbox.lower(), folder),
            ).fetchall()
        return [(int(r["created_seq"]), item_from_row(r)) for r in rows]

    def update(
        self,
        item_id: str,
        mutate: Callable[[Item], Item],
        expected_change_key: str | None = None,
    ) -> Item:
        """Apply ``mutate`` atomically; a stale ``expected_change_key`` raises ChangeKeyMismatch."""
        with self._lock:
            old = self.get(item_id)
            if expected_change_key is not None and expected_change_key != old.change_key:
                raise ChangeKeyMismatch(item_id)
            new = in_utc(mutate(old))
            new = replace(
                new,
                id=old.id,
                mailbox=old.mailbox,
                folder=old.folder,
                change_key=new_change_key(),
                last_modified=utcnow(),
            )
            only_read = replace(old, is_read=new.is_read) == replace(
                new, change_key=old.change_key, last_modified=old.last_modified
            )
            kind: ChangeKind = "read_flag" if only_read and old.is_read != new.is_read else "update"
            with self._transaction():
                self._log(new, kind)
                self._write(new)
            return new

    def move(self, item_id: str, folder: str) -> Item:
        """Move to another folder of the same mailbox; like Exchange, the item gets a new id."""
        with self._lock:
            old = self.get(item_id)
            self._check_item_folder(old.mailbox, folder)
            guid = self._mailbox_row(old.mailbox)["guid"]
            new = replace(old, id=new_item_id(guid), folder=folder, change_key=new_change_key())
            with self._transaction():
                self._log(old, "delete")
                self._db.execute("DELETE FROM items WHERE id = ?", (old.id,))
                seq = self._log(new, "create")
                self._write(new, created_seq=seq)
            return new

    def delete(self, item_id: str) -> None:
        with self._lock:
            old = self.get(item_id)
            with self._transaction():
                self._log(old, "delete")
                self._db.execute("DELETE FROM items WHERE id = ?", (old.id,))

    def calendar_between(self, mailbox: str, start: datetime, end: datetime) -> list[Item]:
        """Calendar items of a mailbox that overlap [start, end), earliest first."""
        found = [
            it
            for it in self.items(mailbox, "calendar")
            if it.calendar is not None and it.calendar.start < end and it.calendar.end > start
        ]
        return sorted(found, key=lambda it: it.calendar.start if it.calendar else start)

    # ------------------------------------------------------------ transport

    def deliver(self, mailbox: str, mime: bytes, received: datetime | None = None) -> Item:
        """Deliver raw RFC 5322 bytes into a mailbox's Inbox, as Exchange transport would."""
        return self.create(mailbox, "inbox", NewItem(mime=mime, date_received=received or utcnow()))

    def submit(
        self,
        mailbox: str,
        draft: NewItem,
        save_copy: bool = True,
        copy_headers: CopyHeaders = "kept",
        on_saved: Callable[[Item], None] | None = None,
    ) -> Submission:
        """Send a message from ``mailbox``: it enters submission (see :class:`SubmissionQueue`).

        Like Exchange transport, the message gets MIME content when it had none, and a
        Message-ID, Date and From header when they are missing. After the mailbox's
        submission delay, a copy appears in Sent Items (when ``save_copy``), with the
        headers Exchange keeps (``copy_headers="kept"``, EWS) or none (``"none"``, Graph),
        and every recipient that is a sandbox mailbox receives it without the Bcc header.
        ``on_saved`` is called with the Sent Items copy once it exists.
        """
        return self.submissions.submit(mailbox, draft, save_copy, copy_headers, on_saved)

    def send(self, mailbox: str, draft: NewItem, save_copy: bool = True) -> Item | None:
        """:meth:`submit`, answering the Sent Items copy when it exists on return (no delay)."""
        submission = self.submit(mailbox, draft, save_copy)
        return self.get(submission.copy_id) if submission.copy_id else None

    def in_transit(self, mailbox: str | None = None) -> list[Submission]:
        """Messages submitted (by ``mailbox``, or by any) that transport has not delivered yet."""
        return self.submissions.in_transit(mailbox)

    def run_due_submissions(self, everything: bool = False) -> list[Submission]:
        """Deliver the submissions whose time has come now (all of them with ``everything``)."""
        return self.submissions.run_due(everything=everything)

    def send_meeting(
        self, item_id: str, save_copy: bool = True, copy_headers: CopyHeaders = "kept"
    ) -> Item:
        """Send the meeting of an organizer's calendar item to its attendees (see ``meetings``).

        The request goes through transport like any message; on delivery each attendee that
        is a sandbox mailbox gets it in the Inbox and a tentative item in the calendar, as
        Exchange's calendar attendant makes. Returns the organizer's item, marked as sent.
        """
        return meetings.send_requests(self, item_id, save_copy=save_copy, copy_headers=copy_headers)

    def mark_responded(self, mailbox: str, draft: NewItem, at: datetime) -> Item | None:
        """A reply or forward is submitted: its original records the verb at ``at`` (``verbs``)."""
        if draft.responds_to is None:
            return None
        return verbs.mark_original(self, mailbox, draft.responds_to, at)

    def on_delivered(self, item: Item) -> None:
        """Transport delivered ``item``: the calendar attendant processes a meeting message."""
        meetings.on_delivered(self, item)

    # ------------------------------------------------------------ change log

    def latest_seq(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT COALESCE(MAX(seq), 0) AS s FROM changes").fetchone()
        return int(row["s"])

    def changes_since(
        self,
        mailbox: str,
        folders: Sequence[str] | None,
        after_seq: int,
        limit: int | None = None,
    ) -> ChangePage:
        """Raw change log entries after ``after_seq`` for some folders (all when None)."""
        sql = "SELECT * FROM changes WHERE mailbox = ? AND seq > ?"
        args: list[Any] = [mailbox.lower(), after_seq]
        if folders is not None:
            sql += f" AND folder IN ({','.join('?' * len(folders))})"
            args.extend(folders)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit + 1)
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        more = limit is not None and len(rows) > limit
        rows = rows[:limit] if limit is not None else rows
        changes = tuple(
            Change(
                seq=r["seq"],
                mailbox=r["mailbox"],
                folder=r["folder"],
                item_id=r["item_id"],
                kind=r["kind"],
                is_read=bool(r["is_read"]),
            )
            for r in rows
        )
        last = changes[-1].seq if changes else max(after_seq, 0)
        return ChangePage(changes=changes, last_seq=last, more=more)
