"""Screening: who gets an acknowledgement, decided by an ordered table of small named rules.

`screen()` runs the rules of `RULES` in order; the first that applies decides
(never acknowledge, with its reason code); when none applies the message came
from a person and is acknowledged with reason `person`. See docs/screening.md.
"""

from topcontact_mail.domain.screening.chain import RULES, screen
from topcontact_mail.domain.screening.model import (
    GLOBAL_HOURLY_CAP,
    PERSON,
    Rule,
    ScreeningHistory,
    ScreeningPolicy,
    Verdict,
)

__all__ = [
    "GLOBAL_HOURLY_CAP",
    "PERSON",
    "RULES",
    "Rule",
    "ScreeningHistory",
    "ScreeningPolicy",
    "Verdict",
    "screen",
]
