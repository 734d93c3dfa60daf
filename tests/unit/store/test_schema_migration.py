"""A version-1 state file is brought to version 2 in place when it is opened."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from topcontact_mail.adapters.sqlite_store import SCHEMA_VERSION, SqliteStore, StoreError

AMS = ZoneInfo("Europe/Amsterdam")

#: The version-1 schema as it shipped (messages, watermarks, meta).
VERSION_1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE messages (
    item_id TEXT PRIMARY KEY, internet_message_id TEXT, conversation_id TEXT, sender TEXT,
    received TEXT NOT NULL, reception_day TEXT NOT NULL, answer_by TEXT NOT NULL,
    acknowledge INTEGER NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL,
    needs_answer INTEGER NOT NULL, ack_state TEXT NOT NULL DEFAULT 'none', ack_ref TEXT UNIQUE,
    ack_message_id TEXT, ack_sent_at TEXT, marked INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0, mark_attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT, last_error TEXT NOT NULL DEFAULT '', outbox TEXT,
    recorded_at TEXT NOT NULL
);
CREATE TABLE watermarks (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL);
INSERT INTO meta VALUES ('schema', '1');
"""


def version_1_file(path: Path) -> None:
    db = sqlite3.connect(path)
    db.executescript(VERSION_1)
    rows = [
        # (item, conversation, reason, needs_answer, ack_state)
        ("item-1", "conv-1", "person", 1, "sent"),
        ("item-2", "conv-1", "conversation_already_acknowledged", 1, "none"),
        ("item-3", "conv-3", "auto_submitted", 0, "none"),
    ]
    for item, conversation, reason, needs_answer, state in rows:
        db.execute(
            "INSERT INTO messages (item_id, internet_message_id, conversation_id, sender, received,"
            " reception_day, answer_by, acknowledge, reason, detail, needs_answer, ack_state,"
            " ack_sent_at, marked, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                item,
                f"<{item}@example.nl>",
                conversation,
                "huurder@example.nl",
                "2026-11-27T10:00:00+01:00",
                "2026-11-27",
                "2026-12-04T17:00:00+01:00",
                int(reason == "person"),
                reason,
                "",
                needs_answer,
                state,
                "2026-11-27T10:01:00+01:00" if state == "sent" else None,
                1,
                "2026-11-27T10:00:05+01:00",
            ),
        )
    db.execute("INSERT INTO watermarks VALUES ('inbox', 'sync-7', '2026-11-27T10:00:05+01:00')")
    db.commit()
    db.close()


def test_a_version_1_file_is_migrated_in_place_keeping_everything(tmp_path: Path) -> None:
    path = tmp_path / "topcontact.sqlite3"
    version_1_file(path)

    store = SqliteStore(path)

    assert store.schema_version() == SCHEMA_VERSION == 2
    assert [r.item_id for r in store.records()] == ["item-1", "item-2", "item-3"]
    assert store.watermark("inbox") == "sync-7"
    # Every message that needs an answer has its own target, with its own term.
    targets = store.targets()
    assert [(t.item_id, t.joined_to, t.answered_at) for t in targets] == [
        ("item-1", None, None),
        ("item-2", None, None),
    ]
    assert targets[0].answer_by == datetime(2026, 12, 4, 17, 0, tzinfo=AMS)
    assert targets[0].reception_day == date(2026, 11, 27)
    assert store.records_without_target(10) == []
    (first, _) = store.to_observe()
    assert first.acknowledgement_sent_at == datetime(2026, 11, 27, 10, 1, tzinfo=AMS)
    assert store.last_overview_day() is None
    store.close()


def test_migrating_twice_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "topcontact.sqlite3"
    version_1_file(path)
    SqliteStore(path).close()
    store = SqliteStore(path)

    assert store.schema_version() == 2
    assert len(store.targets()) == 2
    store.close()


def test_a_new_file_starts_at_the_current_version(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "new.sqlite3")
    assert store.schema_version() == SCHEMA_VERSION
    assert store.targets() == []
    store.close()


def test_a_file_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "topcontact.sqlite3"
    version_1_file(path)
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '3' WHERE key = 'schema'")
    db.commit()
    db.close()

    with pytest.raises(StoreError, match="schema 3, this version knows 2"):
        SqliteStore(path)


def test_a_version_1_file_can_still_be_read_without_migrating(tmp_path: Path) -> None:
    path = tmp_path / "topcontact.sqlite3"
    version_1_file(path)
    path.chmod(0o400)  # explain opens the state read-only

    store = SqliteStore.read_only(path)

    assert store.get("item-1") is not None
    store.close()
