"""Query options and batches the sandbox Graph endpoint refuses as Graph does, and $search."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from graph_helpers import SHARED, Client, customer_mail

from exchange_sandbox.store import MailStore

MESSAGES = f"/users/{SHARED}/messages"


def error(answer: Any) -> tuple[int, str, str]:
    return answer.status, answer.json["error"]["code"], answer.json["error"]["message"]


def test_unknown_properties_in_select_filter_and_orderby_are_parse_errors(
    client: Client, store: MailStore
) -> None:
    store.deliver(SHARED, customer_mail())
    assert error(client.get(f"{MESSAGES}?$select=subject,isJunk")) == (
        400,
        "RequestBroker--ParseUri",
        "Could not find a property named 'isJunk' on type 'microsoft.graph.message'.",
    )
    assert client.get(f"{MESSAGES}?$filter=isJunk ne true").json["error"]["code"] == (
        "RequestBroker--ParseUri"
    )
    assert client.get(f"{MESSAGES}?$orderby=size desc").status == 400
    delta = client.get(f"/users/{SHARED}/mailFolders/inbox/messages/delta?$select=isjunk")
    assert delta.status == 400
    folder = client.get(f"/users/{SHARED}/mailFolders/inbox?$select=isRead")
    assert error(folder)[2] == (
        "Could not find a property named 'isRead' on type 'microsoft.graph.mailFolder'."
    )
    # Names are not case-sensitive; a property of a derived type needs its cast.
    assert client.get(f"{MESSAGES}?$select=IsRead,SUBJECT").status == 200
    assert client.get(f"{MESSAGES}?$select=meetingMessageType").status == 400
    folder_id = client.get(f"/users/{SHARED}/mailFolders/inbox?$select=id").json
    assert set(folder_id) == {"@odata.context", "id"}


def search(client: Client, kql: str, **extra: str) -> Any:
    query = "&".join(f"${k}={quote(v)}" for k, v in {"search": kql, **extra}.items())
    return client.get(f"{MESSAGES}?{query}")


def subjects(answer: Any) -> list[str]:
    assert answer.status == 200, answer.raw
    return [m["subject"] for m in answer.json["value"]]


def test_search_finds_words_in_from_subject_and_body_and_by_property(
    client: Client, store: MailStore
) -> None:
    store.deliver(SHARED, customer_mail("Lekkage badkamer", msgid="<a@example.org>"))
    older = customer_mail("Huurverhoging", sender="p.jansen@example.net", msgid="<b@example.org>")
    store.deliver(SHARED, older.replace(b"27 Nov 2026 09:00", b"26 Nov 2026 09:00"))
    assert subjects(search(client, '"lekkage"')) == ["Lekkage badkamer"]
    assert subjects(search(client, '"plafond"')) == ["Lekkage badkamer", "Huurverhoging"]
    assert subjects(search(client, '"from:p.jansen"')) == ["Huurverhoging"]
    assert subjects(search(client, '"subject:huur OR subject:lekk"')) == [
        "Lekkage badkamer",
        "Huurverhoging",
    ]
    assert subjects(search(client, '"plafond NOT subject:huur"')) == ["Lekkage badkamer"]
    assert subjects(search(client, '"sent>=2026-11-26 sent<11/27/2026"')) == ["Huurverhoging"]
    assert subjects(search(client, '"sent:2026-11-27"')) == ["Lekkage badkamer"]
    first = search(client, '"plafond"', top="1")
    assert subjects(first) == ["Lekkage badkamer"]
    assert subjects(client.get(first.json["@odata.nextLink"])) == ["Huurverhoging"]


@pytest.mark.parametrize(
    ("kql", "extra"),
    [
        ("lekkage", {}),  # not in double quotes
        ('"(lekkage)"', {}),
        ('"attachment:foto.jpg"', {}),
        ('"lekkage"', {"filter": "isRead eq false"}),
        ('"lekkage"', {"orderby": "receivedDateTime desc"}),
        ('"lekkage"', {"skip": "10"}),
    ],
)
def test_search_refuses_what_it_cannot_do_instead_of_ignoring_it(
    client: Client, kql: str, extra: dict[str, str]
) -> None:
    answer = search(client, kql, **extra)
    assert answer.status == 400
    assert answer.json["error"]["code"] == "ErrorInvalidUrlQuery"


def step(step_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": step_id, "method": "GET", "url": f"/users/{SHARED}/messages", **extra}


@pytest.mark.parametrize(
    ("requests", "message"),
    [
        ([step(str(i)) for i in range(21)], "Number of requests inside batch exceeds the limit"),
        ([step("a"), step("A")], "Request Id A has to be unique in a batch."),
        ([{"method": "GET", "url": "/users"}], "needs an id"),
        ([{"id": "1", "url": f"/users/{SHARED}/messages"}], "no valid method"),
        ([{"id": "1", "method": "GET"}], "relative to the service root"),
        ([step("1", url=f"https://graph.microsoft.com/v1.0/users/{SHARED}/messages")], "relative"),
        (
            [step("1", method="POST", url=f"/users/{SHARED}/sendMail", body={"message": {}})],
            "Write request id : 1 does not contain Content-Type header or body.",
        ),
        ([step("1", method="POST", url=f"/users/{SHARED}/messages/x/send")], "Write request id"),
        ([step("1", dependsOn=["2"])], "not another request of the batch"),
        ([step("1", dependsOn=["2"]), step("2", dependsOn=["1"])], "form a cycle"),
        ([], "Invalid batch payload format."),
    ],
)
def test_malformed_batches_are_refused_whole(
    client: Client, store: MailStore, requests: list[dict[str, Any]], message: str
) -> None:
    store.deliver(SHARED, customer_mail())
    answer = client.post("/$batch", {"requests": requests})
    assert answer.status == 400
    assert answer.json["error"]["code"] == "BadRequest"
    assert message in answer.json["error"]["message"]
    assert store.items(SHARED, "sentitems") == []


def test_depends_on_runs_steps_in_dependency_order_not_list_order(
    client: Client, store: MailStore
) -> None:
    store.deliver(SHARED, customer_mail())
    requests = [step("1"), step("3", dependsOn=["4"]), step("4", dependsOn=["1"])]
    answer = client.post("/$batch", {"requests": requests})
    assert answer.status == 200
    assert {r["id"]: r["status"] for r in answer.json["responses"]} == {
        "1": 200,
        "3": 200,
        "4": 200,
    }
