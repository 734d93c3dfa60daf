"""The shared mailbox as the services need it: read new mail, send, mark, find what was sent, observe."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from topcontact_mail.domain.message import Acknowledgement, Address, IncomingMessage
from topcontact_mail.domain.tracking.model import Observation


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
    #: The marker property's value: the recorded decision, so a re-run can tell what was done;
    #: None leaves the marker as it is (a later change, such as a warning category).
    marker: str | None
    #: Follow-up flag: start at reception, due at the answer term; None for no flag.
    flag_start: datetime | None = None
    flag_due: datetime | None = None
    category: str | None = None
    #: The service's own categories to take off again (staff's are never touched).
    remove_categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutgoingNotice:
    """A plain internal mail to colleagues (an escalation, the daily overview).

    `ref` goes on the mail as the service's ref property, so `sent_refs` finds
    it after a send whose outcome is unknown: it is sent exactly once.
    """

    ref: str
    to: tuple[Address, ...]
    subject: str
    text: str


@dataclass(frozen=True)
class Watched:
    """A tracked message to observe, with what finds it again where the backend gives moved
    messages a new id (EWS): its Message-ID."""

    item_id: str
    internet_message_id: str | None = None


@dataclass(frozen=True)
class Observed:
    """What the mailbox shows of one watched message now: the facts the "answered?" rules read,
    and what the team's mails show of it (read for the mail, never stored)."""

    #: `observation.item_id` is the message's id now (it changes when EWS moves a message).
    observation: Observation
    subject: str = ""
    #: The sender as the mailbox shows it: display name, else address.
    tenant: str = ""
    #: A link that opens the message (Outlook on the web), when the backend gives one.
    link: str = ""


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
        """Which of these acknowledgements or notices are already in Sent Items (sent at or after
        `since`)."""
        ...

    def mark(self, marks: Sequence[Mark]) -> list[Outcome]:
        """Put flag, category and marker on messages; one outcome per `item_id`."""
        ...

    def observe(self, watched: Sequence[Watched]) -> dict[str, Observed]:
        """What each message shows now, by the watched `item_id`; a message gone is left out.

        Each observation holds the replies and forwards the shared mailbox sent in
        the message's conversation at or after it arrived (with send time, kind,
        Message-ID and whether it carries the service's ref), Outlook's last verb
        (PidTagLastVerbExecuted 0x1081, PidTagLastVerbExecutionTime 0x1082), the
        follow-up flag's completion, the folder's path from the mailbox root, the
        categories and the last change. The acknowledgement fields are the service's.
        """
        ...

    def send_notices(self, batch: Sequence[OutgoingNotice]) -> list[Outcome]:
        """Send internal mails as the shared mailbox, each carrying its ref; one outcome per ref."""
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
