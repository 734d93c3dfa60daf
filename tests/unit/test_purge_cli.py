"""`topcontact-mail purge`, the `[retention]` configuration and the daemon's nightly purge job."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from click.testing import CliRunner

from topcontact_mail.adapters.sqlite_store import SqliteStore
from topcontact_mail.config import load_settings
from topcontact_mail.entrypoints.cli import cli
from topcontact_mail.entrypoints.retention_job import schedule_purge
from topcontact_mail.ports import MessageRecord


def config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "topcontact.toml"
    path.write_text(f'[service]\nstate_dir = "{tmp_path / "state"}"\n{extra}', encoding="utf-8")
    return path


def old_decision(n: int, days_ago: int) -> MessageRecord:
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


def with_state(tmp_path: Path) -> Path:
    store = SqliteStore(tmp_path / "state" / "topcontact.sqlite3")
    for n, days_ago in ((1, 120), (2, 100), (3, 10)):
        rec = old_decision(n, days_ago)
        store.record(rec, rec.received)
    store.close()
    return config(tmp_path)


def test_help_shows_an_example() -> None:
    result = CliRunner().invoke(cli, ["purge", "--help"])

    assert result.exit_code == 0
    assert "Examples:" in result.output
    assert "topcontact-mail purge --dry-run" in result.output


def test_a_dry_run_counts_and_changes_nothing_then_the_purge_does_it(tmp_path: Path) -> None:
    path = with_state(tmp_path)
    runner = CliRunner()

    dry = runner.invoke(cli, ["purge", "--dry-run", "--json", "--config", str(path)])

    assert dry.exit_code == 0, dry.output
    counted = json.loads(dry.stdout)
    assert counted["schema"] == "topcontact-mail/purge/1"
    assert counted["dry_run"] is True
    assert counted["kinds"]["messages"] == {"details": 2, "deleted": 0}
    assert counted["total"] == 2
    store = SqliteStore(tmp_path / "state" / "topcontact.sqlite3")
    assert store.get("item-1").sender == "huurder1@example.nl"  # type: ignore[union-attr]
    store.close()

    done = runner.invoke(cli, ["purge", "--config", str(path)])

    assert done.exit_code == 0, done.output
    assert "messages" in done.stdout
    assert "Details about contacts are kept 90 days" in done.stdout
    store = SqliteStore(tmp_path / "state" / "topcontact.sqlite3")
    assert store.get("item-1").sender is None  # type: ignore[union-attr]
    assert store.get("item-3").sender == "huurder3@example.nl"  # type: ignore[union-attr]
    store.close()
    again = runner.invoke(cli, ["purge", "--json", "--config", str(path)])
    assert json.loads(again.stdout)["total"] == 0


def test_a_dry_run_as_of_a_later_moment_shows_what_will_go_then(tmp_path: Path) -> None:
    path = with_state(tmp_path)
    later = (datetime.now() + timedelta(days=85)).strftime("%Y-%m-%dT%H:%M")

    result = CliRunner().invoke(
        cli, ["purge", "--dry-run", "--json", "--as-of", later, "--config", str(path)]
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["kinds"]["messages"]["details"] == 3


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--as-of", "2027-01-01T00:00"], "--as-of only goes with --dry-run"),
        (["--dry-run", "--as-of", "morgen"], "not an ISO 8601 moment"),
    ],
)
def test_wrong_use_is_exit_status_2(tmp_path: Path, args: list[str], says: str) -> None:
    path = with_state(tmp_path)

    result = CliRunner().invoke(cli, ["purge", *args, "--config", str(path)])

    assert result.exit_code == 2
    assert says in result.stderr


def test_without_a_state_file_it_says_what_to_check(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["purge", "--config", str(config(tmp_path))])

    assert result.exit_code == 2
    assert "no state file" in result.stderr


@pytest.mark.parametrize(
    ("section", "says"),
    [
        ("details_days = 0", "retention.details_days = 0: must be a positive whole number"),
        ("figures_months = -1", "retention.figures_months = -1: must be a positive"),
        (
            "details_days = 400\nfigures_months = 12",
            "details_days (400) is longer than figures_months (12 months",
        ),
        ('purge_time = "25:00"', "expected a time of day like '03:30'"),
    ],
)
def test_a_wrong_retention_is_refused_clearly(tmp_path: Path, section: str, says: str) -> None:
    path = config(tmp_path, f"[retention]\n{section}\n")

    result = CliRunner().invoke(cli, ["purge", "--dry-run", "--config", str(path)])

    assert result.exit_code == 2
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_the_daemon_purges_every_night_at_the_configured_local_time(tmp_path: Path) -> None:
    path = with_state(tmp_path)
    path.write_text(path.read_text() + '[retention]\npurge_time = "02:15"\n', encoding="utf-8")
    settings = load_settings(path)
    store = SqliteStore(tmp_path / "state" / "topcontact.sqlite3")
    scheduler = BackgroundScheduler(timezone=settings.calendar.timezone)

    schedule_purge(scheduler, settings, store)

    nightly = scheduler.get_job("retention-purge")
    assert nightly is not None
    fields = {f.name: str(f) for f in nightly.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("2", "15")
    assert str(nightly.trigger.timezone) == "Europe/Amsterdam"
    assert scheduler.get_job("retention-purge-at-start") is not None
    nightly.func()
    assert store.get("item-1").sender is None  # type: ignore[union-attr]
    store.close()
    nightly.func()  # a closed store: logged, never raised into the scheduler


def test_a_report_of_a_purged_month_says_so(tmp_path: Path) -> None:
    path = with_state(tmp_path)

    result = CliRunner().invoke(
        cli, ["report", "--month", "2020-01", "--format", "json", "--config", str(path)]
    )

    assert result.exit_code == 0
    assert "the figures of months before" in result.stderr
    assert "retention.figures_months = 13" in result.stderr
    assert json.loads(result.stdout)["totals"]["received"] == 0


def test_the_running_daemon_has_the_nightly_purge_in_its_schedule(tmp_path: Path) -> None:
    import threading
    import time

    from topcontact_mail.adapters.memory import MemoryMailbox
    from topcontact_mail.config import ServiceSettings, Settings
    from topcontact_mail.domain.message import Address
    from topcontact_mail.entrypoints.daemon import Daemon
    from topcontact_mail.entrypoints.wiring import build_service

    settings = Settings(service=ServiceSettings(state_dir=tmp_path, health_listen=""))
    mailbox = MemoryMailbox(Address("klantcontact@woonservice.example"))
    store = SqliteStore(tmp_path / "topcontact.sqlite3")
    daemon = Daemon(settings, build_service(settings, mailbox, store), mailbox)
    worker = threading.Thread(target=daemon.run_forever)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while daemon._scheduler is None and time.monotonic() < deadline:
            time.sleep(0.02)
        scheduler = daemon._scheduler
        assert scheduler is not None
        nightly = scheduler.get_job("retention-purge")
        assert nightly is not None
        assert (nightly.next_run_time.hour, nightly.next_run_time.minute) == (3, 30)
    finally:
        daemon.stop.set()
        worker.join(timeout=10)
    store.close()
