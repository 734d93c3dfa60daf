"""The back-off log: which answers told a client to wait, and which retries came too soon."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from exchange_sandbox import SandboxHandle, start_sandbox
from exchange_sandbox.backoff import RequestLog, ews_hint_seconds, retry_after_seconds
from sandbox_helpers import post_soap

GET_INBOX = (
    "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>"
    '<m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder>'
)


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    handle = start_sandbox()
    yield handle
    handle.stop()


def test_a_retry_before_the_hint_is_early_and_one_after_it_is_not() -> None:
    log = RequestLog()
    log.arrived("svc", "GetItem", "a")
    log.hinted("svc", "GetItem", "a", 0.2)
    log.arrived("svc", "GetItem", "a")  # at once: too soon
    assert len(log.report()["early_retries"]) == 1

    log.clear()
    log.arrived("svc", "GetItem", "a")
    log.hinted("svc", "GetItem", "a", 0.05)
    time.sleep(0.06)
    log.arrived("svc", "GetItem", "a")
    report = log.report(tolerance=0)
    assert (report["hints"], report["retries"], report["early_retries"]) == (1, 1, [])


def test_other_clients_and_other_requests_are_no_retry() -> None:
    log = RequestLog()
    log.hinted("svc", "GetItem", "a", 5)
    log.arrived("other", "GetItem", "a")  # another account
    log.arrived("svc", "GetItem", "b")  # the same operation on other items
    report = log.report()
    assert report["retries"] == 0
    assert report["early_retries"] == []
    assert [f["operation"] for f in report["early_same_operation"]] == ["GetItem"]


def test_hints_are_read_from_ews_faults_and_graph_headers() -> None:
    assert ews_hint_seconds(b'<t:Value Name="BackOffMilliseconds">900</t:Value>') == 0.9
    assert ews_hint_seconds(b"<nothing/>") is None
    assert retry_after_seconds({"retry-after": "3"}) == 3
    assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}) is None


def test_ews_server_busy_is_logged_and_an_immediate_retry_is_early(
    sandbox: SandboxHandle,
) -> None:
    sandbox.set_faults("server_busy=1.0,backoff_ms=400,seed=1")
    post_soap(sandbox, GET_INBOX)
    post_soap(sandbox, GET_INBOX)
    report = sandbox.server.stats.log.report()
    assert report["hints"] == 2
    assert report["early_retries"][0]["operation"] == "GetFolder"
    assert report["early_retries"][0]["hint_seconds"] == 0.4


def test_ews_retry_after_the_back_off_is_honoured(sandbox: SandboxHandle) -> None:
    sandbox.set_faults("server_busy=1.0,backoff_ms=100,seed=1")
    post_soap(sandbox, GET_INBOX)
    sandbox.set_faults("")
    time.sleep(0.15)
    assert post_soap(sandbox, GET_INBOX).status_code == 200
    report = sandbox.server.stats.log.report()
    assert (report["hints"], report["retries"], report["early_retries"]) == (1, 1, [])


def test_the_backoff_control_endpoint_reports(sandbox: SandboxHandle) -> None:
    import requests

    sandbox.set_faults("server_busy=1.0,backoff_ms=400,seed=1")
    post_soap(sandbox, GET_INBOX)
    post_soap(sandbox, GET_INBOX)
    answer = requests.get(f"{sandbox.url}/_sandbox/backoff?tolerance_ms=10", timeout=5).json()
    assert answer["hints"] == 2
    assert len(answer["early_retries"]) == 1
    requests.post(f"{sandbox.url}/_sandbox/stats/reset", timeout=5)
    assert requests.get(f"{sandbox.url}/_sandbox/backoff", timeout=5).json()["hints"] == 0


def test_a_hint_in_an_answer_later_than_the_client_waits_is_left_out() -> None:
    log = RequestLog()
    came = time.monotonic()
    log.arrived("svc", "GetItem", "a", at=came)
    log.hinted("svc", "GetItem", "a", 5, since=came - 3)  # the answer came after 3 s
    log.arrived("svc", "GetItem", "a")  # the client timed out after 2 s and asked again

    assert len(log.report()["early_retries"]) == 1
    report = log.report(client_timeout=2)
    assert (report["hints"], report["unseen"], report["early_retries"]) == (0, 1, [])
