"""An in-memory shared mailbox that honours the Mailbox port's contract, for unit tests.

It behaves like the real backends where the service can tell: a change log
with an opaque watermark and pages, the service's own marks coming back as
changes, a Sent Items folder that can be searched, and injectable failures.
Where Exchange is harsher it is too: sending the acknowledgement as a reply
sets the original's last verb (PidTagLastVerbExecuted 102), as Exchange does
for a reply it sends. Staff's side, for the tracking tests: `staff_send` (a
reply or forward from the shared mailbox), `set_last_verb`, `complete_flag`,
`move_to_folder`, `categorise`, each at a given moment.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from topcontact_mail.domain.message import Address, IncomingMessage
from topcontact_mail.domain.tracking.model import (
    VERB_REPLY_TO_SENDER,
    Observation,
    SentKind,
    SentMessage,
)
from topcontact_mail.ports import (
    ChangePage,
    FetchedMessage,
    MailboxUnavailable,
    Mark,
    Observed,
    Outcome,
    OutgoingAcknowledgement,
    OutgoingNotice,
    Watched,
    WatermarkExpired,
)

INBOX = "Inbox"


@dataclass
class StoredItem:
    message: IncomingMessage
    marker: str | None = None
    flag: tuple[datetime | None, datetime | None] | None = None
    categories: list[str] = field(default_factory=list)
    folder: str = INBOX
    last_verb: int | None = None
    last_verb_at: datetime | None = None
    #: Staff marked the flag complete, and when (when the backend says).
    flag_complete: bool = False
    flag_completed_at: datetime | None = None
    last_modified: datetime | None = None


@dataclass(frozen=True)
class SentItem:
    outgoing: OutgoingAcknowledgement
    sent_at: datetime


@dataclass(frozen=True)
class StaffMail:
    """A message staff sent from the shared mailbox in a conversation."""

    conversation_id: str | None
    kind: SentKind
    sent_at: datetime
    message_id: str | None = None


@dataclass(frozen=True)
class SentNotice:
    notice: OutgoingNotice
    sent_at: datetime


class MemoryMailbox:
    """A shared mailbox held in a few lists; thread-safe."""

    def __init__(self, address: Address, *, page_size: int = 50) -> None:
        self._address = address
        self.page_size = page_size
        self.items: dict[str, StoredItem] = {}
        self.sent: list[SentItem] = []
        #: The change log: item ids in order of change; the watermark is a position in it.
        self._log: list[str] = []
        self._lock = threading.Lock()
        self._signal = threading.Event()
        #: Refs whose send fails permanently, and how many sends still fail transiently.
        self.refuse: set[str] = set()
        self.transient_failures = 0
        #: How many sends still go out while their answer is lost (the outcome looks unknown).
        self.lost_answers = 0
        #: Refs sent but not yet findable (Exchange's copy still in transport).
        self.in_transport: set[str] = set()
        #: Items the server cannot serve (reading them always fails), with the error.
        self.unreadable: dict[str, str] = {}
        #: Items whose next change is reported with the id only (as Graph's delta updates).
        self.partial: set[str] = set()
        self.requests: dict[str, int] = {}
        self.notices: list[tuple[Address, str, str]] = []
        #: The team's mails (escalations, overviews) sent with their refs.
        self.team_mails: list[SentNotice] = []
        #: Replies and forwards staff sent from the shared mailbox.
        self.staff_mail: list[StaffMail] = []
        #: Items observing always fails on (the server cannot serve them).
        self.unobservable: set[str] = set()
        self.clock_now: datetime | None = None

    @property
    def address(self) -> Address:
        return self._address

    def _count(self, operation: str) -> None:
        self.requests[operation] = self.requests.get(operation, 0) + 1

    def _now(self) -> datetime:
        return self.clock_now or datetime.now().astimezone()

    # -- the transport side, for tests ------------------------------------------------

    def deliver(self, message: IncomingMessage) -> None:
        assert message.item_id is not None
        with self._lock:
            self.items[message.item_id] = StoredItem(message)
            self._log.append(message.item_id)
        self._signal.set()

    # -- the port ---------------------------------------------------------------------

    def fetch_changes(self, watermark: str | None) -> ChangePage:
        self._count("fetch_changes")
        if watermark is not None and not watermark.isdigit():
            raise WatermarkExpired(f"unknown watermark {watermark[:40]!r}")
        with self._lock:
            start = int(watermark or 0)
            chunk = self._log[start : start + self.page_size]
            end = start + len(chunk)
            seen: set[str] = set()
            messages = []
            for item_id in chunk:
                if item_id in seen or item_id not in self.items:
                    continue  # a later change of the same item, or an item moved away
                seen.add(item_id)
                item = self.items[item_id]
                if item_id in self.unreadable:
                    messages.append(
                        FetchedMessage(
                            IncomingMessage(item_id=item_id), unreadable=self.unreadable[item_id]
                        )
                    )
                    continue
                if item_id in self.partial:
                    self.partial.discard(item_id)
                    messages.append(FetchedMessage(IncomingMessage(item_id=item_id), partial=True))
                    continue
                messages.append(FetchedMessage(item.message, item.marker))
            return ChangePage(messages, str(end), more=end < len(self._log))

    def read(self, item_ids: Sequence[str]) -> list[FetchedMessage]:
        self._count("read")
        with self._lock:
            return [
                FetchedMessage(self.items[i].message, self.items[i].marker)
                for i in item_ids
                if i in self.items
            ]

    def send_acknowledgements(self, batch: Sequence[OutgoingAcknowledgement]) -> list[Outcome]:
        self._count("send")
        outcomes = []
        for outgoing in batch:
            if outgoing.ref in self.refuse:
                outcomes.append(Outcome(outgoing.ref, False, "recipient refused", transient=False))
                continue
            if self.transient_failures > 0:
                self.transient_failures -= 1
                outcomes.append(
                    Outcome(outgoing.ref, False, "server busy", transient=True, clean=True)
                )
                continue
            with self._lock:
                now = self._now()
                self.sent.append(SentItem(outgoing, now))
                original = self.items.get(outgoing.original_item_id)
                if original is not None:
                    # Exchange records a reply it sends on the original, as Outlook does.
                    original.last_verb, original.last_verb_at = VERB_REPLY_TO_SENDER, now
            if self.lost_answers > 0:
                self.lost_answers -= 1
                outcomes.append(Outcome(outgoing.ref, False, "answer lost", transient=True))
                continue
            outcomes.append(Outcome(outgoing.ref, True))
        return outcomes

    def sent_refs(self, refs: Collection[str], since: datetime) -> set[str]:
        self._count("sent_refs")
        with self._lock:
            sent = [s.outgoing.ref for s in self.sent] + [n.notice.ref for n in self.team_mails]
            return {ref for ref in sent if ref in refs and ref not in self.in_transport}

    def mark(self, marks: Sequence[Mark]) -> list[Outcome]:
        self._count("mark")
        outcomes = []
        with self._lock:
            for mark in marks:
                item = self.items.get(mark.item_id)
                if item is None:
                    outcomes.append(Outcome(mark.item_id, False, "item not found"))
                    continue
                if mark.marker is not None:
                    item.marker = mark.marker
                if mark.flag_due is not None:
                    item.flag = (mark.flag_start, mark.flag_due)
                item.categories = [c for c in item.categories if c not in mark.remove_categories]
                if mark.category and mark.category not in item.categories:
                    item.categories.append(mark.category)
                item.last_modified = self._now()
                # As on Exchange, the service's own update comes back as a change.
                self._log.append(mark.item_id)
                outcomes.append(Outcome(mark.item_id, True))
        return outcomes

    def send_notice(self, to: Address, subject: str, text: str) -> None:
        self._count("notice")
        self.notices.append((to, subject, text))

    def send_notices(self, batch: Sequence[OutgoingNotice]) -> list[Outcome]:
        self._count("send_notices")
        outcomes = []
        for notice in batch:
            if notice.ref in self.refuse:
                outcomes.append(Outcome(notice.ref, False, "recipient refused", transient=False))
                continue
            if self.transient_failures > 0:
                self.transient_failures -= 1
                outcomes.append(
                    Outcome(notice.ref, False, "server busy", transient=True, clean=True)
                )
                continue
            with self._lock:
                self.team_mails.append(SentNotice(notice, self._now()))
            if self.lost_answers > 0:
                self.lost_answers -= 1
                outcomes.append(Outcome(notice.ref, False, "answer lost", transient=True))
                continue
            outcomes.append(Outcome(notice.ref, True))
        return outcomes

    def observe(self, watched: Sequence[Watched]) -> dict[str, Observed]:
        """What each message shows now; a moved message is found again by its Message-ID."""
        self._count("observe")
        found: dict[str, Observed] = {}
        with self._lock:
            for want in watched:
                if want.item_id in self.unobservable:
                    raise MailboxUnavailable(f"cannot read {want.item_id}")
                item = self.items.get(want.item_id) or next(
                    (
                        i
                        for i in self.items.values()
                        if want.internet_message_id
                        and i.message.message_id == want.internet_message_id
                    ),
                    None,
                )
                if item is None:
                    continue
                found[want.item_id] = self._observed(item)
        return found

    def _observed(self, item: StoredItem) -> Observed:
        message = item.message
        now = self._now()
        conversation = message.conversation_id
        received = message.received or now
        sent = [
            SentMessage(m.kind, m.sent_at, m.message_id)
            for m in self.staff_mail
            if conversation is not None and m.conversation_id == conversation
        ]
        for ack in self.sent:
            original = self.items.get(ack.outgoing.original_item_id)
            if original is not None and original.message.conversation_id == conversation:
                sent.append(
                    SentMessage(
                        SentKind.REPLY, ack.sent_at, ack.outgoing.message_id, from_service=True
                    )
                )
        observation = Observation(
            item_id=message.item_id or "",
            received=received,
            observed_at=now,
            sent=tuple(sorted(sent, key=lambda s: s.sent_at)),
            last_verb=item.last_verb,
            last_verb_at=item.last_verb_at,
            flag_complete=item.flag_complete,
            flag_completed_at=item.flag_completed_at,
            folder=item.folder,
            categories=tuple(item.categories),
            last_modified=item.last_modified,
        )
        sender = message.sender
        return Observed(
            observation,
            subject=message.subject,
            tenant=(sender.name or sender.email) if sender else "",
            link=f"memory://{message.item_id}",
        )

    # -- staff's side, for the tracking tests -----------------------------------------------

    def staff_send(
        self,
        item_id: str,
        at: datetime,
        kind: SentKind = SentKind.REPLY,
        *,
        sets_verb: bool = True,
    ) -> None:
        """A colleague replies to (or forwards) a message from the shared mailbox at `at`."""
        with self._lock:
            item = self.items[item_id]
            self.staff_mail.append(
                StaffMail(
                    item.message.conversation_id, kind, at, f"<staff-{len(self.staff_mail)}@x>"
                )
            )
            if sets_verb:
                verb = {SentKind.REPLY: 102, SentKind.REPLY_ALL: 103, SentKind.FORWARD: 104}[kind]
                item.last_verb, item.last_verb_at = verb, at
            item.last_modified = at

    def set_last_verb(self, item_id: str, verb: int, at: datetime | None) -> None:
        with self._lock:
            item = self.items[item_id]
            item.last_verb, item.last_verb_at = verb, at
            item.last_modified = at or item.last_modified

    def complete_flag(self, item_id: str, at: datetime | None) -> None:
        """Staff mark the follow-up flag complete (`at` None: the backend gives no time)."""
        with self._lock:
            item = self.items[item_id]
            item.flag_complete, item.flag_completed_at = True, at
            item.last_modified = at or item.last_modified

    def move_to_folder(self, item_id: str, folder: str, at: datetime) -> None:
        """Staff move a message to another folder (the memory mailbox keeps its id, as Graph's
        immutable ids do)."""
        with self._lock:
            item = self.items[item_id]
            item.folder = folder
            item.last_modified = at

    def categorise(self, item_id: str, category: str, at: datetime) -> None:
        with self._lock:
            item = self.items[item_id]
            item.categories.append(category)
            item.last_modified = at

    def wait_for_changes(self, timeout: float) -> bool:
        signalled = self._signal.wait(timeout)
        self._signal.clear()
        return signalled

    def close(self) -> None:
        pass

    def rewind(self) -> None:
        """Every item shows up as a change again (as a full resync after a lost watermark)."""
        with self._lock:
            self._log.extend(self.items)

    def move(self, item_id: str, new_id: str) -> None:
        """As staff moving a message: a new id, the marker travels with it."""
        with self._lock:
            item = self.items.pop(item_id)
            item.message = replace(item.message, item_id=new_id)
            self.items[new_id] = item
            self._log.append(new_id)
