"""`topcontact-mail purge` with the state in PostgreSQL: a dry run reads without the lease, a purge
writes under the mailbox's lease (fenced), and is refused while another instance holds it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.pg_server import PostgresServer
from topcontact_mail.adapters.postgres import Leases, PostgresStore
from topcontact_mail.entrypoints.cli import cli
from topcontact_mail.ports import MessageRecord

pytestmark = pytest.mark.integration

SHARED = "klantcontact@woonservice.example"


def old(n: int, days_ago: int) -> MessageRecord:
    moment = datetime.now().astimezone() - timedelta(days=days_ago)
    return MessageRecord(
        item_id=f"item-{n}",
        internet_message_id=f"<m{n}@example.nl>",
        conversation_id=f"conv-{n}",
        sender=f"huurder{n}@example.nl",
        received=moment,
        reception_day=moment.date(),
        answer_by=moment + timedelta(days=7),
        acknowledge=False,
        reason="bounce",
        detail="",
        needs_answer=False,
        marked=True,
    )


@pytest.fixture
def config(tmp_path: Path, postgres_server: PostgresServer, pg_schema: str, pg_pool: Any) -> Path:
    store = PostgresStore(pg_pool, SHARED, schema=pg_schema)
    for n, days_ago in ((1, 120), (2, 10)):
        rec = old(n, days_ago)
        store.record(rec, rec.received)
    path = tmp_path / "topcontact.toml"
    path.write_text(
        f'[connection]\nshared_mailbox = "{SHARED}"\n'
        f'[service]\nstore = "postgresql"\nstate_dir = "{tmp_path}"\n'
        + postgres_server.toml(pg_schema)
        + '[scale_out]\ninstance_id = "purger"\nlease_seconds = 3\nrenew_seconds = 1\n',
        encoding="utf-8",
    )
    return path


def test_a_dry_run_reads_and_a_purge_writes_under_the_lease(config: Path, pg_pool: Any) -> None:
    runner = CliRunner()

    dry = runner.invoke(cli, ["purge", "--dry-run", "--json", "--config", str(config)])
    done = runner.invoke(cli, ["purge", "--json", "--config", str(config)])

    assert dry.exit_code == 0, dry.output
    assert done.exit_code == 0, done.output
    assert json.loads(dry.stdout)["kinds"]["messages"] == {"details": 1, "deleted": 0}
    assert json.loads(done.stdout)["kinds"] == json.loads(dry.stdout)["kinds"]
    with pg_pool.connection() as conn:
        rows = conn.execute("SELECT item_id, sender FROM messages ORDER BY item_id").fetchall()
        lease = conn.execute("SELECT owner FROM leases WHERE mailbox = %s", (SHARED,)).fetchone()
    assert [(r["item_id"], r["sender"]) for r in rows] == [
        ("item-1", None),
        ("item-2", "huurder2@example.nl"),
    ]
    assert lease["owner"] == "purger"


def test_a_purge_is_refused_while_another_instance_works_the_mailbox(
    config: Path, pg_pool: Any
) -> None:
    other = Leases(pg_pool, "running-daemon", lease_seconds=60, renew_seconds=10)
    assert other.acquire(SHARED) is not None

    result = CliRunner().invoke(cli, ["purge", "--config", str(config)])

    assert result.exit_code == 2
    assert "running-daemon" in result.stderr
    with pg_pool.connection() as conn:
        (row,) = conn.execute("SELECT sender FROM messages WHERE item_id = 'item-1'").fetchall()
    assert row["sender"] == "huurder1@example.nl"
