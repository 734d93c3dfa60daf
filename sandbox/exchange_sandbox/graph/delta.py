"""State tokens of the sandbox Graph delta query (a test double): opaque, signed, expirable.

A token carries the round it belongs to: the mailbox and folder, the options of the first
request (``$select``, ``changeType``, ``$expand``), the change-log position the round
started from and, within a round, how far it got. Tokens are signed with a per-process key;
a token that fails the signature, belongs to a previous sandbox process, or was issued
before an expiry ordered through the control endpoint is unknown: 410 Gone,
``SyncStateNotFound``, as Exchange Online answers for a sync state it no longer has.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
from dataclasses import asdict, dataclass
from typing import Any

from exchange_sandbox.graph.errors import GraphError


@dataclass(frozen=True)
class DeltaState:
    mailbox: str
    folder: str
    select: str | None
    expand: str | None
    change_type: str | None
    since: int  # change-log position the round reports changes after (-1: initial sync)
    upto: int  # change-log position the round ends at
    cursor: str  # initial sync: "<created>|<id>" of the last item sent; else last change seq
    epoch: int
    filter: str | None = None  # receivedDateTime ge/gt … (the only $filter delta accepts)


class DeltaTokens:
    def __init__(self) -> None:
        self._key = os.urandom(32)
        self._lock = threading.Lock()
        self._epoch: dict[str, int] = {}  # mailbox ("" = every mailbox) -> generation

    def epoch(self, mailbox: str) -> int:
        with self._lock:
            return self._epoch.get("", 0) + self._epoch.get(mailbox.lower(), 0)

    def expire(self, mailbox: str | None = None) -> None:
        """Forget every sync state issued so far (for one mailbox, or all)."""
        with self._lock:
            key = (mailbox or "").lower()
            self._epoch[key] = self._epoch.get(key, 0) + 1

    def encode(self, state: DeltaState) -> str:
        payload = json.dumps(asdict(state), separators=(",", ":")).encode()
        mac = hmac.new(self._key, payload, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(mac + payload).decode().rstrip("=")

    def decode(self, token: str) -> DeltaState:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            mac, payload = raw[:16], raw[16:]
            ok = hmac.compare_digest(
                mac, hmac.new(self._key, payload, hashlib.sha256).digest()[:16]
            )
            data: Any = json.loads(payload) if ok else None
            state = DeltaState(**data) if isinstance(data, dict) else None
        except (ValueError, TypeError):
            state = None
        if state is None:
            raise gone(0)
        current = self.epoch(state.mailbox)
        if state.epoch != current:
            raise gone(state.epoch, current)
        return state


def gone(generation: int, highest: int | None = None) -> GraphError:
    top = highest if highest is not None else generation
    return GraphError(
        410,
        "SyncStateNotFound",
        f"The sync state generation is not found; generation={generation};[highest={top}].",
    )
