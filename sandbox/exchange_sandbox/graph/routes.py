"""The route table of the sandbox Graph endpoint (a test double): path pattern, handler, counter, roles.

A route matches the path after ``/v1.0`` (``{U}`` a user, ``{F}`` a mail folder, ``{M}`` a
message, optionally in a folder, ``{E}`` an event); its handler gets the app, the request,
the match and the mailbox, after the token, the application access policy and the roles
were checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from exchange_sandbox.graph import (
    calendar,
    delta,
    folders,
    messages,
    respond,
    responses,
    schedule,
    send,
    users,
)
from exchange_sandbox.graph.errors import Response
from exchange_sandbox.graph.request import Request

if TYPE_CHECKING:
    from exchange_sandbox.graph.app import GraphApp

Handler = Callable[["GraphApp", Request, re.Match[str], str], Response]

READ = ("Mail.Read", "Mail.ReadWrite")
WRITE = ("Mail.ReadWrite",)
SEND = ("Mail.Send",)
CAL_READ = ("Calendars.Read", "Calendars.ReadWrite")
CAL_WRITE = ("Calendars.ReadWrite",)
DIRECTORY = (
    "User.Read.All",
    "User.ReadBasic.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
)
SETTINGS = ("MailboxSettings.Read", "MailboxSettings.ReadWrite")


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    operation: str
    roles: tuple[str, ...]
    #: A directory read: the user must exist, the application access policy does not apply.
    directory: bool = False


def _route(
    method: str,
    path: str,
    handler: Handler,
    operation: str,
    roles: tuple[str, ...],
    directory: bool = False,
) -> Route:
    user = r"/users/(?P<user>[^/]+)"
    folder = r"/mailfolders/(?P<folder>[^/]+)"
    msg = r"/messages/(?P<msg>[^/]+)"
    event = r"(?:/calendar)?/events/(?P<msg>[^/]+)"
    expanded = (
        path.replace("{U}", user)
        .replace("{F}", folder)
        .replace("{M}", f"(?:{folder})?{msg}")
        .replace("{E}", event)
    )
    pattern = re.compile(f"^{expanded}$", re.IGNORECASE)
    return Route(method, pattern, handler, operation, roles, directory)


ROUTES = (
    _route("GET", r"{U}{F}/messages/delta(?:\(\))?", delta.delta, "messages.delta", READ),
    _route("GET", r"{U}/messages", messages.list_messages, "messages.list", READ),
    _route("POST", r"{U}/messages", messages.create_message, "messages.create", WRITE),
    _route("GET", r"{U}{F}/messages", messages.list_messages, "messages.list", READ),
    _route("GET", r"{U}/mailFolders", folders.list_folders, "mailFolders.list", READ),
    _route("POST", r"{U}/mailFolders", folders.create_folder, "mailFolders.create", WRITE),
    _route("GET", r"{U}{F}/childFolders", folders.list_folders, "mailFolders.childFolders", READ),
    _route("POST", r"{U}{F}/childFolders", folders.create_folder, "mailFolders.createChild", WRITE),
    _route("GET", r"{U}{F}", folders.get_folder, "mailFolders.get", READ),
    _route("GET", r"{U}{M}/\$value", messages.get_mime, "messages.value", READ),
    _route("GET", r"{U}{M}", messages.get_message, "messages.get", READ),
    _route("PATCH", r"{U}{M}", messages.patch_message, "messages.update", WRITE),
    _route("DELETE", r"{U}{M}", messages.delete_message, "messages.delete", WRITE),
    _route("POST", r"{U}{M}/permanentDelete", messages.purge, "messages.permanentDelete", WRITE),
    *(
        _route(
            "POST",
            rf"{{U}}{{M}}/(?P<action>{action})",
            responses.respond,
            f"messages.{action}",
            SEND if sends else WRITE,
        )
        for action, (_, sends) in responses.ACTIONS.items()
    ),
    _route("POST", r"{U}{M}/send", send.send_draft, "messages.send", SEND),
    _route("POST", r"{U}{M}/move", messages.move_message, "messages.move", WRITE),
    _route("POST", r"{U}/sendMail", send.send_mail, "user.sendMail", SEND),
    _route("POST", r"{U}(?:/calendar)?/events", calendar.create_event, "events.create", CAL_WRITE),
    _route("GET", r"{U}(?:/calendar)?/events", calendar.list_events, "events.list", CAL_READ),
    _route("GET", r"{U}{E}", calendar.get_event, "events.get", CAL_READ),
    _route("PATCH", r"{U}{E}", calendar.patch_event, "events.update", CAL_WRITE),
    _route("DELETE", r"{U}{E}", calendar.delete_event, "events.delete", CAL_WRITE),
    _route("POST", r"{U}{E}/permanentDelete", messages.purge, "events.permanentDelete", CAL_WRITE),
    _route(
        "POST",
        r"{U}{E}/(?P<action>accept|tentativelyAccept|decline)",
        respond.answer,
        "events.respond",
        CAL_WRITE,
    ),
    _route("POST", r"{U}{E}/cancel", respond.cancel, "events.cancel", CAL_WRITE),
    _route(
        "POST", r"{U}/calendar/getSchedule", schedule.get_schedule, "calendar.getSchedule", CAL_READ
    ),
    _route(
        "GET", r"{U}(?:/calendar)?/calendarView", calendar.calendar_view, "calendarView", CAL_READ
    ),
    _route("GET", r"/users", users.list_users, "users.list", DIRECTORY, directory=True),
    _route("GET", r"{U}", users.get_user, "users.get", DIRECTORY, directory=True),
    _route(
        "GET",
        r"{U}/mailboxSettings(?:/(?P<setting>[^/]+))?",
        users.mailbox_settings,
        "users.mailboxSettings",
        SETTINGS,
    ),
)
