"""Several mailboxes from one configuration: the `[[mailboxes]]` form, their health and metrics,
a mailbox's loop that fails and starts again, the supervisor's reload, systemd's reload messages."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from prometheus_client import generate_latest

from topcontact_mail.adapters.memory import MemoryMailbox
from topcontact_mail.adapters.sqlite_store import SqliteStore
from topcontact_mail.config import ConfigError, Settings, load_settings
from topcontact_mail.domain.message import Address
from topcontact_mail.domain.screening.reasons import Reason
from topcontact_mail.entrypoints import mailboxes as mailboxes_module
from topcontact_mail.entrypoints.cli import cli
from topcontact_mail.entrypoints.health import Health, Problem, verdict_of
from topcontact_mail.entrypoints.mailboxes import MailboxWorker, MeteredMailbox, Supervisor
from topcontact_mail.entrypoints.systemd import LoopBeat, Notifier
from topcontact_mail.entrypoints.wiring import state_file
from topcontact_mail.ports import MailboxUnavailable, Outcome
from topcontact_mail.services.acknowledge import Summary

BASE = """
[connection]
backend = "ews"
[connection.ews]
service_endpoint = "https://mail.example/EWS/Exchange.asmx"
username = "svc"
password = "Geheim-123"
[team]
name = "Team Klantcontact"
[service]
state_dir = "state"
health_listen = ""
"""

TWO = (
    BASE
    + """
[[mailboxes]]
shared_mailbox = "klantcontact@woonservice.example"

[[mailboxes]]
shared_mailbox = "Verhuur@woonservice.example"
state_dir = "elders"
[mailboxes.team]
name = "Team Verhuur"
[mailboxes.connection.ews]
username = "svc-verhuur"
[mailboxes.acknowledgement]
templates_dir = "teksten-verhuur"
[mailboxes.screening]
per_sender_per_day = 5
"""
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "topcontact.toml"
    path.write_text(text, encoding="utf-8")
    return path


# -- the configuration ------------------------------------------------------------------------


def test_without_mailboxes_the_one_mailbox_of_connection_is_served_as_before(
    tmp_path: Path,
) -> None:
    settings = load_settings(write(tmp_path, BASE))
    assert settings.mailbox_settings() == (settings,)
    assert state_file(settings) == tmp_path / "state" / "topcontact.sqlite3"
    assert settings.for_mailbox("KLANTCONTACT@woonservice.example") is settings


def test_each_mailbox_is_its_table_over_the_top_level_with_a_state_of_its_own(
    tmp_path: Path,
) -> None:
    settings = load_settings(write(tmp_path, TWO))
    klant, verhuur = settings.mailbox_settings()
    assert klant.connection.shared_mailbox == "klantcontact@woonservice.example"
    assert klant.team.name == "Team Klantcontact"
    assert klant.connection.ews is not None
    assert klant.connection.ews.username == "svc"
    assert klant.service.state_dir == tmp_path / "state" / "klantcontact@woonservice.example"
    assert klant.screening.per_sender_per_day == 3
    assert verhuur.team.name == "Team Verhuur"
    assert verhuur.connection.ews is not None
    # Key by key: the endpoint and password stay the top level's, the user is its own.
    assert verhuur.connection.ews.username == "svc-verhuur"
    assert verhuur.connection.ews.password is not None
    assert verhuur.connection.ews.password.get_secret_value() == "Geheim-123"
    assert verhuur.connection.ews.service_endpoint == "https://mail.example/EWS/Exchange.asmx"
    assert verhuur.acknowledgement.templates_dir == tmp_path / "teksten-verhuur"
    assert verhuur.service.state_dir == tmp_path / "elders"
    assert verhuur.screening.per_sender_per_day == 5
    assert verhuur.mailboxes == []
    assert settings.for_mailbox("verhuur@WOONSERVICE.example") is verhuur
    with pytest.raises(ConfigError, match=r"no mailbox 'x@example\.nl'.*klantcontact@"):
        settings.for_mailbox("x@example.nl")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            '[[mailboxes]]\nshared_mailbox = "b@woonservice.example"\n'
            "[mailboxes.tracking]\nwarn_workdays_before = 99\n",
            r"mailboxes\[0\] \(b@woonservice.example\).*tracking.warn_workdays_before = 99",
        ),
        (
            '[[mailboxes]]\nshared_mailbox = "b@woonservice.example"\n'
            '[[mailboxes]]\nshared_mailbox = "B@woonservice.example"\n',
            r"mailboxes\[1\] \(B@woonservice.example\): the mailbox is configured in mailboxes\[0\]",
        ),
        (
            '[[mailboxes]]\nshared_mailbox = "b@woonservice.example"\n'
            "[mailboxes.service]\ndry_run = true\n",
            r"mailboxes.0.service: unknown key",
        ),
        (
            '[[mailboxes]]\nshared_mailbox = "b@woonservice.example"\n'
            '[mailboxes.connection.ews]\npaswoord = "Lek-999"\n',
            r"mailboxes\[0\] \(b@woonservice.example\).*connection.ews.paswoord: unknown key",
        ),
        ('[[mailboxes]]\nshared_mailbox = "geen adres"\n', r"mailboxes.0.shared_mailbox"),
    ],
)
def test_a_wrong_mailbox_table_is_refused_naming_the_mailbox_never_a_secret(
    tmp_path: Path, extra: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, BASE + extra))
    assert re.search(expected, str(caught.value), re.S), str(caught.value)
    assert "Lek-999" not in str(caught.value)
    assert "Geheim-123" not in str(caught.value)


def test_the_environment_may_not_make_every_mailbox_the_same_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOPCONTACT_CONNECTION__SHARED_MAILBOX", "x@woonservice.example")
    with pytest.raises(ConfigError, match="overridden by the environment"):
        load_settings(write(tmp_path, TWO))


def test_the_environment_s_state_dir_is_the_base_of_each_mailbox_s_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOPCONTACT_SERVICE__STATE_DIR", str(tmp_path / "var"))
    klant, verhuur = load_settings(write(tmp_path, TWO)).mailbox_settings()
    assert klant.service.state_dir == tmp_path / "var" / "klantcontact@woonservice.example"
    assert verhuur.service.state_dir == tmp_path / "elders"  # named in its own table


def test_check_config_names_the_mailbox_at_fault_and_shows_each_mailbox(tmp_path: Path) -> None:
    (tmp_path / "teksten-verhuur").mkdir()
    runner = CliRunner()
    good = runner.invoke(cli, ["check-config", "--config", str(write(tmp_path, TWO))])
    assert good.exit_code == 0, good.output
    assert '"effective_mailboxes"' in good.output
    assert "Geheim-123" not in good.output
    (tmp_path / "teksten-verhuur").rmdir()
    bad = runner.invoke(cli, ["check-config", "--config", str(write(tmp_path, TWO))])
    assert bad.exit_code == 2
    assert "mailbox verhuur@woonservice.example" in bad.output
    assert "templates folder not found" in bad.output


def test_run_mailbox_refuses_a_mailbox_the_configuration_does_not_have(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["run", "--once", "--mailbox", "x@example.nl", "--config", str(write(tmp_path, TWO))]
    )
    assert result.exit_code == 2
    assert "no mailbox 'x@example.nl'" in result.output


# -- health and metrics -----------------------------------------------------------------------


def test_health_is_per_mailbox_and_the_worst_one_decides() -> None:
    health = Health()
    klant = health.mailbox("klantcontact@woonservice.example", lag_limit=60)
    verhuur = health.mailbox("verhuur@woonservice.example", lag_limit=60)
    assert health.snapshot()["status"] == "starting"
    klant.passed(Summary(sent=2, reasons={"person": 2}))  # type: ignore[arg-type]
    verhuur.passed(Summary())
    assert health.snapshot()["status"] == "ok"

    verhuur.degraded("cannot reach the mailbox: timed out")
    snapshot = health.snapshot()
    assert snapshot["status"] == "degraded"
    assert snapshot["mailboxes"]["verhuur@woonservice.example"]["reasons"] == [
        "mailbox_unreachable"
    ]
    assert snapshot["mailboxes"]["klantcontact@woonservice.example"]["status"] == "ok"
    assert snapshot["reason"].startswith("verhuur@woonservice.example: cannot reach")

    verhuur.credentials_refused("credentials refused: 401")
    assert health.snapshot()["status"] == "failing"
    verhuur.passed(Summary())  # a pass that went through clears both
    assert health.snapshot()["status"] == "ok"


def test_a_reached_cap_and_a_lagging_sync_are_reported() -> None:
    health = Health()
    box = health.mailbox("a@woonservice.example", lag_limit=60)
    box.passed(Summary(reasons={Reason.GLOBAL_HOURLY_CAP: 1}))  # type: ignore[arg-type]
    assert box.current_problems(time.time()).keys() == {Problem.CAP_REACHED}
    assert box.current_problems(time.time() + 4000) == {
        Problem.SYNC_LAGGING: "no successful sync for 4000 s (limit 60 s)"
    }


def test_metrics_carry_the_mailbox_and_bounded_labels_and_forget_a_removed_mailbox() -> None:
    health = Health()
    box = health.mailbox("a@woonservice.example")
    box.passed(
        Summary(sent=1, marked=2, reasons={"person": 1, "machine_sender": 1, "nonsense": 1})  # type: ignore[arg-type]
    )
    box.standing({"on_time": 3, "warning": 1, "overdue": 0}, {"planned": 2, "missed": 1})
    box.call("fetch_changes")
    box.call("send_acknowledgements", "item", 2)
    text = generate_latest(health.registry).decode()
    a = 'mailbox="a@woonservice.example"'
    for line in (
        "topcontact_healthy 1.0",
        "topcontact_mailboxes 1.0",
        f'topcontact_messages_screened_total{{{a},reason="person",verdict="acknowledge"}} 1.0',
        f'topcontact_messages_screened_total{{{a},reason="machine_sender",verdict="skip"}} 1.0',
        f'topcontact_messages_screened_total{{{a},reason="other",verdict="skip"}} 1.0',
        f"topcontact_acknowledgements_sent_total{{{a}}} 1.0",
        f"topcontact_messages_marked_total{{{a}}} 2.0",
        f'topcontact_targets_open{{{a},state="on_time"}} 3.0',
        f'topcontact_targets_open{{{a},state="warning"}} 1.0',
        f'topcontact_callbacks{{{a},state="missed"}} 1.0',
        f'topcontact_backend_calls_total{{{a},operation="fetch_changes"}} 1.0',
        'topcontact_backend_errors_total{kind="item",mailbox="a@woonservice.example",'
        'operation="send_acknowledgements"} 2.0',
        f'topcontact_mailbox_problem{{{a},problem="sync_lagging"}} 0.0',
        f"topcontact_credentials_ok{{{a}}} 1.0",
        f"topcontact_mailbox_healthy{{{a}}} 1.0",
        'topcontact_config_reloads_total{result="refused"} 0.0',
    ):
        assert line in text.splitlines(), line
    assert re.search(rf"topcontact_sync_lag_seconds\{{{a}\}} \d", text)
    assert re.search(rf"topcontact_last_sync_timestamp_seconds\{{{a}\}} \d", text)
    health.forget("a@woonservice.example")
    assert "a@woonservice.example" not in generate_latest(health.registry).decode()


def test_verdicts() -> None:
    assert verdict_of("person") == "acknowledge"
    assert verdict_of("sender_daily_limit") == "answer_only"
    assert verdict_of("bounce_text") == "skip"


def test_the_metered_mailbox_counts_calls_errors_and_failed_items() -> None:
    health = Health()
    box = health.mailbox("klantcontact@woonservice.example")
    inner = MemoryMailbox(Address("klantcontact@woonservice.example"))
    metered = MeteredMailbox(inner, box)
    metered.fetch_changes(None)
    assert metered.address == inner.address
    assert metered.items is inner.items  # what the adapter offers beyond the port

    def unreachable(_: object) -> object:
        raise MailboxUnavailable("timed out")

    inner.fetch_changes = unreachable  # type: ignore[method-assign,assignment]
    with pytest.raises(MailboxUnavailable):
        metered.fetch_changes(None)
    inner.mark = lambda marks: [Outcome("x", ok=False), Outcome("y", ok=True)]  # type: ignore[method-assign]
    metered.mark([])
    assert box.calls == {"fetch_changes": 1, "mark": 1}
    assert box.errors == {("fetch_changes", "unreachable"): 1, ("mark", "item"): 1}


# -- a mailbox's loop that fails starts again; the supervisor's reload --------------------------


def test_a_failing_loop_is_started_again_and_the_failure_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from topcontact_mail.config import CallbacksSettings, ServiceSettings

    settings = Settings(
        service=ServiceSettings(state_dir=tmp_path, health_listen="", sync_interval_seconds=1),
        callbacks=CallbacksSettings(enabled=False),
    )
    opened: list[MemoryMailbox] = []

    def open_memory(_: Settings) -> MemoryMailbox:
        mailbox = MemoryMailbox(Address("klantcontact@woonservice.example"))
        if not opened:
            mailbox.fetch_changes = lambda _: 1 / 0  # type: ignore[method-assign,assignment,return-value]
        opened.append(mailbox)
        return mailbox

    monkeypatch.setattr(mailboxes_module, "open_mailbox", open_memory)
    monkeypatch.setattr(mailboxes_module, "RETRY_START_SECONDS", 0.1)
    health = Health()
    box = health.mailbox("klantcontact@woonservice.example")
    store = SqliteStore(tmp_path / "topcontact.sqlite3")
    worker = MailboxWorker(settings, store, health=box, with_callbacks=False).start()
    try:
        deadline = time.monotonic() + 15
        while (len(opened) < 2 or box.last_sync is None) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(opened) == 2
        assert box.restarts == 1
        assert box.last_sync is not None  # the second loop works
        assert Problem.LOOP_FAILED not in box.current_problems(time.time())
    finally:
        worker.stop.set()
        assert worker.join(10)
        store.close()
    assert worker.ended == "stopped"
    assert worker.beat.ended


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Supervisor]:
    """A supervisor over memory mailboxes, for two mailboxes of a configuration file."""
    monkeypatch.setattr(
        mailboxes_module,
        "open_mailbox",
        lambda s: MemoryMailbox(Address(s.connection.shared_mailbox)),
    )
    (tmp_path / "teksten-verhuur").mkdir()
    path = write(tmp_path, TWO + "[callbacks]\nenabled = false\n")
    settings = load_settings(path)
    stop = threading.Event()
    supervisor = Supervisor(
        settings, config_path=path, only=None, health=Health(), notifier=Notifier({}), stop=stop
    )
    supervisor.open(settings.mailbox_settings())
    runner = threading.Thread(target=supervisor.run)
    runner.start()
    yield supervisor
    stop.set()
    runner.join(30)
    assert not runner.is_alive()
    assert supervisor.served == {}


def test_a_reload_adds_removes_and_restarts_mailboxes_or_refuses_a_bad_file(
    served: Supervisor, tmp_path: Path
) -> None:
    path = tmp_path / "topcontact.toml"
    klant_worker = served.served["klantcontact@woonservice.example"].worker
    verhuur_worker = served.served["verhuur@woonservice.example"].worker

    path.write_text(TWO + "[callbacks]\nenabled = nee\n", encoding="utf-8")
    served.reload()
    assert served.health.reloads == {"refused": 1}
    assert served.served["klantcontact@woonservice.example"].worker is klant_worker

    path.write_text(
        TWO.replace('shared_mailbox = "klantcontact@', 'shared_mailbox = "onderhoud@')
        + "[callbacks]\nenabled = false\n",
        encoding="utf-8",
    )
    served.reload()
    assert served.health.reloads == {"refused": 1, "applied": 1}
    assert set(served.served) == {"onderhoud@woonservice.example", "verhuur@woonservice.example"}
    assert not klant_worker.alive  # removed: stopped
    assert not verhuur_worker.alive  # its own templates may have changed: restarted
    assert served.served["verhuur@woonservice.example"].worker.alive
    assert {b.key for b in served.health.mailboxes()} == {
        "onderhoud@woonservice.example",
        "verhuur@woonservice.example",
    }


# -- systemd ----------------------------------------------------------------------------------


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.5)
    yield sock, path
    sock.close()


def test_a_reload_is_told_as_reloading_then_ready(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    notifier = Notifier(environ={"NOTIFY_SOCKET": path})
    notifier.ready("watching 2 of 2 mailboxes")
    notifier.reloading()
    notifier.reloaded("watching 3 of 3 mailboxes")
    told = [sock.recv(4096).decode() for _ in range(3)]
    assert told[0] == "READY=1\nSTATUS=watching 2 of 2 mailboxes"
    assert re.fullmatch(
        r"RELOADING=1\nMONOTONIC_USEC=\d+\nSTATUS=reloading the configuration", told[1]
    )
    assert told[2] == "READY=1\nSTATUS=watching 3 of 3 mailboxes"


def test_a_listener_that_does_not_read_never_blocks_the_service(
    listener: tuple[socket.socket, str],
) -> None:
    _, path = listener
    notifier = Notifier(environ={"NOTIFY_SOCKET": path})
    began = time.monotonic()
    for n in range(200):  # far more than the socket's queue holds
        notifier.status(f"status {n}")
    assert time.monotonic() - began < 5


def test_a_loop_beat_keeps_what_the_loop_told() -> None:
    now = [100.0]
    beat = LoopBeat(clock=lambda: now[0])
    now[0] = 105.0
    beat.ready("watching a@woonservice.example")
    assert beat.last_beat == 105.0
    assert beat.last_status == "watching a@woonservice.example"
    beat.stopping()
    assert beat.ended
