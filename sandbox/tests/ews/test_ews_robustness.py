"""Odd mail that Exchange stores and serves: the sandbox stores and serves it too.

- Control characters (NUL included) in headers: XML 1.0 cannot carry them; Exchange writes
  them as character references ("&#x0;", "&#x1A;"), as reported against its own clients
  (OfficeDev/ews-java-api#156, #233; OfficeDev/ews-managed-api#136); lenient clients such as
  exchangelib (its parser recovers) drop them. The sandbox answers the same way.
- A message of 0 bytes, and one nested 1,200 multiparts deep (deeper than Python's parser
  follows): stored, synchronised and served with their MIME content unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

from exchangelib import Account
from lxml import etree

from exchange_sandbox.server import SandboxHandle
from sandbox_helpers import SHARED, post_soap, response_codes


def _deep(levels: int) -> bytes:
    head = (
        b"From: Piet <piet@example.org>\r\nTo: klantcontact@woonservice.example\r\n"
        b"Subject: Diep genest\r\nMessage-ID: <diep@example.org>\r\nMIME-Version: 1.0\r\n"
    )
    opening = b"".join(
        f'Content-Type: multipart/mixed; boundary="b{n}"\r\n\r\n--b{n}\r\n'.encode()
        for n in range(levels)
    )
    closing = b"".join(f"\r\n--b{n}--".encode() for n in reversed(range(levels)))
    return head + opening + b"Content-Type: text/plain\r\n\r\nHelemaal binnenin" + closing + b"\r\n"


CONTROL = (
    b"From: Piet <piet@example.org>\r\nTo: klantcontact@woonservice.example\r\n"
    b"Subject: Rare\x01tekens\r\nX-Scanner: ok\x00daarna\r\nX-Bell: \x07\x1a\r\n"
    b"Message-ID: <rare@example.org>\r\n\r\nGewone tekst.\r\n"
)


def _sync_and_fetch(shared: Account) -> list[object]:
    changes = list(shared.inbox.sync_items(only_fields=["subject"]))
    assert [kind for kind, _ in changes] == ["create"]
    return list(
        shared.fetch(
            ids=[changes[0][1]],
            only_fields=["mime_content", "headers", "subject", "text_body", "message_id"],
        )
    )


def test_control_characters_in_headers_are_served_as_character_references(
    sandbox: SandboxHandle, shared: Account, deliver: Callable[..., dict[str, str]]
) -> None:
    item_id = deliver(CONTROL)["id"]
    (fetched,) = _sync_and_fetch(shared)
    assert fetched.mime_content == CONTROL  # type: ignore[attr-defined]  # exchangelib is untyped
    headers = {h.name: h.value for h in fetched.headers}  # type: ignore[attr-defined]
    # exchangelib's recovering parser drops the reference to NUL and keeps the others.
    assert headers["X-Scanner"] == "okdaarna"
    assert fetched.subject == "Rare\x01tekens"  # type: ignore[attr-defined]
    raw = post_soap(
        sandbox,
        "<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>"
        '<t:FieldURI FieldURI="item:InternetMessageHeaders"/><t:FieldURI FieldURI="item:Subject"/>'
        f'</t:AdditionalProperties></m:ItemShape><m:ItemIds><t:ItemId Id="{item_id}"/>'
        "</m:ItemIds></m:GetItem>",
    )
    assert raw.status_code == 200
    assert b"ok&#x0;daarna" in raw.content
    assert b"Rare&#x1;tekens" in raw.content
    assert b"&#x7;&#x1A;" in raw.content
    lenient = etree.fromstring(raw.content, etree.XMLParser(recover=True))
    assert response_codes_of(lenient) == ["NoError"]


def response_codes_of(root: etree._Element) -> list[str]:
    return [el.text or "" for el in root.iter("{*}ResponseCode")]


def test_a_message_of_zero_bytes_is_delivered_synchronised_and_served(
    sandbox: SandboxHandle, shared: Account, deliver: Callable[..., dict[str, str]]
) -> None:
    assert deliver(b"")["id"]
    (fetched,) = _sync_and_fetch(shared)
    assert fetched.mime_content in (b"", None)  # type: ignore[attr-defined]
    assert fetched.subject is None  # type: ignore[attr-defined]


def test_a_message_nested_1200_multiparts_deep_is_stored_and_served(
    sandbox: SandboxHandle, shared: Account, deliver: Callable[..., dict[str, str]]
) -> None:
    deep = _deep(1200)
    deliver(deep)
    (fetched,) = _sync_and_fetch(shared)
    assert fetched.mime_content == deep  # type: ignore[attr-defined]
    assert fetched.subject == "Diep genest"  # type: ignore[attr-defined]
    assert fetched.message_id == "<diep@example.org>"  # type: ignore[attr-defined]
    assert fetched.text_body == "Helemaal binnenin"  # type: ignore[attr-defined]
    headers = {h.name: h.value for h in fetched.headers}  # type: ignore[attr-defined]
    assert headers["Content-Type"] == 'multipart/mixed; boundary="b0"'
    assert response_codes(post_soap(sandbox, "<m:GetFolder><m:FolderShape><t:BaseShape>"
        f'Default</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="inbox">'
        f"<t:Mailbox><t:EmailAddress>{SHARED}</t:EmailAddress></t:Mailbox>"
        "</t:DistinguishedFolderId></m:FolderIds></m:GetFolder>")) == ["NoError"]  # fmt: skip
