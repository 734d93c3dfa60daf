"""Fault injection of the standalone sandbox Graph endpoint (a test double): 429 and 503 by chance.

Mounted in the EWS sandbox, Graph uses that server's fault spec instead (see ``mount``).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

from exchange_sandbox.graph.errors import Response, fault_response

FaultHook = Callable[[str], Response | None]
"""Called with the operation of each Graph request: a fault answer, or None to go on."""


class FaultInjector:
    """Fails a share of Graph requests with 429 or 503 and a Retry-After, reproducibly."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rate = 0.0
        self.statuses: tuple[int, ...] = (429, 503)
        self.retry_after = 1
        self._rng = random.Random(0)  # noqa: S311  # fault injection, not cryptography

    def configure(
        self, rate: float, statuses: tuple[int, ...], retry_after: int, seed: int | None
    ) -> None:
        with self._lock:
            self.rate, self.statuses, self.retry_after = rate, statuses, retry_after
            if seed is not None:
                self._rng.seed(seed)

    def __call__(self, operation: str) -> Response | None:
        with self._lock:
            if self.rate <= 0 or self._rng.random() >= self.rate:
                return None
            status = self._rng.choice(self.statuses)
        return fault_response(status, self.retry_after)
