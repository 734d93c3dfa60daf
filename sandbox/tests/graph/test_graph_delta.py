"""Graph delta query of the sandbox: sync states that expire or are pruned, partial updates."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

from graph_helpers import SHARED, Client, customer_mail

from exchange_sandbox.graph import GraphApp
from exchange_sandbox.graph.delta import DeltaTokens
from exchange_sandbox.store import MailStore

INBOX_DELTA = f"/users/{SHARED}/mailFolders/inbox/messages/delta"


def round_of(client: Client, url: str) -> tuple[list[dict[str, Any]], str]:
    values: list[dict[str, Any]] = []
    while True:
        answer = client.get(url)
        assert answer.status == 200, answer.raw
        values.extend(answer.json["value"])
        if "@odata.deltaLink" in answer.json:
            return values, answer.json["@odata.deltaLink"]
        url = answer.json["@odata.nextLink"]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_delta_link_older_than_its_lifetime_is_gone_and_points_at_a_full_resync(
    client: Client, app: GraphApp, store: MailStore
) -> None:
    clock = Clock()
    app.delta = DeltaTokens(lifetime_seconds=3600, clock=clock)
    store.deliver(SHARED, customer_mail("Vraag"))
    _, link = round_of(client, f"{INBOX_DELTA}?$select=subject,categories")
    clock.now += 3599
    _, link = round_of(client, link)
    clock.now += 3601
    gone = client.get(link)
    assert gone.status == 410
    assert gone.json["error"]["code"] == "SyncStateNotFound"
    # "Synchronization reset": Location holds the initial request, with its options.
    location = urlsplit(gone.headers["Location"])
    assert location.path == f"/v1.0{INBOX_DELTA}".replace("@", "%40")
    assert parse_qs(location.query) == {"$select": ["subject,categories"]}
    again, _ = round_of(client, gone.headers["Location"])
    assert [m["subject"] for m in again] == ["Vraag"]


def test_older_sync_states_are_pruned_from_the_mailbox_cache(
    client: Client, app: GraphApp, store: MailStore
) -> None:
    assert client.post("/_sandbox/graph/delta-tokens", {"cache_size": 3}).status == 200
    store.deliver(SHARED, customer_mail("Vraag"))
    _, oldest = round_of(client, INBOX_DELTA)
    _, newer = round_of(client, oldest)
    assert client.get(oldest).status == 200  # two tokens issued since: still cached
    _, newest = round_of(client, newer)
    assert client.get(oldest).status == 410  # three newer ones: dropped from the cache
    assert client.get(newest).status == 200
    assert client.post("/_sandbox/graph/delta-tokens", {"cache_size": -1}).status == 400


def test_expire_delta_forgets_one_mailbox_only(client: Client, store: MailStore) -> None:
    jan_delta = INBOX_DELTA.replace(SHARED, "j.devries@woonservice.example")
    _, shared_link = round_of(client, INBOX_DELTA)
    _, jan_link = round_of(client, jan_delta)
    assert client.post("/_sandbox/graph/expire-delta", {"mailbox": SHARED}).status == 200
    assert client.get(shared_link).status == 410
    assert client.get(jan_link).status == 200


def test_an_updated_message_comes_back_with_its_id_and_the_changed_properties_only(
    client: Client, store: MailStore
) -> None:
    item = store.deliver(SHARED, customer_mail("Vraag"))
    select = "subject,from,categories,flag,isRead,internetMessageId"
    [whole], link = round_of(client, f"{INBOX_DELTA}?$select={select}")
    assert {"subject", "from", "internetMessageId"} <= set(whole)
    message = f"/users/{SHARED}/messages/{whole['id']}"
    assert client.patch(message, {"categories": ["Bevestigd"]}).status == 200
    [update], link = round_of(client, link)
    assert set(update) == {"@odata.type", "@odata.etag", "id", "categories", "flag", "isRead"}
    assert update["categories"] == ["Bevestigd"]
    # A message created since the last round comes whole, even when it changed since.
    second = store.deliver(SHARED, customer_mail("Tweede vraag", msgid="<tweede@example.org>"))
    store.update(second.id, lambda it: replace(it, is_read=True))
    [created], _ = round_of(client, link)
    assert created["subject"] == "Tweede vraag"
    assert store.get(item.id).categories == ("Bevestigd",)


def test_partial_updates_can_be_switched_off(app: GraphApp, store: MailStore) -> None:
    from graph_helpers import issue_token

    app.config = replace(app.config, delta_partial_updates=False)
    client = Client(app, issue_token(app))
    store.deliver(SHARED, customer_mail("Vraag"))
    [whole], link = round_of(client, f"{INBOX_DELTA}?$select=subject,isRead")
    client.patch(f"/users/{SHARED}/messages/{whole['id']}", {"isRead": True})
    [update], _ = round_of(client, link)
    assert update["subject"] == "Vraag"


def test_the_initial_sync_keeps_the_creation_order_of_messages_created_in_one_second(
    client: Client, store: MailStore, monkeypatch: Any
) -> None:
    # `date_created` has whole seconds; a conversation delivered within one second must still
    # come in the order it was delivered, across pages, never by the random item ids (the
    # daemon acknowledges the first message of a conversation it reads: a reply on an earlier
    # page than the message it answers took the acknowledgement in tests, by chance).
    import exchange_sandbox.store.mailstore as mailstore

    second = mailstore.utcnow()
    monkeypatch.setattr(mailstore, "utcnow", lambda: second)
    subjects = [f"Vraag {n:02d}" for n in range(30)]
    for subject in subjects:
        store.deliver(SHARED, customer_mail(subject))
    answer = client.get(
        f"{INBOX_DELTA}?$select=subject,createdDateTime",
        headers={"Prefer": "odata.maxpagesize=4"},
    )
    assert answer.status == 200, answer.raw
    rest, _ = round_of(client, answer.json["@odata.nextLink"])
    values = answer.json["value"] + rest
    assert len({m["createdDateTime"] for m in values}) == 1  # all in the same second
    assert [m["subject"] for m in values] == subjects
