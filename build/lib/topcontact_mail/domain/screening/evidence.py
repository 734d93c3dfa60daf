"""Small, forgiving readers of message fields that several screening rules share.

Header values come from the outside world: every helper here accepts any text
and answers something sensible instead of raising.
"""

from __future__ import annotations

import re
import unicodedata
from email.utils import getaddresses

from topcontact_mail.domain.message import IncomingMessage

_SHOW_LIMIT = 80


def shown(value: str) -> str:
    """A header value cut to a readable length for a verdict's detail."""
    flat = " ".join(value.split())
    if len(flat) > _SHOW_LIMIT:
        return flat[: _SHOW_LIMIT - 1] + "…"
    return flat


def first_token(value: str) -> str:
    """The keyword of a structured value: "auto-replied; owner-email=x" -> "auto-replied"."""
    return value.split(";", 1)[0].strip().strip('"').strip().lower()


def content_type_parts(value: str) -> tuple[str, dict[str, str]]:
    """A Content-Type value split into "type/subtype" and its parameters, all lower-case keys."""
    pieces = _split_params(value)
    if not pieces:
        return "", {}
    mime_type = pieces[0].strip().lower()
    params: dict[str, str] = {}
    for piece in pieces[1:]:
        key, sep, raw = piece.partition("=")
        if sep:
            params[key.strip().lower()] = raw.strip().strip('"').strip()
    return mime_type, params


def _split_params(value: str) -> list[str]:
    # Semicolons inside quoted parameter values (boundary="a;b") must not split.
    pieces: list[str] = []
    current: list[str] = []
    quoted = False
    for char in value:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return [p for p in pieces if p.strip()]


def top_content_type(message: IncomingMessage) -> tuple[str, dict[str, str]]:
    """The message's own content type, from the field the backend filled or else the header."""
    value = message.content_type or message.header("Content-Type") or ""
    return content_type_parts(value)


def part_types(message: IncomingMessage) -> list[tuple[str, dict[str, str]]]:
    """The content types of the message's parts (see `IncomingMessage.part_types`)."""
    return [content_type_parts(value) for value in message.part_types]


def addresses(value: str) -> list[str]:
    """The addr-specs in an address header value, lower-case; junk yields an empty list."""
    try:
        pairs = getaddresses([value])
    except Exception:  # the stdlib parser has raised on hostile input in past versions
        return []
    return [addr.strip().lower() for _, addr in pairs if "@" in addr]


def bare_address(value: str) -> str:
    """The address in a path or address value ("<a@b>" -> "a@b"), lower-case; "" for "<>"."""
    found = addresses(value)
    if found:
        return found[0]
    return value.strip().strip("<>").strip().lower()


def local_part(address: str) -> str:
    return address.rpartition("@")[0] if "@" in address else address


def domain_of(address: str) -> str:
    return address.rpartition("@")[2] if "@" in address else ""


def in_domains(domain: str, domains: frozenset[str]) -> bool:
    """True when `domain` is one of `domains` or a subdomain of one."""
    domain = domain.strip().strip(".").lower()
    if not domain:
        return False
    return any(domain == d or domain.endswith("." + d) for d in domains if d)


def message_id_domain(message_id: str | None) -> str:
    """The right-hand side of a Message-ID ("<x@host.example>" -> "host.example")."""
    if not message_id:
        return ""
    inner = message_id.strip().strip("<>").strip()
    if "@" not in inner:
        return ""
    return inner.rpartition("@")[2].strip().strip(">").lower()


_SPACES = re.compile(r"\s+")


def normalised_text(value: str) -> str:
    """Text folded for comparison: compatibility-normalised, case-folded, single spaces."""
    folded = unicodedata.normalize("NFKC", value).casefold()
    return _SPACES.sub(" ", folded).strip()


def sender_address(message: IncomingMessage) -> str:
    """The From address in lower case, "" when there is none."""
    if message.sender is None:
        return ""
    return message.sender.key


#: A msg-id in a list of them; a domain literal ("<x@[a,b]>") may hold "<", ">" and ",".
_THREAD_ID_RE = re.compile(r"<[^<>\s]{0,996}@\[[^\[\]\\\s]*\]>|<[^<>\s]{1,996}>")
#: Enough of a long References chain to find the thread: its first and latest ids.
_THREAD_IDS_KEPT = 50


def thread_ids(message: IncomingMessage) -> tuple[str, ...]:
    """The Message-IDs this message answers or refers to (In-Reply-To, then References)."""
    found: list[str] = []
    for name in ("In-Reply-To", "References"):
        for value in message.header_values(name):
            for token in _THREAD_ID_RE.findall(value):
                if token not in found and token != message.message_id:
                    found.append(token)
    if len(found) > _THREAD_IDS_KEPT:
        found = [found[0], *found[-(_THREAD_IDS_KEPT - 1) :]]
    return tuple(found)


def plain_text(value: str) -> str:
    """Text folded for phrase matching: `normalised_text` without accents ("Réponse" -> "reponse").

    Patterns are written in the same folded form (see `phrases`), so an accent
    a mail client dropped or decomposed never decides.
    """
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return normalised_text(bare)


def phrases(text: str) -> tuple[str, ...]:
    """Phrases written one per line, folded like `plain_text`; blank lines and `#` comments skipped."""
    found: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            found.append(plain_text(line))
    return tuple(found)


def phrase_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """A pattern matching any of `words` (folded phrases) between word boundaries."""
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


#: Characters of the body's start where a machine's boilerplate stands (Graph's preview has 255).
BODY_START = 400


def body_start(message: IncomingMessage, length: int = BODY_START) -> str:
    """The folded start of the text sample: where automatic messages say what they are."""
    return plain_text(message.text_sample[: length * 2])[:length]


def body_text(message: IncomingMessage) -> str:
    """The folded text sample (the body's first few thousand characters)."""
    return plain_text(message.text_sample)


#: Subject prefixes of a reply or forward written by a person's mail client, in several languages.
_REPLY_OR_FORWARD = re.compile(
    r"^\s*(?:\[[^\]]{0,40}\]\s*)?"
    r"(?:re|aw|antw|antwoord|sv|vs|odp|ynt|fw|fwd|wg|tr|doorst|ref|rif|r|i|enc|rv)\s*(?:\[\d+\])?\s*:",
    re.IGNORECASE,
)


def forwarded_or_replied(subject: str) -> bool:
    """Whether `subject` starts with a reply or forward prefix ("Re:", "FW:", "Doorst:", "WG:", ...)."""
    return _REPLY_OR_FORWARD.match(subject) is not None


def forwarded(subject: str) -> bool:
    """Whether `subject` starts with a forward prefix ("Fwd:", "FW:", "Doorst:", "WG:", "TR:")."""
    return (
        re.match(
            r"^\s*(?:\[[^\]]{0,40}\]\s*)?(?:fw|fwd|wg|tr|doorst|enc|rv|i)\s*:",
            subject,
            re.IGNORECASE,
        )
        is not None
    )


def header_names(message: IncomingMessage) -> set[str]:
    """The message's header names, lower-case."""
    return {name.lower() for name, _ in message.headers}
