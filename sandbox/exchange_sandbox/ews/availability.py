"""EWS free/busy of the sandbox (a test double): GetUserAvailability and GetServerTimeZones.

Each mailbox answers with its own working hours, in its own time zone (``WorkingHours``:
the zone as a SerializableTimeZone with its bias and daylight-saving rule, one
``WorkingPeriod``; see :mod:`exchange_sandbox.schedule`); events come in the request's time
zone. The merged string is :func:`exchange_sandbox.schedule.merged_view`'s (0 free or working
elsewhere, 1 tentative, 2 busy, 3 OOF, 4 no data). A caller sees subjects and locations of
its own calendar and of those it has full access to; an impersonated colleague sees another
colleague's times only. A window longer than ``[ews] availability_max_days`` (42) is
ErrorTimeIntervalTooBig, an empty or reversed one ErrorInvalidTimeInterval (SOAP faults).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from lxml import etree

from exchange_sandbox.config import SandboxConfig
from exchange_sandbox.ews.access import Caller
from exchange_sandbox.ews.faults import EwsFault
from exchange_sandbox.ews.fields import REQUEST_ZONE
from exchange_sandbox.ews.responses import response_message
from exchange_sandbox.ews.versions import at_least
from exchange_sandbox.ews.xml import NSMAP, Element, local_iso, m, sub, t, text_of, xs_bool
from exchange_sandbox.ews.zones import (
    ZONES,
    SerializableZone,
    render_serializable_zone,
    render_zone,
    window_time,
)
from exchange_sandbox.schedule import BUSY_TYPES, WorkingHours, mailbox_hours, merged_view
from exchange_sandbox.store import Item, MailStore


def get_user_availability(
    store: MailStore, config: SandboxConfig, op: Element, caller: Caller
) -> Element:
    # The request's own TimeZone; without it the TimeZoneContext, else UTC.
    zone_el = op.find(t("TimeZone"))
    context = REQUEST_ZONE.get()
    zone = context if zone_el is None and context is not None else SerializableZone.parse(zone_el)
    options = op.find(t("FreeBusyViewOptions"))
    if options is None:
        raise EwsFault("ErrorInvalidRequest", "FreeBusyViewOptions are missing.")
    window = options.find(t("TimeWindow"))
    if window is None:
        raise EwsFault("ErrorInvalidRequest", "TimeWindow is missing.")
    # The window is wall-clock time of the request's time zone; compare in UTC.
    start = window_time(zone, text_of(window, t("StartTime")))
    end = window_time(zone, text_of(window, t("EndTime")))
    _check_window(start, end, config.ews.availability_max_days)
    requested = text_of(options, t("RequestedView")) or "DetailedMerged"
    interval = int(text_of(options, t("MergedFreeBusyIntervalInMinutes")) or "30")
    resp = etree.Element(m("GetUserAvailabilityResponse"), nsmap=NSMAP)
    array = sub(resp, m("FreeBusyResponseArray"))
    mailboxes = op.find(m("MailboxDataArray"))
    for data in list(mailboxes) if mailboxes is not None else []:
        email_el = data.find(t("Email"))
        address = text_of(email_el, t("Address")) if email_el is not None else None
        fb = sub(array, m("FreeBusyResponse"))
        if not address or not store.has_mailbox(address):
            msg = sub(fb, m("ResponseMessage"), ResponseClass="Error")
            sub(msg, m("MessageText"), "No mailbox with such guid.")
            sub(msg, m("ResponseCode"), "ErrorMailRecipientNotFound")
            sub(msg, m("DescriptiveLinkKey"), "0")
            continue
        msg = sub(fb, m("ResponseMessage"), ResponseClass="Success")
        sub(msg, m("ResponseCode"), "NoError")
        events = [e for e in store.calendar_between(address, start, end) if e.calendar]
        view = sub(fb, m("FreeBusyView"))
        merged = "Merged" in requested
        if requested.startswith("Detailed") and _sees_details(caller, address):
            view_type = "DetailedMerged" if merged else "Detailed"
        else:
            view_type = "FreeBusyMerged" if merged else "FreeBusy"
        sub(view, t("FreeBusyViewType"), view_type)
        if merged:
            spans = [
                (e.calendar.start, e.calendar.end, e.calendar.free_busy)
                for e in events
                if e.calendar
            ]
            sub(view, t("MergedFreeBusy"), merged_view(spans, start, end, max(interval, 5)))
        if events:
            _events(sub(view, t("CalendarEventArray")), events, zone, view_type, caller)
        _working_hours(view, mailbox_hours(store, config, address))
    return resp


def _check_window(start: datetime, end: datetime, max_days: int) -> None:
    if end <= start:
        raise EwsFault(
            "ErrorInvalidTimeInterval", "The start time must be earlier than the end time."
        )
    days = math.ceil((end - start) / timedelta(days=1))
    if max_days and days > max_days:
        # The wording Exchange Online gives through Graph (microsoftgraph/microsoft-graph-docs#19703).
        raise EwsFault(
            "ErrorTimeIntervalTooBig",
            "The requested time duration specified for FreeBusyViewOptions.TimeWindow is too "
            f"long. The allowed limit = {max_days} days; the actual limit = {days} days.",
        )


def _sees_details(caller: Caller, address: str) -> bool:
    """Whether the requester sees subjects and locations: its own calendar, or one it has full
    access to. An impersonated colleague is that colleague, who sees another's times only (the
    default free/busy permission, AvailabilityOnly)."""
    if caller.impersonated is not None:
        return caller.impersonated == address.lower()
    return caller.user.may_open(address)


def _events(
    arr: Element, events: list[Item], zone: SerializableZone, view_type: str, caller: Caller
) -> None:
    busy_types = BUSY_TYPES if at_least(caller.request_version, "Exchange2013") else _OLD_TYPES
    for ev in events:
        cal = ev.calendar
        if cal is None:
            continue
        ce = sub(arr, t("CalendarEvent"))
        sub(ce, t("StartTime"), local_iso(zone.to_local(cal.start)))
        sub(ce, t("EndTime"), local_iso(zone.to_local(cal.end)))
        # WorkingElsewhere came with Exchange 2013; an older request sees it as Free.
        sub(ce, t("BusyType"), cal.free_busy if cal.free_busy in busy_types else "Free")
        if view_type.startswith("Detailed"):
            det = sub(ce, t("CalendarEventDetails"))
            sub(det, t("ID"), ev.id)
            sub(det, t("Subject"), ev.subject)
            sub(det, t("Location"), cal.location)
            sub(det, t("IsMeeting"), xs_bool(bool(cal.attendees)))
            sub(det, t("IsRecurring"), "false")
            sub(det, t("IsException"), "false")
            sub(det, t("IsReminderSet"), xs_bool(cal.reminder_set))
            sub(det, t("IsPrivate"), "false")


def _working_hours(view: Element, hours: WorkingHours) -> None:
    """The mailbox's working hours, in its own time zone (as Exchange stores them)."""
    el = sub(view, t("WorkingHours"))
    render_serializable_zone(sub(el, t("TimeZone")), SerializableZone.of_rule(hours.zone))
    period = sub(sub(el, t("WorkingPeriodArray")), t("WorkingPeriod"))
    sub(period, t("DayOfWeek"), " ".join(d.capitalize() for d in hours.days))
    sub(period, t("StartTimeInMinutes"), str(hours.start))
    sub(period, t("EndTimeInMinutes"), str(hours.end))


def get_server_time_zones(store: MailStore, op: Element, caller: Caller) -> Element:
    ids_el = op.find(m("Ids"))
    wanted = [i.text or "" for i in ids_el] if ids_el is not None else list(ZONES)
    resp = etree.Element(m("GetServerTimeZonesResponse"), nsmap=NSMAP)
    msgs = sub(resp, m("ResponseMessages"))
    unknown = [w for w in wanted if w not in ZONES]
    if unknown:
        msg = response_message(
            "GetServerTimeZones",
            msgs,
            EwsFault(
                "ErrorInvalidRequest", f"The sandbox does not model the time zone {unknown[0]}."
            ),
        )
        sub(msg, m("TimeZoneDefinitions"))  # required by the schema, empty in an error
        return resp
    msg = response_message("GetServerTimeZones", msgs)
    defs = sub(msg, m("TimeZoneDefinitions"))
    for w in wanted:
        render_zone(defs, ZONES[w])
    return resp


_OLD_TYPES = ("Free", "Tentative", "Busy", "OOF", "NoData")
