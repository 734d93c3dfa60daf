"""Asynchronous submission in the sandbox store (a test double): sent mail reaches Sent Items and recipients later.

Exchange does not finish a send inside the send call. The message is submitted from the
folder it was saved in; transport picks it up, and only when it has taken the message does
the store copy or move it to Sent Items ([MS-OXOMSG] 3.3.5.1.3: with PidTagSentMailSvrEID
"the message is copied to the folder identified by this property after the message is sent
out") and deliver it. Graph documents the same steps, most of them "after the method
response is returned" ("Send mail by using the Microsoft Graph API"), and warns that
"Getting the message in Sent Items may not succeed immediately after sending the message"
("Obtain immutable identifiers for Outlook resources"). With a queue in front of transport,
that takes seconds or minutes.

A send here puts the message in submission: a row in the ``submissions`` table that is due
after the sender mailbox's delay plus a random jitter (:class:`SubmissionSettings`). Until
then the message is, by setting, an unsent item in the sender's Outbox (``"outbox"``, what
the store shows a MAPI client) or Drafts (``"drafts"``, where Graph saves it) or nowhere
(``"hidden"``, the harshest model). When it is due, one transaction removes that item,
stores the Sent Items copy (:mod:`~exchange_sandbox.store.copies`) and delivers to the
sandbox recipients. Delay 0 delivers inside the send call, as the sandbox always did.

Time comes from an injectable clock; :meth:`SubmissionQueue.run_due` delivers what is due
(tests call it, no sleeping), and :meth:`SubmissionQueue.start` runs a worker thread that
does so at the due times in a running server. Queued submissions are rows of the store's
SQLite file: with a state directory they survive a restart. The ``on_saved`` callbacks (the
Graph front follows its immutable ids with them) live in memory only.
"""

from __future__ import annotations

import contextlib
import json
import random
import sqlite3
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from exchange_sandbox.store.codec import item_from_row, item_to_json
from exchange_sandbox.store.copies import CopyHeaders, in_transit_form, recipient_copy, sent_copy
from exchange_sandbox.store.mime import parse_mime, submitted_mime
from exchange_sandbox.store.model import Address, Item, ItemNotFound, NewItem

if TYPE_CHECKING:
    from exchange_sandbox.store.mailstore import MailStore

__all__ = [
    "IN_TRANSIT",
    "Clock",
    "CopyHeaders",
    "InTransit",
    "Submission",
    "SubmissionQueue",
    "SubmissionSettings",
    "wall_clock",
]

Clock = Callable[[], datetime]
InTransit = Literal["outbox", "drafts", "hidden"]
IN_TRANSIT: tuple[InTransit, ...] = ("outbox", "drafts", "hidden")
State = Literal["in_transit", "delivered", "failed"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (id TEXT PRIMARY KEY, mailbox TEXT NOT NULL,
    state TEXT NOT NULL, submitted_at REAL NOT NULL, due_at REAL NOT NULL, delivered_at REAL,
    save_copy INTEGER NOT NULL, copy_headers TEXT NOT NULL, recipients TEXT NOT NULL,
    transit_item_id TEXT, copy_id TEXT, error TEXT NOT NULL DEFAULT '',
    message_id TEXT NOT NULL, subject TEXT NOT NULL,
    item_id TEXT, change_key TEXT, folder TEXT, mime BLOB, data TEXT);
CREATE INDEX IF NOT EXISTS submissions_due ON submissions (state, due_at);
"""
#: The longest the worker sleeps before it looks at the clock again (it may have been moved).
_MAX_NAP = 1.0


def wall_clock() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> float:
    return moment.timestamp()


def _moment(stamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(stamp, UTC) if stamp is not None else None


@dataclass(frozen=True)
class SubmissionSettings:
    """How long transport takes for a mailbox's sent mail, and what shows meanwhile."""

    delay_ms: int = 0
    jitter_ms: int = 0
    in_transit: InTransit = "outbox"

    def __post_init__(self) -> None:
        for name in ("delay_ms", "jitter_ms"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"submission {name} must be an integer >= 0, not {value!r}")
        if self.in_transit not in IN_TRANSIT:
            raise ValueError(
                f"submission in_transit must be one of {', '.join(IN_TRANSIT)},"
                f" not {self.in_transit!r}"
            )

    def changed(self, changes: Mapping[str, Any]) -> SubmissionSettings:
        """These settings with some of ``delay_ms``, ``jitter_ms``, ``in_transit`` changed."""
        unknown = set(changes) - {"delay_ms", "jitter_ms", "in_transit"}
        if unknown:
            raise ValueError(f"unknown submission setting(s): {', '.join(sorted(unknown))}")
        return replace(self, **changes)

    def as_json(self) -> dict[str, Any]:
        return {
            "delay_ms": self.delay_ms,
            "jitter_ms": self.jitter_ms,
            "in_transit": self.in_transit,
        }


@dataclass(frozen=True)
class Submission:
    """One sent message on its way through transport (or past it)."""

    id: str
    mailbox: str
    state: State
    message_id: str
    subject: str
    save_copy: bool
    submitted_at: datetime
    due_at: datetime
    recipients: tuple[str, ...] = ()
    transit_item_id: str | None = None
    delivered_at: datetime | None = None
    copy_id: str | None = None
    error: str = ""

    def as_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "id": self.id,
            "mailbox": self.mailbox,
            "state": self.state,
            "message_id": self.message_id,
            "subject": self.subject,
            "save_copy": self.save_copy,
            "submitted_at": iso(self.submitted_at),
            "due_at": iso(self.due_at),
            "recipients": list(self.recipients),
            "transit_item_id": self.transit_item_id,
            "delivered_at": iso(self.delivered_at),
            "copy_id": self.copy_id,
            "error": self.error,
        }


def _submission(row: sqlite3.Row) -> Submission:
    return Submission(
        id=row["id"],
        mailbox=row["mailbox"],
        state=row["state"],
        message_id=row["message_id"],
        subject=row["subject"],
        save_copy=bool(row["save_copy"]),
        submitted_at=_moment(row["submitted_at"]) or wall_clock(),
        due_at=_moment(row["due_at"]) or wall_clock(),
        recipients=tuple(json.loads(row["recipients"])),
        transit_item_id=row["transit_item_id"],
        delivered_at=_moment(row["delivered_at"]),
        copy_id=row["copy_id"],
        error=row["error"],
    )


@dataclass
class _Settings:
    default: SubmissionSettings = field(default_factory=SubmissionSettings)
    mailboxes: dict[str, SubmissionSettings] = field(default_factory=dict)


class SubmissionQueue:
    """The store's transport: submissions in the store's database, delivered when due.

    It shares the store's SQLite connection and lock, and changes items only through the
    store's public methods inside :meth:`MailStore.atomic`.
    """

    def __init__(
        self, store: MailStore, db: sqlite3.Connection, lock: threading.RLock, clock: Clock
    ) -> None:
        self._store = store
        self._db = db
        self._lock = lock
        self.clock = clock
        self._settings = _Settings()
        self._rng = random.Random()  # noqa: S311  # jitter of a test double, not cryptography
        self._on_saved: dict[str, Callable[[Item], None]] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        with lock:
            db.executescript(_SCHEMA)

    # ------------------------------------------------------------ settings

    def configure(
        self,
        default: SubmissionSettings,
        mailboxes: Mapping[str, SubmissionSettings] | None = None,
    ) -> None:
        """Replace every setting: the default and the mailboxes that differ from it."""
        own = {k.lower(): v for k, v in (mailboxes or {}).items()}
        with self._lock:
            self._settings = _Settings(default, own)
        self._wake.set()

    def change(self, changes: Mapping[str, Any], mailbox: str | None = None) -> None:
        """Change some settings of one mailbox, or of every mailbox (and the default)."""
        with self._lock:
            current = self._settings
            if mailbox is not None:
                updated = self.settings(mailbox).changed(changes)
                self._settings = _Settings(
                    current.default, {**current.mailboxes, mailbox.lower(): updated}
                )
            else:
                self._settings = _Settings(
                    current.default.changed(changes),
                    {k: v.changed(changes) for k, v in current.mailboxes.items()},
                )

    def settings(self, mailbox: str) -> SubmissionSettings:
        with self._lock:
            return self._settings.mailboxes.get(mailbox.lower(), self._settings.default)

    @property
    def default(self) -> SubmissionSettings:
        with self._lock:
            return self._settings.default

    # ------------------------------------------------------------ submitting

    def submit(
        self,
        mailbox: str,
        draft: NewItem,
        save_copy: bool = True,
        copy_headers: CopyHeaders = "kept",
        on_saved: Callable[[Item], None] | None = None,
    ) -> Submission:
        """Put a message in submission (see :meth:`MailStore.submit`); delay 0 delivers it now."""
        store = self._store
        mailbox = mailbox.lower()
        sender = None
        if draft.mime is None:
            sender = draft.from_ or Address(mailbox, store.mailbox_name(mailbox))
        now = self.clock()
        mime = submitted_mime(mailbox, draft, sender, now)
        parsed = parse_mime(mime)
        recipients: list[str] = []
        for rcpt in draft.to + draft.cc + draft.bcc + parsed["to"] + parsed["cc"] + parsed["bcc"]:
            if rcpt.email.lower() not in recipients:
                recipients.append(rcpt.email.lower())
        settings = self.settings(mailbox)
        wait = settings.delay_ms + self._rng.randint(0, settings.jitter_ms)
        due = now + timedelta(milliseconds=wait)
        visible = wait > 0 and settings.in_transit != "hidden"
        folder = settings.in_transit if visible else "outbox"
        submission_id = uuid.uuid4().hex
        with store.atomic():
            message = store.compose(
                mailbox, folder, replace(draft, mime=mime, is_read=True, is_draft=True)
            )
            transit = (
                store.add_copy(in_transit_form(message, copy_headers), folder) if visible else None
            )
            self._db.execute(
                "INSERT INTO submissions (id, mailbox, state, submitted_at, due_at, save_copy,"
                " copy_headers, recipients, transit_item_id, message_id, subject, item_id,"
                " change_key, folder, mime, data) VALUES"
                " (?, ?, 'in_transit', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    submission_id,
                    mailbox,
                    _stamp(now),
                    _stamp(due),
                    int(save_copy),
                    copy_headers,
                    json.dumps(recipients),
                    transit.id if transit is not None else None,
                    message.message_id,
                    message.subject,
                    message.id,
                    message.change_key,
                    message.folder,
                    message.mime,
                    item_to_json(message),
                ),
            )
            if on_saved is not None:
                self._on_saved[submission_id] = on_saved
            # A reply or forward marks its original at submission, not at delivery.
            store.mark_responded(mailbox, draft, now)
        if wait == 0:
            self._deliver_now([submission_id])
        else:
            self._wake.set()
        return self.get(submission_id)

    # ------------------------------------------------------------ transport

    def run_due(self, now: datetime | None = None, everything: bool = False) -> list[Submission]:
        """Deliver every submission due at ``now`` (the clock's time), or all with ``everything``."""
        with self._lock:
            moment = now or self.clock()
            rows = self._db.execute(
                "SELECT id FROM submissions WHERE state = 'in_transit' AND (? OR due_at <= ?)"
                " ORDER BY due_at, rowid",
                (int(everything), _stamp(moment)),
            ).fetchall()
        return self._deliver_now([r["id"] for r in rows])

    def _deliver_now(self, ids: list[str]) -> list[Submission]:
        done: list[Submission] = []
        saved: list[tuple[Callable[[Item], None], Item]] = []
        for submission_id in ids:
            with self._lock:
                copy = self._deliver(submission_id)
                callback = self._on_saved.pop(submission_id, None)
                done.append(self.get(submission_id))
            if callback is not None and copy is not None:
                saved.append((callback, copy))
        # Outside the store's lock: a callback may take locks that wait on the store.
        for callback, copy in saved:
            callback(copy)
        return done

    def _deliver(self, submission_id: str) -> Item | None:
        """Transport takes one submission: transit item out, Sent Items copy in, recipients served."""
        store = self._store
        row = self._db.execute(
            "SELECT item_id AS id, change_key, mailbox, folder, mime, data, save_copy,"
            " copy_headers, recipients, transit_item_id FROM submissions"
            " WHERE id = ? AND state = 'in_transit'",
            (submission_id,),
        ).fetchone()
        if row is None:
            return None  # delivered meanwhile by another thread
        message = item_from_row(row)
        now = self.clock().replace(microsecond=0)  # item times are whole seconds, as Exchange's
        copy: Item | None = None
        try:
            with store.atomic():
                if row["save_copy"]:
                    copy = store.add_copy(sent_copy(message, row["copy_headers"], now), "sentitems")
                if row["transit_item_id"]:
                    # Gone when a client deleted it meanwhile: transport already has the message.
                    with contextlib.suppress(ItemNotFound):
                        store.delete(row["transit_item_id"])
                for address in json.loads(row["recipients"]):
                    if store.has_mailbox(address):
                        delivered = store.create(address, "inbox", recipient_copy(message, now))
                        store.on_delivered(delivered)
                self._finish(submission_id, "delivered", now, copy.id if copy else None, "")
        except Exception as exc:  # one bad submission must not stop transport for the others
            self._finish(submission_id, "failed", now, None, f"{type(exc).__name__}: {exc}")
            return None
        return copy

    def _finish(
        self, submission_id: str, state: State, now: datetime, copy_id: str | None, error: str
    ) -> None:
        # The message itself is no longer needed once transport is done with it.
        self._db.execute(
            "UPDATE submissions SET state = ?, delivered_at = ?, copy_id = ?, error = ?,"
            " mime = NULL, data = NULL WHERE id = ?",
            (state, _stamp(now), copy_id, error, submission_id),
        )

    # ------------------------------------------------------------ looking

    def get(self, submission_id: str) -> Submission:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM submissions WHERE id = ?", (submission_id,)
            ).fetchone()
        if row is None:
            raise KeyError(submission_id)
        return _submission(row)

    def in_transit(self, mailbox: str | None = None) -> list[Submission]:
        """Submissions not delivered yet, by ``mailbox`` or by any, the first due first."""
        sql = "SELECT * FROM submissions WHERE state = 'in_transit'"
        args: tuple[str, ...] = ()
        if mailbox is not None:
            sql += " AND mailbox = ?"
            args = (mailbox.lower(),)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY due_at, rowid", args).fetchall()
        return [_submission(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """How many submissions are in transit, delivered and failed."""
        with self._lock:
            rows = self._db.execute(
                "SELECT state, COUNT(*) AS n FROM submissions GROUP BY state"
            ).fetchall()
        found = {r["state"]: int(r["n"]) for r in rows}
        return {s: found.get(s, 0) for s in ("in_transit", "delivered", "failed")}

    def _next_due(self) -> datetime | None:
        with self._lock:
            row = self._db.execute(
                "SELECT MIN(due_at) AS d FROM submissions WHERE state = 'in_transit'"
            ).fetchone()
        return _moment(row["d"])

    # ------------------------------------------------------------ the worker

    def start(self) -> None:
        """Run a worker thread that delivers submissions when they are due (a running server)."""
        if self._worker is not None and self._worker.is_alive():
            return
        self._stop.clear()
        self._worker = threading.Thread(target=self._work, name="sandbox-transport", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._worker is not None:
            self._worker.join(timeout=5)
            self._worker = None

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_due()
                due = self._next_due()
            except sqlite3.ProgrammingError:
                return  # the store was closed under us
            nap = None if due is None else (due - self.clock()).total_seconds()
            self._wake.wait(None if nap is None else min(max(nap, 0.0), _MAX_NAP))
            self._wake.clear()
