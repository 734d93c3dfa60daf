"""Progress of long work, for whoever watches: catching up a backlog, building a report.

A service or report calls a `Progress` with a `ProgressUpdate` as it goes (per
message or batch, per block of figures) and once more with `finished` when the
work ends. What the watcher sees is the adapter's business
(`adapters/progress.py`): a bar on a terminal, a log line every few seconds off
one. Reporting never prints and never fails the work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class ProgressUpdate:
    """Where one piece of work stands."""

    #: What is being done ("catch-up", "report"); one piece of work at a time per task.
    task: str
    #: Units done so far (messages, steps).
    done: int
    #: Units in all; None when not known in advance (a backlog's size is not).
    total: int | None = None
    unit: str = ""
    #: What it is doing now, in a few words ("reading the inbox", "sending").
    stage: str = ""
    #: Further counters worth showing (recorded, marked, sent, ...).
    counts: Mapping[str, int] = field(default_factory=dict)
    #: The work has ended (this is its last update).
    finished: bool = False


class Progress(Protocol):
    def __call__(self, update: ProgressUpdate) -> None: ...


def no_progress(update: ProgressUpdate) -> None:
    """A `Progress` that shows nothing."""
