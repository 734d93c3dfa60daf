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

# The names below are imported on first use (PEP 562), so that importing one submodule
# (tracking needs `form.quotes` and `form.signature`) does not load phonenumbers and holidays;
# `run` starts faster (issue 13, "Cost per message").
import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

#: name → the module that defines it, imported the first time the name is asked for.
_LAZY = {
    "BareTime": "topcontact_mail.domain.callbacks.preference",
    "Booking": "topcontact_mail.domain.callbacks.request",
    "BusyKind": "topcontact_mail.domain.callbacks.model",
    "BusyPeriod": "topcontact_mail.domain.callbacks.model",
    "CallbackRequest": "topcontact_mail.domain.callbacks.model",
    "FormProblem": "topcontact_mail.domain.callbacks.model",
    "ParsedForm": "topcontact_mail.domain.callbacks.form",
    "PhoneNumber": "topcontact_mail.domain.callbacks.model",
    "Preference": "topcontact_mail.domain.callbacks.model",
    "Reason": "topcontact_mail.domain.callbacks.model",
    "Resolution": "topcontact_mail.domain.callbacks.model",
    "ResolutionStatus": "topcontact_mail.domain.callbacks.model",
    "Slot": "topcontact_mail.domain.callbacks.model",
    "SlotChoice": "topcontact_mail.domain.callbacks.model",
    "SlotRules": "topcontact_mail.domain.callbacks.slots",
    "StaffMember": "topcontact_mail.domain.callbacks.model",
    "WorkingHours": "topcontact_mail.domain.callbacks.model",
    "choose_slot": "topcontact_mail.domain.callbacks.slots",
    "fallback_for": "topcontact_mail.domain.callbacks.colleagues",
    "normalise_phone": "topcontact_mail.domain.callbacks.phone",
    "parse_form": "topcontact_mail.domain.callbacks.form",
    "parse_preference": "topcontact_mail.domain.callbacks.preference",
    "read_request": "topcontact_mail.domain.callbacks.request",
    "resolve_colleague": "topcontact_mail.domain.callbacks.colleagues",
    "search_window": "topcontact_mail.domain.callbacks.slots",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


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
