"""The sandbox's protocol-independent mailbox store: threading, change log, MAPI views, persistence."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from exchange_sandbox.store import (
    Address,
    ChangeKeyMismatch,
    Flag,
    ItemNotFound,
    MailboxNotFound,
    MailStore,
    NewItem,
    PropertyKey,
    ReadOnlyProperty,
    new_conversation_index,
    read_property,
    write_property,
)

BOX = "klantcontact@woonservice.example"
COLLEAGUE = "j.devries@woonservice.example"


def mail(msgid: str, subject: str = "Vraag", extra: str = "") -> bytes:
    return (
        f"From: Piet <piet@example.org>\r\nTo: {BOX}\r\nSubject: {subject}\r\n"
        f"Message-ID: {msgid}\r\n{extra}\r\nTekst\r\n"
    ).encode()


@pytest.fixture
def store() -> MailStore:
    s = MailStore()
    s.ensure_mailbox(BOX, "Klantcontact")
    s.ensure_mailbox(COLLEAGUE, "Jan de Vries")
    return s


def test_a_reply_joins_the_conversation_of_the_message_it_answers(store: MailStore) -> None:
    first = store.deliver(BOX, mail("<1@x>"))
    reply = store.deliver(BOX, mail("<2@x>", "Re: Vraag", "In-Reply-To: <1@x>\r\n"))
    later = store.deliver(BOX, mail("<3@x>", "Re: Re: Vraag", "References: <0@x> <2@x>\r\n"))
    other = store.deliver(BOX, mail("<4@x>", "Vraag"))
    assert first.conversation_id == reply.conversation_id == later.conversation_id
    # Same subject alone does not thread, as with internet mail in Exchange.
    assert other.conversation_id != first.conversation_id


def test_the_thread_index_guid_wins_over_references(store: MailStore) -> None:
    store.deliver(BOX, mail("<1@x>"))
    index = new_conversation_index("00112233445566778899aabbccddeeff")
    header = f"Thread-Index: {base64.b64encode(index).decode()}\r\nIn-Reply-To: <1@x>\r\n"
    item = store.deliver(BOX, mail("<2@x>", extra=header))
    assert item.conversation_id == "00112233445566778899aabbccddeeff"
    assert item.conversation_index == index


def test_a_malformed_thread_index_falls_back_to_references(store: MailStore) -> None:
    first = store.deliver(BOX, mail("<1@x>"))
    item = store.deliver(BOX, mail("<2@x>", extra="Thread-Index: AQID\r\nIn-Reply-To: <1@x>\r\n"))
    assert item.conversation_id == first.conversation_id


def test_every_update_changes_the_change_key_and_a_stale_key_is_refused(store: MailStore) -> None:
    item = store.deliver(BOX, mail("<1@x>"))
    updated = store.update(item.id, lambda i: replace(i, categories=("A",)))
    assert updated.change_key != item.change_key
    with pytest.raises(ChangeKeyMismatch):
        store.update(
            item.id, lambda i: replace(i, categories=("B",)), expected_change_key=item.change_key
        )


def test_the_change_log_tells_read_flag_changes_from_updates(store: MailStore) -> None:
    item = store.deliver(BOX, mail("<1@x>"))
    mark = store.latest_seq()
    store.update(item.id, lambda i: replace(i, is_read=True))
    store.update(item.id, lambda i: replace(i, flag=Flag("Flagged")))
    store.delete(item.id)
    kinds = [c.kind for c in store.changes_since(BOX, ["inbox"], mark).changes]
    assert kinds == ["read_flag", "update", "delete"]
    with pytest.raises(ItemNotFound):
        store.get(item.id)


def test_the_change_log_pages_and_is_per_folder(store: MailStore) -> None:
    for n in range(5):
        store.deliver(BOX, mail(f"<{n}@x>"))
    store.create(BOX, "drafts", NewItem(subject="Concept", is_draft=True))
    page = store.changes_since(BOX, ["inbox"], 0, limit=3)
    assert len(page.changes) == 3
    assert page.more
    rest = store.changes_since(BOX, ["inbox"], page.last_seq)
    assert len(rest.changes) == 2
    assert not rest.more


def test_flag_mapi_properties_and_the_flag_are_one_state(store: MailStore) -> None:
    item = store.deliver(BOX, mail("<1@x>"))
    status = PropertyKey("Integer", property_tag=0x1090)
    due_by_name = PropertyKey("SystemTime", distinguished_set_id="Task", property_id=0x8105)
    due_by_guid = PropertyKey(
        "SystemTime", property_set_id="00062003-0000-0000-C000-000000000046", property_id=0x8105
    )
    flagged = write_property(write_property(item, status, "2"), due_by_name, "2026-12-04T16:00:00Z")
    assert flagged.flag == Flag("Flagged", due=datetime(2026, 12, 4, 16, 0, tzinfo=UTC))
    assert read_property(flagged, due_by_guid) == "2026-12-04T16:00:00Z"
    assert read_property(write_property(flagged, status, None), status) is None
    read = write_property(item, PropertyKey("Integer", property_tag=0x0E07), "1")
    assert read.is_read
    assert not read.is_draft


def test_computed_header_properties_are_read_only(store: MailStore) -> None:
    item = store.deliver(BOX, mail("<1@x>", extra="X-Auto-Response-Suppress: All\r\n"))
    header = PropertyKey(
        "String", distinguished_set_id="InternetHeaders", property_name="x-auto-response-suppress"
    )
    assert read_property(item, header) == "All"
    transport = read_property(item, PropertyKey("String", property_tag=0x007D))
    assert isinstance(transport, str)
    assert "Message-ID: <1@x>" in transport
    with pytest.raises(ReadOnlyProperty):
        write_property(item, header, "None")


def test_sending_copies_to_sent_items_and_delivers_to_sandbox_recipients(store: MailStore) -> None:
    draft = NewItem(
        mime=mail("<s@x>").replace(f"To: {BOX}".encode(), f"To: {COLLEAGUE}, x@y.example".encode())
    )
    saved = store.send(BOX, draft)
    assert saved is not None
    assert saved.folder == "sentitems"
    assert [i.subject for i in store.items(COLLEAGUE, "inbox")] == ["Vraag"]


def test_unknown_mailboxes_are_refused(store: MailStore) -> None:
    with pytest.raises(MailboxNotFound):
        store.deliver("nobody@woonservice.example", mail("<1@x>"))


def test_the_state_survives_reopening_the_state_dir(tmp_path: Path) -> None:
    first = MailStore(tmp_path)
    first.ensure_mailbox(BOX)
    item = first.deliver(BOX, mail("<1@x>"))
    first.update(
        item.id, lambda i: replace(i, categories=("Top Contact",), from_=Address("a@b", "A"))
    )
    first.close()
    second = MailStore(tmp_path)
    again = second.get(item.id)
    assert again.categories == ("Top Contact",)
    assert again.mime == mail("<1@x>")
    assert second.latest_seq() == 2
    assert second.folder(BOX, "inbox").id == MailStore(tmp_path).folder(BOX, "inbox").id


def test_sent_mail_gets_a_message_id_and_loses_bcc_at_the_recipient(store: MailStore) -> None:
    mime = (
        f"From: {BOX}\r\nTo: x@example.org\r\nBcc: {COLLEAGUE}\r\nSubject: Blind\r\n\r\nTekst\r\n"
    ).encode()
    saved = store.send(BOX, NewItem(mime=mime))
    assert saved is not None
    assert saved.message_id.endswith("@sandbox-ex01.woonservice.example>")
    (received,) = store.items(COLLEAGUE, "inbox")
    assert received.message_id == saved.message_id
    assert b"Bcc:" not in (received.mime or b"")


def test_a_message_without_mime_is_given_mime_when_sent(store: MailStore) -> None:
    saved = store.send(
        BOX,
        NewItem(
            subject="Zonder MIME",
            to=(Address(COLLEAGUE, "Jan"),),
            body="Hallo",
            in_reply_to="<1@x>",
        ),
    )
    assert saved is not None
    assert saved.mime is not None
    assert b"In-Reply-To: <1@x>" in saved.mime
    (received,) = store.items(COLLEAGUE, "inbox")
    assert received.from_ == Address(BOX, "Klantcontact")


def test_an_encoded_word_naming_a_charset_in_non_ascii_letters_is_stored_raw(
    store: MailStore,
) -> None:
    """Found by the proving ground: a fuzzed charset name made delivery raise CharsetError."""
    raw = (
        b"From: Jan <jan@example.nl>\r\nTo: klantcontact@woonservice.example\r\n"
        b"Subject: =?ut\xc3\xbf-8?q?Hallo?=\r\nMessage-ID: <odd-charset@example.nl>\r\n\r\nHallo\r\n"
    )
    item = store.deliver("klantcontact@woonservice.example", raw)

    assert "Hallo" in item.subject
