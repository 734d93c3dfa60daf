"""Rules `mailing_list` and `list_manager`: mail a list distributed, and the list software's notices.

`mailing_list` takes every header list software writes: the RFC 2369 / RFC 2919
`List-*` fields, ezmlm's `Mailing-List` and `Delivered-To: mailing list`,
Mailman's `X-Mailman-Version` and `X-BeenThere`, fml's `X-ML-Name`, and
`X-Loop`, the loop guard of lists, procmail and help desks.

`list_manager` takes the notices list software sends from its own addresses
(moderation, "you are not a member", loop alerts, confirmations), which often
carry no list header at all: the list programs' own names (majordomo@,
listserv@, ...) decide alone; a `-admin` address, which is also how people
name a role mailbox, only together with a list notice's wording.
"""

from __future__ import annotations

from topcontact_mail.domain.message import IncomingMessage
from topcontact_mail.domain.screening.evidence import (
    body_start,
    local_part,
    phrase_pattern,
    phrases,
    plain_text,
    sender_address,
    shown,
)
from topcontact_mail.domain.screening.model import ScreeningHistory, ScreeningPolicy

#: Headers only list software (or a loop guard of a distributing program) writes.
_LIST_HEADERS = (
    "List-Id",
    "List-Unsubscribe",
    "List-Post",
    "List-Help",
    "List-Subscribe",
    "List-Owner",
    "List-Archive",
    "Mailing-List",
    "X-Mailman-Version",
    "X-BeenThere",
    "X-Mailing-List",
    "X-ML-Name",
    "X-MLServer",
    "X-Loop",
)
#: ezmlm's `Delivered-To` forms: its list and its autoresponder.
_EZMLM_DELIVERED_TO = ("mailing list ", "responder for ")


def mailing_list(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    for name in _LIST_HEADERS:
        value = message.header(name)
        if value is not None:
            return f"{name}: {shown(value) or '(empty)'}"
    for value in message.header_values("Delivered-To"):
        if value.strip().lower().startswith(_EZMLM_DELIVERED_TO):
            return f"Delivered-To: {shown(value)} (ezmlm mailing list)"
    return None


#: Local parts of list programs' own addresses; nobody writes as these.
_LIST_PROGRAMS = frozenset(
    {
        "majordomo",
        "listserv",
        "listproc",
        "listmanager",
        "mailman",
        "mailman-owner",
        "sympa",
        "sympa-request",
        "ecartis",
        "smartlist",
        "lyris",
        "lyris-owner",
        "ezmlm",
        "fml",
    }
)
#: Suffixes of list administration addresses not already taken by `machine_sender`.
_ADMIN_SUFFIXES = ("-admin", "-ctl", "-confirm", "-help", "-subscribe", "-unsubscribe", "-leave")
#: What list software's notices are about; with a `-admin` sender they decide.
_NOTICE = phrase_pattern(
    phrases(
        """
        mailing list
        mailinglist
        not a member
        not member
        non-member
        nonmember
        moderator
        moderation
        awaiting approval
        held for approval
        requires approval
        loop alert
        mail loop
        subscription
        subscribe
        unsubscribe
        confirm your request
        list owner
        ML)
        maillijst
        mailinglijst
        geen lid
        moderator
        verteilerliste
        kein mitglied
        liste de diffusion
        pas membre
        """
    )
)


def list_manager(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    sender = sender_address(message)
    local = local_part(sender).split("+", 1)[0]
    if local in _LIST_PROGRAMS:
        return f"From {sender}: the address of the list program {local!r}"
    if not local.endswith(_ADMIN_SUFFIXES):
        return None
    notice = _NOTICE.search(plain_text(message.subject)) or _NOTICE.search(body_start(message))
    if notice is None:
        return None
    return (
        f"From {sender}: a list administration address, and the message is a list notice "
        f"({notice.group(0)!r})"
    )
