"""Graph mail operations of the sandbox: delta, reply threading, marking, batching, ids, throttling."""

from __future__ import annotations

import base64
from email import message_from_bytes
from typing import Any

from graph_helpers import ANOUK, CUSTOMER, JAN, SHARED, Client, customer_mail, example

from exchange_sandbox.graph import GraphApp
from exchange_sandbox.store import MailStore

INBOX = f"/users/{SHARED}/mailFolders/inbox/messages"
IMMUTABLE = {"Prefer": 'IdType="ImmutableId"'}
SUPPRESS = "Integer 0x3fdf"
MARKER = "String {8d2a3c57-3f0e-4f35-9a43-0b6f1f5a7c11} Name TopcontactAck"


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys of objects, shape of the first list element."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def keys(obj: dict[str, Any]) -> set[str]:
    return set(obj)


def deliver(store: MailStore, n: int) -> list[str]:
    return [
        store.deliver(SHARED, customer_mail(f"Vraag {i}", msgid=f"<q{i}@example.org>")).id
        for i in range(n)
    ]


def follow(client: Client, url: str, **kw: Any) -> tuple[list[dict[str, Any]], str, int]:
    """All values of a delta round, its deltaLink, and the number of pages."""
    values: list[dict[str, Any]] = []
    pages = 0
    while True:
        answer = client.get(url, **kw)
        assert answer.status == 200, answer.raw
        pages += 1
        values.extend(answer.json["value"])
        if "@odata.deltaLink" in answer.json:
            return values, answer.json["@odata.deltaLink"], pages
        url = answer.json["@odata.nextLink"]


def test_delta_pages_resumes_from_the_delta_link_and_matches_the_documented_shape(
    client: Client, store: MailStore
) -> None:
    deliver(store, 5)
    first = client.get(
        f"{INBOX}/delta?$select=subject,sender,isRead", headers={"Prefer": "odata.maxpagesize=2"}
    )
    assert first.status == 200
    documented = example("delta_page.json")["response"]
    assert keys(first.json) == keys(documented)
    assert shape(first.json["value"][0]) == shape(documented["value"][0])
    assert first.headers["Preference-Applied"] == "odata.maxpagesize=2"

    rest, delta_link, pages = follow(
        client, first.json["@odata.nextLink"], headers={"Prefer": "odata.maxpagesize=2"}
    )
    assert pages == 2
    subjects = [v["subject"] for v in first.json["value"] + rest]
    assert sorted(subjects) == [f"Vraag {i}" for i in range(5)]
    assert "$deltatoken=" in delta_link

    nothing, delta_link, _ = follow(client, delta_link)
    assert nothing == []

    ids = {v["subject"]: v["id"] for v in first.json["value"] + rest}
    assert (
        client.patch(f"/users/{SHARED}/messages/{ids['Vraag 1']}", {"isRead": True}).status == 200
    )
    assert client.call("DELETE", f"/users/{SHARED}/messages/{ids['Vraag 2']}").status == 204
    store.deliver(SHARED, customer_mail("Nieuwe vraag", msgid="<new@example.org>"))
    changes, delta_link, _ = follow(client, delta_link)
    removed = [c for c in changes if "@removed" in c]
    updated = {c.get("subject", c["id"]): c for c in changes if "@removed" not in c}
    assert [r["id"] for r in removed] == [ids["Vraag 2"]]
    assert set(updated) == {ids["Vraag 1"], "Nieuwe vraag"}
    # Only changed since the last round: the id and what changed, not the whole $select.
    assert updated[ids["Vraag 1"]] == {
        "@odata.type": "#microsoft.graph.message",
        "@odata.etag": updated[ids["Vraag 1"]]["@odata.etag"],
        "id": ids["Vraag 1"],
        "isRead": True,
    }
    assert set(updated["Nieuwe vraag"]) == {
        "@odata.type",
        "@odata.etag",
        "id",
        "subject",
        "sender",
        "isRead",
    }
    documented_next = example("delta_next_round.json")["response"]
    assert shape(removed[0]) == shape(documented_next["value"][0])


def test_an_expired_or_unknown_delta_token_answers_410_sync_state_not_found(
    client: Client, store: MailStore
) -> None:
    deliver(store, 1)
    _, delta_link, _ = follow(client, f"{INBOX}/delta")
    assert client.post("/_sandbox/graph/expire-delta", {"mailbox": SHARED}).status == 200
    gone = client.get(delta_link)
    assert gone.status == 410
    assert gone.json["error"]["code"] == "SyncStateNotFound"
    documented = example("sync_state_not_found.json")
    assert gone.status == documented["status"]
    assert keys(gone.json["error"]) == keys(documented["response"]["error"])
    assert client.get(f"{INBOX}/delta?$deltatoken=bm90LWEtdG9rZW4").status == 410
    again, _, _ = follow(client, f"{INBOX}/delta")
    assert len(again) == 1


def test_reply_is_threaded_carries_x_headers_and_lands_in_sent_items(
    client: Client, store: MailStore
) -> None:
    original = store.deliver(
        SHARED,
        customer_mail(msgid="<vraag-1@example.org>", extra={"References": "<eerder@example.org>"}),
    )
    got = client.get(f"/users/{SHARED}/messages/{original.id.replace('/', '-').replace('+', '_')}")
    assert got.status == 200
    reply = client.post(
        f"/users/{SHARED}/messages/{got.json['id']}/createReply", {}, headers=IMMUTABLE
    )
    assert reply.status == 201
    draft = reply.json
    assert keys(draft) <= keys(example("create_reply.json")["response"]) | {"@odata.context"}
    assert draft["isDraft"] is True
    assert draft["subject"] == "RE: Lekkage in de badkamer"
    assert draft["toRecipients"][0]["emailAddress"]["address"] == CUSTOMER
    assert draft["conversationId"] == got.json["conversationId"]

    refused = client.patch(
        f"/users/{SHARED}/messages/{draft['id']}",
        {"internetMessageHeaders": [{"name": "Auto-Submitted", "value": "auto-replied"}]},
    )
    documented = example("invalid_header.json")
    assert refused.status == documented["status"]
    assert refused.json["error"]["code"] == documented["response"]["error"]["code"]
    assert refused.json["error"]["message"] == (
        "The internet message header name 'Auto-Submitted' should start with 'x-' or 'X-'."
    )

    patched = client.patch(
        f"/users/{SHARED}/messages/{draft['id']}",
        {
            "body": {"contentType": "text", "content": "Wij hebben uw bericht ontvangen."},
            "internetMessageHeaders": [{"name": "X-Topcontact-Ack", "value": "v1"}],
            "singleValueExtendedProperties": [
                {"id": SUPPRESS, "value": "-1"},
                {"id": MARKER, "value": "ack-1"},
            ],
        },
        headers=IMMUTABLE,
    )
    assert patched.status == 200, patched.raw
    sent = client.post(f"/users/{SHARED}/messages/{draft['id']}/send", headers=IMMUTABLE)
    assert sent.status == 202
    assert store.items(SHARED, "drafts") == []

    copy = client.get(
        f"/users/{SHARED}/messages/{draft['id']}?$select=subject,internetMessageHeaders,"
        "conversationId,internetMessageId,isDraft,parentFolderId"
        f"&$expand=singleValueExtendedProperties($filter=id eq '{MARKER}')",
        headers=IMMUTABLE,
    )
    assert copy.status == 200, copy.raw
    assert copy.json["isDraft"] is False
    assert copy.json["conversationId"] == got.json["conversationId"]
    assert copy.json["singleValueExtendedProperties"] == [{"id": MARKER, "value": "ack-1"}]
    # A sent copy has no transport headers: Graph lists none; its MIME keeps the ones Exchange keeps.
    assert copy.json["internetMessageHeaders"] == []
    [in_sent] = store.items(SHARED, "sentitems")
    assert in_sent.subject == "RE: Lekkage in de badkamer"
    mime = client.get(f"/users/{SHARED}/messages/{draft['id']}/$value", headers=IMMUTABLE)
    parsed = message_from_bytes(mime.raw)
    assert parsed["In-Reply-To"] == "<vraag-1@example.org>"
    assert " ".join(parsed["References"].split()) == "<eerder@example.org> <vraag-1@example.org>"
    assert parsed["X-Topcontact-Ack"] == "v1"
    assert parsed["X-Auto-Response-Suppress"] == "All"
    assert parsed["Auto-Submitted"] is None
    assert parsed["Thread-Index"]
    assert parsed["Message-ID"] == copy.json["internetMessageId"]


def test_a_reply_to_a_colleague_is_delivered_in_the_same_conversation(
    client: Client, store: MailStore
) -> None:
    store.deliver(SHARED, customer_mail(sender=JAN, msgid="<intern@woonservice.example>"))
    [message] = client.get(INBOX).json["value"]
    draft = client.post(
        f"/users/{SHARED}/messages/{message['id']}/createReply", {"comment": "Opgepakt."}
    ).json
    assert client.post(f"/users/{SHARED}/messages/{draft['id']}/send").status == 202
    [received] = store.items(JAN, "inbox")
    assert received.in_reply_to == "<intern@woonservice.example>"
    [sent] = store.items(SHARED, "sentitems")
    assert received.conversation_id == sent.conversation_id
    assert received.message_id == sent.message_id


def test_a_patch_naming_an_older_version_is_refused_with_412(
    client: Client, store: MailStore
) -> None:
    deliver(store, 1)
    [message] = client.get(INBOX).json["value"]
    url = f"/users/{SHARED}/messages/{message['id']}"
    read = client.get(f"{url}?$select=categories").json
    assert read["@odata.etag"] == message["@odata.etag"]
    # Staff change the message in Outlook: its change key moves on.
    assert client.patch(url, {"categories": ["Rood"]}).status == 200

    stale = client.patch(
        url, {"categories": ["Blauw"]}, headers={"If-Match": message["@odata.etag"]}
    )
    current = client.get(f"{url}?$select=categories").json
    fresh = client.patch(
        url, {"categories": ["Rood", "Blauw"]}, headers={"If-Match": current["@odata.etag"]}
    )
    anything = client.patch(url, {"isRead": True}, headers={"If-Match": "*"})

    assert stale.status == 412
    assert stale.json["error"]["code"] == "ErrorIrresolvableConflict"
    assert fresh.status == 200
    assert anything.status == 200
    assert client.get(f"{url}?$select=categories").json["categories"] == ["Rood", "Blauw"]


def test_flag_categories_and_extended_property_read_back_with_expand(
    client: Client, store: MailStore
) -> None:
    deliver(store, 1)
    [message] = client.get(INBOX).json["value"]
    answer = client.patch(
        f"/users/{SHARED}/messages/{message['id']}",
        {
            "flag": {
                "flagStatus": "flagged",
                "startDateTime": {
                    "dateTime": "2026-11-30T09:00:00",
                    "timeZone": "W. Europe Standard Time",
                },
                "dueDateTime": {
                    "dateTime": "2026-12-01T17:00:00",
                    "timeZone": "W. Europe Standard Time",
                },
            },
            "categories": ["Ontvangst bevestigd"],
            "singleValueExtendedProperties": [{"id": MARKER, "value": "ack-7"}],
        },
    )
    assert answer.status == 200, answer.raw
    read = client.get(
        f"/users/{SHARED}/messages/{message['id']}?$select=flag,categories"
        f"&$expand=singleValueExtendedProperties($filter=id eq '{MARKER}')"
    ).json
    assert read["flag"] == {
        "flagStatus": "flagged",
        "startDateTime": {"dateTime": "2026-11-30T08:00:00.0000000", "timeZone": "UTC"},
        "dueDateTime": {"dateTime": "2026-12-01T16:00:00.0000000", "timeZone": "UTC"},
    }
    assert read["categories"] == ["Ontvangst bevestigd"]
    assert read["singleValueExtendedProperties"] == [{"id": MARKER, "value": "ack-7"}]
    found = client.get(
        f"/users/{SHARED}/messages?$filter=singleValueExtendedProperties/Any(ep: ep/id eq "
        f"'{MARKER}' and ep/value eq 'ack-7')"
    ).json["value"]
    assert [m["id"] for m in found] == [message["id"]]
    received = client.patch(f"/users/{SHARED}/messages/{message['id']}", {"subject": "Anders"})
    assert received.status == 400


def test_batch_runs_twenty_refuses_twenty_one_and_fails_dependents(
    client: Client, store: MailStore
) -> None:
    ids = deliver(store, 20)
    steps = [
        {
            "id": str(i),
            "method": "PATCH",
            "url": f"/users/{SHARED}/messages/{mid.replace('/', '-').replace('+', '_')}",
            "headers": {"Content-Type": "application/json"},
            "body": {"categories": ["Bevestigd"]},
        }
        for i, mid in enumerate(ids)
    ]
    answer = client.post("/$batch", {"requests": steps})
    assert answer.status == 200
    assert [r["status"] for r in answer.json["responses"]] == [200] * 20
    assert all(store.get(mid).categories == ("Bevestigd",) for mid in ids)
    documented = example("batch_response.json")["response"]["responses"][0]
    assert keys(answer.json["responses"][0]) == keys(documented)

    too_many = client.post("/$batch", {"requests": [*steps, {**steps[0], "id": "20"}]})
    assert too_many.status == 400
    assert too_many.json["error"]["code"] == "BadRequest"

    chained = client.post(
        "/$batch",
        {
            "requests": [
                {"id": "a", "method": "GET", "url": f"/users/{SHARED}/messages/{gone_id(store)}"},
                {
                    "id": "b",
                    "method": "GET",
                    "url": f"/users/{SHARED}/messages",
                    "dependsOn": ["a"],
                },
            ]
        },
    ).json["responses"]
    assert [r["status"] for r in chained] == [404, 424]
    assert chained[0]["body"]["error"]["code"] == "ErrorItemNotFound"


def test_batch_steps_beyond_four_per_mailbox_can_be_throttled(
    app: GraphApp, store: MailStore
) -> None:
    from graph_helpers import issue_token

    app.config = app.config.__class__(**{**app.config.__dict__, "batch_parallel_throttling": True})
    client = Client(app, issue_token(app))
    steps = [{"id": str(i), "method": "GET", "url": f"/users/{SHARED}/messages"} for i in range(6)]
    responses = client.post("/$batch", {"requests": steps}).json["responses"]
    assert [r["status"] for r in responses] == [200] * 4 + [429] * 2
    assert responses[4]["headers"]["Retry-After"] == "1"
    assert responses[4]["body"]["error"]["code"] == "ApplicationThrottled"


def test_immutable_ids_survive_moves_ordinary_ids_do_not(client: Client, store: MailStore) -> None:
    deliver(store, 1)
    [plain] = client.get(INBOX).json["value"]
    [stable] = client.get(INBOX, headers=IMMUTABLE).json["value"]
    assert plain["id"] != stable["id"]
    moved = client.post(
        f"/users/{SHARED}/messages/{stable['id']}/move",
        {"destinationId": "deleteditems"},
        headers=IMMUTABLE,
    )
    assert moved.status == 201
    assert moved.json["id"] == stable["id"]
    assert client.get(f"/users/{SHARED}/messages/{plain['id']}").status == 404
    # A move by another front (EWS) is followed through the store's change log.
    current = store.items(SHARED, "deleteditems")[0]
    store.move(current.id, "inbox")
    again = client.get(f"/users/{SHARED}/messages/{stable['id']}", headers=IMMUTABLE)
    assert again.status == 200
    assert again.json["id"] == stable["id"]
    assert (
        again.json["parentFolderId"] == client.get(f"/users/{SHARED}/mailFolders/inbox").json["id"]
    )


def test_injected_faults_answer_429_or_503_with_retry_after(
    client: Client, store: MailStore
) -> None:
    client.post("/_sandbox/graph/faults", {"rate": 1.0, "statuses": [429], "retry_after": 3})
    answer = client.get(INBOX)
    assert answer.status == 429
    assert answer.headers["Retry-After"] == "3"
    assert answer.json["error"]["code"] == "TooManyRequests"
    client.post("/_sandbox/graph/faults", {"rate": 1.0, "statuses": [503], "retry_after": 2})
    assert client.get(INBOX).status == 503
    client.post("/_sandbox/graph/faults", {"rate": 0})
    assert client.get(INBOX).status == 200


def test_send_limit_and_mailbox_concurrency_answer_429(client: Client, app: GraphApp) -> None:
    message = {"subject": "Test", "toRecipients": [{"emailAddress": {"address": CUSTOMER}}]}
    assert client.post("/_sandbox/graph/send-limit", {"per_minute": 2}).status == 200
    statuses = [
        client.post(f"/users/{SHARED}/sendMail", {"message": message}).status for _ in range(3)
    ]
    assert statuses == [202, 202, 429]
    over = client.post(f"/users/{SHARED}/sendMail", {"message": message})
    assert over.json["error"]["code"] == "ErrorExceededMessageLimit"
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    assert client.post(f"/users/{ANOUK}/sendMail", {"message": message}).status == 202

    from graph_helpers import CLIENT_ID

    for _ in range(4):
        assert app.gate.enter(CLIENT_ID, SHARED)
    busy = client.get(INBOX)
    assert busy.status == 429
    assert busy.json["error"]["message"] == "Application is over its MailboxConcurrency limit."
    assert client.get(f"/users/{JAN}/messages").status == 200


def test_send_mail_refuses_non_x_headers_and_mime_loses_auto_submitted(
    client: Client, store: MailStore
) -> None:
    bad = client.post(
        f"/users/{SHARED}/sendMail",
        {
            "message": {
                "subject": "x",
                "toRecipients": [{"emailAddress": {"address": JAN}}],
                "internetMessageHeaders": [{"name": "Auto-Submitted", "value": "auto-replied"}],
            }
        },
    )
    assert bad.status == 400
    assert bad.json["error"]["code"] == "InvalidInternetMessageHeader"
    assert store.items(SHARED, "drafts") == []
    mime = customer_mail(
        "Automatisch antwoord",
        sender=SHARED,
        to=JAN,
        extra={"Auto-Submitted": "auto-replied", "X-Topcontact-Ack": "v1"},
    )
    sent = client.post(f"/users/{SHARED}/sendMail", base64.b64encode(mime))
    assert sent.status == 202
    [received] = store.items(JAN, "inbox")
    names = {k.lower() for k, _ in received.headers}
    assert "x-topcontact-ack" in names
    assert "auto-submitted" not in names
    assert client.post(f"/users/{SHARED}/sendMail", b"not base64!").status == 400


def gone_id(store: MailStore) -> str:
    """The id of a message that existed: well-formed, found nowhere."""
    item = store.deliver(SHARED, customer_mail("Weg"))
    store.delete(item.id)
    return item.id.replace("/", "-").replace("+", "_")


def test_missing_items_and_unknown_routes_answer_graph_errors(
    client: Client, store: MailStore
) -> None:
    missing = client.get(f"/users/{SHARED}/messages/{gone_id(store)}")
    assert missing.status == 404
    assert missing.json["error"]["code"] == "ErrorItemNotFound"
    assert missing.headers["request-id"] == missing.json["error"]["innerError"]["request-id"]
    assert client.get(f"/users/{SHARED}/contacts").status == 400
    stats = client.get("/_sandbox/graph/stats").json
    assert stats["graph.messages.get"] == 1


def test_ids_exchange_could_not_have_made_are_malformed(client: Client, store: MailStore) -> None:
    for bad in ("AAMkbm90aGVyZQ==", "not-base64!", gone_id(store)[:-8]):
        answer = client.get(f"/users/{SHARED}/messages/{bad}")
        assert answer.status == 400, bad
        assert answer.json["error"] == {
            **answer.json["error"],
            "code": "ErrorInvalidIdMalformed",
            "message": "Id is malformed.",
        }
    assert client.get(f"/users/{SHARED}/mailFolders/AAMkbm90aGVyZQ==/messages").status == 400
    present = store.deliver(SHARED, customer_mail("Blijft")).id.replace("/", "-").replace("+", "_")
    moved = client.post(
        f"/users/{SHARED}/messages/{present}/move", {"destinationId": "AAMkbm90aGVyZQ=="}
    )
    assert moved.status == 400


def test_prefer_body_content_type_text_converts_html_bodies(
    client: Client, store: MailStore
) -> None:
    deliver(store, 1)
    [message] = client.get(INBOX).json["value"]
    draft = client.post(
        f"/users/{SHARED}/messages/{message['id']}/createReply", {"comment": "Dank u."}
    ).json
    assert draft["body"]["contentType"] == "html"
    text = client.get(
        f"/users/{SHARED}/messages/{draft['id']}?$select=body",
        headers={"Prefer": 'outlook.body-content-type="text"'},
    )
    assert text.json["body"]["contentType"] == "text"
    assert "Dank u." in text.json["body"]["content"]
    assert "<" not in text.json["body"]["content"]
    assert text.headers["Preference-Applied"] == 'outlook.body-content-type="text"'


def test_delta_accepts_only_a_received_date_filter(client: Client, store: MailStore) -> None:
    from datetime import UTC, datetime

    store.deliver(SHARED, customer_mail("Oud"), received=datetime(2026, 1, 5, tzinfo=UTC))
    store.deliver(SHARED, customer_mail("Nieuw"), received=datetime(2026, 11, 5, tzinfo=UTC))
    values, _, _ = follow(client, f"{INBOX}/delta?$filter=receivedDateTime ge 2026-06-01T00:00:00Z")
    assert [v["subject"] for v in values] == ["Nieuw"]
    assert client.get(f"{INBOX}/delta?$filter=isRead eq false").status == 400


def test_reply_sends_in_one_action(client: Client, store: MailStore) -> None:
    deliver(store, 1)
    [message] = client.get(INBOX).json["value"]
    answer = client.post(
        f"/users/{SHARED}/messages/{message['id']}/reply", {"comment": "Ontvangen."}
    )
    assert answer.status == 202
    [sent] = store.items(SHARED, "sentitems")
    assert sent.subject == "RE: Vraag 0"
    assert sent.in_reply_to == "<q0@example.org>"
    assert store.items(SHARED, "drafts") == []
