"""The team's tracking mails: a warning, an escalation to the team lead, the daily overview.

`*_context` turns targets and callbacks into plain template data (pure): every
moment in the calendar's zone, never UTC, and the subject and tenant cleaned to
one harmless line. `render_mail` renders `tracking_<kind>.subject.txt.j2` and
`tracking_<kind>.txt.j2` in an environment from `templating.report_environment`
(or any environment with the same filters). Variables: docs/tracking.md.

The service supplies what the mailbox knows of each message (`MessageDetails`:
subject, tenant, who has it flagged); the store keeps none of it. `TeamMails`
is the `TeamMailTexts` port the tracking service writes its mails through.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from jinja2 import Environment

from topcontact_mail.domain.acknowledgement import clean_subject
from topcontact_mail.domain.calendar import BusinessCalendar
from topcontact_mail.domain.tracking.model import TrackedCallback, TrackedTarget, utc
from topcontact_mail.domain.tracking.overview import DailyOverview
from topcontact_mail.ports.texts import MessageDetails
from topcontact_mail.reports.templating import FORMATS

__all__ = [
    "MessageDetails",
    "RenderedMail",
    "TeamMails",
    "callback_rows",
    "escalation_context",
    "message_rows",
    "overview_context",
    "render_mail",
    "warning_context",
]

MailKind = Literal["warning", "escalation", "overview"]
#: Long subjects are cut: the list must stay readable.
SUBJECT_LENGTH = 120
NAME_LENGTH = 80


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str


def _line(text: str, length: int) -> str:
    return clean_subject(text, length) if text else ""


def message_rows(
    targets: Iterable[TrackedTarget],
    details: Mapping[str, MessageDetails],
    now: datetime,
    calendar: BusinessCalendar,
) -> list[dict[str, Any]]:
    """One row per target, in order of due time: the template's `messages`."""
    today = calendar.local(now).date()
    rows = []
    for target in sorted(targets, key=lambda t: (utc(t.answer_by), utc(t.received), t.item_id)):
        info = details.get(target.item_id, MessageDetails())
        due = calendar.local(target.answer_by)
        overdue = utc(target.answer_by) <= utc(now)
        rows.append(
            {
                "item_id": target.item_id,
                "subject": _line(info.subject, SUBJECT_LENGTH),
                "tenant": _line(info.tenant, NAME_LENGTH),
                "flagged_by": _line(info.flagged_by, NAME_LENGTH),
                "link": _line(info.link, 2000),
                "received": calendar.local(target.received),
                "due": due,
                "overdue": overdue,
                "workdays_overdue": calendar.workdays_between(due.date(), today) if overdue else 0,
            }
        )
    return rows


def callback_rows(
    callbacks: Iterable[TrackedCallback], calendar: BusinessCalendar
) -> list[dict[str, Any]]:
    """One row per callback, in order of its slot: the overview's callbacks."""
    return [
        {
            "ref": c.ref,
            "slot": calendar.local(c.slot_start),
            "callback_by": calendar.local(c.callback_by),
            "colleague": _line(c.colleague, NAME_LENGTH),
            "tenant": _line(c.tenant, NAME_LENGTH),
            "state": str(c.state),
        }
        for c in sorted(callbacks, key=lambda c: (utc(c.slot_start), c.ref))
    ]


def _common(now: datetime, calendar: BusinessCalendar, team_name: str) -> dict[str, Any]:
    return {"now": calendar.local(now), "team_name": team_name, "f": FORMATS}


def warning_context(
    targets: Sequence[TrackedTarget],
    details: Mapping[str, MessageDetails],
    now: datetime,
    calendar: BusinessCalendar,
    *,
    team_name: str = "",
) -> dict[str, Any]:
    """Data for the warning: the targets in their warning period (`schedule.warnings_due`)."""
    return {
        **_common(now, calendar, team_name),
        "messages": message_rows(targets, details, now, calendar),
    }


def escalation_context(
    targets: Sequence[TrackedTarget],
    details: Mapping[str, MessageDetails],
    now: datetime,
    calendar: BusinessCalendar,
    *,
    team_name: str = "",
) -> dict[str, Any]:
    """Data for the escalation to the team lead: the overdue targets (`schedule.escalations_due`)."""
    return {
        **_common(now, calendar, team_name),
        "messages": message_rows(targets, details, now, calendar),
    }


def overview_context(
    overview: DailyOverview,
    details: Mapping[str, MessageDetails],
    now: datetime,
    calendar: BusinessCalendar,
    *,
    team_name: str = "",
    soon: Sequence[TrackedTarget] = (),
) -> dict[str, Any]:
    """Data for the daily overview (`overview.daily_overview`).

    `soon`: open targets already in their warning period but due after the next
    workday (only with `warn_workdays_before` of 2 or more), listed as such.
    """
    return {
        **_common(now, calendar, team_name),
        "day": overview.day,
        "closing": calendar.closing_time(overview.day),
        "next_workday": overview.next_workday,
        "next_is_tomorrow": (overview.next_workday - overview.day).days == 1,
        "overdue": message_rows(overview.overdue, details, now, calendar),
        "due_today": message_rows(overview.due_today, details, now, calendar),
        "due_next_workday": message_rows(overview.due_next_workday, details, now, calendar),
        "soon": message_rows(soon, details, now, calendar),
        "callbacks_today": callback_rows(overview.callbacks_today, calendar),
        "missed_callbacks": callback_rows(overview.missed_callbacks, calendar),
    }


def render_mail(env: Environment, kind: MailKind, context: Mapping[str, Any]) -> RenderedMail:
    """Subject (one line) and text of a tracking mail."""
    subject = env.get_template(f"tracking_{kind}.subject.txt.j2").render(context)
    text = env.get_template(f"tracking_{kind}.txt.j2").render(context)
    return RenderedMail(subject=" ".join(subject.split()), text=text)


@dataclass(frozen=True)
class TeamMails:
    """The `TeamMailTexts` port: the team's mails rendered in `env`, times in the calendar's zone."""

    env: Environment
    calendar: BusinessCalendar
    team_name: str = ""

    def escalation(
        self,
        targets: Sequence[TrackedTarget],
        details: Mapping[str, MessageDetails],
        now: datetime,
    ) -> tuple[str, str]:
        context = escalation_context(targets, details, now, self.calendar, team_name=self.team_name)
        mail = render_mail(self.env, "escalation", context)
        return mail.subject, mail.text

    def overview(
        self,
        overview: DailyOverview,
        details: Mapping[str, MessageDetails],
        now: datetime,
        soon: Sequence[TrackedTarget] = (),
    ) -> tuple[str, str]:
        context = overview_context(
            overview, details, now, self.calendar, team_name=self.team_name, soon=soon
        )
        mail = render_mail(self.env, "overview", context)
        return mail.subject, mail.text
