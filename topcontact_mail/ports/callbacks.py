"""The callbacks the daily overview, `status` and the monthly report show.

The tracking service, `status` and `report` take their callbacks from a
`CallbackSource`: the booked ones from the state store
(`services.callbacks.StoreCallbacks`) when callbacks are on, `NoCallbacks`
when they are off, and a fixed list in tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from topcontact_mail.domain.tracking.model import TrackedCallback


class CallbackSource(Protocol):
    def tracked_callbacks(self) -> list[TrackedCallback]:
        """Every callback booked (planned, done, missed, rebooked)."""
        ...


@dataclass(frozen=True)
class NoCallbacks:
    """Callbacks are off (`[callbacks] enabled = false`)."""

    def tracked_callbacks(self) -> list[TrackedCallback]:
        return []


@dataclass(frozen=True)
class FixedCallbacks:
    """A given list of callbacks (tests, and the demo)."""

    callbacks: Sequence[TrackedCallback] = ()

    def tracked_callbacks(self) -> list[TrackedCallback]:
        return list(self.callbacks)
