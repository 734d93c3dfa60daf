"""Writing again must not push a tenant back; a thanks-only reply starts nothing."""

from __future__ import annotations

from topcontact_mail.domain.tracking import ChoiceKind, choose_target, classify_reply

from .support import at, target

# Received Fri 27 Nov 2026 10:00: due Fri 4 Dec 17:00.
FIRST = target("m1", "vr 27 nov 2026 10:00")
# The same tenant writes again on Wed 2 Dec (own term: Wed 9 Dec 17:00).
AGAIN = target("m2", "wo 2 dec 2026 11:00")


def test_a_newer_message_keeps_the_open_target() -> None:
    choice = choose_target(AGAIN, [FIRST])

    assert choice.kind is ChoiceKind.JOINED
    assert choice.answer_by == at("vr 4 dec 2026 17:00")
    assert choice.joined_to == "m1"


def test_the_third_message_joins_the_first_not_the_second() -> None:
    second = target("m2", "wo 2 dec 2026 11:00", "vr 4 dec 2026 17:00", joined_to="m1")
    third = target("m3", "do 3 dec 2026 08:00")

    choice = choose_target(third, [second, FIRST])

    assert (choice.kind, choice.answer_by, choice.joined_to) == (
        ChoiceKind.JOINED,
        at("vr 4 dec 2026 17:00"),
        "m1",
    )


def test_the_sender_is_compared_without_case() -> None:
    again = target("m2", "wo 2 dec 2026 11:00", sender="Tenant@Example.org ")

    assert choose_target(again, [FIRST]).kind is ChoiceKind.JOINED


def test_after_an_answer_a_new_question_gets_its_own_target() -> None:
    answered = target("m1", "vr 27 nov 2026 10:00", answered_at="di 1 dec 2026 14:00")

    choice = choose_target(AGAIN, [answered])

    assert (choice.kind, choice.answer_by) == (ChoiceKind.NEW, at("wo 9 dec 2026 17:00"))


def test_answered_only_after_the_new_message_arrived_was_still_open() -> None:
    answered_later = target("m1", "vr 27 nov 2026 10:00", answered_at="wo 2 dec 2026 11:30")

    assert choose_target(AGAIN, [answered_later]).kind is ChoiceKind.JOINED


def test_another_person_in_the_conversation_gets_a_target_of_their_own() -> None:
    partner = target("m2", "wo 2 dec 2026 11:00", sender="partner@example.org")

    choice = choose_target(partner, [FIRST])

    assert (choice.kind, choice.answer_by) == (ChoiceKind.NEW, at("wo 9 dec 2026 17:00"))


def test_another_conversation_does_not_count() -> None:
    elsewhere = target("m2", "wo 2 dec 2026 11:00", conversation_id="c2")

    assert choose_target(elsewhere, [FIRST]).kind is ChoiceKind.NEW


def test_a_message_without_a_conversation_stands_alone() -> None:
    loose = target("m2", "wo 2 dec 2026 11:00", conversation_id=None)

    assert choose_target(loose, [FIRST]).kind is ChoiceKind.NEW


def test_a_thanks_only_reply_gets_no_target_and_leaves_the_open_one() -> None:
    thanks = classify_reply("Dank u wel!")

    choice = choose_target(AGAIN, [FIRST], thanks)

    assert (choice.kind, choice.answer_by, choice.joined_to) == (ChoiceKind.NONE, None, None)


def test_a_thanks_after_the_answer_starts_nothing() -> None:
    answered = target("m1", "vr 27 nov 2026 10:00", answered_at="di 1 dec 2026 14:00")

    choice = choose_target(AGAIN, [answered], classify_reply("Bedankt!"))

    assert choice.kind is ChoiceKind.NONE


def test_a_reply_that_asks_more_is_a_question() -> None:
    answered = target("m1", "vr 27 nov 2026 10:00", answered_at="di 1 dec 2026 14:00")

    choice = choose_target(AGAIN, [answered], classify_reply("Bedankt. Wanneer komt de monteur?"))

    assert choice.kind is ChoiceKind.NEW


def test_a_first_message_that_only_thanks_is_still_a_message() -> None:
    # Only a reply within a conversation the service tracks can be "just thanks".
    choice = choose_target(FIRST, [], classify_reply("Bedankt!"))

    assert choice.kind is ChoiceKind.NEW


def test_an_earlier_promise_never_slips() -> None:
    # With a calendar changed in between, the open target could lie after the new own term.
    late = target("m1", "vr 27 nov 2026 10:00", "vr 11 dec 2026 17:00")

    choice = choose_target(AGAIN, [late])

    assert (choice.kind, choice.answer_by) == (ChoiceKind.NEW, at("wo 9 dec 2026 17:00"))
