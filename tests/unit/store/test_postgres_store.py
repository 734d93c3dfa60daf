"""What the PostgreSQL store adds to the contract: migrations (a version-2 database gets the
callbacks' tables in place), several mailboxes in one database, instances opening it together,
and text PostgreSQL cannot keep as it is."""

from __future__ import annotations

import threading
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from topcontact_mail.adapters.postgres import (
    SCHEMA_VERSION,
    PostgresStore,
    PostgresStoreError,
    schema,
)
from topcontact_mail.domain.message import Address, IncomingMessage
from topcontact_mail.ports import MessageRecord
from topcontact_mail.ports.calendar import CallbackRecord

pytestmark = pytest.mark.integration

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=AMS)


def skip(n: int, **extra: Any) -> MessageRecord:
    values: dict[str, Any] = {
        "item_id": f"item-{n}",
        "internet_message_id": f"<m{n}@example.nl>",
        "conversation_id": None,
        "sender": "huurder@example.nl",
        "received": NOW,
        "reception_day": date(2026, 11, 27),
        "answer_by": datetime(2026, 12, 4, 17, 0, tzinfo=AMS),
        "acknowledge": False,
        "reason": "auto_submitted",
        "detail": "",
        "needs_answer": False,
    }
    values.update(extra)
    return MessageRecord(**values)


def test_a_new_database_gets_the_current_schema_once(pg_pool: Any, pg_schema: str) -> None:
    first = PostgresStore(pg_pool, "a@woonservice.example", schema=pg_schema)
    again = PostgresStore(pg_pool, "b@woonservice.example", schema=pg_schema)
    assert first.schema_version() == again.schema_version() == SCHEMA_VERSION


def test_instances_opening_a_new_database_together_migrate_it_once(
    pg_pool: Any, pg_schema: str
) -> None:
    errors: list[BaseException] = []

    def open_one(n: int) -> None:
        try:
            PostgresStore(pg_pool, f"box{n}@woonservice.example", schema=pg_schema)
        except BaseException as exc:  # collected: the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=open_one, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_a_database_of_a_newer_version_is_refused(pg_pool: Any, pg_schema: str) -> None:
    PostgresStore(pg_pool, "a@woonservice.example", schema=pg_schema)
    with pg_pool.connection() as conn:
        conn.execute("UPDATE meta SET value = %s WHERE key = 'schema'", (str(SCHEMA_VERSION + 1),))

    with pytest.raises(PostgresStoreError, match=f"version {SCHEMA_VERSION + 1}"):
        PostgresStore(pg_pool, "a@woonservice.example", schema=pg_schema)


def test_a_nul_character_in_a_header_is_kept_as_a_replacement_not_a_crash(
    pg_pool: Any, pg_schema: str
) -> None:
    store = PostgresStore(pg_pool, "a@woonservice.example", schema=pg_schema)
    store.record(skip(1, internet_message_id="<evil\x00@example.nl>", detail="x\x00y"), NOW)

    kept = store.get("item-1")
    assert kept is not None
    assert kept.detail == "x\ufffdy"
    found = store.history(
        IncomingMessage(sender=Address("a@b.nl"), message_id="<evil\x00@example.nl>"),
        NOW,
        NOW,
        hour_cap=10,
    )
    assert found.earlier_reason == "auto_submitted"


def test_moments_come_back_as_the_same_instants_in_the_configured_zone(
    pg_pool: Any, pg_schema: str
) -> None:
    store = PostgresStore(pg_pool, "a@woonservice.example", schema=pg_schema)
    utc = datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("UTC"))
    store.record(skip(1, received=utc), NOW)

    kept = store.get("item-1")
    assert kept is not None
    assert kept.received == utc
    assert kept.received.utcoffset() == NOW.utcoffset()  # the pool's zone: Europe/Amsterdam
    assert kept.answer_by.hour == 17


# -- callbacks (schema version 3) ------------------------------------------------------------


def booking(item_id: str, **extra: Any) -> CallbackRecord:
    values: dict[str, Any] = {
        "id": "cb-1",
        "source": "mail",
        "booked_by": "a.bakker@woonservice.example",
        "booked_at": NOW,
        "state": "planned",
        "callback_by": datetime(2026, 11, 30, 17, 0, tzinfo=AMS),
        "booking_item_id": item_id,
        "details": {"tenant_name": "mevr. Jansen"},
    }
    values.update(extra)
    return CallbackRecord(**values)


def test_a_version_2_database_gets_the_callback_tables_in_place(
    pg_pool: Any, pg_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The database as the release before callbacks left it: version 2, with its rows.
    with monkeypatch.context() as before:
        before.setattr(schema, "SCHEMA_VERSION", 2)
        before.setattr(schema, "MIGRATIONS", {2: schema.MIGRATIONS[2]})
        old = PostgresStore(pg_pool, "a@woonservice.example", schema=pg_schema)
        assert old.schema_version() == 2
        old.record(skip(1), NOW)
        old.set_watermark("inbox", "state-1", NOW)
        with pytest.raises(psycopg.errors.UndefinedTable):
            old.callbacks()

    store = PostgresStore(pg_pool, "a@woonservice.example", schema=pg_schema)

    assert store.schema_version() == SCHEMA_VERSION == 3
    assert store.get("item-1") == skip(1)
    assert store.watermark("inbox") == "state-1"
    store.record_callback(booking("item-1"), NOW)
    assert store.callback_for_item("item-1") == booking("item-1")
    assert PostgresStore(pg_pool, "a@woonservice.example", schema=pg_schema).schema_version() == 3


def test_a_nul_character_in_a_booking_is_kept_as_a_replacement_not_a_crash(
    pg_pool: Any, pg_schema: str
) -> None:
    store = PostgresStore(pg_pool, "a@woonservice.example", schema=pg_schema)
    store.record_callback(
        booking("item\x00-1", booked_by="anouk\x00@woonservice.example", problems=("x\x00",)),
        NOW,
    )

    kept = store.callback_for_item("item\x00-1")
    assert kept is not None
    assert (kept.booking_item_id, kept.booked_by, kept.problems) == (
        "item\ufffd-1",
        "anouk\ufffd@woonservice.example",
        ("x\ufffd",),
    )
    assert store.get_callback("cb-1") == kept
