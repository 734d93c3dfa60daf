"""The Graph HTTP client: immutable ids, retries that honour Retry-After, lost answers, $batch."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError

from topcontact_mail.adapters.graph.client import (
    MAX_ATTEMPTS,
    AnswerLost,
    BatchStep,
    GraphClient,
)

from .support import ROOT, SHARED, USER, FakeTokens, Sleeps

BUSY = {"error": {"code": "ApplicationThrottled", "message": "MailboxConcurrency"}}


def test_every_request_asks_for_immutable_ids_with_a_bearer_token(
    client: GraphClient, http: responses.RequestsMock
) -> None:
    http.get(f"{USER}/mailFolders/inbox", json={"id": "inbox"})

    answer = client.request("GET", f"/users/{SHARED}/mailFolders/inbox", may_repeat=True)

    assert answer.ok
    sent = http.calls[0].request
    assert sent.headers["Prefer"] == 'IdType="ImmutableId"'
    assert sent.headers["Authorization"] == "Bearer token-1"
    assert sent.headers["client-request-id"]


def test_a_429_is_retried_after_the_servers_retry_after(
    client: GraphClient, http: responses.RequestsMock, sleeps: Sleeps
) -> None:
    http.post(f"{ROOT}/users/x/sendMail", status=429, json=BUSY, headers={"Retry-After": "7"})
    http.post(f"{ROOT}/users/x/sendMail", status=202)

    answer = client.request("POST", "/users/x/sendMail", body={}, may_repeat=False)

    assert answer.status == 202
    assert sleeps == [7.0]


def test_a_503_without_hint_backs_off_doubling_and_gives_up_after_the_last_attempt(
    client: GraphClient, http: responses.RequestsMock, sleeps: Sleeps
) -> None:
    http.get(f"{ROOT}/users/x/messages", status=503, json={"error": {"code": "ServiceUnavailable"}})

    answer = client.request("GET", "/users/x/messages", may_repeat=True)

    assert answer.status == 503
    assert answer.transient
    assert len(http.calls) == MAX_ATTEMPTS
    assert sleeps == [1.0, 2.0, 4.0, 8.0]


def test_a_retry_after_beyond_the_maximum_is_left_to_a_later_pass(
    client: GraphClient, http: responses.RequestsMock, sleeps: Sleeps
) -> None:
    http.get(f"{ROOT}/users/x/messages", status=429, json=BUSY, headers={"Retry-After": "3600"})

    answer = client.request("GET", "/users/x/messages", may_repeat=True)

    assert answer.status == 429
    assert sleeps == []
    assert len(http.calls) == 1


def test_a_500_is_retried_for_reads_but_not_for_a_send(
    client: GraphClient, http: responses.RequestsMock, sleeps: Sleeps
) -> None:
    http.get(f"{ROOT}/users/x/messages", status=500)
    http.get(f"{ROOT}/users/x/messages", json={"value": []})
    http.post(f"{ROOT}/users/x/messages/d/send", status=500)

    assert client.request("GET", "/users/x/messages", may_repeat=True).ok
    assert client.request("POST", "/users/x/messages/d/send", may_repeat=False).status == 500
    assert len([c for c in http.calls if c.request.method == "POST"]) == 1


def test_a_send_whose_connection_breaks_is_reported_lost_not_repeated(
    client: GraphClient, http: responses.RequestsMock
) -> None:
    http.post(f"{ROOT}/users/x/messages/d/send", body=requests.ReadTimeout("read timed out"))

    with pytest.raises(AnswerLost):
        client.request("POST", "/users/x/messages/d/send", may_repeat=False)
    assert len(http.calls) == 1


def test_a_send_whose_connection_was_never_made_is_tried_again(
    client: GraphClient, http: responses.RequestsMock, sleeps: Sleeps
) -> None:
    refused = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] refused")  # type: ignore[arg-type]
    url = f"{ROOT}/users/x/sendMail"
    http.post(url, body=requests.ConnectionError(MaxRetryError(None, url, refused)))  # type: ignore[arg-type]
    http.post(url, status=202)

    answer = client.request("POST", "/users/x/sendMail", body={}, may_repeat=False)

    assert answer.status == 202
    assert sleeps == [1.0]


def test_a_send_answered_500_is_handed_back_not_repeated_and_transient(
    client: GraphClient, http: responses.RequestsMock, sleeps: Sleeps
) -> None:
    http.post(f"{ROOT}/users/x/sendMail", status=502, json={"error": {"code": "BadGateway"}})

    answer = client.request("POST", "/users/x/sendMail", body={}, may_repeat=False)

    assert answer.status == 502
    assert answer.transient
    assert len(http.calls) == 1
    assert sleeps == []


def test_a_read_whose_connection_breaks_is_tried_again(
    client: GraphClient, http: responses.RequestsMock, sleeps: Sleeps
) -> None:
    http.get(f"{ROOT}/users/x/messages", body=requests.ConnectionError("reset by peer"))
    http.get(f"{ROOT}/users/x/messages", json={"value": []})

    assert client.request("GET", "/users/x/messages", may_repeat=True).ok
    assert sleeps == [1.0]


def test_a_refused_token_is_fetched_anew_once(
    client: GraphClient, http: responses.RequestsMock, tokens: FakeTokens
) -> None:
    refused = {"error": {"code": "InvalidAuthenticationToken", "message": "revoked"}}
    http.get(f"{ROOT}/users/x/messages", status=401, json=refused)
    http.get(f"{ROOT}/users/x/messages", json={"value": []})

    assert client.request("GET", "/users/x/messages", may_repeat=True).ok
    assert tokens.invalidated == 1
    assert http.calls[1].request.headers["Authorization"] == "Bearer token-2"


def test_no_token_is_ever_sent_to_another_host(client: GraphClient) -> None:
    with pytest.raises(ValueError, match="refusing"):
        client.request("GET", "https://evil.example/v1.0/users/x", may_repeat=True)


def test_batch_steps_carry_immutable_ids_and_only_throttled_steps_go_again(
    client: GraphClient, http: responses.RequestsMock, sleeps: Sleeps
) -> None:
    first = {
        "responses": [
            {"id": "0", "status": 200, "body": {"id": "a"}},
            {"id": "1", "status": 429, "headers": {"Retry-After": "2"}, "body": BUSY},
            {"id": "2", "status": 404, "body": {"error": {"code": "ErrorItemNotFound"}}},
        ]
    }
    second = {"responses": [{"id": "1", "status": 200, "body": {"id": "b"}}]}
    http.post(f"{ROOT}/$batch", json=first)
    http.post(f"{ROOT}/$batch", json=second)
    steps = [
        BatchStep(str(n), "PATCH", f"/users/x/messages/m{n}", {"categories": []}) for n in range(3)
    ]

    answers = client.batch(steps, may_repeat=True)

    assert [answers[s].status for s in "012"] == [200, 200, 404]
    assert sleeps == [2.0]
    first_body = json.loads(http.calls[0].request.body or b"")
    assert first_body["requests"][0]["headers"] == {
        "Prefer": 'IdType="ImmutableId"',
        "Content-Type": "application/json",
    }
    assert [r["id"] for r in json.loads(http.calls[1].request.body or b"")["requests"]] == ["1"]


def test_batch_steps_of_a_send_that_failed_with_5xx_are_not_sent_again(
    client: GraphClient, http: responses.RequestsMock, sleeps: Sleeps
) -> None:
    answers = {
        "responses": [
            {"id": "0", "status": 500, "body": {"error": {"code": "InternalServerError"}}},
            {"id": "1", "status": 429, "headers": {"Retry-After": "3"}, "body": BUSY},
        ]
    }
    http.post(f"{ROOT}/$batch", json=answers)
    http.post(f"{ROOT}/$batch", json={"responses": [{"id": "1", "status": 202}]})
    steps = [BatchStep(str(n), "POST", f"/users/x/messages/m{n}/reply", {}) for n in range(2)]

    answers_by_id = client.batch(steps, may_repeat=False)

    assert answers_by_id["0"].status == 500  # may have gone out: the caller looks first
    assert answers_by_id["1"].status == 202  # throttled, so not run: sent again
    assert [r["id"] for r in json.loads(http.calls[1].request.body or b"")["requests"]] == ["1"]
    assert sleeps == [3.0]


def test_a_batch_holds_at_most_twenty_requests(client: GraphClient) -> None:
    steps = [BatchStep(str(n), "GET", "/users/x/messages") for n in range(21)]
    with pytest.raises(ValueError, match="20"):
        client.batch(steps, may_repeat=True)


def test_a_batch_that_got_no_answer_in_time_is_split_until_its_halves_are_answered(
    client: GraphClient, http: responses.RequestsMock, sleeps: Sleeps
) -> None:
    # A batch is answered when its slowest step is done: here any batch of more than
    # two steps outlasts the client's time-out, as a slow step makes it on Exchange Online.
    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        steps = json.loads(request.body or b"")["requests"]
        if len(steps) > 2:
            raise requests.ReadTimeout("read timed out")
        responses_ = [{"id": s["id"], "status": 200, "body": {"id": s["url"]}} for s in steps]
        return 200, {}, json.dumps({"responses": responses_})

    http.add_callback(responses.POST, f"{ROOT}/$batch", callback=answer)
    steps = [BatchStep(str(n), "GET", f"/users/x/messages/m{n}") for n in range(8)]

    answers = client.batch(steps, may_repeat=True)

    assert {k: a.status for k, a in answers.items()} == {str(n): 200 for n in range(8)}
    sizes = [len(json.loads(c.request.body or b"")["requests"]) for c in http.calls]
    assert sizes == [8, 4, 2, 2, 4, 2, 2]  # no batch sent whole again
    assert sleeps == [1.0, 1.0, 1.0]  # a pause before each split: the server may still be busy


def test_a_send_batch_without_an_answer_is_not_split_but_reported_lost(
    client: GraphClient, http: responses.RequestsMock, sleeps: Sleeps
) -> None:
    http.post(f"{ROOT}/$batch", body=requests.ReadTimeout("read timed out"))
    steps = [BatchStep(str(n), "POST", f"/users/x/messages/m{n}/reply", {}) for n in range(4)]

    with pytest.raises(AnswerLost):
        client.batch(steps, may_repeat=False)

    assert len(http.calls) == 1  # may have gone out: the caller looks before sending again


def test_after_a_batch_without_an_answer_the_next_batches_are_smaller_and_grow_back(
    client: GraphClient, http: responses.RequestsMock, sleeps: Sleeps
) -> None:
    slow = [True]  # the first batch outlasts the time-out, every later one is answered

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        steps = json.loads(request.body or b"")["requests"]
        if slow.pop() if slow else False:
            raise requests.ReadTimeout("read timed out")
        responses_ = [{"id": s["id"], "status": 200, "body": {}} for s in steps]
        return 200, {}, json.dumps({"responses": responses_})

    http.add_callback(responses.POST, f"{ROOT}/$batch", callback=answer)
    steps = [BatchStep(str(n), "GET", f"/users/x/messages/m{n}") for n in range(20)]

    client.batch(steps, may_repeat=True)  # 20 → no answer → 10 + 10
    client.batch(steps, may_repeat=True)  # no longer 20 at once: a slow step would hold it up

    sizes = [len(json.loads(c.request.body or b"")["requests"]) for c in http.calls]
    assert sizes[:3] == [20, 10, 10]
    # 10 after the time-out, one more for each batch answered since; sent side by side.
    assert sorted(sizes[3:]) == [8, 12]
    assert client.batch_limit == 14


@pytest.mark.parametrize(("limit", "at_once"), [(1, 4), (2, 2), (4, 1)])
def test_smaller_batches_after_time_outs_run_side_by_side_within_the_mailbox_limit(
    client: GraphClient, http: responses.RequestsMock, limit: int, at_once: int
) -> None:
    # Graph counts every step of a batch against the four concurrent requests of a mailbox.
    client.batch_limit = limit  # as after time-outs
    in_flight = [0]
    most = [0]
    lock = threading.Lock()

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        time.sleep(0.1)  # a server that takes its time
        with lock:
            in_flight[0] -= 1
        steps = json.loads(request.body or b"")["requests"]
        responses_ = [{"id": s["id"], "status": 200, "body": {}} for s in steps]
        return 200, {}, json.dumps({"responses": responses_})

    http.add_callback(responses.POST, f"{ROOT}/$batch", callback=answer)
    steps = [BatchStep(str(n), "GET", f"/users/x/messages/m{n}") for n in range(8)]

    answers = client.batch(steps, may_repeat=True)

    assert len(answers) == 8
    assert most[0] == at_once


def test_a_request_the_client_stopped_waiting_for_keeps_its_slots_a_while(
    tokens: FakeTokens,
    sleeps: Sleeps,
    http: responses.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The server still works on it: asking again at once would meet 429 MailboxConcurrency.
    monkeypatch.setattr("topcontact_mail.adapters.graph.client.ABANDONED_HOLD_SECONDS", 0.3)
    client = GraphClient(ROOT, tokens, retry_wait=0.0, sleep=sleeps, mailbox=SHARED, timeout=5)
    http.post(f"{ROOT}/$batch", body=requests.ReadTimeout("read timed out"))
    http.post(f"{ROOT}/$batch", json={"responses": [{"id": "0", "status": 200, "body": {}}]})
    steps = [BatchStep(str(n), "GET", f"/users/x/messages/m{n}") for n in range(4)]
    with pytest.raises(AnswerLost):
        client.batch(steps, may_repeat=False)  # four steps: every slot, now held
    began = time.monotonic()
    client.batch([steps[0]], may_repeat=True)
    assert time.monotonic() - began >= 0.25  # waited for the abandoned batch's slots
