"""exchangelib items and the domain's values: messages read, acknowledgements and notices to send,
marks, and what a tracked message shows.

Nothing here talks to the server; the mailbox sends what these functions build.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from exchangelib import EWSDateTime, Message

from topcontact_mail.adapters.ews.fields import FollowupFlag
from topcontact_mail.domain.acknowledgement import to_mime
from topcontact_mail.domain.message import Address, IncomingMessage
from topcontact_mail.domain.mime import UnreadableMessage, parse_message
from topcontact_mail.domain.tracking.model import Observation, SentMessage
from topcontact_mail.domain.tracking.rules.sent import kind_from_subject
from topcontact_mail.ports import Mark, Observed, OutgoingAcknowledgement, OutgoingNotice

#: What GetItem asks for: enough to screen and to keep staff's categories, no attachments.
FETCH_FIELDS = (
    "subject",
    "sender",
    "author",
    "to_recipients",
    "cc_recipients",
    "message_id",
    "conversation_id",
    "item_class",
    "datetime_received",
    "headers",
    "text_body",
    "categories",
    "topcontact_marker",
)
#: What every sync change carries, so our own updates are recognised without a GetItem.
SYNC_FIELDS = ("topcontact_marker", "datetime_received")
#: What observing a tracked message reads (no body).
OBSERVE_FIELDS = (
    "subject",
    "sender",
    "author",
    "message_id",
    "conversation_id",
    "datetime_received",
    "parent_folder_id",
    "last_modified_time",
    "categories",
    "followup_flag",
    "last_verb",
    "last_verb_at",
    "web_client_read_form_query_string",
)
#: What the Sent Items search reads of each sent message (FindItem can return all of these).
SENT_FIELDS = ("conversation_id", "datetime_sent", "subject", "message_id", "topcontact_ref")
#: Only the text needed to guess the language is read from a body.
SAMPLE_CHARS = 4000


def _address(mailbox: Any) -> Address | None:
    if mailbox is None or not getattr(mailbox, "email_address", None):
        return None
    return Address(mailbox.email_address, mailbox.name or "")


def ews_time(moment: datetime | None) -> EWSDateTime | None:
    """exchangelib wants its own datetime type; UTC keeps the moment exact."""
    return None if moment is None else EWSDateTime.from_datetime(moment.astimezone(UTC))


def _plain_time(moment: datetime | None) -> datetime | None:
    """A standard datetime: exchangelib's own subclass must not leak into the domain."""
    if moment is None:
        return None
    return datetime.fromtimestamp(moment.timestamp(), UTC)


def _header_block(headers: Sequence[Any], body: str) -> bytes:
    lines = [f"{h.name}: {h.value or ''}" for h in headers if h.name]
    return ("\r\n".join(lines) + "\r\n\r\n" + body[:SAMPLE_CHARS]).encode("utf-8", "replace")


def message_from_item(item: Any) -> IncomingMessage:
    """An IncomingMessage from an exchangelib Message, from its internet headers where it has them.

    Mail submitted inside the organisation (MAPI) has no internet headers; then
    the item's own fields are used.
    """
    body = str(item.text_body or "")
    base = IncomingMessage()
    if item.headers:
        with contextlib.suppress(UnreadableMessage):
            base = parse_message(_header_block(item.headers, body))
    sender = base.sender or _address(item.author) or _address(item.sender)
    recipients = base.recipients or tuple(
        a
        for a in (_address(r) for r in [*(item.to_recipients or ()), *(item.cc_recipients or ())])
        if a
    )
    return IncomingMessage(
        subject=base.subject or str(item.subject or ""),
        sender=sender,
        recipients=recipients,
        headers=base.headers,
        message_id=base.message_id or item.message_id,
        return_path=base.return_path,
        item_class=item.item_class,
        content_type=base.content_type,
        spam_confidence=base.spam_confidence,
        conversation_id=item.conversation_id.id if item.conversation_id else None,
        received=_plain_time(item.datetime_received),
        text_sample=base.text_sample or body[:SAMPLE_CHARS],
        item_id=item.id,
        part_types=base.part_types,
    )


def acknowledgement_item(
    account: Any, sent: Any, outgoing: OutgoingAcknowledgement, sender: Address, now: datetime
) -> Message:
    """The acknowledgement as a complete MIME message, so every header reaches the tenant.

    `sent` is the Sent Items folder, where the copy is saved.
    """
    return Message(
        account=account,
        folder=sent,
        mime_content=to_mime(
            outgoing.acknowledgement, sender=sender, message_id=outgoing.message_id, date=now
        ),
        topcontact_ref=outgoing.ref,
    )


def notice_item(account: Any, sent: Any, to: Address, subject: str, text: str) -> Message:
    """A plain internal notice (an alert to the administrator)."""
    return Message(
        account=account,
        folder=sent,
        subject=subject,
        body=text,
        to_recipients=[to.email],
    )


def team_mail_item(account: Any, sent: Any, notice: OutgoingNotice) -> Message:
    """A team mail (escalation, overview) carrying its ref."""
    item = Message(
        account=account,
        folder=sent,
        subject=notice.subject,
        body=notice.text,
        to_recipients=[a.email for a in notice.to],
    )
    item.topcontact_ref = notice.ref
    return item


def sent_message(item: Any) -> SentMessage | None:
    """A message found in Sent Items, as the "answered?" rules read it (None without a send time)."""
    sent_at = _plain_time(item.datetime_sent)
    if sent_at is None:
        return None
    return SentMessage(
        kind=kind_from_subject(str(item.subject or "")),
        sent_at=sent_at,
        message_id=item.message_id,
        from_service=bool(getattr(item, "topcontact_ref", None)),
    )


def observed_from_item(
    item: Any, folder: str, sent: Sequence[SentMessage], now: datetime
) -> Observed:
    """What a tracked message shows: the facts for the rules, and subject and sender for mails."""
    flag = getattr(item, "followup_flag", None)
    received = _plain_time(item.datetime_received) or now
    sender = _address(item.author) or _address(item.sender)
    verb = getattr(item, "last_verb", None)
    observation = Observation(
        item_id=item.id,
        received=received,
        observed_at=now,
        sent=tuple(s for s in sent if s.sent_at >= received),
        last_verb=int(verb) if verb is not None else None,
        last_verb_at=_plain_time(getattr(item, "last_verb_at", None)),
        flag_complete=flag is not None and flag.flag_status == "Complete",
        flag_completed_at=_plain_time(flag.complete_date) if flag is not None else None,
        folder=folder,
        categories=tuple(item.categories or ()),
        last_modified=_plain_time(item.last_modified_time),
    )
    query = getattr(item, "web_client_read_form_query_string", None)
    return Observed(
        observation,
        subject=str(item.subject or ""),
        tenant=(sender.name or sender.email) if sender else "",
        link=str(query or ""),
    )


def categories_with(current: Sequence[str], category: str) -> list[str]:
    """Staff's own categories, with ours appended once."""
    return list(current) if category in current else [*current, category]


def mark_update(
    account: Any, mark: Mark, current_categories: Sequence[str], change_key: str | None = None
) -> tuple[Message, list[str]]:
    """The UpdateItem change for one mark: the item with marker, flag and categories set, and their fields.

    Setting the same marker, flag and categories twice is harmless: the update may be repeated.
    """
    item = Message(account=account, id=mark.item_id, changekey=change_key)
    fields = []
    if mark.marker is not None:
        item.topcontact_marker = mark.marker
        fields.append("topcontact_marker")
    if mark.flag_due is not None:
        item.followup_flag = FollowupFlag(
            flag_status="Flagged",
            start_date=ews_time(mark.flag_start),
            due_date=ews_time(mark.flag_due),
        )
        fields.append("followup_flag")
    if mark.category or mark.remove_categories:
        kept = [c for c in current_categories if c not in mark.remove_categories]
        item.categories = categories_with(kept, mark.category) if mark.category else kept
        fields.append("categories")
    return item, fields
