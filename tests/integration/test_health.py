"""The health endpoint tells a monitor when the service works, and why not when it does not."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from exchange_sandbox import start_sandbox
from tests.integration.conftest import PASSWORD, SHARED, USER

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(tmp_path: Path, password: str) -> tuple[subprocess.Popen[bytes], str]:
    sandbox = start_sandbox()
    port = free_port()
    config = tmp_path / "topcontact.toml"
    config.write_text(
        f'[connection]\nshared_mailbox = "{SHARED}"\n[connection.ews]\n'
        f'service_endpoint = "{sandbox.ews_url}"\nusername = "{USER}"\npassword = "{password}"\n'
        f'[service]\nstate_dir = "{tmp_path / "state"}"\nhealth_listen = "127.0.0.1:{port}"\n',
        encoding="utf-8",
    )
    log = (tmp_path / "daemon.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "topcontact_mail", "run", "--config", str(config)],
        stdout=log,
        stderr=log,
    )
    return process, f"http://127.0.0.1:{port}"


def poll(url: str, want: int) -> requests.Response:
    deadline = time.monotonic() + 30
    while True:
        try:
            answer = requests.get(url, timeout=2)
            if answer.status_code == want or time.monotonic() > deadline:
                return answer
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def test_a_working_service_is_healthy_and_counts_in_metrics(tmp_path: Path) -> None:
    process, base = start(tmp_path, PASSWORD)
    try:
        health = poll(f"{base}/health", 200)
        assert health.status_code == 200
        deadline = time.monotonic() + 30
        while health.json()["last_pass"] is None and time.monotonic() < deadline:
            time.sleep(0.2)
            health = requests.get(f"{base}/health", timeout=2)
        assert health.json()["status"] == "ok"
        metrics = requests.get(f"{base}/metrics", timeout=2).text
        assert "topcontact_healthy 1.0" in metrics
        assert f'topcontact_credentials_ok{{mailbox="{SHARED}"}} 1.0' in metrics
        assert health.json()["mailboxes"][SHARED]["status"] == "ok"
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0  # SIGTERM is a clean stop


def test_refused_credentials_are_reported_loudly_not_silently(tmp_path: Path) -> None:
    process, base = start(tmp_path, "expired-password")
    try:
        health = poll(f"{base}/health", 503)
        assert health.status_code == 503
        assert health.json()["status"] == "failing"
        assert "credentials" in health.json()["reason"]
        assert health.json()["mailboxes"][SHARED]["reasons"] == ["authentication_failing"]
        metrics = requests.get(f"{base}/metrics", timeout=2).text
        assert f'topcontact_credentials_ok{{mailbox="{SHARED}"}} 0.0' in metrics
        assert (
            f'topcontact_mailbox_problem{{mailbox="{SHARED}",problem="authentication_failing"}} 1.0'
            in metrics
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
    log = (tmp_path / "daemon.log").read_text()
    assert "refuses the service's credentials" in log
    assert "expired-password" not in log
