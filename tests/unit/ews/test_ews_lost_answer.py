"""Regression: a send whose answer is lost is never repeated blindly, however exchangelib names it.

With more than one session in its pool (the daemon's streaming thread holds
one), exchangelib reports a dropped connection as `ErrorServerBusy`. The send
path took that for the server's own "busy, nothing done" and sent again, so
tenants got two or three acknowledgements when answers were lost.
"""

from __future__ import annotations

import pytest

from exchange_sandbox import start_sandbox
from tests.integration.conftest import PASSWORD, USER
from topcontact_mail.adapters.ews import EwsMailbox, connect
from topcontact_mail.config import ConnectionSettings, EwsSettings, Settings

from .support import (
    SHARED,
    FakeEws,
    Sleeps,
    connection_dropped,
    create_answer,
    outgoing,
    sessions_held,
)

BUG = pytest.mark.xfail(
    strict=True, reason="exchangelib's ErrorServerBusy for a dropped connection"
)


@pytest.mark.parametrize(
    "held",
    [pytest.param(0, id="run-once"), pytest.param(1, id="daemon-with-streaming")],
)
def test_a_send_whose_connection_drops_is_reported_interrupted_and_not_sent_again(
    ews: FakeEws, mailbox: EwsMailbox, sleeps: Sleeps, held: int
) -> None:
    ews.on("CreateItem", connection_dropped(), create_answer("NoError"))

    with sessions_held(mailbox, held):
        (outcome,) = mailbox.send_acknowledgements([outgoing(1)])

    assert len(ews.sent("CreateItem")) == 1  # the tenant gets one acknowledgement at most
    assert not outcome.ok
    assert outcome.transient  # the service looks in Sent Items before sending again
    assert "send interrupted" in outcome.error
    assert sleeps == []


@pytest.mark.integration
def test_over_http_a_lost_answer_in_daemon_mode_sends_one_acknowledgement(
    settings: Settings,
) -> None:
    """The same over a real connection: the sandbox carries out each CreateItem, then hangs up."""
    sandbox = start_sandbox()
    ews = EwsSettings(
        service_endpoint=sandbox.ews_url, username=USER, password=PASSWORD, retry_wait_seconds=0.2
    )
    mailbox = connect(
        settings.model_copy(
            update={"connection": ConnectionSettings(shared_mailbox=SHARED, ews=ews)}
        )
    )
    try:
        mailbox.wait_for_changes(0.3)  # the streaming listener takes its session, as in the daemon
        sandbox.set_faults("lost=1.0,ops=CreateItem")

        (outcome,) = mailbox.send_acknowledgements([outgoing(1)])

        assert len(sandbox.store.items(SHARED, "sentitems")) == 1
        assert outcome.transient
        assert "send interrupted" in outcome.error
    finally:
        mailbox.close()
        sandbox.stop()
