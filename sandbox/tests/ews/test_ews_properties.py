"""What each operation returns: FindItem and SyncFolderItems no bodies, recipient lists or headers;
GetItem's TextBody (Exchange 2013+) the body as text.

FindItem reference: it "does not return any of the message body formats or the recipient
lists"; SyncFolderItems "is similar to the FindItems method in that it cannot return properties
such as Body or Attachments" (how-to-synchronize-items-by-using-ews-in-exchange). Asked
explicitly, FindItem refuses them with ErrorInvalidPropertyForOperation (WinRb/Viewpoint#191,
ecederstrand/exchangelib#214); SyncFolderItems leaves them out (exchangelib's sync_items asks
for every field and works against Exchange Online).
"""

from __future__ import annotations

import pytest
from exchangelib import Account
from lxml import etree

from exchange_sandbox.server import SandboxHandle
from sandbox_helpers import MNS, SHARED, TNS, eml, post_soap, response_codes

INBOX = (
    f'<t:DistinguishedFolderId Id="inbox"><t:Mailbox><t:EmailAddress>{SHARED}'
    "</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId>"
)
HTML_MAIL = eml(
    subject="Lekkage",
    extra="Content-Type: text/html; charset=utf-8\r\n",
    body="<html><body><p>Er lekt <b>water</b> &amp; de kraan</p><p>Groet, Piet</p></body></html>",
).replace(b"Content-Type: text/plain; charset=utf-8\r\n", b"")
NOT_RETURNED = (
    "item:Body", "item:TextBody", "item:UniqueBody", "message:ToRecipients",
    "message:CcRecipients", "item:InternetMessageHeaders",
)  # fmt: skip


def _shape(*uris: str, base: str = "IdOnly", mime: bool = False) -> str:
    fields = "".join(f'<t:FieldURI FieldURI="{u}"/>' for u in uris)
    include = "<t:IncludeMimeContent>true</t:IncludeMimeContent>" if mime else ""
    extra = f"<t:AdditionalProperties>{fields}</t:AdditionalProperties>" if fields else ""
    return f"<m:ItemShape><t:BaseShape>{base}</t:BaseShape>{include}{extra}</m:ItemShape>"


def _elements(content: bytes, container: str) -> set[str]:
    """Names of the properties of the items under every ``container`` (t: or m:) element."""
    root = etree.fromstring(content)
    return {
        etree.QName(el).localname
        for box in root.iter(f"{{{TNS}}}{container}", f"{{{MNS}}}{container}")
        for item in box
        for el in item
    }


@pytest.mark.parametrize("base", ["IdOnly", "AllProperties"])
def test_sync_folder_items_leaves_out_bodies_recipient_lists_and_headers(
    sandbox: SandboxHandle, base: str
) -> None:
    sandbox.store.deliver(SHARED, eml(extra=f"Cc: {SHARED}\r\n"))
    answer = post_soap(
        sandbox,
        f"<m:SyncFolderItems>{_shape(*NOT_RETURNED, base=base, mime=True)}"
        f"<m:SyncFolderId>{INBOX}</m:SyncFolderId>"
        "<m:MaxChangesReturned>10</m:MaxChangesReturned></m:SyncFolderItems>",
    )
    assert response_codes(answer) == ["NoError"]
    returned = _elements(answer.content, "Create")
    assert "ItemId" in returned
    assert returned.isdisjoint(
        {
            "Body",
            "TextBody",
            "ToRecipients",
            "CcRecipients",
            "InternetMessageHeaders",
            "MimeContent",
        }
    )


@pytest.mark.parametrize("uri", NOT_RETURNED)
def test_find_item_refuses_to_return_them_with_error_invalid_property_for_operation(
    sandbox: SandboxHandle, uri: str
) -> None:
    answer = post_soap(
        sandbox,
        f'<m:FindItem Traversal="Shallow">{_shape(uri)}'
        f"<m:ParentFolderIds>{INBOX}</m:ParentFolderIds></m:FindItem>",
    )
    assert response_codes(answer) == ["ErrorInvalidPropertyForOperation"]
    root = etree.fromstring(answer.content)
    field = root.find(f".//{{{MNS}}}MessageXml/{{{TNS}}}FieldURI")
    assert field is not None
    assert field.get("FieldURI") == uri


def test_find_item_refuses_mime_content(sandbox: SandboxHandle) -> None:
    answer = post_soap(
        sandbox,
        f'<m:FindItem Traversal="Shallow">{_shape(mime=True)}'
        f"<m:ParentFolderIds>{INBOX}</m:ParentFolderIds></m:FindItem>",
    )
    assert response_codes(answer) == ["ErrorInvalidPropertyForOperation"]


def test_find_item_with_all_properties_leaves_them_out(sandbox: SandboxHandle) -> None:
    sandbox.store.deliver(SHARED, eml())
    answer = post_soap(
        sandbox,
        f'<m:FindItem Traversal="Shallow">{_shape(base="AllProperties")}'
        f"<m:ParentFolderIds>{INBOX}</m:ParentFolderIds></m:FindItem>",
    )
    returned = _elements(answer.content, "Items")
    assert {"Subject", "From", "InternetMessageId", "DateTimeReceived"} <= returned
    assert returned.isdisjoint({"Body", "ToRecipients", "ResponseObjects"})


def test_get_item_returns_the_text_body_of_an_html_message(
    sandbox: SandboxHandle, shared: Account
) -> None:
    item = sandbox.store.deliver(SHARED, HTML_MAIL)
    (fetched,) = shared.fetch(ids=[(item.id, None)], only_fields=["text_body", "body"])
    assert fetched.text_body == "Er lekt water & de kraan\nGroet, Piet"
    assert "<b>water</b>" in fetched.body


def test_text_body_is_not_part_of_all_properties_and_needs_exchange_2013(
    sandbox: SandboxHandle,
) -> None:
    item = sandbox.store.deliver(SHARED, HTML_MAIL)
    body = f'<m:GetItem>{{shape}}<m:ItemIds><t:ItemId Id="{item.id}"/></m:ItemIds></m:GetItem>'
    everything = post_soap(sandbox, body.format(shape=_shape(base="AllProperties")))
    assert "TextBody" not in _elements(everything.content, "Items")
    asked = post_soap(sandbox, body.format(shape=_shape("item:TextBody")))
    assert "TextBody" in _elements(asked.content, "Items")
    old = post_soap(sandbox, body.format(shape=_shape("item:TextBody")), version="Exchange2010_SP2")
    assert b"ErrorIncorrectSchemaVersion" in old.content
