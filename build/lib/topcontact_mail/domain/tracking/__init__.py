"""Keeping the promise: the pure core that tracks every answer target until it is met.

No I/O and no clock: the adapters supply `Observation`s, the service supplies
`now`, the calendar and what it recorded. The parts:

- `answered`: when is a message answered (`RULES`, `answered`, `evidence`);
- `conversation`: a newer message of the same tenant keeps the open target (`choose_target`);
- `thanks`: a reply that only thanks is no new question (`classify_reply`, `QUESTION_RULES`);
- `schedule`: on time, warning, overdue; warnings, escalations and the overview, when;
- `overview`: what the daily overview holds (`daily_overview`);
- `model`: the value types.

See docs/tracking.md.
"""

from topcontact_mail.domain.tracking.answered import RULES, AnswerRule, answered, evidence
from topcontact_mail.domain.tracking.conversation import ChoiceKind, TargetChoice, choose_target
from topcontact_mail.domain.tracking.model import (
    Answered,
    AnsweredPolicy,
    AnswerMethod,
    CallbackState,
    Evidence,
    Observation,
    SentKind,
    SentMessage,
    TrackedCallback,
    TrackedTarget,
)
from topcontact_mail.domain.tracking.overview import DailyOverview, daily_overview
from topcontact_mail.domain.tracking.schedule import (
    NextStep,
    SchedulePolicy,
    TargetState,
    escalations_due,
    next_escalation_time,
    next_overview_time,
    next_step,
    next_wakeup,
    overview_due,
    state_at,
    warning_time,
    warnings_due,
)
from topcontact_mail.domain.tracking.thanks import (
    QUESTION_RULES,
    ReplyClassification,
    ReplyKind,
    classify_reply,
)

__all__ = [
    "QUESTION_RULES",
    "RULES",
    "AnswerMethod",
    "AnswerRule",
    "Answered",
    "AnsweredPolicy",
    "CallbackState",
    "ChoiceKind",
    "DailyOverview",
    "Evidence",
    "NextStep",
    "Observation",
    "ReplyClassification",
    "ReplyKind",
    "SchedulePolicy",
    "SentKind",
    "SentMessage",
    "TargetChoice",
    "TargetState",
    "TrackedCallback",
    "TrackedTarget",
    "answered",
    "choose_target",
    "classify_reply",
    "daily_overview",
    "escalations_due",
    "evidence",
    "next_escalation_time",
    "next_overview_time",
    "next_step",
    "next_wakeup",
    "overview_due",
    "state_at",
    "warning_time",
    "warnings_due",
]
