"""The last verb on a message replied to or forwarded, in the sandbox store (a test double).

When a reply, a reply to all or a forward is submitted, the original message records it:
PidTagLastVerbExecuted (0x1081) 102, 103 or 104 (NOTEIVERB_REPLYTOSENDER, _REPLYTOALL,
_FORWARD), PidTagLastVerbExecutionTime (0x1082) the moment of submission, and
PidTagIconIndex (0x1080) the "replied" (0x105) or "forwarded" (0x106) icon Outlook shows.
The MAPI references (PidTagLastVerbExecuted, PidTagLastVerbExecutionTime, PidTagIconIndex
canonical properties) give the values; [MS-ASEMAIL] 2.2.2.44/45 has Exchange report them as
the message's "reply state". Outlook writes them itself when it sends; for EWS response
objects (ReplyToItem, ReplyAllToItem, ForwardItem) and Graph's reply/replyAll/forward (and
their create… drafts once sent) the server does, which is what the sandbox models: a reply
saved as a draft marks nothing until it is sent.

The original is found by its id, else (moved meanwhile: a new id) by its Message-ID in the
same mailbox; an original deleted meanwhile is not marked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from exchange_sandbox.store.model import Item, ItemNotFound, PropertyKey, RespondsTo
from exchange_sandbox.store.properties import write_property

if TYPE_CHECKING:
    from exchange_sandbox.store.mailstore import MailStore

VERB_REPLY = 102
VERB_REPLY_ALL = 103
VERB_FORWARD = 104
LAST_VERB = PropertyKey("Integer", property_tag=0x1081)
LAST_VERB_TIME = PropertyKey("SystemTime", property_tag=0x1082)
ICON_INDEX = PropertyKey("Integer", property_tag=0x1080)
#: PidTagIconIndex of a replied (0x105) and a forwarded (0x106) mail.
_ICONS = {VERB_REPLY: 0x105, VERB_REPLY_ALL: 0x105, VERB_FORWARD: 0x106}


def with_verb(item: Item, verb: int, at: datetime) -> Item:
    """The item with its last verb, the verb's time and the matching icon set."""
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    item = write_property(item, LAST_VERB, str(verb))
    item = write_property(item, LAST_VERB_TIME, stamp)
    return write_property(item, ICON_INDEX, str(_ICONS[verb]))


def mark_original(store: MailStore, mailbox: str, link: RespondsTo, at: datetime) -> Item | None:
    """Record on the original that ``link`` was sent at ``at``; the original, or None if gone."""
    original = _original(store, mailbox, link)
    if original is None:
        return None
    return store.update(original.id, lambda item: with_verb(item, link.verb, at))


def _original(store: MailStore, mailbox: str, link: RespondsTo) -> Item | None:
    try:
        found = store.get(link.item_id)
    except ItemNotFound:
        found = None
    if found is not None and found.mailbox == mailbox.lower():
        return found
    if not link.message_id:
        return None
    return store.find_message(mailbox, link.message_id)
