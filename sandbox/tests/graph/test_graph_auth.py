"""The real msal code path against the sandbox token endpoint, and Graph's 401/403 answers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import msal
import pytest
import requests
from graph_helpers import (
    CLIENT_ID,
    LIMITED_ID,
    SECRET,
    SHARED,
    Client,
    Credential,
    customer_mail,
    issue_token,
)

from exchange_sandbox.graph import GraphApp, GraphConfig, GraphSandbox, start_graph_sandbox
from exchange_sandbox.store import MailStore

SCOPES = ["https://graph.microsoft.com/.default"]


@pytest.fixture(autouse=True)
def _no_ca_bundle_override(monkeypatch: pytest.MonkeyPatch) -> None:
    # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE win over a Session's verify= (psf/
    # requests#3829), which is how msal passes verify=; the sandbox's CA must be used.
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


@pytest.fixture
def sandbox(store: MailStore, config: GraphConfig, tmp_path: Any) -> Iterator[GraphSandbox]:
    running = start_graph_sandbox(store, config, tls_dir=tmp_path)
    yield running
    running.stop()


def msal_app(
    sandbox: GraphSandbox, credential: Any, **kw: Any
) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        CLIENT_ID,
        authority=sandbox.authority,
        client_credential=credential,
        verify=str(sandbox.ca_file),
        instance_discovery=False,
        token_cache=msal.TokenCache(),
        **kw,
    )


def test_msal_gets_a_token_with_the_client_secret_and_graph_accepts_it(
    sandbox: GraphSandbox, store: MailStore
) -> None:
    store.deliver(SHARED, customer_mail())
    result = msal_app(sandbox, SECRET).acquire_token_for_client(scopes=SCOPES)
    assert "access_token" in result, result
    assert result["token_type"] == "Bearer"
    answer = requests.get(
        f"{sandbox.graph_url}/users/{SHARED}/mailFolders/inbox/messages",
        headers={"Authorization": f"Bearer {result['access_token']}"},
        verify=str(sandbox.ca_file),
        timeout=10,
    )
    assert answer.status_code == 200
    assert answer.json()["value"][0]["subject"] == "Lekkage in de badkamer"


def test_msal_instance_discovery_can_point_at_the_sandbox(sandbox: GraphSandbox) -> None:
    app = msal.ConfidentialClientApplication(
        CLIENT_ID,
        authority=sandbox.authority,
        client_credential=SECRET,
        verify=str(sandbox.ca_file),
        instance_discovery=f"{sandbox.base_url}/common/discovery/instance",
    )
    assert "access_token" in app.acquire_token_for_client(scopes=SCOPES)


@pytest.mark.parametrize("form", ["sha1-thumbprint", "public-certificate"])
def test_msal_gets_a_token_with_a_certificate(
    sandbox: GraphSandbox, credential: Credential, form: str
) -> None:
    cred: dict[str, str] = {"private_key": credential.private_pem}
    if form == "sha1-thumbprint":
        cred["thumbprint"] = credential.sha1  # RS256 client assertion with x5t
    else:
        cred["public_certificate"] = credential.cert_pem  # PS256 with x5t#S256
    result = msal_app(sandbox, cred).acquire_token_for_client(scopes=SCOPES)
    assert "access_token" in result, result


def test_an_unregistered_certificate_is_refused(
    sandbox: GraphSandbox, credential: Credential
) -> None:
    sandbox.app.tokens.revoke(CLIENT_ID, "certificate_removed")
    result = msal_app(
        sandbox, {"private_key": credential.private_pem, "thumbprint": credential.sha1}
    ).acquire_token_for_client(scopes=SCOPES)
    assert result["error"] == "invalid_client"
    assert "AADSTS700027" in result["error_description"]


def test_wrong_secret_expired_secret_and_disabled_app_fail_loudly(sandbox: GraphSandbox) -> None:
    wrong = msal_app(sandbox, "not-the-secret").acquire_token_for_client(scopes=SCOPES)
    assert wrong["error"] == "invalid_client"
    assert wrong["error_codes"] == [7000215]

    requests.post(
        f"{sandbox.base_url}/_sandbox/graph/revoke",
        json={"client_id": CLIENT_ID, "mode": "secret_expired"},
        verify=str(sandbox.ca_file),
        timeout=10,
    ).raise_for_status()
    expired = msal_app(sandbox, SECRET).acquire_token_for_client(scopes=SCOPES)
    assert expired["error"] == "invalid_client"
    assert "AADSTS7000222" in expired["error_description"]

    sandbox.app.tokens.revoke(CLIENT_ID, "disabled")
    disabled = msal_app(sandbox, SECRET).acquire_token_for_client(scopes=SCOPES)
    assert disabled["error"] == "unauthorized_client"
    assert disabled["error_codes"] == [7000112]

    sandbox.app.tokens.restore(CLIENT_ID)
    assert "access_token" in msal_app(sandbox, SECRET).acquire_token_for_client(scopes=SCOPES)


def test_missing_garbage_and_revoked_tokens_get_401(app: GraphApp) -> None:
    client = Client(app, issue_token(app))
    url = f"/users/{SHARED}/messages"
    for token in ("", "garbage", "a.b.c"):
        answer = client.get(url, token=token or " ")
        assert answer.status == 401
        assert answer.json["error"]["code"] == "InvalidAuthenticationToken"
        assert set(answer.json["error"]["innerError"]) == {
            "date",
            "request-id",
            "client-request-id",
        }
    assert client.get(url).status == 200
    app.tokens.revoke(CLIENT_ID, "tokens")
    assert client.get(url).status == 401
    assert Client(app, issue_token(app)).get(url).status == 200


def test_an_expired_token_gets_401(app: GraphApp) -> None:
    app.tokens.token_lifetime = 1
    client = Client(app, issue_token(app))
    assert client.get(f"/users/{SHARED}/messages").status == 200
    time.sleep(1.05)
    answer = client.get(f"/users/{SHARED}/messages")
    assert answer.status == 401
    assert answer.json["error"]["message"] == "Lifetime validation failed, the token is expired."


def test_access_policy_permissions_and_unknown_users(app: GraphApp) -> None:
    limited = Client(app, issue_token(app, LIMITED_ID))
    assert limited.get(f"/users/{SHARED}/messages").status == 200
    denied = limited.get("/users/j.devries@woonservice.example/messages")
    assert denied.status == 403
    assert denied.json["error"]["code"] == "ErrorAccessDenied"
    assert "AccessPolicy" in denied.json["error"]["message"]
    no_send = limited.post(f"/users/{SHARED}/sendMail", {"message": {}})
    assert no_send.status == 403
    assert no_send.json["error"]["code"] == "ErrorAccessDenied"
    unknown = limited.get("/users/nobody@woonservice.example/messages")
    assert unknown.status == 404
    assert unknown.json["error"]["code"] == "ErrorInvalidUser"
    me = limited.get("/me/messages")
    assert me.status == 400


def test_the_scope_must_be_the_graph_default_scope(app: GraphApp) -> None:
    form = (
        f"grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={SECRET}"
        "&scope=Mail.Read"
    ).encode()
    status, _, body = app.handle("POST", f"/{app.config.tenant_id}/oauth2/v2.0/token", "", {}, form)
    assert status == 400
    assert b"AADSTS1002012" in body


def test_the_certificate_folder_it_made_itself_is_removed_when_it_stops(
    config: GraphConfig,
) -> None:
    running = start_graph_sandbox(MailStore(), config)  # no tls_dir: a temporary folder
    assert running.ca_file is not None
    folder = running.ca_file.parent
    assert folder.is_dir()
    running.stop()
    assert not folder.exists()  # test runs would otherwise fill /tmp, one folder per sandbox
