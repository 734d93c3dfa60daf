"""Control endpoints, fault injection and raw EWS requests (t:Flag, impersonation header) of the sandbox."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

import pytest
import requests
from exchangelib import DELEGATE, Account
from exchangelib.errors import ErrorServerBusy, TransportError
from lxml import etree

from exchange_sandbox.faults import FaultSpecError, parse_faults
from exchange_sandbox.server import SandboxHandle, start_sandbox
from sandbox_helpers import (
    DEVRIES,
    PASSWORD,
    SERVICE_USER,
    SHARED,
    account,
    eml,
    folder_items,
)

M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"


def soap(handle: SandboxHandle, body: str, header: str = "") -> etree._Element:
    envelope = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:m="{M}" xmlns:t="{T}"><s:Header><t:RequestServerVersion Version="Exchange2016"/>'
        f"{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    )
    resp = requests.post(
        handle.ews_url,
        data=envelope.encode(),
        auth=(SERVICE_USER, PASSWORD),
        headers={"Content-Type": "text/xml; charset=utf-8"},
        timeout=10,
    )
    return etree.fromstring(resp.content)


def test_the_ews_flag_element_is_set_and_read_back(
    sandbox: SandboxHandle, deliver: Callable[..., dict[str, str]]
) -> None:
    delivered = deliver(eml())
    update = (
        '<m:UpdateItem ConflictResolution="AlwaysOverwrite" MessageDisposition="SaveOnly"><m:ItemChanges>'
        f'<t:ItemChange><t:ItemId Id="{delivered["id"]}"/><t:Updates><t:SetItemField>'
        '<t:FieldURI FieldURI="item:Flag"/><t:Message><t:Flag><t:FlagStatus>Flagged</t:FlagStatus>'
        "<t:StartDate>2026-11-27T09:00:00Z</t:StartDate><t:DueDate>2026-12-04T16:00:00Z</t:DueDate>"
        "</t:Flag></t:Message></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>"
    )
    answer = soap(sandbox, update)
    assert answer.findtext(f".//{{{M}}}ResponseCode") == "NoError"
    get = (
        "<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>"
        '<t:FieldURI FieldURI="item:Flag"/>'
        '<t:ExtendedFieldURI PropertyTag="0x1090" PropertyType="Integer"/>'
        "</t:AdditionalProperties></m:ItemShape>"
        f'<m:ItemIds><t:ItemId Id="{delivered["id"]}"/></m:ItemIds></m:GetItem>'
    )
    got = soap(sandbox, get)
    assert got.findtext(f".//{{{T}}}Flag/{{{T}}}FlagStatus") == "Flagged"
    assert got.findtext(f".//{{{T}}}Flag/{{{T}}}DueDate") == "2026-12-04T16:00:00Z"
    assert got.findtext(f".//{{{T}}}ExtendedProperty/{{{T}}}Value") == "2"


def test_a_stale_change_key_with_never_overwrite_is_an_irresolvable_conflict(
    sandbox: SandboxHandle, deliver: Callable[..., dict[str, str]]
) -> None:
    item_id = deliver(eml())["id"]
    (stale,) = [i["change_key"] for i in folder_items(sandbox, SHARED, "inbox")]
    body = (
        '<m:UpdateItem ConflictResolution="NeverOverwrite" MessageDisposition="SaveOnly"><m:ItemChanges>'
        f'<t:ItemChange><t:ItemId Id="{item_id}" ChangeKey="{stale}"/><t:Updates><t:SetItemField>'
        '<t:FieldURI FieldURI="message:IsRead"/><t:Message><t:IsRead>true</t:IsRead></t:Message>'
        "</t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>"
    )
    assert soap(sandbox, body).findtext(f".//{{{M}}}ResponseCode") == "NoError"
    assert soap(sandbox, body).findtext(f".//{{{M}}}ResponseCode") == "ErrorIrresolvableConflict"


def test_the_impersonation_header_selects_the_mailbox(sandbox: SandboxHandle) -> None:
    header = (
        "<t:ExchangeImpersonation><t:ConnectingSID>"
        f"<t:PrimarySmtpAddress>{DEVRIES}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>"
    )
    body = (
        "<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>"
        '<m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>'
    )
    answer = soap(sandbox, body, header)
    assert answer.findtext(f".//{{{T}}}DisplayName") == "Calendar"
    # Without impersonation the service account has no mailbox of its own.
    assert soap(sandbox, body).findtext(f".//{{{M}}}ResponseCode") == "ErrorNonExistentMailbox"


@pytest.mark.parametrize(
    ("item_id", "code"),
    [
        # An id of the store's form that names nothing (deleted, or never there).
        (
            base64.b64encode(bytes(4) + bytes(range(16)) + b"\x07\x00" + bytes(16)).decode(),
            "ErrorItemNotFound",
        ),
        # Base64, but no id structure: Exchange refuses it before any lookup.
        ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "ErrorInvalidIdMalformed"),
    ],
)
def test_an_unknown_item_id_is_item_not_found_and_a_malformed_one_malformed(
    sandbox: SandboxHandle, item_id: str, code: str
) -> None:
    body = (
        "<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>"
        f'<m:ItemIds><t:ItemId Id="{item_id}"/></m:ItemIds></m:GetItem>'
    )
    answer = soap(sandbox, body)
    assert answer.findtext(f".//{{{M}}}ResponseCode") == code


def test_fault_specs_parse_and_reject_nonsense() -> None:
    faults = parse_faults(
        "server_busy=0.2,http503=0.1,drop=0.05,ops=CreateItem+UpdateItem,backoff_ms=250"
    )
    assert faults.server_busy == 0.2
    assert faults.ops == frozenset({"CreateItem", "UpdateItem"})
    assert faults.backoff_ms == 250
    for bad in ("server_busy=2", "explode=0.1", "drop"):
        with pytest.raises(FaultSpecError):
            parse_faults(bad)


def test_faults_are_set_at_runtime_and_filtered_by_operation(
    sandbox: SandboxHandle, shared: Account
) -> None:
    resp = requests.post(
        f"{sandbox.url}/_sandbox/faults", data="http503=1.0,ops=FindItem", timeout=10
    )
    assert resp.json()["spec"].startswith("http503=1.0,ops=FindItem")
    assert shared.inbox.total_count == 0  # GetFolder is not filtered in
    with pytest.raises((ErrorServerBusy, TransportError)):
        list(shared.inbox.all())
    requests.post(f"{sandbox.url}/_sandbox/faults", data="drop=1.0,ops=FindItem", timeout=10)
    with pytest.raises((ErrorServerBusy, TransportError)):
        list(shared.inbox.all())
    requests.post(f"{sandbox.url}/_sandbox/faults", data="", timeout=10)
    assert list(shared.inbox.all()) == []
    stats = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()
    assert stats["faults"] == {"http503": 1, "drop": 1}
    assert stats["operations"]["FindItem"] == 3
    requests.post(f"{sandbox.url}/_sandbox/stats/reset", timeout=10)
    assert requests.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()["total"] == 0


def test_a_matched_fault_hits_only_the_requests_that_name_one_message(
    sandbox: SandboxHandle, shared: Account, deliver: Callable[..., dict[str, str]]
) -> None:
    deliver(eml(subject="Gewoon"), received="2026-11-27T10:00:00+01:00")
    deliver(eml(subject="Onleesbaar"), received="2026-11-27T10:01:00+01:00")
    ids = {i.subject: i.id for i in shared.inbox.all().only("subject")}
    poison = ids["Onleesbaar"]
    requests.post(
        f"{sandbox.url}/_sandbox/faults", data=f"drop=1.0,ops=GetItem,match={poison}", timeout=10
    )
    (alone,) = shared.fetch(ids=[(ids["Gewoon"], None)], only_fields=["subject"])
    assert alone.subject == "Gewoon"
    with pytest.raises((ErrorServerBusy, TransportError)):
        list(shared.fetch(ids=[(i, None) for i in ids.values()], only_fields=["subject"]))
    assert parse_faults(f"match={poison}").spec().startswith(f"match={poison}")
    for bad in ("match=", "match= "):
        with pytest.raises(FaultSpecError):
            parse_faults(bad)


def test_latency_is_added_to_every_ews_request() -> None:
    handle = start_sandbox(latency_ms=150)
    try:
        acc = account(handle, SHARED, DELEGATE)
        started = time.monotonic()
        assert acc.inbox.total_count == 0
        assert time.monotonic() - started >= 0.15
    finally:
        handle.stop()


def test_inspection_endpoints_show_mailbox_contents(
    sandbox: SandboxHandle, deliver: Callable[..., dict[str, str]]
) -> None:
    deliver(eml(subject="Zichtbaar"), received="2026-11-27T10:00:00+01:00")
    boxes = requests.get(f"{sandbox.url}/_sandbox/mailboxes", timeout=10).json()
    assert SHARED in [b["address"] for b in boxes]
    (item,) = folder_items(sandbox, SHARED, "inbox")
    assert item["subject"] == "Zichtbaar"
    assert item["date_received"] == "2026-11-27T09:00:00+00:00"
    assert item["mime"]
    assert (
        requests.get(f"{sandbox.url}/_sandbox/mailboxes/{SHARED}/nope", timeout=10).status_code
        == 404
    )
    bad = requests.post(
        f"{sandbox.url}/_sandbox/deliver", params={"mailbox": "x@y"}, data=eml(), timeout=10
    )
    assert bad.status_code == 404


def test_move_works_and_an_operation_the_sandbox_lacks_is_refused_plainly(
    sandbox: SandboxHandle, shared: Account
) -> None:
    from exchangelib.errors import ErrorInvalidOperation

    requests.post(
        f"{sandbox.url}/_sandbox/deliver", params={"mailbox": SHARED}, data=eml(), timeout=10
    )
    item = next(iter(shared.inbox.all()))
    item.move(shared.drafts)
    assert [i["folder"] for i in folder_items(sandbox, SHARED, "drafts")] == ["drafts"]
    with pytest.raises(ErrorInvalidOperation):
        shared.drafts.empty()  # EmptyFolder is not modelled


def test_a_mounted_graph_front_answers_on_the_same_port(sandbox: SandboxHandle) -> None:
    mount = pytest.importorskip("exchange_sandbox.graph.mount")
    mount.mount_graph(sandbox.server)
    # Without a token Graph answers 401 in its own JSON shape; EWS and control stay as they are.
    resp = requests.get(f"{sandbox.url}/v1.0/users/{SHARED}/messages", timeout=10)
    assert resp.status_code == 401
    assert "error" in resp.json()
    assert requests.get(f"{sandbox.url}/_sandbox/health", timeout=10).json()["test_double"] is True
