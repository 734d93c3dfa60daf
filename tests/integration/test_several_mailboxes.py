"""One `topcontact-mail run` process for several shared mailboxes, as systemd and a monitor see it.

The real process (`python -m topcontact_mail run`) against the sandbox with three shared
mailboxes (two configured at the start, the third added by a reload): readiness, `/health`
and `/metrics` per mailbox after a few messages on each, SIGHUP with a good configuration
(a changed team name and an added mailbox take effect) and with a bad one (refused with a
log line, the old one keeps working), SIGTERM in the middle of a backlog (exit 0), a restart,
and in the end every person acknowledged exactly once, counted in each mailbox's Sent Items.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
import requests

from exchange_sandbox import MailboxConfig, SandboxHandle, load_config, start_sandbox
from exchange_sandbox.config import UserConfig
from tests.integration.conftest import FIXTURES, PASSWORD, USER
from tests.integration.test_health import free_port
from tests.integration.test_lifecycle import messages

pytestmark = pytest.mark.integration

KLANT = "klantcontact@woonservice.example"
VERHUUR = "verhuur@woonservice.example"
ONDERHOUD = "onderhoud@woonservice.example"
BOXES = (KLANT, VERHUUR, ONDERHOUD)


def start_three() -> SandboxHandle:
    """The sandbox with three shared mailboxes; the service account is delegate on each."""
    base = load_config()
    extra = (MailboxConfig(VERHUUR, "Verhuur"), MailboxConfig(ONDERHOUD, "Onderhoud"))
    users = tuple(
        dataclasses.replace(u, delegate=(*u.delegate, VERHUUR, ONDERHOUD)) if u.name == USER else u
        for u in base.users
    )
    config = dataclasses.replace(base, mailboxes=(*base.mailboxes, *extra), users=users)
    assert any(isinstance(u, UserConfig) and u.name == USER for u in config.users)
    return start_sandbox(config=config)


def mail(box: str, n: int) -> bytes:
    tag = box.split("@")[0]
    return (
        f"From: Huurder {tag} {n} <huurder-{tag}-{n}@example.nl>\r\n"
        f"To: {box}\r\n"
        f"Subject: Vraag {tag} nummer {n}\r\n"
        f"Date: {datetime.now().astimezone():%a, %d %b %Y %H:%M:%S %z}\r\n"
        f"Message-ID: <{tag}-{n}@example.nl>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Beste mensen, dit is mijn vraag nummer {n}. Met vriendelijke groet.\r\n"
    ).encode()


def write_config(
    path: Path,
    sandbox: SandboxHandle,
    *,
    port: int,
    boxes: tuple[str, ...],
    team_name: str = "Team Klantcontact",
    broken: str = "",
) -> None:
    lines = [
        "[connection]",
        'backend = "ews"',
        "[connection.ews]",
        f'service_endpoint = "{sandbox.ews_url}"',
        f'username = "{USER}"',
        f'password = "{PASSWORD}"',
        'auth_type = "ntlm"',
        "retry_wait_seconds = 0.2",
        "page_size = 10",
        "batch_size = 5",
        "[tracking]",
        "observe_interval_seconds = 10",
        "[callbacks]",
        "enabled = false",
        "[service]",
        f'state_dir = "{path.parent / "state"}"',
        "sync_interval_seconds = 2",
        "sync_lag_seconds = 60",
        "in_doubt_seconds = 2",
        'log_level = "info"',
        f'health_listen = "127.0.0.1:{port}"',
        "max_concurrent_mailboxes = 2",
    ]
    for box in boxes:
        name = team_name if box == KLANT else f"Team {box.split('@')[0].title()}"
        lines += [
            "[[mailboxes]]",
            f'shared_mailbox = "{box}"',
            "[mailboxes.team]",
            f'name = "{name}"',
            f'email = "{box}"',
        ]
    path.write_text("\n".join(lines) + "\n" + broken, encoding="utf-8")


def acknowledgements(sandbox: SandboxHandle, box: str) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(item.mime or b"", policy=email.policy.default)  # type: ignore[misc]
        for item in sandbox.store.items(box, "sentitems")
        if item.in_reply_to
    ]


def per_original(sandbox: SandboxHandle, box: str) -> Counter[str]:
    return Counter(str(m["In-Reply-To"]) for m in acknowledgements(sandbox, box))


def wait_for(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.2)


def metric(text: str, name: str, **labels: str) -> float | None:
    """The value of the series `name{labels}` in a Prometheus text page (None: absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and line.split(" ")[0] != name:
            continue
        series, _, value = line.rpartition(" ")
        found = dict(re.findall(r'(\w+)="([^"]*)"', series))
        if series.split("{")[0] == name and found == labels:
            return float(value)
    return None


def wait_for_metric(base: str, value: float, name: str, **labels: str) -> None:
    """Counters move when a pass ends, a moment after its mail reaches Sent Items."""

    def reached() -> bool:
        return metric(requests.get(f"{base}/metrics", timeout=5).text, name, **labels) == value

    wait_for(reached, 15, f"{name}{labels} = {value}")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, object]]:
    sandbox = start_three()
    sock_path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(0.2)
    processes: list[subprocess.Popen[bytes]] = []
    yield {"sandbox": sandbox, "sock": sock, "sock_path": sock_path, "processes": processes}
    for process in processes:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
    sock.close()
    sandbox.stop()


def test_one_process_serves_several_mailboxes_reloads_on_sighup_and_stops_cleanly(
    tmp_path: Path, world: dict[str, object]
) -> None:
    sandbox = world["sandbox"]
    sock = world["sock"]
    processes = world["processes"]
    assert isinstance(sandbox, SandboxHandle)
    assert isinstance(sock, socket.socket)
    assert isinstance(processes, list)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = tmp_path / "topcontact.toml"
    log_file = tmp_path / "daemon.log"
    write_config(config, sandbox, port=port, boxes=(KLANT, VERHUUR))
    env = {**os.environ, "NOTIFY_SOCKET": str(world["sock_path"]), "WATCHDOG_USEC": "2000000"}

    def start() -> subprocess.Popen[bytes]:
        with log_file.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "topcontact_mail", "run", "--config", str(config)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        processes.append(process)
        return process

    # -- readiness ------------------------------------------------------------------------
    process = start()
    told: list[str] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and "STATUS=watching 2 of 2 mailboxes" not in told:
        told += messages(sock, 0.3)
    assert told[0] == "READY=1"
    assert "STATUS=watching 2 of 2 mailboxes" in told
    assert told.count("READY=1") == 1

    # -- a few messages on each mailbox: /health and /metrics per mailbox -------------------
    people = {KLANT: 3, VERHUUR: 2}
    for box, count in people.items():
        for n in range(count):
            sandbox.store.deliver(box, mail(box, n))
    bounce = (FIXTURES / "bounce-postfix.eml").read_bytes()
    sandbox.store.deliver(KLANT, bounce)
    wait_for(
        lambda: all(len(per_original(sandbox, b)) == c for b, c in people.items()),
        60,
        "the first acknowledgements",
    )
    wait_for(
        lambda: (
            (
                metric(
                    requests.get(f"{base}/metrics", timeout=5).text,
                    "topcontact_targets_open",
                    mailbox=KLANT,
                    state="on_time",
                )
                or 0
            )
            + (
                metric(
                    requests.get(f"{base}/metrics", timeout=5).text,
                    "topcontact_targets_open",
                    mailbox=KLANT,
                    state="warning",
                )
                or 0
            )
            == 3
        ),
        40,
        "the tracking pass to count the open targets",
    )
    for box, count in people.items():
        wait_for_metric(base, count, "topcontact_acknowledgements_sent_total", mailbox=box)
    health = requests.get(f"{base}/health", timeout=5)
    assert health.status_code == 200, health.text
    snapshot = health.json()
    assert snapshot["status"] == "ok"
    assert set(snapshot["mailboxes"]) == {KLANT, VERHUUR}
    for box in (KLANT, VERHUUR):
        assert snapshot["mailboxes"][box]["status"] == "ok"
        assert snapshot["mailboxes"][box]["reasons"] == []
        assert snapshot["mailboxes"][box]["sync_lag_seconds"] < 60
    text = requests.get(f"{base}/metrics", timeout=5).text
    assert metric(text, "topcontact_healthy") == 1
    assert metric(text, "topcontact_mailboxes") == 2
    for box, count in people.items():
        assert metric(text, "topcontact_acknowledgements_sent_total", mailbox=box) == count
        assert (
            metric(
                text,
                "topcontact_messages_screened_total",
                mailbox=box,
                verdict="acknowledge",
                reason="person",
            )
            == count
        )
        assert metric(text, "topcontact_mailbox_healthy", mailbox=box) == 1
        assert metric(text, "topcontact_credentials_ok", mailbox=box) == 1
        assert metric(text, "topcontact_mailbox_problem", mailbox=box, problem="sync_lagging") == 0
        assert (
            metric(text, "topcontact_backend_calls_total", mailbox=box, operation="fetch_changes")
            or 0
        ) >= 1
        assert (
            metric(
                text,
                "topcontact_backend_calls_total",
                mailbox=box,
                operation="send_acknowledgements",
            )
            or 0
        ) >= 1
        assert (metric(text, "topcontact_sync_lag_seconds", mailbox=box) or 99) < 60
        assert (metric(text, "topcontact_last_sync_timestamp_seconds", mailbox=box) or 0) > (
            time.time() - 60
        )
        assert metric(text, "topcontact_callbacks", mailbox=box, state="missed") == 0
    screened_skip = [
        line
        for line in text.splitlines()
        if line.startswith("topcontact_messages_screened_total{")
        and f'mailbox="{KLANT}"' in line
        and 'verdict="skip"' in line
    ]
    assert screened_skip, "the bounce is screened out and counted"
    assert (
        metric(
            text,
            "topcontact_messages_screened_total",
            mailbox=ONDERHOUD,
            verdict="acknowledge",
            reason="person",
        )
        is None
    )

    # -- SIGHUP with a bad configuration: refused, the old one keeps working ----------------
    good = config.read_text(encoding="utf-8")
    write_config(
        config,
        sandbox,
        port=port,
        boxes=(KLANT, VERHUUR, ONDERHOUD),
        team_name="Team Nieuw",
        broken='[mailboxes.screening]\nper_sender_per_day = 0\npasswrd = "Geheim-Uitgelekt-42"\n',
    )
    messages(sock, 0.1)
    process.send_signal(signal.SIGHUP)
    told = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and "READY=1" not in told:
        told += messages(sock, 0.3)
    assert "RELOADING=1" in told
    assert told.index("RELOADING=1") < told.index("READY=1")
    wait_for(lambda: "the new configuration is refused" in log_file.read_text(), 10, "the refusal")
    refusal = next(
        line
        for line in log_file.read_text().splitlines()
        if "the new configuration is refused" in line
    )
    assert "mailboxes[2] (onderhoud@woonservice.example)" in refusal
    assert "per_sender_per_day" in refusal
    assert "passwrd" in refusal
    assert "Geheim-Uitgelekt-42" not in log_file.read_text()
    sandbox.store.deliver(KLANT, mail(KLANT, 10))
    sandbox.store.deliver(ONDERHOUD, mail(ONDERHOUD, 0))
    wait_for(
        lambda: per_original(sandbox, KLANT)["<klantcontact-10@example.nl>"] == 1, 30, "old config"
    )
    new_ack = next(
        m
        for m in acknowledgements(sandbox, KLANT)
        if m["In-Reply-To"] == "<klantcontact-10@example.nl>"
    )
    assert "Team Klantcontact" in new_ack.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    time.sleep(3)
    assert per_original(sandbox, ONDERHOUD) == Counter()  # not configured (yet)
    text = requests.get(f"{base}/metrics", timeout=5).text
    assert metric(text, "topcontact_config_reloads_total", result="refused") == 1
    assert metric(text, "topcontact_mailboxes") == 2

    # -- SIGHUP with a good configuration: a changed text and an added mailbox ---------------
    write_config(
        config, sandbox, port=port, boxes=(KLANT, VERHUUR, ONDERHOUD), team_name="Team Nieuw"
    )
    assert config.read_text(encoding="utf-8") != good
    messages(sock, 0.1)
    process.send_signal(signal.SIGHUP)
    told = []
    deadline = time.monotonic() + 70
    while time.monotonic() < deadline and "READY=1" not in told:
        told += messages(sock, 0.3)
    assert "RELOADING=1" in told
    assert "READY=1" in told
    wait_for(
        lambda: per_original(sandbox, ONDERHOUD)["<onderhoud-0@example.nl>"] == 1,
        60,
        "the added mailbox",
    )
    sandbox.store.deliver(KLANT, mail(KLANT, 11))
    wait_for(
        lambda: per_original(sandbox, KLANT)["<klantcontact-11@example.nl>"] == 1, 30, "new config"
    )
    newer = next(
        m
        for m in acknowledgements(sandbox, KLANT)
        if m["In-Reply-To"] == "<klantcontact-11@example.nl>"
    )
    assert "Team Nieuw" in newer.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    wait_for_metric(base, 1, "topcontact_acknowledgements_sent_total", mailbox=ONDERHOUD)
    text = requests.get(f"{base}/metrics", timeout=5).text
    assert metric(text, "topcontact_config_reloads_total", result="applied") == 1
    assert metric(text, "topcontact_mailboxes") == 3
    assert metric(text, "topcontact_acknowledgements_sent_total", mailbox=ONDERHOUD) == 1
    assert set(requests.get(f"{base}/health", timeout=5).json()["mailboxes"]) == set(BOXES)
    assert process.poll() is None

    # -- SIGTERM in the middle of a backlog: exit 0; a restart finishes; nothing twice -------
    sandbox.server.latency_ms = 100
    backlog = 30
    for box in BOXES:
        for n in range(100, 100 + backlog):
            sandbox.store.deliver(box, mail(box, n))
    total_before = sum(len(per_original(sandbox, b)) for b in BOXES)
    wait_for(
        lambda: sum(len(per_original(sandbox, b)) for b in BOXES) > total_before,
        30,
        "the backlog to start",
    )
    messages(sock, 0.1)
    process.send_signal(signal.SIGTERM)
    began = time.monotonic()
    code = process.wait(timeout=60)
    stopped_after = time.monotonic() - began
    told = messages(sock, 0.5)
    assert code == 0, log_file.read_text()[-3000:]
    assert stopped_after < 15, stopped_after
    assert "STOPPING=1" in told
    done = sum(len(per_original(sandbox, b)) for b in BOXES)
    expected = {
        KLANT: {
            f"<klantcontact-{n}@example.nl>" for n in (0, 1, 2, 10, 11, *range(100, 100 + backlog))
        },
        VERHUUR: {f"<verhuur-{n}@example.nl>" for n in (0, 1, *range(100, 100 + backlog))},
        ONDERHOUD: {f"<onderhoud-{n}@example.nl>" for n in (0, *range(100, 100 + backlog))},
    }
    assert done < sum(len(v) for v in expected.values()), "stopped in the middle of the backlog"

    sandbox.server.latency_ms = 0
    process = start()
    wait_for(
        lambda: all(set(per_original(sandbox, b)) == expected[b] for b in BOXES),
        120,
        "the rest of the backlog after the restart",
    )
    time.sleep(3)  # a pass or two more: nothing is sent again
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    for box in BOXES:
        counts = per_original(sandbox, box)
        assert {k: v for k, v in counts.items() if v > 1} == {}, f"{box}: acknowledged twice"
        assert set(counts) == expected[box]
    log = log_file.read_text()
    assert PASSWORD not in log
    assert "Traceback" not in log
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(line.get("event") == "configuration reloaded" for line in lines)


def test_one_mailbox_s_refused_credentials_never_stall_another(
    tmp_path: Path, world: dict[str, object]
) -> None:
    sandbox = world["sandbox"]
    processes = world["processes"]
    assert isinstance(sandbox, SandboxHandle)
    assert isinstance(processes, list)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = tmp_path / "topcontact.toml"
    write_config(
        config,
        sandbox,
        port=port,
        boxes=(KLANT, VERHUUR),
        broken='[mailboxes.connection.ews]\npassword = "Verlopen-Wachtwoord-7"\n',
    )
    log_file = tmp_path / "daemon.log"
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "topcontact_mail", "run", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    processes.append(process)
    for n in range(3):
        sandbox.store.deliver(KLANT, mail(KLANT, n))
        sandbox.store.deliver(VERHUUR, mail(VERHUUR, n))
    wait_for(lambda: len(per_original(sandbox, KLANT)) == 3, 60, "the working mailbox")

    def refused() -> bool:
        try:
            answer = requests.get(f"{base}/health", timeout=5)
        except requests.ConnectionError:
            return False
        box = answer.json()["mailboxes"].get(VERHUUR, {})
        return answer.status_code == 503 and box.get("reasons") == ["authentication_failing"]

    wait_for(refused, 30, "the refused mailbox in /health")

    def working_reported() -> bool:
        # The acknowledgements reach Sent Items before the pass that sent them ends and is
        # reported: the working mailbox is "starting" until then.
        box = requests.get(f"{base}/health", timeout=5).json()["mailboxes"].get(KLANT, {})
        return box.get("status") != "starting"

    wait_for(working_reported, 30, "the working mailbox's first pass in /health")
    snapshot = requests.get(f"{base}/health", timeout=5).json()
    assert snapshot["status"] == "failing"
    assert snapshot["mailboxes"][KLANT]["status"] == "ok"
    assert snapshot["mailboxes"][VERHUUR]["status"] == "failing"
    wait_for_metric(base, 3, "topcontact_acknowledgements_sent_total", mailbox=KLANT)
    text = requests.get(f"{base}/metrics", timeout=5).text
    assert metric(text, "topcontact_credentials_ok", mailbox=VERHUUR) == 0
    assert metric(text, "topcontact_credentials_ok", mailbox=KLANT) == 1
    assert metric(text, "topcontact_acknowledgements_sent_total", mailbox=KLANT) == 3
    assert (
        metric(
            text,
            "topcontact_backend_errors_total",
            mailbox=VERHUUR,
            operation="connect",
            kind="credentials",
        )
        or 0
    ) >= 1
    assert per_original(sandbox, VERHUUR) == Counter()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    log = log_file.read_text()
    assert "refuses the service's credentials" in log
    assert "Verlopen-Wachtwoord-7" not in log


def test_several_mailboxes_over_graph(tmp_path: Path) -> None:
    """The same process over Microsoft Graph: two mailboxes, a reload, a clean stop."""
    from exchange_sandbox import serve_graph_tls
    from tests.integration.conftest import write_config as backend_config

    base = load_config()
    users = tuple(
        dataclasses.replace(u, delegate=(*u.delegate, VERHUUR)) if u.name == USER else u
        for u in base.users
    )
    # The app's access policy (RBAC for Applications) covers the second mailbox too.
    apps = tuple(dataclasses.replace(a, mailboxes=(*a.mailboxes, VERHUUR)) for a in base.graph.apps)
    sandbox = start_sandbox(
        config=dataclasses.replace(
            base,
            mailboxes=(*base.mailboxes, MailboxConfig(VERHUUR, "Verhuur")),
            users=users,
            graph=dataclasses.replace(base.graph, apps=apps),
        )
    )
    graph = serve_graph_tls(sandbox.server, tls_dir=tmp_path / "tls")
    port = free_port()
    config = tmp_path / "topcontact.toml"
    tables = "".join(f'[[mailboxes]]\nshared_mailbox = "{box}"\n' for box in (KLANT, VERHUUR))
    backend_config(
        config,
        "graph",
        sandbox,
        tmp_path / "state",
        graph=graph,
        service_keys={"health_listen": f"127.0.0.1:{port}"},
        extra="[callbacks]\nenabled = false\n" + tables,
    )
    process: subprocess.Popen[bytes] | None = None
    try:
        for n in range(3):
            sandbox.store.deliver(KLANT, mail(KLANT, n))
            sandbox.store.deliver(VERHUUR, mail(VERHUUR, n))
        with (tmp_path / "daemon.log").open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "topcontact_mail", "run", "--config", str(config)],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        wait_for(
            lambda: (
                len(per_original(sandbox, KLANT)) == 3 and len(per_original(sandbox, VERHUUR)) == 3
            ),
            60,
            "both mailboxes over Graph",
        )
        process.send_signal(signal.SIGHUP)
        sandbox.store.deliver(VERHUUR, mail(VERHUUR, 3))
        wait_for(lambda: len(per_original(sandbox, VERHUUR)) == 4, 30, "mail after the reload")

        def sent(box: str) -> float | None:
            text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            return metric(text, "topcontact_acknowledgements_sent_total", mailbox=box)

        # Counted when the pass ends, a moment after the copy reaches Sent Items.
        wait_for(lambda: sent(VERHUUR) == 4, 10, "the counter")
        assert sent(KLANT) == 3
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        for box in (KLANT, VERHUUR):
            assert max(per_original(sandbox, box).values()) == 1
    finally:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        graph.stop()
        sandbox.stop()
