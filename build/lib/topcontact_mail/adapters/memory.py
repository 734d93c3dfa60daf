"""An in-memory shared mailbox that honours the Mailbox port's contract, for unit tests.

It behaves like the real backends where the service can tell: a change log
with an opaque watermark and pages, the service's own marks coming back as
changes, a Sent Items folder that can be searched, and injectable failures.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from topcontact_mail.domain.message import Address, IncomingMessage
from topcontact_mail.ports import (
    ChangePage,
    FetchedMessage,
    Mark,
    Outcome,
    OutgoingAcknowledgement,
    WatermarkExpired,
)


@dataclass
class StoredItem:
    message: IncomingMessage
    marker: str | None = None
    flag: tuple[datetime | None, datetime | None] | None = None
    categories: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SentItem:
    outgoing: OutgoingAcknowledgement
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
        self.clock_now: datetime | None = None

    @property
    def address(self) -> Address:
        return self._address

    def _count(self, operation: str) -> None:
        self.requests[operation] = self.requests.get(operation, 0) + 1

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
                self.sent.append(SentItem(outgoing, self.clock_now or datetime.now().astimezone()))
            if self.lost_answers > 0:
                self.lost_answers -= 1
                outcomes.append(Outcome(outgoing.ref, False, "answer lost", transient=True))
                continue
            outcomes.append(Outcome(outgoing.ref, True))
        return outcomes

    def sent_refs(self, refs: Collection[str], since: datetime) -> set[str]:
        self._count("sent_refs")
        with self._lock:
            return {
                s.outgoing.ref
                for s in self.sent
                if s.outgoing.ref in refs and s.outgoing.ref not in self.in_transport
            }

    def mark(self, marks: Sequence[Mark]) -> list[Outcome]:
        self._count("mark")
        outcomes = []
        with self._lock:
            for mark in marks:
                item = self.items.get(mark.item_id)
                if item is None:
                    outcomes.append(Outcome(mark.item_id, False, "item not found"))
                    continue
                item.marker = mark.marker
                if mark.flag_due is not None:
                    item.flag = (mark.flag_start, mark.flag_due)
                if mark.category and mark.category not in item.categories:
                    item.categories.append(mark.category)
                # As on Exchange, the service's own update comes back as a change.
                self._log.append(mark.item_id)
                outcomes.append(Outcome(mark.item_id, True))
        return outcomes

    def send_notice(self, to: Address, subject: str, text: str) -> None:
        self._count("notice")
        self.notices.append((to, subject, text))

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
