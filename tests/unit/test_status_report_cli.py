"""`status` and `report` on the command line: exit statuses, help with examples, clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from topcontact_mail.adapters.sqlite_store import SqliteStore
from topcontact_mail.entrypoints.cli import cli

from .tracking.support import target


def config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "topcontact.toml"
    path.write_text(f'[service]\nstate_dir = "{tmp_path / "state"}"\n{extra}', encoding="utf-8")
    return path


def with_targets(tmp_path: Path, *targets: object) -> Path:
    store = SqliteStore(tmp_path / "state" / "topcontact.sqlite3")
    store.add_targets(list(targets), target().received)  # type: ignore[arg-type]
    store.close()
    return config(tmp_path)


@pytest.mark.parametrize("command", ["status", "report"])
def test_help_shows_an_example(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])

    assert result.exit_code == 0
    assert "Examples:" in result.output
    assert f"topcontact-mail {command}" in result.output


def test_nothing_late_is_exit_status_0(tmp_path: Path) -> None:
    path = with_targets(tmp_path, target("m1", "vr 27 nov 2026 10:00"))

    result = CliRunner().invoke(
        cli, ["status", "--json", "--config", str(path), "--as-of", "2026-11-30T09:00"]
    )

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["schema"] == "topcontact-mail/status/1"
    assert data["counts"]["on_time"] == 1
    assert data["open"][0]["answer_by"] == "2026-12-04T17:00:00+01:00"


def test_an_overdue_message_is_exit_status_1(tmp_path: Path) -> None:
    path = with_targets(tmp_path, target("m1", "vr 27 nov 2026 10:00"))

    result = CliRunner().invoke(
        cli, ["status", "--config", str(path), "--as-of", "2026-12-07T09:00"]
    )

    assert result.exit_code == 1
    assert "1 te laat" in result.output


def test_without_a_state_file_it_says_what_to_check(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["status", "--config", str(config(tmp_path))])

    assert result.exit_code == 2
    assert "no state file" in result.output
    assert "service.state_dir" in result.output


def test_a_bad_month_or_moment_is_refused_with_status_2(tmp_path: Path) -> None:
    path = with_targets(tmp_path, target())
    runner = CliRunner()

    bad_month = runner.invoke(cli, ["report", "--month", "12-2026", "--config", str(path)])
    bad_moment = runner.invoke(cli, ["status", "--as-of", "gisteren", "--config", str(path)])

    assert bad_month.exit_code == 2
    assert "YYYY-MM" in bad_month.output
    assert bad_moment.exit_code == 2
    assert "ISO 8601" in bad_moment.output


def test_the_report_never_holds_addresses_unless_asked_for(tmp_path: Path) -> None:
    path = with_targets(tmp_path, target("m1", "vr 27 nov 2026 10:00", sender="jan@example.org"))

    result = CliRunner().invoke(
        cli,
        [
            "report",
            "--month",
            "2026-11",
            "--format",
            "json",
            "--config",
            str(path),
            "--as-of",
            "2026-12-10T09:00",
        ],
    )

    assert result.exit_code == 0
    assert "jan@example.org" not in result.output
    assert json.loads(result.output)["totals"]["overdue_open"] == 1


def test_an_identified_report_without_a_mailbox_is_written_without_subjects(
    tmp_path: Path,
) -> None:
    with_targets(tmp_path, target("m1", "vr 27 nov 2026 10:00", sender="jan@example.org"))
    path = config(tmp_path, '[tracking]\nreport_privacy = "identified"\n')

    result = CliRunner().invoke(
        cli,
        [
            "report",
            "--month",
            "2026-11",
            "--format",
            "json",
            "--config",
            str(path),
            "--as-of",
            "2026-12-10T09:00",
        ],
    )

    assert result.exit_code == 1  # written, but the subjects could not be read
    data = json.loads(result.stdout)
    assert data["messages"][0]["sender"] == "jan@example.org"
    assert data["messages"][0]["subject"] is None
