"""`topcontact-mail preview`: the administrator's check of a template edit."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from topcontact_mail.entrypoints.cli import cli


@pytest.fixture(autouse=True)
def _with_own_templates_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "templates").mkdir()
    config = tmp_path / "topcontact.toml"
    config.write_text('[acknowledgement]\ntemplates_dir = "templates"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOPCONTACT_CONFIG", str(config))


def test_shows_the_dutch_text_with_the_answer_date() -> None:
    result = CliRunner().invoke(cli, ["preview", "--received", "2026-11-27T10:00"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Subject: Ontvangstbevestiging: ")
    assert "Beste Fatima El Amrani," in result.stdout
    assert "U krijgt uiterlijk vrijdag 4 december 2026 een antwoord." in result.stdout


def test_shows_the_english_html() -> None:
    result = CliRunner().invoke(
        cli, ["preview", "--lang", "en", "--html", "--received", "2026-11-27T18:00"]
    )
    assert result.exit_code == 0, result.output
    assert '<html lang="en">' in result.stdout
    assert "Monday 7 December 2026" in result.stdout


def test_neutral_greeting_on_request() -> None:
    result = CliRunner().invoke(cli, ["preview", "--no-name", "--received", "2026-11-27T10:00"])
    assert "Goedendag," in result.stdout


def test_unknown_language_says_which_one_is_shown() -> None:
    result = CliRunner().invoke(cli, ["preview", "--lang", "de", "--received", "2026-11-27T10:00"])
    assert result.exit_code == 0
    assert "no complete templates for 'de'; showing 'nl'" in result.stderr


def test_template_error_gives_file_and_line_and_status_2() -> None:
    Path("templates/acknowledgement.nl.txt.j2").write_text("Hallo\n{{ nope }}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["preview", "--received", "2026-11-27T10:00"])
    assert result.exit_code == 2
    assert "acknowledgement.nl.txt.j2:2: 'nope' is undefined" in result.stderr
    assert "Traceback" not in result.output


def test_configuration_error_gives_status_2() -> None:
    result = CliRunner().invoke(cli, ["preview", "--config", "missing.toml"])
    assert result.exit_code == 2
    assert "configuration file not found" in result.stderr


def test_bad_received_timestamp_gives_status_2() -> None:
    result = CliRunner().invoke(cli, ["preview", "--received", "gisteren"])
    assert result.exit_code == 2
    assert "ISO 8601" in result.stderr
