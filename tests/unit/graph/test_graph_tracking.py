"""The Graph mailbox for keeping the promise, one call at a time: observe, team mails, tracking marks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import responses

from topcontact_mail.adapters.graph import fields
from topcontact_mail.adapters.graph.mailbox import GraphMailbox
from topcontact_mail.domain.message import Address
from topcontact_mail.domain.tracking import SentKind
from topcontact_mail.ports import Mark, OutgoingNotice, Watched

from .support import ROOT, USER

BATCH = f"{ROOT}/$batch"
REF = fields.ACK_REF_PROPERTY


def steps(http: responses.RequestsMock) -> list[list[dict[str, Any]]]:
    return [
        json.loads(c.request.body or b"")["requests"] for c in http.calls if c.request.url == BATCH
    ]


def answers(*bodies: tuple[str, int, Any]) -> dict[str, Any]:
    return {"responses": [{"id": i, "status": s, "body": b} for i, s, b in bodies]}


def tracked(item_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": item_id,
        "subject": "Lekkage",
        "from": {"emailAddress": {"name": "Jan Jansen", "address": "jan@example.nl"}},
        "receivedDateTime": "2026-11-27T09:00:00Z",
        "conversationId": "conv-1",
        "parentFolderId": "inbox-id",
        "lastModifiedDateTime": "2026-12-01T10:00:00Z",
        "categories": ["Jan"],
        "webLink": "https://outlook.office365.com/owa/?ItemID=A",
        "flag": {
            "flagStatus": "complete",
            "completedDateTime": {
                "dateTime": "2026-12-01T10:30:00.0000000",
                "timeZone": "W. Europe Standard Time",
            },
        },
        "singleValueExtendedProperties": [
            {"id": "Integer 0x1081", "value": "104"},
            {"id": "SystemTime 0x1082", "value": "2026-11-30T14:00:00Z"},
        ],
        **extra,
    }


def test_observing_reads_the_message_its_conversations_sent_mail_and_its_folder(
    mailbox: GraphMailbox, http: responses.RequestsMock
) -> None:
    http.post(BATCH, json=answers(("A", 200, tracked("A"))))
    sent = {
        "value": [
            {
                "subject": "FW: Lekkage",
                "sentDateTime": "2026-11-30T14:00:00Z",
                "conversationId": "conv-1",
            },
            {  # another conversation: not this message's answer
                "subject": "RE: Verhuizing",
                "sentDateTime": "2026-11-29T10:00:00Z",
                "conversationId": "conv-2",
            },
        ],
        "@odata.nextLink": f"{USER}/mailFolders/sentitems/messages?$skip=2",
    }
    second_page = {
        "value": [
            {
                "subject": "RE: Lekkage",
                "sentDateTime": "2026-11-27T09:01:00Z",
                "conversationId": "conv-1",
                "singleValueExtendedProperties": [{"id": REF, "value": "ackref"}],
            },
        ]
    }
    http.get(f"{USER}/mailFolders/sentitems/messages", json=sent)
    http.get(f"{USER}/mailFolders/sentitems/messages", json=second_page)
    http.get(f"{USER}/mailFolders/inbox", json={"parentFolderId": "root-id"})
    http.post(
        BATCH,
        json=answers(("inbox-id", 200, {"displayName": "Postvak IN", "parentFolderId": "root-id"})),
    )

    seen = mailbox.observe([Watched("A", "<A@example.nl>")])

    first, folders = steps(http)
    query = parse_qs(urlsplit(first[0]["url"]).query)
    assert set(query["$select"][0].split(",")) == set(fields.OBSERVE_FIELDS)
    assert "Integer 0x1081" in query["$expand"][0]
    assert "SystemTime 0x1082" in query["$expand"][0]
    assert "body" not in query["$select"][0].split(",")  # never a body
    # One listing of Sent Items since the message arrived, not a request per conversation.
    listing = [c.request.url for c in http.calls if "/sentitems/" in (c.request.url or "")]
    assert len(listing) == 2  # both pages
    sent_query = parse_qs(urlsplit(listing[0]).query)
    assert sent_query["$filter"] == ["sentDateTime ge 2026-11-27T09:00:00Z"]
    assert REF in sent_query["$expand"][0]
    assert folders[0]["url"].endswith("$select=displayName,parentFolderId")
    observation = seen["A"].observation
    assert (observation.last_verb, observation.last_verb_at) == (
        104,
        datetime(2026, 11, 30, 14, 0, tzinfo=UTC),
    )
    assert observation.flag_complete
    # 10:30 Amsterdam winter time is 09:30 UTC.
    assert observation.flag_completed_at == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert observation.folder == "Postvak IN"
    assert [(s.kind, s.from_service) for s in observation.sent] == [
        (SentKind.FORWARD, False),
        (SentKind.REPLY, True),
    ]
    assert seen["A"].link == "https://outlook.office365.com/owa/?ItemID=A"


def test_a_message_not_found_by_id_is_looked_for_by_its_message_id(
    mailbox: GraphMailbox, http: responses.RequestsMock
) -> None:
    missing = {"error": {"code": "ErrorItemNotFound", "message": "not found"}}
    http.post(BATCH, json=answers(("A", 404, missing)))
    http.post(BATCH, json=answers(("A", 200, {"value": [{"id": "A2"}]})))
    http.post(
        BATCH, json=answers(("A", 200, tracked("A2", conversationId=None, parentFolderId=None)))
    )

    seen = mailbox.observe([Watched("A", "<A@example.nl>")])

    search = steps(http)[1][0]
    assert parse_qs(urlsplit(search["url"]).query)["$filter"] == [
        "internetMessageId eq '<A@example.nl>'"
    ]
    assert seen["A"].observation.item_id == "A2"


def test_an_id_graph_cannot_read_is_looked_for_by_its_message_id(
    mailbox: GraphMailbox, http: responses.RequestsMock
) -> None:
    # An EWS id kept in the state from before the switch to Graph.
    malformed = {"error": {"code": "ErrorInvalidIdMalformed", "message": "Id is malformed."}}
    http.post(BATCH, json=answers(("AAMkEWS=", 400, malformed)))
    http.post(BATCH, json=answers(("AAMkEWS=", 200, {"value": [{"id": "A2"}]})))
    http.post(
        BATCH,
        json=answers(("AAMkEWS=", 200, tracked("A2", conversationId=None, parentFolderId=None))),
    )

    seen = mailbox.observe([Watched("AAMkEWS=", "<A@example.nl>")])

    assert seen["AAMkEWS="].observation.item_id == "A2"


def test_a_team_mail_is_one_send_mail_with_its_ref(
    mailbox: GraphMailbox, http: responses.RequestsMock
) -> None:
    http.post(f"{USER}/sendMail", status=202)
    notice = OutgoingNotice(
        "team-1", (Address("teamleider@woonservice.example"),), "Termijn voorbij", "Lijst"
    )

    (outcome,) = mailbox.send_notices([notice])

    assert outcome.ok
    body = json.loads(http.calls[0].request.body or b"")
    assert body["message"]["singleValueExtendedProperties"] == [{"id": REF, "value": "team-1"}]
    assert body["message"]["toRecipients"] == [
        {"emailAddress": {"address": "teamleider@woonservice.example"}}
    ]
    assert body["message"]["body"] == {"contentType": "Text", "content": "Lijst"}


def test_a_team_mail_whose_answer_was_lost_is_unknown(
    mailbox: GraphMailbox, http: responses.RequestsMock
) -> None:
    http.post(f"{USER}/sendMail", body=requests.ConnectionError("reset by peer"))

    (outcome,) = mailbox.send_notices(
        [OutgoingNotice("team-1", (Address("t@woonservice.example"),), "S", "T")]
    )

    assert not outcome.ok
    assert outcome.transient
    assert not outcome.clean


def test_a_tracking_mark_patches_only_the_categories(
    mailbox: GraphMailbox, http: responses.RequestsMock
) -> None:
    http.post(BATCH, json=answers(("0", 200, {"categories": ["Rood", "bijna te laat"]})))
    http.post(BATCH, json=answers(("0", 200, {})))

    (outcome,) = mailbox.mark(
        [Mark("A", None, category="te laat", remove_categories=("bijna te laat",))]
    )

    assert outcome.ok
    (patch,) = steps(http)[1]
    assert patch["body"] == {"categories": ["Rood", "te laat"]}
