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
SENT_COPIES = "sent-as copies in the shared mailbox"


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
    #: A setting the service cannot read: the administrator checks it (`fix` says how).
    manual: bool = False

    @property
    def status(self) -> str:
        if not self.ran:
            return "not run"
        if self.manual:
            return "check by hand"
        return "ok" if self.ok else "missing"


def passed(name: str, detail: str) -> Check:
    return Check(name, True, detail)


def missing(name: str, detail: str, fix: str) -> Check:
    return Check(name, False, detail, fix)


def by_hand(name: str, detail: str, fix: str) -> Check:
    """A setting no API shows: not counted as missing, but reported with how to check it."""
    return Check(name, True, detail, fix, manual=True)


def sent_copies(shared_mailbox: str) -> Check:
    """MessageCopyForSentAsEnabled / MessageCopyForSendOnBehalfEnabled of the shared mailbox.

    Neither EWS nor Graph can read these mailbox settings. Without them, a
    colleague who replies *as* the shared mailbox from their own Outlook leaves
    the copy in their own Sent Items: the service then sees that reply only
    through Outlook's last verb on the message (PidTagLastVerbExecuted).
    """
    return by_hand(
        SENT_COPIES,
        "EWS and Graph cannot read MessageCopyForSentAsEnabled and "
        "MessageCopyForSendOnBehalfEnabled. When they are off, a reply a colleague sends as "
        "the shared mailbox from their own mailbox is not in the shared Sent Items, and only "
        "Outlook's last verb on the message shows that it was answered.",
        f"Check: Get-Mailbox {shared_mailbox} | Format-List "
        "MessageCopyForSentAsEnabled,MessageCopyForSendOnBehalfEnabled; turn on: "
        f"Set-Mailbox {shared_mailbox} -MessageCopyForSentAsEnabled $true "
        "-MessageCopyForSendOnBehalfEnabled $true",
    )


def not_run(names: Iterable[str], because: str) -> list[Check]:
    """Checks skipped since `because` failed; they are not ok, and their fix is that one's."""
    return [
        Check(name, False, f"not run: {because} failed", f"fix '{because}' first", ran=False)
        for name in names
    ]
