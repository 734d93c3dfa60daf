"""The real `topcontact-mail run --once` catching up a backlog off a terminal: progress log lines;
then `purge --dry-run` on the state it made (nothing is old enough to go)."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.integration.conftest import Backend, write_config
from tests.integration.test_acknowledge_loop import tenant_mail

pytestmark = pytest.mark.integration

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.mark.parametrize("backend", ["ews"], indirect=True)
def test_a_backlog_caught_up_off_a_terminal_logs_its_progress(backend: Backend) -> None:
    write_config(
        backend.config_file,
        "ews",
        backend.sandbox,
        backend.state_dir,
        small_batches=True,
        service_keys={"log_level": "info", "progress_interval_seconds": 0.05},
    )
    day = datetime.now(AMS) - timedelta(hours=2)
    for n in range(40):
        backend.deliver(tenant_mail(n, day + timedelta(seconds=n)))

    result = backend.run_once()

    assert result.returncode == 0, result.stderr.decode()[-2000:]
    lines = [json.loads(x) for x in result.stderr.decode().splitlines() if x.startswith("{")]
    progress = [x for x in lines if x.get("component") == "progress"]
    assert [x for x in progress if x["event"] == "progress"], "no progress line"
    assert all(x["task"] == "catch-up" for x in progress)
    done = [x for x in progress if x["event"] == "progress done"]
    assert done
    assert sum(x["recorded"] for x in done) == 40
    assert sum(x["sent"] for x in done) == 40

    dry = subprocess.run(
        backend.command("purge", "--dry-run", "--json"), capture_output=True, check=False
    )
    assert dry.returncode == 0, dry.stderr.decode()
    assert json.loads(dry.stdout)["total"] == 0
