"""Replies and forwards over Microsoft Graph (plain HTTP): reply, replyAll, forward, their create… drafts.

The request bodies are those of Microsoft's reference pages (message: reply, replyAll, forward,
createReply, createReplyAll, createForward): ``comment``, ``message``, and for the forwards
``toRecipients``. Sending marks the original as Exchange does: the last verb
(``Integer 0x1081``: 102, 103, 104) and its time (``SystemTime 0x1082``), read back with
``$expand=singleValueExtendedProperties``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from exchange_sandbox.server import SandboxHandle
from submission_helpers import DEVRIES, SHARED, FakeClock, GraphHttp, sandbox_with_clock

BAKKER = "a.bakker@woonservice.example"
VERB = "Integer 0x1081"
VERB_TIME = "SystemTime 0x1082"
EXPAND = (
    "$expand=singleValueExtendedProperties($filter=id eq 'Integer 0x1081' "
    "or id eq 'SystemTime 0x1082')"
)
MONDAY = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)


@pytest.fixture
def running() -> Iterator[tuple[SandboxHandle, FakeClock, GraphHttp]]:
    with sandbox_with_clock(0) as (handle, clock):
        clock.now = MONDAY
        yield handle, clock, GraphHttp(handle)


def question(handle: SandboxHandle, graph: GraphHttp, cc: str = "") -> str:
    mime = (
        f"From: Jan de Vries <{DEVRIES}>\r\nTo: {SHARED}\r\n"
        + (f"Cc: {cc}\r\n" if cc else "")
        + "Subject: Geen warm water\r\nMessage-ID: <vraag@example.org>\r\n\r\nHelp.\r\n"
    ).encode()
    handle.store.deliver(SHARED, mime)
    [message] = graph.folder(SHARED, "inbox", "?$select=id")
    return str(message["id"])


def verb(graph: GraphHttp, message_id: str) -> dict[str, str]:
    answer = graph.get(f"/users/{SHARED}/messages/{message_id}?$select=subject&{EXPAND}")
    assert answer.status_code == 200, answer.text
    return {p["id"]: p["value"] for p in answer.json().get("singleValueExtendedProperties", [])}


def sent(graph: GraphHttp) -> list[dict[str, Any]]:
    return graph.folder(
        SHARED, "sentitems", "?$select=subject,toRecipients,ccRecipients,conversationId"
    )


def addresses(recipients: list[dict[str, Any]]) -> list[str]:
    return [r["emailAddress"]["address"] for r in recipients]


def test_reply_all_reaches_everyone_but_the_mailbox_and_marks_the_original_103(
    running: tuple[SandboxHandle, FakeClock, GraphHttp],
) -> None:
    handle, _, graph = running
    original = question(handle, graph, cc=BAKKER)
    assert verb(graph, original) == {}

    answer = graph.post(f"/users/{SHARED}/messages/{original}/replyAll", {"comment": "Allen."})

    assert answer.status_code == 202
    [copy] = sent(graph)
    assert copy["subject"] == "RE: Geen warm water"
    assert (addresses(copy["toRecipients"]), addresses(copy["ccRecipients"])) == (
        [DEVRIES],
        [BAKKER],
    )
    assert verb(graph, original) == {VERB: "103", VERB_TIME: "2026-11-30T09:15:00Z"}


def test_forward_goes_to_the_named_recipients_in_the_conversation_and_marks_104(
    running: tuple[SandboxHandle, FakeClock, GraphHttp],
) -> None:
    handle, _, graph = running
    original = question(handle, graph)
    body = {  # Microsoft's example body of message: forward
        "comment": "Pak jij dit op?",
        "toRecipients": [{"emailAddress": {"name": "Anouk Bakker", "address": BAKKER}}],
    }

    assert graph.post(f"/users/{SHARED}/messages/{original}/forward", body).status_code == 202

    [copy] = sent(graph)
    [mine] = graph.folder(SHARED, "inbox", "?$select=conversationId")
    assert copy["subject"] == "FW: Geen warm water"
    assert addresses(copy["toRecipients"]) == [BAKKER]
    assert copy["conversationId"] == mine["conversationId"]
    [received] = graph.folder(BAKKER, "inbox", "?$select=subject,body")
    assert "Pak jij dit op?" in received["body"]["content"]
    assert verb(graph, original)[VERB] == "104"


def test_reply_marks_102_and_create_drafts_mark_only_when_sent(
    running: tuple[SandboxHandle, FakeClock, GraphHttp],
) -> None:
    handle, clock, graph = running
    original = question(handle, graph)
    assert graph.post(f"/users/{SHARED}/messages/{original}/reply", {}).status_code == 202
    assert verb(graph, original)[VERB] == "102"

    clock.now = MONDAY.replace(hour=10)
    for action, expected in (("createReplyAll", "103"), ("createForward", "104")):
        draft = graph.post(f"/users/{SHARED}/messages/{original}/{action}", {"comment": "Zo?"})
        assert draft.status_code == 201, draft.text
        assert draft.json()["isDraft"] is True
        assert verb(graph, original)[VERB] != expected  # a draft marks nothing
        if action == "createForward":  # made without recipients, addressed later
            assert draft.json()["toRecipients"] == []
            patched = graph.patch(
                f"/users/{SHARED}/messages/{draft.json()['id']}",
                {"toRecipients": [{"emailAddress": {"address": BAKKER}}]},
            )
            assert patched.status_code == 200
        sent_now = graph.post(f"/users/{SHARED}/messages/{draft.json()['id']}/send")
        assert sent_now.status_code == 202
        assert verb(graph, original) == {VERB: expected, VERB_TIME: "2026-11-30T10:15:00Z"}


def test_refusals_are_those_graph_documents(
    running: tuple[SandboxHandle, FakeClock, GraphHttp],
) -> None:
    handle, _, graph = running
    original = question(handle, graph)
    url = f"/users/{SHARED}/messages/{original}"
    bakker = [{"emailAddress": {"address": BAKKER}}]

    nobody = graph.post(f"{url}/forward", {"comment": "Aan niemand"})
    assert nobody.status_code == 400
    assert nobody.json()["error"]["code"] == "ErrorInvalidRecipients"
    assert nobody.json()["error"]["message"] == (
        "At least one recipient is not valid., A message can't be sent because it contains "
        "no recipients."
    )
    both = graph.post(
        f"{url}/forward", {"toRecipients": bakker, "message": {"toRecipients": bakker}}
    )
    assert both.status_code == 400
    comment_and_body = graph.post(
        f"{url}/replyAll",
        {"comment": "a", "message": {"body": {"contentType": "Text", "content": "b"}}},
    )
    assert comment_and_body.status_code == 400
    unknown = graph.post(f"{url}/replyAll", {"toRecipients": bakker})  # not replyAll's
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "RequestBodyRead"
    # Nothing was sent, no draft is left behind, the original is unmarked.
    assert graph.folder(SHARED, "drafts") == []
    assert sent(graph) == []
    assert verb(graph, original) == {}


def test_forward_reads_its_parameters_as_the_sdk_spells_them(
    running: tuple[SandboxHandle, FakeClock, GraphHttp],
) -> None:
    handle, _, graph = running
    original = question(handle, graph)
    body = {"Comment": "SDK", "ToRecipients": [{"emailAddress": {"address": BAKKER}}]}
    assert graph.post(f"/users/{SHARED}/messages/{original}/forward", body).status_code == 202
    assert addresses(sent(graph)[0]["toRecipients"]) == [BAKKER]
