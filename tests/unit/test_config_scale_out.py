"""The configuration of the shared store and the leases: defaults, checks, secrets never shown."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from topcontact_mail.config import Settings, load_settings
from topcontact_mail.entrypoints.cli import cli

CONNECTION = "[connection.ews]\nservice_endpoint = 'https://mail.example.nl/EWS/Exchange.asmx'\n"


def check(tmp_path: Path, text: str) -> tuple[int, str, str]:
    file = tmp_path / "topcontact.toml"
    file.write_text(text + CONNECTION, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check-config", "--config", str(file)])
    return result.exit_code, result.stdout, result.stderr


def test_sqlite_stays_the_default_and_postgresql_verifies_tls_by_default() -> None:
    settings = Settings()
    assert settings.service.store == "sqlite"
    assert settings.postgresql.sslmode == "verify-full"
    assert (settings.scale_out.lease_seconds, settings.scale_out.renew_seconds) == (30, 10)


def test_passwords_and_a_dsn_are_never_printed(tmp_path: Path) -> None:
    (tmp_path / "pg.secret").write_text("from-a-file\n", encoding="utf-8")
    code, out, _ = check(
        tmp_path,
        '[service]\nstore = "postgresql"\n[postgresql]\n'
        'dsn = "postgresql://svc:dsn-secret@db.example/topcontact"\n'
        'password_file = "pg.secret"\n',
    )
    assert code == 0
    assert "dsn-secret" not in out
    assert "from-a-file" not in out
    settings = load_settings(tmp_path / "topcontact.toml")
    assert settings.postgresql.password is not None
    assert settings.postgresql.password.get_secret_value() == "from-a-file"


def test_a_renewal_not_well_inside_the_lease_is_refused(tmp_path: Path) -> None:
    code, _, err = check(tmp_path, "[scale_out]\nlease_seconds = 30\nrenew_seconds = 15\n")
    assert code == 2
    assert "renew_seconds (15.0) must be at most a third of lease_seconds" in err


def test_a_schema_name_must_be_a_plain_identifier(tmp_path: Path) -> None:
    code, _, err = check(tmp_path, '[postgresql]\nschema_name = "x; DROP TABLE y"\n')
    assert code == 2
    assert "postgresql.schema_name" in err


def test_scale_out_needs_the_shared_store(tmp_path: Path) -> None:
    file = tmp_path / "instance.toml"
    file.write_text("[scale_out]\nmailboxes_dir = 'mailboxes'\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["scale-out", "--config", str(file)])
    assert result.exit_code == 2
    assert 'store = "postgresql"' in result.stderr
