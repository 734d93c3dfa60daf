"""Replies and forwards (CreateItem with ReplyToItem, ReplyAllToItem, ForwardItem) thread as in Exchange.

"Respond to email messages by using EWS in Exchange": the response object names the original
with ReferenceItemId; a reply goes to the sender (reply-all: everyone but oneself), carries
In-Reply-To/References and stays in the original's conversation, also in the recipient's
mailbox (Thread-Index).
"""

from __future__ import annotations

import base64
import email
from email import policy
from typing import Any

import pytest
from exchangelib import Account, HTMLBody

from exchange_sandbox.server import SandboxHandle
from sandbox_helpers import (
    BAKKER,
    DEVRIES,
    SHARED,
    eml,
    folder_items,
    post_soap,
    response_codes,
)


def _original(sandbox: SandboxHandle, **extra: str) -> Any:
    mime = eml(
        subject="Geen warm water",
        sender=f"Jan de Vries <{DEVRIES}>",
        to=f"Klantcontact <{SHARED}>",
        extra="".join(f"{k}: {v}\r\n" for k, v in extra.items()),
    )
    return sandbox.store.deliver(SHARED, mime)


def _headers(item: dict[str, Any]) -> email.message.Message:
    return email.message_from_bytes(base64.b64decode(item["mime"]), policy=policy.compat32)


def test_a_reply_goes_to_the_sender_and_stays_in_the_conversation_in_both_mailboxes(
    sandbox: SandboxHandle, shared: Account
) -> None:
    original = _original(sandbox)
    message = shared.inbox.get(id=original.id)
    message.reply(subject="RE: Geen warm water", body="We komen morgen langs.")

    (sent,) = folder_items(sandbox, SHARED, "sentitems")
    assert sent["subject"] == "RE: Geen warm water"
    assert sent["to"] == [DEVRIES]
    assert sent["in_reply_to"] == original.message_id
    assert sent["references"] == [original.message_id]
    assert sent["conversation_id"] == original.conversation_id
    (received,) = folder_items(sandbox, DEVRIES, "inbox")
    # The colleague's mailbox has no copy of the original: the Thread-Index joins them.
    assert received["conversation_id"] == original.conversation_id
    mime = _headers(received)
    assert mime["In-Reply-To"] == original.message_id
    assert base64.b64decode(mime["Thread-Index"])[:22] == original.conversation_index
    assert len(base64.b64decode(mime["Thread-Index"])) == 27
    assert mime["Thread-Topic"] == "Geen warm water"


def test_reply_all_reaches_everyone_but_oneself_and_reply_to_wins_over_from(
    sandbox: SandboxHandle, shared: Account
) -> None:
    original = _original(sandbox, Cc=BAKKER)
    shared.inbox.get(id=original.id).reply_all(subject="RE: Geen warm water", body="Allen")
    (sent,) = folder_items(sandbox, SHARED, "sentitems")
    assert (sent["to"], sent["cc"]) == ([DEVRIES], [BAKKER])
    assert [i["subject"] for i in folder_items(sandbox, BAKKER, "inbox")] == ["RE: Geen warm water"]

    # Without recipients of its own (exchangelib always names the author), a reply goes to
    # the Reply-To addresses when the original has them.
    redirected = _original(sandbox, **{"Reply-To": BAKKER})
    inner = f'<t:ReferenceItemId Id="{redirected.id}"/>'
    assert response_codes(post_soap(sandbox, _respond("ReplyToItem", inner))) == ["NoError"]
    newest = folder_items(sandbox, SHARED, "sentitems")[0]
    assert (newest["subject"], newest["to"]) == ("RE: Geen warm water", [BAKKER])


def test_a_forward_goes_only_to_those_named_without_in_reply_to(
    sandbox: SandboxHandle, shared: Account
) -> None:
    original = _original(sandbox)
    shared.inbox.get(id=original.id).forward(
        subject="FW: Geen warm water", body=HTMLBody("<p>Voor jou</p>"), to_recipients=[BAKKER]
    )
    (sent,) = folder_items(sandbox, SHARED, "sentitems")
    assert (sent["subject"], sent["to"], sent["in_reply_to"]) == (
        "FW: Geen warm water",
        [BAKKER],
        "",
    )
    (received,) = folder_items(sandbox, BAKKER, "inbox")
    assert received["conversation_id"] == original.conversation_id


def test_a_reply_saved_as_a_draft_is_sent_later_with_send_item(
    sandbox: SandboxHandle, shared: Account
) -> None:
    original = _original(sandbox)
    draft = (
        shared.inbox.get(id=original.id)
        .create_reply(subject="RE: Geen warm water", body="Concept")
        .save(shared.drafts)
    )
    assert draft.id
    (saved,) = folder_items(sandbox, SHARED, "drafts")
    assert (saved["is_draft"], saved["in_reply_to"]) == (True, original.message_id)
    shared.drafts.get(id=draft.id).send()
    (received,) = folder_items(sandbox, DEVRIES, "inbox")
    assert received["conversation_id"] == original.conversation_id
    assert folder_items(sandbox, SHARED, "drafts") == []


def _respond(kind: str, inner: str, disposition: str = "SendAndSaveCopy") -> str:
    return (
        f'<m:CreateItem MessageDisposition="{disposition}"><m:Items>'
        f"<t:{kind}>{inner}</t:{kind}></m:Items></m:CreateItem>"
    )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (_respond("ReplyToItem", "<t:Subject>Zonder referentie</t:Subject>"),
         "ErrorMissingInformationReferenceItemId"),
        (_respond("ForwardItem", '<t:ReferenceItemId Id="ORIGINAL"/>'), "ErrorInvalidRecipients"),
        (_respond("ReplyToItem", '<t:ReferenceItemId Id="DRAFT"/>'), "ErrorInvalidReferenceItem"),
    ],
)  # fmt: skip
def test_response_objects_fail_as_documented(sandbox: SandboxHandle, body: str, code: str) -> None:
    original = _original(sandbox)
    draft = post_soap(
        sandbox,
        '<m:CreateItem MessageDisposition="SaveOnly"><m:SavedItemFolderId>'
        f'<t:DistinguishedFolderId Id="drafts"><t:Mailbox><t:EmailAddress>{SHARED}'
        "</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:SavedItemFolderId>"
        "<m:Items><t:Message><t:Subject>Concept</t:Subject></t:Message></m:Items></m:CreateItem>",
    )
    draft_id = draft.content.decode().split('ItemId Id="', 1)[1].split('"', 1)[0]
    body = body.replace("ORIGINAL", original.id).replace("DRAFT", draft_id)
    assert response_codes(post_soap(sandbox, body)) == [code]


def test_a_forward_of_a_message_keeps_the_original_text_below_the_new(
    sandbox: SandboxHandle, shared: Account
) -> None:
    original = _original(sandbox)
    shared.inbox.get(id=original.id).forward(
        subject="FW: Geen warm water", body="Zie hieronder", to_recipients=[BAKKER]
    )
    (received,) = folder_items(sandbox, BAKKER, "inbox")
    text = _headers(received).get_payload(decode=True).decode()
    assert text.index("Zie hieronder") < text.index("Goedemiddag, er lekt water.")


def test_find_item_restricted_to_a_conversation_compares_the_id_ews_shows(
    sandbox: SandboxHandle, shared: Account
) -> None:
    original = shared.inbox.get(id=_original(sandbox).id)
    other = shared.inbox.get(id=_original(sandbox).id)
    original.reply(subject="RE: Geen warm water", body="Morgen.")
    other.reply(subject="RE: Geen warm water", body="Overmorgen.")

    # exchangelib writes the ConversationId it read into the restriction's constant.
    (found,) = shared.sent.filter(conversation_id=original.conversation_id)
    assert found.conversation_id == original.conversation_id

    # The same as plain SOAP: IsEqualTo on item:ConversationId.
    def find(constant: str) -> bytes:
        answer = post_soap(
            sandbox,
            '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>'
            "</m:ItemShape><m:Restriction><t:IsEqualTo>"
            '<t:FieldURI FieldURI="item:ConversationId"/>'
            f'<t:FieldURIOrConstant><t:Constant Value="{constant}"/>'
            "</t:FieldURIOrConstant></t:IsEqualTo></m:Restriction><m:ParentFolderIds>"
            f'<t:DistinguishedFolderId Id="sentitems"><t:Mailbox><t:EmailAddress>{SHARED}'
            "</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:ParentFolderIds>"
            "</m:FindItem>",
        )
        assert response_codes(answer) == ["NoError"]
        return answer.content

    assert find(other.conversation_id.id).count(b"<t:ItemId ") == 1
    # The bare GUID the store keeps is not what EWS compares.
    assert find(sandbox.store.get(other.id).conversation_id).count(b"<t:ItemId ") == 0
