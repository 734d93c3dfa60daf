"""getSchedule in the sandbox Graph endpoint (a test double): free/busy and working hours per mailbox.

``POST /users/{u}/calendar/getSchedule`` with ``Schedules``, ``StartTime``, ``EndTime``,
``AvailabilityViewInterval`` (any casing, see ``actions``). Each schedule answers with its
events (``scheduleItems``: status, subject, location, start, end in the ``Prefer:
outlook.timezone`` zone, UTC without one), the merged ``availabilityView`` (the same string
EWS computes, :func:`exchange_sandbox.schedule.merged_view`: "0 = free or working elsewhere",
1 tentative, 2 busy, 3 out of office) and the mailbox's own ``workingHours`` in its own time
zone. An unknown address gets an ``error`` (ErrorMailRecipientNotFound). More than
``schedule_max_mailboxes`` (the documented 20) is 400 ErrorMailboxDataArrayTooBig, a window of
more than ``schedule_max_days`` (62) days 400 ErrorTimeIntervalTooBig, with the texts Exchange
Online gives (microsoftgraph/microsoft-graph-docs#7047 and #19703).
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from exchange_sandbox.graph import render
from exchange_sandbox.graph.actions import parameters
from exchange_sandbox.graph.errors import GraphError, Response, bad_request
from exchange_sandbox.graph.events import show_as
from exchange_sandbox.graph.request import Request, json_response
from exchange_sandbox.schedule import WorkingHours, merged_view

if TYPE_CHECKING:
    from exchange_sandbox.graph.app import GraphApp


def working_hours_json(hours: WorkingHours) -> dict[str, Any]:
    """A mailbox's working hours as Graph's workingHours (in their own time zone)."""
    return {
        "daysOfWeek": list(hours.days),
        "startTime": f"{hours.start // 60:02d}:{hours.start % 60:02d}:00.0000000",
        "endTime": f"{hours.end // 60:02d}:{hours.end % 60:02d}:00.0000000",
        "timeZone": {"name": hours.time_zone},
    }


def get_schedule(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    p = parameters(req, "getSchedule")
    schedules = p.get("Schedules")
    if not isinstance(schedules, list) or not schedules:
        raise bad_request("The 'Schedules' parameter is required.", "ErrorInvalidParameter")
    limit = app.config.schedule_max_mailboxes
    if len(schedules) > limit:
        raise GraphError(
            400,
            "ErrorMailboxDataArrayTooBig",
            "There are too many target users in the EmailAddress array. The allowed size = "
            f"{limit}; the actual size = {len(schedules)}.",
        )
    start = render.parse_date_time_time_zone(p.get("StartTime"), "StartTime")
    end = render.parse_date_time_time_zone(p.get("EndTime"), "EndTime")
    if end <= start:
        raise bad_request(
            "The start time must be earlier than the end time.", "ErrorInvalidTimeInterval"
        )
    days = math.ceil((end - start) / timedelta(days=1))
    if days > app.config.schedule_max_days:
        raise GraphError(
            400,
            "ErrorTimeIntervalTooBig",
            "The requested time duration specified for FreeBusyViewOptions.TimeWindow is too "
            f"long. The allowed limit = {app.config.schedule_max_days} days; the actual limit"
            f" = {days} days.",
        )
    interval = p.get("AvailabilityViewInterval", 30)
    if not isinstance(interval, int) or isinstance(interval, bool) or not 5 <= interval <= 1440:
        raise bad_request(
            "availabilityViewInterval must be between 5 and 1440 minutes.",
            "ErrorInvalidParameter",
        )
    tz_name = req.prefer.get("outlook.timezone", "UTC")
    render.zone(tz_name)
    result = [_schedule(app, str(s), start, end, interval, tz_name) for s in schedules]
    return json_response(
        200,
        {
            "@odata.context": f"{req.base}/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)",
            "value": result,
        },
    )


def _schedule(
    app: GraphApp, address: str, start: Any, end: Any, interval: int, tz_name: str
) -> dict[str, Any]:
    if not app.store.has_mailbox(address):
        return {
            "scheduleId": address,
            "availabilityView": "",
            "scheduleItems": [],
            "error": {
                "message": f"The recipient '{address}' could not be found.",
                "responseCode": "ErrorMailRecipientNotFound",
            },
        }
    items = [
        (it, it.calendar)
        for it in app.store.calendar_between(address, start, end)
        if it.calendar is not None
    ]
    spans = [(c.start, c.end, c.free_busy) for _, c in items]
    return {
        "scheduleId": address,
        "availabilityView": merged_view(spans, start, end, interval),
        "scheduleItems": [
            {
                "isPrivate": False,
                "status": show_as(c.free_busy),
                "subject": it.subject,
                "location": c.location,
                "start": render.date_time_time_zone(c.start, tz_name),
                "end": render.date_time_time_zone(c.end, tz_name),
            }
            for it, c in items
            if c.free_busy != "Free"
        ],
        "workingHours": working_hours_json(app.hours_of(address)),
    }
