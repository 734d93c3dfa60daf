"""Rules `null_return_path`, `machine_sender` and `no_sender`: who (or what) the message is from.

The null return path `<>` is how RFC 5321 marks bounces and other messages
that must not be answered. Machine senders follow the habits of Sieve vacation
(RFC 5230 section 4.6) and help desks: MAILER-DAEMON, postmaster, list
administration addresses (owner-*, *-request, *-bounces) and no-reply style
names in several languages.
"""

from __future__ import annotations

import re

from topcontact_mail.domain.message import IncomingMessage
from topcontact_mail.domain.screening.evidence import (
    bare_address,
    local_part,
    sender_address,
    shown,
)
from topcontact_mail.domain.screening.lookalike import skeleton
from topcontact_mail.domain.screening.model import ScreeningHistory, ScreeningPolicy

#: Local parts (separators removed) that only machines use.
_MACHINE_NAMES = frozenset(
    {
        "mailerdaemon",
        "postmaster",
        "noreply",
        "donotreply",
        "dontreply",
        "noanswer",
        "geenantwoord",
        "geenreply",
        "nietbeantwoorden",
        "nietantwoorden",
        "keineantwort",
        "nichtantworten",
        "nepasrepondre",
        "nepasrépondre",
    }
)
#: Names that machines use with something appended: "noreply-12", "no_reply.invoices".
_MACHINE_PREFIXES = ("noreply", "donotreply", "mailerdaemon")
#: The same names with look-alike letters folded (`lookalike.skeleton`).
_MACHINE_SKELETONS = frozenset(skeleton(name) for name in _MACHINE_NAMES)
_MACHINE_PREFIX_SKELETONS = tuple(skeleton(name) for name in _MACHINE_PREFIXES)
_SEPARATORS = re.compile(r"[-_.]")
_TOKENS = re.compile(r"[-_.=]")


def _machine_local_part(address: str) -> str | None:
    """Why the local part of `address` is a machine's, or None."""
    local = local_part(address).split("+", 1)[0]
    compact = _SEPARATORS.sub("", local)
    if compact in _MACHINE_NAMES:
        return f"{local!r} is a machine's name"
    if compact.startswith(_MACHINE_PREFIXES):
        return f"{local!r} is a no-reply style name"
    shape = _SEPARATORS.sub("", skeleton(local))
    if shape in _MACHINE_SKELETONS or shape.startswith(_MACHINE_PREFIX_SKELETONS):
        return f"{local!r} is a machine's name written with look-alike letters"
    if any(token in ("bounce", "bounces") for token in _TOKENS.split(local)):
        return f"{local!r} is a bounce address"
    if local.startswith("owner-") or local.endswith(("-request", "-owner", "-bounces")):
        return f"{local!r} is a mailing-list administration address"
    return None


def null_return_path(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    paths = [message.return_path] if message.return_path is not None else []
    paths += message.header_values("Return-Path")
    for path in paths:
        if bare_address(path) == "":
            return f"Return-Path {shown(path) or '(empty)'} is the null path used by bounces"
    return None


def machine_sender(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    sender = sender_address(message)
    if sender:
        why = _machine_local_part(sender)
        if why:
            return f"From {sender}: {why}"
    elif message.sender is not None:
        # A From without a domain, such as a bare "MAILER-DAEMON".
        why = _machine_local_part(message.sender.key + "@")
        if why:
            return f"From {shown(message.sender.key)}: {why}"
    path = message.return_path
    if path is None:
        path = message.header("Return-Path")
    if path:
        address = bare_address(path)
        why = _machine_local_part(address if "@" in address else address + "@")
        if why:
            return f"Return-Path {shown(path)}: {why}"
    return None


def no_sender(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    sender = sender_address(message)
    if message.sender is None or not sender:
        return "no From address to answer"
    local, at, domain = sender.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in sender):
        return f"From {shown(sender)!r} is not a usable mail address"
    return None
