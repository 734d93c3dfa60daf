"""EWS throttling of the sandbox (a test double): the concurrency budgets of Exchange's throttling policy.

"EWS throttling in Exchange" (table 3) names the answers: more requests in progress than
**EWSMaxConcurrency** (27 in Exchange 2013 and later) is ErrorExceededConnectionCount; more
open GetStreamingEvents connections than the **HangingConnectionLimit** (10 for Exchange
2016/2019 and Online) too ("Handling notification-related errors"). Streaming connections have
their own budget, not EWSMaxConcurrency's. The service account's requests count against its
own budget, impersonating or not (separate budgets since Exchange 2010 SP2 RU4). Exchange
2016+ also limits **ConcurrentSyncCalls** (SyncFolderItems/SyncFolderHierarchy in progress;
Exchange Online: 5), answered with ErrorServerBusy and a back-off (mustang-im/mustang#121).
Each refusal is a SOAP fault (HTTP 500), made before the request runs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from exchange_sandbox.config import EwsConfig
from exchange_sandbox.ews.faults import soap_fault

SYNC_OPERATIONS = frozenset({"SyncFolderItems", "SyncFolderHierarchy"})
SYNC_BACK_OFF_MS = 5000
"""The back-off Exchange Online suggests for a ConcurrentSyncCalls breach."""

CONNECTIONS_EXCEEDED = (
    "You have exceeded the available concurrent connections for your account.  Try again once "
    "your other requests have completed."
)
"""Exchange's message of ErrorExceededConnectionCount (ecederstrand/exchangelib#279, #855)."""


class Budgets:
    """Requests in progress per budget and account; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_use: dict[tuple[str, str], int] = {}

    def in_use(self, budget: str, account: str) -> int:
        with self._lock:
            return self._in_use.get((budget, account.lower()), 0)

    @contextmanager
    def hold(self, budget: str, account: str, limit: int) -> Iterator[bool]:
        """Take one unit of ``budget`` for ``account`` while the block runs; yields False (and
        takes nothing) when ``limit`` units are in use already. A limit of 0 is no limit."""
        key = (budget, account.lower())
        with self._lock:
            admitted = limit <= 0 or self._in_use.get(key, 0) < limit
            if admitted:
                self._in_use[key] = self._in_use.get(key, 0) + 1
        try:
            yield admitted
        finally:
            if admitted:
                with self._lock:
                    self._in_use[key] -= 1
                    if not self._in_use[key]:
                        del self._in_use[key]


@contextmanager
def admit(
    budgets: Budgets, settings: EwsConfig, operation: str, account: str
) -> Iterator[bytes | None]:
    """Hold the budgets one EWS request of ``account`` needs while it runs; yields None when it
    may run, else the SOAP fault Exchange answers with."""
    if operation == "GetStreamingEvents":
        with budgets.hold("hanging", account, settings.hanging_connection_limit) as ok:
            yield (
                None
                if ok
                else _exceeded("HangingConnectionLimit", settings.hanging_connection_limit)
            )
        return
    with budgets.hold("concurrency", account, settings.max_concurrency) as ok:
        if not ok:
            yield _exceeded("MaxConcurrency", settings.max_concurrency)
            return
        if operation not in SYNC_OPERATIONS:
            yield None
            return
        with budgets.hold("sync", account, settings.concurrent_sync_calls) as sync_ok:
            yield None if sync_ok else _sync_busy(settings.concurrent_sync_calls)


def _exceeded(policy: str, limit: int) -> bytes:
    return soap_fault(
        "ErrorExceededConnectionCount",
        CONNECTIONS_EXCEEDED,
        {
            "Policy": policy,
            f"{policy}Limit": str(limit),
            "ErrorMessage": f"This operation exceeds the throttling budget for policy part "
            f"'{policy}', policy value '{limit}',  Budget type: 'Ews'.  Suggested backoff "
            "time 0 ms.",
        },
    )


def _sync_busy(limit: int) -> bytes:
    # BackOffMilliseconds first: exchangelib reads the back-off from the first Value only.
    return soap_fault(
        "ErrorServerBusy",
        "The server cannot service this request right now. Try again later.",
        {
            "BackOffMilliseconds": str(SYNC_BACK_OFF_MS),
            "Policy": "ConcurrentSyncCalls",
            "ErrorMessage": f"This operation exceeds the throttling budget for policy part "
            f"'ConcurrentSyncCalls', policy value '{limit}',  Budget type: 'Ews'.  Suggested "
            f"backoff time {SYNC_BACK_OFF_MS} ms.",
        },
    )
