"""Each "answered?" rule, hit squarely and missed narrowly, plus the table and policy around them.

The tracked message arrived on Mon 30 Nov 2026 at 09:00; the service's
acknowledgement went out at 09:01; the adapter looked on Fri 4 Dec at 12:00.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from topcontact_mail.domain.tracking import (
    RULES,
    AnsweredPolicy,
    AnswerMethod,
    Observation,
    SentKind,
    SentMessage,
    answered,
    evidence,
)

from .support import at

DOCS = Path(__file__).resolve().parents[3] / "docs" / "tracking.md"

ARRIVED = at("ma 30 nov 2026 09:00")
ACK_AT = at("ma 30 nov 2026 09:01")
ACK_ID = "<ack-1@woonservice.example>"
POLICY = AnsweredPolicy(
    done_folders=frozenset({"Afgehandeld"}),
    done_categories=frozenset({"Top Contact: beantwoord"}),
)


def seen(**fields: Any) -> Observation:
    """An unanswered, acknowledged message unless `fields` say otherwise."""
    base: dict[str, Any] = {
        "item_id": "m1",
        "received": ARRIVED,
        "observed_at": at("vr 4 dec 2026 12:00"),
        "acknowledgement_message_id": ACK_ID,
        "acknowledgement_sent_at": ACK_AT,
        "folder": "Inbox",
    }
    return Observation(**{**base, **fields})


def sent(kind: SentKind, when: str, **fields: Any) -> SentMessage:
    return SentMessage(kind=kind, sent_at=at(when), **fields)


REPLY, REPLY_ALL, FORWARD = SentKind.REPLY, SentKind.REPLY_ALL, SentKind.FORWARD
# The acknowledgement as it sits in Sent Items: a reply, at the acknowledgement's time.
ACK_COPY = SentMessage(REPLY, ACK_AT, message_id=ACK_ID)


@dataclass(frozen=True)
class Case:
    rule: str
    title: str
    observation: Observation
    #: The rule that decides, and when; None: the message is not answered.
    how: str | None
    when: str | None = None
    policy: AnsweredPolicy = field(default=POLICY)


def hit(rule: str, title: str, observation: Observation, when: str, **kw: Any) -> Case:
    return Case(rule, title, observation, rule, when, **kw)


def miss(rule: str, title: str, observation: Observation, **kw: Any) -> Case:
    return Case(rule, title, observation, None, **kw)


HITS = [
    hit("reply_sent", "a reply in the conversation",
        seen(sent=(ACK_COPY, sent(REPLY, "di 1 dec 2026 14:00"))), "di 1 dec 2026 14:00"),
    hit("reply_sent", "a reply to all counts as a reply",
        seen(sent=(sent(REPLY_ALL, "wo 2 dec 2026 10:00"),)), "wo 2 dec 2026 10:00"),
    hit("reply_sent", "the first of two replies",
        seen(sent=(sent(REPLY, "do 3 dec 2026 09:00"), sent(REPLY, "di 1 dec 2026 11:00"))),
        "di 1 dec 2026 11:00"),
    hit("reply_sent", "a reply in the same second the message arrived",
        seen(sent=(sent(REPLY, "ma 30 nov 2026 09:00"),)), "ma 30 nov 2026 09:00"),
    hit("reply_sent", "an acknowledgement id written differently is still ours, the reply counts",
        seen(sent=(SentMessage(REPLY, ACK_AT, message_id="<ACK-1@Woonservice.example>"),
                   sent(REPLY, "di 1 dec 2026 14:00"))), "di 1 dec 2026 14:00"),
    hit("reply_verb", "last verb reply, a day after the acknowledgement",
        seen(last_verb=102, last_verb_at=at("di 1 dec 2026 15:00")), "di 1 dec 2026 15:00"),
    hit("reply_verb", "last verb reply to all",
        seen(last_verb=103, last_verb_at=at("di 1 dec 2026 15:00")), "di 1 dec 2026 15:00"),
    hit("reply_verb", "just outside the acknowledgement's window",
        seen(last_verb=102, last_verb_at=ACK_AT + timedelta(minutes=5, seconds=1)),
        "ma 30 nov 2026 09:06:01"),
    hit("reply_verb", "no acknowledgement was sent: any reply verb counts",
        seen(acknowledgement_message_id=None, acknowledgement_sent_at=None, last_verb=102,
             last_verb_at=ACK_AT), "ma 30 nov 2026 09:01"),
    hit("forward_sent", "forwarded to a colleague",
        seen(sent=(ACK_COPY, sent(FORWARD, "di 1 dec 2026 09:30"))), "di 1 dec 2026 09:30"),
    hit("forward_verb", "last verb forward",
        seen(last_verb=104, last_verb_at=at("di 1 dec 2026 09:30")), "di 1 dec 2026 09:30"),
    hit("flag_completed", "flag marked complete, with its time",
        seen(flag_complete=True, flag_completed_at=at("wo 2 dec 2026 16:00")),
        "wo 2 dec 2026 16:00"),
    hit("flag_completed", "flag complete without a time: the last change",
        seen(flag_complete=True, last_modified=at("wo 2 dec 2026 16:30")), "wo 2 dec 2026 16:30"),
    hit("flag_completed", "flag complete, no time at all: the moment of observation",
        seen(flag_complete=True), "vr 4 dec 2026 12:00"),
    hit("done_folder", "moved to the done folder (by its own name)",
        seen(folder="Inbox/Afgehandeld", last_modified=at("do 3 dec 2026 11:00")),
        "do 3 dec 2026 11:00"),
    hit("done_folder", "the folder named by its whole path, other case",
        seen(folder="inbox/afgehandeld", last_modified=at("do 3 dec 2026 11:00")),
        "do 3 dec 2026 11:00", policy=replace(POLICY, done_folders=frozenset({"Inbox/Afgehandeld"}))),
    hit("done_category", "the done category",
        seen(categories=("Top Contact: antwoord vóór 7 dec", "top contact: beantwoord "),
             last_modified=at("do 3 dec 2026 12:00")), "do 3 dec 2026 12:00"),
]  # fmt: skip

MISSES = [
    miss("reply_sent", "only the acknowledgement in Sent Items (by its Message-ID)",
         seen(sent=(ACK_COPY,))),
    miss("reply_sent", "only the acknowledgement (by the service's marker, no Message-ID yet)",
         seen(sent=(SentMessage(REPLY, ACK_AT, from_service=True),))),
    miss("reply_sent", "a reply one second before the message arrived answers an earlier one",
         seen(sent=(sent(REPLY, "ma 30 nov 2026 08:59:59"),))),
    miss("reply_sent", "a forward is not a reply when forwards do not count",
         seen(sent=(sent(FORWARD, "di 1 dec 2026 09:30"),)),
         policy=replace(POLICY, methods=frozenset({AnswerMethod.REPLY}))),
    miss("reply_verb", "the acknowledgement's own verb",
         seen(last_verb=102, last_verb_at=ACK_AT + timedelta(seconds=20))),
    miss("reply_verb", "at the edge of the acknowledgement's window",
         seen(last_verb=102, last_verb_at=ACK_AT + timedelta(minutes=5))),
    miss("reply_verb", "a verb without a time cannot be told from the acknowledgement's",
         seen(last_verb=102)),
    miss("reply_verb", "another verb (105: reply to folder)",
         seen(last_verb=105, last_verb_at=at("di 1 dec 2026 15:00"))),
    miss("reply_verb", "a verb from before the message arrived",
         seen(acknowledgement_sent_at=None, last_verb=102, last_verb_at=at("ma 30 nov 2026 08:00"))),
    miss("forward_sent", "the acknowledgement is never a forward", seen(sent=(ACK_COPY,))),
    miss("forward_verb", "forwards switched off",
         seen(last_verb=104, last_verb_at=at("di 1 dec 2026 09:30")),
         policy=replace(POLICY, methods=frozenset(AnswerMethod) - {AnswerMethod.FORWARD})),
    miss("flag_completed", "a flag with a completion time but not complete",
         seen(flag_completed_at=at("wo 2 dec 2026 16:00"))),
    miss("done_folder", "a folder whose name only contains the done folder's",
         seen(folder="Inbox/Afgehandeld-later")),
    miss("done_folder", "no done folder configured",
         seen(folder="Inbox/Afgehandeld"), policy=AnsweredPolicy()),
    miss("done_category", "the service's own category is not the done category",
         seen(categories=("Top Contact: antwoord vóór 7 dec",))),
    miss("done_category", "categories switched off",
         seen(categories=("Top Contact: beantwoord",)),
         policy=replace(POLICY, methods=frozenset({AnswerMethod.REPLY}))),
]  # fmt: skip


def _id(case: Case) -> str:
    return f"{case.rule}: {case.title}"


@pytest.mark.parametrize("case", HITS, ids=_id)
def test_a_rule_decides_when_its_sign_is_there(case: Case) -> None:
    result = answered(case.observation, case.policy)

    assert result is not None
    assert result.how == case.how
    assert case.when is not None
    assert result.when == at(case.when)
    assert result.method is next(r.method for r in RULES if r.name == case.rule)
    assert result.detail


@pytest.mark.parametrize("case", MISSES, ids=_id)
def test_a_narrow_miss_is_not_answered(case: Case) -> None:
    assert answered(case.observation, case.policy) is None
    assert evidence(case.observation, case.policy) == []


def test_every_rule_has_a_hit_and_a_miss() -> None:
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))
    assert {c.rule for c in HITS} == set(names)
    assert {c.rule for c in MISSES} == set(names)


def test_nothing_seen_is_not_answered() -> None:
    assert answered(seen()) is None


def test_the_earliest_sign_decides() -> None:
    # Called by phone on Tuesday (flag complete), a confirming reply on Thursday.
    observation = seen(
        sent=(sent(REPLY, "do 3 dec 2026 09:00"),),
        last_verb=102,
        last_verb_at=at("do 3 dec 2026 09:00"),
        flag_complete=True,
        flag_completed_at=at("di 1 dec 2026 16:00"),
    )

    result = answered(observation, POLICY)

    assert result is not None
    assert (result.how, result.when) == ("flag_completed", at("di 1 dec 2026 16:00"))
    assert [f.rule.name for f in evidence(observation, POLICY)] == [
        "reply_sent",
        "reply_verb",
        "flag_completed",
    ]


def test_the_table_order_breaks_a_tie() -> None:
    moment = "di 1 dec 2026 14:00"
    observation = seen(sent=(sent(REPLY, moment),), last_verb=102, last_verb_at=at(moment))

    result = answered(observation)

    assert result is not None
    assert result.how == "reply_sent"


def test_the_first_reply_beats_the_last_verb() -> None:
    # The verb keeps only the latest reply; Sent Items knows the first.
    observation = seen(
        sent=(sent(REPLY, "di 1 dec 2026 10:00"), sent(REPLY, "do 3 dec 2026 10:00")),
        last_verb=102,
        last_verb_at=at("do 3 dec 2026 10:00"),
    )

    result = answered(observation)

    assert result is not None
    assert result.when == at("di 1 dec 2026 10:00")


def test_by_default_every_method_counts() -> None:
    assert AnsweredPolicy().methods == frozenset(AnswerMethod)
    assert {rule.method for rule in RULES} == set(AnswerMethod)


def test_an_observation_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        seen(received=ARRIVED.replace(tzinfo=None))


def test_every_rule_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for rule in RULES:
        assert f"`{rule.name}`" in text, rule.name
