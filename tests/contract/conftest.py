"""The Mailbox port's contract, held against every adapter: the in-memory fake, EWS, Graph.

Each backend comes as a `Harness`: the adapter under test, plus the transport's
side (deliver a message, see what staff see in Outlook, what was sent) and
staff's (reply from the shared mailbox, Outlook's last verb, completing the
flag, moving a message). EWS and Graph run in-process against the sandbox
Exchange server over real HTTP; staff's actions there go straight to the
sandbox's store, as Outlook's would reach Exchange.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from exchange_sandbox import GraphSandbox, SandboxHandle, serve_graph_tls, start_sandbox
from exchange_sandbox.store import Flag, NewItem, PropertyKey, write_property
from tests.integration.conftest import write_config
from topcontact_mail.adapters.memory import MemoryMailbox
from topcontact_mail.config import load_settings
from topcontact_mail.domain.acknowledgement import to_mime
from topcontact_mail.domain.message import Address
from topcontact_mail.domain.mime import parse_message
from topcontact_mail.domain.tracking import SentKind
from topcontact_mail.entrypoints.wiring import open_mailbox
from topcontact_mail.ports import Mailbox

SHARED = "klantcontact@woonservice.example"


@dataclass(frozen=True)
class SeenInOutlook:
    """What staff see of a message: flag (status, start, due), categories."""

    flagged: bool
    flag_start: datetime | None
    flag_due: datetime | None
    categories: tuple[str, ...]


@dataclass
class Harness:
    """A backend under test and its transport's side."""

    name: str
    mailbox: Mailbox
    _memory: MemoryMailbox | None = None
    _sandbox: SandboxHandle | None = None
    _graph: GraphSandbox | None = None
    _delivered: dict[str, str] = field(default_factory=dict)
    #: Seconds Exchange's transport takes before a sent message reaches Sent Items.
    delay: float = 0

    def finish_transport(self) -> None:
        """As if the submission delay had passed: transport takes every message in transit."""
        if self._sandbox is not None:
            self._sandbox.store.run_due_submissions(everything=True)

    def deliver(self, raw: bytes) -> None:
        """As mail transport would: into the shared inbox, received at the message's Date."""
        date = email.message_from_bytes(raw).get("Date")
        received = email.utils.parsedate_to_datetime(date) if date else None
        if self._memory is not None:
            message = parse_message(raw, received)
            item_id = f"mem-{len(self._memory.items) + 1}"
            self._memory.deliver(replace(message, item_id=item_id, conversation_id=item_id))
            return
        assert self._sandbox is not None
        self._sandbox.store.deliver(SHARED, raw, received=received)

    def seen(self, message_id: str) -> SeenInOutlook:
        if self._memory is not None:
            item = next(
                i for i in self._memory.items.values() if i.message.message_id == message_id
            )
            start, due = item.flag or (None, None)
            return SeenInOutlook(item.flag is not None, start, due, tuple(item.categories))
        assert self._sandbox is not None
        stored = next(
            i for i in self._sandbox.store.items(SHARED, "inbox") if i.message_id == message_id
        )
        return SeenInOutlook(
            stored.flag.status == "Flagged", stored.flag.start, stored.flag.due, stored.categories
        )

    def staff_categorise(self, message_id: str, *categories: str) -> None:
        if self._memory is not None:
            item = next(
                i for i in self._memory.items.values() if i.message.message_id == message_id
            )
            item.categories.extend(categories)
            return
        assert self._sandbox is not None
        stored = next(
            i for i in self._sandbox.store.items(SHARED, "inbox") if i.message_id == message_id
        )
        self._sandbox.store.update(
            stored.id, lambda item: replace(item, categories=(*item.categories, *categories))
        )

    # -- staff's side --------------------------------------------------------------------------

    def _memory_item(self, message_id: str) -> str:
        assert self._memory is not None
        return next(k for k, i in self._memory.items.items() if i.message.message_id == message_id)

    def _stored(self, message_id: str) -> Any:
        assert self._sandbox is not None
        return next(
            i
            for folder in ("inbox", "deleteditems")
            for i in self._sandbox.store.items(SHARED, folder)
            if i.message_id == message_id
        )

    def staff_reply(self, message_id: str, at: datetime, *, forward: bool = False) -> None:
        """A colleague replies (or forwards) from the shared mailbox; the copy is in Sent Items."""
        if self._memory is not None:
            kind = SentKind.FORWARD if forward else SentKind.REPLY
            self._memory.staff_send(self._memory_item(message_id), at, kind, sets_verb=False)
            return
        assert self._sandbox is not None
        subject = "FW: Vraag" if forward else "RE: Vraag"
        to = "collega@elders.example" if forward else "huurder@example.nl"
        mime = (
            f"From: {SHARED}\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Date: {email.utils.format_datetime(at)}\r\n"
            f"In-Reply-To: {message_id}\r\nReferences: {message_id}\r\n\r\nZie hieronder.\r\n"
        ).encode()
        self._sandbox.store.send(SHARED, NewItem(mime=mime))

    def set_last_verb(self, message_id: str, verb: int, at: datetime) -> None:
        """Outlook records what was last done with the message (0x1081) and when (0x1082)."""
        if self._memory is not None:
            self._memory.set_last_verb(self._memory_item(message_id), verb, at)
            return
        assert self._sandbox is not None
        stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._sandbox.store.update(
            self._stored(message_id).id,
            lambda item: write_property(
                write_property(item, PropertyKey("Integer", property_tag=0x1081), str(verb)),
                PropertyKey("SystemTime", property_tag=0x1082),
                stamp,
            ),
        )

    def complete_flag(self, message_id: str, at: datetime) -> None:
        if self._memory is not None:
            self._memory.complete_flag(self._memory_item(message_id), at)
            return
        assert self._sandbox is not None
        self._sandbox.store.update(
            self._stored(message_id).id,
            lambda item: replace(item, flag=Flag("Complete", item.flag.start, item.flag.due, at)),
        )

    def move_to_deleted_items(self, message_id: str) -> None:
        """Staff move the message to Deleted Items (the only other mail folder the sandbox has)."""
        if self._memory is not None:
            item = self._memory_item(message_id)
            self._memory.move_to_folder(item, "Deleted Items", datetime.now(UTC))
            return
        assert self._sandbox is not None
        old = self._stored(message_id)
        moved = self._sandbox.store.move(old.id, "deleteditems")
        if self._graph is not None:
            self._graph.app.ids.carry(old, moved)  # a move through Graph keeps the immutable id

    def notices(self) -> list[tuple[str, str]]:
        """(recipient, subject) of the internal notices sent."""
        if self._memory is not None:
            return [(to.email, subject) for to, subject, _ in self._memory.notices]
        return [
            (str(m["To"]), str(m["Subject"])) for m in self.sent() if m["X-TopContact-Mail"] is None
        ]

    def sent(self) -> list[EmailMessage]:
        """What went out from the shared mailbox, as the recipients' copies would read."""
        if self._memory is not None:
            return [
                email.message_from_bytes(
                    to_mime(
                        s.outgoing.acknowledgement,
                        sender=self.mailbox.address,
                        message_id=s.outgoing.message_id,
                        date=s.sent_at,
                    ),
                    policy=email.policy.default,
                )
                for s in self._memory.sent
            ]
        assert self._sandbox is not None
        return [
            email.message_from_bytes(i.mime or b"", policy=email.policy.default)  # type: ignore[misc]
            for i in self._sandbox.store.items(SHARED, "sentitems")
        ]


#: backend, submission delay (s) and what a message in transport looks like meanwhile.
BACKENDS = {
    "memory": ("memory", 0, "outbox"),
    "ews": ("ews", 0, "outbox"),
    "graph": ("graph", 0, "outbox"),
    "ews-5s": ("ews", 5, "outbox"),
    "graph-5s": ("graph", 5, "outbox"),
    "ews-60s-hidden": ("ews", 60, "hidden"),
    "graph-60s-hidden": ("graph", 60, "hidden"),
}


@pytest.fixture(params=sorted(BACKENDS))
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    """Each backend; the sandbox's ones also with Exchange's asynchronous submission (a sent
    message reaches Sent Items and its recipients only after transport took it)."""
    backend, delay, in_transit = BACKENDS[request.param]
    if backend == "memory":
        memory = MemoryMailbox(Address(SHARED, "Team Klantcontact"), page_size=5)
        yield Harness("memory", memory, _memory=memory)
        return
    sandbox = start_sandbox()
    sandbox.store.submissions.change({"delay_ms": delay * 1000, "in_transit": in_transit})
    graph = (
        serve_graph_tls(sandbox.server, tls_dir=tmp_path / "tls") if backend == "graph" else None
    )
    config = tmp_path / "topcontact.toml"
    write_config(config, backend, sandbox, tmp_path / "state", graph=graph, small_batches=True)
    mailbox = open_mailbox(load_settings(config))
    try:
        yield Harness(backend, mailbox, _sandbox=sandbox, _graph=graph, delay=delay)
    finally:
        mailbox.close()
        if graph is not None:
            graph.stop()
        sandbox.stop()
