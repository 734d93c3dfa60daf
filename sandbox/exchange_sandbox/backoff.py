"""Whether clients honour back-off hints: a log of requests and of the hints they were given.

Exchange tells a client how long to wait (EWS ``BackOffMilliseconds`` in ErrorServerBusy,
Graph ``Retry-After`` on 429 and 503). The sandbox (a test double) notes when each request
arrived and which answers carried a hint, per client (EWS user, Graph app) and request, so
a harness can ask afterwards whether any request came back before its hint had elapsed
(``GET /_sandbox/backoff``, :meth:`RequestLog.report`).

A *retry* is the first later request of the same client with the same fingerprint (EWS: the
SOAP body; Graph: method, path, query and body, for a ``$batch`` step its own). A request of
the same client and operation that is no retry but still comes within the hint is counted
apart: Exchange's hint is about the account's budget, not the one request, but a client
working on other items in parallel is not re-sending the refused request.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

#: Requests kept (oldest dropped first); a proving-ground run makes far fewer.
MAX_ENTRIES = 500_000
_EWS_BACK_OFF = re.compile(rb'Name="BackOffMilliseconds">(\d+)<')


def fingerprint(*parts: bytes | str) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\x00")
    return digest.hexdigest()


def ews_hint_seconds(answer: bytes) -> float | None:
    """The ``BackOffMilliseconds`` of an EWS fault, in seconds, or None."""
    found = _EWS_BACK_OFF.search(answer)
    return int(found.group(1)) / 1000 if found else None


def retry_after_seconds(headers: dict[str, str]) -> float | None:
    """A Graph answer's ``Retry-After`` (delta seconds), or None."""
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                return float(value)
            except ValueError:
                return None
    return None


@dataclass(frozen=True)
class Arrival:
    at: float
    client: str
    operation: str
    fingerprint: str


@dataclass(frozen=True)
class Hint:
    at: float
    client: str
    operation: str
    fingerprint: str
    seconds: float
    #: How long the request that got the hint had been waiting for its answer.
    took: float = 0.0


class RequestLog:
    """Arrivals and hints, on the monotonic clock; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._arrivals: deque[Arrival] = deque(maxlen=MAX_ENTRIES)
        self._hints: deque[Hint] = deque(maxlen=MAX_ENTRIES)

    def arrived(
        self, client: str, operation: str, fingerprint: str, at: float | None = None
    ) -> None:
        """A request came now (or at `at`, a ``time.monotonic()`` reading)."""
        with self._lock:
            self._arrivals.append(
                Arrival(time.monotonic() if at is None else at, client, operation, fingerprint)
            )

    def hinted(
        self,
        client: str,
        operation: str,
        fingerprint: str,
        seconds: float,
        since: float | None = None,
    ) -> None:
        """An answer telling `client` to wait `seconds` is sent now (the request came `since`)."""
        now = time.monotonic()
        took = now - since if since is not None else 0.0
        with self._lock:
            self._hints.append(Hint(now, client, operation, fingerprint, seconds, took))

    def first_arrival(self) -> float | None:
        """When the earliest request still in the log came (``time.monotonic()``), if any."""
        with self._lock:
            return self._arrivals[0].at if self._arrivals else None

    def clear(self) -> None:
        with self._lock:
            self._arrivals.clear()
            self._hints.clear()

    def report(
        self, tolerance: float = 0.05, client_timeout: float | None = None
    ) -> dict[str, Any]:
        """Hints given, retries seen, and each retry (or same-operation request) that came early.

        `tolerance` (seconds) absorbs the time between the answer being written and being read.
        With `client_timeout`, a hint in an answer that came later than the client waits is
        left out (counted as `unseen`): the client had given up on that request and never
        read the hint.
        """
        with self._lock:
            arrivals = list(self._arrivals)
            hints = list(self._hints)
        unseen = 0
        if client_timeout is not None:
            seen = [h for h in hints if h.took < client_timeout]
            unseen = len(hints) - len(seen)
            hints = seen
        same_request: dict[tuple[str, str], list[float]] = {}
        same_operation: dict[tuple[str, str], list[Arrival]] = {}
        for arrival in arrivals:  # in order of arrival: every list is sorted by time
            same_request.setdefault((arrival.client, arrival.fingerprint), []).append(arrival.at)
            same_operation.setdefault((arrival.client, arrival.operation), []).append(arrival)
        operation_times = {key: [a.at for a in value] for key, value in same_operation.items()}
        retries = 0
        early: list[dict[str, Any]] = []
        early_other: list[dict[str, Any]] = []
        for hint in hints:
            times = same_request.get((hint.client, hint.fingerprint), [])
            index = bisect.bisect_right(times, hint.at)
            if index < len(times):
                retries += 1
                waited = times[index] - hint.at
                if waited < hint.seconds - tolerance:
                    early.append(_finding(hint, waited))
            others = same_operation.get((hint.client, hint.operation), [])
            index = bisect.bisect_right(
                operation_times.get((hint.client, hint.operation), []), hint.at
            )
            for other in others[index:]:
                if other.at - hint.at >= hint.seconds - tolerance:
                    break
                if other.fingerprint != hint.fingerprint:
                    early_other.append(_finding(hint, other.at - hint.at))
                    break
        return {
            "requests": len(arrivals),
            "hints": len(hints),
            "unseen": unseen,
            "retries": retries,
            "early_retries": early,
            "early_same_operation": early_other,
        }


def _finding(hint: Hint, waited: float) -> dict[str, Any]:
    return {
        "client": hint.client,
        "operation": hint.operation,
        "hint_seconds": hint.seconds,
        "waited_seconds": round(waited, 3),
    }
