"""The sandbox's address book (a test double): mailbox users and mail contacts, found as Exchange finds names.

EWS ResolveNames looks a name up by Active Directory's ambiguous name resolution (ANR): the
text is matched, case-insensitively, as the *start* of the display name, the given name, the
surname, the alias (mailNickname) and the SMTP addresses; a text with a space also matches
"given surname" and "surname given" pairs, each part the start of its attribute. ``smtp:``
narrows the look-up to the addresses. Nothing matches in the middle of a word: "Vries" does
not find "Jan de Vries" unless a surname starts with it. Candidates come sorted by display
name, at most 100 ("ResolveNames operation", "Resolve ambiguous names by using EWS").

The people are the configured mailboxes (kind ``Mailbox``) and the ``[[directory]]``
contacts (kind ``Contact``: mail contacts, people outside the organisation with an address
in the global address list; they have no mailbox in the sandbox).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MAX_CANDIDATES = 100


@dataclass(frozen=True)
class Person:
    """One entry of the global address list."""

    email: str
    name: str
    given_name: str = ""
    surname: str = ""
    alias: str = ""
    #: "Mailbox" (a mailbox user) or "Contact" (a mail contact), as EWS MailboxType says.
    kind: str = "Mailbox"
    job_title: str = ""
    department: str = ""
    phone: str = ""

    @property
    def nickname(self) -> str:
        return self.alias or self.email.split("@", 1)[0]


def _starts(value: str, text: str) -> bool:
    return bool(value) and value.lower().startswith(text)


def matches(person: Person, text: str) -> bool:
    """Whether ANR finds ``person`` for ``text`` (see the module docstring)."""
    text = " ".join(text.split()).lower()
    if not text:
        return False
    if text.startswith("smtp:"):
        return _starts(person.email, text[5:].strip())
    if any(
        _starts(v, text)
        for v in (person.name, person.given_name, person.surname, person.nickname, person.email)
    ):
        return True
    if " " in text:
        first, rest = text.split(" ", 1)
        last_head, last = text.rsplit(" ", 1)
        pairs = ((first, rest), (rest, first), (last_head, last), (last, last_head))
        return any(_starts(person.given_name, g) and _starts(person.surname, s) for g, s in pairs)
    return False


def resolve(people: Iterable[Person], text: str) -> list[Person]:
    """Every person ANR finds for ``text``, by display name (a front returns at most
    :data:`MAX_CANDIDATES` of them)."""
    return sorted((p for p in people if matches(p, text)), key=lambda p: p.name.lower())


def address_book(known: list[Person], mailboxes: Iterable[tuple[str, str]]) -> list[Person]:
    """The configured people, then every other mailbox of the store (address, display name)."""
    named = {p.email for p in known}
    extra = [Person(email, name or email) for email, name in mailboxes if email not in named]
    return [*known, *extra]
