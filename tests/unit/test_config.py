"""The configuration: defaults, overrides, secrets, and clear refusals of bad files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import BaseModel

from topcontact_mail.config import Settings, load_settings
from topcontact_mail.entrypoints.cli import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "topcontact.example.toml"


#: What check-config needs besides the keys a test is about: a way to reach Exchange.
CONNECTION = "\n[connection.ews]\nservice_endpoint = 'https://mail.example.nl/EWS/Exchange.asmx'\n"


def run_check(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    file = tmp_path / "topcontact.toml"
    file.write_text(text + ("" if "[connection" in text else CONNECTION), encoding="utf-8")
    result = CliRunner().invoke(cli, ["check-config", "--config", str(file)], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_defaults_follow_the_design_without_any_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOPCONTACT_CONFIG", raising=False)
    settings = load_settings()
    assert settings.calendar.timezone == "Europe/Amsterdam"
    assert settings.calendar.office_hours.friday == ["08:30-17:00"]
    assert settings.calendar.office_hours.saturday == []
    assert settings.screening.per_sender_per_day == 3
    assert settings.screening.global_per_hour == 200


def test_example_file_is_valid_and_documents_every_key() -> None:
    load_settings(EXAMPLE)
    text = EXAMPLE.read_text(encoding="utf-8")

    def keys(model: type[BaseModel]) -> list[str]:
        found = []
        for name, field in model.model_fields.items():
            found.append(name)
            annotation = field.annotation
            for candidate in getattr(annotation, "__args__", (annotation,)):
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    found.extend(keys(candidate))
        return found

    missing = [
        k for k in keys(Settings) if not re.search(rf"^#?\s*{k}\b|\[.*\b{k}\]|\b{k} = ", text, re.M)
    ]
    assert missing == []


def test_an_environment_variable_overrides_the_file(tmp_path: Path) -> None:
    code, out, _ = run_check(
        tmp_path,
        "[screening]\nper_sender_per_day = 3\n",
        env={"TOPCONTACT_SCREENING__PER_SENDER_PER_DAY": "5"},
    )
    assert code == 0
    assert json.loads(out)["screening"]["per_sender_per_day"] == 5


def test_secrets_are_masked_and_can_come_from_a_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "pw"
    secret_file.write_text("s3cr3t-from-file\n", encoding="utf-8")
    config = (
        "[connection.ews]\nservice_endpoint = 'https://mail.example.nl/EWS/Exchange.asmx'\n"
        f"username = 'svc'\npassword_file = '{secret_file}'\n"
    )
    code, out, err = run_check(tmp_path, config)
    assert code == 0
    assert "s3cr3t" not in out + err
    assert json.loads(out)["connection"]["ews"]["password"] == "********"
    settings = load_settings(tmp_path / "topcontact.toml")
    assert settings.connection.ews is not None
    assert settings.connection.ews.password is not None
    assert settings.connection.ews.password.get_secret_value() == "s3cr3t-from-file"


def test_a_secret_in_a_bad_value_is_not_echoed(tmp_path: Path) -> None:
    code, _, err = run_check(
        tmp_path,
        "[connection.ews]\nservice_endpoint = 'https://x.nl/EWS/Exchange.asmx'\npassword = ['hunter2']\n",
    )
    assert code == 2
    assert "connection.ews.password" in err
    assert "hunter2" not in err


BAD_CONFIGS = {
    "toml_syntax": ("[calendar\ntimezone = 'x'", "not valid TOML"),
    "unknown_key": ("[screening]\nper_sender_per_dag = 3\n", "screening.per_sender_per_dag"),
    "unknown_section": ("[callbacks]\nx = 1\n", "unknown key"),
    "time_zone": (
        "[calendar]\ntimezone = 'Europe/Amsterdan'\n",
        "unknown time zone 'Europe/Amsterdan'",
    ),
    "hours_format": (
        "[calendar.office_hours]\nmonday = ['8.30-17']\n",
        "calendar.office_hours.monday",
    ),
    "hours_reversed": ("[calendar.office_hours]\nmonday = ['17:00-08:30']\n", "is not after start"),
    "hours_impossible": (
        "[calendar.office_hours]\ntuesday = ['08:30-25:00']\n",
        "not a valid time range",
    ),
    "hours_overlap": (
        "[calendar.office_hours]\nwednesday = ['08:30-12:30', '12:00-17:00']\n",
        "overlap",
    ),
    "never_open": (
        "[calendar.office_hours]\n"
        + "".join(
            f"{d} = []\n"
            for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        ),
        "no workday",
    ),
    "closed_range_reversed": (
        "[calendar]\nclosed_ranges = [{first = 2026-12-31, last = 2026-12-28}]\n",
        "is before 'first'",
    ),
    "closed_date_not_date": ("[calendar]\nclosed_dates = ['kerst']\n", "calendar.closed_dates.0"),
    "holiday_category": ("[calendar]\nholiday_categories = ['school']\n", "'public' or 'optional'"),
    "negative_limit": ("[screening]\nper_sender_per_day = 0\n", "greater than or equal to 1"),
    "spam_threshold": ("[screening]\nspam_threshold = 12\n", "less than or equal to 9"),
    "bad_address": ("[team]\nemail = 'klantcontact'\n", "is not a mail address"),
    "backend": ("[connection]\nbackend = 'imap'\n", "'ews' or 'graph'"),
    "graph_without_section": ("[connection]\nbackend = 'graph'\n", "no [connection.graph] section"),
    "ews_without_section": ("[connection]\nbackend = 'ews'\n", "no [connection.ews] section"),
    "graph_without_credential": (
        "[connection]\nbackend = 'graph'\n[connection.graph]\ntenant_id = 't'\nclient_id = 'c'\n",
        "certificate_path",
    ),
    "ews_endpoint_not_url": (
        "[connection.ews]\nservice_endpoint = 'mail.example.nl'\n",
        "http(s) URL",
    ),
    "secret_file_missing": (
        "[connection.ews]\nservice_endpoint = 'https://x.nl/EWS/Exchange.asmx'\npassword_file = '/nonexistent/pw'\n",
        "cannot read password from file",
    ),
    "default_language": ("[acknowledgement]\ndefault_language = 'fr'\n", "not in languages"),
    "log_level": ("[service]\nlog_level = 'loud'\n", "service.log_level"),
}


@pytest.mark.parametrize(("config", "expected"), BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
def test_check_config_refuses_bad_configuration_with_file_key_and_reason(
    tmp_path: Path, config: str, expected: str
) -> None:
    code, out, err = run_check(tmp_path, config)
    assert code == 2
    assert out == ""
    assert str(tmp_path / "topcontact.toml") in err
    assert expected in err
    assert "Traceback" not in err


def test_a_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    code, _, err = run_check(tmp_path, "", env={"TOPCONTACT_SERVICE__DRY_RUN": "misschien"})
    assert code == 2
    assert "TOPCONTACT_SERVICE__DRY_RUN" in err
    assert "'misschien'" in err


def test_a_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["check-config", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert "configuration file not found" in result.stderr


SECRET = "Zeer-Geheim-42!"


@pytest.mark.parametrize("key", ["passwd", "pwd", "Password", "wachtwoord", "pasword"])
def test_a_misspelled_secret_key_never_shows_its_value(tmp_path: Path, key: str) -> None:
    code, out, err = run_check(
        tmp_path,
        "[connection.ews]\nservice_endpoint = 'https://mail.example.nl/EWS/Exchange.asmx'\n"
        f"{key} = '{SECRET}'\n",
    )
    assert code == 2
    assert f"connection.ews.{key}" in err
    assert SECRET not in err + out


def test_a_misspelled_secret_in_the_environment_never_shows_its_value(tmp_path: Path) -> None:
    code, out, err = run_check(tmp_path, "", env={"TOPCONTACT_CONNECTION__EWS__PASWORD": SECRET})
    assert code == 2
    assert "pasword" in err.lower()
    assert SECRET not in err + out


def test_a_password_in_the_endpoint_is_refused_without_showing_it(tmp_path: Path) -> None:
    code, out, err = run_check(
        tmp_path,
        f"[connection.ews]\nservice_endpoint = 'https://svc:{SECRET}@mail.example.nl/EWS/Exchange.asmx'\n",
    )
    assert code == 2
    assert "must not hold a user name or password" in err
    assert SECRET not in err + out


def test_paths_count_from_the_configuration_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    (folder / "topcontact.toml").write_text(
        "[acknowledgement]\ntemplates_dir = 'mijn-sjablonen'\n"
        "[connection.ews]\nservice_endpoint = 'https://x.nl/EWS/Exchange.asmx'\n"
        "password_file = 'geheim.txt'\n",
        encoding="utf-8",
    )
    (folder / "geheim.txt").write_text(SECRET + "\n", encoding="utf-8")
    elsewhere = tmp_path / "elders"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    settings = load_settings(Path("..") / "etc" / "topcontact.toml")

    assert settings.acknowledgement.templates_dir == folder / "mijn-sjablonen"
    assert settings.connection.ews is not None
    assert settings.connection.ews.password is not None
    assert settings.connection.ews.password.get_secret_value() == SECRET
    # The default state folder belongs with the configuration, not with the working directory.
    assert settings.service.state_dir == folder / "var" / "state"


def test_every_command_works_from_another_folder_or_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOPCONTACT_CONFIG", raising=False)
    mail = ROOT / "topcontact_mail" / "entrypoints" / "demo_mail" / "01-nl-lekkage.eml"
    runner = CliRunner()

    explained = runner.invoke(cli, ["explain", str(mail)])
    previewed = runner.invoke(cli, ["preview"])
    deadlines = runner.invoke(cli, ["deadlines", "2026-11-27T10:00"])
    checked = runner.invoke(cli, ["check-config"])
    run = runner.invoke(cli, ["run", "--once"])

    assert explained.exit_code == 0, explained.output
    assert "ACKNOWLEDGE" in explained.output
    assert previewed.exit_code == 0, previewed.output
    assert deadlines.exit_code == 0
    for refused in (checked, run):
        assert refused.exit_code == 2
        assert "no [connection.ews] section" in refused.stderr
        assert refused.exception is None or isinstance(refused.exception, SystemExit)
