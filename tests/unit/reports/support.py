"""A hand-made December 2026 for the report tests: twelve messages, eight targets, four callbacks.

Each message says what the calendar makes of it (worked out by hand; Christmas
Fri 25 Dec 2026, New Year Fri 1 Jan 2027). The report is asked on Mon 4 Jan
2027 at 09:00. test_figures.py holds the figures that follow, worked out by
hand from these comments.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from topcontact_mail.domain.calendar import default_calendar
from topcontact_mail.domain.tracking import CallbackState, TrackedCallback, TrackedTarget
from topcontact_mail.ports.store import MessageRecord

from ..tracking.support import at

CALENDAR = default_calendar()
AS_OF = at("ma 4 jan 2027 09:00")


def record(
    item_id: str, received: datetime, reason: str = "person", **fields: Any
) -> MessageRecord:
    terms = CALENDAR.terms(received)
    acknowledge = reason == "person"
    values: dict[str, Any] = {
        "item_id": item_id,
        "internet_message_id": f"<{item_id}@tenant.example>",
        "conversation_id": f"conv-{item_id}",
        "sender": "tenant@example.org",
        "received": received,
        "reception_day": terms.reception_day,
        "answer_by": terms.answer_by,
        "acknowledge": acknowledge,
        "reason": reason,
        "detail": "",
        "needs_answer": reason in ("person", "conversation_already_acknowledged"),
        "ack_state": "sent" if acknowledge else "none",
    }
    values.update(fields)
    return MessageRecord(**values)


def tracked(rec: MessageRecord, answered_at: str | None = None, **fields: Any) -> TrackedTarget:
    return TrackedTarget(
        item_id=rec.item_id,
        received=rec.received,
        reception_day=rec.reception_day,
        answer_by=fields.pop("answer_by", rec.answer_by),
        conversation_id=rec.conversation_id,
        sender=rec.sender,
        answered_at=at(answered_at) if answered_at else None,
        answered_how="reply_sent" if answered_at else None,
        **fields,
    )


# Mon 30 Nov 23:30 UTC is Tue 1 Dec 00:30 in Amsterdam: December. D Tue 1, answer_by Tue 8 17:00;
# answered exactly at answer_by: late, 6 workdays (the answer counts for Wed 9).
R0 = record("r0", datetime(2026, 11, 30, 23, 30, tzinfo=UTC), ack_sent_at=at("di 1 dec 2026 08:00"))
# D Tue 1, acknowledge_by Wed 2, answer_by Tue 8; answered Thu 3: 2 workdays, in time.
R1 = record("r1", at("di 1 dec 2026 10:00"), ack_sent_at=at("di 1 dec 2026 10:01"))
# Friday evening: D Mon 7, acknowledge_by Tue 8, answer_by Mon 14 17:00; answered Mon 14 17:30:
# late, 6 workdays.
R2 = record("r2", at("vr 4 dec 2026 18:00"), ack_sent_at=at("vr 4 dec 2026 18:01"))
# Saturday: D Mon 7; answered the same Saturday: 0 workdays, in time.
R3 = record("r3", at("za 5 dec 2026 12:00"), ack_sent_at=at("za 5 dec 2026 12:01"))
R4 = record("r4", at("ma 7 dec 2026 09:00"), "auto_reply_header")
R5 = record("r5", at("ma 7 dec 2026 09:30"), "mailing_list")
R6 = record("r6", at("di 8 dec 2026 10:00"), "auto_reply_header")
# D Wed 9, answer_by Wed 16 17:00, never answered: overdue at AS_OF.
R7 = record(
    "r7",
    at("wo 9 dec 2026 10:00"),
    conversation_id="conv-r7",
    ack_sent_at=at("wo 9 dec 2026 10:01"),
)
# The same tenant writes again in R7's conversation: it shares R7's target.
R8 = record(
    "r8", at("do 10 dec 2026 11:00"), "conversation_already_acknowledged", conversation_id="conv-r7"
)
# D Wed 23, acknowledge_by Thu 24 17:00 (the acknowledgement failed), answer_by Thu 31 17:00
# (Christmas skipped); answered Thu 31 16:59: 5 workdays, in time.
R9 = record("r9", at("wo 23 dec 2026 16:00"), ack_state="failed")
# Thu 31 Dec 20:00: D Mon 4 Jan (New Year skipped), acknowledge_by Tue 5 Jan, answer_by Mon 11 Jan.
R10 = record("r10", at("do 31 dec 2026 20:00"), ack_sent_at=at("ma 4 jan 2027 08:31"))
# The same, its acknowledgement not sent yet (and not due yet).
R11 = record("r11", at("do 31 dec 2026 22:00"), ack_state="intent")
# Outside the month: Thu 31 Dec 23:30 UTC is Fri 1 Jan 00:30 in Amsterdam; and November.
OUT_JAN = record("out-jan", datetime(2026, 12, 31, 23, 30, tzinfo=UTC), ack_sent_at=AS_OF)
OUT_NOV = record("out-nov", at("ma 30 nov 2026 10:00"), ack_sent_at=at("ma 30 nov 2026 10:01"))

RECORDS = [R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, R11, OUT_JAN, OUT_NOV]
TARGETS = [
    tracked(R0, "di 8 dec 2026 17:00"),
    tracked(R1, "do 3 dec 2026 11:00"),
    tracked(R2, "ma 14 dec 2026 17:30"),
    tracked(R3, "za 5 dec 2026 15:00"),
    tracked(R7),
    tracked(R8, answer_by=R7.answer_by, joined_to="r7"),
    tracked(R9, "do 31 dec 2026 16:59"),
    # Answered after AS_OF: not known at the time of the report.
    tracked(R10, "ma 4 jan 2027 10:00"),
    tracked(R11),
    tracked(OUT_JAN),
    tracked(OUT_NOV, "di 1 dec 2026 10:00"),
]


def callback(ref: str, booked: str, by: str, slot: str, state: CallbackState) -> TrackedCallback:
    return TrackedCallback(ref, at(booked), at(by), at(slot), state, colleague="Jan de Vries")


CALLBACKS = [
    # Planned before the deadline and done: in time.
    callback("c1", "di 1 dec 2026 10:00", "wo 2 dec 2026 17:00", "wo 2 dec 2026 10:00", CallbackState.DONE),
    # Planned after the deadline (the colleague was fully booked): not in time.
    callback("c2", "vr 4 dec 2026 16:00", "ma 7 dec 2026 17:00", "di 8 dec 2026 09:00", CallbackState.PLANNED),
    # Planned in time but missed.
    callback("c3", "ma 14 dec 2026 11:00", "di 15 dec 2026 17:00", "di 15 dec 2026 16:45", CallbackState.MISSED),
    # Planned in time, then moved: still planned in time.
    callback("c4", "do 17 dec 2026 09:00", "vr 18 dec 2026 17:00", "vr 18 dec 2026 11:00", CallbackState.REBOOKED),
    # Booked in November.
    callback("c5", "ma 30 nov 2026 10:00", "di 1 dec 2026 17:00", "di 1 dec 2026 09:00", CallbackState.DONE),
]  # fmt: skip

SUBJECTS = {"r0": "Lekkage badkamer", "r2": "Huur & <betaling>", "r7": "Verwarming doet het niet"}
