"""The Graph mailbox, one port call at a time, over HTTP mocked with `responses`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests
import responses

from topcontact_mail.adapters.graph import fields
from topcontact_mail.adapters.graph.client import GraphClient
from topcontact_mail.adapters.graph.mailbox import GraphMailbox, SendPacer
from topcontact_mail.domain.acknowledgement import LOOP_HEADERS
from topcontact_mail.domain.message import Acknowledgement, Address
from topcontact_mail.ports import (
    MailboxUnavailable,
    Mark,
    OutgoingAcknowledgement,
    WatermarkExpired,
)

from .support import ROOT, SHARED, USER, Sleeps

AMS = ZoneInfo("Europe/Amsterdam")
DELTA = f"{USER}/mailFolders/inbox/messages/delta"


def person_json(item_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.message",
        "id": item_id,
        "subject": "Lekkage",
        "receivedDateTime": "2026-11-27T09:00:00Z",
        "internetMessageId": f"<{item_id}@example.nl>",
        "conversationId": "conv-1",
        "categories": ["Rood"],
        "bodyPreview": "Beste mensen, mijn kraan lekt.",
        "from": {"emailAddress": {"name": "Jan Jansen", "address": "jan@example.nl"}},
        "internetMessageHeaders": [
            {"name": "From", "value": "Jan Jansen <jan@example.nl>"},
            {"name": "To", "value": "klantcontact@woonservice.example"},
            {"name": "Subject", "value": "Lekkage"},
            {"name": "Message-ID", "value": f"<{item_id}@example.nl>"},
        ],
        **extra,
    }


def batch_bodies(http: responses.RequestsMock) -> list[list[dict[str, Any]]]:
    return [
        json.loads(c.request.body or b"")["requests"]
        for c in http.calls
        if c.request.url == f"{ROOT}/$batch"
    ]


def outgoing(n: int) -> OutgoingAcknowledgement:
    ack = Acknowledgement(
        recipient=Address(f"huurder{n}@example.nl", "Jan Jansen"),
        subject="Ontvangstbevestiging: Lekkage",
        text_body="We hebben uw e-mail ontvangen.",
        html_body="<p>We hebben uw e-mail ontvangen.</p>",
        language="nl",
        in_reply_to=f"<m{n}@example.nl>",
        references=(f"<m{n}@example.nl>",),
        headers=LOOP_HEADERS,
    )
    return OutgoingAcknowledgement(f"ref{n}", f"<ref{n}@woonservice.example>", f"item-{n}", ack)


# -- reading ------------------------------------------------------------------------------------


def test_first_delta_selects_only_what_is_needed_and_expands_the_marker(
    mailbox: GraphMailbox, http: responses.RequestsMock
) -> None:
    http.get(DELTA, json={"value": [person_json("A")], "@odata.nextLink": f"{DELTA}?$skiptoken=1"})

    page = mailbox.fetch_changes(None)

    request = http.calls[0].request
    query = parse_qs(urlsplit(request.url or "").query)
    assert set(query["$select"][0].split(",")) == set(fields.SELECT_FIELDS)
    assert fields.MARKER_PROPERTY in query["$expand"][0]
    assert "odata.maxpagesize=100" in request.headers["Prefer"]
    assert 'IdType="ImmutableId"' in request.headers["Prefer"]
    assert page.more
    assert page.watermark == f"{DELTA}?$skiptoken=1"
    message = page.messages[0].message
    assert message.item_id == "A"
    assert message.sender == Address("jan@example.nl", "Jan Jansen")
    assert message.message_id == "<A@example.nl>"
    assert message.conversation_id == "conv-1"
    assert message.received == datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("UTC"))
    assert "kraan" in message.text_sample


def test_the_last_page_hands_over_the_delta_link_and_removed_items_are_skipped(
    mailbox: GraphMailbox, http: responses.RequestsMock
) -> None:
    link = f"{DELTA}?$deltatoken=abc"
    removed = {"id": "B", "@removed": {"reason": "deleted"}}
    http.get(f"{DELTA}?$skiptoken=1", json={"value": [removed], "@odata.deltaLink": link})

    page = mailbox.fetch_changes(f"{DELTA}?$skiptoken=1")

    assert page.messages == []
    assert not page.more
    assert page.watermark == link


def test_a_message_carrying_our_marker_comes_back_as_handled(
    mailbox: GraphMailbox, http: responses.RequestsMock
) -> None:
    marker = {"id": fields.MARKER_PROPERTY.lower(), "value": '{"v":1}'}
    http.get(DELTA, json={"value": [person_json("A", singleValueExtendedProperties=[marker])]})

    page = mailbox.fetch_changes(None)

    assert page.messages[0].marker == '{"v":1}'


def test_message_class_and_spam_level_come_from_expanded_properties(
    mailbox: GraphMailbox, http: responses.RequestsMock
) -> None:
    props = [
        {"id": "String 0x1a", "value": "REPORT.IPM.Note.NDR"},
        {"id": "Integer 0x4076", "value": "9"},
    ]
    entry = person_json("A", singleValueExtendedProperties=props)
    del entry["internetMessageHeaders"]
    http.get(DELTA, json={"value": [entry]})

    message = mailbox.fetch_changes(None).messages[0].message

    assert message.item_class == "REPORT.IPM.Note.NDR"
    assert message.spam_confidence == 9
    assert message.subject == "Lekkage"


def test_a_lost_sync_state_asks_for_a_full_resync(
    mailbox: GraphMailbox, http: responses.RequestsMock
) -> None:
    gone = {"error": {"code": "SyncStateNotFound", "message": "generation not found"}}
    http.get(f"{DELTA}?$deltatoken=old", status=410, json=gone)

    with pytest.raises(WatermarkExpired):
        mailbox.fetch_changes(f"{DELTA}?$deltatoken=old")


def test_an_ews_sync_state_or_a_foreign_link_is_no_graph_watermark(mailbox: GraphMailbox) -> None:
    with pytest.raises(WatermarkExpired):
        mailbox.fetch_changes("H4sIAAAAAAAEAO29B2AcSZYlJi9tynt")
    with pytest.raises(WatermarkExpired):
        mailbox.fetch_changes(
            "https://elsewhere.example/v1.0/users/x/mailFolders/inbox/messages/delta"
        )


# -- sending ------------------------------------------------------------------------------------


def test_an_acknowledgement_is_one_threaded_reply_with_our_headers_and_properties(
    mailbox: GraphMailbox, http: responses.RequestsMock
) -> None:
    http.post(f"{ROOT}/$batch", json={"responses": [{"id": "0", "status": 202}]})

    outcomes = mailbox.send_acknowledgements([outgoing(1)])

    assert [(o.key, o.ok) for o in outcomes] == [("ref1", True)]
    (steps,) = batch_bodies(http)
    assert steps[0]["method"] == "POST"
    assert steps[0]["url"].endswith("/messages/item-1/reply")
    message = steps[0]["body"]["message"]
    assert message["toRecipients"] == [
        {"emailAddress": {"address": "huurder1@example.nl", "name": "Jan Jansen"}}
    ]
    assert message["subject"] == "Ontvangstbevestiging: Lekkage"
    assert message["body"]["contentType"] == "html"
    assert "comment" not in steps[0]["body"]  # a comment would quote the customer's text
    assert message["internetMessageHeaders"] == [
        {"name": "X-TopContact-Mail", "value": "acknowledgement"}
    ]
    properties = {p["id"]: p["value"] for p in message["singleValueExtendedProperties"]}
    assert properties == {
        fields.ACK_REF_PROPERTY: "ref1",
        fields.AUTO_RESPONSE_SUPPRESS_PROPERTY: "-1",
    }


def test_twenty_acknowledgements_go_in_one_batch_and_the_rest_in_the_next(
    mailbox: GraphMailbox, http: responses.RequestsMock
) -> None:
    accepted = [{"id": str(n), "status": 202} for n in range(20)]
    http.post(f"{ROOT}/$batch", json={"responses": accepted})
    http.post(f"{ROOT}/$batch", json={"responses": accepted[:5]})

    outcomes = mailbox.send_acknowledgements([outgoing(n) for n in range(25)])

    assert all(o.ok for o in outcomes)
    assert [o.key for o in outcomes] == [f"ref{n}" for n in range(25)]
    assert [len(b) for b in batch_bodies(http)] == [20, 5]


def test_a_permanent_refusal_is_not_transient_and_the_others_still_go(
    mailbox: GraphMailbox, http: responses.RequestsMock
) -> None:
    refused = {"error": {"code": "ErrorInvalidRecipients", "message": "no valid recipient"}}
    missing = {"error": {"code": "ErrorItemNotFound", "message": "not found"}}
    http.post(
        f"{ROOT}/$batch",
        json={
            "responses": [
                {"id": "0", "status": 202},
                {"id": "1", "status": 400, "body": refused},
                {"id": "2", "status": 404, "body": missing},
            ]
        },
    )

    sent, refused_outcome, vanished = mailbox.send_acknowledgements(
        [outgoing(n) for n in (1, 2, 3)]
    )

    assert sent.ok
    assert not refused_outcome.ok
    assert not refused_outcome.transient
    assert "ErrorInvalidRecipients" in refused_outcome.error
    assert not vanished.ok
    assert not vanished.transient


def test_a_throttled_reply_is_sent_again_after_retry_after(
    mailbox: GraphMailbox, http: responses.RequestsMock, sleeps: Sleeps
) -> None:
    limit = {"error": {"code": "ErrorExceededMessageLimit", "message": "rate"}}
    http.post(
        f"{ROOT}/$batch",
        json={
            "responses": [
                {"id": "0", "status": 429, "headers": {"Retry-After": "12"}, "body": limit}
            ]
        },
    )
    http.post(f"{ROOT}/$batch", json={"responses": [{"id": "0", "status": 202}]})

    (outcome,) = mailbox.send_acknowledgements([outgoing(1)])

    assert outcome.ok
    assert sleeps == [12.0]


def test_a_lost_answer_is_transient_and_never_sent_again_blindly(
    mailbox: GraphMailbox, http: responses.RequestsMock
) -> None:
    http.post(f"{ROOT}/$batch", body=requests.ReadTimeout("lost"))

    (lost,) = mailbox.send_acknowledgements([outgoing(1)])

    assert not lost.ok
    assert lost.transient
    assert len(http.calls) == 1


def test_sent_refs_finds_acknowledgements_by_their_ref_property(
    mailbox: GraphMailbox, http: responses.RequestsMock
) -> None:
    http.post(
        f"{ROOT}/$batch",
        json={
            "responses": [
                {"id": "0", "status": 200, "body": {"value": [{"id": "S1"}]}},
                {"id": "1", "status": 200, "body": {"value": []}},
            ]
        },
    )

    found = mailbox.sent_refs({"ref1", "ref2"}, datetime(2026, 11, 27, tzinfo=AMS))

    assert found == {"ref1"}
    query = unquote(batch_bodies(http)[0][0]["url"])
    assert "/messages?$filter=singleValueExtendedProperties/any(ep: ep/id eq" in query
    assert f"'{fields.ACK_REF_PROPERTY}' and ep/value eq 'ref1'" in query


def test_sent_refs_that_cannot_search_refuses_to_guess(
    mailbox: GraphMailbox, http: responses.RequestsMock
) -> None:
    http.post(f"{ROOT}/$batch", status=500)

    with pytest.raises(MailboxUnavailable):
        mailbox.sent_refs({"ref1"}, datetime(2026, 11, 27, tzinfo=AMS))


def test_sending_is_paced_below_the_rate_per_minute() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    pacer = SendPacer(25, clock=lambda: now[0], sleep=sleep)
    sent_at = []
    for _ in range(60):
        allowed = pacer.take(20)
        pacer.record(allowed)
        sent_at.extend([now[0]] * allowed)
    for i in range(len(sent_at) - 25):
        assert sent_at[i + 25] - sent_at[i] >= 60.0
    assert sum(waits) >= 60.0


def test_a_backlog_is_sent_in_paced_batches_below_the_limit(
    client: GraphClient, http: responses.RequestsMock
) -> None:
    """32 acknowledgements at 25 a minute: 25 go at once, the rest after the window has moved."""
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    mailbox = GraphMailbox(
        client, SHARED, send_rate_per_minute=25, sleep=sleep, clock=lambda: now[0]
    )
    sent_at: list[float] = []

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        steps = json.loads(request.body or b"")["requests"]
        sent_at.extend([now[0]] * len(steps))
        body = {"responses": [{"id": s["id"], "status": 202, "body": None} for s in steps]}
        return 200, {}, json.dumps(body)

    http.add_callback(responses.POST, f"{ROOT}/$batch", callback=answer)

    outcomes = mailbox.send_acknowledgements([outgoing(n) for n in range(32)])

    assert all(o.ok for o in outcomes)
    assert len(outcomes) == 32
    assert max(len(b) for b in batch_bodies(http)) <= 20
    for i in range(len(sent_at) - 25):
        assert sent_at[i + 25] - sent_at[i] >= 60.0
    assert 60.0 <= sum(waits) < 61.0


# -- marking ------------------------------------------------------------------------------------


def test_marking_appends_our_category_and_flags_in_the_configured_zone(
    mailbox: GraphMailbox, http: responses.RequestsMock
) -> None:
    http.get(DELTA, json={"value": [person_json("A")]})
    mailbox.fetch_changes(None)
    http.post(f"{ROOT}/$batch", json={"responses": [{"id": "0", "status": 200, "body": {}}]})
    mark = Mark(
        item_id="A",
        marker='{"v":1}',
        flag_start=datetime(2026, 11, 27, 10, 0, tzinfo=AMS),
        flag_due=datetime(2026, 12, 4, 17, 0, tzinfo=AMS),
        category="Top Contact: antwoord vóór 4 dec",
    )

    (outcome,) = mailbox.mark([mark])

    assert outcome.ok
    (step,) = batch_bodies(http)[0]
    assert step["method"] == "PATCH"
    assert step["body"]["categories"] == ["Rood", "Top Contact: antwoord vóór 4 dec"]
    assert step["body"]["flag"] == {
        "flagStatus": "flagged",
        "startDateTime": {"dateTime": "2026-11-27T10:00:00", "timeZone": "W. Europe Standard Time"},
        "dueDateTime": {"dateTime": "2026-12-04T17:00:00", "timeZone": "W. Europe Standard Time"},
    }
    assert step["body"]["singleValueExtendedProperties"] == [
        {"id": fields.MARKER_PROPERTY, "value": '{"v":1}'}
    ]


def test_categories_of_an_unseen_message_are_read_first_and_a_gone_message_fails_permanently(
    mailbox: GraphMailbox, http: responses.RequestsMock
) -> None:
    missing = {"error": {"code": "ErrorItemNotFound", "message": "not found"}}
    http.post(
        f"{ROOT}/$batch",
        json={
            "responses": [
                {"id": "0", "status": 200, "body": {"categories": ["Blauw"]}},
                {"id": "1", "status": 404, "body": missing},
            ]
        },
    )
    http.post(f"{ROOT}/$batch", json={"responses": [{"id": "0", "status": 200, "body": {}}]})
    marks = [Mark(item_id=i, marker="{}", category="Top Contact") for i in ("A", "B")]

    kept, gone = mailbox.mark(marks)

    assert kept.ok
    assert not gone.ok
    assert not gone.transient
    patch = batch_bodies(http)[1]
    assert [s["body"]["categories"] for s in patch] == [["Blauw", "Top Contact"]]


def test_a_throttled_mark_that_stays_throttled_is_transient(
    mailbox: GraphMailbox, http: responses.RequestsMock, sleeps: Sleeps
) -> None:
    busy = {"id": "0", "status": 429, "headers": {"Retry-After": "1"}, "body": {}}
    http.post(f"{ROOT}/$batch", json={"responses": [busy]})

    (outcome,) = mailbox.mark([Mark(item_id="A", marker="{}")])

    assert not outcome.ok
    assert outcome.transient
    assert sleeps == [1.0, 1.0, 1.0, 1.0]


# -- waiting ------------------------------------------------------------------------------------


def test_wait_for_changes_signals_when_the_next_poll_is_due(mailbox: GraphMailbox) -> None:
    now = [100.0]
    mailbox._clock = lambda: now[0]
    mailbox._last_poll = 100.0
    mailbox.poll_interval = 10.0

    def sleep(seconds: float) -> None:
        now[0] += seconds

    mailbox._sleep = sleep
    assert mailbox.wait_for_changes(1.0) is False
    assert now[0] == 101.0
    assert mailbox.wait_for_changes(60.0) is True
    assert now[0] == 110.0


def test_categories_staff_changed_since_the_read_are_read_again_not_overwritten(
    mailbox: GraphMailbox, http: responses.RequestsMock
) -> None:
    http.get(DELTA, json={"value": [person_json("A", **{"@odata.etag": 'W/"v1"'})]})
    mailbox.fetch_changes(None)
    http.post(
        f"{ROOT}/$batch",
        json={
            "responses": [
                {"id": "0", "status": 412, "body": {"error": {"code": "ErrorIrresolvableConflict"}}}
            ]
        },
    )
    http.post(
        f"{ROOT}/$batch",
        json={
            "responses": [
                {
                    "id": "0",
                    "status": 200,
                    "body": {"@odata.etag": 'W/"v2"', "categories": ["Rood", "Blauw"]},
                }
            ]
        },
    )
    http.post(f"{ROOT}/$batch", json={"responses": [{"id": "0", "status": 200, "body": {}}]})

    (outcome,) = mailbox.mark([Mark(item_id="A", marker='{"v":2}', category="Top Contact")])

    assert outcome.ok
    first, reread, second = batch_bodies(http)
    assert first[0]["headers"]["If-Match"] == 'W/"v1"'
    assert first[0]["body"]["categories"] == ["Rood", "Top Contact"]
    assert reread[0]["method"] == "GET"
    assert second[0]["headers"]["If-Match"] == 'W/"v2"'
    assert second[0]["body"]["categories"] == ["Rood", "Blauw", "Top Contact"]
