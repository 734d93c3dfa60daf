"""Storage form of sandbox items (a test double): an Item as the JSON column of its SQLite row."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import datetime
from typing import Any

from exchange_sandbox.store.model import (
    Address,
    Attendee,
    CalendarFields,
    ExtendedValue,
    Flag,
    Item,
    PropertyKey,
    RespondsTo,
    utcnow,
)


def _dt(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _pdt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _addr_json(a: Address | None) -> list[str] | None:
    return [a.email, a.name] if a is not None else None


def _addr_load(v: Any) -> Address | None:
    return Address(email=v[0], name=v[1]) if v else None


def item_to_json(item: Item) -> str:
    """The JSON text kept in the ``data`` column (everything but the id columns and MIME)."""
    cal = item.calendar
    data: dict[str, Any] = {
        "item_class": item.item_class,
        "headers": [list(h) for h in item.headers],
        "subject": item.subject,
        "sender": _addr_json(item.sender),
        "from_": _addr_json(item.from_),
        "to": [_addr_json(a) for a in item.to],
        "cc": [_addr_json(a) for a in item.cc],
        "bcc": [_addr_json(a) for a in item.bcc],
        "message_id": item.message_id,
        "in_reply_to": item.in_reply_to,
        "references": list(item.references),
        "conversation_id": item.conversation_id,
        "conversation_index": item.conversation_index.hex(),
        "date_received": _dt(item.date_received),
        "date_sent": _dt(item.date_sent),
        "date_created": _dt(item.date_created),
        "last_modified": _dt(item.last_modified),
        "is_read": item.is_read,
        "is_draft": item.is_draft,
        "flag": [
            item.flag.status,
            _dt(item.flag.start),
            _dt(item.flag.due),
            _dt(item.flag.complete),
        ],
        "categories": list(item.categories),
        "extended": [
            [dataclasses.asdict(k), list(v) if isinstance(v, tuple) else v]
            for k, v in item.extended.values()
        ],
        "calendar": None
        if cal is None
        else {
            "start": _dt(cal.start),
            "end": _dt(cal.end),
            "organizer": _addr_json(cal.organizer),
            "attendees": [
                [_addr_json(a.address), a.required, a.response, _dt(a.response_time)]
                for a in cal.attendees
            ],
            "free_busy": cal.free_busy,
            "location": cal.location,
            "uid": cal.uid,
            "is_all_day": cal.is_all_day,
            "my_response": cal.my_response,
            "sequence": cal.sequence,
            "is_cancelled": cal.is_cancelled,
            "intended_free_busy": cal.intended_free_busy,
            "request_type": cal.request_type,
            "start_zone": cal.start_zone,
            "end_zone": cal.end_zone,
            "reply_time": _dt(cal.reply_time),
            "response_requested": cal.response_requested,
            "meeting_request_sent": cal.meeting_request_sent,
            "previous_start": _dt(cal.previous_start),
            "previous_end": _dt(cal.previous_end),
            "reminder_set": cal.reminder_set,
            "reminder_minutes": cal.reminder_minutes,
        },
        "body": item.body,
        "body_type": item.body_type,
        "importance": item.importance,
        "responds_to": None
        if item.responds_to is None
        else [item.responds_to.item_id, item.responds_to.message_id, item.responds_to.verb],
    }
    return json.dumps(data)


def item_from_row(row: sqlite3.Row) -> Item:
    """The Item of an ``items`` row (its columns plus the JSON ``data``)."""
    d = json.loads(row["data"])
    cal = d["calendar"]
    extended: dict[str, tuple[PropertyKey, ExtendedValue]] = {}
    for kd, v in d["extended"]:
        key = PropertyKey(**kd)
        extended[key.canonical] = (key, tuple(v) if isinstance(v, list) else v)
    organizer = _addr_load(cal["organizer"]) if cal else None
    return Item(
        id=row["id"],
        change_key=row["change_key"],
        mailbox=row["mailbox"],
        folder=row["folder"],
        mime=row["mime"],
        item_class=d["item_class"],
        headers=tuple((h[0], h[1]) for h in d["headers"]),
        subject=d["subject"],
        sender=_addr_load(d["sender"]),
        from_=_addr_load(d["from_"]),
        to=tuple(a for a in (_addr_load(x) for x in d["to"]) if a),
        cc=tuple(a for a in (_addr_load(x) for x in d["cc"]) if a),
        bcc=tuple(a for a in (_addr_load(x) for x in d["bcc"]) if a),
        message_id=d["message_id"],
        in_reply_to=d["in_reply_to"],
        references=tuple(d["references"]),
        conversation_id=d["conversation_id"],
        conversation_index=bytes.fromhex(d["conversation_index"]),
        date_received=_pdt(d["date_received"]),
        date_sent=_pdt(d["date_sent"]),
        date_created=_pdt(d["date_created"]),
        last_modified=_pdt(d["last_modified"]),
        is_read=d["is_read"],
        is_draft=d["is_draft"],
        flag=Flag(
            status=d["flag"][0],
            start=_pdt(d["flag"][1]),
            due=_pdt(d["flag"][2]),
            complete=_pdt(d["flag"][3]),
        ),
        categories=tuple(d["categories"]),
        extended=extended,
        calendar=None
        if cal is None or organizer is None
        else CalendarFields(
            start=_pdt(cal["start"]) or utcnow(),
            end=_pdt(cal["end"]) or utcnow(),
            organizer=organizer,
            attendees=tuple(
                Attendee(
                    address=_addr_load(a[0]) or Address(""),
                    required=a[1],
                    response=a[2],
                    response_time=_pdt(a[3]) if len(a) > 3 else None,
                )
                for a in cal["attendees"]
            ),
            free_busy=cal["free_busy"],
            location=cal["location"],
            uid=cal["uid"],
            is_all_day=cal["is_all_day"],
            # Rows written before these existed read as a plain single appointment.
            my_response=cal.get("my_response", ""),
            sequence=cal.get("sequence", 0),
            is_cancelled=cal.get("is_cancelled", False),
            intended_free_busy=cal.get("intended_free_busy", ""),
            request_type=cal.get("request_type", ""),
            start_zone=cal.get("start_zone", ""),
            end_zone=cal.get("end_zone", ""),
            reply_time=_pdt(cal.get("reply_time")),
            response_requested=cal.get("response_requested", True),
            meeting_request_sent=cal.get("meeting_request_sent", False),
            previous_start=_pdt(cal.get("previous_start")),
            previous_end=_pdt(cal.get("previous_end")),
            reminder_set=cal.get("reminder_set", True),
            reminder_minutes=cal.get("reminder_minutes", 15),
        ),
        body=d["body"],
        body_type=d["body_type"],
        importance=d["importance"],
        # Rows written before it existed answer nothing.
        responds_to=RespondsTo(*d["responds_to"]) if d.get("responds_to") else None,
    )
