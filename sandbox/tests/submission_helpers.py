"""Helpers of the submission tests: a clock the tests move, a sandbox with it, Graph over plain HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from exchange_sandbox import load_config, start_sandbox
from exchange_sandbox.server import SandboxHandle
from exchange_sandbox.store import MailStore

SHARED = "klantcontact@woonservice.example"
DEVRIES = "j.devries@woonservice.example"
#: The delays the product's tests run with: none, a queued transport, a slow one.
DELAYS = (0, 5_000, 60_000)


class FakeClock:
    """Time that moves only when a test says so."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, milliseconds: int) -> None:
        self.now += timedelta(milliseconds=milliseconds)


def delivered_after(store: MailStore, clock: FakeClock, delay_ms: int) -> None:
    """Move the clock to just before the delay (nothing may come), then to it."""
    if delay_ms:
        clock.advance(delay_ms - 1)
        assert store.run_due_submissions() == []
        clock.advance(1)
    store.run_due_submissions()


@contextmanager
def sandbox_with_clock(
    delay_ms: int, in_transit: str = "outbox", **kwargs: Any
) -> Iterator[tuple[SandboxHandle, FakeClock]]:
    """A running sandbox whose transport has ``delay_ms`` and follows a test's clock."""
    handle = start_sandbox(config=load_config(environ={}), **kwargs)
    clock = FakeClock()
    handle.store.submissions.clock = clock
    handle.store.submissions.change({"delay_ms": delay_ms, "in_transit": in_transit})
    try:
        yield handle, clock
    finally:
        handle.stop()


class GraphHttp:
    """Graph on the sandbox's plain-HTTP port, called with requests and an app-only token."""

    def __init__(self, handle: SandboxHandle) -> None:
        self.base = f"{handle.url}/v1.0"
        graph = handle.server.config.graph
        app = graph.apps[0]
        answer = requests.post(
            f"{handle.url}/{graph.tenant_id}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "scope": "https://graph.microsoft.com/.default",
            },
            timeout=10,
        )
        answer.raise_for_status()
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.base + path, timeout=10, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.session.post(self.base + path, json=body, timeout=10, **kwargs)

    def patch(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.session.patch(self.base + path, json=body, timeout=10, **kwargs)

    def folder(self, mailbox: str, folder: str, query: str = "") -> list[dict[str, Any]]:
        answer = self.get(f"/users/{mailbox}/mailFolders/{folder}/messages{query}")
        answer.raise_for_status()
        value: list[dict[str, Any]] = answer.json()["value"]
        return value
