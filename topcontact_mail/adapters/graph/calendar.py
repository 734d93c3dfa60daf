"""Callbacks over Microsoft Graph: getSchedule, events with a ref, their state and responses, users.

- Free/busy: `POST /users/{organiser}/calendar/getSchedule` for the colleagues,
  the window in the business calendar's Windows zone name, the answers read in
  UTC (`Prefer: outlook.timezone="UTC"`), working hours from `workingHours`.
- Meeting requests: `POST /users/{organiser}/calendar/events` with the
  colleague as required attendee (Graph sends the invitation), start and end as
  `dateTimeTimeZone` in the Windows zone name, HTML body with a `tel:` link,
  category, reminder, the ref as `transactionId` (Graph then never creates the
  same event twice for a repeated POST) and as a single-value extended property
  (the EWS adapter's `TopContactMailCallbackRef`), in `$batch`es of at most 20.
- Finding: the organiser's `calendarView` around the booked slots, matched on
  the ref property, the `transactionId`, or the event id already known.
- Cancelling: `DELETE` of the organiser's event (Graph sends the cancellation).
- Responses: the response messages' class (PR_MESSAGE_CLASS) and sender, and
  the event they are about (`$expand=microsoft.graph.eventMessage/event`).
- Names: `GET /users` by display name or address (needs User.Read.All; without
  it nobody is found and the staff list decides). Bodies: `$select=body`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from topcontact_mail.adapters.graph import fields
from topcontact_mail.adapters.graph.auth import MsalTokenSource, tls_verify
from topcontact_mail.adapters.graph.client import (
    AnswerLost,
    BatchStep,
    GraphClient,
    GraphResponse,
)
from topcontact_mail.adapters.graph.mailbox import api_root
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

CALLBACK_REF_PROPERTY = f"String {{{fields.PROPERTY_SET}}} Name TopContactMailCallbackRef"
PREFER_UTC = 'outlook.timezone="UTC", IdType="ImmutableId"'
#: Graph's free/busy statuses → the domain's.
BUSY_KINDS = {
    "free": BusyKind.FREE,
    "tentative": BusyKind.TENTATIVE,
    "busy": BusyKind.BUSY,
    "oof": BusyKind.OOF,
    "workingelsewhere": BusyKind.WORKING_ELSEWHERE,
    "unknown": BusyKind.UNKNOWN,
}
RESPONSES: dict[str, ResponseKind] = {
    "accepted": "accepted",
    "tentativelyaccepted": "tentative",
    "declined": "declined",
}
RESPONSE_CLASSES: dict[str, ResponseKind] = {
    "ipm.schedule.meeting.resp.pos": "accepted",
    "ipm.schedule.meeting.resp.tent": "tentative",
    "ipm.schedule.meeting.resp.neg": "declined",
}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: How far around the booked slots the calendar view looks for a meeting staff may have moved.
VIEW_BEFORE = timedelta(days=1)
VIEW_AFTER = timedelta(days=31)


def _query(values: dict[str, str]) -> str:
    return urlencode(values, quote_via=quote, safe="$,()'/")


def connect_calendars(settings: Settings) -> GraphCalendars:
    """The organiser's calendar and the colleagues' free/busy over Graph."""
    graph = settings.connection.graph
    if graph is None:
        raise MailboxUnavailable("no [connection.graph] section in the configuration")
    organiser = settings.callbacks.organiser or settings.connection.shared_mailbox
    client = GraphClient(
        api_root(graph.graph_url),
        MsalTokenSource(graph),
        verify=tls_verify(graph),
        timeout=graph.timeout_seconds,
        retry_wait=graph.retry_wait_seconds,
        mailbox=organiser,
    )
    return GraphCalendars(
        client,
        Address(organiser, f"{settings.team.name} {settings.team.organisation}".strip()),
        time_zone=settings.calendar.timezone,
    )


class GraphCalendars:
    """The Calendars, Directory and MailBodies ports over Microsoft Graph."""

    def __init__(self, client: GraphClient, organiser: Address, *, time_zone: str) -> None:
        self.client = client
        self._organiser = organiser
        self.time_zone = time_zone
        self.zone = ZoneInfo(time_zone)
        self._user = _user(organiser.email)
        self.log = get_logger("graph-calendar", mailbox=organiser.email)

    @property
    def organiser(self) -> Address:
        return self._organiser

    def _get(self, url: str, *, prefer: str = PREFER_UTC) -> GraphResponse:
        answer = self.client.request("GET", url, headers={"Prefer": prefer}, may_repeat=True)
        if answer.status in (429, 503) or answer.status >= 500 or answer.status == 0:
            raise CalendarUnavailable(f"GET failed: {answer.describe()}")
        return answer

    # -- free/busy --------------------------------------------------------------------------

    def availability(
        self, mailboxes: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, Availability]:
        body = {
            "schedules": list(mailboxes),
            "startTime": fields.date_time_time_zone(start, self.time_zone),
            "endTime": fields.date_time_time_zone(end, self.time_zone),
            "availabilityViewInterval": 15,
        }
        answer = self.client.request(
            "POST",
            f"{self._user}/calendar/getSchedule",
            body=body,
            headers={"Prefer": PREFER_UTC},
            may_repeat=True,
        )
        if not answer.ok or not isinstance(answer.body, dict):
            raise CalendarUnavailable(f"getSchedule failed: {answer.describe()}")
        by_id = {
            str(entry.get("scheduleId", "")).casefold(): entry
            for entry in answer.body.get("value") or ()
            if isinstance(entry, dict)
        }
        result = {}
        for mailbox in mailboxes:
            entry = by_id.get(mailbox.casefold())
            if entry is None:
                result[mailbox] = Availability(mailbox, error="no schedule in the answer")
            elif isinstance(entry.get("error"), dict):
                error = entry["error"]
                result[mailbox] = Availability(
                    mailbox, error=f"{error.get('responseCode', '')}: {error.get('message', '')}"
                )
            else:
                result[mailbox] = Availability(
                    mailbox,
                    busy=tuple(_busy(entry.get("scheduleItems") or ())),
                    working_hours=self._working_hours(entry.get("workingHours"), start),
                )
        return result

    def _working_hours(self, hours: Any, moment: datetime) -> WorkingHours | None:
        if not isinstance(hours, dict) or not hours.get("daysOfWeek"):
            return None
        try:
            start = time.fromisoformat(str(hours["startTime"])[:8])
            end = time.fromisoformat(str(hours["endTime"])[:8])
        except (KeyError, ValueError):
            return None
        name = (
            (hours.get("timeZone") or {}).get("name", "")
            if isinstance(hours.get("timeZone"), dict)
            else ""
        )
        shift = _shift(_zone(str(name)), self.zone, moment)
        start_m = start.hour * 60 + start.minute + shift
        end_m = end.hour * 60 + end.minute + shift
        if not 0 <= start_m < end_m <= 24 * 60 - 1:
            return None
        interval = Interval(
            start.replace(hour=start_m // 60, minute=start_m % 60),
            end.replace(hour=end_m // 60, minute=end_m % 60),
        )
        days = {
            _WEEKDAYS.index(str(d).lower()) + 1
            for d in hours["daysOfWeek"]
            if str(d).lower() in _WEEKDAYS
        }
        return WorkingHours(dict.fromkeys(sorted(days), (interval,))) if days else None

    # -- meetings ---------------------------------------------------------------------------

    def create_meetings(self, batch: Sequence[OutgoingMeeting]) -> list[MeetingOutcome]:
        outcomes: dict[str, MeetingOutcome] = {}
        queue = list(batch)
        while queue:
            chunk, queue = queue[: self.client.batch_limit], queue[self.client.batch_limit :]
            steps = [
                BatchStep(str(n), "POST", f"{self._user}/calendar/events", self._event(m))
                for n, m in enumerate(chunk)
            ]
            try:
                answers = self.client.batch(steps, may_repeat=False)
            except AnswerLost as exc:
                for m in chunk:
                    outcomes[m.ref] = MeetingOutcome(
                        m.ref, False, f"create interrupted: {exc}", True
                    )
                continue
            except MailboxUnavailable as exc:  # no token: nothing was sent
                for m in chunk:
                    outcomes[m.ref] = MeetingOutcome(
                        m.ref, False, f"not started: {exc}", True, True
                    )
                continue
            for step, m in zip(steps, chunk, strict=True):
                outcomes[m.ref] = _created(m.ref, answers[step.id])
        return [outcomes[m.ref] for m in batch]

    def _event(self, meeting: OutgoingMeeting) -> dict[str, Any]:
        return {
            "subject": meeting.subject,
            "body": {"contentType": "HTML", "content": meeting.html_body},
            "start": fields.date_time_time_zone(meeting.start, meeting.time_zone),
            "end": fields.date_time_time_zone(meeting.end, meeting.time_zone),
            "location": {"displayName": meeting.location},
            "attendees": [
                {
                    "type": "required",
                    "emailAddress": {
                        "address": meeting.attendee.email,
                        "name": meeting.attendee.name or meeting.attendee.email,
                    },
                }
            ],
            "categories": list(meeting.categories),
            "isReminderOn": meeting.reminder_minutes > 0,
            "reminderMinutesBeforeStart": meeting.reminder_minutes,
            "showAs": "busy",
            "responseRequested": True,
            "transactionId": meeting.ref,
            "singleValueExtendedProperties": [{"id": CALLBACK_REF_PROPERTY, "value": meeting.ref}],
        }

    def find_meetings(self, lookups: Sequence[MeetingLookup]) -> dict[str, MeetingState]:
        if not lookups:
            return {}
        by_ref = {lookup.ref: lookup for lookup in lookups}
        by_id = {lookup.item_id: lookup.ref for lookup in lookups if lookup.item_id}
        start = min(lookup.start for lookup in lookups) - VIEW_BEFORE
        end = max(lookup.end for lookup in lookups) + VIEW_AFTER
        found: dict[str, MeetingState] = {}
        for event in self._view(self._user, start, end, organiser=True):
            ref = fields.property_value(event, CALLBACK_REF_PROPERTY) or event.get("transactionId")
            if ref not in by_ref:
                ref = by_id.get(str(event.get("id")))
            if ref is not None and ref not in found:
                found[ref] = _state(ref, event)
        return found

    def _view(self, user: str, start: datetime, end: datetime, *, organiser: bool) -> list[Any]:
        values = {
            "startDateTime": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "endDateTime": end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "$select": "id,start,end,attendees,categories,isCancelled,iCalUId,transactionId",
            "$top": "100",
        }
        if organiser:
            values["$expand"] = (
                f"singleValueExtendedProperties($filter=id eq '{CALLBACK_REF_PROPERTY}')"
            )
        url: str | None = f"{user}/calendarView?{_query(values)}"
        events: list[Any] = []
        while url:
            answer = self._get(url)
            if not answer.ok or not isinstance(answer.body, dict):
                raise CalendarUnavailable(f"calendarView failed: {answer.describe()}")
            events.extend(e for e in answer.body.get("value") or () if isinstance(e, dict))
            link = answer.body.get("@odata.nextLink")
            url = str(link) if link and self.client.owns(str(link)) else None
        return events

    def attendee_categories(
        self, attendee: str, uid: str, start: datetime, end: datetime
    ) -> tuple[str, ...] | None:
        for event in self._view(
            _user(attendee), start - VIEW_BEFORE, end + VIEW_BEFORE, organiser=False
        ):
            if event.get("iCalUId") == uid:
                return tuple(str(c) for c in event.get("categories") or ())
        return None

    def read_responses(self, item_ids: Sequence[str]) -> list[MeetingResponse]:
        responses = []
        for item_id in item_ids:
            url = f"{self._user}/messages/{quote(item_id, safe='')}"
            answer = self._get(
                f"{url}?"
                + _query(
                    {
                        "$select": "from,sender",
                        "$expand": "singleValueExtendedProperties($filter=id eq "
                        f"'{fields.MESSAGE_CLASS_PROPERTY}')",
                    }
                )
            )
            if not answer.ok or not isinstance(answer.body, dict):
                continue  # gone since, or unreadable: the calendar itself still tells
            item_class = fields.property_value(answer.body, fields.MESSAGE_CLASS_PROPERTY) or ""
            kind = RESPONSE_CLASSES.get(item_class.casefold())
            sender = answer.body.get("from") or answer.body.get("sender") or {}
            who = (
                (sender.get("emailAddress") or {}).get("address")
                if isinstance(sender, dict)
                else None
            )
            if kind is None or not who:
                continue
            # The documented form ("Get eventMessage"): the event in this mailbox, for a
            # response the organiser's ("eventMessageResponse"); `{}` once it is gone.
            event = self._get(
                f"{url}?"
                + _query({"$select": "id", "$expand": "microsoft.graph.eventMessage/event"})
            )
            about = event.body.get("event") if event.ok and isinstance(event.body, dict) else None
            about = about if isinstance(about, dict) else {}
            responses.append(
                MeetingResponse(
                    item_id,
                    uid=str(about.get("iCalUId") or ""),
                    attendee=str(who).casefold(),
                    response=kind,
                    meeting_item_id=str(about.get("id") or ""),
                )
            )
        return responses

    def cancel_meeting(self, ref: str, item_id: str, comment: str) -> Outcome:
        """DELETE of the organiser's event: Graph sends the attendee the cancellation."""
        if not item_id:
            return Outcome(ref, True)  # never found in the calendar: nothing to cancel
        try:
            answer = self.client.request(
                "DELETE", f"{self._user}/events/{quote(item_id, safe='')}", may_repeat=True
            )
        except AnswerLost as exc:  # not raised for requests that may run twice
            return Outcome(ref, False, str(exc), transient=True)
        if answer.ok or answer.status == 404:
            return Outcome(ref, True)
        return Outcome(ref, False, f"cancel: {answer.describe()}", answer.transient)

    # -- the directory and bodies -----------------------------------------------------------

    def resolve_names(self, query: str) -> list[DirectoryEntry]:
        value = query.replace("'", "''")
        clause = " or ".join(
            f"startswith({p},'{value}')" for p in ("displayName", "mail", "givenName", "surname")
        )
        answer = self._get(
            "/users?" + _query({"$filter": clause, "$select": "displayName,mail", "$top": "10"})
        )
        if not answer.ok or not isinstance(answer.body, dict):
            self.log.warning("the directory cannot be searched", error=answer.describe())
            return []
        return [
            DirectoryEntry(str(u.get("displayName") or u["mail"]), str(u["mail"]))
            for u in answer.body.get("value") or ()
            if isinstance(u, dict) and u.get("mail")
        ]

    def read_body(self, mailbox: str, item_id: str) -> MailBody | None:
        answer = self._get(
            f"{_user(mailbox)}/messages/{quote(item_id, safe='')}?$select=body",
            prefer='IdType="ImmutableId"',
        )
        if answer.status == 404:
            return None
        if not answer.ok or not isinstance(answer.body, dict):
            raise CalendarUnavailable(f"reading a booking mail failed: {answer.describe()}")
        body = answer.body.get("body") or {}
        return MailBody(
            str(body.get("content") or ""), str(body.get("contentType", "")).lower() == "html"
        )

    def close(self) -> None:
        self.client.session.close()


def _user(address: str) -> str:
    return f"/users/{quote(address, safe='@')}"


def _busy(items: Sequence[Any]) -> list[BusyPeriod]:
    periods = []
    for item in items:
        if not isinstance(item, dict):
            continue
        start = _utc(item.get("start"))
        end = _utc(item.get("end"))
        if start is not None and end is not None and end >= start:
            kind = BUSY_KINDS.get(str(item.get("status", "")).lower(), BusyKind.BUSY)
            periods.append(BusyPeriod(start, end, kind))
    return periods


def _utc(value: Any) -> datetime | None:
    """A `dateTimeTimeZone` asked for in UTC."""
    if not isinstance(value, dict):
        return None
    moment = fields.parse_time(value.get("dateTime"))
    return moment.astimezone(UTC) if moment is not None else None


def _zone(name: str) -> tzinfo | None:
    """A zone by IANA name or by the Windows name our own table knows; None when unknown."""
    for candidate, windows in fields.WINDOWS_ZONES.items():
        if name == windows:
            return ZoneInfo(candidate)
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _shift(source: tzinfo | None, target: ZoneInfo, moment: datetime) -> int:
    """Minutes to add to a wall-clock time in `source` to read it in `target` (at `moment`)."""
    if source is None:
        return 0
    there = moment.astimezone(source).utcoffset() or timedelta(0)
    here = moment.astimezone(target).utcoffset() or timedelta(0)
    return int((here - there).total_seconds() // 60)


def _created(ref: str, answer: GraphResponse) -> MeetingOutcome:
    if answer.ok and isinstance(answer.body, dict):
        return MeetingOutcome(
            ref,
            True,
            item_id=str(answer.body.get("id", "")),
            uid=str(answer.body.get("iCalUId") or ""),
        )
    if answer.status in (429, 503):
        return MeetingOutcome(
            ref, False, f"create: {answer.describe()}", transient=True, clean=True
        )
    if answer.transient:
        # A 5xx may come after the work was done: the service looks for the ref first.
        return MeetingOutcome(ref, False, f"create: {answer.describe()}", transient=True)
    return MeetingOutcome(ref, False, f"create refused: {answer.describe()}")


def _state(ref: str, event: dict[str, Any]) -> MeetingState:
    responses: dict[str, ResponseKind] = {}
    for attendee in event.get("attendees") or ():
        if not isinstance(attendee, dict):
            continue
        address = (attendee.get("emailAddress") or {}).get("address")
        status = str((attendee.get("status") or {}).get("response", "")).lower()
        if address:
            responses[str(address).casefold()] = RESPONSES.get(status, "none")
    start = _utc(event.get("start")) or datetime.fromtimestamp(0, UTC)
    end = _utc(event.get("end")) or start
    return MeetingState(
        ref=ref,
        item_id=str(event.get("id", "")),
        uid=str(event.get("iCalUId") or ""),
        start=start,
        end=end,
        cancelled=bool(event.get("isCancelled")),
        responses=responses,
        categories=tuple(str(c) for c in event.get("categories") or ()),
    )
