"""Throttling and lost answers of the sandbox Graph endpoint: concurrency, request budget, lost."""

from __future__ import annotations

import threading
from typing import Any

from graph_helpers import CLIENT_ID, JAN, SHARED, Client, customer_mail

from exchange_sandbox.graph import GraphApp
from exchange_sandbox.graph.limits import RequestBudget
from exchange_sandbox.store import MailStore

MESSAGES = f"/users/{SHARED}/messages"


def side_by_side(client: Client, count: int) -> list[Any]:
    """``count`` GETs of the shared mailbox sent at the same moment, their answers."""
    answers: list[Any] = [None] * count
    start = threading.Barrier(count)

    def one(n: int) -> None:
        start.wait()
        answers[n] = client.get(MESSAGES)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_a_fifth_concurrent_request_is_throttled_while_four_are_slow(
    client: Client, app: GraphApp
) -> None:
    # The latency is spent holding a slot, as a slow Exchange holds the request.
    app.latency = lambda: 0.4
    answers = side_by_side(client, 6)
    assert sorted(a.status for a in answers) == [200] * 4 + [429] * 2
    refused = next(a for a in answers if a.status == 429)
    assert refused.json["error"]["code"] == "ApplicationThrottled"
    assert refused.json["error"]["message"] == "Application is over its MailboxConcurrency limit."
    assert refused.headers["Retry-After"] == "1"


def test_batch_steps_take_concurrency_slots_of_their_mailbox(
    client: Client, app: GraphApp, store: MailStore
) -> None:
    store.deliver(SHARED, customer_mail())
    for _ in range(3):  # three requests of the app to the shared mailbox are in flight
        assert app.gate.enter(CLIENT_ID, SHARED)
    steps = [{"id": str(i), "method": "GET", "url": MESSAGES} for i in range(4)]
    steps.append({"id": "jan", "method": "GET", "url": f"/users/{JAN}/messages"})
    answer = client.post("/$batch", {"requests": steps})
    assert answer.status == 200
    statuses = {r["id"]: r["status"] for r in answer.json["responses"]}
    assert statuses == {"0": 200, "1": 429, "2": 429, "3": 429, "jan": 200}
    throttled = answer.json["responses"][1]
    assert throttled["headers"]["Retry-After"] == "1"
    assert throttled["body"]["error"]["code"] == "ApplicationThrottled"
    # Slots are given back: with the others gone, a batch of four runs whole.
    for _ in range(3):
        app.gate.leave(CLIENT_ID, SHARED)
    again = client.post("/$batch", {"requests": steps[:4]}).json["responses"]
    assert [r["status"] for r in again] == [200] * 4


def test_a_dependent_batch_takes_one_slot_at_a_time(client: Client, app: GraphApp) -> None:
    for _ in range(3):
        assert app.gate.enter(CLIENT_ID, SHARED)
    steps = [{"id": "1", "method": "GET", "url": MESSAGES}]
    steps += [
        {"id": str(i), "method": "GET", "url": MESSAGES, "dependsOn": [str(i - 1)]}
        for i in range(2, 6)
    ]
    responses = client.post("/$batch", {"requests": steps}).json["responses"]
    assert [r["status"] for r in responses] == [200] * 5


def test_the_request_budget_per_app_and_mailbox_counts_batch_steps(
    client: Client, app: GraphApp
) -> None:
    clock = [0.0]
    app.budget = RequestBudget(5, 600, clock=lambda: clock[0])
    assert [client.get(MESSAGES).status for _ in range(3)] == [200] * 3
    clock[0] = 100.0
    steps = [{"id": str(i), "method": "GET", "url": MESSAGES} for i in range(3)]
    responses = client.post("/$batch", {"requests": steps}).json["responses"]
    assert [r["status"] for r in responses] == [200, 200, 429]
    over = client.get(MESSAGES)
    assert over.status == 429
    assert over.json["error"]["code"] == "ApplicationThrottled"
    assert over.headers["Retry-After"] == "500"  # when the first requests leave the window
    assert client.get(f"/users/{JAN}/messages").status == 200  # another mailbox: its own budget
    # Refused requests do not count: once the first three leave the window, three get in.
    clock[0] = 600.5
    assert [client.get(MESSAGES).status for _ in range(4)] == [200, 200, 200, 429]


def test_throttling_is_set_at_runtime(client: Client, app: GraphApp) -> None:
    answer = client.post(
        "/_sandbox/graph/throttling",
        {"mailbox_concurrency": 2, "request_budget": 3, "request_budget_window_seconds": 60},
    )
    assert answer.json == {
        "mailbox_concurrency": 2,
        "request_budget": 3,
        "request_budget_window_seconds": 60,
        "batch_parallel_throttling": False,
    }
    assert [client.get(MESSAGES).status for _ in range(4)] == [200, 200, 200, 429]
    assert client.post("/_sandbox/graph/throttling", {"request_budget": -1}).status == 400
    assert app.gate.limit == 2


def test_a_lost_answer_leaves_the_work_done(client: Client, store: MailStore) -> None:
    item = store.deliver(SHARED, customer_mail())
    message_id = item.id.replace("/", "-").replace("+", "_")
    client.post("/_sandbox/graph/faults", {"lost": 1.0, "seed": 3})
    patched = client.patch(f"{MESSAGES}/{message_id}", {"categories": ["Bevestigd"]})
    assert patched.status == 0  # the HTTP front closes the connection unanswered
    assert store.get(item.id).categories == ("Bevestigd",)
    step = {
        "id": "1",
        "method": "POST",
        "url": f"/users/{SHARED}/sendMail",
        "headers": {"Content-Type": "application/json"},
        "body": {
            "message": {
                "subject": "Ontvangen",
                "toRecipients": [{"emailAddress": {"address": JAN}}],
            }
        },
    }
    assert client.post("/$batch", {"requests": [step]}).status == 0
    assert [it.subject for it in store.items(JAN, "inbox")] == ["Ontvangen"]
    client.post("/_sandbox/graph/faults", {"lost": 0})
    assert client.get(MESSAGES).status == 200
