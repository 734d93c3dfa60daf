"""The PostgreSQL schema of the state store, its versions and the migration that applies them.

The tables hold the same facts as the SQLite file (`adapters/sqlite_store.py`),
with a `mailbox` column in each, so that several shared mailboxes (and the
instances that work them) share one database: a mailbox's rows are its own
state file. Beside them, the leases (which instance works which mailbox, with
a fencing token) and the instances that are alive (docs/scale-out.md).

Versions: 2 is the SQLite file's version 2 (decisions, intents, watermarks,
answer targets, team mails) and the leases; 3 adds the callbacks' tables (the
SQLite file creates them when missing, without a version of their own): the
callback requests, the meetings and replies sent for them, the meeting
messages looked at. A database is brought up to date when a store opens it,
in one transaction (a savepoint per version), under an advisory lock so that
instances starting together do not race: a version-2 database gets the new
tables in place, its rows untouched. A database of a newer version is refused.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

SCHEMA_VERSION = 3

#: A fixed key for the advisory lock the migration holds (any number no one else uses).
MIGRATION_LOCK = 0x70C0_4D41_1C01

#: Version → the statements that bring the previous version to it.
MIGRATIONS: dict[int, str] = {
    2: """
CREATE TABLE messages (
    mailbox TEXT NOT NULL,
    item_id TEXT NOT NULL,
    -- The order of recording: breaks ties between messages received at the same moment.
    seq BIGSERIAL NOT NULL,
    internet_message_id TEXT,
    conversation_id TEXT,
    sender TEXT,
    received TIMESTAMPTZ NOT NULL,
    reception_day DATE NOT NULL,
    answer_by TIMESTAMPTZ NOT NULL,
    acknowledge BOOLEAN NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    needs_answer BOOLEAN NOT NULL,
    ack_state TEXT NOT NULL DEFAULT 'none'
        CHECK (ack_state IN ('none', 'intent', 'sent', 'dry_run', 'failed')),
    ack_ref TEXT,
    ack_message_id TEXT,
    ack_sent_at TIMESTAMPTZ,
    marked SMALLINT NOT NULL DEFAULT 0 CHECK (marked IN (-1, 0, 1)),
    attempts INTEGER NOT NULL DEFAULT 0,
    mark_attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TIMESTAMPTZ,
    last_error TEXT NOT NULL DEFAULT '',
    outbox TEXT,
    recorded_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (mailbox, item_id),
    UNIQUE (mailbox, ack_ref)
);
CREATE INDEX messages_internet_id ON messages (mailbox, internet_message_id);
CREATE INDEX messages_ack_message_id ON messages (mailbox, ack_message_id);
CREATE INDEX messages_conversation ON messages (mailbox, conversation_id, ack_state);
CREATE INDEX messages_sender ON messages (mailbox, sender, recorded_at);
CREATE INDEX messages_ack_state ON messages (mailbox, ack_state, received);
CREATE INDEX messages_recorded ON messages (mailbox, recorded_at);

CREATE TABLE watermarks (
    mailbox TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (mailbox, name)
);

-- `record_id` is the message's row in `messages` (its first item id); `item_id` follows the
-- message when EWS moves it.
CREATE TABLE targets (
    mailbox TEXT NOT NULL,
    item_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    received TIMESTAMPTZ NOT NULL,
    reception_day DATE NOT NULL,
    answer_by TIMESTAMPTZ NOT NULL,
    conversation_id TEXT,
    sender TEXT,
    joined_to TEXT,
    answered_at TIMESTAMPTZ,
    answered_how TEXT,
    category TEXT NOT NULL DEFAULT 'none'
        CHECK (category IN ('none', 'warning', 'overdue', 'cleared')),
    warned_at TIMESTAMPTZ,
    last_escalated_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (mailbox, item_id)
);
CREATE INDEX targets_open ON targets (mailbox, answered_at, received);
CREATE INDEX targets_conversation ON targets (mailbox, conversation_id);
CREATE INDEX targets_record ON targets (mailbox, record_id);

CREATE TABLE notices (
    mailbox TEXT NOT NULL,
    ref TEXT NOT NULL,
    kind TEXT NOT NULL,
    day DATE NOT NULL,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT,
    state TEXT NOT NULL DEFAULT 'intent',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TIMESTAMPTZ,
    sent_at TIMESTAMPTZ,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (mailbox, ref)
);
CREATE INDEX notices_kind_day ON notices (mailbox, kind, day);
CREATE INDEX notices_state ON notices (mailbox, state, created_at);

-- Which instance works which mailbox. `token` is the fencing token: it grows with every
-- change of hands (one sequence for all mailboxes, so a number is never given twice), and
-- every state write checks it. Rows are never deleted: a released lease simply expires.
CREATE SEQUENCE lease_tokens;
CREATE TABLE leases (
    mailbox TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    token BIGINT NOT NULL,
    acquired_at TIMESTAMPTZ NOT NULL,
    renewed_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

-- The instances that are alive, so each can take its share of the mailboxes.
CREATE TABLE instances (
    id TEXT PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL,
    seen_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
""",
    # Callbacks (docs/callbacks.md), as the SQLite file's `_CALLBACK_SCHEMA` with a mailbox.
    3: """
CREATE TABLE callbacks (
    mailbox TEXT NOT NULL,
    id TEXT NOT NULL,
    -- The order of recording: breaks ties between callbacks booked at the same moment.
    seq BIGSERIAL NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('mail', 'cli')),
    booked_by TEXT NOT NULL,
    booked_at TIMESTAMPTZ NOT NULL,
    state TEXT NOT NULL,
    callback_by TIMESTAMPTZ,
    booking_item_id TEXT,
    booking_mailbox TEXT,
    booking_message_id TEXT,
    problems TEXT NOT NULL DEFAULT '',
    -- JSON as text (what the meeting needs; kept only while the callback is open).
    details TEXT NOT NULL DEFAULT '{}',
    -- The claim on the booking mail: 1 done (or no mail), 0 not yet, -1 given up.
    claimed SMALLINT NOT NULL DEFAULT 1 CHECK (claimed IN (-1, 0, 1)),
    rebookings INTEGER NOT NULL DEFAULT 0,
    claim_attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMPTZ NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (mailbox, id),
    UNIQUE (mailbox, booking_item_id)
);
CREATE INDEX callbacks_state ON callbacks (mailbox, state, booked_at);
CREATE INDEX callbacks_unclaimed ON callbacks (mailbox, booked_at) WHERE claimed = 0;

-- The meeting requests and the replies to the booker, each with its ref (exactly once).
CREATE TABLE callback_sends (
    mailbox TEXT NOT NULL,
    ref TEXT NOT NULL,
    seq BIGSERIAL NOT NULL,
    callback_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('meeting', 'reply')),
    state TEXT NOT NULL
        CHECK (state IN ('intent', 'sent', 'failed', 'superseded', 'dropped')),
    payload TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TIMESTAMPTZ,
    last_error TEXT NOT NULL DEFAULT '',
    colleague TEXT,
    colleague_name TEXT,
    slot_start TIMESTAMPTZ,
    slot_end TIMESTAMPTZ,
    at_risk BOOLEAN NOT NULL DEFAULT false,
    item_id TEXT,
    uid TEXT,
    why TEXT NOT NULL DEFAULT '',
    cancel TEXT NOT NULL DEFAULT '' CHECK (cancel IN ('', 'pending', 'done')),
    message_id TEXT,
    original_item_id TEXT,
    waits_for TEXT,
    reply_kind TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    sent_at TIMESTAMPTZ,
    PRIMARY KEY (mailbox, ref),
    FOREIGN KEY (mailbox, callback_id) REFERENCES callbacks (mailbox, id)
);
CREATE INDEX callback_sends_callback ON callback_sends (mailbox, callback_id, kind);
CREATE INDEX callback_sends_state ON callback_sends (mailbox, kind, state, created_at);
CREATE INDEX callback_sends_waits_for ON callback_sends (mailbox, waits_for);
CREATE INDEX callback_sends_cancel ON callback_sends (mailbox) WHERE cancel = 'pending';

-- The meeting messages (responses, cancellations) already looked at.
CREATE TABLE callback_seen (
    mailbox TEXT NOT NULL,
    item_id TEXT NOT NULL,
    seen_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (mailbox, item_id)
);
""",
}


class SchemaError(Exception):
    """The database cannot be used: a newer version, or the migration failed."""


def migrate(conn: psycopg.Connection[Any], schema: str) -> int:
    """Bring `schema` to `SCHEMA_VERSION` in one transaction (a savepoint per version);
    returns the version.

    `conn` is in autocommit mode with `schema` first on its search path.
    """
    with conn.transaction(), conn.cursor(row_factory=tuple_row) as cursor:
        # Instances that start together wait here for the first to finish.
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            ).format(sql.Identifier(schema))
        )
        row = cursor.execute(
            sql.SQL("SELECT value FROM {}.meta WHERE key = 'schema'").format(sql.Identifier(schema))
        ).fetchone()
        version = int(row[0]) if row is not None else 0
        if version > SCHEMA_VERSION:
            raise SchemaError(
                f"the database schema {schema!r} has version {version}, "
                f"this version of topcontact-mail knows {SCHEMA_VERSION}"
            )
        for target in sorted(v for v in MIGRATIONS if v > version):
            with conn.transaction():  # a savepoint: a version is all or nothing
                conn.execute(sql.SQL(MIGRATIONS[target]))
                conn.execute(
                    sql.SQL(
                        "INSERT INTO {}.meta VALUES ('schema', %s) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                    ).format(sql.Identifier(schema)),
                    (str(target),),
                )
            version = target
    return version
