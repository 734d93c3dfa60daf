"""Fixtures of the EWS adapter's unit tests: SOAP over HTTP mocked with `responses`, no real waits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from exchangelib.protocol import CachingProtocol

from topcontact_mail.adapters.ews.account import build_account
from topcontact_mail.adapters.ews.mailbox import EwsMailbox
from topcontact_mail.config import ConnectionSettings, EwsSettings, Settings, TeamSettings

from .support import SHARED, URL, FakeEws, Sleeps


@pytest.fixture
def settings() -> Settings:
    return Settings(
        connection=ConnectionSettings(
            shared_mailbox=SHARED,
            ews=EwsSettings(
                service_endpoint=URL,
                username="svc-topcontact",
                password="secret",
                auth_type="basic",
                retry_wait_seconds=1.0,
            ),
        ),
        team=TeamSettings(name="Team Klantcontact", organisation="Woonservice"),
    )


@pytest.fixture
def ews() -> Iterator[FakeEws]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as http:
        yield FakeEws(http)
    CachingProtocol.clear_cache()  # exchangelib shares protocols per endpoint across accounts


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def mailbox(ews: FakeEws, settings: Settings, sleeps: Sleeps) -> EwsMailbox:
    assert settings.connection.ews is not None
    account = build_account(settings, settings.connection.ews)
    return EwsMailbox(
        account, batch_size=10, display_name="Team Klantcontact", retry_wait=1.0, sleep=sleeps
    )
