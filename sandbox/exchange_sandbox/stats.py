"""Request counters of the sandbox Exchange server (a test double): ``GET /_sandbox/stats``."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from exchange_sandbox.backoff import RequestLog


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    operations: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    status: Counter[str] = field(default_factory=Counter)
    #: When each request came and which answers told the client to wait (``/_sandbox/backoff``).
    log: RequestLog = field(default_factory=RequestLog)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "operations": dict(self.operations),
                "faults": dict(self.faults),
                "status": dict(self.status),
                "total": sum(self.operations.values()),
            }

    def reset(self) -> None:
        with self.lock:
            self.operations.clear()
            self.faults.clear()
            self.status.clear()
        self.log.clear()

    def count(self, operation: str | None = None, status: int | None = None) -> None:
        """Count a request of ``operation`` and/or an answer with ``status``."""
        with self.lock:
            if operation is not None:
                self.operations[operation] += 1
            if status is not None:
                self.status[str(status)] += 1

    def count_fault(self, name: str) -> None:
        with self.lock:
            self.faults[name] += 1
