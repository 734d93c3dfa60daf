"""The Graph front mounted beside the EWS sandbox: one store, one stats endpoint, one fault spec."""

from __future__ import annotations

from collections.abc import Iterator

import certifi
import msal
import pytest
import requests

from topcontact_mail.sandbox.graph import GraphConfig
from topcontact_mail.sandbox.graph.mount import mount_graph, serve_graph_tls
from topcontact_mail.sandbox.server import SandboxHandle, start_sandbox

from .conftest import CLIENT_ID, SECRET, SHARED, customer_mail

SCOPES = ["https://graph.microsoft.com/.default"]


@pytest.fixture
def ews_sandbox() -> Iterator[SandboxHandle]:
    handle = start_sandbox()
    yield handle
    handle.stop()


def test_graph_over_tls_shares_store_stats_and_faults_with_the_ews_sandbox(
    ews_sandbox: SandboxHandle,
    config: GraphConfig,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: object,
) -> None:
    # The product's recommended set-up: an http_client session that trusts the sandbox CA
    # and ignores REQUESTS_CA_BUNDLE (which would otherwise override verify=, psf/requests#3829).
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    mount_graph(ews_sandbox.server, config)
    tls = serve_graph_tls(ews_sandbox.server)
    try:
        session = requests.Session()
        session.verify = str(tls.ca_file)
        session.trust_env = False
        app = msal.ConfidentialClientApplication(
            CLIENT_ID,
            authority=tls.authority,
            client_credential=SECRET,
            http_client=session,
            instance_discovery=False,
        )
        token = app.acquire_token_for_client(scopes=SCOPES)["access_token"]
        requests.post(
            f"{ews_sandbox.url}/_sandbox/deliver?mailbox={SHARED}", data=customer_mail(), timeout=10
        ).raise_for_status()
        auth = {"Authorization": f"Bearer {token}"}
        listed = session.get(f"{tls.graph_url}/users/{SHARED}/messages", headers=auth, timeout=10)
        assert listed.status_code == 200
        assert listed.json()["value"][0]["subject"] == "Lekkage in de badkamer"

        ews_sandbox.set_faults("server_busy=1.0,backoff_ms=2000,ops=graph.messages.list")
        busy = session.get(f"{tls.graph_url}/users/{SHARED}/messages", headers=auth, timeout=10)
        assert busy.status_code == 429
        assert busy.headers["Retry-After"] == "2"
        assert busy.json()["error"]["code"] == "TooManyRequests"

        stats = requests.get(f"{ews_sandbox.url}/_sandbox/stats", timeout=10).json()
        assert stats["operations"]["graph.messages.list"] == 2
        assert stats["operations"]["graph.token"] == 1
        assert stats["faults"]["server_busy"] == 1
    finally:
        tls.stop()
