"""The state store in SQLite: per-message decisions, acknowledgement intents, watermarks,
answer targets and the team's mails.

One file under the configured state directory, WAL mode, one short explicit
transaction per write. It records everything needed to act exactly once across
crashes (the intent before sending, the claim, the attempts, the outcome) and
to explain any decision later. It never stores a tenant's subject or body; a
mail waiting to be sent (the acknowledgement, a team mail) is kept until it is
sent. The file holds addresses, so it is created readable by its owner only
(0600, in a 0700 folder when the service creates the folder).

Schema versions: 1 (decisions, intents, watermarks); 2 adds `targets` (one
answer target per message that needs an answer: when and how it was answered,
the tracking category on it, the last escalation) and `notices` (the team's
mails, with their intent). A version-1 file is migrated in place when it is
opened: the two tables are created and every message that needs an answer gets
its target with its own term, in one transaction.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from topcontact_mail.adapters.payloads import (
    ack_from_json,
    ack_to_json,
    meeting_from_json,
    meeting_to_json,
)
from topcontact_mail.domain.message import Acknowledgement, Address, IncomingMessage
from topcontact_mail.domain.retention import (
    SEEN_AGAIN,
    Cutoffs,
    PurgeCounts,
    Row,
    message_key,
    plan,
    plan_messages,
)
from topcontact_mail.domain.screening import ScreeningHistory
from topcontact_mail.domain.screening.evidence import thread_ids
from topcontact_mail.domain.tracking.model import Answered, TrackedTarget
from topcontact_mail.ports import (
    COUNTS_AS_ACKNOWLEDGED,
    CategoryState,
    MessageRecord,
    OutgoingNotice,
    PendingNotice,
    PendingSend,
    SendResult,
    TargetProgress,
    ToObserve,
)
from topcontact_mail.ports.calendar import (
    CallbackRecord,
    MeetingRecord,
    OutgoingMeeting,
    ReplyRecord,
)

SCHEMA_VERSION = 2

#: A purge rebuilds the file only when at least this many pages (and a fifth of it) are free.
VACUUM_MIN_FREE_PAGES = 256

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    item_id TEXT PRIMARY KEY,
    internet_message_id TEXT,
    conversation_id TEXT,
    sender TEXT,
    received TEXT NOT NULL,
    reception_day TEXT NOT NULL,
    answer_by TEXT NOT NULL,
    acknowledge INTEGER NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    needs_answer INTEGER NOT NULL,
    ack_state TEXT NOT NULL DEFAULT 'none',
    ack_ref TEXT UNIQUE,
    ack_message_id TEXT,
    ack_sent_at TEXT,
    marked INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    mark_attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    last_error TEXT NOT NULL DEFAULT '',
    outbox TEXT,
    recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_internet_id ON messages (internet_message_id);
CREATE INDEX IF NOT EXISTS messages_conversation ON messages (conversation_id, ack_state);
CREATE INDEX IF NOT EXISTS messages_sender ON messages (sender, recorded_at);
CREATE INDEX IF NOT EXISTS messages_ack_state ON messages (ack_state, received);
CREATE INDEX IF NOT EXISTS messages_recorded ON messages (recorded_at);
CREATE TABLE IF NOT EXISTS watermarks (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""

#: Version 2: answer targets and the team's mails. `record_id` is the message's row in
#: `messages` (its first item id); `item_id` follows the message when EWS moves it.
_SCHEMA_2 = """
CREATE TABLE IF NOT EXISTS targets (
    item_id TEXT PRIMARY KEY,
    record_id TEXT NOT NULL,
    received TEXT NOT NULL,
    reception_day TEXT NOT NULL,
    answer_by TEXT NOT NULL,
    conversation_id TEXT,
    sender TEXT,
    joined_to TEXT,
    answered_at TEXT,
    answered_how TEXT,
    category TEXT NOT NULL DEFAULT 'none',
    warned_at TEXT,
    last_escalated_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS targets_open ON targets (answered_at, received);
CREATE INDEX IF NOT EXISTS targets_conversation ON targets (conversation_id);
CREATE INDEX IF NOT EXISTS targets_record ON targets (record_id);
CREATE TABLE IF NOT EXISTS notices (
    ref TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    day TEXT NOT NULL,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT,
    state TEXT NOT NULL DEFAULT 'intent',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    sent_at TEXT,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notices_kind_day ON notices (kind, day);
CREATE INDEX IF NOT EXISTS notices_state ON notices (state, created_at);
"""

#: A version-1 file's messages that need an answer get their own target (no joining: the
#: flag a version-1 run put on each message shows its own term).
_BACKFILL_TARGETS = """
INSERT OR IGNORE INTO targets (item_id, record_id, received, reception_day, answer_by,
    conversation_id, sender, created_at)
SELECT item_id, item_id, received, reception_day, answer_by, conversation_id, sender, ?
FROM messages WHERE needs_answer = 1
"""

_TARGET_COLUMNS = (
    "item_id, received, reception_day, answer_by, conversation_id, sender, joined_to, "
    "answered_at, answered_how"
)

_COLUMNS = (
    "item_id, internet_message_id, conversation_id, sender, received, reception_day, answer_by, "
    "acknowledge, reason, detail, needs_answer, ack_state, ack_ref, ack_message_id, ack_sent_at, "
    "marked, attempts, last_attempt_at, last_error"
)

_COUNTS_AS_SENT = tuple(sorted(COUNTS_AS_ACKNOWLEDGED))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _record(row: sqlite3.Row) -> MessageRecord:
    return MessageRecord(
        item_id=row["item_id"],
        internet_message_id=row["internet_message_id"],
        conversation_id=row["conversation_id"],
        sender=row["sender"],
        received=datetime.fromisoformat(row["received"]),
        reception_day=date.fromisoformat(row["reception_day"]),
        answer_by=datetime.fromisoformat(row["answer_by"]),
        acknowledge=bool(row["acknowledge"]),
        reason=row["reason"],
        detail=row["detail"],
        needs_answer=bool(row["needs_answer"]),
        ack_state=row["ack_state"],
        ack_ref=row["ack_ref"],
        ack_message_id=row["ack_message_id"],
        ack_sent_at=datetime.fromisoformat(row["ack_sent_at"]) if row["ack_sent_at"] else None,
        marked=bool(row["marked"]),
        attempts=row["attempts"],
        last_attempt=_moment(row["last_attempt_at"]),
        last_error=row["last_error"],
    )


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _target(row: sqlite3.Row) -> TrackedTarget:
    return TrackedTarget(
        item_id=row["item_id"],
        received=datetime.fromisoformat(row["received"]),
        reception_day=date.fromisoformat(row["reception_day"]),
        answer_by=datetime.fromisoformat(row["answer_by"]),
        conversation_id=row["conversation_id"],
        sender=row["sender"],
        joined_to=row["joined_to"],
        answered_at=_moment(row["answered_at"]),
        answered_how=row["answered_how"],
    )


def _target_values(target: TrackedTarget, now: datetime) -> tuple[Any, ...]:
    return (
        target.item_id,
        target.item_id,
        _iso(target.received),
        target.reception_day.isoformat(),
        _iso(target.answer_by),
        target.conversation_id,
        target.sender,
        target.joined_to,
        _iso(target.answered_at),
        target.answered_how,
        _iso(now),
    )


_INSERT_TARGET = (
    "INSERT OR IGNORE INTO targets (item_id, record_id, received, reception_day, answer_by, "
    "conversation_id, sender, joined_to, answered_at, answered_how, created_at) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)


def _notice(row: sqlite3.Row) -> PendingNotice:
    return PendingNotice(
        notice=OutgoingNotice(
            ref=row["ref"],
            to=tuple(Address(a) for a in row["recipients"].split(",") if a),
            subject=row["subject"],
            text=row["body"] or "",
        ),
        kind=row["kind"],
        day=date.fromisoformat(row["day"]),
        attempts=row["attempts"],
        last_attempt=_moment(row["last_attempt_at"]),
    )


def _private_file(path: Path) -> None:
    """Create the state folder (0700) and file (0600) before SQLite does, so others cannot read."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    descriptor = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(descriptor)
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if candidate.exists() and candidate.stat().st_mode & 0o077:
            candidate.chmod(0o600)


class StoreError(Exception):
    """The state file cannot be used (unreadable, from a newer version, locked)."""


#: Per message: whether open work still needs it whole (an unsettled or unclaimed
#: acknowledgement, a mark still to be set, a target still to be made, open or still carrying
#: a tracking category), and whether it still holds details.
_MESSAGE_FACTS = """
SELECT m.item_id, m.received, m.recorded_at, m.internet_message_id, m.reason,
  (m.ack_state = 'intent'
   OR (m.marked = 0 AND m.ack_state IN ('none', 'intent'))
   OR (m.needs_answer = 1 AND NOT EXISTS (SELECT 1 FROM targets t WHERE t.record_id = m.item_id))
   OR EXISTS (SELECT 1 FROM targets t WHERE t.record_id = m.item_id
              AND (t.answered_at IS NULL OR t.category IN ('warning', 'overdue')))) AS open,
  (m.sender IS NOT NULL OR m.conversation_id IS NOT NULL OR m.ack_message_id IS NOT NULL
   OR m.detail != '' OR m.last_error != '' OR m.outbox IS NOT NULL
   OR (m.internet_message_id IS NOT NULL AND m.internet_message_id NOT LIKE 'sha256:%'))
   AS has_details
FROM messages m
"""
_TARGET_FACTS = """
SELECT item_id, record_id, received, created_at,
  (answered_at IS NULL OR category IN ('warning', 'overdue')) AS open,
  (sender IS NOT NULL OR conversation_id IS NOT NULL) AS has_details
FROM targets
"""
#: A callback is open while planned, while its booking mail is not claimed, and while a meeting
#: or reply of it is on its way or a meeting waits to be cancelled.
_CALLBACK_FACTS = """
SELECT c.id, c.booked_at, c.recorded_at, c.booking_item_id,
  (c.state = 'planned' OR c.claimed = 0 OR EXISTS (SELECT 1 FROM callback_sends s
   WHERE s.callback_id = c.id AND (s.state = 'intent' OR s.cancel = 'pending'))) AS open,
  (c.details != '{}' OR c.booked_by != '' OR c.booking_message_id IS NOT NULL
   OR c.last_error != '' OR EXISTS (SELECT 1 FROM callback_sends s WHERE s.callback_id = c.id
   AND (s.kind = 'reply' OR s.payload IS NOT NULL OR COALESCE(s.colleague, '') != ''
        OR COALESCE(s.colleague_name, '') != '' OR s.last_error != ''))) AS has_details
FROM callbacks c
"""
#: A team mail is open until it is settled; the last overview is kept (its day is the one the
#: next overview follows).
_NOTICE_FACTS = """
SELECT ref, created_at,
  (state = 'intent' OR (kind = 'overview'
   AND day = (SELECT MAX(day) FROM notices WHERE kind = 'overview'))) AS open
FROM notices
"""


class SqliteStore:
    """The service's memory, in one SQLite file (or in memory for unit tests)."""

    def __init__(self, path: Path | str) -> None:
        try:
            if str(path) != ":memory:":
                _private_file(Path(path))
        except OSError as exc:
            raise StoreError(f"{path}: cannot create the state file: {exc.strerror}") from None
        try:
            self._db = sqlite3.connect(
                str(path), timeout=30, isolation_level=None, check_same_thread=False
            )
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: an acknowledgement intent must be on disk before the mail leaves.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            self._db.executescript(_CALLBACK_SCHEMA)  # callbacks' tables, created when missing
            version = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: cannot open the state file: {exc}") from None
        if version is not None and int(version[0]) > SCHEMA_VERSION:
            raise StoreError(
                f"{path}: state file has schema {version[0]}, this version knows {SCHEMA_VERSION}"
            )
        self._lock = threading.RLock()
        self.path = path
        try:
            self._migrate(None if version is None else int(version[0]))
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: cannot bring the state file up to date: {exc}") from None

    def _migrate(self, version: int | None) -> None:
        """Bring the file to `SCHEMA_VERSION`, in one transaction (a new file is simply created)."""
        if version == SCHEMA_VERSION:
            return
        with self.transaction() as db:
            for statement in _SCHEMA_2.split(";"):
                if statement.strip():
                    db.execute(statement)
            if version is None:
                db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
                return
            # Version 1 -> 2: every message that needs an answer gets its own target.
            db.execute(_BACKFILL_TARGETS, (datetime.now().astimezone().isoformat(),))
            db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))

    def schema_version(self) -> int:
        rows = self._query("SELECT value FROM meta WHERE key='schema'")
        return int(rows[0][0])

    @classmethod
    def read_only(cls, path: Path) -> SqliteStore:
        """An existing state file opened for reading only (`explain` looks, never writes)."""
        store = cls.__new__(cls)
        try:
            store._db = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30, check_same_thread=False
            )
            store._db.row_factory = sqlite3.Row
            version = store._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: cannot read the state file: {exc}") from None
        if version is None or int(version[0]) > SCHEMA_VERSION:
            raise StoreError(f"{path}: not a state file this version can read")
        store._lock = threading.RLock()
        store.path = path
        return store

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One explicit transaction: committed when the block ends, rolled back on error."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- messages ---------------------------------------------------------------

    def get(self, item_id: str) -> MessageRecord | None:
        rows = self._query(f"SELECT {_COLUMNS} FROM messages WHERE item_id = ?", (item_id,))
        return _record(rows[0]) if rows else None

    def get_by_ref(self, ref: str) -> MessageRecord | None:
        rows = self._query(f"SELECT {_COLUMNS} FROM messages WHERE ack_ref = ?", (ref,))
        return _record(rows[0]) if rows else None

    def record(
        self,
        record: MessageRecord,
        now: datetime,
        acknowledgement: Acknowledgement | None = None,
        target: TrackedTarget | None = None,
    ) -> None:
        """Store a decision; with an acknowledgement this is the intent, written before sending.

        With a target, the message's answer target is stored in the same transaction.
        """
        rec = record
        with self.transaction() as db:
            if target is not None:
                db.execute(_INSERT_TARGET, _target_values(target, now))
            db.execute(
                f"INSERT INTO messages ({_COLUMNS}, outbox, recorded_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    rec.item_id,
                    rec.internet_message_id,
                    rec.conversation_id,
                    rec.sender,
                    _iso(rec.received),
                    rec.reception_day.isoformat(),
                    _iso(rec.answer_by),
                    int(rec.acknowledge),
                    rec.reason,
                    rec.detail,
                    int(rec.needs_answer),
                    rec.ack_state,
                    rec.ack_ref,
                    rec.ack_message_id,
                    _iso(rec.ack_sent_at),
                    int(rec.marked),
                    rec.attempts,
                    _iso(rec.last_attempt),
                    rec.last_error,
                    ack_to_json(acknowledgement) if acknowledgement is not None else None,
                    _iso(now),
                ),
            )

    def history(
        self, message: IncomingMessage, day_start: datetime, now: datetime, hour_cap: int
    ) -> ScreeningHistory:
        """What screening weighs of earlier work; the marker is the caller's to add.

        The hour's count stops at `hour_cap`: past the cap the exact number does not
        matter, and counting a whole backlog for every message would be quadratic.
        """
        states = ",".join("?" * len(_COUNTS_AS_SENT))
        earlier = (
            self._query(
                "SELECT reason FROM messages WHERE internet_message_id = ? "
                "ORDER BY recorded_at LIMIT 1",
                (message.message_id,),
            )
            if message.message_id
            else []
        )
        conversation = bool(
            message.conversation_id
            and self._query(
                f"SELECT 1 FROM messages WHERE conversation_id = ? AND ack_state IN ({states}) LIMIT 1",
                (message.conversation_id, *_COUNTS_AS_SENT),
            )
        ) or self._thread_acknowledged(thread_ids(message))
        sender = message.sender.key if message.sender else None
        today = (
            self._query(
                f"SELECT COUNT(*) FROM messages WHERE sender = ? AND recorded_at >= ? "
                f"AND ack_state IN ({states})",
                (sender, _iso(day_start), *_COUNTS_AS_SENT),
            )[0][0]
            if sender
            else 0
        )
        last_hour = self._query(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE recorded_at >= ? "
            f"AND ack_state IN ({states}) LIMIT ?)",
            (_iso(now - timedelta(hours=1)), *_COUNTS_AS_SENT, hour_cap),
        )[0][0]
        return ScreeningHistory(
            earlier_reason=str(earlier[0][0]) if earlier else None,
            conversation_acknowledged=conversation,
            sender_acknowledged_today=int(today),
            acknowledged_last_hour=int(last_hour),
        )

    def _thread_acknowledged(self, ids: Sequence[str]) -> bool:
        """Whether a message this one refers to (or our acknowledgement of it) was acknowledged.

        Exchange's conversation id already joins a thread; the references join it
        too where no conversation id is known (`explain`) or a changed subject split it.
        """
        if not ids:
            return False
        marks = ",".join("?" * len(ids))
        states = ",".join("?" * len(_COUNTS_AS_SENT))
        rows = self._query(
            f"SELECT 1 FROM messages WHERE (internet_message_id IN ({marks}) "
            f"OR ack_message_id IN ({marks})) AND (ack_state IN ({states}) "
            f"OR conversation_id IN (SELECT conversation_id FROM messages "
            f"WHERE conversation_id IS NOT NULL AND ack_state IN ({states}))) LIMIT 1",
            (*ids, *ids, *_COUNTS_AS_SENT, *_COUNTS_AS_SENT),
        )
        return bool(rows)

    def pending_sends(self, limit: int, *, attempted: bool) -> list[PendingSend]:
        """Claimed intents (or those whose claim was given up), oldest reception first."""
        # Unsure ones may lack their text (a claim adopted after the state was lost).
        which = (
            "last_attempt_at IS NOT NULL"
            if attempted
            else ("last_attempt_at IS NULL AND outbox IS NOT NULL")
        )
        rows = self._query(
            "SELECT item_id, ack_ref, ack_message_id, outbox, attempts, last_attempt_at "
            f"FROM messages WHERE ack_state = 'intent' AND marked != 0 AND {which} "
            "ORDER BY received LIMIT ?",
            (limit,),
        )
        return [
            PendingSend(
                item_id=row["item_id"],
                ref=row["ack_ref"],
                message_id=row["ack_message_id"],
                acknowledgement=ack_from_json(row["outbox"]) if row["outbox"] else None,
                attempts=row["attempts"],
                last_attempt=_moment(row["last_attempt_at"]),
            )
            for row in rows
        ]

    def attempting(self, item_ids: Sequence[str], now: datetime) -> None:
        """A send is about to start: after a crash these are looked for in the mailbox first."""
        with self.transaction() as db:
            db.executemany(
                "UPDATE messages SET attempts = attempts + 1, last_attempt_at = ? WHERE item_id = ?",
                [(_iso(now), i) for i in item_ids],
            )

    def settle(self, results: Sequence[SendResult], now: datetime) -> None:
        """The outcomes of one round of sends, in one transaction."""
        with self.transaction() as db:
            for result in results:
                if result.outcome == "retry":
                    # Not sent for certain: the next try needs no lookup first.
                    db.execute(
                        "UPDATE messages SET last_error = ?, last_attempt_at = "
                        "CASE WHEN ? THEN NULL ELSE last_attempt_at END WHERE item_id = ?",
                        (result.error, int(result.not_sent), result.item_id),
                    )
                    continue
                db.execute(
                    "UPDATE messages SET ack_state = ?, last_error = ?, outbox = NULL, "
                    "ack_sent_at = CASE WHEN ? = 'sent' THEN ? ELSE ack_sent_at END "
                    "WHERE item_id = ?",
                    (result.outcome, result.error, result.outcome, _iso(now), result.item_id),
                )

    def pending_marks(self, limit: int) -> list[MessageRecord]:
        """Decisions whose marker is not yet on the message: skips, and intents to be claimed."""
        rows = self._query(
            f"SELECT {_COLUMNS} FROM messages WHERE marked = 0 AND ack_state IN ('none', 'intent') "
            "ORDER BY received LIMIT ?",
            (limit,),
        )
        return [_record(r) for r in rows]

    def set_marked(self, item_ids: Sequence[str]) -> None:
        """Marks set in the mailbox, in one transaction."""
        with self.transaction() as db:
            db.executemany(
                "UPDATE messages SET marked = 1, last_error = '' WHERE item_id = ?",
                [(i,) for i in item_ids],
            )

    def mark_failed(self, item_id: str, error: str, give_up_after: int) -> bool:
        """Count a failed mark; True when it is given up (then it is left unmarked, recorded)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE messages SET mark_attempts = mark_attempts + 1, last_error = ? "
                "WHERE item_id = ?",
                (error, item_id),
            )
            attempts = db.execute(
                "SELECT mark_attempts FROM messages WHERE item_id = ?", (item_id,)
            ).fetchone()[0]
            if attempts >= give_up_after:
                db.execute("UPDATE messages SET marked = -1 WHERE item_id = ?", (item_id,))
                return True
        return False

    def counts(self) -> dict[str, int]:
        rows = self._query(
            "SELECT reason, ack_state, COUNT(*) AS n FROM messages GROUP BY reason, ack_state"
        )
        result: dict[str, int] = {}
        for row in rows:
            result[f"{row['reason']}/{row['ack_state']}"] = row["n"]
        return result

    def records(self) -> list[MessageRecord]:
        return [
            _record(r) for r in self._query(f"SELECT {_COLUMNS} FROM messages ORDER BY received")
        ]

    # -- watermarks ---------------------------------------------------------------

    def watermark(self, name: str) -> str | None:
        rows = self._query("SELECT value FROM watermarks WHERE name = ?", (name,))
        return str(rows[0][0]) if rows else None

    def set_watermark(self, name: str, value: str, now: datetime) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO watermarks VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (name, value, _iso(now)),
            )

    def clear_watermark(self, name: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM watermarks WHERE name = ?", (name,))

    # -- keeping the promise: targets ------------------------------------------------

    def targets(self, *, open_only: bool = False) -> list[TrackedTarget]:
        where = "WHERE answered_at IS NULL " if open_only else ""
        rows = self._query(
            f"SELECT {_TARGET_COLUMNS} FROM targets {where}ORDER BY received, item_id"
        )
        return [_target(r) for r in rows]

    def conversation_targets(self, conversation_id: str) -> list[TrackedTarget]:
        rows = self._query(
            f"SELECT {_TARGET_COLUMNS} FROM targets WHERE conversation_id = ? "
            "ORDER BY received, item_id",
            (conversation_id,),
        )
        return [_target(r) for r in rows]

    def add_targets(self, targets: Sequence[TrackedTarget], now: datetime) -> None:
        with self.transaction() as db:
            db.executemany(_INSERT_TARGET, [_target_values(t, now) for t in targets])

    def to_observe(self) -> list[ToObserve]:
        rows = self._query(
            "SELECT t.item_id, m.internet_message_id, m.ack_message_id, m.ack_sent_at, "
            "m.ack_state FROM targets t LEFT JOIN messages m ON m.item_id = t.record_id "
            "WHERE t.answered_at IS NULL ORDER BY t.received, t.item_id"
        )
        return [
            ToObserve(
                item_id=row["item_id"],
                internet_message_id=row["internet_message_id"],
                acknowledgement_message_id=row["ack_message_id"],
                acknowledgement_sent_at=_moment(row["ack_sent_at"])
                if row["ack_state"] == "sent"
                else None,
            )
            for row in rows
        ]

    def records_without_target(self, limit: int) -> list[MessageRecord]:
        rows = self._query(
            f"SELECT {_COLUMNS} FROM messages m WHERE needs_answer = 1 AND NOT EXISTS "
            "(SELECT 1 FROM targets t WHERE t.record_id = m.item_id) ORDER BY received LIMIT ?",
            (limit,),
        )
        return [_record(r) for r in rows]

    def record_answers(self, answers: Mapping[str, Answered], now: datetime) -> None:
        with self.transaction() as db:
            db.executemany(
                "UPDATE targets SET answered_at = ?, answered_how = ? "
                "WHERE item_id = ? AND answered_at IS NULL",
                [(_iso(a.when), a.how, item_id) for item_id, a in answers.items()],
            )

    def retarget(self, item_id: str, new_item_id: str) -> None:
        with self.transaction() as db:
            taken = db.execute("SELECT 1 FROM targets WHERE item_id = ?", (new_item_id,)).fetchone()
            if taken is not None:
                return  # already known under its new id
            db.execute("UPDATE targets SET item_id = ? WHERE item_id = ?", (new_item_id, item_id))
            db.execute(
                "UPDATE targets SET joined_to = ? WHERE joined_to = ?", (new_item_id, item_id)
            )

    def progress(self) -> dict[str, TargetProgress]:
        rows = self._query(
            "SELECT item_id, category, warned_at, last_escalated_at FROM targets "
            "WHERE answered_at IS NULL OR category IN ('warning', 'overdue')"
        )
        return {
            row["item_id"]: TargetProgress(
                item_id=row["item_id"],
                category=row["category"],
                warned_at=_moment(row["warned_at"]),
                last_escalated=_moment(row["last_escalated_at"]),
            )
            for row in rows
        }

    def set_category(self, item_ids: Sequence[str], state: CategoryState, now: datetime) -> None:
        with self.transaction() as db:
            db.executemany(
                "UPDATE targets SET category = ?, warned_at = CASE WHEN ? = 'warning' "
                "AND warned_at IS NULL THEN ? ELSE warned_at END WHERE item_id = ?",
                [(state, state, _iso(now), i) for i in item_ids],
            )

    # -- keeping the promise: the team's mails -------------------------------------------

    def queue_notice(self, notice: PendingNotice, escalated: Sequence[str], now: datetime) -> None:
        mail = notice.notice
        with self.transaction() as db:
            db.execute(
                "INSERT INTO notices (ref, kind, day, recipients, subject, body, created_at) "
                "VALUES (?,?,?,?,?,?,?)",
                (
                    mail.ref,
                    notice.kind,
                    notice.day.isoformat(),
                    ",".join(a.email for a in mail.to),
                    mail.subject,
                    mail.text,
                    _iso(now),
                ),
            )
            db.executemany(
                "UPDATE targets SET last_escalated_at = ? WHERE item_id = ?",
                [(_iso(now), i) for i in escalated],
            )

    def last_overview_day(self) -> date | None:
        rows = self._query("SELECT MAX(day) FROM notices WHERE kind = 'overview'")
        return date.fromisoformat(rows[0][0]) if rows and rows[0][0] else None

    def pending_notices(self, limit: int, *, attempted: bool) -> list[PendingNotice]:
        which = "last_attempt_at IS NOT NULL" if attempted else "last_attempt_at IS NULL"
        rows = self._query(
            "SELECT ref, kind, day, recipients, subject, body, attempts, last_attempt_at "
            f"FROM notices WHERE state = 'intent' AND {which} ORDER BY created_at, ref LIMIT ?",
            (limit,),
        )
        return [_notice(r) for r in rows]

    def notices_attempting(self, refs: Sequence[str], now: datetime) -> None:
        with self.transaction() as db:
            db.executemany(
                "UPDATE notices SET attempts = attempts + 1, last_attempt_at = ? WHERE ref = ?",
                [(_iso(now), r) for r in refs],
            )

    def settle_notices(self, results: Sequence[SendResult], now: datetime) -> None:
        with self.transaction() as db:
            for result in results:
                if result.outcome == "retry":
                    db.execute(
                        "UPDATE notices SET last_error = ?, last_attempt_at = "
                        "CASE WHEN ? THEN NULL ELSE last_attempt_at END WHERE ref = ?",
                        (result.error, int(result.not_sent), result.item_id),
                    )
                    continue
                # The text lists tenants' subjects: kept only until the mail is sent.
                db.execute(
                    "UPDATE notices SET state = ?, last_error = ?, body = NULL, "
                    "sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE ref = ?",
                    (result.outcome, result.error, result.outcome, _iso(now), result.item_id),
                )

    # -- retention (docs/retention.md) ---------------------------------------------------

    def purge(self, cutoffs: Cutoffs, *, dry_run: bool = False) -> PurgeCounts:
        """Remove details and rows past their retention, in one transaction (rolled back for a
        dry run, so it counts exactly what a purge would do). Open work is never touched.

        The purge runs with `secure_delete` on, so what it removes is overwritten in the
        file rather than left in free pages; afterwards the write-ahead log is emptied
        into the file and, when at least a fifth of the file is free, the file is rebuilt
        (VACUUM) to give the space back.
        """
        with self._lock:
            previous = int(self._db.execute("PRAGMA secure_delete").fetchone()[0])
            self._db.execute("PRAGMA secure_delete = ON")
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    counts = self._purge(self._db, cutoffs)
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("ROLLBACK" if dry_run else "COMMIT")
            finally:
                self._db.execute(f"PRAGMA secure_delete = {previous}")
            if dry_run or not counts.total:
                return counts
            return replace(counts, space_reclaimed=self._compact())

    def _compact(self) -> int:
        """Empty the log into the file; rebuild the file when a fifth or more of it is free.
        Returns the bytes given back (0 when another connection keeps it from happening)."""
        db = self._db
        try:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            page_size = int(db.execute("PRAGMA page_size").fetchone()[0])
            pages = int(db.execute("PRAGMA page_count").fetchone()[0])
            free = int(db.execute("PRAGMA freelist_count").fetchone()[0])
            if free < VACUUM_MIN_FREE_PAGES or free * 5 < pages:
                return 0
            db.execute("VACUUM")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            after = int(db.execute("PRAGMA page_count").fetchone()[0])
        except sqlite3.OperationalError:
            return 0  # busy: the free pages are used again by new rows anyway
        return max(0, pages - after) * page_size

    def _purge(self, db: sqlite3.Connection, cutoffs: Cutoffs) -> PurgeCounts:
        """The purge's work inside its transaction: messages, targets, callbacks, team mails."""
        moment = datetime.fromisoformat
        messages = [
            Row(
                key=r["item_id"],
                moment=moment(r["received"]),
                recorded=moment(r["recorded_at"]),
                open=bool(r["open"]),
                has_details=bool(r["has_details"]),
                message_key=message_key(r["internet_message_id"]),
                seen_again=r["reason"] in SEEN_AGAIN,
            )
            for r in db.execute(_MESSAGE_FACTS)
        ]
        done = plan_messages(messages, cutoffs)
        keys = {r.key: r.message_key for r in messages}
        db.executemany(
            "UPDATE messages SET internet_message_id = ?, conversation_id = NULL, sender = NULL, "
            "detail = '', ack_message_id = NULL, last_error = '', outbox = NULL "
            "WHERE item_id = ?",
            [(keys[k] or None, k) for k in done.details],
        )
        db.executemany("DELETE FROM messages WHERE item_id = ?", [(k,) for k in done.delete])
        kept = set(keys) - set(done.delete)

        target_rows = db.execute(_TARGET_FACTS).fetchall()
        targets = [
            Row(
                key=r["item_id"],
                moment=moment(r["received"]),
                recorded=moment(r["created_at"]),
                open=bool(r["open"]),
                has_details=bool(r["has_details"]),
            )
            for r in target_rows
        ]
        # A target goes only with its decision: a decision left without one gets a new one.
        record_kept = {r["item_id"] for r in target_rows if r["record_id"] in kept}
        target_details = plan(targets, cutoffs).details
        target_delete = plan(
            [replace(t, open=t.open or t.key in record_kept) for t in targets], cutoffs
        ).delete
        db.executemany(
            "UPDATE targets SET sender = NULL, conversation_id = NULL WHERE item_id = ?",
            [(k,) for k in target_details],
        )
        db.executemany("DELETE FROM targets WHERE item_id = ?", [(k,) for k in target_delete])

        callback_rows = db.execute(_CALLBACK_FACTS).fetchall()
        callbacks = [
            Row(
                key=r["id"],
                moment=moment(r["booked_at"]),
                recorded=moment(r["recorded_at"]),
                # A callback goes only after its booking mail's decision: else the mail
                # would be booked anew.
                open=bool(r["open"]),
                has_details=bool(r["has_details"]),
            )
            for r in callback_rows
        ]
        booking_kept = {r["id"] for r in callback_rows if r["booking_item_id"] in kept}
        callback_details = plan(callbacks, cutoffs).details
        callback_delete = plan(
            [replace(c, open=c.open or c.key in booking_kept) for c in callbacks], cutoffs
        ).delete
        meetings_details = replies_deleted = meetings_deleted = 0
        for callback_id in callback_details:
            db.execute(
                "UPDATE callbacks SET details = '{}', booked_by = '', booking_message_id = NULL, "
                "last_error = '' WHERE id = ?",
                (callback_id,),
            )
            meetings_details += db.execute(
                "UPDATE callback_sends SET payload = NULL, colleague = '', colleague_name = '', "
                "last_error = '' WHERE callback_id = ? AND kind = 'meeting'",
                (callback_id,),
            ).rowcount
            replies_deleted += db.execute(
                "DELETE FROM callback_sends WHERE callback_id = ? AND kind = 'reply'",
                (callback_id,),
            ).rowcount
        for callback_id in callback_delete:
            for kind, n in db.execute(
                "SELECT kind, COUNT(*) FROM callback_sends WHERE callback_id = ? GROUP BY kind",
                (callback_id,),
            ).fetchall():
                if kind == "reply":
                    replies_deleted += n
                else:
                    meetings_deleted += n
            db.execute("DELETE FROM callback_sends WHERE callback_id = ?", (callback_id,))
            db.execute("DELETE FROM callbacks WHERE id = ?", (callback_id,))
        seen = [
            r["item_id"]
            for r in db.execute("SELECT item_id, seen_at FROM callback_seen")
            if r["item_id"] not in kept and moment(r["seen_at"]) < cutoffs.recorded_before
        ]
        db.executemany("DELETE FROM callback_seen WHERE item_id = ?", [(i,) for i in seen])

        notices = [
            r["ref"]
            for r in db.execute(_NOTICE_FACTS)
            if not r["open"]
            and moment(r["created_at"]) < cutoffs.details_before
            and moment(r["created_at"]) < cutoffs.recorded_before
        ]
        db.executemany("DELETE FROM notices WHERE ref = ?", [(r,) for r in notices])
        return PurgeCounts(
            messages_details=len(done.details),
            targets_details=len(target_details),
            callbacks_details=len(callback_details),
            meetings_details=meetings_details,
            replies_deleted=replies_deleted,
            notices_deleted=len(notices),
            messages_deleted=len(done.delete),
            targets_deleted=len(target_delete),
            callbacks_deleted=len(callback_delete),
            meetings_deleted=meetings_deleted,
            seen_deleted=len(seen),
        )

    # -- callbacks (docs/callbacks.md) ----------------------------------------------
    # Three tables of their own (created if missing, `_CALLBACK_SCHEMA`): the callback
    # requests, the meetings and replies sent for them (each with a ref, for exactly
    # once), and the meeting messages already looked at.

    def callback_candidates(self, reason: str, limit: int) -> list[str]:
        rows = self._query(
            "SELECT item_id FROM messages WHERE reason = ? AND item_id NOT IN "
            "(SELECT booking_item_id FROM callbacks WHERE booking_item_id IS NOT NULL) "
            "ORDER BY received LIMIT ?",
            (reason, limit),
        )
        return [str(r[0]) for r in rows]

    def meeting_messages(self, reason: str, limit: int) -> list[str]:
        rows = self._query(
            "SELECT item_id FROM messages WHERE reason = ? AND item_id NOT IN "
            "(SELECT item_id FROM callback_seen) ORDER BY received LIMIT ?",
            (reason, limit),
        )
        return [str(r[0]) for r in rows]

    def seen_meeting_messages(self, item_ids: Sequence[str], now: datetime) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO callback_seen VALUES (?, ?)",
                [(i, _iso(now)) for i in item_ids],
            )

    def record_callback(
        self,
        callback: CallbackRecord,
        now: datetime,
        meeting: MeetingRecord | None = None,
        replies: Sequence[ReplyRecord] = (),
        *,
        attempting: bool = False,
    ) -> None:
        """A new callback, its first meeting and its replies: the intent, in one transaction.

        `attempting`: the meeting's attempt starts now (the command line books at once;
        the daemon then treats it as unsure instead of sending it a second time).
        """
        with self.transaction() as db:
            db.execute(
                f"INSERT INTO callbacks ({_CALLBACK_COLUMNS}, updated_at, recorded_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (*_callback_row(callback), _iso(now), _iso(now)),
            )
            if meeting is not None:
                self._insert_meeting(db, meeting, now, attempting=attempting)
            for reply in replies:
                self._insert_reply(db, reply, now)

    def _insert_meeting(
        self, db: sqlite3.Connection, meeting: MeetingRecord, now: datetime, *, attempting: bool
    ) -> None:
        db.execute(
            "INSERT INTO callback_sends (ref, callback_id, kind, state, payload, attempts, "
            "last_attempt_at, colleague, colleague_name, slot_start, slot_end, at_risk, "
            "created_at) VALUES (?, ?, 'meeting', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                meeting.ref,
                meeting.callback_id,
                meeting.state,
                meeting_to_json(meeting.outgoing) if meeting.outgoing else None,
                1 if attempting else 0,
                _iso(now) if attempting else None,
                meeting.colleague,
                meeting.colleague_name,
                _iso(meeting.slot_start),
                _iso(meeting.slot_end),
                int(meeting.at_risk),
                _iso(now),
            ),
        )

    def _insert_reply(self, db: sqlite3.Connection, reply: ReplyRecord, now: datetime) -> None:
        db.execute(
            "INSERT INTO callback_sends (ref, callback_id, kind, state, payload, message_id, "
            "original_item_id, waits_for, reply_kind, created_at) "
            "VALUES (?, ?, 'reply', ?, ?, ?, ?, ?, ?, ?)",
            (
                reply.ref,
                reply.callback_id,
                reply.state,
                ack_to_json(reply.mail) if reply.mail else None,
                reply.message_id,
                reply.original_item_id,
                reply.waits_for,
                reply.kind,
                _iso(now),
            ),
        )

    def get_callback(self, callback_id: str) -> CallbackRecord | None:
        rows = self._query(
            f"SELECT {_CALLBACK_COLUMNS} FROM callbacks WHERE id = ?", (callback_id,)
        )
        return _callback(rows[0]) if rows else None

    def callback_for_item(self, item_id: str) -> CallbackRecord | None:
        rows = self._query(
            f"SELECT {_CALLBACK_COLUMNS} FROM callbacks WHERE booking_item_id = ?", (item_id,)
        )
        return _callback(rows[0]) if rows else None

    def callbacks(self, states: Collection[str] | None = None) -> list[CallbackRecord]:
        if states is None:
            rows = self._query(f"SELECT {_CALLBACK_COLUMNS} FROM callbacks ORDER BY booked_at")
        else:
            marks = ",".join("?" * len(states))
            rows = self._query(
                f"SELECT {_CALLBACK_COLUMNS} FROM callbacks WHERE state IN ({marks}) "
                "ORDER BY booked_at",
                tuple(states),
            )
        return [_callback(r) for r in rows]

    def unclaimed_callbacks(self, limit: int) -> list[CallbackRecord]:
        rows = self._query(
            f"SELECT {_CALLBACK_COLUMNS} FROM callbacks WHERE claimed = 0 ORDER BY booked_at "
            "LIMIT ?",
            (limit,),
        )
        return [_callback(r) for r in rows]

    def set_callback_claimed(self, callback_id: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE callbacks SET claimed = 1 WHERE id = ?", (callback_id,))

    def callback_claim_failed(self, callback_id: str, error: str, give_up_after: int) -> bool:
        """Count a failed claim; True when given up (the callback goes on unclaimed)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE callbacks SET claim_attempts = claim_attempts + 1, last_error = ? "
                "WHERE id = ?",
                (error, callback_id),
            )
            row = db.execute(
                "SELECT claim_attempts FROM callbacks WHERE id = ?", (callback_id,)
            ).fetchone()
            if row is not None and row[0] >= give_up_after:
                db.execute("UPDATE callbacks SET claimed = -1 WHERE id = ?", (callback_id,))
                return True
        return False

    def set_callback_state(self, callback_id: str, state: str, now: datetime) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE callbacks SET state = ?, updated_at = ? WHERE id = ?",
                (state, _iso(now), callback_id),
            )

    def rebook(
        self,
        callback_id: str,
        old_ref: str,
        why: str,
        now: datetime,
        meeting: MeetingRecord | None,
        replies: Sequence[ReplyRecord],
        state: str,
        *,
        cancel_old: bool,
    ) -> None:
        """Meeting `old_ref` superseded (why; to be cancelled in Outlook when `cancel_old`), the
        new meeting and the replies recorded, the callback's state set: one transaction."""
        with self.transaction() as db:
            db.execute(
                "UPDATE callback_sends SET state = 'superseded', why = ?, cancel = ? WHERE ref = ?",
                (why, "pending" if cancel_old else "", old_ref),
            )
            if meeting is not None:
                self._insert_meeting(db, meeting, now, attempting=False)
            for reply in replies:
                self._insert_reply(db, reply, now)
            db.execute(
                "UPDATE callbacks SET state = ?, rebookings = rebookings + ?, updated_at = ? "
                "WHERE id = ?",
                (state, 1 if meeting is not None else 0, _iso(now), callback_id),
            )

    def add_replies(self, replies: Sequence[ReplyRecord], now: datetime) -> None:
        with self.transaction() as db:
            for reply in replies:
                self._insert_reply(db, reply, now)

    def meetings(
        self, callback_id: str | None = None, states: Collection[str] | None = None
    ) -> list[MeetingRecord]:
        where, params = ["kind = 'meeting'"], []
        if callback_id is not None:
            where.append("callback_id = ?")
            params.append(callback_id)
        if states is not None:
            where.append(f"state IN ({','.join('?' * len(states))})")
            params.extend(states)
        rows = self._query(
            f"SELECT * FROM callback_sends WHERE {' AND '.join(where)} ORDER BY created_at, ref",
            params,
        )
        return [_meeting(r) for r in rows]

    def get_meeting(self, ref: str) -> MeetingRecord | None:
        rows = self._query(
            "SELECT * FROM callback_sends WHERE kind = 'meeting' AND ref = ?", (ref,)
        )
        return _meeting(rows[0]) if rows else None

    def meetings_to_cancel(self) -> list[MeetingRecord]:
        rows = self._query(
            "SELECT * FROM callback_sends WHERE kind = 'meeting' AND cancel = 'pending'"
        )
        return [_meeting(r) for r in rows]

    def meeting_cancelled(self, ref: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE callback_sends SET cancel = 'done' WHERE ref = ?", (ref,))

    def pending_meetings(self, limit: int, *, attempted: bool) -> list[PendingSend]:
        which = "s.last_attempt_at IS NOT NULL" if attempted else "s.last_attempt_at IS NULL"
        rows = self._query(
            "SELECT s.ref, s.attempts, s.last_attempt_at FROM callback_sends s "
            "JOIN callbacks c ON c.id = s.callback_id "
            f"WHERE s.kind = 'meeting' AND s.state = 'intent' AND c.claimed != 0 AND {which} "
            "ORDER BY s.created_at LIMIT ?",
            (limit,),
        )
        return [_pending(r, None) for r in rows]

    def meeting_outgoing(self, refs: Sequence[str]) -> dict[str, OutgoingMeeting]:
        marks = ",".join("?" * len(refs))
        rows = self._query(
            f"SELECT ref, payload FROM callback_sends WHERE ref IN ({marks}) "
            "AND payload IS NOT NULL",
            tuple(refs),
        )
        return {r["ref"]: meeting_from_json(r["payload"]) for r in rows}

    def pending_replies(self, limit: int, *, attempted: bool) -> list[PendingSend]:
        which = "r.last_attempt_at IS NOT NULL" if attempted else "r.last_attempt_at IS NULL"
        rows = self._query(
            "SELECT r.ref, r.attempts, r.last_attempt_at, r.message_id, r.payload "
            "FROM callback_sends r JOIN callbacks c ON c.id = r.callback_id "
            "LEFT JOIN callback_sends m ON m.ref = r.waits_for "
            f"WHERE r.kind = 'reply' AND r.state = 'intent' AND c.claimed != 0 AND {which} "
            "AND (r.waits_for IS NULL OR m.state = 'sent') ORDER BY r.created_at LIMIT ?",
            (limit,),
        )
        return [_pending(r, r["message_id"], r["payload"]) for r in rows]

    def reply_records(self, refs: Sequence[str]) -> dict[str, ReplyRecord]:
        marks = ",".join("?" * len(refs))
        rows = self._query(
            f"SELECT * FROM callback_sends WHERE kind = 'reply' AND ref IN ({marks})",
            tuple(refs),
        )
        return {r["ref"]: _reply(r) for r in rows}

    def replies(self, callback_id: str) -> list[ReplyRecord]:
        rows = self._query(
            "SELECT * FROM callback_sends WHERE kind = 'reply' AND callback_id = ? "
            "ORDER BY created_at, ref",
            (callback_id,),
        )
        return [_reply(r) for r in rows]

    def attempting_sends(self, refs: Sequence[str], now: datetime) -> None:
        with self.transaction() as db:
            db.executemany(
                "UPDATE callback_sends SET attempts = attempts + 1, last_attempt_at = ? "
                "WHERE ref = ?",
                [(_iso(now), r) for r in refs],
            )

    def settle_sends(self, results: Sequence[SendResult], now: datetime) -> None:
        """The outcomes of one round of meetings or replies (keyed by ref), in one transaction."""
        with self.transaction() as db:
            for result in results:
                if result.outcome == "retry":
                    db.execute(
                        "UPDATE callback_sends SET last_error = ?, last_attempt_at = "
                        "CASE WHEN ? THEN NULL ELSE last_attempt_at END WHERE ref = ?",
                        (result.error, int(result.not_sent), result.item_id),
                    )
                    continue
                db.execute(
                    "UPDATE callback_sends SET state = ?, last_error = ?, "
                    "payload = CASE WHEN kind = 'reply' THEN NULL ELSE payload END, "
                    "sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE ref = ?",
                    (result.outcome, result.error, result.outcome, _iso(now), result.item_id),
                )

    def set_meeting_ids(self, ref: str, item_id: str, uid: str) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE callback_sends SET item_id = ?, uid = COALESCE(NULLIF(?, ''), uid) "
                "WHERE ref = ?",
                (item_id, uid, ref),
            )

    def move_meeting(self, ref: str, start: datetime, end: datetime) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE callback_sends SET slot_start = ?, slot_end = ? WHERE ref = ?",
                (_iso(start), _iso(end), ref),
            )

    def drop_replies_waiting_for(self, ref: str) -> list[str]:
        with self.transaction() as db:
            rows = db.execute(
                "SELECT DISTINCT callback_id FROM callback_sends WHERE kind = 'reply' "
                "AND waits_for = ? AND state = 'intent'",
                (ref,),
            ).fetchall()
            db.execute(
                "UPDATE callback_sends SET state = 'dropped', payload = NULL WHERE kind = 'reply' "
                "AND waits_for = ? AND state = 'intent'",
                (ref,),
            )
        return [str(r[0]) for r in rows]


_CALLBACK_SCHEMA = """
CREATE TABLE IF NOT EXISTS callbacks (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    booked_by TEXT NOT NULL,
    booked_at TEXT NOT NULL,
    state TEXT NOT NULL,
    callback_by TEXT,
    booking_item_id TEXT UNIQUE,
    booking_mailbox TEXT,
    booking_message_id TEXT,
    problems TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '{}',
    claimed INTEGER NOT NULL DEFAULT 1,
    rebookings INTEGER NOT NULL DEFAULT 0,
    claim_attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS callback_sends (
    ref TEXT PRIMARY KEY,
    callback_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    payload TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    last_error TEXT NOT NULL DEFAULT '',
    colleague TEXT,
    colleague_name TEXT,
    slot_start TEXT,
    slot_end TEXT,
    at_risk INTEGER NOT NULL DEFAULT 0,
    item_id TEXT,
    uid TEXT,
    why TEXT NOT NULL DEFAULT '',
    cancel TEXT NOT NULL DEFAULT '',
    message_id TEXT,
    original_item_id TEXT,
    waits_for TEXT,
    reply_kind TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX IF NOT EXISTS callback_sends_callback ON callback_sends (callback_id, kind);
CREATE INDEX IF NOT EXISTS callback_sends_state ON callback_sends (kind, state);
CREATE TABLE IF NOT EXISTS callback_seen (item_id TEXT PRIMARY KEY, seen_at TEXT NOT NULL);
"""

_CALLBACK_COLUMNS = (
    "id, source, booked_by, booked_at, state, callback_by, booking_item_id, booking_mailbox, "
    "booking_message_id, problems, details, claimed, rebookings"
)


def _callback_row(c: CallbackRecord) -> tuple[Any, ...]:
    return (
        c.id,
        c.source,
        c.booked_by,
        _iso(c.booked_at),
        c.state,
        _iso(c.callback_by),
        c.booking_item_id,
        c.booking_mailbox,
        c.booking_message_id,
        ",".join(c.problems),
        json.dumps(dict(c.details), ensure_ascii=False),
        int(c.claimed),
        c.rebookings,
    )


def _callback(row: sqlite3.Row) -> CallbackRecord:
    return CallbackRecord(
        id=row["id"],
        source=row["source"],
        booked_by=row["booked_by"],
        booked_at=datetime.fromisoformat(row["booked_at"]),
        state=row["state"],
        callback_by=_moment(row["callback_by"]),
        booking_item_id=row["booking_item_id"],
        booking_mailbox=row["booking_mailbox"],
        booking_message_id=row["booking_message_id"],
        problems=tuple(p for p in row["problems"].split(",") if p),
        details=json.loads(row["details"] or "{}"),
        claimed=row["claimed"] != 0,
        rebookings=row["rebookings"],
    )


def _meeting(row: sqlite3.Row) -> MeetingRecord:
    return MeetingRecord(
        ref=row["ref"],
        callback_id=row["callback_id"],
        colleague=row["colleague"] or "",
        colleague_name=row["colleague_name"] or "",
        slot_start=datetime.fromisoformat(row["slot_start"]),
        slot_end=datetime.fromisoformat(row["slot_end"]),
        at_risk=bool(row["at_risk"]),
        state=row["state"],
        item_id=row["item_id"],
        uid=row["uid"],
        outgoing=meeting_from_json(row["payload"]) if row["payload"] else None,
        attempts=row["attempts"],
        last_attempt=_moment(row["last_attempt_at"]),
        last_error=row["last_error"],
        why=row["why"],
        sent_at=_moment(row["sent_at"]),
    )


def _reply(row: sqlite3.Row) -> ReplyRecord:
    return ReplyRecord(
        ref=row["ref"],
        callback_id=row["callback_id"],
        kind=row["reply_kind"] or "",
        message_id=row["message_id"] or "",
        state=row["state"],
        original_item_id=row["original_item_id"],
        mail=ack_from_json(row["payload"]) if row["payload"] else None,
        waits_for=row["waits_for"],
        attempts=row["attempts"],
        last_attempt=_moment(row["last_attempt_at"]),
    )


def _pending(row: sqlite3.Row, message_id: str | None, payload: str | None = None) -> PendingSend:
    # A meeting or reply as the exactly-once round sends it: its ref is also its key.
    return PendingSend(
        item_id=row["ref"],
        ref=row["ref"],
        message_id=message_id or "",
        acknowledgement=ack_from_json(payload) if payload else None,
        attempts=row["attempts"],
        last_attempt=_moment(row["last_attempt_at"]),
    )
