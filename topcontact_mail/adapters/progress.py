"""Progress shown to a person: a rich bar on a terminal, a structlog line every N seconds off one.

`progress_for(interval_seconds)` picks by whether standard error is a terminal.
Short work shows nothing: the bar appears only once a piece of work has lasted
`delay` seconds, and a log line is written only every `interval` seconds (with a
last line when work that was logged ends).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from topcontact_mail.logs import get_logger
from topcontact_mail.ports.progress import Progress as ProgressPort
from topcontact_mail.ports.progress import ProgressUpdate

if TYPE_CHECKING:  # rich's bar loads only on a terminal: a service under systemd never draws one
    from rich.console import Console
    from rich.progress import Progress, TaskID


def _amount(update: ProgressUpdate) -> str:
    unit = f" {update.unit}" if update.unit else ""
    if update.total is None:
        return f"{update.done}{unit}"
    return f"{update.done}/{update.total}{unit}"


def _counts(update: ProgressUpdate) -> str:
    return ", ".join(f"{name} {n}" for name, n in update.counts.items())


class TerminalProgress:
    """A bar per piece of work on a terminal (rich), with what it counts beside it.

    While a bar is shown, the process's log lines are printed above it (rich
    takes standard error over; the logging writes to whatever it is at the time).
    """

    def __init__(
        self,
        console: Console | None = None,
        *,
        delay: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if console is None:
            from rich.console import Console

            console = Console(stderr=True)
        self.console = console
        self.delay = delay
        self.clock = clock
        self._bar: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._started: dict[str, float] = {}

    def __call__(self, update: ProgressUpdate) -> None:
        now = self.clock()
        started = self._started.setdefault(update.task, now)
        task = self._tasks.get(update.task)
        if task is None:
            if update.finished or now - started < self.delay:
                if update.finished:
                    self._started.pop(update.task, None)
                return  # short work: no bar
            task = self._add(update)
        assert self._bar is not None
        self._bar.update(
            task,
            completed=update.done,
            total=update.total
            if update.total is not None
            else (update.done if update.finished else None),
            description=self._description(update),
            amount=_amount(update),
            counts=_counts(update),
        )
        if update.finished:
            self._end(update.task)

    def _description(self, update: ProgressUpdate) -> str:
        return f"{update.task}: {update.stage}" if update.stage else update.task

    def _add(self, update: ProgressUpdate) -> TaskID:
        if self._bar is None:
            from rich.progress import (
                BarColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[amount]}"),
                TextColumn("{task.fields[counts]}", style="dim"),
                TimeElapsedColumn(),
                console=self.console,
                redirect_stderr=True,
                redirect_stdout=False,
            )
            self._bar.start()
        task = self._bar.add_task(
            self._description(update), total=update.total, amount="", counts=""
        )
        self._tasks[update.task] = task
        return task

    def _end(self, name: str) -> None:
        self._tasks.pop(name, None)
        self._started.pop(name, None)
        if not self._tasks and self._bar is not None:
            self._bar.refresh()
            self._bar.stop()
            self._bar = None


class LogProgress:
    """A log line (`progress`) every `interval` seconds of a piece of work, and a last one
    (`progress done`) when work that was logged ends; short work logs nothing."""

    def __init__(
        self,
        interval: float,
        *,
        log: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.log = log if log is not None else get_logger("progress")
        self.clock = clock
        self._started: dict[str, float] = {}
        self._last: dict[str, float] = {}

    def __call__(self, update: ProgressUpdate) -> None:
        now = self.clock()
        started = self._started.setdefault(update.task, now)
        last = self._last.get(update.task, started)
        fields: dict[str, Any] = {
            "task": update.task,
            "done": update.done,
            "unit": update.unit,
            "seconds": round(now - started, 1),
            **dict(update.counts),
        }
        if update.total is not None:
            fields["total"] = update.total
        if update.stage:
            fields["stage"] = update.stage
        if update.finished:
            if update.task in self._last:
                self.log.info("progress done", **fields)
            self._started.pop(update.task, None)
            self._last.pop(update.task, None)
            return
        if now - last >= self.interval:
            self._last[update.task] = now
            if now > started:
                fields["per_second"] = round(update.done / (now - started), 1)
            self.log.info("progress", **fields)


def progress_for(
    interval_seconds: float, stream: TextIO | None = None, *, delay: float = 0.5
) -> ProgressPort:
    """A bar when `stream` (standard error) is a terminal, log lines every `interval_seconds`
    otherwise."""
    out = stream or sys.stderr
    if out.isatty():
        from rich.console import Console

        return TerminalProgress(Console(file=out), delay=delay)
    return LogProgress(interval_seconds)
