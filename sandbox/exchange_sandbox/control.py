"""Control endpoints of the sandbox Exchange server (a test double): ``/_sandbox/...`` for tests and demos.

- ``POST /_sandbox/deliver?mailbox=ADDR&received=ISO`` (body: RFC 5322 bytes) delivers into
  a mailbox's Inbox as Exchange transport would; answers ``{"id", "conversation_id"}``.
- ``GET /_sandbox/mailboxes`` and ``GET /_sandbox/mailboxes/ADDR/FOLDER``: read-only JSON views.
- ``GET|POST /_sandbox/faults``: fault injection (body: a spec string or ``{"spec": ...}``,
  see :func:`~exchange_sandbox.faults.parse_faults`).
- ``GET /_sandbox/stats``, ``POST /_sandbox/stats/reset``: request counters per operation,
  and how many sent messages are in transit and delivered (``submission``).
- ``GET|POST /_sandbox/submission``: the submission (transport) settings, and the messages in
  transit; POST ``{"delay_ms", "jitter_ms", "in_transit", "mailbox"}`` changes the given
  settings of one mailbox, or of all when ``mailbox`` is absent.
- ``POST /_sandbox/submission/run`` (``{"all": true}`` optional): transport delivers what is
  due now (or everything in transit) at once.
- ``POST /_sandbox/calendar``, ``/_sandbox/calendar/respond``, ``/move``, ``/delete``: what a
  colleague does in Outlook (an appointment, an answer, a moved or deleted meeting; see
  :mod:`exchange_sandbox.calendar_control`).
- ``GET /_sandbox/backoff?tolerance_ms=50[&client_timeout_ms=N]``: back-off hints given (EWS BackOffMilliseconds,
  Graph Retry-After) and every retry that came before its hint had elapsed
  (:mod:`exchange_sandbox.backoff`); ``POST /_sandbox/stats/reset`` clears it too.
- ``GET /_sandbox/health``.

They take no authentication and listen only where the server listens (loopback by default).
The Graph front has its own under ``/_sandbox/graph/`` (:mod:`exchange_sandbox.graph.control`).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from exchange_sandbox.calendar_control import calendar_control
from exchange_sandbox.faults import FaultSpecError, parse_faults
from exchange_sandbox.store import ITEM_FOLDERS, Item, MailboxNotFound

if TYPE_CHECKING:
    from exchange_sandbox.server import SandboxServer

Answer = tuple[int, Any]  # HTTP status and the JSON value of the body


def control(
    server: SandboxServer, verb: str, path: str, query: dict[str, list[str]], body: bytes
) -> Answer:
    """Answer a control request; ``path`` is what follows ``/_sandbox/``."""
    parts = [unquote(p) for p in path.strip("/").split("/")]
    if verb == "GET" and parts == ["health"]:
        return 200, {"status": "ok", "test_double": True}
    if verb == "POST" and parts == ["deliver"]:
        return _deliver(server, query, body)
    if verb == "GET" and parts == ["stats"]:
        return 200, {**server.stats.snapshot(), "submission": server.store.submissions.counts()}
    if verb == "GET" and parts == ["backoff"]:
        tolerance = float(query.get("tolerance_ms", ["50"])[0]) / 1000
        timeout = query.get("client_timeout_ms")
        return 200, server.stats.log.report(
            tolerance, float(timeout[0]) / 1000 if timeout else None
        )
    if parts[0] == "submission":
        return _submission(server, verb, parts[1:], body)
    if parts[0] == "calendar":
        return calendar_control(server.store, server.config, verb, parts[1:], body)
    if verb == "POST" and parts == ["stats", "reset"]:
        server.stats.reset()
        return 200, {"status": "reset"}
    if parts == ["faults"]:
        if verb == "POST":
            try:
                text = body.decode("utf-8")
                if text.strip().startswith("{"):
                    text = str(json.loads(text).get("spec", ""))
                server.set_faults(parse_faults(text))
            except (FaultSpecError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                return 400, {"error": str(exc)}
        return 200, {"spec": server.faults.spec()}
    if verb == "GET" and parts == ["mailboxes"]:
        return 200, [{"address": a.email, "name": a.name} for a in server.store.mailboxes()]
    if verb == "GET" and len(parts) == 3 and parts[0] == "mailboxes":
        if not server.store.has_mailbox(parts[1]):
            return 404, {"error": f"no mailbox {parts[1]}"}
        if parts[2] not in ITEM_FOLDERS:
            return 404, {"error": f"no folder {parts[2]}; folders: {list(ITEM_FOLDERS)}"}
        return 200, [item_json(i) for i in server.store.items(parts[1], parts[2])]
    return 404, {"error": f"unknown control endpoint {verb} /_sandbox/{path}"}


def _deliver(server: SandboxServer, query: dict[str, list[str]], body: bytes) -> Answer:
    mailbox = (query.get("mailbox") or [""])[0]
    received_text = (query.get("received") or [""])[0]
    try:
        received = datetime.fromisoformat(received_text) if received_text else None
    except ValueError:
        return 400, {"error": f"received is not an ISO date-time: {received_text!r}"}
    if received is not None and received.tzinfo is None:
        return 400, {"error": "received needs a UTC offset"}
    try:
        item = server.store.deliver(mailbox, body, received)
    except MailboxNotFound:
        return 404, {"error": f"no mailbox {mailbox}"}
    return 200, {"id": item.id, "conversation_id": item.conversation_id}


def _submission(server: SandboxServer, verb: str, rest: list[str], body: bytes) -> Answer:
    queue = server.store.submissions
    try:
        data = json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return 400, {"error": f"the body must be a JSON object: {exc}"}
    if not isinstance(data, dict):
        return 400, {"error": "the body must be a JSON object"}
    if verb == "POST" and rest == ["run"]:
        done = queue.run_due(everything=bool(data.get("all", False)))
        return 200, {"delivered": [s.as_json() for s in done]}
    if rest:
        return 404, {
            "error": f"unknown control endpoint {verb} /_sandbox/submission/{'/'.join(rest)}"
        }
    if verb == "POST":
        mailbox = data.pop("mailbox", None)
        if mailbox is not None and not server.store.has_mailbox(str(mailbox)):
            return 404, {"error": f"no mailbox {mailbox}"}
        try:
            queue.change(data, None if mailbox is None else str(mailbox))
        except (TypeError, ValueError) as exc:
            return 400, {"error": str(exc)}
    elif verb != "GET":
        return 404, {"error": f"unknown control endpoint {verb} /_sandbox/submission"}
    return 200, {
        "default": queue.default.as_json(),
        "mailboxes": {
            box.email: queue.settings(box.email).as_json() for box in server.store.mailboxes()
        },
        **queue.counts(),
        "queue": [s.as_json() for s in queue.in_transit()],
    }


def item_json(item: Item) -> dict[str, Any]:
    """An item as the read-only mailbox view shows it (MIME base64, datetimes ISO 8601)."""

    def dt(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": item.id,
        "change_key": item.change_key,
        "folder": item.folder,
        "item_class": item.item_class,
        "subject": item.subject,
        "from": item.from_.email if item.from_ else None,
        "to": [a.email for a in item.to],
        "cc": [a.email for a in item.cc],
        "message_id": item.message_id,
        "in_reply_to": item.in_reply_to,
        "references": list(item.references),
        "conversation_id": item.conversation_id,
        "headers": [list(h) for h in item.headers],
        "mime": base64.b64encode(item.mime).decode() if item.mime is not None else None,
        "date_received": dt(item.date_received),
        "is_read": item.is_read,
        "is_draft": item.is_draft,
        "flag": {
            "status": item.flag.status,
            "start": dt(item.flag.start),
            "due": dt(item.flag.due),
            "complete": dt(item.flag.complete),
        },
        "categories": list(item.categories),
        "extended": {
            k: (list(v) if isinstance(v, tuple) else v) for k, (_, v) in item.extended.items()
        },
        "calendar": None
        if item.calendar is None
        else {
            "start": dt(item.calendar.start),
            "end": dt(item.calendar.end),
            "organizer": item.calendar.organizer.email,
            "attendees": [
                {"email": a.address.email, "required": a.required, "response": a.response}
                for a in item.calendar.attendees
            ],
            "free_busy": item.calendar.free_busy,
            "location": item.calendar.location,
            "uid": item.calendar.uid,
            "my_response": item.calendar.my_response,
            "is_cancelled": item.calendar.is_cancelled,
            "sequence": item.calendar.sequence,
        },
    }
