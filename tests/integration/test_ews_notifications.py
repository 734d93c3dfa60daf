"""EWS notifications: new mail is signalled over a streaming subscription, not found by polling."""

from __future__ import annotations

import threading
import time

import pytest

from exchange_sandbox import start_sandbox
from tests.integration.conftest import PASSWORD, SHARED, USER
from topcontact_mail.adapters.ews import connect
from topcontact_mail.config import ConnectionSettings, EwsSettings, Settings

pytestmark = pytest.mark.integration


def test_new_mail_is_signalled_within_a_second_over_a_streaming_subscription() -> None:
    sandbox = start_sandbox()
    settings = Settings(
        connection=ConnectionSettings(
            shared_mailbox=SHARED,
            ews=EwsSettings(
                service_endpoint=sandbox.ews_url,
                username=USER,
                password=PASSWORD,
                retry_wait_seconds=0.2,
            ),
        )
    )
    mailbox = connect(settings)
    try:
        assert mailbox.wait_for_changes(1.0) is False  # nothing yet; the listener is up
        sandbox.server.stats.reset()
        delivered = threading.Timer(
            0.3,
            lambda: sandbox.store.deliver(
                SHARED, b"From: a@example.nl\r\nSubject: x\r\n\r\nhoi\r\n"
            ),
        )
        began = time.monotonic()
        delivered.start()
        assert mailbox.wait_for_changes(5.0) is True
        assert time.monotonic() - began < 1.3
        operations = sandbox.server.stats.snapshot()["operations"]
        assert "GetEvents" not in operations  # pushed, not polled
    finally:
        mailbox.close()
        sandbox.stop()
