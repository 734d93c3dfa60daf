"""Fixtures for the sandbox Exchange server tests: an in-process sandbox and exchangelib accounts."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from exchangelib import (
    BASIC,
    DELEGATE,
    IMPERSONATION,
    Account,
    Build,
    Configuration,
    Credentials,
    Version,
)

from topcontact_mail.sandbox.server import SandboxHandle, start_sandbox

SHARED = "klantcontact@woonservice.example"
DEVRIES = "j.devries@woonservice.example"
BAKKER = "a.bakker@woonservice.example"
SERVICE_USER = "svc-topcontact"
PASSWORD = "Sandbox-Demo-2026!"
VERSION = Version(build=Build(15, 1, 2507, 6))

_counter = itertools.count(1)


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    handle = start_sandbox()
    try:
        yield handle
    finally:
        handle.stop()


def make_config(
    handle: SandboxHandle,
    user: str = SERVICE_USER,
    password: str = PASSWORD,
    auth_type: str = BASIC,
    probe: bool = False,
) -> Configuration:
    return Configuration(
        service_endpoint=handle.ews_url,
        credentials=Credentials(user, password),
        auth_type=auth_type,
        version=None if probe else VERSION,
    )


def account(
    handle: SandboxHandle,
    address: str = SHARED,
    access_type: str = DELEGATE,
    **config_kwargs: object,
) -> Account:
    return Account(
        address,
        config=make_config(handle, **config_kwargs),  # type: ignore[arg-type]  # test helper passes through
        autodiscover=False,
        access_type=access_type,
    )


@pytest.fixture
def shared(sandbox: SandboxHandle) -> Account:
    return account(sandbox, SHARED, DELEGATE)


@pytest.fixture
def devries(sandbox: SandboxHandle) -> Account:
    return account(sandbox, DEVRIES, IMPERSONATION)


def eml(
    subject: str = "Lekkage in de badkamer",
    sender: str = "Piet Jansen <piet@example.org>",
    to: str = SHARED,
    extra: str = "",
    body: str = "Goedemiddag, er lekt water.",
) -> bytes:
    """A small RFC 5322 message with a unique Message-ID."""
    n = next(_counter)
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <msg{n}.{id(body)}@example.org>\r\n"
        f"Date: Fri, 27 Nov 2026 10:00:00 +0100\r\n{extra}"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{body}\r\n"
    ).encode()


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


def folder_items(handle: SandboxHandle, mailbox: str, folder: str) -> list[dict[str, object]]:
    resp = requests.get(f"{handle.url}/_sandbox/mailboxes/{mailbox}/{folder}", timeout=10)
    resp.raise_for_status()
    result: list[dict[str, object]] = resp.json()
    return result


SCHEMA_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "ews-schema"
