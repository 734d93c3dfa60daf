"""Planning one callback: who calls back, when, and the texts of the meeting and the replies.

The domain reads the form and chooses the slot; this module asks the ports what
the domain needs: the directory for a colleague the staff list does not know,
the colleagues' free/busy and working hours, and the templates. Used by the
callback service for bookings by mail and on the command line, and for every
rebooking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time
from typing import Any

from topcontact_mail.domain.calendar import BusinessCalendar
from topcontact_mail.domain.callbacks import (
    Booking,
    BusyKind,
    BusyPeriod,
    CallbackRequest,
    FormProblem,
    PhoneNumber,
    Preference,
    Resolution,
    ResolutionStatus,
    SlotChoice,
    SlotRules,
    StaffMember,
    choose_slot,
    fallback_for,
    normalise_phone,
    parse_preference,
    read_request,
    resolve_colleague,
    search_window,
)
from topcontact_mail.domain.callbacks import texts as domain_texts
from topcontact_mail.domain.callbacks.form import ParsedForm
from topcontact_mail.domain.callbacks.preference import BareTime
from topcontact_mail.domain.callbacks.words import natural_name
from topcontact_mail.domain.message import Address
from topcontact_mail.logs import get_logger
from topcontact_mail.ports.calendar import (
    Availability,
    Calendars,
    CallbackTexts,
    Directory,
    MailBody,
    OutgoingMeeting,
    RenderedMail,
)

#: The problem code when a colleague's calendar cannot be read (no rights, no mailbox).
CALENDAR_UNREADABLE = "calendar_unreadable"


@dataclass(frozen=True)
class PlanOptions:
    category: str = "Terugbelverzoek"
    reminder_minutes: int = 15
    rules: SlotRules = field(default_factory=SlotRules)
    done_category: str = "Teruggebeld"
    use_directory: bool = True


@dataclass(frozen=True)
class Plan:
    """Who calls back and when: the choice for `member`, and for the colleague asked first."""

    member: StaffMember
    choice: SlotChoice
    #: The choice for the colleague the booker asked for, when the fallback was taken instead.
    asked: SlotChoice | None = None
    #: The server's reason when a colleague's free/busy could not be read.
    unreadable: str = ""

    @property
    def fallback_used(self) -> bool:
        return self.asked is not None


# -- the request's details, as the store keeps them -------------------------------------------


def details_of(request: CallbackRequest) -> dict[str, Any]:
    """What the service keeps of a request to book, rebook and write about it (docs/callbacks.md)."""
    preference = request.preference
    return {
        "tenant_name": request.tenant_name,
        "phone_raw": request.phone.raw,
        "phone_e164": request.phone.e164,
        "phone_display": request.phone.display,
        "phone_region": request.phone.region,
        "phone_kind": request.phone.kind,
        "subject": request.subject,
        "notes": request.notes,
        "preference_text": preference.text if preference else "",
        "not_before": preference.not_before.isoformat()
        if preference and preference.not_before
        else None,
        "not_after": preference.not_after.isoformat()
        if preference and preference.not_after
        else None,
        "colleague": request.colleague.address,
        "colleague_name": request.colleague.name,
    }


def request_of(
    details: Mapping[str, Any], staff: Sequence[StaffMember], booked_by: str, booked_at: datetime
) -> CallbackRequest:
    """The request back from its stored details (the colleague from the staff list when there)."""
    address = str(details["colleague"])
    member = next(
        (m for m in staff if m.address.casefold() == address.casefold()),
        StaffMember(str(details.get("colleague_name") or address), address),
    )
    preference = None
    if details.get("preference_text"):
        preference = Preference(
            text=str(details["preference_text"]),
            not_before=time.fromisoformat(details["not_before"])
            if details.get("not_before")
            else None,
            not_after=time.fromisoformat(details["not_after"])
            if details.get("not_after")
            else None,
        )
    return CallbackRequest(
        colleague=member,
        tenant_name=str(details["tenant_name"]),
        phone=PhoneNumber(
            raw=str(details["phone_raw"]),
            e164=str(details["phone_e164"]),
            display=str(details["phone_display"]),
            region=details.get("phone_region"),
            kind=str(details.get("phone_kind") or "unknown"),
        ),
        subject=str(details["subject"]),
        notes=str(details.get("notes") or ""),
        preference=preference,
        booked_by=booked_by,
        booked_at=booked_at,
    )


# -- the planner --------------------------------------------------------------------------------


@dataclass
class Planner:
    """Reads requests, chooses slots and writes the texts of one organisation's callbacks."""

    calendars: Calendars
    directory: Directory | None
    texts: CallbackTexts
    calendar: BusinessCalendar
    staff: tuple[StaffMember, ...]
    options: PlanOptions = field(default_factory=PlanOptions)

    def __post_init__(self) -> None:
        self.log = get_logger("callbacks")

    # -- who ---------------------------------------------------------------------------------

    def read_mail(self, body: MailBody | None, booked_by: str, booked_at: datetime) -> Booking:
        """The booking in a booking mail; a colleague unknown to the staff list is looked up."""
        content, html = (body.content, body.html) if body is not None else ("", False)
        booking = read_request(
            content, staff=self.staff, booked_by=booked_by, booked_at=booked_at, html=html
        )
        resolution = booking.resolution
        if resolution is None or resolution.status is not ResolutionStatus.UNKNOWN:
            return booking
        found = self._from_directory(resolution)
        if found is None:
            return booking
        if isinstance(found, StaffMember):
            return read_request(
                content,
                staff=(*self.staff, found),
                booked_by=booked_by,
                booked_at=booked_at,
                html=html,
            )
        problems = tuple(p for p in booking.problems if p.field != "colleague")
        return replace(booking, problems=(found, *problems))

    def read_fields(
        self,
        *,
        colleague: str,
        tenant_name: str,
        phone: str,
        subject: str,
        notes: str,
        preference: str,
        booked_by: str,
        booked_at: datetime,
    ) -> Booking:
        """A booking from the command line's options, checked as a form's fields are."""
        problems: list[FormProblem] = []
        resolution = resolve_colleague(colleague, self.staff)
        if resolution.status is ResolutionStatus.UNKNOWN and colleague.strip():
            found = self._from_directory(resolution)
            if isinstance(found, StaffMember):
                resolution = resolve_colleague(colleague, (*self.staff, found))
            elif found is not None:
                resolution = replace(resolution, problem=found)
        if resolution.problem is not None:
            problems.append(resolution.problem)
        if not tenant_name.strip():
            problems.append(domain_texts.problem(domain_texts.MISSING_NAME, "tenant_name"))
        number = normalise_phone(phone) if phone.strip() else None
        if number is None:
            problems.append(domain_texts.problem(domain_texts.MISSING_PHONE, "phone"))
        elif isinstance(number, FormProblem):
            problems.append(number)
        if not subject.strip():
            problems.append(domain_texts.problem(domain_texts.MISSING_SUBJECT, "subject"))
        wish = parse_preference(preference, bare=BareTime.FROM) if preference.strip() else None
        if isinstance(wish, FormProblem):
            problems.append(wish)
        form = ParsedForm(
            colleague=colleague or None,
            tenant_name=tenant_name or None,
            phone=number if isinstance(number, PhoneNumber) else None,
            phone_text=phone or None,
            subject=subject or None,
            notes=notes,
            preference=wish if isinstance(wish, Preference) else None,
            preference_text=preference or None,
            problems=tuple(problems),
        )
        request = None
        if not problems and resolution.member is not None and isinstance(number, PhoneNumber):
            request = CallbackRequest(
                colleague=resolution.member,
                tenant_name=" ".join(tenant_name.split()),
                phone=number,
                subject=" ".join(subject.split()),
                notes=notes.strip(),
                preference=wish if isinstance(wish, Preference) else None,
                booked_by=booked_by,
                booked_at=booked_at,
            )
        return Booking(form=form, resolution=resolution, request=request, problems=tuple(problems))

    def _from_directory(self, resolution: Resolution) -> StaffMember | FormProblem | None:
        """One person the directory knows by this name, a question when several, else None."""
        if self.directory is None or not self.options.use_directory:
            return None
        query = " ".join(resolution.query.split())
        if not query:
            return None
        try:
            entries = self.directory.resolve_names(query)
        except Exception as exc:  # the directory is a help, never a reason to fail a booking
            self.log.warning("directory lookup failed", error=type(exc).__name__)
            return None
        unique = {e.address.casefold(): e for e in entries if "@" in e.address}
        if len(unique) == 1:
            entry = next(iter(unique.values()))
            # The form's words as an alias: the directory matched them, the staff rules may not.
            return StaffMember(entry.name or entry.address, entry.address, aliases=(query,))
        if len(unique) > 1:
            names = [f"{natural_name(e.name)} ({e.address})" for e in unique.values()]
            return domain_texts.problem(
                domain_texts.AMBIGUOUS_COLLEAGUE, "colleague", names=domain_texts.names(names)
            )
        return None

    # -- when --------------------------------------------------------------------------------

    def choose(
        self,
        request: CallbackRequest,
        *,
        now: datetime,
        callback_by: datetime,
        avoid: Iterable[BusyPeriod] = (),
        colleague: StaffMember | None = None,
    ) -> Plan:
        """The slot for `request` (or `colleague`): the fallback colleague when the first is on
        leave or has no time in the term and the fallback has; `avoid` adds busy periods
        (a slot already declined). Raises `CalendarUnavailable` when free/busy cannot be read now."""
        rules = self.options.rules
        member = colleague or request.colleague
        fallback = fallback_for(member, self.staff)
        start, end = search_window(self.calendar, now, callback_by, rules)
        wanted = [member.address] + ([fallback.address] if fallback else [])
        seen = self.calendars.availability(wanted, start, end)
        extra = tuple(avoid)
        first = self._choice(member, seen.get(member.address), extra, now, callback_by, request)
        if isinstance(first, str):
            return Plan(member, _nothing(member, callback_by), unreadable=first)
        if fallback is None or (first.in_time and not first.on_leave):
            return Plan(member, first)
        second = self._choice(
            fallback, seen.get(fallback.address), extra, now, callback_by, request
        )
        if isinstance(second, str):
            return Plan(member, first)
        if second.slot is not None and (second.in_time or first.slot is None):
            return Plan(fallback, second, asked=first)
        return Plan(member, first)

    def _choice(
        self,
        member: StaffMember,
        seen: Availability | None,
        avoid: Sequence[BusyPeriod],
        now: datetime,
        callback_by: datetime,
        request: CallbackRequest,
    ) -> SlotChoice | str:
        if seen is None or seen.error:
            why = seen.error if seen is not None else "no answer for this mailbox"
            self.log.error(
                "free/busy of a colleague cannot be read", colleague=member.address, error=why
            )
            return why
        if member.working_hours is None and seen.working_hours is not None:
            member = replace(member, working_hours=seen.working_hours)
        return choose_slot(
            member,
            (*seen.busy, *avoid),
            calendar=self.calendar,
            now=now,
            callback_by=callback_by,
            preference=request.preference,
            rules=self.options.rules,
        )

    # -- texts -------------------------------------------------------------------------------

    def context(
        self,
        details: Mapping[str, Any],
        *,
        callback_id: str,
        booked_by: str,
        booked_at: datetime,
        callback_by: datetime | None,
        plan: Plan | None = None,
    ) -> dict[str, Any]:
        """What every callback template gets (docs/callbacks.md lists it)."""
        tz = self.calendar.tz
        values: dict[str, Any] = {
            "id": callback_id,
            "tenant": details.get("tenant_name", ""),
            "phone": details.get("phone_display", ""),
            "phone_uri": f"tel:{details['phone_e164']}" if details.get("phone_e164") else "",
            "subject": details.get("subject", ""),
            "notes": details.get("notes", ""),
            "preference": details.get("preference_text", ""),
            "booked_by": booked_by,
            "booked_at": domain_texts.deadline_text(booked_at.astimezone(tz)),
            "callback_by": domain_texts.deadline_text(callback_by.astimezone(tz))
            if callback_by
            else "",
            "done_category": self.options.done_category,
            "colleague": "",
            "colleague_address": "",
            "asked_colleague": "",
            "slot_day": "",
            "slot_from": "",
            "slot_to": "",
            "in_time": True,
            "reasons": [],
            "problems": [],
            "why": "",
        }
        if plan is not None:
            values["colleague"] = plan.member.display_name
            values["colleague_address"] = plan.member.address
            if plan.asked is not None:
                values["asked_colleague"] = plan.asked.colleague.display_name
            reasons = list(plan.asked.reasons if plan.asked else ()) + list(plan.choice.reasons)
            values["reasons"] = list(dict.fromkeys(r.text for r in reasons))
            values["in_time"] = plan.choice.in_time
            slot = plan.choice.slot
            if slot is not None:
                start, end = slot.start.astimezone(tz), slot.end.astimezone(tz)
                values["slot_day"] = domain_texts.day_text(start.date())
                values["slot_from"] = f"{start:%H:%M}"
                values["slot_to"] = f"{end:%H:%M}"
        return values

    def render(self, kind: str, context: Mapping[str, Any]) -> RenderedMail:
        return self.texts.callback_text(kind, context)

    def meeting(
        self, ref: str, plan: Plan, context: Mapping[str, Any], time_zone: str
    ) -> OutgoingMeeting:
        """The meeting request for a plan with a slot."""
        slot = plan.choice.slot
        assert slot is not None, "a meeting needs a slot"
        rendered = self.render("meeting", context)
        return OutgoingMeeting(
            ref=ref,
            attendee=_address(plan.member),
            subject=rendered.subject,
            text_body=rendered.text,
            html_body=rendered.html,
            start=slot.start.astimezone(UTC),
            end=slot.end.astimezone(UTC),
            time_zone=time_zone,
            categories=(self.options.category,) if self.options.category else (),
            reminder_minutes=self.options.reminder_minutes,
            location=f"Telefonisch: {context.get('phone', '')}".strip(),
        )


def _address(member: StaffMember) -> Address:
    return Address(member.address, member.display_name)


def _nothing(member: StaffMember, callback_by: datetime) -> SlotChoice:
    return SlotChoice(colleague=member, callback_by=callback_by, slot=None, at_risk=True)


def declined_slot(start: datetime, end: datetime) -> BusyPeriod:
    """A slot the colleague declined, kept out of the next choice."""
    return BusyPeriod(start, end, BusyKind.BUSY)
