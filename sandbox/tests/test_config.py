"""The sandbox's one configuration file: every table is read, and the running fronts use it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from exchange_sandbox.config import ConfigError, load_config
from exchange_sandbox.graph.mount import serve_graph_tls
from exchange_sandbox.graph.server import GraphSandbox, make_tls_files
from exchange_sandbox.server import SandboxHandle, start_sandbox

TENANT = "0f1e2d3c-4b5a-4968-8776-655443322110"
CLIENT_ID = "aa11bb22-cc33-4d44-8e55-ff6677889900"
SECRET = "Another-Tenant-Secret-1!"
MAILBOX = "postbus@woonstichting.example"

CONFIG = f"""
[server]
version = "15.2.1118.7"
domain = "STICHTING"

[[mailboxes]]
address = "{MAILBOX}"
name = "Postbus Woonstichting"

[[users]]
name = "svc-other"
password = "Other-Password-1!"
delegate = ["{MAILBOX}"]

[graph]
tenant_id = "{TENANT}"
token_lifetime_seconds = 600
send_limit_per_minute = 30
mailbox_concurrency = 2

[[graph.apps]]
client_id = "{CLIENT_ID}"
name = "other app"
client_secret = "{SECRET}"
certificates = ["certs/graph-sandbox-ca.pem"]
roles = ["Mail.Read"]
mailboxes = ["{MAILBOX}"]
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    make_tls_files(tmp_path / "certs")  # any PEM certificate will do for the app registration
    path = tmp_path / "sandbox.toml"
    path.write_text(CONFIG, "utf-8")
    return path


@pytest.fixture
def running(config_file: Path) -> Iterator[tuple[SandboxHandle, GraphSandbox]]:
    handle = start_sandbox(config=load_config(config_file))
    graph = serve_graph_tls(handle.server)
    try:
        yield handle, graph
    finally:
        graph.stop()
        handle.stop()


def test_load_config_reads_every_table_of_one_file(config_file: Path) -> None:
    config = load_config(config_file)
    assert config.build == (15, 2, 1118, 7)
    assert config.domain == "STICHTING"
    assert [m.address for m in config.mailboxes] == [MAILBOX]
    user = config.user("STICHTING\\svc-other")
    assert user is not None
    assert user.may_open(MAILBOX)
    graph = config.graph
    assert graph.tenant_id == TENANT
    assert (graph.token_lifetime_seconds, graph.send_limit_per_minute) == (600, 30)
    assert graph.mailbox_concurrency == 2
    [app] = graph.apps
    assert (app.client_id, app.client_secret, app.roles) == (CLIENT_ID, SECRET, ("Mail.Read",))
    assert len(app.certificates) == 1  # the path is relative to the TOML file


def test_the_shipped_default_has_its_graph_app_registration() -> None:
    [app] = load_config().graph.apps
    assert app.client_secret is not None
    assert "Mail.Send" in app.roles


def test_an_invalid_graph_table_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[[graph.apps]]\nclient_id = "x"\n', "utf-8")
    with pytest.raises(ConfigError, match="client_secret or certificates"):
        load_config(path)


def test_a_config_files_graph_table_is_what_the_running_graph_front_uses(
    running: tuple[SandboxHandle, GraphSandbox],
) -> None:
    handle, graph = running
    assert graph.authority.endswith(f"/{TENANT}")
    form = {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "scope": "https://graph.microsoft.com/.default",
    }
    verify = str(graph.ca_file)
    issued = requests.post(
        f"{graph.authority}/oauth2/v2.0/token", data=form, verify=verify, timeout=10
    )
    assert issued.status_code == 200, issued.text
    assert issued.json()["expires_in"] == 600
    auth = {"Authorization": f"Bearer {issued.json()['access_token']}"}
    listed = requests.get(
        f"{graph.graph_url}/users/{MAILBOX}/messages", headers=auth, verify=verify, timeout=10
    )
    assert listed.status_code == 200, listed.text
    # The shipped tenant and app registration are not there: the file replaced them.
    shipped = load_config().graph
    unknown_tenant = requests.get(
        f"{graph.base_url}/{shipped.tenant_id}/v2.0/.well-known/openid-configuration",
        verify=verify,
        timeout=10,
    )
    assert unknown_tenant.status_code == 400
    [shipped_app] = shipped.apps
    refused = requests.post(
        f"{graph.authority}/oauth2/v2.0/token",
        data={**form, "client_id": shipped_app.client_id, "client_secret": "x"},
        verify=verify,
        timeout=10,
    )
    assert refused.status_code == 400
    assert 700016 in refused.json()["error_codes"]  # application not found in the directory
    # The plain-HTTP port of the same server answers Graph with the same registration.
    over_http = requests.post(f"{handle.url}/{TENANT}/oauth2/v2.0/token", data=form, timeout=10)
    assert over_http.status_code == 200
