"""Callbacks: a colleague promised a tenant a call back; the pure core that books it in time.

The concept asks that a promised callback happens before the end of the next
workday (`callback_by`, see `BusinessCalendar.terms`), booked as a meeting
request in the colleague's calendar. This package has no I/O and reads no clock:

- `form`: `parse_form` reads the booker's mail ("Voor: ...", "Telefoon: ...");
- `phone`: `normalise_phone` checks a number and gives its display and E.164 forms;
- `preference`: `parse_preference` reads "middag", "na 14:00", "voor 11 uur";
- `colleagues`: `resolve_colleague` finds "Voor: Jan" in the staff list;
- `request`: `read_request` does the three above and builds a `CallbackRequest`;
- `slots`: `choose_slot` picks the first free slot before the deadline, or says why not;
- `texts`: every Dutch text for the booker, in one table;
- `model`: the value types.
"""

from topcontact_mail.domain.callbacks.colleagues import fallback_for, resolve_colleague
from topcontact_mail.domain.callbacks.form import ParsedForm, parse_form
from topcontact_mail.domain.callbacks.model import (
    BusyKind,
    BusyPeriod,
    CallbackRequest,
    FormProblem,
    PhoneNumber,
    Preference,
    Reason,
    Resolution,
    ResolutionStatus,
    Slot,
    SlotChoice,
    StaffMember,
    WorkingHours,
)
from topcontact_mail.domain.callbacks.phone import normalise_phone
from topcontact_mail.domain.callbacks.preference import BareTime, parse_preference
from topcontact_mail.domain.callbacks.request import Booking, read_request
from topcontact_mail.domain.callbacks.slots import SlotRules, choose_slot, search_window

__all__ = [
    "BareTime",
    "Booking",
    "BusyKind",
    "BusyPeriod",
    "CallbackRequest",
    "FormProblem",
    "ParsedForm",
    "PhoneNumber",
    "Preference",
    "Reason",
    "Resolution",
    "ResolutionStatus",
    "Slot",
    "SlotChoice",
    "SlotRules",
    "StaffMember",
    "WorkingHours",
    "choose_slot",
    "fallback_for",
    "normalise_phone",
    "parse_form",
    "parse_preference",
    "read_request",
    "resolve_colleague",
    "search_window",
]
