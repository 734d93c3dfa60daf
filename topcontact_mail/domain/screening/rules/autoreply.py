"""Rules `auto_reply_header`, `bulk_precedence` and `auto_reply_subject`: out-of-office and other auto-replies.

Header markers are trusted first; the subject markers are a last resort for
autoresponders that set no header. Subject markers are matched at the start of
the subject only, and the ambiguous ones ("Afwezig", "Out of office") only when
followed by a colon, a bracket, a dash or nothing, so that a tenant writing
"Afwezig tijdens de reparatie" or "Re: out of office hours question" still gets
an answer.
"""

from __future__ import annotations

import re

from topcontact_mail.domain.message import IncomingMessage
from topcontact_mail.domain.screening.evidence import first_token, normalised_text, shown
from topcontact_mail.domain.screening.model import ScreeningHistory, ScreeningPolicy
from topcontact_mail.domain.screening.rules.forwarding import redirected_by_own_rule

_AUTOREPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Mail-Autoreply")
_NEGATIVE = frozenset({"no", "false", "0", "off"})
#: X-Auto-Response-Suppress values (MS-OXCMAIL 2.2.3.2.14) that announce an auto-reply.
_SUPPRESS_AUTOREPLY = frozenset({"all", "autoreply", "oof"})
_AUTOREPLY_CLASSES = {
    "ipm.note.rules.ooftemplate.microsoft": "out-of-office reply",
    "ipm.note.rules.replytemplate.microsoft": "rule-generated reply",
}
_BULK = frozenset({"bulk", "list", "junk", "auto_reply", "auto-reply"})


def auto_reply_header(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    for name in _AUTOREPLY_HEADERS:
        for value in message.header_values(name):
            if first_token(value) not in _NEGATIVE:
                return f"{name}: {shown(value) or '(empty)'}"
    item_class = (message.item_class or "").strip()
    kind = _AUTOREPLY_CLASSES.get(item_class.lower())
    if kind:
        return f"Exchange item class {item_class} ({kind})"
    if redirected_by_own_rule(message, policy):
        # Exchange adds the suppress header to what our own inbox rule passes on (forwarding.py).
        return None
    for value in message.header_values("X-Auto-Response-Suppress"):
        tokens = {token.strip().lower() for token in value.split(",")}
        if tokens & _SUPPRESS_AUTOREPLY:
            return f"X-Auto-Response-Suppress: {shown(value)} (sent by an automatic responder)"
    return None


def bulk_precedence(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    for name in ("Precedence", "X-Precedence"):
        for value in message.header_values(name):
            if first_token(value) in _BULK:
                return f"{name}: {shown(value)}"
    return None


# Phrases that mean "automatic reply" wherever they start the subject.
_CLEAR = (
    "automatic reply",
    "auto reply",
    "auto-reply",
    "autoreply",
    "auto-response",
    "automatisch antwoord",
    "automatisch bericht",
    "automatische antwoord",
    "automatische reactie",
    "afwezigheidsmelding",
    "afwezigheidsbericht",
    "automatische antwort",
    "abwesenheitsnotiz",
    "abwesenheitsmeldung",
    "réponse automatique",
    "reponse automatique",
    "message d'absence",
)
# Phrases that also occur in ordinary subjects: only when nothing but a separator follows.
_AMBIGUOUS = (
    "out of office",
    "out of the office",
    "out of office autoreply",
    "afwezig",
    "niet aanwezig",
    "niet op kantoor",
    "met vakantie",
    "abwesend",
    "nicht im büro",
    "absence du bureau",
    "absent du bureau",
    "absente du bureau",
    "absent(e) du bureau",
    "absent",
)
_LEAD = r"^[\s\[(]*"
_CLEAR_RE = re.compile(_LEAD + "(" + "|".join(re.escape(p) for p in _CLEAR) + r")\b")
_AMBIGUOUS_RE = re.compile(
    _LEAD + "(" + "|".join(re.escape(p) for p in _AMBIGUOUS) + r")\s*(?:$|[:\])\-–—])"
)


def auto_reply_subject(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    subject = normalised_text(message.subject)
    match = _CLEAR_RE.match(subject) or _AMBIGUOUS_RE.match(subject)
    if match is None:
        return None
    return (
        f"subject {shown(message.subject)!r} starts with the auto-reply marker {match.group(1)!r}"
    )
