"""The state store in PostgreSQL: the SQLite store's facts, one mailbox's share of a shared database.

The same promises as `adapters/sqlite_store.py` (the StateStore contract,
tests/contract/test_store_contract.py): one explicit transaction per write,
durable before it returns (PostgreSQL's commit); the intent before sending,
the claim, the attempts, the outcome; never a tenant's subject or body, a mail
waiting to be sent kept only until it is sent. Every row carries its mailbox
(the shared mailbox's address, lower-case), so several mailboxes and the
instances working them share one database.

With a lease (`adapters/postgres/leases.py`) every write is fenced: in its own
transaction it checks, under a share lock on the lease row, that the lease
still has this store's token and has not expired, and is refused with
`LeaseLost` otherwise. Reads are never fenced.

PostgreSQL keeps no NUL character in text; one in a value (a header of a
hostile message) is kept as U+FFFD, in writes and look-ups alike.

Callbacks (docs/callbacks.md) keep the CallbackStore port's promises as the
SQLite store does (the same contract, tests/contract/test_callback_store_contract.py):
the callback requests, the meetings and replies sent for them, and the meeting
messages looked at, in tables of their own (schema version 3), fenced like
every other write.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from topcontact_mail.adapters.payloads import (
    ack_from_json,
    ack_to_json,
    meeting_from_json,
    meeting_to_json,
)
from topcontact_mail.adapters.postgres.leases import FENCE, LeaseLost, MailboxLease
from topcontact_mail.adapters.postgres.schema import SCHEMA_VERSION, SchemaError, migrate
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

_COLUMNS = (
    "item_id, internet_message_id, conversation_id, sender, received, reception_day, answer_by, "
    "acknowledge, reason, detail, needs_answer, ack_state, ack_ref, ack_message_id, ack_sent_at, "
    "marked, attempts, last_attempt_at, last_error"
)
_TARGET_COLUMNS = (
    "item_id, received, reception_day, answer_by, conversation_id, sender, joined_to, "
    "answered_at, answered_how"
)
_COUNTS_AS_SENT = sorted(COUNTS_AS_ACKNOWLEDGED)

_INSERT_TARGET = (
    "INSERT INTO targets (mailbox, item_id, record_id, received, reception_day, answer_by, "
    "conversation_id, sender, joined_to, answered_at, answered_how, created_at) "
    "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (mailbox, item_id) DO NOTHING"
)


def _clean(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL: kept as U+FFFD (the same in every look-up)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list | tuple):
        return type(value)(_clean(v) for v in value)
    return value


def _params(values: Sequence[Any] | Mapping[str, Any]) -> Any:
    if isinstance(values, Mapping):
        return {k: _clean(v) for k, v in values.items()}
    return tuple(_clean(v) for v in values)


def _record(row: Mapping[str, Any]) -> MessageRecord:
    return MessageRecord(
        item_id=row["item_id"],
        internet_message_id=row["internet_message_id"],
        conversation_id=row["conversation_id"],
        sender=row["sender"],
        received=row["received"],
        reception_day=row["reception_day"],
        answer_by=row["answer_by"],
        acknowledge=bool(row["acknowledge"]),
        reason=row["reason"],
        detail=row["detail"],
        needs_answer=bool(row["needs_answer"]),
        ack_state=row["ack_state"],
        ack_ref=row["ack_ref"],
        ack_message_id=row["ack_message_id"],
        ack_sent_at=row["ack_sent_at"],
        marked=bool(row["marked"]),
        attempts=row["attempts"],
        last_attempt=row["last_attempt_at"],
        last_error=row["last_error"],
    )


def _target(row: Mapping[str, Any]) -> TrackedTarget:
    return TrackedTarget(
        item_id=row["item_id"],
        received=row["received"],
        reception_day=row["reception_day"],
        answer_by=row["answer_by"],
        conversation_id=row["conversation_id"],
        sender=row["sender"],
        joined_to=row["joined_to"],
        answered_at=row["answered_at"],
        answered_how=row["answered_how"],
    )


def _notice(row: Mapping[str, Any]) -> PendingNotice:
    return PendingNotice(
        notice=OutgoingNotice(
            ref=row["ref"],
            to=tuple(Address(a) for a in row["recipients"].split(",") if a),
            subject=row["subject"],
            text=row["body"] or "",
        ),
        kind=row["kind"],
        day=row["day"],
        attempts=row["attempts"],
        last_attempt=row["last_attempt_at"],
    )


class PostgresStoreError(Exception):
    """The database cannot be used as a state store (unreachable, newer schema, lease held)."""


def prepare(pool: ConnectionPool[Any], schema: str) -> None:
    """Bring the database up to date (the lease table included), or say why it cannot be used."""
    try:
        with pool.connection() as conn:
            migrate(conn, schema)
    except SchemaError as exc:
        raise PostgresStoreError(str(exc)) from None
    except psycopg.Error as exc:
        raise PostgresStoreError(f"cannot bring the database up to date: {exc}") from None


class Transaction:
    """A write transaction's cursor-like handle: `execute` with NUL-safe parameters."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def execute(
        self, query: str, params: Sequence[Any] | Mapping[str, Any] = ()
    ) -> psycopg.Cursor[Any]:
        return self.conn.execute(query, _params(params))

    def executemany(self, query: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with self.conn.cursor() as cursor:
                cursor.executemany(query, [_params(r) for r in rows])


class PostgresStore:
    """One shared mailbox's memory in the shared database."""

    def __init__(
        self,
        pool: ConnectionPool[Any],
        mailbox: str,
        *,
        schema: str = "topcontact",
        fence: MailboxLease | None = None,
        migrate_schema: bool = True,
        owns_pool: bool = False,
    ) -> None:
        """`mailbox` scopes every row; `schema` is the one on the pool's search path;
        `fence`: the lease every write checks (None: unfenced, for one instance alone and
        for reading); `owns_pool`: `close` closes the pool too."""
        if fence is not None and fence.mailbox != mailbox.lower():
            raise ValueError(f"the lease is of {fence.mailbox}, not of {mailbox}")
        self.pool = pool
        self.mailbox = mailbox.lower()
        self.fence = fence
        self._owns_pool = owns_pool
        self._on_close: list[Any] = []
        if migrate_schema:
            prepare(pool, schema)

    def on_close(self, callback: Any) -> None:
        """Call `callback()` when the store is closed (the lease keeper, before the pool)."""
        self._on_close.append(callback)

    def schema_version(self) -> int:
        rows = self._query("SELECT value FROM meta WHERE key = 'schema'")
        return int(rows[0]["value"]) if rows else SCHEMA_VERSION

    def close(self) -> None:
        for callback in reversed(self._on_close):
            callback()
        self._on_close.clear()
        if self._owns_pool:
            self.pool.close()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One explicit transaction, fenced by the lease when there is one; committed when the
        block ends, rolled back on error."""
        if self.fence is not None:
            self.fence.check()
        with self.pool.connection() as conn, conn.transaction():
            if self.fence is not None:
                row = conn.execute(FENCE, (self.mailbox,)).fetchone()
                if row is None or int(row["token"]) != self.fence.token or not row["live"]:
                    self.fence.deadline = min(self.fence.deadline, self.fence.clock())
                    raise LeaseLost(
                        f"the lease of {self.mailbox} is no longer token {self.fence.token}'s: "
                        "the write is refused"
                    )
            yield Transaction(conn)

    def _query(
        self, query: str, params: Sequence[Any] | Mapping[str, Any] = ()
    ) -> list[dict[str, Any]]:
        with self.pool.connection() as conn:
            return list(conn.execute(query, _params(params)).fetchall())

    # -- messages ---------------------------------------------------------------

    def get(self, item_id: str) -> MessageRecord | None:
        rows = self._query(
            f"SELECT {_COLUMNS} FROM messages WHERE mailbox = %s AND item_id = %s",
            (self.mailbox, item_id),
        )
        return _record(rows[0]) if rows else None

    def get_by_ref(self, ref: str) -> MessageRecord | None:
        rows = self._query(
            f"SELECT {_COLUMNS} FROM messages WHERE mailbox = %s AND ack_ref = %s",
            (self.mailbox, ref),
        )
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
        with self.transaction() as tx:
            if target is not None:
                tx.execute(_INSERT_TARGET, self._target_values(target, now))
            tx.execute(
                f"INSERT INTO messages (mailbox, {_COLUMNS}, outbox, recorded_at) "
                "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                (
                    self.mailbox,
                    rec.item_id,
                    rec.internet_message_id,
                    rec.conversation_id,
                    rec.sender,
                    rec.received,
                    rec.reception_day,
                    rec.answer_by,
                    rec.acknowledge,
                    rec.reason,
                    rec.detail,
                    rec.needs_answer,
                    rec.ack_state,
                    rec.ack_ref,
                    rec.ack_message_id,
                    rec.ack_sent_at,
                    int(rec.marked),
                    rec.attempts,
                    rec.last_attempt,
                    rec.last_error,
                    ack_to_json(acknowledgement) if acknowledgement is not None else None,
                    now,
                ),
            )

    def history(
        self, message: IncomingMessage, day_start: datetime, now: datetime, hour_cap: int
    ) -> ScreeningHistory:
        """What screening weighs of earlier work; the marker is the caller's to add.

        The hour's count stops at `hour_cap` (past the cap the exact number does not matter).
        """
        earlier = (
            self._query(
                "SELECT reason FROM messages WHERE mailbox = %s AND internet_message_id = %s "
                "ORDER BY recorded_at, seq LIMIT 1",
                (self.mailbox, message.message_id),
            )
            if message.message_id
            else []
        )
        conversation = bool(
            message.conversation_id
            and self._query(
                "SELECT 1 FROM messages WHERE mailbox = %s AND conversation_id = %s "
                "AND ack_state = ANY(%s) LIMIT 1",
                (self.mailbox, message.conversation_id, _COUNTS_AS_SENT),
            )
        ) or self._thread_acknowledged(thread_ids(message))
        sender = message.sender.key if message.sender else None
        today = (
            self._query(
                "SELECT count(*) AS n FROM messages WHERE mailbox = %s AND sender = %s "
                "AND recorded_at >= %s AND ack_state = ANY(%s)",
                (self.mailbox, sender, day_start, _COUNTS_AS_SENT),
            )[0]["n"]
            if sender
            else 0
        )
        last_hour = self._query(
            "SELECT count(*) AS n FROM (SELECT 1 FROM messages WHERE mailbox = %s "
            "AND recorded_at >= %s AND ack_state = ANY(%s) LIMIT %s) AS capped",
            (self.mailbox, now - timedelta(hours=1), _COUNTS_AS_SENT, hour_cap),
        )[0]["n"]
        return ScreeningHistory(
            earlier_reason=str(earlier[0]["reason"]) if earlier else None,
            conversation_acknowledged=conversation,
            sender_acknowledged_today=int(today),
            acknowledged_last_hour=int(last_hour),
        )

    def _thread_acknowledged(self, ids: Sequence[str]) -> bool:
        """Whether a message this one refers to (or our acknowledgement of it) was acknowledged."""
        if not ids:
            return False
        rows = self._query(
            "SELECT 1 FROM messages WHERE mailbox = %(mailbox)s "
            "AND (internet_message_id = ANY(%(ids)s) OR ack_message_id = ANY(%(ids)s)) "
            "AND (ack_state = ANY(%(states)s) OR conversation_id IN (SELECT conversation_id "
            "FROM messages WHERE mailbox = %(mailbox)s AND conversation_id IS NOT NULL "
            "AND ack_state = ANY(%(states)s))) LIMIT 1",
            {"mailbox": self.mailbox, "ids": list(ids), "states": _COUNTS_AS_SENT},
        )
        return bool(rows)

    def pending_sends(self, limit: int, *, attempted: bool) -> list[PendingSend]:
        """Claimed intents (or those whose claim was given up), oldest reception first."""
        which = (
            "last_attempt_at IS NOT NULL"
            if attempted
            else "last_attempt_at IS NULL AND outbox IS NOT NULL"
        )
        rows = self._query(
            "SELECT item_id, ack_ref, ack_message_id, outbox, attempts, last_attempt_at "
            f"FROM messages WHERE mailbox = %s AND ack_state = 'intent' AND marked != 0 "
            f"AND {which} ORDER BY received, seq LIMIT %s",
            (self.mailbox, limit),
        )
        return [
            PendingSend(
                item_id=row["item_id"],
                ref=row["ack_ref"],
                message_id=row["ack_message_id"],
                acknowledgement=ack_from_json(row["outbox"]) if row["outbox"] else None,
                attempts=row["attempts"],
                last_attempt=row["last_attempt_at"],
            )
            for row in rows
        ]

    def attempting(self, item_ids: Sequence[str], now: datetime) -> None:
        """A send is about to start: after a crash these are looked for in the mailbox first."""
        with self.transaction() as tx:
            tx.executemany(
                "UPDATE messages SET attempts = attempts + 1, last_attempt_at = %s "
                "WHERE mailbox = %s AND item_id = %s",
                [(now, self.mailbox, i) for i in item_ids],
            )

    def settle(self, results: Sequence[SendResult], now: datetime) -> None:
        """The outcomes of one round of sends, in one transaction."""
        with self.transaction() as tx:
            for result in results:
                if result.outcome == "retry":
                    # Not sent for certain: the next try needs no lookup first.
                    tx.execute(
                        "UPDATE messages SET last_error = %s, last_attempt_at = "
                        "CASE WHEN %s THEN NULL ELSE last_attempt_at END "
                        "WHERE mailbox = %s AND item_id = %s",
                        (result.error, result.not_sent, self.mailbox, result.item_id),
                    )
                    continue
                tx.execute(
                    "UPDATE messages SET ack_state = %s, last_error = %s, outbox = NULL, "
                    "ack_sent_at = CASE WHEN %s THEN %s ELSE ack_sent_at END "
                    "WHERE mailbox = %s AND item_id = %s",
                    (
                        result.outcome,
                        result.error,
                        result.outcome == "sent",
                        now,
                        self.mailbox,
                        result.item_id,
                    ),
                )

    def pending_marks(self, limit: int) -> list[MessageRecord]:
        """Decisions whose marker is not yet on the message: skips, and intents to be claimed."""
        rows = self._query(
            f"SELECT {_COLUMNS} FROM messages WHERE mailbox = %s AND marked = 0 "
            "AND ack_state IN ('none', 'intent') ORDER BY received, seq LIMIT %s",
            (self.mailbox, limit),
        )
        return [_record(r) for r in rows]

    def set_marked(self, item_ids: Sequence[str]) -> None:
        """Marks set in the mailbox, in one transaction."""
        with self.transaction() as tx:
            tx.executemany(
                "UPDATE messages SET marked = 1, last_error = '' WHERE mailbox = %s AND item_id = %s",
                [(self.mailbox, i) for i in item_ids],
            )

    def mark_failed(self, item_id: str, error: str, give_up_after: int) -> bool:
        """Count a failed mark; True when it is given up (then it is left unmarked, recorded)."""
        with self.transaction() as tx:
            row = tx.execute(
                "UPDATE messages SET mark_attempts = mark_attempts + 1, last_error = %s "
                "WHERE mailbox = %s AND item_id = %s RETURNING mark_attempts",
                (error, self.mailbox, item_id),
            ).fetchone()
            if row is not None and row["mark_attempts"] >= give_up_after:
                tx.execute(
                    "UPDATE messages SET marked = -1 WHERE mailbox = %s AND item_id = %s",
                    (self.mailbox, item_id),
                )
                return True
        return False

    def counts(self) -> dict[str, int]:
        rows = self._query(
            "SELECT reason, ack_state, count(*) AS n FROM messages WHERE mailbox = %s "
            "GROUP BY reason, ack_state",
            (self.mailbox,),
        )
        return {f"{row['reason']}/{row['ack_state']}": int(row["n"]) for row in rows}

    def records(self) -> list[MessageRecord]:
        rows = self._query(
            f"SELECT {_COLUMNS} FROM messages WHERE mailbox = %s ORDER BY received, seq",
            (self.mailbox,),
        )
        return [_record(r) for r in rows]

    # -- watermarks ---------------------------------------------------------------

    def watermark(self, name: str) -> str | None:
        rows = self._query(
            "SELECT value FROM watermarks WHERE mailbox = %s AND name = %s", (self.mailbox, name)
        )
        return str(rows[0]["value"]) if rows else None

    def set_watermark(self, name: str, value: str, now: datetime) -> None:
        with self.transaction() as tx:
            tx.execute(
                "INSERT INTO watermarks (mailbox, name, value, updated_at) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (mailbox, name) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                (self.mailbox, name, value, now),
            )

    def clear_watermark(self, name: str) -> None:
        with self.transaction() as tx:
            tx.execute(
                "DELETE FROM watermarks WHERE mailbox = %s AND name = %s", (self.mailbox, name)
            )

    # -- keeping the promise: targets ------------------------------------------------

    def _target_values(self, target: TrackedTarget, now: datetime) -> tuple[Any, ...]:
        return (
            self.mailbox,
            target.item_id,
            target.item_id,
            target.received,
            target.reception_day,
            target.answer_by,
            target.conversation_id,
            target.sender,
            target.joined_to,
            target.answered_at,
            target.answered_how,
            now,
        )

    def targets(self, *, open_only: bool = False) -> list[TrackedTarget]:
        which = "AND answered_at IS NULL " if open_only else ""
        rows = self._query(
            f"SELECT {_TARGET_COLUMNS} FROM targets WHERE mailbox = %s {which}"
            "ORDER BY received, item_id",
            (self.mailbox,),
        )
        return [_target(r) for r in rows]

    def conversation_targets(self, conversation_id: str) -> list[TrackedTarget]:
        rows = self._query(
            f"SELECT {_TARGET_COLUMNS} FROM targets WHERE mailbox = %s AND conversation_id = %s "
            "ORDER BY received, item_id",
            (self.mailbox, conversation_id),
        )
        return [_target(r) for r in rows]

    def add_targets(self, targets: Sequence[TrackedTarget], now: datetime) -> None:
        with self.transaction() as tx:
            tx.executemany(_INSERT_TARGET, [self._target_values(t, now) for t in targets])

    def to_observe(self) -> list[ToObserve]:
        rows = self._query(
            "SELECT t.item_id, m.internet_message_id, m.ack_message_id, m.ack_sent_at, "
            "m.ack_state FROM targets t LEFT JOIN messages m "
            "ON m.mailbox = t.mailbox AND m.item_id = t.record_id "
            "WHERE t.mailbox = %s AND t.answered_at IS NULL ORDER BY t.received, t.item_id",
            (self.mailbox,),
        )
        return [
            ToObserve(
                item_id=row["item_id"],
                internet_message_id=row["internet_message_id"],
                acknowledgement_message_id=row["ack_message_id"],
                acknowledgement_sent_at=row["ack_sent_at"] if row["ack_state"] == "sent" else None,
            )
            for row in rows
        ]

    def records_without_target(self, limit: int) -> list[MessageRecord]:
        rows = self._query(
            f"SELECT {_COLUMNS} FROM messages m WHERE mailbox = %s AND needs_answer "
            "AND NOT EXISTS (SELECT 1 FROM targets t WHERE t.mailbox = m.mailbox "
            "AND t.record_id = m.item_id) ORDER BY received, seq LIMIT %s",
            (self.mailbox, limit),
        )
        return [_record(r) for r in rows]

    def record_answers(self, answers: Mapping[str, Answered], now: datetime) -> None:
        with self.transaction() as tx:
            tx.executemany(
                "UPDATE targets SET answered_at = %s, answered_how = %s "
                "WHERE mailbox = %s AND item_id = %s AND answered_at IS NULL",
                [(a.when, a.how, self.mailbox, item_id) for item_id, a in answers.items()],
            )

    def retarget(self, item_id: str, new_item_id: str) -> None:
        with self.transaction() as tx:
            taken = tx.execute(
                "SELECT 1 FROM targets WHERE mailbox = %s AND item_id = %s",
                (self.mailbox, new_item_id),
            ).fetchone()
            if taken is not None:
                return  # already known under its new id
            tx.execute(
                "UPDATE targets SET item_id = %s WHERE mailbox = %s AND item_id = %s",
                (new_item_id, self.mailbox, item_id),
            )
            tx.execute(
                "UPDATE targets SET joined_to = %s WHERE mailbox = %s AND joined_to = %s",
                (new_item_id, self.mailbox, item_id),
            )

    def progress(self) -> dict[str, TargetProgress]:
        rows = self._query(
            "SELECT item_id, category, warned_at, last_escalated_at FROM targets "
            "WHERE mailbox = %s AND (answered_at IS NULL OR category IN ('warning', 'overdue'))",
            (self.mailbox,),
        )
        return {
            row["item_id"]: TargetProgress(
                item_id=row["item_id"],
                category=row["category"],
                warned_at=row["warned_at"],
                last_escalated=row["last_escalated_at"],
            )
            for row in rows
        }

    def set_category(self, item_ids: Sequence[str], state: CategoryState, now: datetime) -> None:
        with self.transaction() as tx:
            tx.executemany(
                "UPDATE targets SET category = %s, warned_at = CASE WHEN %s = 'warning' "
                "AND warned_at IS NULL THEN %s ELSE warned_at END "
                "WHERE mailbox = %s AND item_id = %s",
                [(state, state, now, self.mailbox, i) for i in item_ids],
            )

    # -- keeping the promise: the team's mails -------------------------------------------

    def queue_notice(self, notice: PendingNotice, escalated: Sequence[str], now: datetime) -> None:
        mail = notice.notice
        with self.transaction() as tx:
            tx.execute(
                "INSERT INTO notices (mailbox, ref, kind, day, recipients, subject, body, "
                "created_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s)",
                (
                    self.mailbox,
                    mail.ref,
                    notice.kind,
                    notice.day,
                    ",".join(a.email for a in mail.to),
                    mail.subject,
                    mail.text,
                    now,
                ),
            )
            tx.executemany(
                "UPDATE targets SET last_escalated_at = %s WHERE mailbox = %s AND item_id = %s",
                [(now, self.mailbox, i) for i in escalated],
            )

    def last_overview_day(self) -> date | None:
        rows = self._query(
            "SELECT max(day) AS day FROM notices WHERE mailbox = %s AND kind = 'overview'",
            (self.mailbox,),
        )
        day = rows[0]["day"] if rows else None
        return day if isinstance(day, date) else None

    def pending_notices(self, limit: int, *, attempted: bool) -> list[PendingNotice]:
        which = "last_attempt_at IS NOT NULL" if attempted else "last_attempt_at IS NULL"
        rows = self._query(
            "SELECT ref, kind, day, recipients, subject, body, attempts, last_attempt_at "
            f"FROM notices WHERE mailbox = %s AND state = 'intent' AND {which} "
            "ORDER BY created_at, ref LIMIT %s",
            (self.mailbox, limit),
        )
        return [_notice(r) for r in rows]

    def notices_attempting(self, refs: Sequence[str], now: datetime) -> None:
        with self.transaction() as tx:
            tx.executemany(
                "UPDATE notices SET attempts = attempts + 1, last_attempt_at = %s "
                "WHERE mailbox = %s AND ref = %s",
                [(now, self.mailbox, r) for r in refs],
            )

    def settle_notices(self, results: Sequence[SendResult], now: datetime) -> None:
        with self.transaction() as tx:
            for result in results:
                if result.outcome == "retry":
                    tx.execute(
                        "UPDATE notices SET last_error = %s, last_attempt_at = "
                        "CASE WHEN %s THEN NULL ELSE last_attempt_at END "
                        "WHERE mailbox = %s AND ref = %s",
                        (result.error, result.not_sent, self.mailbox, result.item_id),
                    )
                    continue
                # The text lists tenants' subjects: kept only until the mail is sent.
                tx.execute(
                    "UPDATE notices SET state = %s, last_error = %s, body = NULL, "
                    "sent_at = CASE WHEN %s THEN %s ELSE sent_at END "
                    "WHERE mailbox = %s AND ref = %s",
                    (
                        result.outcome,
                        result.error,
                        result.outcome == "sent",
                        now,
                        self.mailbox,
                        result.item_id,
                    ),
                )

    # -- callbacks (docs/callbacks.md) ----------------------------------------------
    # Three tables of their own (schema version 3): the callback requests, the meetings
    # and replies sent for them (each with a ref, for exactly once), and the meeting
    # messages already looked at. The same promises as the SQLite store's section.

    def callback_candidates(self, reason: str, limit: int) -> list[str]:
        rows = self._query(
            "SELECT item_id FROM messages m WHERE mailbox = %s AND reason = %s "
            "AND NOT EXISTS (SELECT 1 FROM callbacks c WHERE c.mailbox = m.mailbox "
            "AND c.booking_item_id = m.item_id) ORDER BY received, seq LIMIT %s",
            (self.mailbox, reason, limit),
        )
        return [str(r["item_id"]) for r in rows]

    def meeting_messages(self, reason: str, limit: int) -> list[str]:
        rows = self._query(
            "SELECT item_id FROM messages m WHERE mailbox = %s AND reason = %s "
            "AND NOT EXISTS (SELECT 1 FROM callback_seen s WHERE s.mailbox = m.mailbox "
            "AND s.item_id = m.item_id) ORDER BY received, seq LIMIT %s",
            (self.mailbox, reason, limit),
        )
        return [str(r["item_id"]) for r in rows]

    def seen_meeting_messages(self, item_ids: Sequence[str], now: datetime) -> None:
        with self.transaction() as tx:
            tx.executemany(
                "INSERT INTO callback_seen (mailbox, item_id, seen_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (mailbox, item_id) DO NOTHING",
                [(self.mailbox, i, now) for i in item_ids],
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
        with self.transaction() as tx:
            tx.execute(
                f"INSERT INTO callbacks (mailbox, {_CALLBACK_COLUMNS}, updated_at, recorded_at) "
                "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                (self.mailbox, *_callback_row(callback), now, now),
            )
            if meeting is not None:
                self._insert_meeting(tx, meeting, now, attempting=attempting)
            for reply in replies:
                self._insert_reply(tx, reply, now)

    def _insert_meeting(
        self, tx: Transaction, meeting: MeetingRecord, now: datetime, *, attempting: bool
    ) -> None:
        tx.execute(
            "INSERT INTO callback_sends (mailbox, ref, callback_id, kind, state, payload, "
            "attempts, last_attempt_at, colleague, colleague_name, slot_start, slot_end, "
            "at_risk, created_at) VALUES (%s, %s, %s, 'meeting', %s, %s, %s, %s, %s, %s, %s, "
            "%s, %s, %s)",
            (
                self.mailbox,
                meeting.ref,
                meeting.callback_id,
                meeting.state,
                meeting_to_json(meeting.outgoing) if meeting.outgoing else None,
                1 if attempting else 0,
                now if attempting else None,
                meeting.colleague,
                meeting.colleague_name,
                meeting.slot_start,
                meeting.slot_end,
                meeting.at_risk,
                now,
            ),
        )

    def _insert_reply(self, tx: Transaction, reply: ReplyRecord, now: datetime) -> None:
        tx.execute(
            "INSERT INTO callback_sends (mailbox, ref, callback_id, kind, state, payload, "
            "message_id, original_item_id, waits_for, reply_kind, created_at) "
            "VALUES (%s, %s, %s, 'reply', %s, %s, %s, %s, %s, %s, %s)",
            (
                self.mailbox,
                reply.ref,
                reply.callback_id,
                reply.state,
                ack_to_json(reply.mail) if reply.mail else None,
                reply.message_id,
                reply.original_item_id,
                reply.waits_for,
                reply.kind,
                now,
            ),
        )

    def get_callback(self, callback_id: str) -> CallbackRecord | None:
        rows = self._query(
            f"SELECT {_CALLBACK_COLUMNS} FROM callbacks WHERE mailbox = %s AND id = %s",
            (self.mailbox, callback_id),
        )
        return _callback(rows[0]) if rows else None

    def callback_for_item(self, item_id: str) -> CallbackRecord | None:
        rows = self._query(
            f"SELECT {_CALLBACK_COLUMNS} FROM callbacks WHERE mailbox = %s "
            "AND booking_item_id = %s",
            (self.mailbox, item_id),
        )
        return _callback(rows[0]) if rows else None

    def callbacks(self, states: Collection[str] | None = None) -> list[CallbackRecord]:
        if states is None:
            rows = self._query(
                f"SELECT {_CALLBACK_COLUMNS} FROM callbacks WHERE mailbox = %s "
                "ORDER BY booked_at, seq",
                (self.mailbox,),
            )
        else:
            rows = self._query(
                f"SELECT {_CALLBACK_COLUMNS} FROM callbacks WHERE mailbox = %s "
                "AND state = ANY(%s) ORDER BY booked_at, seq",
                (self.mailbox, list(states)),
            )
        return [_callback(r) for r in rows]

    def unclaimed_callbacks(self, limit: int) -> list[CallbackRecord]:
        rows = self._query(
            f"SELECT {_CALLBACK_COLUMNS} FROM callbacks WHERE mailbox = %s AND claimed = 0 "
            "ORDER BY booked_at, seq LIMIT %s",
            (self.mailbox, limit),
        )
        return [_callback(r) for r in rows]

    def set_callback_claimed(self, callback_id: str) -> None:
        with self.transaction() as tx:
            tx.execute(
                "UPDATE callbacks SET claimed = 1 WHERE mailbox = %s AND id = %s",
                (self.mailbox, callback_id),
            )

    def callback_claim_failed(self, callback_id: str, error: str, give_up_after: int) -> bool:
        """Count a failed claim; True when given up (the callback goes on unclaimed)."""
        with self.transaction() as tx:
            row = tx.execute(
                "UPDATE callbacks SET claim_attempts = claim_attempts + 1, last_error = %s "
                "WHERE mailbox = %s AND id = %s RETURNING claim_attempts",
                (error, self.mailbox, callback_id),
            ).fetchone()
            if row is not None and row["claim_attempts"] >= give_up_after:
                tx.execute(
                    "UPDATE callbacks SET claimed = -1 WHERE mailbox = %s AND id = %s",
                    (self.mailbox, callback_id),
                )
                return True
        return False

    def set_callback_state(self, callback_id: str, state: str, now: datetime) -> None:
        with self.transaction() as tx:
            tx.execute(
                "UPDATE callbacks SET state = %s, updated_at = %s WHERE mailbox = %s AND id = %s",
                (state, now, self.mailbox, callback_id),
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
        with self.transaction() as tx:
            tx.execute(
                "UPDATE callback_sends SET state = 'superseded', why = %s, cancel = %s "
                "WHERE mailbox = %s AND ref = %s",
                (why, "pending" if cancel_old else "", self.mailbox, old_ref),
            )
            if meeting is not None:
                self._insert_meeting(tx, meeting, now, attempting=False)
            for reply in replies:
                self._insert_reply(tx, reply, now)
            tx.execute(
                "UPDATE callbacks SET state = %s, rebookings = rebookings + %s, updated_at = %s "
                "WHERE mailbox = %s AND id = %s",
                (state, 1 if meeting is not None else 0, now, self.mailbox, callback_id),
            )

    def add_replies(self, replies: Sequence[ReplyRecord], now: datetime) -> None:
        with self.transaction() as tx:
            for reply in replies:
                self._insert_reply(tx, reply, now)

    def meetings(
        self, callback_id: str | None = None, states: Collection[str] | None = None
    ) -> list[MeetingRecord]:
        where = ["mailbox = %s", "kind = 'meeting'"]
        params: list[Any] = [self.mailbox]
        if callback_id is not None:
            where.append("callback_id = %s")
            params.append(callback_id)
        if states is not None:
            where.append("state = ANY(%s)")
            params.append(list(states))
        rows = self._query(
            f"SELECT {_SEND_COLUMNS} FROM callback_sends WHERE {' AND '.join(where)} "
            "ORDER BY created_at, ref",
            params,
        )
        return [_meeting(r) for r in rows]

    def get_meeting(self, ref: str) -> MeetingRecord | None:
        rows = self._query(
            f"SELECT {_SEND_COLUMNS} FROM callback_sends WHERE mailbox = %s "
            "AND kind = 'meeting' AND ref = %s",
            (self.mailbox, ref),
        )
        return _meeting(rows[0]) if rows else None

    def meetings_to_cancel(self) -> list[MeetingRecord]:
        rows = self._query(
            f"SELECT {_SEND_COLUMNS} FROM callback_sends WHERE mailbox = %s "
            "AND kind = 'meeting' AND cancel = 'pending' ORDER BY created_at, seq",
            (self.mailbox,),
        )
        return [_meeting(r) for r in rows]

    def meeting_cancelled(self, ref: str) -> None:
        with self.transaction() as tx:
            tx.execute(
                "UPDATE callback_sends SET cancel = 'done' WHERE mailbox = %s AND ref = %s",
                (self.mailbox, ref),
            )

    def pending_meetings(self, limit: int, *, attempted: bool) -> list[PendingSend]:
        """Meeting intents of claimed callbacks (or those whose claim was given up)."""
        which = "s.last_attempt_at IS NOT NULL" if attempted else "s.last_attempt_at IS NULL"
        rows = self._query(
            "SELECT s.ref, s.attempts, s.last_attempt_at FROM callback_sends s "
            "JOIN callbacks c ON c.mailbox = s.mailbox AND c.id = s.callback_id "
            "WHERE s.mailbox = %s AND s.kind = 'meeting' AND s.state = 'intent' "
            f"AND c.claimed != 0 AND {which} ORDER BY s.created_at, s.seq LIMIT %s",
            (self.mailbox, limit),
        )
        return [_pending(r, None) for r in rows]

    def meeting_outgoing(self, refs: Sequence[str]) -> dict[str, OutgoingMeeting]:
        rows = self._query(
            "SELECT ref, payload FROM callback_sends WHERE mailbox = %s AND kind = 'meeting' "
            "AND ref = ANY(%s) AND payload IS NOT NULL",
            (self.mailbox, list(refs)),
        )
        return {r["ref"]: meeting_from_json(r["payload"]) for r in rows}

    def pending_replies(self, limit: int, *, attempted: bool) -> list[PendingSend]:
        """Replies whose meeting (if any) is sent: never attempted, or of unknown outcome."""
        which = "r.last_attempt_at IS NOT NULL" if attempted else "r.last_attempt_at IS NULL"
        rows = self._query(
            "SELECT r.ref, r.attempts, r.last_attempt_at, r.message_id, r.payload "
            "FROM callback_sends r JOIN callbacks c ON c.mailbox = r.mailbox "
            "AND c.id = r.callback_id LEFT JOIN callback_sends m ON m.mailbox = r.mailbox "
            "AND m.ref = r.waits_for WHERE r.mailbox = %s AND r.kind = 'reply' "
            f"AND r.state = 'intent' AND c.claimed != 0 AND {which} "
            "AND (r.waits_for IS NULL OR m.state = 'sent') ORDER BY r.created_at, r.seq "
            "LIMIT %s",
            (self.mailbox, limit),
        )
        return [_pending(r, r["message_id"], r["payload"]) for r in rows]

    def reply_records(self, refs: Sequence[str]) -> dict[str, ReplyRecord]:
        rows = self._query(
            f"SELECT {_SEND_COLUMNS} FROM callback_sends WHERE mailbox = %s "
            "AND kind = 'reply' AND ref = ANY(%s)",
            (self.mailbox, list(refs)),
        )
        return {r["ref"]: _reply(r) for r in rows}

    def replies(self, callback_id: str) -> list[ReplyRecord]:
        rows = self._query(
            f"SELECT {_SEND_COLUMNS} FROM callback_sends WHERE mailbox = %s "
            "AND kind = 'reply' AND callback_id = %s ORDER BY created_at, ref",
            (self.mailbox, callback_id),
        )
        return [_reply(r) for r in rows]

    def attempting_sends(self, refs: Sequence[str], now: datetime) -> None:
        """Meetings or replies about to be sent: after a crash they are looked for first."""
        with self.transaction() as tx:
            tx.executemany(
                "UPDATE callback_sends SET attempts = attempts + 1, last_attempt_at = %s "
                "WHERE mailbox = %s AND ref = %s",
                [(now, self.mailbox, r) for r in refs],
            )

    def settle_sends(self, results: Sequence[SendResult], now: datetime) -> None:
        """The outcomes of one round of meetings or replies (keyed by ref), in one transaction."""
        with self.transaction() as tx:
            for result in results:
                if result.outcome == "retry":
                    tx.execute(
                        "UPDATE callback_sends SET last_error = %s, last_attempt_at = "
                        "CASE WHEN %s THEN NULL ELSE last_attempt_at END "
                        "WHERE mailbox = %s AND ref = %s",
                        (result.error, result.not_sent, self.mailbox, result.item_id),
                    )
                    continue
                # A reply's text (the tenant's name) is kept only until it is sent.
                tx.execute(
                    "UPDATE callback_sends SET state = %s, last_error = %s, "
                    "payload = CASE WHEN kind = 'reply' THEN NULL ELSE payload END, "
                    "sent_at = CASE WHEN %s THEN %s ELSE sent_at END "
                    "WHERE mailbox = %s AND ref = %s",
                    (
                        result.outcome,
                        result.error,
                        result.outcome == "sent",
                        now,
                        self.mailbox,
                        result.item_id,
                    ),
                )

    def set_meeting_ids(self, ref: str, item_id: str, uid: str) -> None:
        with self.transaction() as tx:
            tx.execute(
                "UPDATE callback_sends SET item_id = %s, uid = COALESCE(NULLIF(%s, ''), uid) "
                "WHERE mailbox = %s AND ref = %s",
                (item_id, uid, self.mailbox, ref),
            )

    def move_meeting(self, ref: str, start: datetime, end: datetime) -> None:
        with self.transaction() as tx:
            tx.execute(
                "UPDATE callback_sends SET slot_start = %s, slot_end = %s "
                "WHERE mailbox = %s AND ref = %s",
                (start, end, self.mailbox, ref),
            )

    def drop_replies_waiting_for(self, ref: str) -> list[str]:
        """Replies waiting for meeting `ref` (given up) are dropped; their callbacks' ids."""
        with self.transaction() as tx:
            rows = tx.execute(
                "UPDATE callback_sends SET state = 'dropped', payload = NULL "
                "WHERE mailbox = %s AND kind = 'reply' AND waits_for = %s AND state = 'intent' "
                "RETURNING callback_id",
                (self.mailbox, ref),
            ).fetchall()
        return list(dict.fromkeys(str(r["callback_id"]) for r in rows))

    # -- retention (docs/retention.md) ---------------------------------------------------

    def purge(self, cutoffs: Cutoffs, *, dry_run: bool = False) -> PurgeCounts:
        """Remove details and rows past their retention, this mailbox's only, in one fenced
        transaction (rolled back for a dry run, so it counts exactly what a purge would do).
        Open work is never touched. The space is PostgreSQL's autovacuum's to give back."""
        counts = PurgeCounts()
        try:
            with self.transaction() as tx:
                counts = self._purge(tx, cutoffs)
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        return counts

    def _purge(self, tx: Transaction, cutoffs: Cutoffs) -> PurgeCounts:
        box = self.mailbox
        rows = tx.execute(_MESSAGE_FACTS, {"mailbox": box}).fetchall()
        messages = [
            Row(
                key=r["item_id"],
                moment=r["received"],
                recorded=r["recorded_at"],
                open=bool(r["open"]),
                has_details=bool(r["has_details"]),
                message_key=message_key(r["internet_message_id"]),
                seen_again=r["reason"] in SEEN_AGAIN,
            )
            for r in rows
        ]
        done = plan_messages(messages, cutoffs)
        keys = {r.key: r.message_key for r in messages}
        tx.executemany(
            "UPDATE messages SET internet_message_id = %s, conversation_id = NULL, "
            "sender = NULL, detail = '', ack_message_id = NULL, last_error = '', outbox = NULL "
            "WHERE mailbox = %s AND item_id = %s",
            [(keys[k] or None, box, k) for k in done.details],
        )
        tx.executemany(
            "DELETE FROM messages WHERE mailbox = %s AND item_id = %s",
            [(box, k) for k in done.delete],
        )
        kept = set(keys) - set(done.delete)

        target_rows = tx.execute(_TARGET_FACTS, (box,)).fetchall()
        targets = [
            Row(
                key=r["item_id"],
                moment=r["received"],
                recorded=r["created_at"],
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
        tx.executemany(
            "UPDATE targets SET sender = NULL, conversation_id = NULL "
            "WHERE mailbox = %s AND item_id = %s",
            [(box, k) for k in target_details],
        )
        tx.executemany(
            "DELETE FROM targets WHERE mailbox = %s AND item_id = %s",
            [(box, k) for k in target_delete],
        )
        callbacks = self._purge_callbacks(tx, cutoffs, kept)

        notices = [
            r["ref"]
            for r in tx.execute(_NOTICE_FACTS, {"mailbox": box}).fetchall()
            if not r["open"]
            and r["created_at"] < cutoffs.details_before
            and r["created_at"] < cutoffs.recorded_before
        ]
        tx.executemany(
            "DELETE FROM notices WHERE mailbox = %s AND ref = %s", [(box, r) for r in notices]
        )
        return replace(
            callbacks,
            messages_details=len(done.details),
            targets_details=len(target_details),
            notices_deleted=len(notices),
            messages_deleted=len(done.delete),
            targets_deleted=len(target_delete),
        )

    def _purge_callbacks(self, tx: Transaction, cutoffs: Cutoffs, kept: set[str]) -> PurgeCounts:
        """The callbacks' part, once the database has their tables (the same columns as the
        SQLite file's, with the mailbox); nothing before."""
        present = tx.execute("SELECT to_regclass('callbacks') IS NOT NULL AS present").fetchone()
        if not present or not present["present"]:
            return PurgeCounts()
        box = self.mailbox
        rows = tx.execute(_CALLBACK_FACTS, {"mailbox": box}).fetchall()
        callbacks = [
            Row(
                key=r["id"],
                moment=r["booked_at"],
                recorded=r["recorded_at"],
                open=bool(r["open"]),
                has_details=bool(r["has_details"]),
            )
            for r in rows
        ]
        # A callback goes only after its booking mail's decision: else it would be booked anew.
        booking_kept = {r["id"] for r in rows if r["booking_item_id"] in kept}
        details = plan(callbacks, cutoffs).details
        delete = plan(
            [replace(c, open=c.open or c.key in booking_kept) for c in callbacks], cutoffs
        ).delete
        meetings_details = replies_deleted = meetings_deleted = 0
        for callback_id in details:
            tx.execute(
                "UPDATE callbacks SET details = '{}', booked_by = '', booking_message_id = NULL, "
                "last_error = '' WHERE mailbox = %s AND id = %s",
                (box, callback_id),
            )
            meetings_details += tx.execute(
                "UPDATE callback_sends SET payload = NULL, colleague = '', colleague_name = '', "
                "last_error = '' WHERE mailbox = %s AND callback_id = %s AND kind = 'meeting'",
                (box, callback_id),
            ).rowcount
            replies_deleted += tx.execute(
                "DELETE FROM callback_sends WHERE mailbox = %s AND callback_id = %s "
                "AND kind = 'reply'",
                (box, callback_id),
            ).rowcount
        for callback_id in delete:
            for r in tx.execute(
                "SELECT kind, count(*) AS n FROM callback_sends WHERE mailbox = %s "
                "AND callback_id = %s GROUP BY kind",
                (box, callback_id),
            ).fetchall():
                if r["kind"] == "reply":
                    replies_deleted += r["n"]
                else:
                    meetings_deleted += r["n"]
            tx.execute(
                "DELETE FROM callback_sends WHERE mailbox = %s AND callback_id = %s",
                (box, callback_id),
            )
            tx.execute("DELETE FROM callbacks WHERE mailbox = %s AND id = %s", (box, callback_id))
        seen = [
            r["item_id"]
            for r in tx.execute(
                "SELECT item_id, seen_at FROM callback_seen WHERE mailbox = %s", (box,)
            ).fetchall()
            if r["item_id"] not in kept and r["seen_at"] < cutoffs.recorded_before
        ]
        tx.executemany(
            "DELETE FROM callback_seen WHERE mailbox = %s AND item_id = %s",
            [(box, i) for i in seen],
        )
        return PurgeCounts(
            callbacks_details=len(details),
            meetings_details=meetings_details,
            replies_deleted=replies_deleted,
            callbacks_deleted=len(delete),
            meetings_deleted=meetings_deleted,
            seen_deleted=len(seen),
        )


_CALLBACK_COLUMNS = (
    "id, source, booked_by, booked_at, state, callback_by, booking_item_id, booking_mailbox, "
    "booking_message_id, problems, details, claimed, rebookings"
)
_SEND_COLUMNS = (
    "ref, callback_id, kind, state, payload, attempts, last_attempt_at, last_error, colleague, "
    "colleague_name, slot_start, slot_end, at_risk, item_id, uid, why, cancel, message_id, "
    "original_item_id, waits_for, reply_kind, created_at, sent_at"
)


def _callback_row(c: CallbackRecord) -> tuple[Any, ...]:
    return (
        c.id,
        c.source,
        c.booked_by,
        c.booked_at,
        c.state,
        c.callback_by,
        c.booking_item_id,
        c.booking_mailbox,
        c.booking_message_id,
        ",".join(c.problems),
        json.dumps(dict(c.details), ensure_ascii=False),
        int(c.claimed),
        c.rebookings,
    )


def _callback(row: Mapping[str, Any]) -> CallbackRecord:
    return CallbackRecord(
        id=row["id"],
        source=row["source"],
        booked_by=row["booked_by"],
        booked_at=row["booked_at"],
        state=row["state"],
        callback_by=row["callback_by"],
        booking_item_id=row["booking_item_id"],
        booking_mailbox=row["booking_mailbox"],
        booking_message_id=row["booking_message_id"],
        problems=tuple(p for p in row["problems"].split(",") if p),
        details=json.loads(row["details"] or "{}"),
        claimed=row["claimed"] != 0,
        rebookings=row["rebookings"],
    )


def _meeting(row: Mapping[str, Any]) -> MeetingRecord:
    return MeetingRecord(
        ref=row["ref"],
        callback_id=row["callback_id"],
        colleague=row["colleague"] or "",
        colleague_name=row["colleague_name"] or "",
        slot_start=row["slot_start"],
        slot_end=row["slot_end"],
        at_risk=bool(row["at_risk"]),
        state=row["state"],
        item_id=row["item_id"],
        uid=row["uid"],
        outgoing=meeting_from_json(row["payload"]) if row["payload"] else None,
        attempts=row["attempts"],
        last_attempt=row["last_attempt_at"],
        last_error=row["last_error"],
        why=row["why"],
        sent_at=row["sent_at"],
    )


def _reply(row: Mapping[str, Any]) -> ReplyRecord:
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
        last_attempt=row["last_attempt_at"],
    )


def _pending(
    row: Mapping[str, Any], message_id: str | None, payload: str | None = None
) -> PendingSend:
    # A meeting or reply as the exactly-once round sends it: its ref is also its key.
    return PendingSend(
        item_id=row["ref"],
        ref=row["ref"],
        message_id=message_id or "",
        acknowledgement=ack_from_json(payload) if payload else None,
        attempts=row["attempts"],
        last_attempt=row["last_attempt_at"],
    )


class _DryRun(Exception):
    """Raised inside a dry run's transaction to roll it back."""


#: Per message: whether open work still needs it whole (an unsettled or unclaimed
#: acknowledgement, a mark still to be set, a target still to be made, open or still carrying
#: a tracking category), and whether it still holds details (as `adapters/sqlite_store.py`).
_MESSAGE_FACTS = """
SELECT m.item_id, m.received, m.recorded_at, m.internet_message_id, m.reason,
  (m.ack_state = 'intent'
   OR (m.marked = 0 AND m.ack_state IN ('none', 'intent'))
   OR (m.needs_answer AND NOT EXISTS (SELECT 1 FROM targets t
       WHERE t.mailbox = m.mailbox AND t.record_id = m.item_id))
   OR EXISTS (SELECT 1 FROM targets t WHERE t.mailbox = m.mailbox AND t.record_id = m.item_id
              AND (t.answered_at IS NULL OR t.category IN ('warning', 'overdue')))) AS open,
  (m.sender IS NOT NULL OR m.conversation_id IS NOT NULL OR m.ack_message_id IS NOT NULL
   OR m.detail != '' OR m.last_error != '' OR m.outbox IS NOT NULL
   OR (m.internet_message_id IS NOT NULL AND m.internet_message_id NOT LIKE 'sha256:%%'))
   AS has_details
FROM messages m WHERE m.mailbox = %(mailbox)s
"""
_TARGET_FACTS = """
SELECT item_id, record_id, received, created_at,
  (answered_at IS NULL OR category IN ('warning', 'overdue')) AS open,
  (sender IS NOT NULL OR conversation_id IS NOT NULL) AS has_details
FROM targets WHERE mailbox = %s
"""
_CALLBACK_FACTS = """
SELECT c.id, c.booked_at, c.recorded_at, c.booking_item_id,
  (c.state = 'planned' OR c.claimed = 0 OR EXISTS (SELECT 1 FROM callback_sends s
   WHERE s.mailbox = c.mailbox AND s.callback_id = c.id
   AND (s.state = 'intent' OR s.cancel = 'pending'))) AS open,
  (c.details::text != '{}' OR c.booked_by != '' OR c.booking_message_id IS NOT NULL
   OR c.last_error != '' OR EXISTS (SELECT 1 FROM callback_sends s WHERE s.mailbox = c.mailbox
   AND s.callback_id = c.id AND (s.kind = 'reply' OR s.payload IS NOT NULL
   OR COALESCE(s.colleague, '') != '' OR COALESCE(s.colleague_name, '') != ''
   OR s.last_error != ''))) AS has_details
FROM callbacks c WHERE c.mailbox = %(mailbox)s
"""
_NOTICE_FACTS = """
SELECT ref, created_at,
  (state = 'intent' OR (kind = 'overview' AND day = (SELECT max(day) FROM notices
   WHERE mailbox = %(mailbox)s AND kind = 'overview'))) AS open
FROM notices WHERE mailbox = %(mailbox)s
"""
