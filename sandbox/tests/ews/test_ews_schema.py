"""What exchangelib sends to the sandbox and what the sandbox answers validate against Microsoft's EWS schema."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from exchangelib import DELEGATE, IMPERSONATION, Account, CalendarItem, EWSDateTime, Message
from exchangelib.errors import (
    ErrorAccessDenied,
    ErrorCalendarIsOrganizerForAccept,
    ErrorInvalidSyncStateData,
    ErrorServerBusy,
    ErrorTimeIntervalTooBig,
)
from exchangelib.items import SEND_TO_ALL_AND_SAVE_COPY
from exchangelib.properties import AlternateId
from lxml import etree

from exchange_sandbox.server import SandboxHandle, start_sandbox
from sandbox_helpers import (
    BAKKER,
    DEVRIES,
    SCHEMA_DIR,
    SHARED,
    account,
    eml,
    fault_code,
    post_soap,
)

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
TNS = "http://schemas.microsoft.com/exchange/services/2006/types"
ENS = "http://schemas.microsoft.com/exchange/services/2006/errors"
AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> etree.XMLSchema:
    work = tmp_path_factory.mktemp("ews-schema")
    for name in ("messages.xsd", "types.xsd"):
        shutil.copy(SCHEMA_DIR / name, work / name)
    shutil.copy(SCHEMA_DIR / "xml.xsd", work / "xml.xsd")
    types = (work / "types.xsd").read_text("utf-8")
    # types.xsd imports the xml: namespace without a location; point it at the local stub.
    types = types.replace(
        '<xs:import namespace="http://www.w3.org/XML/1998/namespace"/>',
        '<xs:import namespace="http://www.w3.org/XML/1998/namespace" schemaLocation="xml.xsd"/>',
    )
    (work / "types.xsd").write_text(types, "utf-8")
    # One wrapper schema pulls in both namespaces so header elements validate too.
    (work / "all.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        '<xs:import namespace="http://schemas.microsoft.com/exchange/services/2006/messages" '
        'schemaLocation="messages.xsd"/>'
        '<xs:import namespace="http://schemas.microsoft.com/exchange/services/2006/types" '
        'schemaLocation="types.xsd"/></xs:schema>',
        "utf-8",
    )
    return etree.XMLSchema(etree.parse(str(work / "all.xsd")))


def _check(schema: etree.XMLSchema, element: etree._Element, what: str) -> None:
    if not schema.validate(element):
        errors = "\n".join(str(e) for e in list(schema.error_log)[:5])
        raise AssertionError(
            f"{what} does not validate:\n{errors}\n{etree.tostring(element)[:2000]!r}"
        )


REFUSED_UNREAD = ("ErrorSchemaValidation", "ErrorInvalidRequest", "ErrorInvalidServerVersion")
"""Faults for requests Exchange refuses before reading them: those requests are invalid."""


def validate_exchange(schema: etree.XMLSchema, op: str, request: bytes, response: bytes) -> None:
    resp = etree.fromstring(response)
    refused = resp.findtext(f"{{{SOAP}}}Body/{{{SOAP}}}Fault/detail/{{{ENS}}}ResponseCode")
    if refused not in REFUSED_UNREAD:
        req = etree.fromstring(request)
        req_body = req.find(f"{{{SOAP}}}Body")
        assert req_body is not None
        assert len(req_body) == 1
        _check(schema, req_body[0], f"{op} request")
        header = req.find(f"{{{SOAP}}}Header")
        for part in header if header is not None else []:
            _check(schema, part, f"{op} request header {part.tag}")
    resp_header = resp.find(f"{{{SOAP}}}Header")
    body = resp.find(f"{{{SOAP}}}Body")
    assert body is not None
    fault = body.find(f"{{{SOAP}}}Fault")
    if fault is None:
        assert resp_header is not None
        assert [etree.QName(h).localname for h in resp_header] == ["ServerVersionInfo"]
        _check(schema, resp_header[0], f"{op} response header")
    else:
        # Exchange's SOAP faults carry no header (no ServerVersionInfo), as Microsoft's published
        # faults show; only normal answers do.
        assert resp_header is None, f"{op}: SOAP fault with a soap:Header"
        detail = fault.find("detail")
        assert detail is not None
        code = detail.findtext(f"{{{ENS}}}ResponseCode")
        assert code, f"{op}: SOAP fault without an EWS ResponseCode"
        # detail/MessageXml has no global declaration: its content is lax "any" in the schema.
        return
    assert len(body) == 1
    _check(schema, body[0], f"{op} response")


def test_the_schema_check_catches_elements_out_of_schema_order(schema: etree.XMLSchema) -> None:
    wrong = etree.fromstring(
        '<m:GetItemResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">'
        '<m:ResponseMessages><m:GetItemResponseMessage ResponseClass="Success">'
        "<m:Items/><m:ResponseCode>NoError</m:ResponseCode>"
        "</m:GetItemResponseMessage></m:ResponseMessages></m:GetItemResponse>"
    )
    assert not schema.validate(wrong)


@pytest.fixture
def recorded() -> Iterator[tuple[SandboxHandle, list[tuple[str, bytes, bytes]]]]:
    handle = start_sandbox()
    log: list[tuple[str, bytes, bytes]] = []
    handle.server.recorder = lambda op, req, resp: log.append((op, req, resp))
    try:
        yield handle, log
    finally:
        handle.stop()


def test_every_exchange_of_a_full_scenario_validates_against_the_ews_schema(
    schema: etree.XMLSchema, recorded: tuple[SandboxHandle, list[tuple[str, bytes, bytes]]]
) -> None:
    handle, log = recorded
    for n in range(3):
        requests.post(
            f"{handle.url}/_sandbox/deliver",
            params={"mailbox": SHARED},
            data=eml(subject=f"V{n}"),
            timeout=10,
        ).raise_for_status()
    shared = account(handle, SHARED, DELEGATE, probe=True)
    devries = account(handle, DEVRIES, IMPERSONATION)
    list(shared.inbox.sync_items(max_changes_returned=2))
    items = list(shared.inbox.all())
    list(
        shared.fetch(
            ids=items, only_fields=["mime_content", "headers", "conversation_id", "sender"]
        )
    )
    items[0].categories = ["Top Contact"]
    items[0].is_read = True
    items[0].save(update_fields=["categories", "is_read"])
    list(shared.inbox.sync_items(sync_state=shared.inbox.item_sync_state))
    Message(
        account=shared, folder=shared.sent, mime_content=eml(sender=SHARED, to=BAKKER)
    ).send_and_save()
    start = EWSDateTime(2026, 11, 30, 10, 0, tzinfo=AMS)
    CalendarItem(
        account=shared,
        folder=shared.calendar,
        subject="Terugbellen",
        start=start,
        end=start + timedelta(minutes=15),
        required_attendees=[DEVRIES],
    ).save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
    list(devries.calendar.view(start=start - timedelta(hours=2), end=start + timedelta(hours=2)))
    _meeting_life(handle, shared, devries, start)
    list(
        devries.protocol.get_free_busy_info(
            accounts=[
                (devries, "Required", False),
                ("nobody@woonservice.example", "Required", False),
            ],
            start=start - timedelta(hours=2),
            end=start + timedelta(hours=2),
        )
    )
    with shared.inbox.pull_subscription() as (sub_id, watermark):
        list(shared.inbox.get_events(sub_id, watermark))
    shared.inbox.filter(subject="V1").delete()
    with pytest.raises(ErrorAccessDenied):
        account(handle, DEVRIES, DELEGATE).inbox  # noqa: B018  # the access is the request
    # The operations and answers added for strict mode, successes and errors.
    fetched = shared.inbox.get(subject="V0")
    list(shared.fetch(ids=[fetched], only_fields=["text_body", "body"]))
    fetched.reply(subject="RE: V0", body="Antwoord")
    fetched.forward(subject="FW: V0", body="Ter info", to_recipients=[BAKKER])
    draft = fetched.create_reply(subject="RE: V0", body="Concept").save(shared.drafts)
    shared.drafts.get(id=draft.id).send()
    fetched.move(shared.trash)
    converted = list(
        shared.protocol.convert_ids(
            [AlternateId(id=fetched.id, format="EwsId", mailbox=SHARED)], "HexEntryId"
        )
    )
    assert converted
    shared.protocol.resolve_names(["Jan"])
    shared.protocol.resolve_names(["Jan"], return_full_contact_data=True)
    shared.protocol.resolve_names(["Niemand"])
    with pytest.raises(ErrorInvalidSyncStateData):
        list(shared.inbox.sync_items(sync_state="bm90IGEgc3luYyBzdGF0ZQ=="))
    item = shared.inbox.get(subject="V2")
    stale = item.changekey
    item.is_read = True
    item.save(update_fields=["is_read"])
    inbox = (
        f'<t:DistinguishedFolderId Id="inbox"><t:Mailbox><t:EmailAddress>{SHARED}'
        "</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId>"
    )
    bad_id = base64.b64encode(b"no id of this server").decode()
    for body, code in _ERROR_PATHS:
        body = body.format(inbox=inbox, item=item.id, stale=stale, bad=bad_id)
        answer = post_soap(handle, body)
        assert code.encode() in answer.content, (code, answer.content[:800])
    for version, code in (
        ("Exchange2099", "ErrorInvalidRequest"),
        ("V2018_01_08", "ErrorInvalidServerVersion"),
    ):
        assert fault_code(post_soap(handle, _FIND.format(inbox=inbox), version=version)) == code
    handle.set_ews(max_subscriptions=1)
    pull = _PULL.format(inbox=inbox)
    assert (
        b"ErrorExceededSubscriptionCount"
        in post_soap(handle, pull).content + post_soap(handle, pull).content
    )
    handle.set_ews(max_concurrency=1)
    handle.set_faults("slow=1.0,slow_ms=500,ops=FindItem")
    with ThreadPoolExecutor(max_workers=2) as pool:
        both = list(pool.map(lambda _: post_soap(handle, _FIND.format(inbox=inbox)), range(2)))
    assert {fault_code(a) for a in both} == {"", "ErrorExceededConnectionCount"}
    handle.set_ews(max_concurrency=27)
    handle.set_faults("server_busy=1.0,ops=FindItem")
    with pytest.raises(ErrorServerBusy):
        list(shared.inbox.all())

    ops = {op for op, _, _ in log}
    assert {
        "ConvertId",
        "GetFolder",
        "SyncFolderItems",
        "FindItem",
        "GetItem",
        "UpdateItem",
        "CreateItem",
        "GetServerTimeZones",
        "GetUserAvailability",
        "Subscribe",
        "GetEvents",
        "Unsubscribe",
        "DeleteItem",
        "MoveItem",
        "SendItem",
        "ResolveNames",
    } <= ops
    for op, request, response in log:
        validate_exchange(schema, op, request, response)


def _meeting_life(
    handle: SandboxHandle, shared: Account, devries: Account, start: EWSDateTime
) -> None:
    """Answers, an update, a cancellation and every busy type: each meeting answer and message."""
    bakker = account(handle, BAKKER, IMPERSONATION)
    item = CalendarItem(
        account=shared,
        folder=shared.calendar,
        subject="Gesprek",
        start=start + timedelta(hours=3),
        end=start + timedelta(hours=3, minutes=30),
        required_attendees=[DEVRIES],
        optional_attendees=[BAKKER],
    )
    item.save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
    [request] = [i for i in devries.inbox.all() if i.subject == "Gesprek"]
    request.accept(body="Prima")
    bakker.calendar.get(subject="Gesprek").tentatively_accept()
    bakker.calendar.get(subject="Gesprek").decline()
    list(shared.inbox.all())  # the meeting responses, with every field exchangelib knows
    organizer = shared.calendar.get(subject="Gesprek")
    organizer.start = start + timedelta(hours=4)
    organizer.end = start + timedelta(hours=4, minutes=30)
    organizer.save(
        update_fields=["start", "end"], send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY
    )
    list(devries.inbox.all())  # the update
    list(devries.trash.all())  # the first request, answered
    shared.calendar.get(subject="Gesprek").cancel(body="Gaat niet door")
    list(devries.inbox.all())  # the cancellation
    list(devries.calendar.all())  # the cancelled item
    for status in ("Free", "Tentative", "Busy", "OOF", "WorkingElsewhere", "NoData"):
        requests.post(
            f"{handle.url}/_sandbox/calendar",
            json={
                "mailbox": SHARED,
                "subject": status,
                "free_busy": status,
                "start": "2026-11-30T13:00",
                "end": "2026-11-30T14:00",
            },
            timeout=10,
        ).raise_for_status()
    list(
        shared.protocol.get_free_busy_info(
            accounts=[(shared, "Required", False), (bakker, "Optional", False)],
            start=start,
            end=start + timedelta(hours=6),
            requested_view="Detailed",
        )
    )
    with pytest.raises(ErrorCalendarIsOrganizerForAccept):
        shared.calendar.get(subject="Free").accept()
    with pytest.raises(ErrorTimeIntervalTooBig):
        list(
            shared.protocol.get_free_busy_info(
                accounts=[(shared, "Required", False)], start=start, end=start + timedelta(days=43)
            )
        )
    calendar = (
        f'<t:DistinguishedFolderId Id="calendar"><t:Mailbox><t:EmailAddress>{SHARED}'
        "</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId>"
    )
    for body, code in (
        (
            f"<m:CreateItem><m:SavedItemFolderId>{calendar}</m:SavedItemFolderId><m:Items>"
            "<t:CalendarItem><t:Subject>x</t:Subject><t:Start>2026-11-30T09:00:00Z</t:Start>"
            "<t:End>2026-11-30T09:15:00Z</t:End></t:CalendarItem></m:Items></m:CreateItem>",
            "ErrorSendMeetingInvitationsRequired",
        ),
        (
            "<m:CreateItem><m:Items><t:Message><t:Subject>x</t:Subject></t:Message></m:Items>"
            "</m:CreateItem>",
            "ErrorMessageDispositionRequired",
        ),
    ):
        answer = post_soap(handle, body)
        assert code.encode() in answer.content, (code, answer.content[:800])


_FIND = (
    '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>'
    "</m:ItemShape><m:ParentFolderIds>{inbox}</m:ParentFolderIds></m:FindItem>"
)
_PULL = (
    "<m:Subscribe><m:PullSubscriptionRequest><t:FolderIds>{inbox}</t:FolderIds>"
    "<t:EventTypes><t:EventType>NewMailEvent</t:EventType></t:EventTypes>"
    "<t:Timeout>10</t:Timeout></m:PullSubscriptionRequest></m:Subscribe>"
)
_ERROR_PATHS = [
    (  # a stale change key with NeverOverwrite
        '<m:UpdateItem ConflictResolution="NeverOverwrite" MessageDisposition="SaveOnly">'
        '<m:ItemChanges><t:ItemChange><t:ItemId Id="{item}" ChangeKey="{stale}"/><t:Updates>'
        '<t:SetItemField><t:FieldURI FieldURI="message:IsRead"/><t:Message><t:IsRead>false'
        "</t:IsRead></t:Message></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges>"
        "</m:UpdateItem>",
        "ErrorIrresolvableConflict",
    ),
    (
        '<m:UpdateItem ConflictResolution="AutoResolve" MessageDisposition="SaveOnly">'
        '<m:ItemChanges><t:ItemChange><t:ItemId Id=""/><t:Updates><t:SetItemField>'
        '<t:FieldURI FieldURI="message:IsRead"/><t:Message><t:IsRead>true</t:IsRead>'
        "</t:Message></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>",
        "ErrorInvalidIdEmpty",
    ),
    (
        '<m:MoveItem><m:ToFolderId>{inbox}</m:ToFolderId><m:ItemIds><t:ItemId Id="{bad}"/>'
        "</m:ItemIds></m:MoveItem>",
        "ErrorInvalidIdMalformed",
    ),
    (
        '<m:MoveItem><m:ToFolderId><t:FolderId Id=""/></m:ToFolderId><m:ItemIds>'
        '<t:ItemId Id="{item}"/></m:ItemIds></m:MoveItem>',
        "ErrorInvalidIdEmpty",
    ),
    (
        "<m:GetServerTimeZones><m:Ids><t:Id>Mars Standard Time</t:Id></m:Ids>"
        "</m:GetServerTimeZones>",
        "ErrorInvalidRequest",
    ),
    (
        '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>'
        '<t:AdditionalProperties><t:FieldURI FieldURI="item:Body"/></t:AdditionalProperties>'
        "</m:ItemShape><m:ParentFolderIds>{inbox}</m:ParentFolderIds></m:FindItem>",
        "ErrorInvalidPropertyForOperation",
    ),
    (
        "<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>"
        '<m:FolderIds><t:FolderId Id="{bad}"/></m:FolderIds></m:GetFolder>',
        "ErrorInvalidIdMalformed",
    ),
    (
        '<m:CreateItem MessageDisposition="SendAndSaveCopy"><m:Items><t:ForwardItem>'
        '<t:ReferenceItemId Id="{item}"/></t:ForwardItem></m:Items></m:CreateItem>',
        "ErrorInvalidRecipients",
    ),
    (
        '<m:ConvertId DestinationFormat="EwsId"><m:SourceIds><t:AlternateId Format="EntryId" '
        'Id="{bad}" Mailbox="klantcontact@woonservice.example"/></m:SourceIds></m:ConvertId>',
        "ErrorInvalidIdMalformed",
    ),
    (
        "<m:GetItem><m:ItemShape><t:BaseShape>Everything</t:BaseShape></m:ItemShape>"
        '<m:ItemIds><t:ItemId Id="{item}"/></m:ItemIds></m:GetItem>',
        "ErrorSchemaValidation",
    ),
    (
        '<m:SendItem SaveItemToFolder="true"><m:ItemIds><t:ItemId Id="{item}" ChangeKey=""/>'
        "</m:ItemIds></m:SendItem>",
        "ErrorInvalidChangeKey",
    ),
]
"""Error paths of the operations, each with the response code it must get."""


def test_the_server_busy_fault_matches_exchanges_throttling_answer(sandbox: SandboxHandle) -> None:
    body = sandbox.server.ews.server_busy(297749)
    fault = etree.fromstring(body).find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    assert fault is not None
    assert fault.findtext("faultcode") == "a:ErrorServerBusy"
    assert fault.findtext(f"detail/{{{ENS}}}ResponseCode") == "ErrorServerBusy"
    value = fault.find(f"detail/{{{TNS}}}MessageXml/{{{TNS}}}Value")
    assert value is not None
    assert (value.get("Name"), value.text) == ("BackOffMilliseconds", "297749")


def test_streamed_notification_documents_validate(
    schema: etree.XMLSchema, recorded: tuple[SandboxHandle, list[tuple[str, bytes, bytes]]]
) -> None:
    handle, log = recorded
    shared = account(handle, SHARED, DELEGATE)
    with shared.inbox.streaming_subscription() as subscription_id:
        requests.post(
            f"{handle.url}/_sandbox/deliver", params={"mailbox": SHARED}, data=eml(), timeout=10
        ).raise_for_status()
        ews = handle.server.ews
        subscription = ews.notifications._subs[subscription_id]
        for status in ("OK", "Closed"):
            doc = etree.fromstring(ews.stream_document([subscription], status))
            body = doc.find(f"{{{SOAP}}}Body")
            assert body is not None
            _check(schema, body[0], f"streamed {status} document")
    validate_exchange(schema, *log[-1])
