"""EWS throttling: the budgets of Exchange's throttling policy, with Exchange's defaults and answers.

"EWS throttling in Exchange" (table 3): EWSMaxConcurrency (27) -> ErrorExceededConnectionCount,
EWSMaxSubscriptions -> ErrorExceededSubscriptionCount; "Handling notification-related errors":
more open streaming connections than the HangingConnectionLimit (10 for Exchange 2016/2019)
-> ErrorExceededConnectionCount. ConcurrentSyncCalls (Exchange 2016+) -> ErrorServerBusy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from lxml import etree

from exchange_sandbox.config import EwsConfig, parse_config
from exchange_sandbox.server import SandboxHandle
from sandbox_helpers import (
    DEVRIES,
    PASSWORD,
    SHARED,
    SOAP_NS,
    TNS,
    envelope,
    fault_code,
    post_soap,
    response_codes,
)
from topcontact_mail.adapters.retry import Verdict, classify_ews

INBOX = (
    f'<t:DistinguishedFolderId Id="inbox"><t:Mailbox><t:EmailAddress>{SHARED}'
    "</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId>"
)
FIND = (
    '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>'
    f"</m:ItemShape><m:ParentFolderIds>{INBOX}</m:ParentFolderIds></m:FindItem>"
)
SYNC = (
    "<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>"
    f"<m:SyncFolderId>{INBOX}</m:SyncFolderId><m:MaxChangesReturned>10</m:MaxChangesReturned>"
    "</m:SyncFolderItems>"
)
PULL = (
    "<m:Subscribe><m:PullSubscriptionRequest><t:FolderIds>{folder}</t:FolderIds>"
    "<t:EventTypes><t:EventType>NewMailEvent</t:EventType></t:EventTypes>"
    "<t:Timeout>10</t:Timeout></m:PullSubscriptionRequest></m:Subscribe>"
)


def _values(response: requests.Response) -> dict[str, str]:
    root = etree.fromstring(response.content)
    return {el.get("Name", ""): el.text or "" for el in root.iter(f"{{{TNS}}}Value")}


def _at_once(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Run the calls at the same moment, each on its own connection."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], requests.Response]) -> requests.Response:
        start.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_the_defaults_are_exchanges() -> None:
    assert EwsConfig() == EwsConfig(
        strict=True,
        max_concurrency=27,
        max_subscriptions=20,
        hanging_connection_limit=10,
        concurrent_sync_calls=5,
    )
    custom = parse_config({"ews": {"max_concurrency": 10, "strict": False}}).ews
    assert (custom.max_concurrency, custom.strict, custom.max_subscriptions) == (10, False, 20)
    with pytest.raises(ValueError, match="unknown keys"):
        parse_config({"ews": {"max_concurency": 10}})


def test_the_28th_request_in_progress_is_error_exceeded_connection_count(
    sandbox: SandboxHandle,
) -> None:
    # Each FindItem takes 1.5 s; 28 at once from one account exceed EWSMaxConcurrency (27).
    sandbox.set_faults("slow=1.0,slow_ms=1500,ops=FindItem")
    answers = _at_once([lambda: post_soap(sandbox, FIND)] * 28)
    refused = [a for a in answers if a.status_code == 500]
    assert len(refused) == 1
    assert sum(response_codes(a) == ["NoError"] for a in answers) == 27
    (busy,) = refused
    assert fault_code(busy) == "ErrorExceededConnectionCount"
    root = etree.fromstring(busy.content)
    assert root.find(f"{{{SOAP_NS}}}Header") is None
    assert _values(busy)["Policy"] == "MaxConcurrency"
    assert _values(busy)["MaxConcurrencyLimit"] == "27"
    assert "You have exceeded the available concurrent connections" in busy.text
    assert sandbox.server.stats.snapshot()["faults"]["throttled"] == 1
    sandbox.set_faults("")
    assert response_codes(post_soap(sandbox, FIND)) == ["NoError"]  # the budget is back


def test_every_account_has_its_own_concurrency_budget(sandbox: SandboxHandle) -> None:
    sandbox.set_ews(max_concurrency=1)
    sandbox.set_faults("slow=1.0,slow_ms=1000,ops=FindItem")
    own = FIND.replace(INBOX, '<t:DistinguishedFolderId Id="inbox"/>')
    service, colleague, again = _at_once(
        [
            lambda: post_soap(sandbox, FIND),
            lambda: post_soap(sandbox, own, user="j.devries"),
            lambda: post_soap(sandbox, FIND),
        ]
    )
    assert response_codes(colleague) == ["NoError"]
    assert sorted([fault_code(service), fault_code(again)]) == ["", "ErrorExceededConnectionCount"]


def test_more_concurrent_syncs_than_concurrent_sync_calls_is_server_busy_with_back_off(
    sandbox: SandboxHandle,
) -> None:
    sandbox.set_faults("slow=1.0,slow_ms=1500,ops=SyncFolderItems")
    answers = _at_once([lambda: post_soap(sandbox, SYNC)] * 6)
    refused = [a for a in answers if a.status_code == 500]
    assert [fault_code(a) for a in refused] == ["ErrorServerBusy"]
    values = _values(refused[0])
    assert next(iter(values)) == "BackOffMilliseconds"  # exchangelib reads the first Value
    assert values["BackOffMilliseconds"] == "5000"
    assert values["Policy"] == "ConcurrentSyncCalls"


def test_the_21st_subscription_is_error_exceeded_subscription_count(
    sandbox: SandboxHandle,
) -> None:
    made = [post_soap(sandbox, PULL.format(folder=INBOX)) for _ in range(20)]
    assert all(response_codes(a) == ["NoError"] for a in made)
    over = post_soap(sandbox, PULL.format(folder=INBOX))
    assert over.status_code == 200
    assert response_codes(over) == ["ErrorExceededSubscriptionCount"]
    first = made[0].content.decode().split("<m:SubscriptionId>", 1)[1].split("<", 1)[0]
    gone = post_soap(
        sandbox, f"<m:Unsubscribe><m:SubscriptionId>{first}</m:SubscriptionId></m:Unsubscribe>"
    )
    assert response_codes(gone) == ["NoError"]
    assert response_codes(post_soap(sandbox, PULL.format(folder=INBOX))) == ["NoError"]


def test_impersonated_subscriptions_are_charged_to_the_target_mailbox(
    sandbox: SandboxHandle,
) -> None:
    sandbox.set_ews(max_subscriptions=2)
    own_inbox = '<t:DistinguishedFolderId Id="inbox"/>'
    header = (
        "<t:ExchangeImpersonation><t:ConnectingSID>"
        f"<t:PrimarySmtpAddress>{DEVRIES}</t:PrimarySmtpAddress>"
        "</t:ConnectingSID></t:ExchangeImpersonation>"
    )
    codes = [
        response_codes(post_soap(sandbox, PULL.format(folder=own_inbox), header=header))[0]
        for _ in range(3)
    ]
    assert codes == ["NoError", "NoError", "ErrorExceededSubscriptionCount"]
    # The service account's own budget (the shared mailbox by delegation) is untouched.
    assert response_codes(post_soap(sandbox, PULL.format(folder=INBOX))) == ["NoError"]


def _stream(sandbox: SandboxHandle, subscription: str) -> requests.Response:
    body = (
        f"<m:GetStreamingEvents><m:SubscriptionIds><t:SubscriptionId>{subscription}"
        "</t:SubscriptionId></m:SubscriptionIds><m:ConnectionTimeout>1</m:ConnectionTimeout>"
        "</m:GetStreamingEvents>"
    )
    return requests.post(
        sandbox.ews_url,
        data=envelope(body),
        auth=("svc-topcontact", PASSWORD),
        headers={"Content-Type": "text/xml; charset=utf-8"},
        stream=True,
        timeout=10,
    )


def test_more_streaming_connections_than_the_hanging_connection_limit_are_refused(
    sandbox: SandboxHandle,
) -> None:
    sandbox.set_ews(hanging_connection_limit=2)
    sandbox.server.keepalive_seconds = 0.2  # a closed stream is noticed quickly
    subscribed = post_soap(
        sandbox,
        "<m:Subscribe><m:StreamingSubscriptionRequest>"
        f"<t:FolderIds>{INBOX}</t:FolderIds><t:EventTypes><t:EventType>NewMailEvent"
        "</t:EventType></t:EventTypes></m:StreamingSubscriptionRequest></m:Subscribe>",
    )
    subscription = subscribed.content.decode().split("<m:SubscriptionId>", 1)[1].split("<")[0]
    open_streams = [_stream(sandbox, subscription) for _ in range(2)]
    try:
        assert [s.status_code for s in open_streams] == [200, 200]
        refused = _stream(sandbox, subscription)
        assert refused.status_code == 500
        assert fault_code(refused) == "ErrorExceededConnectionCount"
        assert _values(refused)["Policy"] == "HangingConnectionLimit"
        # Other requests have their own budget, not the streams'.
        assert response_codes(post_soap(sandbox, FIND)) == ["NoError"]
    finally:
        for stream in open_streams:
            stream.close()


@pytest.mark.parametrize("code", ["ErrorExceededConnectionCount", "ErrorServerBusy"])
def test_the_product_retries_these_answers(code: str) -> None:
    assert classify_ews(code, idempotent=True).verdict is Verdict.TRANSIENT
