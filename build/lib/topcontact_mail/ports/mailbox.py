"""The shared mailbox as the services need it: read new mail, send, mark, find what was sent."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from topcontact_mail.domain.message import Acknowledgement, Address, IncomingMessage


@dataclass(frozen=True)
class FetchedMessage:
    """A message read from the shared inbox, with the service's own marker if it carries one."""

    message: IncomingMessage
    #: The value of the service's marker property on the item (None: never handled).
    marker: str | None = None
    #: Why the message could not be read (the server kept failing on it alone), or None.
    unreadable: str | None = None
    #: Only the id (and what changed) is known: a change of a message seen before, as Graph's
    #: delta reports updates. Read it in full before deciding anything about it.
    partial: bool = False


@dataclass(frozen=True)
class ChangePage:
    """One page of new or changed inbox messages since a watermark."""

    messages: Sequence[FetchedMessage]
    #: Where the next call continues; persist it once the page's messages are recorded.
    watermark: str
    #: True when more changes wait right away.
    more: bool


@dataclass(frozen=True)
class OutgoingAcknowledgement:
    """An acknowledgement ready to send, with the identity that makes sending idempotent."""

    ref: str
    message_id: str
    original_item_id: str
    acknowledgement: Acknowledgement


@dataclass(frozen=True)
class Mark:
    """What the service puts on a handled message in Outlook."""

    item_id: str
    #: The marker property's value: the recorded decision, so a re-run can tell what was done.
    marker: str
    #: Follow-up flag: start at reception, due at the answer term; None for no flag.
    flag_start: datetime | None = None
    flag_due: datetime | None = None
    category: str | None = None


@dataclass(frozen=True)
class Outcome:
    """The result of one item of a batch: done, or why not and whether trying again may help.

    `clean` says that nothing was done (the server refused before any work, or
    the request never left), so a send may be repeated at once. A failed send
    that is not clean may have gone out: the service looks for it first.
    """

    key: str
    ok: bool
    error: str = ""
    transient: bool = False
    clean: bool = False


class MailboxUnavailable(Exception):
    """The mailbox could not be reached at all (after the adapter's own retries)."""


class CredentialsRejected(MailboxUnavailable):
    """The server refuses the service's credential: nothing works until an administrator acts.

    Not a passing fault; the daemon reports it loudly (log, health, metrics).
    """

    def __init__(self, message: str, *, code: str = "", error: str = "") -> None:
        super().__init__(message)
        #: A machine-readable code where the server gives one (an AADSTS number for Entra ID).
        self.code = code
        self.error = error


class WatermarkExpired(Exception):
    """The server no longer knows the watermark; a full resynchronisation is needed."""


class Mailbox(Protocol):
    """The shared mailbox as the acknowledge-and-track service needs it."""

    @property
    def address(self) -> Address: ...

    def fetch_changes(self, watermark: str | None) -> ChangePage:
        """New and changed inbox messages after `watermark` (None: from the beginning)."""
        ...

    def read(self, item_ids: Sequence[str]) -> list[FetchedMessage]:
        """These inbox messages in full, as `fetch_changes` gives them; missing ones left out."""
        ...

    def send_acknowledgements(self, batch: Sequence[OutgoingAcknowledgement]) -> list[Outcome]:
        """Send as the shared mailbox, saving a copy in its Sent Items; one outcome per `ref`."""
        ...

    def sent_refs(self, refs: Collection[str], since: datetime) -> set[str]:
        """Which of these acknowledgements are already in Sent Items (sent at or after `since`)."""
        ...

    def mark(self, marks: Sequence[Mark]) -> list[Outcome]:
        """Put flag, category and marker on messages; one outcome per `item_id`."""
        ...

    def send_notice(self, to: Address, subject: str, text: str) -> None:
        """Send a plain internal notice (an alert to the administrator) from the shared mailbox.

        Raises `MailboxUnavailable` when it cannot be sent.
        """
        ...

    def wait_for_changes(self, timeout: float) -> bool:
        """Block until the server signals new mail or `timeout` seconds pass; True on a signal."""
        ...

    def close(self) -> None: ...
