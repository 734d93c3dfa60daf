"""What both state stores keep as JSON text: queued acknowledgements and meeting requests.

The one encoding SQLite and PostgreSQL share (not an adapter itself, like `retry`): a
queued mail written by one version of the service is read back by the next, so a field is
only ever added with a default, never renamed.
"""

from __future__ import annotations

import json
from datetime import datetime

from topcontact_mail.domain.message import Acknowledgement, Address
from topcontact_mail.ports.calendar import OutgoingMeeting

__all__ = ["ack_from_json", "ack_to_json", "meeting_from_json", "meeting_to_json"]


def ack_to_json(ack: Acknowledgement) -> str:
    return json.dumps(
        {
            "recipient": [ack.recipient.email, ack.recipient.name],
            "subject": ack.subject,
            "text_body": ack.text_body,
            "html_body": ack.html_body,
            "language": ack.language,
            "in_reply_to": ack.in_reply_to,
            "references": list(ack.references),
            "headers": [list(h) for h in ack.headers],
        },
        ensure_ascii=False,
    )


def ack_from_json(text: str) -> Acknowledgement:
    data = json.loads(text)
    email, name = data["recipient"]
    return Acknowledgement(
        recipient=Address(email, name),
        subject=data["subject"],
        text_body=data["text_body"],
        html_body=data["html_body"],
        language=data["language"],
        in_reply_to=data["in_reply_to"],
        references=tuple(data["references"]),
        headers=tuple((str(k), str(v)) for k, v in data["headers"]),
    )


def meeting_to_json(meeting: OutgoingMeeting) -> str:
    return json.dumps(
        {
            "ref": meeting.ref,
            "attendee": [meeting.attendee.email, meeting.attendee.name],
            "subject": meeting.subject,
            "text_body": meeting.text_body,
            "html_body": meeting.html_body,
            "start": meeting.start.isoformat(),
            "end": meeting.end.isoformat(),
            "time_zone": meeting.time_zone,
            "categories": list(meeting.categories),
            "reminder_minutes": meeting.reminder_minutes,
            "location": meeting.location,
        },
        ensure_ascii=False,
    )


def meeting_from_json(text: str) -> OutgoingMeeting:
    data = json.loads(text)
    email, name = data["attendee"]
    return OutgoingMeeting(
        ref=data["ref"],
        attendee=Address(email, name),
        subject=data["subject"],
        text_body=data["text_body"],
        html_body=data["html_body"],
        start=datetime.fromisoformat(data["start"]),
        end=datetime.fromisoformat(data["end"]),
        time_zone=data["time_zone"],
        categories=tuple(data["categories"]),
        reminder_minutes=int(data["reminder_minutes"]),
        location=data["location"],
    )
