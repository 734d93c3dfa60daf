"""The back-off log of the Graph front: Retry-After on requests and on $batch steps."""

from __future__ import annotations

from graph_helpers import SHARED, Client, issue_token

from exchange_sandbox.config import GraphConfig
from exchange_sandbox.graph import GraphApp
from exchange_sandbox.store import MailStore


def test_graph_retry_after_on_a_request_and_on_a_batch_step_is_logged(
    store: MailStore, config: GraphConfig
) -> None:
    app = GraphApp(store, config)
    client = Client(app, issue_token(app))
    app.faults.configure(rate=1.0, statuses=(429,), retry_after=2, seed=3)
    messages = f"/users/{SHARED}/messages"
    assert client.get(messages).status == 429
    client.post("/$batch", {"requests": [{"id": "1", "method": "GET", "url": messages}]})
    report = app.requests.report()
    # The plain GET, then the batch step (its own 429); the step retries the GET too soon.
    assert report["hints"] == 2
    assert report["retries"] == 1
    assert report["early_retries"][0]["hint_seconds"] == 2
