"""Submission settings: the config file, the environment, the control endpoint, counters, a real process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from exchangelib import DELEGATE, Message

from exchange_sandbox.config import ConfigError, load_config
from exchange_sandbox.server import SandboxHandle
from exchange_sandbox.store.submission import SubmissionSettings
from sandbox_helpers import account, eml, folder_items
from submission_helpers import DEVRIES, SHARED, sandbox_with_clock

OWN_SETTINGS = f"""
[submission]
delay_ms = 5000
jitter_ms = 1000
in_transit = "hidden"

[[mailboxes]]
address = "{SHARED}"
submission = {{ delay_ms = 60000 }}

[[mailboxes]]
address = "{DEVRIES}"
"""


def test_the_file_sets_defaults_and_a_mailbox_may_differ(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text(OWN_SETTINGS)
    config = load_config(tmp_path / "s.toml", environ={})
    assert config.submission == SubmissionSettings(5000, 1000, "hidden")
    assert config.submission_settings() == {SHARED: SubmissionSettings(60000, 1000, "hidden")}
    assert load_config(environ={}).submission == SubmissionSettings(0, 0, "outbox")


def test_the_environment_overrides_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text(OWN_SETTINGS)
    env = {
        "EXCHANGE_SANDBOX_SUBMISSION_DELAY_MS": "250",
        "EXCHANGE_SANDBOX_SUBMISSION_IN_TRANSIT": "outbox",
    }
    config = load_config(tmp_path / "s.toml", environ=env)
    assert config.submission == SubmissionSettings(250, 1000, "outbox")
    # A mailbox's own table still wins for what it sets.
    assert config.submission_settings()[SHARED] == SubmissionSettings(60000, 1000, "outbox")
    shipped = load_config(environ={"EXCHANGE_SANDBOX_SUBMISSION_DELAY_MS": "5000"})
    assert shipped.submission.delay_ms == 5000


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("[submission]\ndelay_ms = -1\n", {}, "delay_ms"),
        ('[submission]\ndelay_ms = "5s"\n', {}, "delay_ms"),
        ('[submission]\nin_transit = "limbo"\n', {}, "in_transit"),
        ("[submission]\nspeed = 1\n", {}, "unknown"),
        ("submission = 5\n", {}, "table"),
        ("", {"EXCHANGE_SANDBOX_SUBMISSION_DELAY_MS": "5s"}, "milliseconds"),
    ],
)
def test_bad_submission_settings_are_refused_clearly(
    tmp_path: Path, text: str, env: dict[str, str], message: str
) -> None:
    (tmp_path / "s.toml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path / "s.toml", environ=env)


def test_the_control_endpoint_reads_and_changes_the_settings(sandbox: SandboxHandle) -> None:
    url = f"{sandbox.url}/_sandbox/submission"
    shown = requests.get(url, timeout=10).json()
    assert shown["default"] == {"delay_ms": 0, "jitter_ms": 0, "in_transit": "outbox"}
    assert shown["mailboxes"][SHARED] == shown["default"]
    assert shown["in_transit"] == 0
    assert shown["queue"] == []

    body = {"delay_ms": 5000, "jitter_ms": 1000, "in_transit": "hidden"}
    changed = requests.post(url, json=body, timeout=10)
    assert changed.status_code == 200
    assert changed.json()["default"] == body
    assert {s["delay_ms"] for s in changed.json()["mailboxes"].values()} == {5000}

    one = requests.post(url, json={"mailbox": DEVRIES, "delay_ms": 60000}, timeout=10).json()
    assert one["mailboxes"][DEVRIES] == {**body, "delay_ms": 60000}
    assert one["mailboxes"][SHARED] == body

    for bad in ({"delay_ms": -5}, {"delay_ms": 1.5}, {"in_transit": "limbo"}, {"speed": 1}):
        refused = requests.post(url, json=bad, timeout=10)
        assert refused.status_code == 400, bad
        assert "error" in refused.json()
    assert requests.post(url, data=b"delay=5", timeout=10).status_code == 400
    assert requests.post(url, json={"mailbox": "x@y.example"}, timeout=10).status_code == 404
    assert requests.get(url, timeout=10).json()["default"] == body


def test_stats_count_what_is_in_transit_and_delivered_and_run_delivers_it_now() -> None:
    with sandbox_with_clock(60_000) as (handle, _clock):
        shared = account(handle, SHARED, DELEGATE)
        for n in range(2):
            Message(
                account=shared,
                folder=shared.sent,
                subject=f"Bericht {n}",
                body="x",
                to_recipients=[DEVRIES],
            ).send_and_save()
        stats = requests.get(f"{handle.url}/_sandbox/stats", timeout=10).json()
        assert stats["submission"] == {"in_transit": 2, "delivered": 0, "failed": 0}
        queue = requests.get(f"{handle.url}/_sandbox/submission", timeout=10).json()["queue"]
        assert sorted(q["subject"] for q in queue) == ["Bericht 0", "Bericht 1"]
        assert {q["state"] for q in queue} == {"in_transit"}
        assert [i["folder"] for i in folder_items(handle, SHARED, "outbox")] == ["outbox"] * 2

        run = f"{handle.url}/_sandbox/submission/run"
        assert requests.post(run, timeout=10).json() == {"delivered": []}  # nothing is due yet
        done = requests.post(run, json={"all": True}, timeout=10).json()["delivered"]
        assert [d["state"] for d in done] == ["delivered", "delivered"]
        stats = requests.get(f"{handle.url}/_sandbox/stats", timeout=10).json()
        assert stats["submission"] == {"in_transit": 0, "delivered": 2, "failed": 0}
        assert len(folder_items(handle, SHARED, "sentitems")) == 2
        assert len(folder_items(handle, DEVRIES, "inbox")) == 2


def _serve(state: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "exchange_sandbox", "serve", "--port", "0", "--state", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"(http://[\d.]+:\d+)/EWS/Exchange.asmx", line)
    assert match, line + (proc.stderr.read() if proc.stderr else "")
    return proc, match.group(1)


def _stop(proc: subprocess.Popen[Any]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)


def _sent(url: str) -> list[dict[str, object]]:
    answer = requests.get(f"{url}/_sandbox/mailboxes/{SHARED}/sentitems", timeout=10)
    answer.raise_for_status()
    result: list[dict[str, object]] = answer.json()
    return result


def test_a_real_process_delivers_after_the_delay_and_keeps_its_queue_across_a_restart(
    tmp_path: Path,
) -> None:
    # Long enough for a stop and a start of the process on a busy machine (both take up to a
    # second or two under a parallel test run), short enough for a test.
    env = {"EXCHANGE_SANDBOX_SUBMISSION_DELAY_MS": "4000"}
    proc, url = _serve(tmp_path, env)
    try:

        class Remote:
            ews_url = f"{url}/EWS/Exchange.asmx"

        shared = account(Remote, SHARED, DELEGATE)  # type: ignore[arg-type]  # duck-typed handle
        Message(
            account=shared, folder=shared.sent, mime_content=eml(sender=SHARED, to=DEVRIES)
        ).send_and_save()
        sent_at = time.monotonic()
        assert _sent(url) == []
        _stop(proc)  # transport has not taken it yet

        proc, url = _serve(tmp_path, env)
        queue = requests.get(f"{url}/_sandbox/submission", timeout=10).json()["queue"]
        assert len(queue) == 1
        deadline = time.monotonic() + 10
        while not _sent(url) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(_sent(url)) == 1
        assert time.monotonic() - sent_at >= 3.9
        inbox = requests.get(f"{url}/_sandbox/mailboxes/{DEVRIES}/inbox", timeout=10).json()
        assert len(inbox) == 1
    finally:
        _stop(proc)
