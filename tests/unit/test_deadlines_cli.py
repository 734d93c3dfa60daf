"""`topcontact-mail deadlines`: the admin's "when is this due?" tool."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from topcontact_mail.entrypoints.cli import cli


@pytest.fixture(autouse=True)
def _no_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOPCONTACT_CONFIG", raising=False)


def test_prints_one_json_line_per_timestamp_with_local_offsets() -> None:
    result = CliRunner().invoke(cli, ["deadlines", "2026-11-27T10:00", "2026-11-27T18:00"])
    assert result.exit_code == 0
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first == {
        "received": "2026-11-27T10:00:00+01:00",
        "reception_day": "2026-11-27",
        "acknowledge_by": "2026-11-30T17:00:00+01:00",
        "answer_by": "2026-12-04T17:00:00+01:00",
        "callback_by": "2026-11-30T17:00:00+01:00",
    }
    assert second["reception_day"] == "2026-11-30"
    assert second["answer_by"] == "2026-12-07T17:00:00+01:00"


def test_reads_standard_input_and_converts_utc_to_local_time() -> None:
    result = CliRunner().invoke(
        cli, ["deadlines", "-"], input="2026-11-27T16:30:00Z\n\n2026-11-27T15:59:00Z\n"
    )
    assert result.exit_code == 0
    late, early = (json.loads(line) for line in result.stdout.splitlines())
    assert late["received"] == "2026-11-27T17:30:00+01:00"
    assert late["reception_day"] == "2026-11-30"
    assert early["reception_day"] == "2026-11-27"


def test_a_malformed_timestamp_is_reported_after_the_valid_lines_with_status_2() -> None:
    result = CliRunner().invoke(
        cli, ["deadlines", "2026-11-27T10:00", "27-11-2026 10u", "2026-11-27T18:00"]
    )
    assert result.exit_code == 2
    assert len(result.stdout.splitlines()) == 2
    assert "'27-11-2026 10u' is not an ISO 8601 timestamp" in result.stderr
    assert "Traceback" not in result.stderr


def test_human_output_is_a_dutch_table() -> None:
    result = CliRunner().invoke(
        cli, ["deadlines", "--human", "2026-11-27T10:00"], terminal_width=200
    )
    assert result.exit_code == 0
    assert "vrijdag 4 december 2026 17:00" in result.stdout
    assert "Antwoord vóór" in result.stdout


def test_a_config_file_changes_the_terms(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "topcontact.toml").write_text(
        "[calendar]\nclosed_ranges = [{first = 2026-11-30, last = 2026-12-01}]\n", encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["deadlines", "2026-11-27T10:00"])
    assert json.loads(result.stdout)["acknowledge_by"] == "2026-12-02T17:00:00+01:00"
