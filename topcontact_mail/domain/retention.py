"""Retention (AVG / GDPR): how long the details about contacts and the report's figures are kept.

Pure: the moments before which a row loses its details or goes entirely, and
the one-way key that stands in for a Message-ID once its details are gone
(docs/retention.md has the table of what is kept how long).

- *Details* are what says who wrote or who is meant: addresses, names,
  Message-IDs and conversation ids, error texts, callback tenant names,
  phone numbers and texts. They go `details_days` after the message was
  received (or the callback booked, or the team mail made).
- *Figures* are what `report --month` counts: per message the reception day,
  the verdict and reason, whether and when it was acknowledged, the answer
  term, when and how it was answered; per callback its times and state. They
  go, row and all, with the whole month once it is more than `figures_months`
  months before the current one, so a month is either complete or gone.
- Nothing recorded in the last `SCREENING_WINDOW` is touched: the per-sender
  and hourly caps count what was acknowledged today and in the last hour.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

#: What the screening limits look back on (today, the last hour), with a margin for a
#: 25-hour day: rows recorded this recently are never purged, whatever the configuration.
SCREENING_WINDOW = timedelta(days=2)

#: The prefix of a Message-ID's one-way key (`message_key`).
KEY_PREFIX = "sha256:"


def message_key(message_id: str | None) -> str:
    """The key a message is counted once by: a one-way digest of its Message-ID ("" without one).

    A record whose details were purged keeps this key instead of the Message-ID,
    so that the same message seen again later is still not counted twice; the
    key tells nothing about the sender (only someone holding the message itself
    can learn that it was received). A key passes through unchanged.
    """
    value = (message_id or "").strip()
    if not value:
        return ""
    if value.startswith(KEY_PREFIX):
        return value
    digest = hashlib.sha256(value.lower().encode("utf-8", "surrogatepass")).hexdigest()
    return KEY_PREFIX + digest[:40]


@dataclass(frozen=True)
class RetentionPolicy:
    """`[retention]`: details kept `details_days` days, figures `figures_months` months."""

    details_days: int = 90
    figures_months: int = 13

    def __post_init__(self) -> None:
        if self.details_days < 1 or self.figures_months < 1:
            raise ValueError("details_days and figures_months must be positive")

    def cutoffs(self, now: datetime, zone: ZoneInfo) -> Cutoffs:
        """The moments before which details and figures go, seen at `now`."""
        local = now.astimezone(zone)
        months = local.year * 12 + (local.month - 1) - self.figures_months
        first = date(months // 12, months % 12 + 1, 1)
        return Cutoffs(
            now=now,
            details_before=now - timedelta(days=self.details_days),
            figures_before=datetime.combine(first, time(0), tzinfo=zone),
            recorded_before=now - SCREENING_WINDOW,
        )


@dataclass(frozen=True)
class Cutoffs:
    """What a purge at `now` removes: details of rows received before `details_before`, and
    rows received before `figures_before` (the first moment of a month) entirely; never a
    row recorded at or after `recorded_before`, nor one that open work still needs."""

    now: datetime
    details_before: datetime
    figures_before: datetime
    recorded_before: datetime

    @property
    def first_month_kept(self) -> str:
        """The oldest month whose figures are kept, "YYYY-MM"."""
        return f"{self.figures_before.year:04d}-{self.figures_before.month:02d}"


@dataclass(frozen=True)
class PurgeCounts:
    """How many rows of each kind lost their details (`*_details`) or went (`*_deleted`)."""

    messages_details: int = 0
    targets_details: int = 0
    callbacks_details: int = 0
    meetings_details: int = 0
    replies_deleted: int = 0
    notices_deleted: int = 0
    messages_deleted: int = 0
    targets_deleted: int = 0
    callbacks_deleted: int = 0
    meetings_deleted: int = 0
    seen_deleted: int = 0
    #: Bytes the state file gave back afterwards (SQLite), not a count of rows.
    space_reclaimed: int = 0

    @property
    def total(self) -> int:
        """Rows that lost their details or went, of every kind."""
        return sum(getattr(self, f.name) for f in fields(self) if f.name != "space_reclaimed")

    def by_kind(self) -> dict[str, dict[str, int]]:
        """{kind: {"details": n, "deleted": n}} for every kind of row, in a fixed order."""
        kinds = ("messages", "targets", "callbacks", "meetings", "replies", "notices", "seen")
        return {
            kind: {
                "details": getattr(self, f"{kind}_details", 0),
                "deleted": getattr(self, f"{kind}_deleted", 0),
            }
            for kind in kinds
        }


#: Reasons of a decision about a message already decided on (`reports.figures.SEEN_AGAIN`): such a
#: record is not counted while the first decision about the same message is kept.
SEEN_AGAIN = frozenset({"already_handled", "duplicate_message"})


@dataclass(frozen=True)
class Row:
    """What a purge needs to know of one row of the state, whatever its kind."""

    key: str
    #: The moment its age counts from: a message's reception, a callback's booking, a team
    #: mail's making.
    moment: datetime
    #: When the row was written (the screening window counts from here).
    recorded: datetime
    #: Open work still needs it whole (an unsettled send, an open target, a planned callback).
    open: bool
    #: It still holds details about a contact (so removing them is work to count).
    has_details: bool = True
    #: For a message: its key (`message_key`) and whether it is a decision about a message
    #: seen again.
    message_key: str = ""
    seen_again: bool = False


@dataclass(frozen=True)
class Plan:
    """The rows to strip of their details and the rows to delete (keys)."""

    details: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()


def plan(rows: list[Row], cutoffs: Cutoffs) -> Plan:
    """Which rows lose their details and which go, by their age; open work and anything
    recorded within the screening window stay as they are."""
    details: list[str] = []
    delete: list[str] = []
    for row in rows:
        if row.open or row.recorded >= cutoffs.recorded_before:
            continue
        if row.moment < cutoffs.figures_before:
            delete.append(row.key)
        elif row.moment < cutoffs.details_before and row.has_details:
            details.append(row.key)
    return Plan(tuple(details), tuple(delete))


def plan_messages(rows: list[Row], cutoffs: Cutoffs) -> Plan:
    """`plan` for message records, keeping every kept month's count of messages the same.

    A message seen again (already handled, a duplicate) is not counted while the
    first decision about it is kept; so when that first decision goes, its later
    sightings go with it (they were never counted, and would be once alone).
    """
    first = plan(rows, cutoffs)
    going = set(first.delete)
    gone_keys = {
        r.message_key for r in rows if r.key in going and r.message_key and not r.seen_again
    }
    also = [
        r.key
        for r in rows
        if r.key not in going
        and r.seen_again
        and not r.open
        and r.message_key in gone_keys
        and r.recorded < cutoffs.recorded_before
    ]
    going.update(also)
    return Plan(
        tuple(k for k in first.details if k not in going),
        (*first.delete, *also),
    )
