"""The tracking service finds the answer by each method, and gives each new message the right target.

A tenant's message comes in Fri 27 Nov 2026 10:00: D Fri 27 Nov, answer_by
Fri 4 Dec 17:00 (DESIGN.md). Staff act in the memory mailbox at given moments;
the tracking pass records when and how the message was answered.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from topcontact_mail.domain.tracking import AnsweredPolicy, AnswerMethod, SentKind

from ..tracking.support import at
from .tracking_world import World

RECEIVED = "vr 27 nov 2026 10:00"
DUE = at("vr 4 dec 2026 17:00")


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path / "state.sqlite3", RECEIVED)


def test_the_acknowledgement_alone_does_not_answer_the_message(world: World) -> None:
    item = world.deliver(1)
    # Sending the acknowledgement as a reply set Outlook's last verb (102) on the message.
    assert world.mailbox.items[item].last_verb == 102

    world.track("ma 30 nov 2026 09:00")

    target = world.target(item)
    assert (target.answered_at, target.answer_by) == (None, DUE)


def test_a_reply_from_the_shared_mailbox_answers_it_at_its_send_time(world: World) -> None:
    item = world.deliver(1)
    world.mailbox.staff_send(item, at("ma 30 nov 2026 11:00"))

    summary = world.track("ma 30 nov 2026 12:00")

    target = world.target(item)
    assert (target.answered_at, target.answered_how) == (at("ma 30 nov 2026 11:00"), "reply_sent")
    assert summary.answered == 1
    assert world.store.to_observe() == []  # answered: no longer looked at


def test_outlooks_last_verb_answers_it_when_the_reply_left_from_elsewhere(world: World) -> None:
    # A colleague replied as the shared mailbox from their own mailbox: no copy in the shared
    # Sent Items (MessageCopyForSentAsEnabled off), but Outlook set the verb on the message.
    item = world.deliver(1)
    world.mailbox.set_last_verb(item, 103, at("di 1 dec 2026 09:15"))

    world.track("di 1 dec 2026 10:00")

    target = world.target(item)
    assert (target.answered_at, target.answered_how) == (at("di 1 dec 2026 09:15"), "reply_verb")


def test_a_forward_answers_it(world: World) -> None:
    item = world.deliver(1)
    world.mailbox.staff_send(item, at("ma 30 nov 2026 14:00"), SentKind.FORWARD, sets_verb=False)

    world.track("ma 30 nov 2026 15:00")

    assert world.target(item).answered_how == "forward_sent"


def test_a_completed_flag_answers_it_at_its_completion_time(world: World) -> None:
    item = world.deliver(1)
    world.mailbox.complete_flag(item, at("wo 2 dec 2026 14:00"))

    world.track("wo 2 dec 2026 15:00")

    target = world.target(item)
    assert (target.answered_at, target.answered_how) == (
        at("wo 2 dec 2026 14:00"),
        "flag_completed",
    )


def test_a_done_folder_answers_it_when_one_is_configured(tmp_path: Path) -> None:
    world = World(
        tmp_path / "s.sqlite3",
        RECEIVED,
        answered=AnsweredPolicy(done_folders=frozenset({"afgehandeld"})),
    )
    item = world.deliver(1)
    world.mailbox.move_to_folder(item, "Inbox/Afgehandeld", at("do 3 dec 2026 16:00"))

    world.track("do 3 dec 2026 16:30")

    target = world.target(item)
    assert (target.answered_at, target.answered_how) == (at("do 3 dec 2026 16:00"), "done_folder")


def test_a_done_category_answers_it_when_one_is_configured(tmp_path: Path) -> None:
    world = World(
        tmp_path / "s.sqlite3",
        RECEIVED,
        answered=AnsweredPolicy(done_categories=frozenset({"Afgehandeld"})),
    )
    item = world.deliver(1)
    world.mailbox.categorise(item, "afgehandeld", at("ma 30 nov 2026 09:00"))

    world.track("ma 30 nov 2026 09:30")

    assert world.target(item).answered_how == "done_category"


def test_without_a_configured_done_folder_moving_it_says_nothing(world: World) -> None:
    item = world.deliver(1)
    world.mailbox.move_to_folder(item, "Inbox/Afgehandeld", at("ma 30 nov 2026 09:00"))

    world.track("ma 30 nov 2026 09:30")

    assert world.target(item).answered_at is None


def test_only_the_configured_methods_count(tmp_path: Path) -> None:
    world = World(
        tmp_path / "s.sqlite3",
        RECEIVED,
        answered=AnsweredPolicy(methods=frozenset({AnswerMethod.FLAG_COMPLETE})),
    )
    item = world.deliver(1)
    world.mailbox.staff_send(item, at("ma 30 nov 2026 11:00"))
    world.track("ma 30 nov 2026 12:00")
    assert world.target(item).answered_at is None

    world.mailbox.complete_flag(item, at("ma 30 nov 2026 13:00"))
    world.track("ma 30 nov 2026 13:30")

    assert world.target(item).answered_how == "flag_completed"


def test_the_earliest_sign_counts_and_a_recorded_answer_stays(world: World) -> None:
    item = world.deliver(1)
    world.mailbox.complete_flag(item, at("di 1 dec 2026 10:00"))
    world.mailbox.staff_send(item, at("ma 30 nov 2026 16:00"), sets_verb=False)
    world.track("di 1 dec 2026 11:00")
    # Later signs change nothing; neither does a restart.
    world.mailbox.set_last_verb(item, 102, at("wo 2 dec 2026 09:00"))
    world.restart()
    world.track("wo 2 dec 2026 10:00")

    target = world.target(item)
    assert (target.answered_at, target.answered_how) == (at("ma 30 nov 2026 16:00"), "reply_sent")


def test_a_reply_sent_before_the_message_arrived_does_not_answer_it(world: World) -> None:
    world.deliver(1)
    world.mailbox.staff_send("item-1", at("vr 27 nov 2026 11:00"), sets_verb=False)
    # The tenant writes again in the conversation after that answer: a new question.
    second = world.deliver(
        2, "vr 27 nov 2026 13:00", sender="huurder1@example.nl", conversation="conv-1"
    )
    world.track("vr 27 nov 2026 14:00")

    assert world.target("item-1").answered_how == "reply_sent"
    assert world.target(second).answered_at is None


def test_a_message_that_cannot_be_observed_does_not_stop_the_others(world: World) -> None:
    first = world.deliver(1)
    second = world.deliver(2)
    world.mailbox.unobservable.add(first)
    world.mailbox.staff_send(second, at("ma 30 nov 2026 11:00"))

    summary = world.track("ma 30 nov 2026 12:00")

    assert world.target(second).answered_how == "reply_sent"
    assert world.target(first).answered_at is None
    assert not summary.interrupted


# -- intake: which target a new message gets ------------------------------------------------------


def test_a_tenant_writing_again_keeps_the_first_target(world: World) -> None:
    world.deliver(1)
    second = world.deliver(
        2,
        "di 1 dec 2026 09:00",
        sender="HUURDER1@example.nl",
        conversation="conv-1",
        text="Er is nog steeds niemand geweest. Wanneer komt de monteur?",
    )

    target = world.target(second)
    assert (target.joined_to, target.answer_by) == ("item-1", DUE)
    record = world.store.get(second)
    assert record is not None
    assert record.answer_by == DUE
    # What staff see in Outlook is the promise in force, not a later date.
    item = world.mailbox.items[second]
    assert item.flag is not None
    assert item.flag[1] == DUE
    assert item.categories == ["Top Contact: antwoord vóór 4 dec"]


def test_a_reply_that_only_thanks_starts_no_target_and_gets_no_flag(world: World) -> None:
    world.deliver(1)
    thanks = world.deliver(
        2,
        "vr 27 nov 2026 10:30",
        sender="huurder1@example.nl",
        conversation="conv-1",
        text="Bedankt!\n\nMet vriendelijke groet,\nHuurder 1\n\nOp 27 nov schreef Team Klantcontact:\n> We hebben uw e-mail ontvangen.",
    )

    assert [t.item_id for t in world.store.targets()] == ["item-1"]
    record = world.store.get(thanks)
    assert record is not None
    assert not record.needs_answer
    assert "only thanks" in record.detail
    item = world.mailbox.items[thanks]
    assert item.flag is None
    assert item.categories == []
    assert item.marker is not None


def test_thanks_after_the_answer_starts_nothing_but_a_new_question_does(world: World) -> None:
    world.deliver(1)
    world.mailbox.staff_send("item-1", at("ma 30 nov 2026 11:00"))
    world.track("ma 30 nov 2026 11:30")

    world.deliver(
        2,
        "ma 30 nov 2026 12:00",
        sender="huurder1@example.nl",
        conversation="conv-1",
        text="Dank u wel.",
    )
    world.deliver(
        3,
        "ma 30 nov 2026 13:00",
        sender="huurder1@example.nl",
        conversation="conv-1",
        text="Nog een vraag: mag ik een schutting plaatsen?",
    )

    assert [t.item_id for t in world.store.targets()] == ["item-1", "item-3"]
    target = world.target("item-3")
    assert target.joined_to is None
    assert target.answer_by == at("ma 7 dec 2026 17:00")  # its own term


def test_another_sender_in_the_conversation_gets_a_target_of_its_own(world: World) -> None:
    world.deliver(1)
    other = world.deliver(
        2, "ma 30 nov 2026 09:00", sender="buurman@example.nl", conversation="conv-1"
    )

    target = world.target(other)
    assert (target.joined_to, target.answer_by) == (None, at("ma 7 dec 2026 17:00"))


def test_a_decision_recorded_without_a_target_gets_its_own_in_the_next_pass(world: World) -> None:
    world.acknowledge.targets = None  # as a version-1 run, or tracking wired in later
    item = world.deliver(1)
    assert world.store.targets() == []

    summary = world.track("vr 27 nov 2026 11:00")

    assert summary.targets_added == 1
    assert world.target(item).answer_by == DUE


def test_trouble_choosing_the_target_never_costs_the_acknowledgement(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(conversation_id: str) -> list[object]:
        raise RuntimeError("disk trouble")

    monkeypatch.setattr(world.store, "conversation_targets", broken)

    item = world.deliver(1)

    assert [s.outgoing.original_item_id for s in world.mailbox.sent] == [item]
    assert world.target(item).answer_by == DUE  # its own target
