"""The admin commands with two `[[mailboxes]]`: each reaches every mailbox's own state, or the one
`--mailbox` names, and says so per mailbox (issue 13, "Admin commands").

Real SQLite state files in each mailbox's folder, as `run` leaves them; what is asserted is
what an administrator sees: the output per mailbox, the exit status, the message.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from topcontact_mail.adapters.sqlite_store import SqliteStore
from topcontact_mail.entrypoints.cli import cli
from topcontact_mail.ports import MessageRecord
from topcontact_mail.ports.calendar import CallbackRecord, MeetingRecord

from .tracking.support import target

KLANT = "klantcontact@woonservice.example"
VERHUUR = "verhuur@woonservice.example"
AMS = ZoneInfo("Europe/Amsterdam")

TWO = f"""
[connection]
backend = "ews"
[connection.ews]
service_endpoint = "https://mail.example/EWS/Exchange.asmx"
username = "svc"
password = "Geheim-123"
[service]
state_dir = "state"
health_listen = ""

[[mailboxes]]
shared_mailbox = "{KLANT}"

[[mailboxes]]
shared_mailbox = "Verhuur@woonservice.example"
[mailboxes.team]
name = "Team Verhuur"
[mailboxes.calendar]
closed_dates = [2026-11-30]
"""


def state(tmp_path: Path, box: str) -> Path:
    return tmp_path / "state" / box / "topcontact.sqlite3"


def open_store(tmp_path: Path, box: str) -> SqliteStore:
    path = state(tmp_path, box)
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteStore(path)


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


def callback(box: str, tenant: str) -> CallbackRecord:
    monday = datetime(2026, 11, 30, 10, 0, tzinfo=AMS)
    return CallbackRecord(
        id=f"cb-{tenant.lower()}",
        source="mail",
        booked_by=f"a.bakker@{box.split('@')[1]}",
        booked_at=monday,
        state="planned",
        callback_by=monday + timedelta(days=1, hours=7),
        details={"tenant_name": tenant},
    )


@pytest.fixture
def two(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two mailboxes, each with its own state: klantcontact has an overdue message (as of
    7 Dec) and an old decision, verhuur one on time and an old decision; a callback each."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOPCONTACT_CONFIG", raising=False)
    for box, targets, tenant in (
        (KLANT, [target("k1", "vr 27 nov 2026 10:00")], "Jansen"),
        (VERHUUR, [target("v1", "vr 4 dec 2026 10:00")], "Bos"),
    ):
        store = open_store(tmp_path, box)
        store.add_targets(targets, targets[0].received)
        rec = old_decision(1, 120)
        store.record(rec, rec.received)
        cb = callback(box, tenant)
        meeting = MeetingRecord(
            ref=f"ref-{tenant}",
            callback_id=cb.id,
            colleague=f"j.devries@{box.split('@')[1]}",
            colleague_name="Jan de Vries",
            slot_start=cb.booked_at + timedelta(minutes=15),
            slot_end=cb.booked_at + timedelta(minutes=30),
            at_risk=False,
            state="intent",
        )
        store.record_callback(cb, cb.booked_at, meeting)
        store.close()
    path = tmp_path / "topcontact.toml"
    path.write_text(TWO, encoding="utf-8")
    return path


def invoke(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--config", str(config)])


def sender_of_old_decision(tmp_path: Path, box: str) -> str | None:
    store = SqliteStore(state(tmp_path, box))
    try:
        record = store.get("item-1")
        assert record is not None
        return record.sender
    finally:
        store.close()


# -- status ------------------------------------------------------------------------------------


def test_status_shows_every_mailbox_under_its_address_and_is_1_when_one_is_late(
    two: Path,
) -> None:
    result = invoke(two, "status", "--as-of", "2026-12-07T09:00")

    assert result.exit_code == 1, result.output
    klant, verhuur = result.stdout.split(f"== {VERHUUR}\n")
    assert klant.startswith(f"== {KLANT}\n")
    assert "1 te laat" in klant
    assert "0 te laat, 0 waarschuwing, 1 op tijd" in verhuur


def test_status_json_is_one_object_keyed_by_mailbox(two: Path) -> None:
    result = invoke(two, "status", "--json", "--as-of", "2026-12-07T09:00")

    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert list(data) == [KLANT, VERHUUR]
    assert data[KLANT]["counts"]["overdue"] == 1
    assert data[VERHUUR]["counts"]["on_time"] == 1
    assert data[VERHUUR]["schema"] == "topcontact-mail/status/1"


def test_status_of_one_mailbox_is_that_mailbox_s_alone_as_before(two: Path) -> None:
    result = invoke(
        two, "status", "--json", "--mailbox", "VERHUUR@woonservice.example", "--as-of",
        "2026-12-07T09:00",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["schema"] == "topcontact-mail/status/1"
    assert data["counts"]["on_time"] == 1
    assert data["open"][0]["item_id"] == "v1"


def test_a_mailbox_without_a_state_file_is_named_and_the_others_still_shown(
    two: Path, tmp_path: Path
) -> None:
    state(tmp_path, VERHUUR).unlink()

    result = invoke(two, "status", "--as-of", "2026-12-04T09:00")

    assert result.exit_code == 2
    assert f"== {KLANT}\nTop Contact, stand op vr 4 dec 2026 09:00: 0 te laat, 1 waarschuwing" in (
        result.stdout
    )
    assert f"topcontact-mail: mailbox {VERHUUR}: " in result.stderr
    assert "no state file" in result.stderr
    as_json = json.loads(invoke(two, "status", "--json").stdout)
    assert "no state file" in as_json[VERHUUR]["error"]
    assert "counts" in as_json[KLANT]


# -- purge -------------------------------------------------------------------------------------


def test_purge_of_one_mailbox_touches_only_its_state(two: Path, tmp_path: Path) -> None:
    result = invoke(two, "purge", "--mailbox", VERHUUR, "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["kinds"]["messages"]["details"] == 1
    assert sender_of_old_decision(tmp_path, VERHUUR) is None
    assert sender_of_old_decision(tmp_path, KLANT) == "huurder1@example.nl"


def test_purge_without_mailbox_purges_each_mailbox_s_own_state(two: Path, tmp_path: Path) -> None:
    dry = invoke(two, "purge", "--dry-run", "--json")

    assert dry.exit_code == 0, dry.output
    counted = json.loads(dry.stdout)
    assert {box: counted[box]["kinds"]["messages"]["details"] for box in counted} == {
        KLANT: 1,
        VERHUUR: 1,
    }
    assert sender_of_old_decision(tmp_path, KLANT) == "huurder1@example.nl"

    done = invoke(two, "purge")

    assert done.exit_code == 0, done.output
    assert f"== {KLANT}\n" in done.stdout
    assert f"== {VERHUUR}\n" in done.stdout
    assert done.stdout.count("Details about contacts are kept 90 days") == 2
    assert sender_of_old_decision(tmp_path, KLANT) is None
    assert sender_of_old_decision(tmp_path, VERHUUR) is None


# -- report ------------------------------------------------------------------------------------


def test_report_json_is_keyed_by_mailbox_and_html_wants_one_or_a_file_each(
    two: Path, tmp_path: Path
) -> None:
    as_json = invoke(two, "report", "--month", "2026-12", "--json")

    assert as_json.exit_code == 0, as_json.output
    assert list(json.loads(as_json.stdout)) == [KLANT, VERHUUR]

    html = invoke(two, "report", "--month", "2026-12")

    assert html.exit_code == 2
    assert "--mailbox" in html.stderr
    assert "{mailbox}" in html.stderr

    each = invoke(two, "report", "--month", "2026-12", "--output", "december-{mailbox}.html")

    assert each.exit_code == 0, each.output
    assert (tmp_path / f"december-{KLANT}.html").read_text(encoding="utf-8").startswith("<!")
    assert (tmp_path / f"december-{VERHUUR}.html").is_file()

    one = invoke(two, "report", "--month", "2026-12", "--format", "csv", "--mailbox", VERHUUR)

    assert one.exit_code == 0, one.output


def test_with_one_mailboxes_table_an_html_report_is_that_mailbox_s(
    two: Path, tmp_path: Path
) -> None:
    only_klant = TWO.split('\n[[mailboxes]]\nshared_mailbox = "Verhuur')[0]
    two.write_text(only_klant, encoding="utf-8")

    html = invoke(two, "report", "--month", "2026-12")
    as_json = invoke(two, "report", "--month", "2026-12", "--json")

    assert html.exit_code == 0, html.output
    assert html.stdout.startswith("<!")
    assert list(json.loads(as_json.stdout)) == [KLANT]


def test_report_json_and_another_format_exclude_each_other(two: Path) -> None:
    result = invoke(two, "report", "--month", "2026-12", "--json", "--format", "csv")

    assert result.exit_code == 2
    assert "--json and --format csv" in result.stderr


# -- deadlines: each mailbox's own calendar ------------------------------------------------------


def test_deadlines_by_every_mailbox_s_calendar_each_line_naming_it(two: Path) -> None:
    result = invoke(two, "deadlines", "2026-11-27T18:00")

    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert {line["mailbox"]: line["reception_day"] for line in lines} == {
        KLANT: "2026-11-30",
        VERHUUR: "2026-12-01",  # verhuur is closed on Monday 30 November
    }
    one = invoke(two, "deadlines", "--json", "--mailbox", VERHUUR, "2026-11-27T18:00")
    assert json.loads(one.stdout) == {k: v for k, v in lines[1].items() if k != "mailbox"}


# -- callback list -------------------------------------------------------------------------------


def test_callback_list_shows_each_mailbox_s_callbacks(two: Path) -> None:
    human = invoke(two, "callback", "list")
    rows = [
        json.loads(line) for line in invoke(two, "callback", "list", "--json").stdout.splitlines()
    ]

    assert human.exit_code == 0, human.output
    klant, verhuur = human.stdout.split(f"== {VERHUUR}\n")
    assert "Jansen" in klant
    assert "Bos" in verhuur
    assert {(row["mailbox"], row["tenant"]) for row in rows} == {
        (KLANT, "Jansen"),
        (VERHUUR, "Bos"),
    }


# -- commands that act on one mailbox ------------------------------------------------------------

ONE_MAILBOX_COMMANDS = [
    ["explain", "mail.eml"],
    ["preview"],
    ["callback", "form"],
    ["callback", "cancel", "cb-bos"],
    [
        "callback", "book", "--for", "Jan", "--name", "X", "--phone", "0612345678",
        "--subject", "lekkage",
    ],
]  # fmt: skip


@pytest.mark.parametrize("args", ONE_MAILBOX_COMMANDS, ids=" ".join)
def test_a_one_mailbox_command_with_several_configured_asks_which(
    two: Path, tmp_path: Path, args: list[str]
) -> None:
    (tmp_path / "mail.eml").write_bytes(b"From: a@example.nl\r\nSubject: hoi\r\n\r\nhoi\r\n")

    result = invoke(two, *args)

    assert result.exit_code == 2, result.output
    assert "2 mailboxes are configured: name one with --mailbox ADDRESS" in result.stderr
    assert KLANT in result.stderr
    assert "Verhuur@woonservice.example" in result.stderr
    assert "Traceback" not in result.output


def test_explain_and_preview_use_the_named_mailbox_s_settings(two: Path, tmp_path: Path) -> None:
    mail = tmp_path / "mail.eml"
    mail.write_bytes(
        b"From: Fatima <f.elamrani@example.nl>\r\nTo: verhuur@woonservice.example\r\n"
        b"Subject: Huur opzeggen\r\nMessage-ID: <x1@example.nl>\r\n\r\nBeste, ik wil opzeggen.\r\n"
    )

    explained = invoke(
        two, "explain", "--json", "--mailbox", VERHUUR, "--received", "2026-11-27T18:00", str(mail)
    )
    previewed = invoke(two, "preview", "--mailbox", VERHUUR)

    assert explained.exit_code == 0, explained.output
    verdict = json.loads(explained.stdout)
    assert verdict["terms"]["reception_day"] == "2026-12-01"  # verhuur's calendar
    assert verdict["acknowledge"] is True
    assert "From: Team Verhuur <Verhuur@woonservice.example>" in verdict["acknowledgement"]
    assert previewed.exit_code == 0, previewed.output
    assert "Team Verhuur" in previewed.stdout


# -- an address that is not configured -----------------------------------------------------------

EVERY_MAILBOX_COMMANDS = [
    ["status"],
    ["purge", "--dry-run"],
    ["report", "--month", "2026-12"],
    ["deadlines", "2026-12-24T16:30"],
    ["callback", "list"],
    ["check-config"],
    ["test-connection"],
]


@pytest.mark.parametrize("args", EVERY_MAILBOX_COMMANDS + ONE_MAILBOX_COMMANDS, ids=" ".join)
def test_an_unknown_mailbox_is_exit_status_2_naming_the_configured_ones(
    two: Path, tmp_path: Path, args: list[str]
) -> None:
    (tmp_path / "mail.eml").write_bytes(b"From: a@example.nl\r\n\r\nhoi\r\n")

    result = invoke(two, *args, "--mailbox", "onderhoud@woonservice.example")

    assert result.exit_code == 2, result.output
    assert "no mailbox 'onderhoud@woonservice.example' in the configuration" in result.stderr
    assert f"it has: {KLANT}, Verhuur@woonservice.example" in result.stderr


# -- check-config ----------------------------------------------------------------------------------


def test_check_config_json_is_a_verdict_with_each_mailbox_s_settings(two: Path) -> None:
    every = invoke(two, "check-config", "--json")
    one = invoke(two, "check-config", "--json", "--mailbox", VERHUUR)
    unknown = invoke(two, "check-config", "--json", "--mailbox", "x@woonservice.example")

    assert every.exit_code == 0, every.output
    verdict = json.loads(every.stdout)
    assert verdict["valid"] is True
    assert list(verdict["mailboxes"]) == [KLANT, VERHUUR]
    assert verdict["mailboxes"][VERHUUR]["team"]["name"] == "Team Verhuur"
    assert verdict["mailboxes"][KLANT]["connection"]["ews"]["password"] == "********"
    assert list(json.loads(one.stdout)["mailboxes"]) == [VERHUUR]
    assert unknown.exit_code == 2
    refused = json.loads(unknown.stdout)
    assert refused["valid"] is False
    assert "no mailbox 'x@woonservice.example'" in refused["problem"]


def test_check_config_json_names_the_problem_of_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "topcontact.toml"
    path.write_text('[connection]\nbackend = "lotus"\n', encoding="utf-8")

    result = invoke(path, "check-config", "--json")

    assert result.exit_code == 2
    verdict = json.loads(result.stdout)
    assert verdict["valid"] is False
    assert "backend" in verdict["problem"]
    assert "Geheim" not in result.output


def test_check_config_of_one_mailbox_prints_its_effective_settings(two: Path) -> None:
    result = invoke(two, "check-config", "--mailbox", VERHUUR)

    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["team"]["name"] == "Team Verhuur"
    assert "effective_mailboxes" not in shown
