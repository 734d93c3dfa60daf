"""A server that asks for a long back-off: the service waits it out in place, yet a stop
(SIGTERM from systemd or an administrator) still ends it within seconds, and the watchdog
keeps hearing from the loop meanwhile (tests/unit/test_retry.py)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.integration.conftest import Backend
from tests.integration.test_acknowledge_loop import AMS, tenant_mail

pytestmark = pytest.mark.integration

#: Longer than systemd's watchdog (WatchdogSec=120) and than a stop may take; still a wait
#: the service honours in place (at most 300 s).
BACK_OFF_SECONDS = 200


def longest_back_off(log: Path) -> float:
    """The longest wait the daemon logged it is backing off for (0 when none yet)."""
    text = log.read_text("utf-8", "replace") if log.exists() else ""
    longest = 0.0
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("event") == "transient failure, backing off":
            longest = max(longest, float(event.get("seconds", 0)))
    return longest


def test_a_stop_during_a_long_back_off_ends_the_service_at_once(backend: Backend) -> None:
    log = backend.config_file.parent / "daemon.log"
    backend.deliver(tenant_mail(0, datetime(2026, 11, 23, 9, 0, tzinfo=AMS)))
    process = backend.start_daemon()
    deadline = time.monotonic() + 60
    while not backend.sent_items() and time.monotonic() < deadline:  # connected and working
        time.sleep(0.2)
    assert backend.sent_items(), log.read_text("utf-8")[-2000:]

    backend.sandbox.set_faults(f"server_busy=1.0,backoff_ms={BACK_OFF_SECONDS * 1000}")
    backend.deliver(tenant_mail(1, datetime(2026, 11, 23, 9, 1, tzinfo=AMS)))  # work to do
    deadline = time.monotonic() + 60
    while longest_back_off(log) < BACK_OFF_SECONDS - 1 and time.monotonic() < deadline:
        assert process.poll() is None, log.read_text("utf-8")[-2000:]
        time.sleep(0.2)
    assert longest_back_off(log) >= BACK_OFF_SECONDS - 1, "the server's back-off never came"

    asked = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("still waiting out the server's back-off 30 s after SIGTERM")
    assert code == 0
    assert time.monotonic() - asked < 15
