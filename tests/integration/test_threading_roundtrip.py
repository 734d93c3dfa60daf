"""Threading through each backend: the acknowledgement's In-Reply-To is the original's id, verbatim.

The original is delivered into the sandbox (`store.deliver`), read by the
product's own adapter, acknowledged through the adapter's send path, and the
sent item's MIME (what the customer receives) is read back from Sent Items.
Exchange Online and Outlook.com mint Message-IDs longer than a header line,
so ids of every legal form and length (up to 997 characters, the most a folded
line carries) are generated.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from exchange_sandbox import GraphSandbox, SandboxHandle, serve_graph_tls, start_sandbox
from tests.integration.conftest import SHARED, write_config
from tests.unit.texts.msg_id_strategies import legal_msg_ids
from topcontact_mail.config import load_settings
from topcontact_mail.domain.acknowledgement import build_acknowledgement, trim_references
from topcontact_mail.domain.message import IncomingMessage
from topcontact_mail.entrypoints.wiring import open_mailbox
from topcontact_mail.ports import Mailbox, OutgoingAcknowledgement

pytestmark = pytest.mark.integration

#: A 120-character Message-ID in the shape Exchange Online writes them.
LONG_ID = (
    "<PAXP193MB2364F1160B9E7C559D7D897ABB489F1160B9E7C559D7D897ABB4890A1B2"
    "@PAXP193MB2364.EURP193.PROD.OUTLOOK.COM.example.nl>"
)
UNFOLD = re.compile(r"\r?\n[ \t]")
ROUND_TRIP = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class Wired:
    """One backend's adapter, connected to its own sandbox."""

    name: str
    sandbox: SandboxHandle
    mailbox: Mailbox
    graph: GraphSandbox | None
    watermark: str | None = None
    counter: Iterator[int] = field(default_factory=itertools.count)

    def original(self, msg_id: str, references: list[str]) -> tuple[IncomingMessage, str]:
        """Deliver a tenant's message with `msg_id`; the message as the adapter reads it, and its tag."""
        tag = f"vraag-{next(self.counter)}"
        lines = [
            "From: Jan Jansen <jan.jansen@example.nl>",
            f"To: {SHARED}",
            f"Subject: {tag}",
            "Date: Fri, 27 Nov 2026 10:00:00 +0100",
            # Written as a long id arrives: alone on a continuation line.
            f"Message-ID:\r\n {msg_id}",
        ]
        if references:
            lines.append("References:" + "".join(f"\r\n {r}" for r in references))
        lines += ["Content-Type: text/plain; charset=utf-8", "", "Goedemiddag, mijn kraan lekt."]
        self.sandbox.store.deliver(SHARED, ("\r\n".join(lines) + "\r\n").encode())
        while True:
            page = self.mailbox.fetch_changes(self.watermark)
            self.watermark = page.watermark
            for fetched in page.messages:
                if fetched.message.subject == tag:
                    return fetched.message, tag
            if not page.more:
                raise AssertionError(f"the adapter did not read the delivered message {tag}")

    def acknowledge(self, message: IncomingMessage, tag: str) -> bytes:
        """Send the acknowledgement through the adapter; the MIME of its Sent Items copy."""
        ack = build_acknowledgement(
            message,
            subject=f"Ontvangen: {tag}",
            text_body="We hebben uw e-mail ontvangen.",
            html_body="<p>We hebben uw e-mail ontvangen.</p>",
            language="nl",
            own_domain="woonservice.example",
        )
        assert message.item_id is not None
        outgoing = OutgoingAcknowledgement(
            ref=f"ref-{tag}",
            message_id=f"<ack-{tag}@woonservice.example>",
            original_item_id=message.item_id,
            acknowledgement=ack,
        )
        outcomes = self.mailbox.send_acknowledgements([outgoing])
        assert [o.ok for o in outcomes] == [True], outcomes
        sent = [
            item.mime
            for item in self.sandbox.store.items(SHARED, "sentitems")
            if item.subject == f"Ontvangen: {tag}"
        ]
        assert len(sent) == 1, f"no single Sent Items copy of {tag}"
        assert sent[0] is not None
        return sent[0]


@pytest.fixture(scope="module", params=["ews", "graph"])
def wired(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Wired]:
    tmp: Path = tmp_path_factory.mktemp(f"roundtrip-{request.param}")
    sandbox = start_sandbox(state_dir=tmp / "sandbox")
    graph = (
        serve_graph_tls(sandbox.server, tls_dir=tmp / "tls") if request.param == "graph" else None
    )
    config = tmp / "topcontact.toml"
    write_config(config, request.param, sandbox, tmp / "state", graph=graph)
    mailbox = open_mailbox(load_settings(config))
    yield Wired(request.param, sandbox, mailbox, graph)
    mailbox.close()
    if graph is not None:
        graph.stop()
    sandbox.stop()


def written(mime: bytes, name: str) -> str:
    """Header `name` of `mime` exactly as written, unfolded."""
    value = message_from_bytes(mime, policy=policy.compat32)[name]
    return UNFOLD.sub(" ", str(value or "")).strip()


def test_a_120_character_message_id_threads(wired: Wired, request: pytest.FixtureRequest) -> None:
    assert len(LONG_ID) == 120
    message, tag = wired.original(LONG_ID, [])
    assert message.message_id == LONG_ID

    mime = wired.acknowledge(message, tag)

    assert written(mime, "In-Reply-To") == LONG_ID
    assert written(mime, "References") == LONG_ID
    parsed = message_from_bytes(mime, policy=policy.default)
    assert str(parsed["In-Reply-To"]).strip() == LONG_ID


@ROUND_TRIP
@given(data=st.data())
def test_the_adapter_reads_any_legal_message_id_verbatim(wired: Wired, data: st.DataObject) -> None:
    msg_id = data.draw(legal_msg_ids(), label="Message-ID")

    message, _ = wired.original(msg_id, [])

    assert message.message_id == msg_id


@ROUND_TRIP
@given(data=st.data())
def test_in_reply_to_is_the_original_id_byte_for_byte(
    wired: Wired, data: st.DataObject, request: pytest.FixtureRequest
) -> None:
    msg_id = data.draw(legal_msg_ids(), label="Message-ID")
    chain = data.draw(
        st.lists(legal_msg_ids(max_size=200), max_size=40, unique=True).filter(
            lambda ids: msg_id not in ids
        ),
        label="References",
    )

    message, tag = wired.original(msg_id, chain)
    mime = wired.acknowledge(message, tag)

    assert written(mime, "In-Reply-To") == msg_id
    references = written(mime, "References").split()
    if wired.name == "ews":
        # The product writes References itself: trimmed as RFC 5322 section 3.6.4 suggests.
        assert references == trim_references([*chain, msg_id])
    assert references[0] == (chain or [msg_id])[0]
    assert references[-1] == msg_id
    assert all(r.startswith("<") and r.endswith(">") for r in references)
