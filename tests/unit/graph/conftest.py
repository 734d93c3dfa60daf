"""Fixtures of the Graph adapter's unit tests: HTTP mocked with `responses`, no real waits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from topcontact_mail.adapters.graph.client import GraphClient
from topcontact_mail.adapters.graph.mailbox import GraphMailbox

from .support import ROOT, SHARED, FakeTokens, Sleeps


@pytest.fixture(autouse=True)
def no_abandoned_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    """A timed-out request's slots come back at once (a test of the hold sets its own)."""
    monkeypatch.setattr("topcontact_mail.adapters.graph.client.ABANDONED_HOLD_SECONDS", 0.0)


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def tokens() -> FakeTokens:
    return FakeTokens()


@pytest.fixture
def client(tokens: FakeTokens, sleeps: Sleeps) -> GraphClient:
    return GraphClient(ROOT, tokens, retry_wait=1.0, sleep=sleeps, mailbox=SHARED)


@pytest.fixture
def mailbox(client: GraphClient, sleeps: Sleeps) -> GraphMailbox:
    return GraphMailbox(
        client, SHARED, display_name="Team Klantcontact", send_rate_per_minute=0, sleep=sleeps
    )
