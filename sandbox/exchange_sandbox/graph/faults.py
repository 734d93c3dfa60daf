"""Fault injection of the standalone sandbox Graph endpoint (a test double): 429, 503, lost answers.

By chance a request is answered 429 or 503 with a Retry-After before it is carried out, or
(``lost``) carried out and then left unanswered, the connection closed (status 0 here), so
the client cannot tell whether it happened. Mounted in the EWS sandbox, Graph uses that
server's fault spec instead (see ``mount``).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

from exchange_sandbox.graph.errors import Response, fault_response

FaultHook = Callable[[str], Response | None]
"""Called with the operation of each Graph request: a fault answer, or None to go on."""
LostHook = Callable[[list[str]], bool]
"""Called, once a request is carried out, with its operations (a batch: its own and its
steps'): whether the answer is lost."""


def lost_answer() -> Response:
    """Status 0: the HTTP front closes the connection without an answer."""
    return 0, {}, b""


class FaultInjector:
    """Fails a share of Graph requests with 429 or 503 and a Retry-After, reproducibly."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rate = 0.0
        self.statuses: tuple[int, ...] = (429, 503)
        self.retry_after = 1
        self.lost = 0.0
        self._rng = random.Random(0)  # noqa: S311  # fault injection, not cryptography

    def configure(
        self,
        rate: float,
        statuses: tuple[int, ...],
        retry_after: int,
        seed: int | None,
        lost: float = 0.0,
    ) -> None:
        with self._lock:
            self.rate, self.statuses, self.retry_after = rate, statuses, retry_after
            self.lost = lost
            if seed is not None:
                self._rng.seed(seed)

    def __call__(self, operation: str) -> Response | None:
        with self._lock:
            if self.rate <= 0 or self._rng.random() >= self.rate:
                return None
            status = self._rng.choice(self.statuses)
        return fault_response(status, self.retry_after)

    def lose(self, operations: list[str]) -> bool:
        with self._lock:
            return self.lost > 0 and self._rng.random() < self.lost
