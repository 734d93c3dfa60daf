"""Who "Voor: Jan" means: the colleague a form names, found in the configured staff list.

The lookup tries ever looser ways to match, in the order of `TIERS`, and the
first way that finds anyone decides: one colleague is resolved, several are
ambiguous (all are listed, so the reply can ask "Bedoelt u Jan de Vries of Jan
Bakker?"). Case, diacritics and punctuation never matter ("jose" finds "José",
"J. de Vries" finds "Jan de Vries"). Names may be configured the Exchange way,
"Vries, Jan de", too. When nobody matches, names within a small edit distance
are offered as suggestions but never chosen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from email.utils import parseaddr

from topcontact_mail.domain.callbacks import texts
from topcontact_mail.domain.callbacks.model import (
    FormProblem,
    Resolution,
    ResolutionStatus,
    StaffMember,
)
from topcontact_mail.domain.callbacks.words import PARTICLES, distance, fold, key, natural_name

FIELD = "colleague"

_MAX_SUGGESTIONS = 3


@dataclass(frozen=True)
class _Names:
    """The ways one colleague can be named, folded once."""

    member: StaffMember
    address: str
    mailbox: str
    aliases: frozenset[str]
    full: str
    first: str
    surname: str
    surname_core: str


@dataclass(frozen=True)
class _Query:
    text: str
    key: str
    initials: str
    rest_key: str


_Match = Callable[[_Query, _Names], bool]


def _by_alias(q: _Query, n: _Names) -> bool:
    return q.key in n.aliases


def _by_mailbox(q: _Query, n: _Names) -> bool:
    return q.text.casefold() == n.mailbox


def _by_name(q: _Query, n: _Names) -> bool:
    return q.key == n.full


def _by_initial(q: _Query, n: _Names) -> bool:
    surnames = (n.surname, n.surname_core)
    return bool(q.initials) and q.initials[0] == n.first[:1] and q.rest_key in surnames


def _by_surname(q: _Query, n: _Names) -> bool:
    return q.key in (n.surname, n.surname_core)


def _by_first_name(q: _Query, n: _Names) -> bool:
    return q.key == n.first


#: The ways to match after the address, strictest first; the first that finds anyone decides.
TIERS: tuple[tuple[str, _Match], ...] = (
    ("alias", _by_alias),
    ("mailbox", _by_mailbox),
    ("name", _by_name),
    ("initial", _by_initial),
    ("surname", _by_surname),
    ("first_name", _by_first_name),
)


def resolve_colleague(query: str, staff: Iterable[StaffMember]) -> Resolution:
    """The colleague `query` means (see module docstring); never raises."""
    text = " ".join(query.split())
    people = _unique(staff)
    if not text:
        return Resolution(
            query=query,
            status=ResolutionStatus.UNKNOWN,
            problem=texts.problem(texts.MISSING_COLLEAGUE, FIELD),
        )
    display, address = parseaddr(text.removeprefix("mailto:"))
    if "@" in address:
        hit = [n for n in people if n.address == address.casefold()]
        if hit:
            return _decide(query, hit, "address")
        text = display.strip()
    elif "@" in text:
        text = ""
    if text:
        q = _query(text)
        for how, matches in TIERS:
            found = [n for n in people if matches(q, n)]
            if found:
                return _decide(query, found, how)
    suggestions = _suggestions(text, people)
    message = texts.problem(texts.UNKNOWN_COLLEAGUE, FIELD, value=" ".join(query.split()))
    if suggestions:
        hint = texts.SUGGESTION.format(names=texts.names(_labels(suggestions)))
        message = FormProblem(message.code, f"{message.text} {hint}", FIELD)
    return Resolution(
        query=query,
        status=ResolutionStatus.UNKNOWN,
        candidates=tuple(suggestions),
        problem=message,
    )


def fallback_for(member: StaffMember, staff: Iterable[StaffMember]) -> StaffMember | None:
    """The configured stand-in for `member`, when there is one in the staff list."""
    if not member.fallback:
        return None
    wanted = member.fallback.strip().casefold()
    return next(
        (m for m in staff if m.address.casefold() == wanted and m.address != member.address),
        None,
    )


def _decide(query: str, found: Sequence[_Names], how: str) -> Resolution:
    members = tuple(n.member for n in found)
    if len(members) == 1:
        return Resolution(
            query=query, status=ResolutionStatus.RESOLVED, member=members[0], matched_by=how
        )
    return Resolution(
        query=query,
        status=ResolutionStatus.AMBIGUOUS,
        candidates=members,
        matched_by=how,
        problem=texts.problem(
            texts.AMBIGUOUS_COLLEAGUE, FIELD, names=texts.names(_labels(members))
        ),
    )


def _labels(members: Sequence[StaffMember]) -> list[str]:
    """Names to offer; the address is added where two colleagues share a name."""
    names = [m.display_name for m in members]
    return [
        f"{name} ({m.address})" if names.count(name) > 1 else name
        for name, m in zip(names, members, strict=True)
    ]


def _unique(staff: Iterable[StaffMember]) -> list[_Names]:
    seen: set[str] = set()
    people = []
    for member in staff:
        address = member.address.strip().casefold()
        if address not in seen:
            seen.add(address)
            people.append(_names(member, address))
    return people


def _names(member: StaffMember, address: str) -> _Names:
    words = _ordered_words(member.name)
    first = words[0] if words else ""
    surname_words = words[1:]
    core = surname_words
    while len(core) > 1 and core[0] in PARTICLES:
        core = core[1:]
    return _Names(
        member=member,
        address=address,
        mailbox=address.partition("@")[0],
        aliases=frozenset(key(a) for a in member.aliases if key(a)),
        full="".join(words),
        first=first,
        surname="".join(surname_words),
        surname_core="".join(core),
    )


def _ordered_words(name: str) -> list[str]:
    """The folded words of a name in "first ... last" order, also from "Vries, Jan de (Jan)"."""
    return fold(natural_name(name)).split()


def _query(text: str) -> _Query:
    words = _ordered_words(text)
    initials = ""
    while words and len(words[0]) == 1 and len(words) > 1:
        initials += words.pop(0)
    return _Query(
        text=text,
        key="".join(_ordered_words(text)),
        initials=initials,
        rest_key="".join(words) if initials else "",
    )


def _suggestions(text: str, people: Sequence[_Names]) -> list[StaffMember]:
    wanted = key(text)
    if len(wanted) < 4:
        return []
    limit = 1 if len(wanted) < 8 else 2
    close = []
    for n in people:
        best = min(
            distance(wanted, candidate, limit)
            for candidate in (n.full, n.first, n.surname, n.surname_core)
            if candidate
        )
        if best <= limit:
            close.append((best, n.member))
    close.sort(key=lambda pair: pair[0])
    return [member for _, member in close[:_MAX_SUGGESTIONS]]
