"""The `topcontact-mail sandbox` commands: serve as its own process, deliver to a running sandbox."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import requests
from click.testing import CliRunner
from exchangelib import DELEGATE

from exchange_sandbox.cli import sandbox_group
from exchange_sandbox.server import SandboxHandle
from sandbox_helpers import SHARED, account, eml, folder_items


def test_deliver_posts_eml_files_to_a_running_sandbox(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    first, second = tmp_path / "a.eml", tmp_path / "b.eml"
    first.write_bytes(eml(subject="Eerste"))
    second.write_bytes(eml(subject="Tweede"))
    result = CliRunner().invoke(
        sandbox_group,
        ["deliver", "--mailbox", SHARED, "--url", sandbox.url, "--received", "2026-11-27T10:00:00+01:00",
         str(first), str(second)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(i["subject"] for i in folder_items(sandbox, SHARED, "inbox")) == [
        "Eerste",
        "Tweede",
    ]


def test_deliver_says_clearly_when_no_sandbox_runs(tmp_path: Path) -> None:
    mail = tmp_path / "a.eml"
    mail.write_bytes(eml())
    result = CliRunner().invoke(
        sandbox_group, ["deliver", "--mailbox", SHARED, "--url", "http://127.0.0.1:9", str(mail)]
    )
    assert result.exit_code == 2
    assert "No sandbox answers" in result.output


def test_help_names_it_a_test_double() -> None:
    result = CliRunner().invoke(sandbox_group, ["--help"])
    assert "TEST DOUBLE" in result.output


def test_serve_runs_as_its_own_process_and_keeps_state(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "topcontact_mail",
            "sandbox",
            "serve",
            "--port",
            "0",
            "--state",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"http://([\d.]+):(\d+)/EWS/Exchange.asmx", line)
        assert match, line + (proc.stderr.read() if proc.stderr else "")
        url = f"http://{match.group(1)}:{match.group(2)}"
        requests.post(f"{url}/_sandbox/deliver", params={"mailbox": SHARED}, data=eml(), timeout=10)

        class Remote:
            ews_url = f"{url}/EWS/Exchange.asmx"

        acc = account(Remote(), SHARED, DELEGATE)  # type: ignore[arg-type]  # only ews_url is used
        assert acc.inbox.total_count == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert (tmp_path / "sandbox.sqlite3").is_file()


GRAPH_TENANT = "0f1e2d3c-4b5a-4968-8776-655443322110"
GRAPH_CLIENT = "aa11bb22-cc33-4d44-8e55-ff6677889900"
GRAPH_SECRET = "Another-Tenant-Secret-1!"


def test_serve_with_a_graph_port_serves_the_config_files_graph_table(tmp_path: Path) -> None:
    config = tmp_path / "sandbox.toml"
    config.write_text(
        f'[[mailboxes]]\naddress = "{SHARED}"\n\n'
        f'[graph]\ntenant_id = "{GRAPH_TENANT}"\n\n'
        f'[[graph.apps]]\nclient_id = "{GRAPH_CLIENT}"\nclient_secret = "{GRAPH_SECRET}"\n',
        "utf-8",
    )
    state = tmp_path / "state"
    proc = subprocess.Popen(
        [sys.executable, "-m", "exchange_sandbox", "serve", "--port", "0", "--graph-port", "0",
         "--state", str(state), "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(6)]
        printed = "".join(lines)
        assert "App: client_id=" in lines[-1], printed + (proc.stderr.read() if proc.stderr else "")
        authority = re.search(r"Authority: (https://\S+)", printed)
        ca_file = re.search(r"CA certificate to trust: (\S+)", printed)
        assert authority, printed
        assert ca_file, printed
        assert authority.group(1).endswith(f"/{GRAPH_TENANT}")
        assert f"App: client_id={GRAPH_CLIENT} " in printed
        assert Path(ca_file.group(1)).parent == state / "tls"  # the TLS files live in the state
        token = requests.post(
            f"{authority.group(1)}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": GRAPH_CLIENT,
                "client_secret": GRAPH_SECRET,
                "scope": "https://graph.microsoft.com/.default",
            },
            verify=ca_file.group(1),
            timeout=10,
        )
        assert token.status_code == 200, token.text
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0
