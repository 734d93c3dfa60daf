"""Callbacks over EWS: free/busy, meeting requests with a ref, their state and responses, names.

- Free/busy: GetUserAvailability in the business calendar's zone (exchangelib
  sends it as the request's TimeZone and as the TimeZoneContext header), the
  detailed view for the busy periods and the mailbox's working hours.
- Meeting requests: CreateItem of a CalendarItem in the organiser's calendar
  with SendToAllAndSaveCopy, start and end in the meeting's zone (exchangelib
  writes StartTimeZone/EndTimeZone with Exchange's Windows zone name), the
  colleague as required attendee, body (HTML, with a `tel:` link), category,
  reminder, and the ref as a MAPI property (`TopContactMailCallbackRef`, our
  own property set). One HTTP exchange per batch, as acknowledgements are sent
  (`faults.CreateItemOnce`): a create whose answer was lost is reported of
  unknown outcome, and the service looks for its ref before creating again.
- Finding: FindItem on the ref property in the organiser's Calendar and
  Deleted Items (a cancelled meeting is still found, so it is never made twice).
- Cancelling: DeleteItem to Deleted Items with SendToAllAndSaveCopy
  cancellations, as Outlook cancels a meeting.
- Responses: the meeting response messages' class, sender and associated
  calendar item; the colleague's own copy (for a done category) by its UID in
  their calendar view.
- Names: ResolveNames. Bodies: GetItem of `body` (HTML or text, as written).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from exchangelib import (
    DELEGATE,
    IMPERSONATION,
    Account,
    Attendee,
    CalendarItem,
    EWSDateTime,
    EWSTimeZone,
    ExtendedProperty,
    HTMLBody,
    Mailbox,
)
from exchangelib.errors import (
    ErrorAccessDenied,
    ErrorImpersonateUserDenied,
    ErrorItemNotFound,
    ErrorNameResolutionNoResults,
)
from exchangelib.fields import InvalidField
from exchangelib.items import SAVE_ONLY, SEND_TO_ALL_AND_SAVE_COPY

from topcontact_mail.adapters.ews.account import build_account
from topcontact_mail.adapters.ews.faults import attempt, create_once, failure_of
from topcontact_mail.adapters.ews.fields import MARKER_PROPERTY_SET
from topcontact_mail.adapters.retry import Failure, Retry, Verdict, wait
from topcontact_mail.config import Settings
from topcontact_mail.domain.calendar import Interval
from topcontact_mail.domain.callbacks import BusyKind, BusyPeriod, WorkingHours
from topcontact_mail.domain.message import Address
from topcontact_mail.logs import get_logger
from topcontact_mail.ports import MailboxUnavailable, Outcome
from topcontact_mail.ports.calendar import (
    Availability,
    CalendarUnavailable,
    DirectoryEntry,
    MailBody,
    MeetingLookup,
    MeetingOutcome,
    MeetingResponse,
    MeetingState,
    OutgoingMeeting,
    ResponseKind,
)

#: The ref of a callback's meeting on the organiser's calendar item.
CALLBACK_REF_PROPERTY = "TopContactMailCallbackRef"
#: Tries of a read (free/busy, find) before the pass gives up for now; of a busy create.
READ_ATTEMPTS = 4
CREATE_ATTEMPTS = 3
#: How many refs one FindItem looks for.
LOOKUP_CHUNK = 50
#: exchangelib's busy types → the domain's.
BUSY_KINDS = {
    "Free": BusyKind.FREE,
    "Tentative": BusyKind.TENTATIVE,
    "Busy": BusyKind.BUSY,
    "OOF": BusyKind.OOF,
    "WorkingElsewhere": BusyKind.WORKING_ELSEWHERE,
    "NoData": BusyKind.UNKNOWN,
}
#: Attendee ResponseType → the port's.
RESPONSES: dict[str, ResponseKind] = {
    "Accept": "accepted",
    "Tentative": "tentative",
    "Decline": "declined",
}
#: Meeting response message classes → the port's.
RESPONSE_CLASSES: dict[str, ResponseKind] = {
    "ipm.schedule.meeting.resp.pos": "accepted",
    "ipm.schedule.meeting.resp.tent": "tentative",
    "ipm.schedule.meeting.resp.neg": "declined",
}
_FIND_FIELDS = (
    "topcontact_callback_ref",
    "start",
    "end",
    "uid",
    "is_cancelled",
    "required_attendees",
    "categories",
)
_T = TypeVar("_T")


class CallbackRef(ExtendedProperty):  # type: ignore[misc]  # exchangelib is untyped
    """The ref of a callback's meeting request, on the organiser's calendar item."""

    property_set_id = MARKER_PROPERTY_SET
    property_name = CALLBACK_REF_PROPERTY
    property_type = "String"


def _register() -> None:
    try:
        CalendarItem.get_field_by_fieldname("topcontact_callback_ref")
    except InvalidField:
        CalendarItem.register("topcontact_callback_ref", CallbackRef)


_register()


def connect_calendars(settings: Settings) -> EwsCalendars:
    """The organiser's calendar and the colleagues' free/busy, as the configuration says."""
    ews = settings.connection.ews
    if ews is None:
        raise MailboxUnavailable("no [connection.ews] section in the configuration")
    account = build_account(settings, ews)  # no request yet (unless autodiscover)
    organiser = settings.callbacks.organiser or settings.connection.shared_mailbox
    return EwsCalendars(
        account,
        organiser=Address(organiser, f"{settings.team.name} {settings.team.organisation}".strip()),
        time_zone=settings.calendar.timezone,
        impersonation=ews.access_type == "impersonation",
        retry_wait=ews.retry_wait_seconds,
    )


class EwsCalendars:
    """The Calendars, Directory and MailBodies ports over EWS."""

    def __init__(
        self,
        account: Account,
        *,
        organiser: Address,
        time_zone: str = "Europe/Amsterdam",
        impersonation: bool = False,
        retry_wait: float = 10.0,
        sleep: Callable[[float], object] = wait,
    ) -> None:
        self.account = account
        self._organiser = organiser
        self.zone = ZoneInfo(time_zone)
        self.ews_zone = EWSTimeZone(time_zone)
        self.impersonation = impersonation
        self.log = get_logger("ews-calendar", mailbox=organiser.email)
        self.reads = Retry(first_wait=retry_wait, attempts=READ_ATTEMPTS, sleep=sleep, log=self.log)
        self.creates = Retry(
            first_wait=retry_wait, attempts=CREATE_ATTEMPTS, sleep=sleep, log=self.log
        )
        self._accounts: dict[str, Account] = {}

    @property
    def organiser(self) -> Address:
        return self._organiser

    def _account(self, mailbox: str, *, other: bool = False) -> Account:
        """An account for `mailbox` on the same connection; `other`: the other access type."""
        preferred = IMPERSONATION if self.impersonation else DELEGATE
        access = (DELEGATE if preferred == IMPERSONATION else IMPERSONATION) if other else preferred
        key = f"{mailbox.casefold()}|{access}"
        if key not in self._accounts:
            self._accounts[key] = Account(
                primary_smtp_address=mailbox,
                config=self.account.protocol.config,
                autodiscover=False,
                access_type=access,
                default_timezone=self.ews_zone,
            )
        return self._accounts[key]

    def _read(self, operation: str, call: Callable[[], _T]) -> _T:
        result = self.reads.run(operation, attempt(call, idempotent=True))
        if isinstance(result, Failure):
            raise CalendarUnavailable(f"{operation}: {result.describe()}")
        return result

    def _with_access(self, mailbox: str, call: Callable[[Account], _T]) -> _T:
        """`call` with the configured access to another mailbox, else the other kind once
        (delegate rights on the shared mailbox, impersonation on colleagues is common)."""
        try:
            return call(self._account(mailbox))
        except (ErrorAccessDenied, ErrorImpersonateUserDenied):
            return call(self._account(mailbox, other=True))

    def _local(self, moment: datetime) -> EWSDateTime:
        return EWSDateTime.from_datetime(moment.astimezone(self.zone)).astimezone(self.ews_zone)

    # -- free/busy --------------------------------------------------------------------------

    def availability(
        self, mailboxes: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, Availability]:
        views = self._read(
            "GetUserAvailability",
            lambda: list(
                self.account.protocol.get_free_busy_info(
                    accounts=[(m, "Required", False) for m in mailboxes],
                    start=self._local(start),
                    end=self._local(end),
                    merged_free_busy_interval=15,
                    requested_view="Detailed",
                )
            ),
        )
        result: dict[str, Availability] = {}
        for mailbox, view in zip(mailboxes, views, strict=True):
            if isinstance(view, Exception):
                result[mailbox] = Availability(
                    mailbox, error=f"{type(view).__name__}: {view}"[:300]
                )
                continue
            busy = tuple(
                BusyPeriod(
                    _plain(e.start), _plain(e.end), BUSY_KINDS.get(e.busy_type, BusyKind.BUSY)
                )
                for e in view.calendar_events or ()
                if e.start is not None and e.end is not None
            )
            result[mailbox] = Availability(
                mailbox,
                busy=busy,
                working_hours=self._working_hours(view, start),
            )
        return result

    def _working_hours(self, view: Any, moment: datetime) -> WorkingHours | None:
        """The mailbox's working periods, moved into the business zone if the mailbox's differs."""
        periods = view.working_hours or ()
        if not periods:
            return None
        shift = timedelta(0)
        zone = view.working_hours_timezone
        if zone is not None and zone.bias is not None:
            # EWS: UTC = local time + bias. The business zone's winter offset is its standard one.
            standard = datetime(moment.year, 1, 15, tzinfo=self.zone).utcoffset() or timedelta(0)
            shift = standard + timedelta(minutes=int(zone.bias))
        by_day: dict[int, list[Interval]] = {}
        for period in periods:
            start = _shifted(period.start, shift)
            end = _shifted(period.end, shift)
            if start is None or end is None or end <= start:
                continue
            for weekday in period.weekdays or ():
                by_day.setdefault(int(weekday), []).append(Interval(start, end))
        return WorkingHours({d: tuple(sorted(i)) for d, i in by_day.items()}) if by_day else None

    # -- meetings ---------------------------------------------------------------------------

    def create_meetings(self, batch: Sequence[OutgoingMeeting]) -> list[MeetingOutcome]:
        if not batch:
            return []
        organiser = self._account(self._organiser.email)
        items = [self._item(organiser, m) for m in batch]
        result = self.creates.run(
            "CreateItem", lambda: _create_once(organiser, organiser.calendar, items)
        )
        if isinstance(result, Failure):
            return [_failed(m.ref, result) for m in batch]
        outcomes = []
        for meeting, answer in zip(batch, result, strict=True):
            if isinstance(answer, Failure):
                outcomes.append(_failed(meeting.ref, answer))
            elif isinstance(answer, BaseException):
                failure = failure_of(answer, idempotent=False, answered=True)
                if failure is None:
                    raise answer
                outcomes.append(_failed(meeting.ref, failure))
            else:
                outcomes.append(MeetingOutcome(meeting.ref, True, item_id=str(answer.id or "")))
        return outcomes

    def _item(self, organiser: Account, meeting: OutgoingMeeting) -> CalendarItem:
        zone = EWSTimeZone(meeting.time_zone)
        return CalendarItem(
            account=organiser,
            folder=organiser.calendar,
            subject=meeting.subject,
            body=HTMLBody(meeting.html_body),
            start=EWSDateTime.from_datetime(meeting.start.astimezone(UTC)).astimezone(zone),
            end=EWSDateTime.from_datetime(meeting.end.astimezone(UTC)).astimezone(zone),
            required_attendees=[
                Attendee(
                    mailbox=Mailbox(
                        email_address=meeting.attendee.email, name=meeting.attendee.name
                    ),
                    response_type="Unknown",
                )
            ],
            location=meeting.location or None,
            categories=list(meeting.categories) or None,
            reminder_is_set=meeting.reminder_minutes > 0,
            reminder_minutes_before_start=meeting.reminder_minutes,
            legacy_free_busy_status="Busy",
            topcontact_callback_ref=meeting.ref,
        )

    def find_meetings(self, lookups: Sequence[MeetingLookup]) -> dict[str, MeetingState]:
        refs = sorted({lookup.ref for lookup in lookups})
        if not refs:
            return {}
        organiser = self._account(self._organiser.email)
        found: dict[str, MeetingState] = {}
        for folder, cancelled in ((organiser.calendar, False), (organiser.trash, True)):
            for start in range(0, len(refs), LOOKUP_CHUNK):
                chunk = refs[start : start + LOOKUP_CHUNK]
                query = folder.filter(topcontact_callback_ref__in=chunk).only(*_FIND_FIELDS)
                for item in self._read("FindItem", lambda q=query: list(q)):  # type: ignore[misc]
                    ref = getattr(item, "topcontact_callback_ref", None)
                    if isinstance(item, Exception) or ref not in chunk or ref in found:
                        continue
                    found[ref] = self._state(item, ref, cancelled)
        return found

    def _state(self, item: Any, ref: str, in_trash: bool) -> MeetingState:
        responses: dict[str, ResponseKind] = {}
        for attendee in item.required_attendees or ():
            email = getattr(attendee.mailbox, "email_address", None)
            if email:
                responses[email.casefold()] = RESPONSES.get(attendee.response_type or "", "none")
        return MeetingState(
            ref=ref,
            item_id=str(item.id),
            uid=str(item.uid or ""),
            start=_plain(item.start),
            end=_plain(item.end),
            cancelled=in_trash or bool(item.is_cancelled),
            responses=responses,
            categories=tuple(item.categories or ()),
        )

    def attendee_categories(
        self, attendee: str, uid: str, start: datetime, end: datetime
    ) -> tuple[str, ...] | None:
        def look(account: Account) -> tuple[str, ...] | None:
            view = account.calendar.view(
                start=self._local(start - timedelta(days=1)),
                end=self._local(end + timedelta(days=1)),
            ).only("uid", "categories")
            for item in view:
                if not isinstance(item, Exception) and item.uid == uid:
                    return tuple(item.categories or ())
            return None

        return self._read("FindItem", lambda: self._with_access(attendee, look))

    def read_responses(self, item_ids: Sequence[str]) -> list[MeetingResponse]:
        if not item_ids:
            return []
        organiser = self._account(self._organiser.email)
        items = self._read(
            "GetItem",
            lambda: list(
                organiser.fetch(
                    ids=[(i, None) for i in item_ids],
                    only_fields=[
                        "item_class",
                        "sender",
                        "author",
                        "associated_calendar_item_id",
                    ],
                )
            ),
        )
        responses = []
        for item_id, item in zip(item_ids, items, strict=True):
            if isinstance(item, Exception):
                continue
            kind = RESPONSE_CLASSES.get(str(item.item_class or "").casefold())
            who = getattr(item, "author", None) or getattr(item, "sender", None)
            if kind is None or who is None or not who.email_address:
                continue
            meeting = getattr(item, "associated_calendar_item_id", None)
            responses.append(
                MeetingResponse(
                    item_id,
                    uid="",
                    attendee=str(who.email_address).casefold(),
                    response=kind,
                    meeting_item_id=str(meeting.id) if meeting is not None else "",
                )
            )
        return responses

    def cancel_meeting(self, ref: str, item_id: str, comment: str) -> Outcome:
        """DeleteItem with cancellations to the attendee; the organiser's copy to Deleted Items."""
        organiser = self._account(self._organiser.email)
        state = self.find_meetings([MeetingLookup(ref, item_id or None, _EPOCH, _EPOCH)]).get(ref)
        if state is None or state.cancelled:
            return Outcome(ref, True)  # gone already, or cancelled before
        item = CalendarItem(account=organiser, id=state.item_id, changekey=None)
        result = self.reads.run(
            "DeleteItem",
            attempt(
                lambda: item.move_to_trash(send_meeting_cancellations=SEND_TO_ALL_AND_SAVE_COPY),
                idempotent=True,
            ),
        )
        if isinstance(result, Failure) and result.code != "ErrorItemNotFound":
            return Outcome(ref, False, result.describe(), result.verdict is not Verdict.PERMANENT)
        return Outcome(ref, True)

    # -- the directory and bodies -----------------------------------------------------------

    def resolve_names(self, query: str) -> list[DirectoryEntry]:
        found = self._read("ResolveNames", lambda: self.account.protocol.resolve_names([query]))
        return [
            DirectoryEntry(str(m.name or m.email_address), str(m.email_address))
            for m in found
            if not isinstance(m, (Exception, ErrorNameResolutionNoResults))
            and getattr(m, "email_address", None)
        ]

    def read_body(self, mailbox: str, item_id: str) -> MailBody | None:
        def fetch(account: Account) -> list[Any]:
            return list(account.fetch(ids=[(item_id, None)], only_fields=["body"]))

        (item,) = self._read("GetItem", lambda: self._with_access(mailbox, fetch))
        if isinstance(item, ErrorItemNotFound):
            return None
        if isinstance(item, Exception):
            raise CalendarUnavailable(f"GetItem: {item}")
        body = item.body or ""
        return MailBody(str(body), isinstance(body, HTMLBody))

    def close(self) -> None:
        self.account.protocol.close()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _plain(moment: Any) -> datetime:
    """A standard aware datetime from exchangelib's own type (it must not leak into the domain)."""
    return datetime.fromtimestamp(moment.timestamp(), UTC)


def _shifted(clock: Any, shift: timedelta) -> Any:
    """A wall-clock time moved by `shift`; None when that leaves the day."""
    if clock is None:
        return None
    minutes = clock.hour * 60 + clock.minute + int(shift.total_seconds() // 60)
    if not 0 <= minutes <= 24 * 60 - 1:
        return None
    return clock.replace(hour=minutes // 60, minute=minutes % 60)


def _create_once(account: Account, folder: Any, items: Iterable[Any]) -> list[Any] | Failure:
    """CreateItem of calendar items with invitations, in one exchange (`faults.create_once`)."""
    return create_once(
        account, folder, list(items), disposition=SAVE_ONLY, invitations=SEND_TO_ALL_AND_SAVE_COPY
    )


def _failed(ref: str, failure: Failure) -> MeetingOutcome:
    if failure.verdict is Verdict.TRANSIENT:
        return MeetingOutcome(ref, False, f"server stayed busy: {failure.describe()}", True, True)
    if failure.verdict is Verdict.UNKNOWN:
        return MeetingOutcome(ref, False, f"create interrupted: {failure.describe()}", True)
    return MeetingOutcome(ref, False, f"create refused: {failure.describe()}")
