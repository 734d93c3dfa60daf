"""The Mailbox port's contract for keeping the promise: observe, the team's mails, tracking marks.

Held against the memory fake, EWS and Graph on the sandbox. Staff's answers are
given as Outlook gives them, over the backend's own protocol (`staff.py`): the
server, not the test, leaves the last verb, the completed flag, the category
and the folder the adapter then reads. Exchange submits asynchronously: a sent
message reaches Sent Items only when transport has taken it, so the tests let
transport finish (where the harness has a transport that takes time) before
they look. What the sandbox still cannot show is in docs/tracking.md, "What the
sandbox lacks".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.contract.conftest import Harness
from tests.contract.test_mailbox_contract import (
    FRIDAY,
    acknowledgement_of,
    by_message_id,
    drain,
    tenant_mail,
)
from topcontact_mail.domain.message import Address
from topcontact_mail.domain.tracking import AnsweredPolicy, SentKind, answered, evidence
from topcontact_mail.ports import Mark, OutgoingNotice, Watched

MONDAY = FRIDAY + timedelta(days=3)


def transport_done(harness: Harness) -> None:
    """As if Exchange's transport had taken every message in transit (a no-op where sending is
    synchronous)."""
    finish = getattr(harness, "finish_transport", None)
    if finish is not None:
        finish()


def delivered(harness: Harness, *numbers: int) -> dict[str, str]:
    """Deliver tenant mails; their item ids by Message-ID."""
    for n in numbers:
        harness.deliver(tenant_mail(n))
    fetched, _ = drain(harness)
    return {k: f.message.item_id or "" for k, f in by_message_id(fetched).items()}


def test_observe_shows_replies_and_forwards_in_the_conversation_but_marks_our_own(
    harness: Harness,
) -> None:
    ids = delivered(harness, 1, 2)
    (ack,) = harness.mailbox.send_acknowledgements(
        [
            acknowledgement_of(f, "ackref1")
            for f in harness.mailbox.read([ids["<contract-1@example.nl>"]])
        ]
    )
    assert ack.ok
    harness.staff_reply("<contract-1@example.nl>", MONDAY)
    harness.staff_reply("<contract-1@example.nl>", MONDAY + timedelta(hours=2), "forward")
    transport_done(harness)

    seen = harness.mailbox.observe(
        [Watched(ids["<contract-1@example.nl>"]), Watched(ids["<contract-2@example.nl>"])]
    )

    first = seen[ids["<contract-1@example.nl>"]].observation
    staff = sorted((s for s in first.sent if not s.from_service), key=lambda s: s.sent_at)
    assert [(s.kind, s.sent_at) for s in staff] == [
        (SentKind.REPLY, MONDAY),
        (SentKind.FORWARD, MONDAY + timedelta(hours=2)),
    ]
    assert [s.from_service for s in first.sent].count(True) == 1  # the acknowledgement
    assert first.received == FRIDAY + timedelta(minutes=1)
    assert first.folder == "Inbox"
    # Another conversation sees none of it.
    assert seen[ids["<contract-2@example.nl>"]].observation.sent == ()
    assert seen[ids["<contract-1@example.nl>"]].subject == "Vraag 1"
    assert seen[ids["<contract-1@example.nl>"]].tenant == "Huurder 1"


def test_the_batches_of_one_pass_see_the_answers_and_list_what_was_sent_once(
    harness: Harness,
) -> None:
    """A pass observes its targets oldest first in batches; listing Sent Items again for
    every batch made a 2,000-message backlog ten times slower (EWS)."""
    ids = delivered(harness, 1, 2)
    harness.staff_reply("<contract-2@example.nl>", MONDAY)
    transport_done(harness)

    first = harness.mailbox.observe([Watched(ids["<contract-1@example.nl>"])])
    finds = harness.requests("FindItem")
    second = harness.mailbox.observe([Watched(ids["<contract-2@example.nl>"])])

    assert first[ids["<contract-1@example.nl>"]].observation.sent == ()
    assert [s.kind for s in second[ids["<contract-2@example.nl>"]].observation.sent] == [
        SentKind.REPLY
    ]
    assert harness.requests("FindItem") == finds  # Graph reads no FindItem at all


def test_observe_shows_the_last_verb_the_completed_flag_and_the_categories(
    harness: Harness,
) -> None:
    ids = delivered(harness, 1)
    item_id = ids["<contract-1@example.nl>"]
    harness.mailbox.mark([Mark(item_id, '{"v":2}', FRIDAY, MONDAY, "Top Contact")])
    harness.staff_reply("<contract-1@example.nl>", MONDAY, "reply_all")  # the server's verb
    harness.complete_flag("<contract-1@example.nl>", MONDAY + timedelta(hours=1))
    harness.staff_categorise("<contract-1@example.nl>", "Jan")

    (observed,) = harness.mailbox.observe([Watched(item_id)]).values()

    seen = observed.observation
    assert (seen.last_verb, seen.last_verb_at) == (103, MONDAY)
    assert seen.flag_complete
    assert seen.flag_completed_at == MONDAY + timedelta(hours=1)
    assert seen.categories == ("Top Contact", "Jan")
    assert seen.last_modified is not None


def test_a_moved_message_is_still_observed_in_its_new_folder(harness: Harness) -> None:
    ids = delivered(harness, 1)
    harness.staff_move("<contract-1@example.nl>", "Deleted Items")

    seen = harness.mailbox.observe(
        [
            Watched(ids["<contract-1@example.nl>"], "<contract-1@example.nl>"),
            Watched("gone-for-good", "<never-delivered@example.nl>"),
        ]
    )

    assert set(seen) == {ids["<contract-1@example.nl>"]}  # by the id asked for
    observation = seen[ids["<contract-1@example.nl>"]].observation
    assert observation.folder == "Deleted Items"
    assert observation.item_id  # EWS gives a moved item a new id; Graph's immutable id stays


def test_a_message_filed_in_a_folder_of_ones_own_shows_its_path(harness: Harness) -> None:
    ids = delivered(harness, 1, 2)
    harness.staff_move("<contract-1@example.nl>", "Inbox/Afgehandeld")  # made, then moved into
    harness.staff_move("<contract-2@example.nl>", "Inbox/Afgehandeld")  # the folder is there

    seen = harness.mailbox.observe(
        [Watched(item_id, message_id) for message_id, item_id in ids.items()]
    )

    assert {o.observation.folder for o in seen.values()} == {"Inbox/Afgehandeld"}
    assert set(seen) == set(ids.values())


def test_each_way_staff_answer_is_seen_by_its_rule(harness: Harness) -> None:
    """Reply, forward, flag complete, done folder, done category: each answered message shows
    the sign its rule reads (a reply and a forward also leave the verb); one stays open."""
    ids = delivered(harness, 1, 2, 3, 4, 5, 6)
    harness.staff_reply("<contract-1@example.nl>", MONDAY)
    harness.staff_reply("<contract-2@example.nl>", MONDAY, "forward")
    harness.complete_flag("<contract-3@example.nl>", MONDAY)
    harness.staff_move("<contract-4@example.nl>", "Inbox/Afgehandeld")
    harness.staff_categorise("<contract-5@example.nl>", "Afgehandeld")
    transport_done(harness)
    policy = AnsweredPolicy(
        done_folders=frozenset({"Afgehandeld"}), done_categories=frozenset({"Afgehandeld"})
    )

    seen = harness.mailbox.observe(
        [Watched(item_id, message_id) for message_id, item_id in ids.items()]
    )

    found = {
        message_id: (
            sorted(f.rule.name for f in evidence(seen[item_id].observation, policy)),
            answered(seen[item_id].observation, policy),
        )
        for message_id, item_id in ids.items()
    }
    expected = {
        1: (["reply_sent", "reply_verb"], "reply_sent"),
        2: (["forward_sent", "forward_verb"], "forward_sent"),
        3: (["flag_completed"], "flag_completed"),
        4: (["done_folder"], "done_folder"),
        5: (["done_category"], "done_category"),
    }
    for n, (rules, how) in expected.items():
        names, result = found[f"<contract-{n}@example.nl>"]
        assert names == rules, n
        assert result is not None
        assert result.how == how, n
        if n in (1, 2, 3):  # the reply's and forward's send time, the flag's completion
            assert result.when == MONDAY, n
    assert found["<contract-6@example.nl>"] == ([], None)


def test_a_tracking_mark_leaves_the_marker_and_takes_only_its_own_categories_off(
    harness: Harness,
) -> None:
    ids = delivered(harness, 1)
    item_id = ids["<contract-1@example.nl>"]
    harness.mailbox.mark(
        [Mark(item_id, '{"v":2,"decision":"acknowledge"}', category="Top Contact")]
    )
    harness.staff_categorise("<contract-1@example.nl>", "Jan")
    harness.mailbox.read([item_id])  # the adapters learn staff's categories by reading

    harness.mailbox.mark([Mark(item_id, None, category="bijna te laat")])
    harness.mailbox.mark(
        [Mark(item_id, None, category="te laat", remove_categories=("bijna te laat",))]
    )

    assert harness.seen("<contract-1@example.nl>").categories == ("Top Contact", "Jan", "te laat")
    (again,) = harness.mailbox.read([item_id])
    assert again.marker == '{"v":2,"decision":"acknowledge"}'  # untouched


def test_a_team_mail_carries_its_ref_and_is_found_by_it(harness: Harness) -> None:
    notice = OutgoingNotice(
        "team-ref-1",
        (Address("j.devries@woonservice.example"),),
        "[Top Contact] Overzicht",
        "Dit is het overzicht.",
    )

    (outcome,) = harness.mailbox.send_notices([notice])

    assert outcome.ok, outcome.error
    transport_done(harness)
    since = datetime.now(UTC) - timedelta(minutes=5)
    assert harness.mailbox.sent_refs({"team-ref-1", "other"}, since) == {"team-ref-1"}


def test_what_was_sent_is_looked_up_and_listed_in_one_request_each(harness: Harness) -> None:
    """A failed request is tried again on its own. When a lookup of refs or a listing of Sent
    Items was a FindItem and GetItems after it, retried together, 30 % slow answers failed
    two tries in three instead of one, and a drain of the proving ground gave up (EWS)."""
    ids = delivered(harness, 1, 2, 3)
    fetched = harness.mailbox.read(list(ids.values()))
    outcomes = harness.mailbox.send_acknowledgements(
        [acknowledgement_of(f, f"ref-{n}") for n, f in enumerate(fetched)]
    )
    assert all(o.ok for o in outcomes)
    transport_done(harness)
    gets, finds = harness.requests("GetItem"), harness.requests("FindItem")

    found = harness.mailbox.sent_refs({"ref-0", "ref-2", "never-sent"}, FRIDAY)

    assert found == {"ref-0", "ref-2"}
    assert harness.requests("GetItem") == gets  # the refs come with the FindItem
    assert harness.requests("FindItem") <= finds + 1

    watched = ids["<contract-1@example.nl>"]
    seen = harness.mailbox.observe([Watched(watched)])

    assert [s.from_service for s in seen[watched].observation.sent] == [True]
    # The watched message is read (GetItem); what was sent comes with its FindItem.
    assert harness.requests("GetItem") <= gets + 1
    assert harness.requests("FindItem") <= finds + 2
