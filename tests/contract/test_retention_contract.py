"""Retention (docs/retention.md), held against every store: SQLite and PostgreSQL.

The promise: after `details_days` a message, target, callback or team mail
keeps no details about contacts, yet `report --month` gives the same figures
for its month before and after the purge; after `figures_months` the month's
rows go entirely; open work (an unsettled send, an open target, a planned
callback) and anything recorded within the screening window are never touched;
a dry run counts exactly what a purge does and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from topcontact_mail.adapters.sqlite_store import SqliteStore
from topcontact_mail.config import CalendarSettings
from topcontact_mail.domain.acknowledgement import LOOP_HEADERS
from topcontact_mail.domain.message import Acknowledgement, Address
from topcontact_mail.domain.retention import KEY_PREFIX, RetentionPolicy, message_key
from topcontact_mail.domain.tracking import Answered, AnswerMethod, TrackedTarget
from topcontact_mail.domain.tracking.model import TrackedCallback
from topcontact_mail.ports import (
    MessageRecord,
    OutgoingNotice,
    PendingNotice,
    SendResult,
    StateStore,
)
from topcontact_mail.reports.figures import month_report
from topcontact_mail.reports.render import to_json

AMS = ZoneInfo("Europe/Amsterdam")
#: The moment of the purge: details before 6 Sep 2026 go, months before 2025-11 go.
NOW = datetime(2026, 12, 5, 3, 30, tzinfo=AMS)
POLICY = RetentionPolicy(details_days=90, figures_months=13)
CUTOFFS = POLICY.cutoffs(NOW, AMS)
CALENDAR = CalendarSettings().build()
SHARED = "klantcontact@woonservice.example"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    if request.param == "postgresql":
        from topcontact_mail.adapters.postgres import PostgresStore

        pool: Any = request.getfixturevalue("pg_pool")
        schema: str = request.getfixturevalue("pg_schema")
        postgres = PostgresStore(pool, SHARED, schema=schema)
        yield postgres
        postgres.close()
        return
    sqlite = SqliteStore(tmp_path / "state.sqlite3")
    yield sqlite
    sqlite.close()


def ack(n: int) -> Acknowledgement:
    return Acknowledgement(
        recipient=Address(f"huurder{n}@example.nl", "Jan Jansen"),
        subject="Ontvangstbevestiging: lekkage",
        text_body="We hebben uw e-mail ontvangen.",
        html_body="<p>We hebben uw e-mail ontvangen.</p>",
        language="nl",
        in_reply_to=f"<m{n}@example.nl>",
        references=(f"<m{n}@example.nl>",),
        headers=LOOP_HEADERS,
    )


def received(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=AMS)


def decision(n: int, day: date, *, acknowledge: bool = True, **extra: Any) -> MessageRecord:
    terms = CALENDAR.terms(received(day))
    values: dict[str, Any] = {
        "item_id": f"item-{n}",
        "internet_message_id": f"<m{n}@example.nl>",
        "conversation_id": f"conv-{n}",
        "sender": f"huurder{n}@example.nl",
        "received": terms.received,
        "reception_day": terms.reception_day,
        "answer_by": terms.answer_by,
        "acknowledge": acknowledge,
        "reason": "person" if acknowledge else "auto_submitted",
        "detail": f"sender huurder{n}@example.nl",
        "needs_answer": acknowledge,
        "ack_state": "intent" if acknowledge else "none",
        "ack_ref": f"ref{n}" if acknowledge else None,
        "ack_message_id": f"<ref{n}@woonservice.example>" if acknowledge else None,
    }
    values.update(extra)
    return MessageRecord(**values)


def target_of(record: MessageRecord, **extra: Any) -> TrackedTarget:
    return replace(
        TrackedTarget(
            item_id=record.item_id,
            received=record.received,
            reception_day=record.reception_day,
            answer_by=record.answer_by,
            conversation_id=record.conversation_id,
            sender=record.sender,
        ),
        **extra,
    )


def acknowledged(
    store: StateStore,
    n: int,
    day: date,
    *,
    answered_after: timedelta | None = timedelta(days=2),
    sent: bool = True,
    **extra: Any,
) -> MessageRecord:
    """A person's message, acknowledged (sent the next morning), with its target, answered
    `answered_after` its reception (None: still open)."""
    rec = decision(n, day, **extra)
    at = rec.received + timedelta(minutes=1)
    store.record(rec, at, ack(n), target_of(rec))
    store.set_marked([rec.item_id])
    if sent:
        store.attempting([rec.item_id], at)
        store.settle([SendResult(rec.item_id, "sent")], rec.received + timedelta(hours=20))
    if answered_after is not None:
        when = rec.received + answered_after
        store.record_answers(
            {rec.item_id: Answered(when, "reply_sent", AnswerMethod.REPLY, "")}, when
        )
    return rec


def skipped(store: StateStore, n: int, day: date, **extra: Any) -> MessageRecord:
    rec = decision(n, day, acknowledge=False, marked=True, **extra)
    store.record(rec, rec.received + timedelta(minutes=1))
    return rec


def callbacks_of(store: StateStore) -> list[TrackedCallback]:
    from topcontact_mail.services.callbacks import tracked_callbacks

    return tracked_callbacks(store)  # type: ignore[arg-type]


def report(store: StateStore, month: str) -> str:
    return to_json(
        month_report(store.records(), store.targets(), callbacks_of(store), month, CALENDAR, NOW)
    )


def fill(store: StateStore) -> None:
    """Thirteen-odd months of work: old months with details, a month past the figures, recent
    work, and open work among the old."""
    # 2025-10: past the figures (before 2025-11-01).
    acknowledged(store, 1, date(2025, 10, 6))
    skipped(store, 2, date(2025, 10, 31), reason="list_mail")
    # 2025-11: the oldest month kept; details gone long ago.
    acknowledged(store, 3, date(2025, 11, 3))
    acknowledged(store, 4, date(2025, 11, 28), answered_after=timedelta(days=12))  # late
    # July 2026: older than 90 days, figures kept.
    acknowledged(store, 10, date(2026, 7, 1))
    acknowledged(store, 11, date(2026, 7, 2), answered_after=timedelta(days=10))  # late
    skipped(store, 12, date(2026, 7, 3), reason="out_of_office")
    skipped(store, 13, date(2026, 7, 6), reason="bounce")
    # The same message seen again (staff moved it back): counted once.
    skipped(
        store,
        14,
        date(2026, 7, 8),
        reason="already_handled",
        internet_message_id="<m10@example.nl>",
    )
    # A newer message of tenant 10 in the same conversation joins the open target.
    first = decision(15, date(2026, 7, 1), conversation_id="conv-10")
    store.record(
        replace(first, received=first.received + timedelta(hours=2)),
        first.received + timedelta(hours=2),
        ack(15),
        target_of(first, joined_to="item-10", received=first.received + timedelta(hours=2)),
    )
    store.set_marked(["item-15"])
    store.attempting(["item-15"], NOW - timedelta(days=150))
    store.settle([SendResult("item-15", "failed", "refused by huurder15@example.nl")], NOW)
    store.record_answers(
        {"item-15": Answered(received(date(2026, 7, 3)), "reply_sent", AnswerMethod.REPLY, "")},
        NOW - timedelta(days=150),
    )
    # Open work among the old: a target never answered, an acknowledgement never settled.
    acknowledged(store, 20, date(2026, 7, 9), answered_after=None)
    acknowledged(store, 21, date(2026, 7, 10), answered_after=timedelta(days=1), sent=False)
    # Recent work (within 90 days): untouched.
    acknowledged(store, 30, date(2026, 11, 2))
    skipped(store, 31, date(2026, 11, 3), reason="bounce")
    # Team mails: an old one settled, the last overview, a recent one.
    for ref, day, kind in (
        ("n-old", date(2026, 7, 6), "escalation"),
        ("n-overview", date(2026, 7, 7), "overview"),
        ("n-new", date(2026, 11, 30), "escalation"),
    ):
        mail = OutgoingNotice(ref, (Address("teamleider@woonservice.example"),), "Te laat", "x")
        store.queue_notice(PendingNotice(mail, kind, day), [], received(day, 9))  # type: ignore[arg-type]
        store.settle_notices([SendResult(ref, "sent")], received(day, 9))


def test_a_month_older_than_the_details_gives_the_same_report_after_the_purge(
    store: StateStore,
) -> None:
    fill(store)
    before = {m: report(store, m) for m in ("2025-11", "2026-07", "2026-11")}

    counts = store.purge(CUTOFFS)

    assert counts.messages_details > 0
    after = {m: report(store, m) for m in ("2025-11", "2026-07", "2026-11")}
    assert after == before
    july = month_report(store.records(), store.targets(), [], "2026-07", CALENDAR, NOW).totals
    # 8 messages, one seen again: 7 received, 2 skipped; 4 targets of their own (15 joined 10).
    assert (july.received, july.targets, july.skipped) == (7, 4, 2)


def test_after_the_details_days_nothing_about_the_contact_stays(store: StateStore) -> None:
    fill(store)

    store.purge(CUTOFFS)

    for n in (3, 4, 10, 11, 12, 13, 15):
        kept = store.get(f"item-{n}")
        assert kept is not None
        assert (kept.sender, kept.conversation_id, kept.ack_message_id) == (None, None, None)
        assert (kept.detail, kept.last_error) == ("", "")
        assert kept.internet_message_id == message_key(f"<m{n}@example.nl>")
        assert kept.internet_message_id.startswith(KEY_PREFIX)
    # The seen-again record keeps the key of the message it repeats.
    assert store.get("item-14").internet_message_id == message_key("<m10@example.nl>")  # type: ignore[union-attr]
    for t in store.targets():
        if t.received < CUTOFFS.details_before and t.item_id not in ("item-20", "item-21"):
            assert (t.sender, t.conversation_id) == (None, None), t.item_id
    # What the figures need stays.
    ten = store.get("item-10")
    assert ten is not None
    assert (ten.reason, ten.ack_state, ten.ack_ref) == ("person", "sent", "ref10")


def test_open_work_and_recent_work_keep_everything(store: StateStore) -> None:
    fill(store)
    wanted = {n: store.get(f"item-{n}") for n in (20, 21, 30, 31)}

    store.purge(CUTOFFS)

    assert {n: store.get(f"item-{n}") for n in wanted} == wanted
    (open_target,) = list(store.targets(open_only=True))
    assert (open_target.item_id, open_target.sender) == ("item-20", "huurder20@example.nl")
    assert [p.item_id for p in store.pending_sends(10, attempted=False)] == ["item-21"]
    assert [o.item_id for o in store.to_observe()] == ["item-20"]


def test_months_past_the_figures_go_entirely(store: StateStore) -> None:
    fill(store)

    counts = store.purge(CUTOFFS)

    assert (counts.messages_deleted, counts.targets_deleted) == (2, 1)
    assert store.get("item-1") is None
    assert store.get("item-2") is None
    assert all(t.item_id != "item-1" for t in store.targets())
    october = month_report(store.records(), store.targets(), [], "2025-10", CALENDAR, NOW)
    assert october.totals.received == 0
    assert store.get("item-3") is not None  # 2025-11 is the oldest month kept
    assert CUTOFFS.first_month_kept == "2025-11"


def test_team_mails_go_after_the_details_days_but_the_last_overview_stays(
    store: StateStore,
) -> None:
    fill(store)

    counts = store.purge(CUTOFFS)

    assert counts.notices_deleted == 1
    assert store.last_overview_day() == date(2026, 7, 7)


def test_a_dry_run_counts_what_a_purge_does_and_changes_nothing(store: StateStore) -> None:
    fill(store)
    records, targets = store.records(), store.targets()

    counted = store.purge(CUTOFFS, dry_run=True)

    assert (store.records(), store.targets()) == (records, targets)
    done = store.purge(CUTOFFS)
    assert replace(done, space_reclaimed=0) == counted
    assert counted.total > 0
    again = store.purge(CUTOFFS)
    assert again.total == 0  # a second purge finds nothing more


def test_nothing_recorded_within_the_screening_window_is_touched(store: StateStore) -> None:
    # A message received long ago but recorded an hour ago (a resynchronised inbox): the
    # per-sender and hourly caps count it today.
    rec = decision(40, date(2026, 6, 1), acknowledge=False, marked=True, reason="already_handled")
    store.record(rec, NOW - timedelta(hours=1))

    counts = store.purge(CUTOFFS)

    assert counts.total == 0
    assert store.get("item-40") == rec


def test_a_message_seen_again_goes_with_the_first_decision(store: StateStore) -> None:
    # First seen at the end of October 2025 (past the figures), seen again in November 2025.
    acknowledged(store, 50, date(2025, 10, 30))
    skipped(
        store,
        51,
        date(2025, 11, 4),
        reason="already_handled",
        internet_message_id="<m50@example.nl>",
    )
    skipped(store, 52, date(2025, 11, 5), reason="bounce")
    before = report(store, "2025-11")

    store.purge(CUTOFFS)

    assert report(store, "2025-11") == before
    assert store.get("item-51") is None
    assert store.get("item-52") is not None


def test_the_policy_counts_whole_months_and_exact_days() -> None:
    assert CUTOFFS.details_before == NOW - timedelta(days=90)
    assert CUTOFFS.figures_before == datetime(2025, 11, 1, tzinfo=AMS)
    january = RetentionPolicy(30, 1).cutoffs(datetime(2027, 1, 15, 12, tzinfo=AMS), AMS)
    assert january.figures_before == datetime(2026, 12, 1, tzinfo=AMS)
    with pytest.raises(ValueError, match="positive"):
        RetentionPolicy(0, 13)


# -- callbacks (the PostgreSQL store keeps none yet: skipped there) ---------------------------


def book(store: StateStore, n: int, day: date, state: str, *, booking: str | None = None) -> None:
    from topcontact_mail.ports.calendar import (
        CallbackRecord,
        MeetingRecord,
        OutgoingMeeting,
        ReplyRecord,
    )

    booked = received(day, 9)
    slot = booked + timedelta(hours=3)
    callback = CallbackRecord(
        id=f"cb-{n}",
        source="mail" if booking else "cli",
        booked_by="jan.devries@woonservice.example",
        booked_at=booked,
        state="planned",
        callback_by=CALENDAR.terms(booked).callback_by,
        booking_item_id=booking,
        booking_message_id=f"<booking{n}@woonservice.example>" if booking else None,
        details={"tenant_name": f"mevr. Jansen {n}", "phone": "06 12345678", "subject": "lekkage"},
    )
    outgoing = OutgoingMeeting(
        ref=f"mt-{n}",
        attendee=Address("jan.devries@woonservice.example", "Jan de Vries"),
        subject=f"Terugbellen: mevr. Jansen {n} — 06 12345678",
        text_body="Bel mevr. Jansen terug over lekkage",
        html_body="<p>Bel mevr. Jansen terug</p>",
        start=slot,
        end=slot + timedelta(minutes=15),
        time_zone="Europe/Amsterdam",
    )
    meeting = MeetingRecord(
        ref=f"mt-{n}",
        callback_id=callback.id,
        colleague="jan.devries@woonservice.example",
        colleague_name="Jan de Vries",
        slot_start=slot,
        slot_end=slot + timedelta(minutes=15),
        at_risk=False,
        state="intent",
        outgoing=outgoing,
    )
    reply = ReplyRecord(
        ref=f"rp-{n}",
        callback_id=callback.id,
        kind="booked",
        message_id=f"<rp-{n}@woonservice.example>",
        state="intent",
        original_item_id=booking,
        mail=ack(n),
        waits_for=f"mt-{n}",
    )
    cb: Any = store
    cb.record_callback(callback, booked, meeting, [reply])
    cb.settle_sends([SendResult(f"mt-{n}", "sent"), SendResult(f"rp-{n}", "sent")], booked)
    if state != "planned":
        cb.set_callback_state(callback.id, state, slot + timedelta(hours=1))


def test_a_closed_callback_keeps_its_figures_and_loses_the_tenant(store: StateStore) -> None:
    book(store, 1, date(2026, 7, 6), "done")
    book(store, 2, date(2026, 7, 7), "missed")
    book(store, 3, date(2026, 7, 8), "planned")  # still open: kept whole
    book(store, 4, date(2026, 11, 30), "done")  # recent
    before = report(store, "2026-07")
    cb: Any = store

    counts = store.purge(CUTOFFS)

    assert report(store, "2026-07") == before
    assert (counts.callbacks_details, counts.meetings_details, counts.replies_deleted) == (2, 2, 2)
    for n in (1, 2):
        closed = cb.get_callback(f"cb-{n}")
        assert (dict(closed.details), closed.booked_by, closed.booking_message_id) == ({}, "", None)
        (meeting,) = cb.meetings(f"cb-{n}")
        assert (meeting.outgoing, meeting.colleague, meeting.colleague_name) == (None, "", "")
        assert cb.replies(f"cb-{n}") == []
    assert cb.get_callback("cb-3").details["tenant_name"] == "mevr. Jansen 3"
    assert cb.get_callback("cb-4").details["tenant_name"] == "mevr. Jansen 4"


def test_a_callback_goes_with_its_month_but_never_before_its_booking_mail(
    store: StateStore,
) -> None:
    # A booking mail's decision kept (open work: its mark) keeps its callback too: without
    # it the mail would be booked anew.
    book(store, 5, date(2025, 10, 6), "done")
    booking = decision(60, date(2025, 10, 7), acknowledge=False, reason="callback_request")
    store.record(booking, booking.received)  # marked = 0: its mark is still to be set
    book(store, 6, date(2025, 10, 7), "done", booking="item-60")
    cb: Any = store

    counts = store.purge(CUTOFFS)

    assert counts.callbacks_deleted == 1
    assert cb.get_callback("cb-5") is None
    assert cb.meetings("cb-5") == []
    assert cb.get_callback("cb-6") is not None
    assert store.get("item-60") is not None


def test_sqlite_overwrites_what_it_purges(tmp_path: Path) -> None:
    """The purged addresses are not left behind in the file's free pages or its log."""
    path = tmp_path / "state.sqlite3"
    sqlite = SqliteStore(path)
    for n in range(100, 400):
        acknowledged(sqlite, n, date(2026, 7, 1) + timedelta(days=n % 20))
    acknowledged(sqlite, 999, date(2026, 11, 20))

    counts = sqlite.purge(CUTOFFS)
    sqlite.close()

    assert counts.messages_details == 300
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("state.sqlite3"))
    assert b"huurder999@example.nl" in raw
    assert b"huurder150@example.nl" not in raw
    assert b"<m150@example.nl>" not in raw
