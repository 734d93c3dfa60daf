"""Shared pieces of the Graph adapter's unit tests: addresses, a fake token source, a sleep log."""

from __future__ import annotations

ROOT = "https://graph.example.test/v1.0"
SHARED = "klantcontact@woonservice.example"
USER = f"{ROOT}/users/{SHARED}"


class FakeTokens:
    """Hands out numbered tokens; `invalidate` moves on to the next one."""

    def __init__(self) -> None:
        self.number = 1
        self.invalidated = 0

    def token(self) -> str:
        return f"token-{self.number}"

    def invalidate(self) -> None:
        self.invalidated += 1
        self.number += 1


class Sleeps(list[float]):
    """Records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
