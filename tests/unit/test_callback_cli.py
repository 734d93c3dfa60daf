"""`topcontact-mail callback list|form|book`: what needs no server, and a clear stop when it does."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from topcontact_mail.adapters.sqlite_store import SqliteStore
from topcontact_mail.entrypoints.cli import cli
from topcontact_mail.ports.calendar import CallbackRecord, MeetingRecord

AMS = ZoneInfo("Europe/Amsterdam")
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=AMS)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOPCONTACT_CONFIG", raising=False)
    path = tmp_path / "topcontact.toml"
    path.write_text('[service]\nstate_dir = "state"\n', encoding="utf-8")
    return path


def record(config: Path, state: str, tenant: str) -> str:
    store = SqliteStore(config.parent / "state" / "topcontact.sqlite3")
    callback = CallbackRecord(
        id=f"cb-{tenant[:8]}",
        source="mail",
        booked_by="a.bakker@woonservice.example",
        booked_at=MONDAY,
        state=state,  # type: ignore[arg-type]
        callback_by=MONDAY + timedelta(days=1, hours=7),
        details={"tenant_name": tenant},
    )
    meeting = MeetingRecord(
        ref=f"ref-{tenant}",
        callback_id=callback.id,
        colleague="j.devries@woonservice.example",
        colleague_name="Jan de Vries",
        slot_start=MONDAY + timedelta(minutes=15),
        slot_end=MONDAY + timedelta(minutes=30),
        at_risk=False,
        state="intent",
    )
    store.record_callback(callback, MONDAY, meeting)
    store.close()
    return callback.id


def test_list_shows_the_open_callbacks_and_all_with_all(config: Path) -> None:
    planned = record(config, "planned", "Jansen")
    record(config, "done", "Bos")

    open_only = CliRunner().invoke(cli, ["callback", "list", "--config", str(config)])
    everything = CliRunner().invoke(
        cli, ["callback", "list", "--all", "--json", "--config", str(config)]
    )

    assert open_only.exit_code == 0
    assert planned in open_only.stdout
    assert "ingepland" in open_only.stdout
    assert "ma 30 nov 2026 10:15" in open_only.stdout
    assert "Bos" not in open_only.stdout
    rows = [json.loads(line) for line in everything.stdout.splitlines()]
    assert sorted(r["tenant"] for r in rows) == ["Bos", "Jansen"]
    assert {r["in_calendar"] for r in rows} == {False}


def test_list_says_so_when_there_are_none(config: Path) -> None:
    result = CliRunner().invoke(cli, ["callback", "list", "--config", str(config)])

    assert result.exit_code == 0
    assert result.stdout == "Geen terugbelverzoeken.\n"


def test_form_prints_the_quick_part(config: Path) -> None:
    result = CliRunner().invoke(cli, ["callback", "form", "--config", str(config)])

    assert result.exit_code == 0
    assert result.stdout == ("Voor: \nNaam: \nTelefoon: \nOnderwerp: \nNotities: \nVoorkeur: \n")


def test_book_without_a_backend_section_stops_with_status_2(config: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "callback", "book", "--for", "Jan", "--name", "Jansen", "--phone", "0612345678",
            "--subject", "x", "--config", str(config),
        ],
    )  # fmt: skip

    assert result.exit_code == 2
    assert "no [connection.ews] section" in result.stderr
