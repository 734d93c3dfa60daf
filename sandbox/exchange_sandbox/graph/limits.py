"""Throttling of the sandbox Graph endpoint (a test double): concurrency, request rate, send rate.

Exchange Online's Outlook service limits ("Microsoft Graph service-specific throttling
limits"), evaluated per app and mailbox: 4 concurrent requests (beyond that: 429
``ApplicationThrottled``, "Application is over its MailboxConcurrency limit.") and 10,000
requests in a 10-minute period; every request counts, each step of a ``$batch`` included
("Requests in a batch are evaluated individually against the applicable throttling limits",
JSON batching). About 30 messages per minute may be sent per mailbox (Exchange Online
limits, "Sending limits").
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class MailboxGate:
    """Counts requests in progress per (app, mailbox) and refuses those over the limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._active: dict[tuple[str, str], int] = {}

    def enter(self, app: str, mailbox: str) -> bool:
        key = (app.lower(), mailbox.lower())
        with self._lock:
            if self._active.get(key, 0) >= self.limit:
                return False
            self._active[key] = self._active.get(key, 0) + 1
            return True

    def leave(self, app: str, mailbox: str) -> None:
        key = (app.lower(), mailbox.lower())
        with self._lock:
            left = self._active.get(key, 1) - 1
            if left <= 0:
                self._active.pop(key, None)
            else:
                self._active[key] = left


class SendLimiter:
    """A sliding one-minute window of sends per mailbox; ``per_minute = 0`` switches it off."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._lock = threading.Lock()
        self._sent: dict[str, deque[float]] = {}

    def try_send(self, mailbox: str) -> int | None:
        """Record a send and return None, or return the seconds to wait when over the limit."""
        if self.per_minute <= 0:
            return None
        now = self._clock()
        with self._lock:
            window = self._sent.setdefault(mailbox.lower(), deque())
            while window and window[0] <= now - 60:
                window.popleft()
            if len(window) >= self.per_minute:
                return max(1, math.ceil(window[0] + 60 - now))
            window.append(now)
            return None


class RequestBudget:
    """At most ``limit`` requests per app and mailbox in any ``window`` seconds (0: no limit).

    A request refused for the budget does not count (the client that waits the Retry-After
    gets in); a request refused for concurrency does (it reached the mailbox).
    """

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], deque[float]] = {}

    def take(self, app: str, mailbox: str) -> int | None:
        """Count one request and return None, or return the seconds to wait when over budget."""
        if self.limit <= 0:
            return None
        now = self._clock()
        with self._lock:
            seen = self._seen.setdefault((app.lower(), mailbox.lower()), deque())
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.limit:
                return max(1, math.ceil(seen[0] + self.window - now))
            seen.append(now)
            return None
