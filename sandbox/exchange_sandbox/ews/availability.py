"""EWS free/busy of the sandbox (a test double): GetUserAvailability and GetServerTimeZones.

Users with delegate or impersonation rights on a mailbox see event details, others times
only; working hours are Monday to Friday 08:30-17:00 in the request's time zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from lxml import etree

from exchange_sandbox.ews.access import Caller
from exchange_sandbox.ews.faults import EwsFault
from exchange_sandbox.ews.fields import REQUEST_ZONE
from exchange_sandbox.ews.responses import response_message
from exchange_sandbox.ews.xml import NSMAP, Element, local_iso, m, sub, t, text_of, xs_bool
from exchange_sandbox.ews.zones import (
    WEEKDAYS,
    ZONES,
    SerializableZone,
    render_serializable_zone,
    render_zone,
    window_time,
)
from exchange_sandbox.store import Item, MailStore


def get_user_availability(store: MailStore, op: Element, caller: Caller) -> Element:
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
        events = store.calendar_between(address, start, end)
        detailed = caller.user.may_open(address) or caller.user.may_impersonate(address)
        view = sub(fb, m("FreeBusyView"))
        merged = "Merged" in requested
        if requested.startswith("Detailed") and detailed:
            view_type = "DetailedMerged" if merged else "Detailed"
        else:
            view_type = "FreeBusyMerged" if merged else "FreeBusy"
        sub(view, t("FreeBusyViewType"), view_type)
        if merged:
            sub(view, t("MergedFreeBusy"), _merged(events, start, end, interval))
        if events:
            arr = sub(view, t("CalendarEventArray"))
            for ev in events:
                cal = ev.calendar
                if cal is None:
                    continue
                ce = sub(arr, t("CalendarEvent"))
                sub(ce, t("StartTime"), local_iso(zone.to_local(cal.start)))
                sub(ce, t("EndTime"), local_iso(zone.to_local(cal.end)))
                sub(ce, t("BusyType"), cal.free_busy)
                if view_type.startswith("Detailed"):
                    det = sub(ce, t("CalendarEventDetails"))
                    sub(det, t("ID"), ev.id)
                    sub(det, t("Subject"), ev.subject)
                    sub(det, t("Location"), cal.location)
                    sub(det, t("IsMeeting"), xs_bool(bool(cal.attendees)))
                    sub(det, t("IsRecurring"), "false")
                    sub(det, t("IsException"), "false")
                    sub(det, t("IsReminderSet"), "false")
                    sub(det, t("IsPrivate"), "false")
        hours = sub(view, t("WorkingHours"))
        tz = sub(hours, t("TimeZone"))
        render_serializable_zone(tz, zone)
        periods = sub(hours, t("WorkingPeriodArray"))
        period = sub(periods, t("WorkingPeriod"))
        sub(period, t("DayOfWeek"), " ".join(WEEKDAYS[:5]))
        sub(period, t("StartTimeInMinutes"), "510")
        sub(period, t("EndTimeInMinutes"), "1020")
    return resp


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


_BUSY_RANK = {"Free": 0, "WorkingElsewhere": 1, "Tentative": 2, "Busy": 3, "OOF": 4}
_BUSY_DIGIT = {"Free": "0", "Tentative": "1", "Busy": "2", "OOF": "3", "WorkingElsewhere": "4"}


def _merged(events: list[Item], start: datetime, end: datetime, interval: int) -> str:
    out = []
    slot = start
    step = timedelta(minutes=max(interval, 5))
    while slot < end:
        slot_end = slot + step
        status = "Free"
        for ev in events:
            cal = ev.calendar
            overlaps = cal is not None and cal.start < slot_end and cal.end > slot
            if (
                overlaps
                and cal is not None
                and _BUSY_RANK.get(cal.free_busy, 0) > _BUSY_RANK[status]
            ):
                status = cal.free_busy
        out.append(_BUSY_DIGIT.get(status, "0"))
        slot = slot_end
    return "".join(out)
