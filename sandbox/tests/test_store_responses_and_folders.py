"""The store under both fronts: the last verb a reply or forward leaves, and folders of one's own."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from exchange_sandbox.store import (
    FolderExists,
    FolderNotFound,
    MailStore,
    NewItem,
    RespondsTo,
    read_property,
    verbs,
)

BOX = "klantcontact@woonservice.example"
TENANT = "huurder@example.org"
MONDAY = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)


@pytest.fixture
def store() -> MailStore:
    s = MailStore(clock=lambda: MONDAY)
    s.ensure_mailbox(BOX, "Klantcontact")
    return s


def question(store: MailStore, n: int = 1) -> str:
    mime = (
        f"From: {TENANT}\r\nTo: {BOX}\r\nSubject: Vraag {n}\r\n"
        f"Message-ID: <q{n}@example.org>\r\n\r\nWanneer komt de monteur?\r\n"
    ).encode()
    return store.deliver(BOX, mime).id


def verb(store: MailStore, item_id: str) -> tuple[object, ...]:
    item = store.get(item_id)
    return tuple(
        read_property(item, key)
        for key in (verbs.LAST_VERB, verbs.LAST_VERB_TIME, verbs.ICON_INDEX)
    )


def answer(original: str, kind: int, **extra: object) -> NewItem:
    return NewItem(
        subject="RE: Vraag 1",
        to=(),
        body="De monteur komt dinsdag.",
        responds_to=RespondsTo(original, "<q1@example.org>", kind),
        **extra,  # type: ignore[arg-type]  # test helper passes NewItem fields through
    )


def test_submitting_a_reply_marks_the_original_at_the_transport_clock(store: MailStore) -> None:
    original = question(store)
    store.submit(BOX, answer(original, verbs.VERB_REPLY))
    assert verb(store, original) == ("102", "2026-11-30T09:15:00Z", "261")
    # The submitted message is dated by the same clock.
    (sent,) = store.items(BOX, "sentitems")
    assert sent.date_sent == MONDAY
    assert sent.responds_to is None  # the copy answers nothing itself


def test_the_mark_comes_at_submission_even_when_transport_takes_its_time(
    store: MailStore,
) -> None:
    store.submissions.change({"delay_ms": 60_000, "in_transit": "hidden"})
    original = question(store)
    store.submit(BOX, answer(original, verbs.VERB_FORWARD))
    assert store.items(BOX, "sentitems") == []
    assert verb(store, original) == ("104", "2026-11-30T09:15:00Z", "262")


def test_a_draft_marks_nothing_until_it_is_submitted(store: MailStore) -> None:
    original = question(store)
    draft = store.create(
        BOX, "drafts", replace(answer(original, verbs.VERB_REPLY_ALL), is_draft=True)
    )
    assert draft.responds_to == RespondsTo(original, "<q1@example.org>", verbs.VERB_REPLY_ALL)
    assert store.get(draft.id).responds_to == draft.responds_to  # kept in the database
    assert verb(store, original) == (None, None, None)


def test_an_original_moved_meanwhile_is_found_by_its_message_id(store: MailStore) -> None:
    original = question(store)
    moved = store.move(original, "deleteditems")
    store.submit(BOX, answer(original, verbs.VERB_REPLY))
    assert verb(store, moved.id)[0] == "102"


def test_an_original_deleted_meanwhile_is_not_marked_and_the_send_goes_on(
    store: MailStore,
) -> None:
    original = question(store)
    store.delete(original)
    store.submit(BOX, answer(original, verbs.VERB_REPLY))
    assert len(store.items(BOX, "sentitems")) == 1


def test_a_user_folder_holds_items_and_lists_under_its_parent(store: MailStore) -> None:
    done = store.create_folder(BOX, "inbox", "Afgehandeld", "IPF.Note")
    assert (done.display_name, done.parent_name, done.folder_class, done.user_made) == (
        "Afgehandeld",
        "inbox",
        "IPF.Note",
        True,
    )
    assert store.folder_by_id(done.id) == done
    assert [f.display_name for f in store.child_folders(BOX, "inbox")] == ["Afgehandeld"]
    assert store.folder(BOX, "inbox").child_count == 1

    moved = store.move(question(store), done.name)
    assert moved.folder == done.name
    assert store.folder(BOX, done.name).total == 1
    assert [i.id for i in store.items(BOX, done.name)] == [moved.id]


def test_folder_names_are_unique_among_siblings_in_any_case(store: MailStore) -> None:
    store.create_folder(BOX, "inbox", "Afgehandeld")
    with pytest.raises(FolderExists):
        store.create_folder(BOX, "inbox", "afgehandeld")
    with pytest.raises(FolderExists):
        store.create_folder(BOX, "msgfolderroot", "INBOX")
    store.create_folder(BOX, "msgfolderroot", "Afgehandeld")  # another parent
    with pytest.raises(FolderNotFound):
        store.create_folder(BOX, "u" + "0" * 32, "Nergens")


def test_user_folders_survive_a_restart(tmp_path: Path) -> None:
    first = MailStore(tmp_path)
    first.ensure_mailbox(BOX)
    done = first.create_folder(BOX, "inbox", "Afgehandeld", "IPF.Note")
    item = first.move(question(first), done.name)
    first.close()

    again = MailStore(tmp_path)
    assert again.folder_by_id(done.id).display_name == "Afgehandeld"
    assert [i.id for i in again.items(BOX, done.name)] == [item.id]
    assert [f.name for f in again.user_folders(BOX)] == [done.name]


def test_a_forward_joins_the_conversation_by_the_index_it_is_given(store: MailStore) -> None:
    original = store.get(question(store))
    index = original.conversation_index
    forward = store.create(
        BOX,
        "drafts",
        NewItem(
            subject="FW: Vraag 1", is_draft=True, thread_index=base64.b64encode(index).decode()
        ),
    )
    assert forward.conversation_id == original.conversation_id
