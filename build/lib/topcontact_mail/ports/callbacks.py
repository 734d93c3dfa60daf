"""The callbacks the daily overview, `status` and the monthly report show: a seam for a later feature.

Booking callbacks as meeting requests is a later issue. Until it lands there
are no callbacks, and `NoCallbacks` says so; the tracking service, `status`
and `report` already take their callbacks from here, so that feature only has
to supply a `CallbackSource` (and tests can pass `TrackedCallback`s directly).
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
    """No callbacks yet: booking them is a later feature."""

    def tracked_callbacks(self) -> list[TrackedCallback]:
        return []


@dataclass(frozen=True)
class FixedCallbacks:
    """A given list of callbacks (tests, and the demo)."""

    callbacks: Sequence[TrackedCallback] = ()

    def tracked_callbacks(self) -> list[TrackedCallback]:
        return list(self.callbacks)
