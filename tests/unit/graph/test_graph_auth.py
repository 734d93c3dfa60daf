"""App-only sign-in through msal: tokens cached, refused credentials loud and distinct."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import requests
import responses
from pydantic import SecretStr

from topcontact_mail.adapters.graph.auth import CredentialsRejected, MsalTokenSource
from topcontact_mail.config import GraphSettings
from topcontact_mail.logs import configure_logging
from topcontact_mail.ports import MailboxUnavailable

TENANT = "5f2c6d1e-8a44-4b6e-9f1a-3c7d2b9e0a61"
LOGIN = "https://login.microsoftonline.com"
SECRET = "Very-Secret-Value-2026"


def settings(**extra: object) -> GraphSettings:
    values: dict[str, object] = {
        "tenant_id": TENANT,
        "client_id": "0c7f4b1e-2d3a-4e5f-8a9b-1c2d3e4f5a6b",
        "client_secret": SecretStr(SECRET),
    }
    values.update(extra)
    return GraphSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def login() -> responses.RequestsMock:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(
            f"{LOGIN}/{TENANT}/v2.0/.well-known/openid-configuration",
            json={
                "token_endpoint": f"{LOGIN}/{TENANT}/oauth2/v2.0/token",
                "authorization_endpoint": f"{LOGIN}/{TENANT}/oauth2/v2.0/authorize",
                "issuer": f"{LOGIN}/{TENANT}/v2.0",
            },
        )
        # msal asks the instance discovery after an error answer.
        mock.get(
            f"{LOGIN}/common/discovery/instance",
            json={
                "tenant_discovery_endpoint": f"{LOGIN}/{TENANT}/v2.0/.well-known/openid-configuration",
                "metadata": [{"preferred_network": "login.microsoftonline.com", "aliases": []}],
            },
        )
        yield mock


def token_calls(mock: responses.RequestsMock) -> int:
    return sum(1 for c in mock.calls if (c.request.url or "").endswith("/token"))


def test_a_token_is_fetched_once_and_then_served_from_the_cache(
    login: responses.RequestsMock,
) -> None:
    login.post(
        f"{LOGIN}/{TENANT}/oauth2/v2.0/token",
        json={"token_type": "Bearer", "expires_in": 3600, "access_token": "AT-1"},
    )
    source = MsalTokenSource(settings())

    assert source.token() == "AT-1"
    assert source.token() == "AT-1"
    assert token_calls(login) == 1
    body = login.calls[-1].request.body
    assert "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default" in str(body)


def test_invalidate_makes_the_next_call_fetch_a_new_token(login: responses.RequestsMock) -> None:
    login.post(
        f"{LOGIN}/{TENANT}/oauth2/v2.0/token",
        json={"token_type": "Bearer", "expires_in": 3600, "access_token": "AT-1"},
    )
    login.post(
        f"{LOGIN}/{TENANT}/oauth2/v2.0/token",
        json={"token_type": "Bearer", "expires_in": 3600, "access_token": "AT-2"},
    )
    source = MsalTokenSource(settings())
    source.token()

    source.invalidate()

    assert source.token() == "AT-2"


def test_an_expired_secret_is_logged_with_its_aadsts_code_and_raised_distinctly(
    login: responses.RequestsMock,
) -> None:
    login.post(
        f"{LOGIN}/{TENANT}/oauth2/v2.0/token",
        status=401,
        json={
            "error": "invalid_client",
            "error_description": "AADSTS7000222: The provided client secret keys for app "
            "'0c7f…' are expired. Trace ID: 1 Correlation ID: 2 Timestamp: 2026-11-27",
            "error_codes": [7000222],
        },
    )
    out = io.StringIO()
    configure_logging("info", stream=out)

    with pytest.raises(CredentialsRejected) as caught:
        MsalTokenSource(settings()).token()

    assert caught.value.code == "7000222"
    assert isinstance(caught.value, MailboxUnavailable)
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["level"] == "error"
    assert line["aadsts"] == "AADSTS7000222"
    assert "expired" in line["fix"]
    assert SECRET not in out.getvalue()


def test_a_sign_in_service_that_is_down_is_not_a_credential_problem(
    login: responses.RequestsMock,
) -> None:
    login.post(
        f"{LOGIN}/{TENANT}/oauth2/v2.0/token",
        status=503,
        json={"error": "temporarily_unavailable", "error_description": "try later"},
    )
    with pytest.raises(MailboxUnavailable) as caught:
        MsalTokenSource(settings()).token()
    assert not isinstance(caught.value, CredentialsRejected)


def test_a_certificate_file_without_a_private_key_is_refused(tmp_path: Path) -> None:
    pem = tmp_path / "app.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(CredentialsRejected, match="no private key"):
        MsalTokenSource(settings(certificate_path=pem, client_secret=None)).token()


@pytest.mark.parametrize("step", ["openid-configuration", "token"])
def test_an_untrusted_certificate_is_named_with_its_fix(step: str) -> None:
    """Found by the proving ground: a self-signed sign-in service read only "unreachable: SSLError"."""
    refused = requests.exceptions.SSLError(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        configuration = f"{LOGIN}/{TENANT}/v2.0/.well-known/openid-configuration"
        if step == "token":
            mock.get(
                configuration,
                json={
                    "token_endpoint": f"{LOGIN}/{TENANT}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{LOGIN}/{TENANT}/oauth2/v2.0/authorize",
                    "issuer": f"{LOGIN}/{TENANT}/v2.0",
                },
            )
            mock.post(f"{LOGIN}/{TENANT}/oauth2/v2.0/token", body=refused)
        else:
            mock.get(configuration, body=refused)
        with pytest.raises(MailboxUnavailable) as caught:
            MsalTokenSource(settings()).token()
    message = str(caught.value)
    assert "certificate" in message
    assert "CERTIFICATE_VERIFY_FAILED" in message
    assert "ca_file" in message
