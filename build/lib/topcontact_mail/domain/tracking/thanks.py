"""Is a tenant's reply only "thanks"? A conservative classifier as an ordered table of small rules.

A tenant who answers the acknowledgement (or a colleague's answer) with
"Bedankt!" asks nothing new, and must not start a new answer target. Anything
else might be a question, and a missed question is worse than a needless one,
so the table only lets through what is plainly thanks:

1. the reply is cut where the quoted message, a signature or a closing starts;
2. `QUESTION_RULES`, top to bottom: the first that applies calls it a question;
3. when none applies, the reply is thanks only.

Words are compared folded (lower case, no accents, "oké" is "oke"). The
sender's and the team's names may be passed in, so "Bedankt, Jan" and "Beste
Team Klantcontact, dank u wel" stay thanks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from topcontact_mail.domain.callbacks.form import quotes, signature

#: More words than this (after greetings, closings and names) is more than thanks.
MAX_WORDS = 8

#: Words that say thanks or "received, fine" (folded).
THANKS_WORDS = frozenset({
    "bedankt", "dank", "dankje", "dankjewel", "danku", "dankuwel", "merci", "thanks", "thank",
    "thx", "tnx", "ty", "cheers", "ok", "oke", "okay", "okido", "prima", "top", "super", "fijn",
    "duidelijk", "helder", "ontvangen", "received", "noted", "great", "perfect",
})  # fmt: skip

#: Words that may stand beside thanks without saying more (folded).
FILLER_WORDS = frozenset({
    # Dutch
    "u", "je", "jullie", "wel", "hartelijk", "hartelijke", "heel", "erg", "zeer", "veel", "vriendelijk",
    "voor", "de", "het", "uw", "jouw", "bericht", "berichtje", "mail", "mailtje",
    "e", "email", "reactie", "antwoord", "snelle", "snel", "bevestiging", "ontvangstbevestiging",
    "informatie", "info", "en", "alvast", "goed", "nogmaals", "hoor", "ja", "oh", "ah",
    # English
    "you", "very", "much", "so", "a", "lot", "many", "for", "the", "your", "message", "reply",
    "quick", "confirmation", "and", "in", "advance", "again", "yes",
    # greetings and closings inside a line
    "hallo", "hoi", "hi", "hey", "hello", "beste", "geachte", "dear", "goedemorgen", "goedemiddag",
    "goedenavond", "dag", "morning", "team", "groet", "groeten", "groetjes", "gr", "mvg", "regards",
    "best", "kind",
})  # fmt: skip

#: Closings that start the sign-off on a line of their own ("Met vriendelijke groet,").
_CLOSINGS = re.compile(
    r"^(?:met\s+)?(?:vriendelijke|hartelijke|beste)?\s*(?:groet|groeten|groetjes)\b"
    r"|^(?:mvg|m\.?v\.?g\.?|vr\.?\s*gr\.?|gr\.?|grt\.?)(?:\W|$)"
    r"|^(?:kind|best|warm)?\s*regards\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+")
_QUESTION_MARKS = ("?", "¿", "？", "؟")
_NAME_WORD = re.compile(r"^[A-ZÀ-Þ][\w'’-]*$")
_MAX_NAME_WORDS = 3
_PARTICLES = frozenset({"van", "de", "der", "den", "ter", "ten", "te", "het", "la", "le", "von"})


class ReplyKind(StrEnum):
    THANKS_ONLY = "thanks_only"
    QUESTION = "question"


@dataclass(frozen=True)
class ReplyClassification:
    """What a reply is, the rule that said so ("" when no rule applied), and why."""

    kind: ReplyKind
    rule: str
    detail: str

    @property
    def thanks_only(self) -> bool:
        return self.kind is ReplyKind.THANKS_ONLY


@dataclass(frozen=True)
class Reply:
    """A reply prepared for the rules: its kept lines, their folded words, and the facts around it."""

    lines: tuple[str, ...]
    words: tuple[str, ...]
    has_attachments: bool


def fold(text: str) -> str:
    """Lower case without accents: "Oké" -> "oke"."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _ends_here(lines: Sequence[str], i: int) -> bool:
    line = lines[i].strip()
    return (
        quotes.quote_separator(lines, i)
        or quotes.quote_header(lines, i)
        or quotes.reply_attribution(lines, i)
        or signature.signature_delimiter(lines, i)
        or signature.sent_from_device(lines, i)
        or bool(_CLOSINGS.match(line))
    )


def _own_lines(text: str) -> list[str]:
    """The lines the tenant wrote: cut at the quote, signature or closing, ">" lines dropped."""
    lines = text.splitlines()
    kept: list[str] = []
    for i, line in enumerate(lines):
        if quotes.quoted_line(lines, i):
            continue
        if _ends_here(lines, i):
            break
        if line.strip():
            kept.append(line.strip())
    return kept


def _is_name_line(line: str) -> bool:
    words = line.rstrip(".,!").split()
    return (
        0 < len(words) <= _MAX_NAME_WORDS
        and all(_NAME_WORD.match(w) or w.lower() in _PARTICLES for w in words)
        and fold(words[0]) not in THANKS_WORDS | FILLER_WORDS
    )


def prepare(text: str, names: Iterable[str] = (), *, has_attachments: bool = False) -> Reply:
    """Cut `text` to the tenant's own lines and fold its words; `names` may be left out of them."""
    lines = _own_lines(text)
    # A last line of one to three capitalised words under the thanks is the tenant's name.
    if len(lines) > 1 and _is_name_line(lines[-1]):
        lines = lines[:-1]
    # Particles stay words: "de" in "Anneke de Bruin" is also just "de".
    name_words = {fold(w) for name in names for w in _WORD.findall(name)} - _PARTICLES
    words = tuple(w for w in (fold(m) for line in lines for m in _WORD.findall(line)))
    return Reply(
        lines=tuple(lines),
        words=tuple(w for w in words if w not in name_words),
        has_attachments=has_attachments,
    )


# -- the rules: each returns a reason when the reply may be more than thanks ---------------------


def attachment(reply: Reply) -> str | None:
    if reply.has_attachments:
        return "the reply has an attachment: the tenant may have sent something to look at"
    return None


def empty(reply: Reply) -> str | None:
    if not reply.words:
        return "nothing of the tenant's own to read: a person looks"
    return None


def question_mark(reply: Reply) -> str | None:
    if any(mark in line for line in reply.lines for mark in _QUESTION_MARKS):
        return "the reply has a question mark"
    return None


def too_many_words(reply: Reply) -> str | None:
    if len(reply.words) > MAX_WORDS:
        return f"{len(reply.words)} words: more than thanks ({MAX_WORDS} at most)"
    return None


def other_words(reply: Reply) -> str | None:
    others = sorted({w for w in reply.words if w not in THANKS_WORDS | FILLER_WORDS})
    if others:
        return f"{len(others)} word(s) that are not thanks"
    return None


def no_thanks(reply: Reply) -> str | None:
    if not any(w in THANKS_WORDS for w in reply.words):
        return "a greeting without thanks"
    return None


@dataclass(frozen=True)
class QuestionRule:
    name: str
    summary: str
    check: Callable[[Reply], str | None]


QUESTION_RULES: tuple[QuestionRule, ...] = (
    QuestionRule("attachment", "the reply carries an attachment", attachment),
    QuestionRule("empty", "nothing left after quotes, signature and closing", empty),
    QuestionRule("question_mark", "a question mark anywhere in the tenant's own lines", question_mark),
    QuestionRule("too_many_words", f"more than {MAX_WORDS} words", too_many_words),
    QuestionRule("other_words", "a word that is not thanks, a greeting, a closing or a name", other_words),
    QuestionRule("no_thanks", "no word of thanks at all (only a greeting)", no_thanks),
)  # fmt: skip


def classify_reply(
    text: str, names: Iterable[str] = (), *, has_attachments: bool = False
) -> ReplyClassification:
    """Whether a tenant's reply says no more than thanks; when in doubt, a question."""
    reply = prepare(text, names, has_attachments=has_attachments)
    for rule in QUESTION_RULES:
        detail = rule.check(reply)
        if detail is not None:
            return ReplyClassification(ReplyKind.QUESTION, rule.name, detail)
    return ReplyClassification(ReplyKind.THANKS_ONLY, "", "only words of thanks")
