"""The service's marker on a message in the mailbox: what it says, and reading a claim back.

Version 2 markers are written before anything is sent. For an acknowledgement
the marker is its *claim*: it names the ref of the acknowledgement on its way,
so even with the local state gone the mailbox tells that this message is being
answered, and by which mail (docs/exactly-once.md). Version 1 markers (written
after sending) only say that the message was handled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from topcontact_mail.ports import MessageRecord

MARKER_VERSION = 2


def marker_value(record: MessageRecord, now: datetime) -> str:
    """The marker for a decided message; for an acknowledgement on its way, its claim."""
    value: dict[str, object] = {
        "v": MARKER_VERSION,
        "decision": "acknowledge" if record.ack_state == "intent" else "skip",
        "reason": record.reason,
        "received": record.received.isoformat(),
        "answer_by": record.answer_by.isoformat(),
    }
    if record.ack_state == "intent":
        value.update(ref=record.ack_ref, ack=record.ack_message_id, claimed=now.isoformat())
    return json.dumps(value, separators=(",", ":"))


@dataclass(frozen=True)
class Claim:
    """An acknowledgement an earlier run claimed: it may or may not have gone out."""

    ref: str
    message_id: str
    reason: str
    received: datetime
    answer_by: datetime
    claimed: datetime


def read_claim(marker: str) -> Claim | None:
    """The claim in a marker, or None (a skip, an old marker, or anything unreadable)."""
    try:
        value = json.loads(marker)
        if not isinstance(value, dict) or value.get("v") != MARKER_VERSION:
            return None
        if value.get("decision") != "acknowledge":
            return None
        return Claim(
            ref=str(value["ref"]),
            message_id=str(value["ack"]),
            reason=str(value["reason"]),
            received=datetime.fromisoformat(str(value["received"])),
            answer_by=datetime.fromisoformat(str(value["answer_by"])),
            claimed=datetime.fromisoformat(str(value["claimed"])),
        )
    except (ValueError, KeyError, TypeError):
        return None
