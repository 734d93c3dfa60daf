"""What `test-connection` reports: one named check per right the configuration needs, with its fix.

Each backend has a `diagnose(settings) -> list[Check]` beside its mailbox
adapter; the command only prints the list. A check that depends on an earlier
one that failed is reported as not run, never as passed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

AUTHENTICATION = "authentication"
READ_MAILBOX = "read shared mailbox"
SEND_AS = "send as shared mailbox"
MARKING = "mark messages"
CALENDAR = "calendar"


def calendar_check(address: str) -> str:
    """The name of the calendar check of one colleague."""
    return f"{CALENDAR} {address}"


@dataclass(frozen=True)
class Check:
    """The outcome of one check; `fix` is one line for the administrator (empty when ok)."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    #: False when an earlier check failed and this one could not be tried.
    ran: bool = True

    @property
    def status(self) -> str:
        if not self.ran:
            return "not run"
        return "ok" if self.ok else "missing"


def passed(name: str, detail: str) -> Check:
    return Check(name, True, detail)


def missing(name: str, detail: str, fix: str) -> Check:
    return Check(name, False, detail, fix)


def not_run(names: Iterable[str], because: str) -> list[Check]:
    """Checks skipped since `because` failed; they are not ok, and their fix is that one's."""
    return [
        Check(name, False, f"not run: {because} failed", f"fix '{because}' first", ran=False)
        for name in names
    ]
