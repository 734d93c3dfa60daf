"""`topcontact-mail test-connection` against the sandbox over HTTP(S), for both backends.

Each right the service needs is reported ok or missing with its fix; nothing
is ever sent and nothing is left in any folder or calendar afterwards. The
setting no API shows (sent-as copies) is reported last, as "check by hand".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from exchange_sandbox import (
    ITEM_FOLDERS,
    GraphSandbox,
    MailboxConfig,
    SandboxHandle,
    load_config,
    serve_graph_tls,
    start_sandbox,
)
from tests.integration.conftest import PASSWORD, SHARED, write_config
from topcontact_mail.entrypoints.cli import cli

pytestmark = pytest.mark.integration

COLLEAGUES = ["j.devries@woonservice.example", "a.bakker@woonservice.example"]
#: A mailbox in the sandbox that the service account may not impersonate and the app may not open.
STRANGER = "p.jansen@woonservice.example"
CHECKS = [
    "authentication",
    "read shared mailbox",
    "send as shared mailbox",
    "mark messages",
    *(f"calendar {c}" for c in COLLEAGUES),
]
SENT_COPIES = "sent-as copies in the shared mailbox"


@dataclass
class Rig:
    backend: str
    sandbox: SandboxHandle
    graph: GraphSandbox | None
    tmp: Path

    def configure(self, colleagues: list[str] = COLLEAGUES, password: str = PASSWORD) -> Path:
        path = self.tmp / "topcontact.toml"
        write_config(path, self.backend, self.sandbox, self.tmp / "state", graph=self.graph)
        text = path.read_text(encoding="utf-8").replace(
            f'shared_mailbox = "{SHARED}"',
            f'shared_mailbox = "{SHARED}"\ncolleague_mailboxes = {json.dumps(colleagues)}',
        )
        path.write_text(text.replace(f'password = "{PASSWORD}"', f'password = "{password}"'))
        return path

    def run(self, config: Path) -> tuple[int, dict[str, dict[str, Any]], str]:
        result = CliRunner().invoke(cli, ["test-connection", "--config", str(config), "--json"])
        checks = {}
        for line in result.stdout.splitlines():
            entry = json.loads(line)
            checks[entry["name"]] = entry
        return result.exit_code, checks, result.stdout

    def control(self, action: str, payload: dict[str, Any]) -> None:
        assert self.graph is not None
        requests.post(
            f"{self.graph.base_url}/_sandbox/graph/{action}",
            json=payload,
            verify=str(self.graph.ca_file),
            timeout=10,
        ).raise_for_status()

    def leftovers(self) -> list[str]:
        """Every item in any folder of any mailbox (the sandbox starts empty)."""
        store = self.sandbox.store
        return [
            f"{box.email}/{folder}: {item.subject}"
            for box in store.mailboxes()
            for folder in ITEM_FOLDERS
            for item in store.items(box.email, folder)
        ]


@pytest.fixture(params=["ews", "graph"])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    config = load_config()
    # One more colleague, outside the service account's impersonation scope and the app's policy.
    config = replace(config, mailboxes=(*config.mailboxes, MailboxConfig(STRANGER, "Piet Jansen")))
    sandbox = start_sandbox(config=config, state_dir=tmp_path / "sandbox")
    graph = (
        serve_graph_tls(sandbox.server, tls_dir=tmp_path / "tls")
        if request.param == "graph"
        else None
    )
    yield Rig(request.param, sandbox, graph, tmp_path)
    if graph is not None:
        graph.stop()
    sandbox.stop()


def test_every_right_of_the_default_sandbox_is_ok_and_nothing_is_left_behind(rig: Rig) -> None:
    code, checks, output = rig.run(rig.configure())

    assert code == 0, output
    assert list(checks) == [*CHECKS, SENT_COPIES]
    assert all(checks[n]["status"] == "ok" and checks[n]["fix"] == "" for n in CHECKS), output
    sent_copies = checks[SENT_COPIES]
    assert sent_copies["status"] == "check by hand"
    assert "cannot read MessageCopyForSentAsEnabled" in sent_copies["detail"]
    assert f"Get-Mailbox {SHARED}" in sent_copies["fix"]
    assert "-MessageCopyForSentAsEnabled $true" in sent_copies["fix"]
    assert rig.leftovers() == []
    assert PASSWORD not in output
    assert "Sandbox-Graph-Secret" not in output


def test_a_colleague_calendar_out_of_reach_is_missing_with_its_fix(rig: Rig) -> None:
    code, checks, _ = rig.run(rig.configure([COLLEAGUES[0], STRANGER]))

    assert code == 1
    assert checks[f"calendar {COLLEAGUES[0]}"]["ok"] is True
    stranger = checks[f"calendar {STRANGER}"]
    assert stranger["status"] == "missing"
    assert STRANGER in stranger["fix"]
    expected = "ApplicationImpersonation" if rig.backend == "ews" else "application access policy"
    assert expected in stranger["fix"]
    assert all(checks[name]["ok"] for name in CHECKS[:4])
    assert rig.leftovers() == []


def test_the_table_names_each_check_and_its_fix(rig: Rig) -> None:
    config = rig.configure([STRANGER])
    result = CliRunner().invoke(cli, ["test-connection", "--config", str(config)])

    assert result.exit_code == 1
    assert "authentication" in result.stdout
    assert "missing" in result.stdout
    assert "ok" in result.stdout


def test_a_wrong_ews_password_fails_authentication_and_skips_the_rest(tmp_path: Path) -> None:
    sandbox = start_sandbox(state_dir=tmp_path / "sandbox")
    try:
        rig = Rig("ews", sandbox, None, tmp_path)
        code, checks, output = rig.run(rig.configure(password="Wrong-Password-1"))
    finally:
        sandbox.stop()

    assert code == 1
    auth = checks["authentication"]
    assert auth["status"] == "missing"
    assert "svc-topcontact" in auth["fix"]
    assert "password" in auth["fix"]
    assert [checks[n]["status"] for n in CHECKS[1:]] == ["not run"] * (len(CHECKS) - 1)
    assert "Wrong-Password-1" not in output


def test_a_revoked_graph_secret_fails_authentication_with_its_aadsts_code(tmp_path: Path) -> None:
    sandbox = start_sandbox(state_dir=tmp_path / "sandbox")
    graph = serve_graph_tls(sandbox.server, tls_dir=tmp_path / "tls")
    try:
        rig = Rig("graph", sandbox, graph, tmp_path)
        rig.control("revoke", {"mode": "secret_expired"})
        code, checks, output = rig.run(rig.configure())
    finally:
        graph.stop()
        sandbox.stop()

    assert code == 1
    auth = checks["authentication"]
    assert auth["status"] == "missing"
    assert "AADSTS7000222" in auth["detail"]
    assert "new secret" in auth["fix"]
    assert all(checks[n]["status"] == "not run" for n in CHECKS[1:])
    assert "Sandbox-Graph-Secret" not in output


def test_a_bad_configuration_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[connection]\ncolleague_mailboxes = ["not an address"]\n')

    result = CliRunner().invoke(cli, ["test-connection", "--config", str(config)])

    assert result.exit_code == 2
    assert "colleague_mailboxes" in result.stderr


def test_with_several_mailboxes_each_is_checked_and_named(rig: Rig) -> None:
    """Two `[[mailboxes]]`: the one the account may use is ok, the other's rights are missing;
    `--mailbox` checks one alone, its lines as with a single mailbox."""
    config = rig.configure([COLLEAGUES[0]])
    with config.open("a", encoding="utf-8") as file:
        file.write(
            f'\n[[mailboxes]]\nshared_mailbox = "{SHARED}"\n'
            f'\n[[mailboxes]]\nshared_mailbox = "{STRANGER}"\n'
        )

    every = CliRunner().invoke(cli, ["test-connection", "--config", str(config), "--json"])
    table = CliRunner().invoke(cli, ["test-connection", "--config", str(config)])
    one = CliRunner().invoke(
        cli, ["test-connection", "--config", str(config), "--json", "--mailbox", SHARED]
    )

    assert every.exit_code == 1, every.output
    lines = [json.loads(line) for line in every.stdout.splitlines()]
    by_box: dict[str, dict[str, str]] = {}
    for line in lines:
        by_box.setdefault(line["mailbox"], {})[line["name"]] = line["status"]
    assert list(by_box) == [SHARED, STRANGER]
    assert by_box[SHARED]["read shared mailbox"] == "ok"
    assert by_box[STRANGER]["read shared mailbox"] == "missing"
    assert table.exit_code == 1
    assert f"== {SHARED}" in table.stdout
    assert f"== {STRANGER}" in table.stdout
    assert one.exit_code == 0, one.output
    assert all("mailbox" not in json.loads(line) for line in one.stdout.splitlines())
    assert rig.leftovers() == []
