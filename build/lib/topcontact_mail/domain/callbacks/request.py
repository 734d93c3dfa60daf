"""From a form mail to a `CallbackRequest`: the form read, the colleague found, every problem together."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from topcontact_mail.domain.callbacks.colleagues import resolve_colleague
from topcontact_mail.domain.callbacks.form import ParsedForm, parse_form
from topcontact_mail.domain.callbacks.model import (
    CallbackRequest,
    FormProblem,
    Resolution,
    StaffMember,
    require_aware,
)


@dataclass(frozen=True)
class Booking:
    """The outcome of reading one form: a request when it can be booked, and every problem.

    `problems` holds the blocking problems (the reply asks the booker to fix
    them; nothing is booked) and the remarks (sent along with a booking).
    """

    form: ParsedForm
    resolution: Resolution | None
    request: CallbackRequest | None
    problems: tuple[FormProblem, ...]

    @property
    def ok(self) -> bool:
        return self.request is not None


def read_request(
    body: str,
    *,
    staff: Iterable[StaffMember],
    booked_by: str,
    booked_at: datetime,
    html: bool = False,
) -> Booking:
    """Read the form in `body` and find its colleague in `staff`; never raises on bad input."""
    require_aware("booked_at", booked_at)
    form = parse_form(body, html=html)
    resolution = resolve_colleague(form.colleague, staff) if form.colleague else None
    problems = form.problems
    if resolution is not None and resolution.problem is not None:
        problems = (resolution.problem, *problems)
    request = None
    if (
        not any(p.blocking for p in problems)
        and resolution is not None
        and resolution.member is not None
        and form.phone is not None
        and form.tenant_name
        and form.subject
    ):
        request = CallbackRequest(
            colleague=resolution.member,
            tenant_name=form.tenant_name,
            phone=form.phone,
            subject=form.subject,
            notes=form.notes,
            preference=form.preference,
            booked_by=booked_by,
            booked_at=booked_at,
        )
    return Booking(form=form, resolution=resolution, request=request, problems=problems)
