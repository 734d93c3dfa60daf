"""When is a message answered: an ordered table of small named rules over an `Observation`.

Read `RULES` top to bottom as the policy, surest sign first: a reply sent from
the shared mailbox, Outlook's last verb, a forward, the follow-up flag marked
complete, a done folder, a done category. Each rule either finds evidence (a
moment and a sentence) or has no opinion; rules whose method the policy
switched off are not asked.

The answer is the *earliest* evidence, the table's order breaking ties: every
sign says "answered by then at the latest", so the first of them is the truest
moment (the last verb, for one, keeps only the latest reply). `evidence` lists
everything found, for an administrator who asks why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from topcontact_mail.domain.tracking.model import (
    Answered,
    AnsweredPolicy,
    AnswerMethod,
    Evidence,
    Observation,
    utc,
)
from topcontact_mail.domain.tracking.rules import filed, flag, sent, verb

#: Every method counts; no done folder or category is configured.
DEFAULT_POLICY = AnsweredPolicy()

Check = Callable[[Observation, AnsweredPolicy], "Evidence | None"]


@dataclass(frozen=True)
class AnswerRule:
    """One line of the table: a named check for one method of answering."""

    name: str
    method: AnswerMethod
    summary: str
    check: Check


RULES: tuple[AnswerRule, ...] = (
    AnswerRule("reply_sent", AnswerMethod.REPLY,
               "a reply or reply-to-all from the shared mailbox in the conversation, "
               "after the message arrived, not the service's acknowledgement",
               sent.reply_sent),
    AnswerRule("reply_verb", AnswerMethod.REPLY,
               "last verb 102/103 (reply, reply all) at a time that is not the acknowledgement's",
               verb.reply_verb),
    AnswerRule("forward_sent", AnswerMethod.FORWARD,
               "a forward from the shared mailbox in the conversation, after the message arrived",
               sent.forward_sent),
    AnswerRule("forward_verb", AnswerMethod.FORWARD,
               "last verb 104 (forward) at a time that is not the acknowledgement's",
               verb.forward_verb),
    AnswerRule("flag_completed", AnswerMethod.FLAG_COMPLETE,
               "the follow-up flag is marked complete",
               flag.flag_completed),
    AnswerRule("done_folder", AnswerMethod.DONE_FOLDER,
               "the message is in a configured done folder",
               filed.done_folder),
    AnswerRule("done_category", AnswerMethod.DONE_CATEGORY,
               "the message has a configured done category",
               filed.done_category),
)  # fmt: skip


@dataclass(frozen=True)
class Found:
    """Evidence with the rule that found it."""

    rule: AnswerRule
    evidence: Evidence


def evidence(observation: Observation, policy: AnsweredPolicy = DEFAULT_POLICY) -> list[Found]:
    """Every sign of an answer the policy counts, in table order."""
    found: list[Found] = []
    for rule in RULES:
        if rule.method not in policy.methods:
            continue
        hit = rule.check(observation, policy)
        if hit is not None:
            found.append(Found(rule, hit))
    return found


def answered(observation: Observation, policy: AnsweredPolicy = DEFAULT_POLICY) -> Answered | None:
    """The earliest sign of an answer (table order on a tie), or None while unanswered."""
    found = evidence(observation, policy)
    if not found:
        return None
    # min() keeps the first of equal keys: the table's order breaks ties.
    first = min(found, key=lambda f: utc(f.evidence.when))
    return Answered(
        when=first.evidence.when,
        how=first.rule.name,
        method=first.rule.method,
        detail=first.evidence.detail,
    )
