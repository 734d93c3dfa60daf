"""EWS new-mail signals: one streaming subscription, kept across connections and unsubscribed at the end."""

from __future__ import annotations

import time

from topcontact_mail.adapters.ews import EwsMailbox

from .support import (
    FakeEws,
    connection_dropped,
    fault,
    stream_document,
    stream_refused,
    subscribe_answer,
    unsubscribe_answer,
)


def subscription_ids(requests: list[str]) -> list[str]:
    return [r.split("<t:SubscriptionId>")[1].split("<")[0] for r in requests]


def test_one_subscription_serves_every_connection_and_is_unsubscribed_on_close(
    ews: FakeEws, mailbox: EwsMailbox
) -> None:
    notifications = mailbox.notifications
    ews.on("Subscribe", subscribe_answer("sub-1"))
    ews.on(
        "GetStreamingEvents",
        stream_document("sub-1", new_mail=True) + stream_document("sub-1", status="Closed"),
        stream_document("sub-1", status="Closed"),
    )
    ews.on("Unsubscribe", unsubscribe_answer())

    notifications.listen_once()
    assert notifications.changed.is_set()  # new mail was signalled
    notifications.changed.clear()
    notifications.listen_once()  # Exchange closed the connection: the same subscription goes on
    assert not notifications.changed.is_set()
    mailbox.close()

    assert len(ews.sent("Subscribe")) == 1
    assert subscription_ids(ews.sent("GetStreamingEvents")) == ["sub-1", "sub-1"]
    assert "sub-1" in ews.sent("Unsubscribe")[0]


def test_a_subscription_exchange_no_longer_knows_is_replaced_and_only_the_new_one_unsubscribed(
    ews: FakeEws, mailbox: EwsMailbox
) -> None:
    notifications = mailbox.notifications
    ews.on("Subscribe", subscribe_answer("sub-1"), subscribe_answer("sub-2"))
    ews.on(
        "GetStreamingEvents",
        stream_refused("sub-1", "ErrorSubscriptionNotFound"),
        stream_document("sub-2", status="Closed"),
    )
    ews.on("Unsubscribe", unsubscribe_answer())

    notifications.listen_once()
    notifications.listen_once()
    notifications.close()

    assert subscription_ids(ews.sent("GetStreamingEvents")) == ["sub-1", "sub-2"]
    assert len(ews.sent("Unsubscribe")) == 1
    assert "sub-2" in ews.sent("Unsubscribe")[0]


def test_streaming_that_keeps_failing_gives_way_to_pulling_and_leaves_no_subscription(
    ews: FakeEws, mailbox: EwsMailbox
) -> None:
    notifications = mailbox.notifications
    notifications.retry_wait = 0.0
    ews.on("Subscribe", subscribe_answer("sub-1"))
    ews.on("GetStreamingEvents", *[connection_dropped()] * 3)
    ews.on("Unsubscribe", unsubscribe_answer())

    notifications.listen()

    assert notifications.streaming_failed
    assert len(ews.sent("Subscribe")) == 1  # reconnections reuse the subscription
    assert subscription_ids(ews.sent("GetStreamingEvents")) == ["sub-1"] * 3
    assert "sub-1" in ews.sent("Unsubscribe")[0]


def test_a_busy_answer_to_streaming_is_waited_out_before_connecting_again(
    ews: FakeEws, mailbox: EwsMailbox
) -> None:
    """Found by the proving ground: GetStreamingEvents came back 0.25 s after a 1.5 s back-off."""
    notifications = mailbox.notifications
    notifications.retry_wait = 0.0
    ews.on("Subscribe", subscribe_answer("sub-1"))
    ews.on(
        "GetStreamingEvents",
        fault("ErrorServerBusy", back_off_ms=400),
        connection_dropped(),
        connection_dropped(),
    )
    ews.on("Unsubscribe", unsubscribe_answer())

    began = time.monotonic()
    notifications.listen()

    assert time.monotonic() - began >= 0.4
    assert len(ews.sent("GetStreamingEvents")) == 3
