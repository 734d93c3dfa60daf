"""The admin commands read the state `run` wrote for each of two mailboxes (issue 13, "Admin commands").

`run --once` (the real process) against the sandbox with two shared mailboxes, then
`status`, `report` and `purge` as an administrator runs them: each mailbox's figures under
its address, or one mailbox's alone with `--mailbox`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.integration.test_several_mailboxes import KLANT, VERHUUR, mail, start_three, write_config
from topcontact_mail.entrypoints.cli import cli

pytestmark = pytest.mark.integration


def test_status_report_and_purge_reach_each_mailbox_s_state_that_run_wrote(
    tmp_path: Path,
) -> None:
    sandbox = start_three()
    try:
        config = tmp_path / "topcontact.toml"
        write_config(config, sandbox, port=0, boxes=(KLANT, VERHUUR))
        config.write_text(
            config.read_text(encoding="utf-8").replace('"127.0.0.1:0"', '""'),
            encoding="utf-8",
        )
        for n in range(2):
            sandbox.store.deliver(KLANT, mail(KLANT, n))
        sandbox.store.deliver(VERHUUR, mail(VERHUUR, 0))
        ran = subprocess.run(
            [sys.executable, "-m", "topcontact_mail", "run", "--once", "--config", str(config)],
            capture_output=True,
            timeout=120,
        )
        assert ran.returncode == 0, ran.stderr.decode()[-2000:]
    finally:
        sandbox.stop()
    runner = CliRunner()
    month = datetime.now().astimezone().strftime("%Y-%m")

    status = runner.invoke(cli, ["status", "--json", "--config", str(config)])
    report = runner.invoke(cli, ["report", "--month", month, "--json", "--config", str(config)])
    one = runner.invoke(cli, ["status", "--json", "--mailbox", VERHUUR, "--config", str(config)])
    purge = runner.invoke(
        cli, ["purge", "--dry-run", "--json", "--mailbox", KLANT, "--config", str(config)]
    )

    assert status.exit_code == 0, status.output
    assert {box: s["counts"]["open"] for box, s in json.loads(status.stdout).items()} == {
        KLANT: 2,
        VERHUUR: 1,
    }
    assert report.exit_code == 0, report.output
    figures = json.loads(report.stdout)
    assert {box: figures[box]["totals"]["received"] for box in figures} == {KLANT: 2, VERHUUR: 1}
    assert one.exit_code == 0, one.output
    assert [row["sender"] for row in json.loads(one.stdout)["open"]] == [
        "huurder-verhuur-0@example.nl"
    ]
    assert purge.exit_code == 0, purge.output
    assert json.loads(purge.stdout)["total"] == 0  # nothing is old enough yet
    assert (tmp_path / "state" / KLANT / "topcontact.sqlite3").is_file()
    assert (tmp_path / "state" / VERHUUR / "topcontact.sqlite3").is_file()
