"""The Mailbox port's contract, held against every adapter: the in-memory fake, EWS, Graph.

Each backend comes as a `Harness`: the adapter under test, plus the transport's
side (deliver a message, see what staff see in Outlook, what was sent) and
staff's (reply, reply to all or forward from the shared mailbox, completing the
flag, a category, moving a message to a folder). EWS and Graph run in-process
against the sandbox Exchange server over real HTTP; staff's actions go over the
same protocol as the adapter's (`staff.py`: exchangelib, plain Graph requests),
so what the tests observe is what the server made of them (the last verb a
reply leaves, the id a move gives).
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

import pytest

from exchange_sandbox import GraphSandbox, SandboxHandle, serve_graph_tls, start_sandbox
from tests.contract.staff import Reply, Staff, staff_for, transport_clock
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
    _staff_side: Staff | None = None

    def requests(self, operation: str) -> int:
        """How many requests of an EWS `operation` the sandbox has answered (0 for memory)."""
        if self._sandbox is None:
            return 0
        return int(self._sandbox.server.stats.snapshot()["operations"].get(operation, 0))

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

    # -- staff's side: what colleagues do in Outlook, over the backend's own protocol ----------

    def _memory_item(self, message_id: str) -> str:
        assert self._memory is not None
        return next(k for k, i in self._memory.items.items() if i.message.message_id == message_id)

    def _staff(self) -> Staff:
        assert self._sandbox is not None
        if self._staff_side is None:
            self._staff_side = staff_for(self.name, self._sandbox)
        return self._staff_side

    def staff_reply(
        self, message_id: str, at: datetime, how: Reply = "reply", *, keep_copy: bool = True
    ) -> None:
        """A colleague replies (to all) or forwards through the message in the shared mailbox
        at `at`: the copy goes to Sent Items (unless not kept), the server marks the message
        with the last verb. EWS: ReplyToItem/ReplyAllToItem/ForwardItem; Graph: reply/replyAll/
        forward."""
        if self._memory is not None:
            kind = {"reply": SentKind.REPLY, "reply_all": SentKind.REPLY_ALL}.get(
                how, SentKind.FORWARD
            )
            self._memory.staff_send(self._memory_item(message_id), at, kind)
            return
        assert self._sandbox is not None
        with transport_clock(self._sandbox, at):
            self._staff().reply(message_id, how, keep_copy=keep_copy)

    def complete_flag(self, message_id: str, at: datetime) -> None:
        """Marked complete in Outlook (EWS UpdateItem of item:Flag; Graph PATCH flag)."""
        if self._memory is not None:
            self._memory.complete_flag(self._memory_item(message_id), at)
            return
        self._staff().complete_flag(message_id, at)

    def staff_categorise(self, message_id: str, *categories: str) -> None:
        """Categories added in Outlook (EWS UpdateItem; Graph PATCH categories)."""
        if self._memory is not None:
            item = next(
                i for i in self._memory.items.values() if i.message.message_id == message_id
            )
            item.categories.extend(categories)
            return
        self._staff().categorise(message_id, *categories)

    def staff_move(self, message_id: str, folder: str) -> None:
        """Moved in Outlook to "Deleted Items" or to a folder under the Inbox such as
        "Inbox/Afgehandeld", made first when missing (EWS CreateFolder, MoveItem; Graph
        childFolders, move)."""
        if self._memory is not None:
            self._memory.move_to_folder(self._memory_item(message_id), folder, datetime.now(UTC))
            return
        self._staff().move(message_id, folder)

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


@pytest.fixture(
    params=[
        # Asynchronous submission doubles the suite and waits for transport: `make test` only.
        pytest.param(name, marks=pytest.mark.slow) if BACKENDS[name][1] else name
        for name in sorted(BACKENDS)
    ]
)
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
