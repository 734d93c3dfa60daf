"""Asynchronous submission over Microsoft Graph (plain requests): 202 means accepted, the copy comes later."""

from __future__ import annotations

from email import message_from_bytes

import pytest
import requests

from submission_helpers import (
    DELAYS,
    DEVRIES,
    SHARED,
    GraphHttp,
    delivered_after,
    sandbox_with_clock,
)

IMMUTABLE = {"Prefer": 'IdType="ImmutableId"'}
MARKER = "String {8d2a3c57-3f0e-4f35-9a43-0b6f1f5a7c11} Name TopcontactAck"
EXPAND = f"$expand=singleValueExtendedProperties($filter=id eq '{MARKER}')"
SELECT = "$select=subject,internetMessageHeaders,internetMessageId,conversationId,isDraft"
QUESTION = (
    f"From: Huurder <huurder@example.org>\r\nTo: {SHARED}\r\nSubject: Lekkage\r\n"
    "Message-ID: <vraag-1@example.org>\r\nDate: Fri, 27 Nov 2026 09:00:00 +0100\r\n\r\nHelp.\r\n"
).encode()


def message(to: str = DEVRIES) -> dict[str, object]:
    return {
        "subject": "Ontvangen",
        "body": {"contentType": "Text", "content": "Wij hebben uw bericht ontvangen."},
        "toRecipients": [{"emailAddress": {"address": to}}],
        "internetMessageHeaders": [{"name": "X-Topcontact-Ref", "value": "ref-1"}],
        "singleValueExtendedProperties": [{"id": MARKER, "value": "ref-1"}],
    }


@pytest.mark.parametrize("delay_ms", DELAYS)
@pytest.mark.parametrize("in_transit", ["outbox", "drafts", "hidden"])
def test_send_mail_reaches_sent_items_and_the_recipient_after_the_delay(
    delay_ms: int, in_transit: str
) -> None:
    with sandbox_with_clock(delay_ms, in_transit) as (handle, clock):
        graph = GraphHttp(handle)
        answer = graph.post(f"/users/{SHARED}/sendMail", {"message": message()})
        assert answer.status_code == 202

        if delay_ms:
            assert graph.folder(SHARED, "sentitems") == []
            assert graph.folder(DEVRIES, "inbox") == []
            waiting = graph.folder(
                SHARED, in_transit if in_transit != "hidden" else "outbox", f"?{EXPAND}"
            )
            if in_transit == "hidden":
                assert waiting == []
                assert graph.folder(SHARED, "drafts") == []
            else:
                [item] = waiting
                assert item["isDraft"] is True
                # The product's lookup by its property finds a reply still on its way.
                assert item["singleValueExtendedProperties"] == [{"id": MARKER, "value": "ref-1"}]

        delivered_after(handle.store, clock, delay_ms)

        [copy] = graph.folder(SHARED, "sentitems", f"?{SELECT}&{EXPAND}")
        assert copy["isDraft"] is False
        assert copy["internetMessageHeaders"] == []  # Graph shows no headers on a sent copy
        assert copy["singleValueExtendedProperties"] == [{"id": MARKER, "value": "ref-1"}]
        assert graph.folder(SHARED, "outbox") == []
        assert graph.folder(SHARED, "drafts") == []
        mime = graph.get(f"/users/{SHARED}/messages/{copy['id']}/$value").content
        assert message_from_bytes(mime)["X-Topcontact-Ref"] == "ref-1"
        [received] = graph.folder(
            DEVRIES, "inbox", "?$select=internetMessageId,internetMessageHeaders"
        )
        assert received["internetMessageId"] == copy["internetMessageId"]
        headers = {h["name"].lower(): h["value"] for h in received["internetMessageHeaders"]}
        assert headers["x-topcontact-ref"] == "ref-1"  # the recipient's copy came through transport


@pytest.mark.parametrize("in_transit", ["outbox", "hidden"])
def test_a_sent_drafts_immutable_id_finds_the_copy_only_once_transport_has_it(
    in_transit: str,
) -> None:
    with sandbox_with_clock(60_000, in_transit) as (handle, clock):
        graph = GraphHttp(handle)
        handle.store.deliver(SHARED, QUESTION)
        [question] = graph.folder(SHARED, "inbox", "?$select=conversationId")
        draft = graph.post(
            f"/users/{SHARED}/messages/{question['id']}/createReply", {}, headers=IMMUTABLE
        ).json()
        patched = graph.patch(
            f"/users/{SHARED}/messages/{draft['id']}",
            {"singleValueExtendedProperties": [{"id": MARKER, "value": "ref-9"}]},
            headers=IMMUTABLE,
        )
        assert patched.status_code == 200
        sent = graph.post(f"/users/{SHARED}/messages/{draft['id']}/send", headers=IMMUTABLE)
        assert sent.status_code == 202

        url = f"/users/{SHARED}/messages/{draft['id']}?{SELECT}&{EXPAND}"
        assert graph.get(url, headers=IMMUTABLE).status_code == 404  # "may not succeed immediately"
        delivered_after(handle.store, clock, 60_000)

        copy = graph.get(url, headers=IMMUTABLE)
        assert copy.status_code == 200
        body = copy.json()
        assert body["conversationId"] == question["conversationId"]
        assert body["singleValueExtendedProperties"] == [{"id": MARKER, "value": "ref-9"}]
        assert body["internetMessageHeaders"] == []
        assert body["isDraft"] is False


def test_reply_in_one_action_comes_to_sent_items_after_the_delay() -> None:
    with sandbox_with_clock(5_000, "hidden") as (handle, clock):
        graph = GraphHttp(handle)
        handle.store.deliver(SHARED, QUESTION)
        [question] = graph.folder(SHARED, "inbox")
        answer = graph.post(f"/users/{SHARED}/messages/{question['id']}/reply", {"comment": "Ok."})
        assert answer.status_code == 202
        assert graph.folder(SHARED, "sentitems") == []
        assert graph.folder(SHARED, "drafts") == []
        delivered_after(handle.store, clock, 5_000)
        [copy] = graph.folder(SHARED, "sentitems", "?$select=subject,conversationId")
        assert copy["subject"] == "RE: Lekkage"
        assert copy["conversationId"] == question["conversationId"]


def test_a_dropped_send_mail_submits_nothing() -> None:
    with sandbox_with_clock(5_000) as (handle, _clock):
        graph = GraphHttp(handle)
        handle.set_faults("drop=1.0,ops=graph.user.sendMail")
        with pytest.raises(requests.ConnectionError):
            graph.post(f"/users/{SHARED}/sendMail", {"message": message()})
        handle.set_faults("")
        assert handle.store.in_transit() == []
        assert graph.folder(SHARED, "outbox") == []
        assert handle.server.stats.faults["drop"] == 1
