"""New-mail signals for the shared inbox: one streaming subscription, kept; pulling when streaming fails.

A background thread holds a GetStreamingEvents connection open (Exchange pushes
events over it, no polling). Exchange closes such a connection after the
minutes asked for; the subscription itself lives on for 30 minutes after its
last connection, so the thread reconnects with the same subscription instead
of opening a new one each time. A new subscription is made only when the
server says the old one is gone; the one in use is unsubscribed on close. If
streaming keeps failing, waiting falls back to a pull subscription, asked every
half second, kept and reused the same way.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from exchangelib.errors import EWSError
from exchangelib.properties import StatusEvent
from exchangelib.util import CONNECTION_ERRORS

from topcontact_mail.adapters.ews.faults import back_off_hint, response_code

#: The events that mean "look at the inbox".
NEW_MAIL_EVENTS = ("NewMailEvent", "CreatedEvent")
#: How long one streaming connection stays open before it is renewed (Exchange allows 1-30).
STREAM_MINUTES = 10
#: How often a pull subscription is asked for events while waiting.
POLL_SECONDS = 0.5
#: Streaming failures in a row after which waiting falls back to pulling.
STREAM_FAILURES = 3
#: Answers that mean a subscription no longer exists on the server: a new one is needed.
SUBSCRIPTION_GONE = frozenset(
    {
        "ErrorSubscriptionNotFound",
        "ErrorExpiredSubscription",
        "ErrorInvalidSubscription",
        "ErrorSubscriptionUnsubscribed",
    }
)
_FAILURES = (EWSError, *CONNECTION_ERRORS)


def _gone(exc: BaseException) -> bool:
    return response_code(exc) in SUBSCRIPTION_GONE


def _news(notification: Any) -> bool:
    return any(not isinstance(event, StatusEvent) for event in notification.events)


class Notifications:
    """Signals new mail in the shared inbox; `wait` blocks until one comes or time runs out."""

    def __init__(
        self,
        account: Any,
        *,
        retry_wait: float,
        log: Any,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.account = account
        self.retry_wait = retry_wait
        self.log = log
        self._sleep = sleep
        self._lock = threading.Lock()
        self._streaming: str | None = None
        self._pull: tuple[str, str] | None = None
        self._listener: threading.Thread | None = None
        #: Set when new mail is signalled; `wait` clears it.
        self.changed = threading.Event()
        self._closing = threading.Event()
        self.streaming_failed = False

    def wait(self, timeout: float) -> bool:
        if self.streaming_failed:
            return self._wait_by_pulling(timeout)
        if self._listener is None or not self._listener.is_alive():
            self._listener = threading.Thread(target=self.listen, name="ews-streaming", daemon=True)
            self._listener.start()
        signalled = self.changed.wait(timeout)
        self.changed.clear()
        return signalled

    # -- streaming ----------------------------------------------------------------------------

    def _streaming_subscription(self) -> str | None:
        # Under the lock, so `close` (which sets the flag first) waits for a subscription being
        # made and unsubscribes it; none is made after.
        with self._lock:
            if self._streaming is None and not self._closing.is_set():
                self._streaming = self.account.inbox.subscribe_to_streaming(
                    event_types=NEW_MAIL_EVENTS
                )
            return self._streaming

    def listen_once(self) -> None:
        """One streaming connection, until the server ends it (or `close`); signals new mail.

        A subscription the server no longer knows is forgotten, so the next
        connection makes a new one; other failures are raised.
        """
        subscription = self._streaming_subscription()
        if subscription is None:
            return
        try:
            for notification in self.account.inbox.get_streaming_events(
                subscription, connection_timeout=STREAM_MINUTES
            ):
                if _news(notification):
                    self.changed.set()
                if self._closing.is_set():
                    return
        except _FAILURES as exc:
            if not _gone(exc):
                raise
            self.log.info("streaming subscription expired, subscribing again")
            with self._lock:
                if self._streaming == subscription:
                    self._streaming = None

    def listen(self) -> None:
        """The listener thread: connection after connection until `close`; pulling after failures."""
        failures = 0
        while not self._closing.is_set():
            try:
                self.listen_once()
                failures = 0
            except _FAILURES as exc:
                failures += 1
                if failures >= STREAM_FAILURES:
                    self.log.warning(
                        "streaming notifications unavailable, pulling instead", error=str(exc)
                    )
                    self._unsubscribe_streaming()
                    self.streaming_failed = True
                    self.changed.set()  # let the waiter switch over now
                    return
                # The server's BackOffMilliseconds, when it gave one, is the least to wait.
                self._closing.wait(max(self.retry_wait * failures, back_off_hint(exc) or 0.0))

    def _unsubscribe_streaming(self) -> None:
        with self._lock:
            subscription, self._streaming = self._streaming, None
        if subscription is not None:
            with contextlib.suppress(*_FAILURES):
                self.account.inbox.unsubscribe(subscription)

    # -- pulling ------------------------------------------------------------------------------

    def _wait_by_pulling(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self._pull is None:
                    self._pull = self.account.inbox.subscribe_to_pull(event_types=NEW_MAIL_EVENTS)
                subscription, watermark = self._pull
                changed = False
                for notification in self.account.inbox.get_events(subscription, watermark):
                    for event in notification.events:
                        watermark = getattr(event, "watermark", None) or watermark
                    changed = changed or _news(notification)
                self._pull = (subscription, watermark)
                if changed:
                    return True
                if time.monotonic() >= deadline:
                    return False
                self._sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        except _FAILURES as exc:
            if _gone(exc):
                self._pull = None  # the next wait subscribes again
            self.log.warning(
                "notifications unavailable, relying on the periodic sync", error=str(exc)
            )
            self._sleep(max(0.0, deadline - time.monotonic()))
            return False

    def close(self) -> None:
        """Stop listening and unsubscribe what is still subscribed (best effort)."""
        self._closing.set()
        self._unsubscribe_streaming()
        if self._pull is not None:
            with contextlib.suppress(*_FAILURES):
                self.account.inbox.unsubscribe(self._pull[0])
            self._pull = None
