"""The Graph front mounted beside the EWS sandbox: one store, one stats endpoint, one fault spec."""

from __future__ import annotations

import time
from collections.abc import Iterator

import certifi
import msal
import pytest
import requests
from graph_helpers import CLIENT_ID, SECRET, SHARED, customer_mail

from exchange_sandbox.config import load_config
from exchange_sandbox.graph import GraphConfig
from exchange_sandbox.graph.mount import mount_graph, serve_graph_tls
from exchange_sandbox.server import SandboxHandle, start_sandbox

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


def test_the_ews_sandbox_port_answers_graph_with_the_shipped_app_registration(
    ews_sandbox: SandboxHandle,
) -> None:
    auth = shipped_token(ews_sandbox.url)
    ews_sandbox.store.deliver(SHARED, customer_mail())
    [message] = requests.get(
        f"{ews_sandbox.url}/v1.0/users/{SHARED}/mailFolders/inbox/messages",
        headers=auth,
        timeout=10,
    ).json()["value"]
    patched = requests.patch(
        f"{ews_sandbox.url}/v1.0/users/{SHARED}/messages/{message['id']}",
        json={"categories": ["Bevestigd"]},
        headers=auth,
        timeout=10,
    )
    assert patched.status_code == 200
    assert patched.json()["categories"] == ["Bevestigd"]
    deleted = requests.delete(
        f"{ews_sandbox.url}/v1.0/users/{SHARED}/messages/{message['id']}", headers=auth, timeout=10
    )
    assert deleted.status_code == 204
    stats = requests.get(f"{ews_sandbox.url}/_sandbox/stats", timeout=10).json()["operations"]
    assert stats["graph.messages.update"] == 1
    assert stats["graph.messages.delete"] == 1


def shipped_token(url: str) -> dict[str, str]:
    shipped = load_config().graph
    [app] = shipped.apps
    token = requests.post(
        f"{url}/{shipped.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app.client_id,
            "client_secret": app.client_secret or "",
            "scope": "https://graph.microsoft.com/.default",
        },
        timeout=10,
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_a_lost_graph_answer_closes_the_connection_after_the_work_is_done(
    ews_sandbox: SandboxHandle,
) -> None:
    auth = shipped_token(ews_sandbox.url)
    item = ews_sandbox.store.deliver(SHARED, customer_mail())
    message = f"{ews_sandbox.url}/v1.0/users/{SHARED}/messages/{item.id.replace('/', '-').replace('+', '_')}"
    ews_sandbox.set_faults("lost=1.0,ops=graph.messages.update+graph.user.sendMail")
    with pytest.raises(requests.ConnectionError):
        requests.patch(message, json={"categories": ["Bevestigd"]}, headers=auth, timeout=10)
    assert ews_sandbox.store.get(item.id).categories == ("Bevestigd",)
    assert requests.get(message, headers=auth, timeout=10).status_code == 200  # not listed
    # A batch is lost whole when one of its steps' operations is listed; every step ran.
    send = {
        "id": "1",
        "method": "POST",
        "url": f"/users/{SHARED}/sendMail",
        "headers": {"Content-Type": "application/json"},
        "body": {
            "message": {
                "subject": "Ontvangen",
                "toRecipients": [{"emailAddress": {"address": "j.devries@woonservice.example"}}],
            }
        },
    }
    with pytest.raises(requests.ConnectionError):
        requests.post(
            f"{ews_sandbox.url}/v1.0/$batch", json={"requests": [send]}, headers=auth, timeout=10
        )
    assert [
        it.subject for it in ews_sandbox.store.items("j.devries@woonservice.example", "inbox")
    ] == ["Ontvangen"]
    stats = requests.get(f"{ews_sandbox.url}/_sandbox/stats", timeout=10).json()
    assert stats["faults"]["lost"] == 2


def test_the_steps_of_a_batch_run_side_by_side_so_a_slow_step_delays_only_its_wave(
    ews_sandbox: SandboxHandle,
) -> None:
    # Graph runs up to four steps of a batch at once: four slow steps take one delay, not four.
    auth = shipped_token(ews_sandbox.url)
    ews_sandbox.set_faults("slow=1.0,slow_ms=800,ops=graph.messages.list")
    steps = [{"id": str(n), "method": "GET", "url": f"/users/{SHARED}/messages"} for n in range(4)]
    began = time.monotonic()
    answer = requests.post(
        f"{ews_sandbox.url}/v1.0/$batch", json={"requests": steps}, headers=auth, timeout=10
    )
    seconds = time.monotonic() - began
    assert sorted(r["status"] for r in answer.json()["responses"]) == [200] * 4
    assert 0.8 <= seconds < 1.6  # one wave: one slow answer's delay (four would be 3.2 s)
