"""Rules `meeting_message` and `message_recall`: calendar traffic and recalls that Outlook generates.

A meeting request, response or cancellation is an iTIP message (RFC 5546): a
`text/calendar` body with a METHOD other than PUBLISH. A person who attaches an
.ics file to a question sends PUBLISH or no method at all, and is answered.
"""

from __future__ import annotations

from topcontact_mail.domain.message import IncomingMessage
from topcontact_mail.domain.screening.evidence import part_types, top_content_type
from topcontact_mail.domain.screening.model import ScreeningHistory, ScreeningPolicy

_SCHEDULING_METHODS = frozenset(
    {"request", "reply", "cancel", "counter", "declinecounter", "add", "refresh"}
)


def meeting_message(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    item_class = (message.item_class or "").strip()
    if item_class.lower().startswith("ipm.schedule.meeting."):
        return f"Exchange item class {item_class} (meeting request or response)"
    for mime_type, params in [top_content_type(message), *part_types(message)]:
        method = params.get("method", "").lower()
        if mime_type == "text/calendar" and method in _SCHEDULING_METHODS:
            return f"text/calendar with METHOD:{method.upper()} (meeting request or response)"
    content_class = (message.header("Content-Class") or "").strip().lower()
    if content_class == "urn:content-classes:calendarmessage":
        return "Content-Class: urn:content-classes:calendarmessage (Outlook meeting message)"
    return None


def message_recall(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    item_class = (message.item_class or "").strip()
    if item_class.lower() == "ipm.outlook.recall":
        return f"Exchange item class {item_class} (the sender recalls an earlier message)"
    return None
