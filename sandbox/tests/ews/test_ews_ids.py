"""Ids as Exchange reads them: the documented errors for empty, malformed and legacy ids, ConvertId.

ResponseCode reference: ErrorInvalidIdEmpty ("an Id attribute that is empty"),
ErrorInvalidIdMalformed, ErrorInvalidIdMalformedEwsLegacyIdFormat (an Exchange 2007 id in a
later request), ErrorInvalidChangeKey ("invalid base64 content or an empty string"). Exchange
checks the form of an id before it looks it up, everywhere an id is read.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from exchangelib import Account
from exchangelib.properties import AlternateId

from exchange_sandbox.server import SandboxHandle
from sandbox_helpers import SHARED, eml, post_soap, response_codes

SHAPE = "<m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>"
INBOX = (
    f'<t:DistinguishedFolderId Id="inbox"><t:Mailbox><t:EmailAddress>{SHARED}'
    "</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId>"
)
NOT_AN_ID = base64.b64encode(b"not an id of this server").decode()

ITEM_ID_READERS: dict[str, Callable[[str], str]] = {
    "GetItem": lambda ref: f"<m:GetItem>{SHAPE}<m:ItemIds>{ref}</m:ItemIds></m:GetItem>",
    "DeleteItem": lambda ref: (
        f'<m:DeleteItem DeleteType="HardDelete"><m:ItemIds>{ref}</m:ItemIds></m:DeleteItem>'
    ),
    "MoveItem": lambda ref: (
        f"<m:MoveItem><m:ToFolderId>{INBOX}</m:ToFolderId><m:ItemIds>{ref}</m:ItemIds></m:MoveItem>"
    ),
    "SendItem": lambda ref: (
        f'<m:SendItem SaveItemToFolder="false"><m:ItemIds>{ref}</m:ItemIds></m:SendItem>'
    ),
    "UpdateItem": lambda ref: (
        '<m:UpdateItem ConflictResolution="AutoResolve" MessageDisposition="SaveOnly">'
        f"<m:ItemChanges><t:ItemChange>{ref}<t:Updates><t:SetItemField>"
        '<t:FieldURI FieldURI="message:IsRead"/><t:Message><t:IsRead>true</t:IsRead>'
        "</t:Message></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>"
    ),
    "CreateItem (reply)": lambda ref: (
        '<m:CreateItem MessageDisposition="SaveOnly"><m:Items><t:ReplyToItem>'
        f"{ref.replace('t:ItemId', 't:ReferenceItemId')}</t:ReplyToItem></m:Items></m:CreateItem>"
    ),
}
FOLDER_ID_READERS: dict[str, Callable[[str], str]] = {
    "GetFolder": lambda ref: (
        "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>"
        f"<m:FolderIds>{ref}</m:FolderIds></m:GetFolder>"
    ),
    "FindItem": lambda ref: (
        f'<m:FindItem Traversal="Shallow">{SHAPE}<m:ParentFolderIds>{ref}</m:ParentFolderIds>'
        "</m:FindItem>"
    ),
    "SyncFolderItems": lambda ref: (
        f"<m:SyncFolderItems>{SHAPE}<m:SyncFolderId>{ref}</m:SyncFolderId>"
        "<m:MaxChangesReturned>10</m:MaxChangesReturned></m:SyncFolderItems>"
    ),
    "CreateItem": lambda ref: (
        f'<m:CreateItem MessageDisposition="SaveOnly"><m:SavedItemFolderId>{ref}'
        "</m:SavedItemFolderId><m:Items><t:Message><t:Subject>x</t:Subject></t:Message>"
        "</m:Items></m:CreateItem>"
    ),
    "Subscribe": lambda ref: (
        f"<m:Subscribe><m:PullSubscriptionRequest><t:FolderIds>{ref}</t:FolderIds>"
        "<t:EventTypes><t:EventType>NewMailEvent</t:EventType></t:EventTypes>"
        "<t:Timeout>10</t:Timeout></m:PullSubscriptionRequest></m:Subscribe>"
    ),
}


def _legacy(ews_id: str) -> str:
    return base64.b64encode(b"\x4c\x01" + base64.b64decode(ews_id)).decode()


@pytest.mark.parametrize("operation", list(ITEM_ID_READERS))
@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "ErrorInvalidIdEmpty"),
        ("AQApA=!not-base64", "ErrorInvalidIdMalformed"),
        (NOT_AN_ID, "ErrorInvalidIdMalformed"),
        ("LEGACY", "ErrorInvalidIdMalformedEwsLegacyIdFormat"),
    ],
)
def test_every_item_id_is_checked_before_it_is_looked_up(
    sandbox: SandboxHandle, operation: str, value: str, code: str
) -> None:
    if value == "LEGACY":
        value = _legacy(sandbox.store.deliver(SHARED, eml()).id)
    answer = post_soap(sandbox, ITEM_ID_READERS[operation](f'<t:ItemId Id="{value}"/>'))
    assert answer.status_code == 200, answer.content[:600]
    assert response_codes(answer) == [code]


@pytest.mark.parametrize("operation", list(FOLDER_ID_READERS))
@pytest.mark.parametrize(
    ("value", "code"),
    [("", "ErrorInvalidIdEmpty"), (NOT_AN_ID, "ErrorInvalidIdMalformed")],
)
def test_every_folder_id_is_checked_before_it_is_looked_up(
    sandbox: SandboxHandle, operation: str, value: str, code: str
) -> None:
    answer = post_soap(sandbox, FOLDER_ID_READERS[operation](f'<t:FolderId Id="{value}"/>'))
    assert answer.status_code == 200, answer.content[:600]
    assert response_codes(answer) == [code]


@pytest.mark.parametrize("change_key", ["", "!!"])
def test_an_unparsable_change_key_is_error_invalid_change_key(
    sandbox: SandboxHandle, change_key: str
) -> None:
    item = sandbox.store.deliver(SHARED, eml())
    answer = post_soap(
        sandbox, ITEM_ID_READERS["GetItem"](f'<t:ItemId Id="{item.id}" ChangeKey="{change_key}"/>')
    )
    assert response_codes(answer) == ["ErrorInvalidChangeKey"]


def test_a_legacy_id_is_accepted_in_an_exchange_2007_request(sandbox: SandboxHandle) -> None:
    item = sandbox.store.deliver(SHARED, eml())
    ref = f'<t:ItemId Id="{_legacy(item.id)}"/>'
    answer = post_soap(sandbox, ITEM_ID_READERS["GetItem"](ref), version=None)
    assert response_codes(answer) == ["NoError"]


# ------------------------------------------------------------------ ConvertId


def _convert(handle: SandboxHandle, value: str, source: str, destination: str) -> str:
    answer = post_soap(
        handle,
        f'<m:ConvertId DestinationFormat="{destination}"><m:SourceIds>'
        f'<t:AlternateId Format="{source}" Id="{value}" Mailbox="{SHARED}"/>'
        "</m:SourceIds></m:ConvertId>",
    )
    assert response_codes(answer) == ["NoError"], answer.content[:600]
    found = answer.content.decode().split(' Id="', 1)[1].split('"', 1)[0]
    return found


FORMATS = ["EwsId", "EwsLegacyId", "EntryId", "HexEntryId", "StoreId", "OwaId"]


@pytest.mark.parametrize("form", FORMATS)
def test_convert_id_round_trips_item_and_folder_ids_through_every_format(
    sandbox: SandboxHandle, form: str
) -> None:
    item = sandbox.store.deliver(SHARED, eml())
    folder = sandbox.store.folder(SHARED, "inbox").id
    for ews_id in (item.id, folder):
        converted = _convert(sandbox, ews_id, "EwsId", form)
        assert (converted == ews_id) is (form == "EwsId")
        assert _convert(sandbox, converted, form, "EwsId") == ews_id
    entry = base64.b64decode(_convert(sandbox, item.id, "EwsId", "EntryId"))
    assert len(entry) == 70  # a MAPI message entry id ...
    assert entry[20:22] == b"\x07\x00"  # ... of type 0x0007
    assert _convert(sandbox, item.id, "EwsId", "HexEntryId") == entry.hex().upper()
    assert _convert(sandbox, item.id, "EwsId", "OwaId").startswith("RgAAAA")


def test_a_converted_id_names_the_item_in_get_item(sandbox: SandboxHandle) -> None:
    item = sandbox.store.deliver(SHARED, eml(subject="Omgezet"))
    entry = _convert(sandbox, item.id, "EwsId", "EntryId")
    back = _convert(sandbox, entry, "EntryId", "EwsId")
    answer = post_soap(sandbox, ITEM_ID_READERS["GetItem"](f'<t:ItemId Id="{back}"/>'))
    assert response_codes(answer) == ["NoError"]
    # An id in another format is no EwsId: GetItem refuses it as malformed.
    wrong = post_soap(sandbox, ITEM_ID_READERS["GetItem"](f'<t:ItemId Id="{entry}"/>'))
    assert response_codes(wrong) == ["ErrorInvalidIdMalformed"]


@pytest.mark.parametrize(
    ("value", "form", "mailbox", "code"),
    [
        ("DUMMY", "EwsId", "DUMMY", "ErrorInvalidIdMalformed"),  # exchangelib's version probe
        ("", "EntryId", SHARED, "ErrorInvalidIdEmpty"),
        ("ABCDEF", "HexEntryId", SHARED, "ErrorInvalidIdMalformed"),
        ("ITEM", "EwsId", "not an address", "ErrorInvalidSmtpAddress"),
    ],
)
def test_convert_id_errors(
    sandbox: SandboxHandle, value: str, form: str, mailbox: str, code: str
) -> None:
    if value == "ITEM":
        value = sandbox.store.deliver(SHARED, eml()).id
    answer = post_soap(
        sandbox,
        '<m:ConvertId DestinationFormat="EntryId"><m:SourceIds>'
        f'<t:AlternateId Format="{form}" Id="{value}" Mailbox="{mailbox}"/>'
        "</m:SourceIds></m:ConvertId>",
    )
    assert response_codes(answer) == [code]


def test_convert_id_needs_exchange_2007_sp1(sandbox: SandboxHandle) -> None:
    item = sandbox.store.deliver(SHARED, eml())
    body = (
        '<m:ConvertId DestinationFormat="EntryId"><m:SourceIds>'
        f'<t:AlternateId Format="EwsId" Id="{item.id}" Mailbox="{SHARED}"/>'
        "</m:SourceIds></m:ConvertId>"
    )
    assert (
        b"ErrorIncorrectSchemaVersion" in post_soap(sandbox, body, version="Exchange2007").content
    )


def test_exchangelib_converts_ids(sandbox: SandboxHandle, shared: Account) -> None:
    item = sandbox.store.deliver(SHARED, eml())
    converted = list(
        shared.protocol.convert_ids(
            [AlternateId(id=item.id, format="EwsId", mailbox=SHARED)],
            destination_format="HexEntryId",
        )
    )
    assert [c.format for c in converted] == ["HexEntryId"]
    back = list(
        shared.protocol.convert_ids(
            [AlternateId(id=converted[0].id, format="HexEntryId", mailbox=SHARED)],
            destination_format="EwsId",
        )
    )
    assert back[0].id == item.id
