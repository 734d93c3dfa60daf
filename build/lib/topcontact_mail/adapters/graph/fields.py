"""Graph JSON shapes the adapter reads and writes: property ids, message fields, flags, headers.

The marker is the same named MAPI property the EWS adapter writes (property set
`9a1f3c52-…`, name `TopContactMailDecision`), so a mailbox can move from one
backend to the other and every handled message is still recognised.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from topcontact_mail.domain.acknowledgement import clean_text
from topcontact_mail.domain.message import Acknowledgement, Address, IncomingMessage
from topcontact_mail.domain.mime import UnreadableMessage, parse_message

#: Our own named-property set; the same GUID as the EWS adapter's, fixed forever.
PROPERTY_SET = "9a1f3c52-5d2e-4b8e-9c41-7e0b2f6d8a13"
MARKER_PROPERTY = f"String {{{PROPERTY_SET}}} Name TopContactMailDecision"
#: The acknowledgement's identity on the sent message, so Sent Items can be searched for it.
ACK_REF_PROPERTY = f"String {{{PROPERTY_SET}}} Name TopContactMailAckRef"
#: PidTagAutoResponseSuppress; Exchange writes `X-Auto-Response-Suppress` from it.
AUTO_RESPONSE_SUPPRESS_PROPERTY = "Integer 0x3FDF"
#: PidTagMessageClass: tells reports, meeting messages and out-of-office replies apart.
MESSAGE_CLASS_PROPERTY = "String 0x001A"
#: PidTagContentFilterSpamConfidenceLevel (SCL), set by Exchange Online Protection.
SPAM_CONFIDENCE_PROPERTY = "Integer 0x4076"
#: Read with every change, so our own updates and the screening need no second request.
EXPANDED_PROPERTIES = (MARKER_PROPERTY, MESSAGE_CLASS_PROPERTY, SPAM_CONFIDENCE_PROPERTY)
#: PidTagLastVerbExecuted (102 replied, 103 replied to all, 104 forwarded) and its time.
LAST_VERB_PROPERTY = "Integer 0x1081"
LAST_VERB_TIME_PROPERTY = "SystemTime 0x1082"
#: What observing a tracked message reads (no body).
OBSERVE_FIELDS = (
    "subject",
    "from",
    "sender",
    "internetMessageId",
    "conversationId",
    "receivedDateTime",
    "parentFolderId",
    "lastModifiedDateTime",
    "categories",
    "flag",
    "webLink",
)
#: What the Sent Items search reads of each sent message.
SENT_FIELDS = ("subject", "sentDateTime", "internetMessageId", "conversationId")

#: What a delta page carries per message: enough to screen, no body but the 255-character preview.
SELECT_FIELDS = (
    "internetMessageHeaders",
    "internetMessageId",
    "conversationId",
    "from",
    "sender",
    "toRecipients",
    "ccRecipients",
    "subject",
    "receivedDateTime",
    "categories",
    "bodyPreview",
)

#: The bits of PidTagAutoResponseSuppress by their `X-Auto-Response-Suppress` names ([MS-OXCMAIL]).
_SUPPRESS_BITS = {"dr": 0x01, "ndr": 0x02, "rn": 0x04, "nrn": 0x08, "oof": 0x10, "autoreply": 0x20}

#: CLDR windowsZones for the zones a Dutch (or neighbouring) office uses; Graph's flag
#: accepts Windows names everywhere, IANA names only for some methods.
WINDOWS_ZONES = {
    "Europe/Amsterdam": "W. Europe Standard Time",
    "Europe/Berlin": "W. Europe Standard Time",
    "Europe/Brussels": "Romance Standard Time",
    "Europe/Paris": "Romance Standard Time",
    "Europe/Luxembourg": "W. Europe Standard Time",
    "Europe/London": "GMT Standard Time",
    "UTC": "UTC",
    "Etc/UTC": "UTC",
}


def expand_parameter(properties: Sequence[str] = EXPANDED_PROPERTIES) -> str:
    """The `$expand` value that brings these MAPI properties along (by default our marker and
    the screening's)."""
    clauses = " or ".join(f"id eq '{p}'" for p in properties)
    return f"singleValueExtendedProperties($filter={clauses})"


def extended(message: Mapping[str, Any]) -> dict[str, str]:
    """The expanded single-value properties of a message, by lower-case property id."""
    found: dict[str, str] = {}
    for entry in message.get("singleValueExtendedProperties") or ():
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            found[_canonical(entry["id"])] = str(entry.get("value", ""))
    return found


def _canonical(property_id: str) -> str:
    # Graph may echo an id with other casing or a tag with another number of digits.
    text = " ".join(property_id.split()).lower()
    tag = re.fullmatch(r"(\w+) 0x([0-9a-f]+)", text)
    return f"{tag.group(1)} 0x{int(tag.group(2), 16):04x}" if tag else text


def property_value(message: Mapping[str, Any], property_id: str) -> str | None:
    return extended(message).get(_canonical(property_id))


def _address(value: Any) -> Address | None:
    if not isinstance(value, dict):
        return None
    email = value.get("emailAddress")
    if not isinstance(email, dict) or not email.get("address"):
        return None
    address = str(email["address"])
    name = str(email.get("name") or "")
    return Address(address, "" if name == address else name)


def message_sender(data: Mapping[str, Any]) -> Address | None:
    """The sender as the mailbox shows it (`from`, else `sender`)."""
    return _address(data.get("from")) or _address(data.get("sender"))


def parse_date_time_time_zone(value: Any) -> datetime | None:
    """A `dateTimeTimeZone` ({"dateTime", "timeZone"}) as an instant; an unknown zone is UTC."""
    if not isinstance(value, dict):
        return None
    moment = parse_time(str(value.get("dateTime") or ""))
    if moment is None:
        return None
    zone_name = str(value.get("timeZone") or "UTC")
    iana = next((k for k, v in WINDOWS_ZONES.items() if v == zone_name), zone_name)
    try:
        zone = ZoneInfo(iana)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return moment.replace(tzinfo=zone).astimezone(UTC)


def parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    raw = re.sub(r"(\.\d{6})\d+", r"\1", text.strip().replace("Z", "+00:00"))
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def header_block(headers: Iterable[Any], sample: str) -> bytes:
    """The internet headers as RFC 5322 text, with the body preview as the body."""
    lines = [
        f"{h['name']}: {h.get('value') or ''}"
        for h in headers
        if isinstance(h, dict) and isinstance(h.get("name"), str) and h["name"]
    ]
    return ("\r\n".join(lines) + "\r\n\r\n" + sample).encode("utf-8", "replace")


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def message_from_json(data: Mapping[str, Any]) -> IncomingMessage:
    """An IncomingMessage from a Graph message, from its internet headers where it has them.

    Mail submitted inside the organisation has no internet headers; then the
    message's own properties are used, as the EWS adapter does.
    """
    preview = str(data.get("bodyPreview") or "")
    base = IncomingMessage()
    headers = data.get("internetMessageHeaders")
    if isinstance(headers, list) and headers:
        with contextlib.suppress(UnreadableMessage):
            base = parse_message(header_block(headers, preview))
    props = extended(data)
    recipients = base.recipients or tuple(
        a
        for a in (
            _address(r)
            for r in [*(data.get("toRecipients") or ()), *(data.get("ccRecipients") or ())]
        )
        if a
    )
    spam = base.spam_confidence
    if spam is None:
        spam = _int(props.get(_canonical(SPAM_CONFIDENCE_PROPERTY)))
    return IncomingMessage(
        subject=base.subject or str(data.get("subject") or ""),
        sender=base.sender or _address(data.get("from")) or _address(data.get("sender")),
        recipients=recipients,
        headers=base.headers,
        message_id=base.message_id or data.get("internetMessageId") or None,
        return_path=base.return_path,
        item_class=props.get(_canonical(MESSAGE_CLASS_PROPERTY)) or _class_from_type(data),
        content_type=base.content_type,
        spam_confidence=spam,
        conversation_id=data.get("conversationId") or None,
        received=parse_time(data.get("receivedDateTime")),
        text_sample=base.text_sample or preview,
        item_id=str(data["id"]),
        part_types=base.part_types,
    )


def _class_from_type(data: Mapping[str, Any]) -> str | None:
    """A message class from the OData type when the MAPI property did not come along."""
    kind = str(data.get("@odata.type") or "").lower()
    if kind.endswith("eventmessagerequest"):
        return "IPM.Schedule.Meeting.Request"
    if kind.endswith("eventmessageresponse"):
        return "IPM.Schedule.Meeting.Resp"
    if kind.endswith("eventmessage"):
        return "IPM.Schedule.Meeting.Notification"
    return None


# -- writing --------------------------------------------------------------------------------------


def date_time_time_zone(moment: datetime, zone: str) -> dict[str, str]:
    """A `dateTimeTimeZone` in the configured zone (Windows name), or in UTC for other zones."""
    windows = WINDOWS_ZONES.get(zone)
    if windows is None:
        zone, windows = "UTC", "UTC"
    local = moment.astimezone(ZoneInfo(zone))
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": windows}


def auto_response_suppress(value: str) -> int | None:
    """PidTagAutoResponseSuppress for an `X-Auto-Response-Suppress` value ("All" is -1)."""
    names = [n.strip().lower() for n in value.split(",") if n.strip()]
    if "all" in names:
        return -1
    if names == ["none"]:
        return 0
    bits = 0
    for name in names:
        if name not in _SUPPRESS_BITS:
            return None
        bits |= _SUPPRESS_BITS[name]
    return bits or None


def recipient(address: Address) -> dict[str, Any]:
    entry: dict[str, Any] = {"address": address.email}
    if address.name:
        entry["name"] = clean_text(address.name)
    return {"emailAddress": entry}


def reply_message(ack: Acknowledgement, ref: str) -> tuple[dict[str, Any], list[str]]:
    """The `message` of a createReply call, and the headers of `ack` that Graph cannot carry.

    Graph accepts only `x-` headers in `internetMessageHeaders` (`Auto-Submitted`
    is refused, and reported to be stripped even from MIME submissions), so
    `Auto-Submitted` is left to an Exchange Online mail-flow rule that matches
    our marker header. `X-Auto-Response-Suppress` travels as the MAPI property
    Exchange derives that header from, so the two never disagree.
    """
    headers: list[dict[str, str]] = []
    properties = [{"id": ACK_REF_PROPERTY, "value": ref}]
    dropped: list[str] = []
    for name, value in ack.headers:
        if name.lower() == "x-auto-response-suppress":
            bits = auto_response_suppress(value)
            if bits is None:
                dropped.append(name)
            else:
                properties.append({"id": AUTO_RESPONSE_SUPPRESS_PROPERTY, "value": str(bits)})
        elif name.lower().startswith("x-") and re.fullmatch(r"[A-Za-z0-9-]{1,76}", name):
            headers.append({"name": name, "value": clean_text(value)})
        else:
            dropped.append(name)
    message: dict[str, Any] = {
        "subject": clean_text(ack.subject),
        "toRecipients": [recipient(ack.recipient)],
        "body": {"contentType": "html", "content": ack.html_body}
        if ack.html_body
        else {"contentType": "text", "content": ack.text_body},
        "singleValueExtendedProperties": properties,
    }
    if headers:
        message["internetMessageHeaders"] = headers
    return message, dropped


def mark_patch(
    marker: str | None,
    *,
    zone: str,
    flag_start: datetime | None,
    flag_due: datetime | None,
    categories: Sequence[str] | None,
) -> dict[str, Any]:
    """The PATCH body that puts marker (None: left as it is), follow-up flag and categories on
    a message."""
    patch: dict[str, Any] = {}
    if marker is not None:
        patch["singleValueExtendedProperties"] = [{"id": MARKER_PROPERTY, "value": marker}]
    if flag_due is not None:
        patch["flag"] = {
            "flagStatus": "flagged",
            "startDateTime": date_time_time_zone(flag_start or flag_due, zone),
            "dueDateTime": date_time_time_zone(flag_due, zone),
        }
    if categories is not None:
        patch["categories"] = list(categories)
    return patch


def team_mail(to: Sequence[Address], subject: str, text: str, ref: str) -> dict[str, Any]:
    """The `message` of a sendMail for a team mail, carrying its ref (found again by it)."""
    return {
        "subject": clean_text(subject),
        "body": {"contentType": "Text", "content": text},
        "toRecipients": [recipient(a) for a in to],
        "singleValueExtendedProperties": [{"id": ACK_REF_PROPERTY, "value": ref}],
    }
