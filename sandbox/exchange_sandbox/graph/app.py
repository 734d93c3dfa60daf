"""Request handler of the sandbox Microsoft Graph endpoint (a test double), over the mailbox store.

``GraphApp(store, config).handle(method, path, query, headers, body)`` answers one HTTP
request with ``(status, headers, body)`` and knows no HTTP server, so it mounts in any
server and is unit-tested directly. It serves:

- ``/v1.0/...``: the Graph mail and calendar operations the product uses (messages, delta,
  createReply/send/sendMail, move, PATCH, ``$value``, events, calendarView, getSchedule,
  ``$batch``), with app-only bearer tokens, application access policy, Graph's error bodies,
  429 throttling (mailbox concurrency, send rate) and 410 for lost delta sync states;
- ``/{tenant}/oauth2/v2.0/token``, ``/{tenant}/v2.0/.well-known/openid-configuration``,
  ``/common/discovery/instance``: the Entra ID endpoints ``msal`` calls (see ``auth``);
- ``/_sandbox/graph/...``: control endpoints for tests (expire delta tokens, revoke the app,
  set the send limit, register a certificate, inject faults, read counters, deliver mail).

The app checks token, access policy, roles, faults and mailbox concurrency, then calls the
handler its route table (``routes``) names; handlers live in one module per family
(``messages``, ``send``, ``delta``, ``calendar``, ``batch``, ``control``).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from exchange_sandbox.backoff import RequestLog, fingerprint, retry_after_seconds
from exchange_sandbox.config import GraphConfig, SandboxConfig
from exchange_sandbox.directory import Person, address_book
from exchange_sandbox.graph import render
from exchange_sandbox.graph.auth import Principal, TokenService
from exchange_sandbox.graph.batch import batch
from exchange_sandbox.graph.control import control
from exchange_sandbox.graph.delta import DeltaTokens
from exchange_sandbox.graph.errors import (
    GraphError,
    Response,
    bad_request,
    error_response,
    invalid_user,
    malformed_id,
    not_found,
    over_budget,
    permission_denied,
    policy_denied,
    throttled,
)
from exchange_sandbox.graph.events import WEB, event_json
from exchange_sandbox.graph.faults import FaultHook, FaultInjector, LostHook, lost_answer
from exchange_sandbox.graph.identity import identity_endpoint
from exchange_sandbox.graph.ids import IdMap, MalformedId, from_rest, to_rest, user_object_id
from exchange_sandbox.graph.limits import MailboxGate, RequestBudget, SendLimiter
from exchange_sandbox.graph.meetings import is_meeting_message
from exchange_sandbox.graph.messages import MAIL_FOLDERS
from exchange_sandbox.graph.odata import parse_message_expand, parse_select
from exchange_sandbox.graph.request import Request, parse_prefer, parse_query
from exchange_sandbox.graph.routes import ROUTES, Route
from exchange_sandbox.schedule import WorkingHours, mailbox_hours
from exchange_sandbox.store import (
    FolderNotFound,
    Item,
    ItemNotFound,
    MailboxNotFound,
    MailStore,
    meetings,
)
from exchange_sandbox.store.ids import is_folder_id

#: Graph's well-known folder names the sandbox has (mailFolder resource); any case.
WELL_KNOWN = {name: name for name in (*MAIL_FOLDERS, "calendar", "msgfolderroot")}


@dataclass(frozen=True)
class Call:
    """A request routed to its handler and mailbox, with the principal that makes it."""

    req: Request
    route: Route
    match: re.Match[str]
    mailbox: str
    principal: Principal


class GraphApp:
    """The sandbox Graph endpoint over a :class:`MailStore` (see the module docstring)."""

    def __init__(
        self,
        store: MailStore,
        config: GraphConfig,
        fault_hook: FaultHook | None = None,
        sandbox: SandboxConfig | None = None,
    ) -> None:
        self.store = store
        self.config = config
        #: The whole sandbox configuration: working hours and the address book.
        self.sandbox = sandbox or SandboxConfig(graph=config)
        self.tokens = TokenService(config)
        self.ids = IdMap(store)
        self.delta = DeltaTokens(config.delta_token_lifetime_seconds, config.delta_token_cache_size)
        self.gate = MailboxGate(config.mailbox_concurrency)
        self.budget = RequestBudget(config.request_budget, config.request_budget_window_seconds)
        self.sends = SendLimiter(config.send_limit_per_minute)
        self.faults = FaultInjector()
        # A front-end with its own fault machinery sets this; by default the app's own
        # injector (idle until configured through /_sandbox/graph/faults) is used.
        self.fault_hook: FaultHook = fault_hook or self.faults
        # Whether the answer to requests of these operations, carried out, is lost.
        self.lost_hook: LostHook = self.faults.lose
        # Seconds each request takes (the front-end's latency setting).
        self.latency: Callable[[], float] = lambda: 0.0
        self._folder_ids: dict[tuple[str, str], str] = {}
        self._counts: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        # When requests came and which answers told the client to wait; the mounting server
        # shares its own (``GET /_sandbox/backoff``).
        self.requests = RequestLog()

    # ------------------------------------------------------------ public API

    def stats(self) -> dict[str, int]:
        with self._count_lock:
            return dict(self._counts)

    def operation(self, method: str, path: str) -> str:
        """The counter name of a request, e.g. ``graph.messages.delta`` or ``graph.token``."""
        path = path.split("?", 1)[0]
        if path.lower().startswith("/v1.0/"):
            sub = path[5:]
            if sub.lower() == "/$batch":
                return "graph.batch"
            for route in ROUTES:
                if route.method == method.upper() and route.pattern.match(sub):
                    return f"graph.{route.operation}"
            return "graph.unknown"
        if path.endswith("/oauth2/v2.0/token"):
            return "graph.token"
        if path.startswith("/_sandbox/"):
            return "graph.control"
        return "graph.discovery"

    def handles(self, path: str) -> bool:
        """Whether a path belongs to the Graph front (Graph API, Entra endpoints, controls)."""
        p = path.split("?", 1)[0].lower()
        return (
            p.startswith(("/v1.0/", "/_sandbox/graph/", "/common/discovery/"))
            or p.endswith(("/oauth2/v2.0/token", "/v2.0/.well-known/openid-configuration"))
            or "/discovery/v2.0/keys" in p
        )

    def handle(
        self,
        method: str,
        path: str,
        query: str = "",
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        scheme: str = "http",
    ) -> Response:
        hdrs = {k.lower(): v for k, v in (headers or {}).items()}
        if "?" in path:
            path, _, inline = path.partition("?")
            query = f"{inline}&{query}" if query else inline
        host = hdrs.get("host", "localhost")
        req = Request(
            method=method.upper(),
            path=path,
            query=parse_query(query),
            headers=hdrs,
            body=body,
            base=f"{scheme}://{host}",
            request_id=str(uuid.uuid4()),
            prefer=parse_prefer(hdrs.get("prefer", "")),
        )
        crid = hdrs.get("client-request-id", req.request_id)
        self.count(self.operation(method, path))
        try:
            if path.lower().startswith("/_sandbox/graph/"):
                return control(self, req)
            if path.lower().startswith("/v1.0/"):
                try:
                    status, out, payload = self.dispatch(req)
                except GraphError as exc:
                    status, out, payload = error_response(exc, req.request_id, crid)
                self.note(req, status, out)
                out.setdefault("request-id", req.request_id)
                out.setdefault("client-request-id", crid)
                return status, out, payload
            return identity_endpoint(self.tokens, req)
        except GraphError as exc:
            return error_response(exc, req.request_id, crid)

    def note(self, req: Request, status: int, headers: Mapping[str, str]) -> None:
        """Log an answered request (a batch step too) and the Retry-After it carried, if any.

        Requests that never got as far as a known app (bad token) are not logged.
        """
        if req.principal is None:
            return
        client = req.principal.client_id
        operation = self.operation(req.method, req.path)
        print_ = fingerprint(req.method, req.path, json.dumps(req.query, sort_keys=True), req.body)
        self.requests.arrived(client, operation, print_, at=req.arrived)
        seconds = retry_after_seconds(dict(headers)) if status in (429, 503) else None
        if seconds is not None:
            self.requests.hinted(client, operation, print_, seconds, since=req.arrived)

    def count(self, name: str) -> None:
        """Count one request under ``name`` (see ``GET /_sandbox/graph/stats``)."""
        with self._count_lock:
            self._counts[name] += 1

    def set_config(self, config: GraphConfig) -> None:
        """Replace the Graph configuration at runtime (a certificate registered by a control)."""
        self.config = config
        self.tokens.config = config

    # ------------------------------------------------------------ Graph API

    def dispatch(self, req: Request) -> Response:
        """Answer a ``/v1.0`` request; GraphError for failures, status 0 for a lost answer."""
        sub = req.path[5:]
        if sub.lower() == "/$batch":
            if req.method != "POST":
                raise GraphError(
                    405,
                    "Request_BadRequest",
                    "Specified HTTP method is not allowed for the request target.",
                )
            req.principal = self.tokens.authenticate(req.headers.get("authorization"))
            return batch(self, req)
        call = self.prepare(req)
        self.admit(call)
        if not self.gate.enter(call.principal.client_id, call.mailbox):
            raise throttled(1)
        try:
            self.pause()
            answer = self.run(call)
        finally:
            self.gate.leave(call.principal.client_id, call.mailbox)
        if answer[0] != 0 and self.lost_hook([f"graph.{call.route.operation}"]):
            return lost_answer()  # carried out; the client never hears of it
        return answer

    def prepare(self, req: Request) -> Call:
        """Route, token, mailbox, access policy and roles of a request (also a batch step)."""
        sub = req.path[5:]
        if re.match(r"^/me(/|$)", sub, re.IGNORECASE):
            self.tokens.authenticate(req.headers.get("authorization"))
            raise bad_request(
                "/me request is only valid with delegated authentication flow.", "BadRequest"
            )
        for route in ROUTES:
            match = route.pattern.match(sub)
            if match and route.method == req.method:
                break
        else:
            segment = sub.rstrip("/").rsplit("/", 1)[-1]
            raise bad_request(f"Resource not found for the segment '{segment}'.", "BadRequest")
        principal = self.tokens.authenticate(req.headers.get("authorization"))
        req.principal = principal
        user = match.groupdict().get("user")
        mailbox = "" if user is None else self._mailbox(user, principal, route.directory)
        if not set(route.roles) & set(principal.roles):
            raise permission_denied()
        return Call(req, route, match, mailbox, principal)

    def require(self, req: Request, roles: tuple[str, ...], mailbox: str) -> None:
        """A handler's further check: one of ``roles``, and the access policy on ``mailbox``."""
        principal = req.principal
        if principal is None or not set(roles) & set(principal.roles):
            raise permission_denied()
        app = self.config.app(principal.client_id)
        if app is None or not app.may_access(mailbox):
            raise policy_denied()

    def admit(self, call: Call) -> None:
        """Count the request against the app's budget for the mailbox; 429 when spent."""
        wait = self.budget.take(call.principal.client_id, call.mailbox)
        if wait is not None:
            raise over_budget(wait, self.budget.limit, self.budget.window)

    def pause(self) -> None:
        """The configured latency, spent while holding a concurrency slot (as a slow server)."""
        seconds = self.latency()
        if seconds > 0:
            time.sleep(seconds)

    def run(self, call: Call) -> Response:
        """Carry out a prepared and admitted request holding its slot: faults, then the handler."""
        fault = self.fault_hook(f"graph.{call.route.operation}")
        if fault is not None:
            return fault
        try:
            return call.route.handler(self, call.req, call.match, call.mailbox)
        except MalformedId as exc:
            raise malformed_id() from exc
        except ItemNotFound as exc:
            raise not_found() from exc
        except FolderNotFound as exc:
            raise not_found() from exc

    def _mailbox(self, segment: str, principal: Principal, directory: bool = False) -> str:
        user = unquote(segment)
        if user.lower() == "me":
            raise bad_request(
                "/me request is only valid with delegated authentication flow.", "BadRequest"
            )
        address = user
        if "@" not in user:
            by_id = {user_object_id(a.email): a.email for a in self.store.mailboxes()}
            address = by_id.get(user.lower(), user)
        if not self.store.has_mailbox(address):
            raise invalid_user(user)
        if directory:  # the application access policy scopes Exchange data, not the directory
            return address.lower()
        app = self.config.app(principal.client_id)
        if app is None or not app.may_access(address):
            raise policy_denied()
        return address.lower()

    def folder_name(self, mailbox: str, segment: str) -> str:
        """The store's folder name of a URL segment: a well-known name or a folder id."""
        name = unquote(segment)
        if name.lower() in WELL_KNOWN:
            return WELL_KNOWN[name.lower()]
        store_id = from_rest(name)
        if not is_folder_id(store_id):
            raise malformed_id()
        try:
            info = self.store.folder_by_id(store_id)
        except FolderNotFound as exc:
            raise not_found() from exc
        if info.mailbox != mailbox:
            raise not_found()
        return info.name

    def folder_id(self, mailbox: str, name: str) -> str:
        # Folder ids never change; store.folder() also counts items, too slow per message.
        key = (mailbox, name)
        if key not in self._folder_ids:
            self._folder_ids[key] = to_rest(self.store.folder(mailbox, name).id)
        return self._folder_ids[key]

    def item(self, mailbox: str, graph_id: str) -> Item:
        """The item a Graph id (REST or immutable) names in ``mailbox``; 404 otherwise."""
        item = self.ids.resolve(unquote(graph_id))
        if item.mailbox != mailbox:
            raise not_found()
        return item

    def message(self, req: Request, item: Item, select: set[str] | None = None) -> dict[str, Any]:
        """The JSON message of an item, shaped by the request's $select, $expand and Prefer."""
        expand = parse_message_expand(req.query.get("expand"))
        body = render.message_json(
            item,
            self.ids.graph_id(item, req.immutable),
            self.folder_id(item.mailbox, item.folder),
            select if select is not None else parse_select(req.query.get("select")),
            expand.properties,
            "https://outlook.office365.com",
            req.prefer.get("outlook.body-content-type"),
            meetings.is_out_of_date(self.store, item),
        )
        if expand.event and item.calendar is not None and is_meeting_message(item):
            body["event"] = self.message_event(req, item, expand.event_select)
        return body

    def message_event(self, req: Request, message: Item, select: set[str] | None) -> dict[str, Any]:
        """The event an eventMessage is about, in the message's mailbox: the attendee's event
        for a request or a cancellation, the organizer's for a response ("use the event
        navigation property of the eventMessageResponse to access the corresponding event",
        eventMessageResponse). An event no longer in the calendar (declined, removed) is an
        empty object, as Exchange Online answers then (microsoft-graph-docs#2284)."""
        assert message.calendar is not None
        own = meetings.calendar_item(self.store, message.mailbox, message.calendar.uid)
        if own is None:
            return {}
        tz_name = req.prefer.get("outlook.timezone", "UTC")
        render.zone(tz_name)
        event = event_json(own, self.ids.graph_id(own, req.immutable), tz_name, WEB)
        if select is None:
            return event
        return {
            k: v for k, v in event.items() if k.startswith("@") or k == "id" or k.lower() in select
        }

    def hours_of(self, mailbox: str) -> WorkingHours:
        """A mailbox's working hours (set by its owner, else the sandbox configuration's)."""
        return mailbox_hours(self.store, self.sandbox, mailbox)

    def people(self) -> list[Person]:
        """The address book: the configured people and any other mailbox of the store."""
        mailboxes = ((a.email, a.name) for a in self.store.mailboxes())
        return address_book(self.sandbox.people(), mailboxes)

    def is_shared(self, mailbox: str) -> bool:
        """A mailbox no configured user owns (a shared mailbox, opened by delegates)."""
        owned = {u.mailbox.lower() for u in self.sandbox.users if u.mailbox}
        return bool(self.sandbox.users) and mailbox.lower() not in owned

    def display_name(self, mailbox: str) -> str:
        try:
            return self.store.mailbox_name(mailbox)
        except MailboxNotFound:
            return ""
