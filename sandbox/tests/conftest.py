"""Fixtures for the sandbox Exchange server tests: an in-process sandbox and exchangelib accounts."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests
from exchangelib import DELEGATE, IMPERSONATION, Account

from exchange_sandbox.server import SandboxHandle, start_sandbox
from sandbox_helpers import DEVRIES, SHARED, account, check_answers


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    """A sandbox whose every EWS answer is checked against Microsoft's schema."""
    handle = start_sandbox()
    problems = check_answers(handle)
    try:
        yield handle
    finally:
        handle.stop()
    assert not problems, "schema-invalid EWS answers:\n" + "\n".join(problems)


@pytest.fixture
def shared(sandbox: SandboxHandle) -> Account:
    return account(sandbox, SHARED, DELEGATE)


@pytest.fixture
def devries(sandbox: SandboxHandle) -> Account:
    return account(sandbox, DEVRIES, IMPERSONATION)


@pytest.fixture
def deliver(sandbox: SandboxHandle) -> Callable[..., dict[str, str]]:
    def _deliver(mime: bytes, mailbox: str = SHARED, received: str | None = None) -> dict[str, str]:
        params = {"mailbox": mailbox}
        if received:
            params["received"] = received
        resp = requests.post(
            f"{sandbox.url}/_sandbox/deliver", params=params, data=mime, timeout=10
        )
        resp.raise_for_status()
        result: dict[str, str] = resp.json()
        return result

    return _deliver
