"""Answering and cancelling meetings through Graph in the sandbox (a test double).

``POST /users/{u}/events/{id}/accept``, ``/tentativelyAccept``, ``/decline`` (parameters
``Comment``, ``SendResponse``, default true; ``ProposedNewTime``) and ``/cancel``
(``Comment``), each answered ``202 Accepted`` without a body ("event: accept", "event:
cancel"). An answer updates the attendee's event (declined: to Deleted Items) and, with
``SendResponse``, sends the organizer an eventMessageResponse; the organizer's event then
shows it in ``attendees[].status``. ``cancel`` is the organizer's: an attendee gets 400 "Your
request can't be completed. You need to be an organizer to cancel a meeting." (documented);
the other refusals' wording is the sandbox's. New time proposals are not modelled: a
``ProposedNewTime`` is refused with 400 rather than dropped.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from exchange_sandbox.graph.actions import boolean, parameters
from exchange_sandbox.graph.calendar import _calendar_item
from exchange_sandbox.graph.errors import GraphError, Response, bad_request
from exchange_sandbox.graph.request import Request
from exchange_sandbox.store import MeetingError, meetings

if TYPE_CHECKING:
    from exchange_sandbox.graph.app import GraphApp

_ANSWERS = {"accept": "Accept", "tentativelyaccept": "Tentative", "decline": "Decline"}
_ACTIONS = {"accept": "accept", "tentativelyaccept": "tentativelyAccept", "decline": "decline"}


def answer(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    action = m.group("action").lower()
    p = parameters(req, _ACTIONS[action])
    if "ProposedNewTime" in p:
        raise bad_request(
            "The sandbox does not model new time proposals (ProposedNewTime).",
            "ErrorInvalidRequest",
        )
    send = boolean(p.get("SendResponse", True), "SendResponse")
    comment = p.get("Comment", "")
    if not isinstance(comment, str):
        raise bad_request("'Comment' must be a string.", "RequestBodyRead")
    item = _calendar_item(app, mailbox, m)
    try:
        own, _, _ = meetings.respond(
            app.store, item.id, _ANSWERS[action], comment, send=send, copy_headers="none"
        )
    except MeetingError as exc:
        raise _refusal(exc) from exc
    app.ids.carry(item, own)
    return 202, {}, b""


def cancel(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    p = parameters(req, "cancel")
    comment = p.get("Comment", "")
    if not isinstance(comment, str):
        raise bad_request("'Comment' must be a string.", "RequestBodyRead")
    item = _calendar_item(app, mailbox, m)
    if not meetings.is_organizer(item) or not meetings.is_meeting(item):
        raise bad_request(
            "Your request can't be completed. You need to be an organizer to cancel a meeting.",
            "ErrorInvalidRequest",
        )
    try:
        moved = meetings.cancel(app.store, item.id, comment, True, True, "none", "Text")
    except MeetingError as exc:
        raise _refusal(exc) from exc
    app.ids.carry(item, moved)
    return 202, {}, b""


def _refusal(exc: MeetingError) -> GraphError:
    texts = {
        "organizer": "Your request can't be completed. You can't respond to a meeting you "
        "organized.",
        "cancelled": "Your request can't be completed. The meeting has been cancelled.",
        "not_meeting": "Your request can't be completed. The event is not a meeting.",
        "not_organizer": "Your request can't be completed. You need to be an organizer to "
        "cancel a meeting.",
    }
    return bad_request(texts.get(exc.kind, exc.text), "ErrorInvalidRequest")
