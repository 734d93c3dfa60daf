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
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from exchange_sandbox.graph import render
from exchange_sandbox.graph.auth import Principal, TokenService
from exchange_sandbox.graph.config import AppCertificate, GraphConfig
from exchange_sandbox.graph.delta import DeltaState, DeltaTokens, gone
from exchange_sandbox.graph.errors import (
    GraphError,
    Headers,
    Response,
    bad_request,
    error_response,
    fault_response,
    invalid_user,
    not_found,
    permission_denied,
    policy_denied,
    throttled,
)
from exchange_sandbox.graph.ids import IdMap, to_rest
from exchange_sandbox.graph.limits import MailboxGate, SendLimiter
from exchange_sandbox.graph.mime import (
    child_thread_index,
    new_message_id,
    outgoing_mime,
    sanitize_submission,
)
from exchange_sandbox.store import (
    Address,
    Attendee,
    CalendarFields,
    ExtendedValue,
    Flag,
    FolderNotFound,
    Item,
    ItemNotFound,
    MailboxNotFound,
    MailStore,
    NewItem,
    PropertyKey,
    ReadOnlyProperty,
    read_property,
    write_property,
)

JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
MAIL_FOLDERS = ("inbox", "sentitems", "drafts", "deleteditems")
WELL_KNOWN = {name: name for name in (*MAIL_FOLDERS, "calendar")}
MAX_BATCH = 20
MAX_CUSTOM_HEADERS = 5
READ = ("Mail.Read", "Mail.ReadWrite")
WRITE = ("Mail.ReadWrite",)
SEND = ("Mail.Send",)
CAL_READ = ("Calendars.Read", "Calendars.ReadWrite")
CAL_WRITE = ("Calendars.ReadWrite",)
# Where the sandbox keeps an event's transactionId (Graph's idempotency key for POST events).
TRANSACTION_ID = PropertyKey(
    property_type="String",
    property_set_id="6ed8da90-450b-101b-98da-00aa003f1305",
    property_name="topcontact-sandbox-transactionId",
)
FaultHook = Callable[[str], "Response | None"]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    base: str
    request_id: str
    prefer: dict[str, str] = field(default_factory=dict)
    principal: Principal | None = None

    @property
    def immutable(self) -> bool:
        return self.prefer.get("idtype", "").lower() == "immutableid"

    def json(self) -> dict[str, Any]:
        if not self.body.strip():
            return {}
        try:
            data = json.loads(self.body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise bad_request(
                "Empty Payload. JSON content expected."
                if not self.body
                else f"Invalid JSON: {exc}",
                "RequestBodyRead",
            ) from exc
        if not isinstance(data, dict):
            raise bad_request("The request body must be a JSON object.", "RequestBodyRead")
        return data


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: str
    operation: str
    roles: tuple[str, ...]


def _route(method: str, path: str, handler: str, operation: str, roles: tuple[str, ...]) -> Route:
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
    return Route(method, re.compile(f"^{expanded}$", re.IGNORECASE), handler, operation, roles)


ROUTES = (
    _route("GET", r"{U}{F}/messages/delta(?:\(\))?", "_delta", "messages.delta", READ),
    _route("GET", r"{U}/messages", "_list_messages", "messages.list", READ),
    _route("POST", r"{U}/messages", "_create_message", "messages.create", WRITE),
    _route("GET", r"{U}{F}/messages", "_list_messages", "messages.list", READ),
    _route("GET", r"{U}{F}", "_get_folder", "mailFolders.get", READ),
    _route("GET", r"{U}{M}/\$value", "_get_mime", "messages.value", READ),
    _route("GET", r"{U}{M}", "_get_message", "messages.get", READ),
    _route("PATCH", r"{U}{M}", "_patch_message", "messages.update", WRITE),
    _route("DELETE", r"{U}{M}", "_delete_message", "messages.delete", WRITE),
    _route("POST", r"{U}{M}/permanentDelete", "_purge", "messages.permanentDelete", WRITE),
    _route("POST", r"{U}{M}/createReply", "_create_reply", "messages.createReply", WRITE),
    _route("POST", r"{U}{M}/send", "_send_draft", "messages.send", SEND),
    _route("POST", r"{U}{M}/reply", "_reply", "messages.reply", SEND),
    _route("POST", r"{U}{M}/move", "_move_message", "messages.move", WRITE),
    _route("POST", r"{U}/sendMail", "_send_mail", "user.sendMail", SEND),
    _route("POST", r"{U}(?:/calendar)?/events", "_create_event", "events.create", CAL_WRITE),
    _route("DELETE", r"{U}{E}", "_delete_event", "events.delete", CAL_WRITE),
    _route("POST", r"{U}{E}/permanentDelete", "_purge", "events.permanentDelete", CAL_WRITE),
    _route("POST", r"{U}/calendar/getSchedule", "_get_schedule", "calendar.getSchedule", CAL_READ),
    _route("GET", r"{U}(?:/calendar)?/calendarView", "_calendar_view", "calendarView", CAL_READ),
)


def parse_prefer(values: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for part in values.split(","):
        key, _, value = part.strip().partition("=")
        if key.strip():
            result[key.strip().lower()] = value.strip().strip('"')
    return result


class FaultInjector:
    """Fails a share of Graph requests with 429 or 503 and a Retry-After, reproducibly."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rate = 0.0
        self.statuses: tuple[int, ...] = (429, 503)
        self.retry_after = 1
        self._rng = random.Random(0)  # noqa: S311  # fault injection, not cryptography

    def configure(
        self, rate: float, statuses: tuple[int, ...], retry_after: int, seed: int | None
    ) -> None:
        with self._lock:
            self.rate, self.statuses, self.retry_after = rate, statuses, retry_after
            if seed is not None:
                self._rng.seed(seed)

    def __call__(self, operation: str) -> Response | None:
        with self._lock:
            if self.rate <= 0 or self._rng.random() >= self.rate:
                return None
            status = self._rng.choice(self.statuses)
        return fault_response(status, self.retry_after)


class GraphApp:
    """The sandbox Graph endpoint over a :class:`MailStore` (see the module docstring)."""

    def __init__(
        self, store: MailStore, config: GraphConfig, fault_hook: FaultHook | None = None
    ) -> None:
        self.store = store
        self.config = config
        self.tokens = TokenService(config)
        self.ids = IdMap(store)
        self.delta = DeltaTokens()
        self.gate = MailboxGate(config.mailbox_concurrency)
        self.sends = SendLimiter(config.send_limit_per_minute)
        self.faults = FaultInjector()
        # A front-end with its own fault machinery sets this; by default the app's own
        # injector (idle until configured through /_sandbox/graph/faults) is used.
        self.fault_hook: FaultHook = fault_hook or self.faults
        self._folder_ids: dict[tuple[str, str], str] = {}
        self._counts: Counter[str] = Counter()
        self._count_lock = threading.Lock()

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
            query=_query(query),
            headers=hdrs,
            body=body,
            base=f"{scheme}://{host}",
            request_id=str(uuid.uuid4()),
            prefer=parse_prefer(hdrs.get("prefer", "")),
        )
        crid = hdrs.get("client-request-id", req.request_id)
        with self._count_lock:
            self._counts[self.operation(method, path)] += 1
        try:
            if path.lower().startswith("/_sandbox/graph/"):
                return self._control(req)
            if path.lower().startswith("/v1.0/"):
                status, out, payload = self._graph(req)
                out.setdefault("request-id", req.request_id)
                out.setdefault("client-request-id", crid)
                return status, out, payload
            return self._identity(req)
        except GraphError as exc:
            return error_response(exc, req.request_id, crid)

    # ------------------------------------------------------------ Entra ID endpoints

    def _identity(self, req: Request) -> Response:
        parts = [p for p in req.path.split("/") if p]
        login_base = req.base
        if req.method == "GET" and parts[:3] == ["common", "discovery", "instance"]:
            return _json(200, self.tokens.instance_discovery(login_base, _multi(req)))
        if len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            if not self.tokens.tenant_known(parts[0]):
                return _json(
                    400,
                    {
                        "error": "invalid_tenant",
                        "error_description": f"AADSTS90002: Tenant '{parts[0]}' not found.",
                        "error_codes": [90002],
                    },
                )
            return _json(200, self.tokens.openid_configuration(login_base, parts[0]))
        if len(parts) == 4 and parts[1:] == ["discovery", "v2.0", "keys"]:
            return _json(200, {"keys": []})
        if req.method == "POST" and len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]:
            status, payload = self.tokens.token(parts[0], req.body, f"{login_base}{req.path}")
            return _json(status, payload, {"Cache-Control": "no-store, no-cache"})
        return _json(404, {"error": "not_found", "error_description": f"No endpoint {req.path}"})

    # ------------------------------------------------------------ Graph API

    def _graph(self, req: Request) -> Response:
        sub = req.path[5:]
        if sub.lower() == "/$batch":
            if req.method != "POST":
                raise GraphError(
                    405,
                    "Request_BadRequest",
                    "Specified HTTP method is not allowed for the request target.",
                )
            req.principal = self.tokens.authenticate(req.headers.get("authorization"))
            return self._batch(req)
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
        mailbox = self._mailbox(match.group("user"), principal)
        if not set(route.roles) & set(principal.roles):
            raise permission_denied()
        fault = self.fault_hook(f"graph.{route.operation}")
        if fault is not None:
            return fault
        if not self.gate.enter(principal.client_id, mailbox):
            raise throttled(1)
        try:
            handler = cast(
                Callable[[Request, re.Match[str], str], Response], getattr(self, route.handler)
            )
            return handler(req, match, mailbox)
        except ItemNotFound as exc:
            raise not_found() from exc
        except FolderNotFound as exc:
            raise not_found() from exc
        finally:
            self.gate.leave(principal.client_id, mailbox)

    def _mailbox(self, segment: str, principal: Principal) -> str:
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
        app = self.config.app(principal.client_id)
        if app is None or not app.may_access(address):
            raise policy_denied()
        return address.lower()

    def _folder_name(self, mailbox: str, segment: str) -> str:
        name = unquote(segment)
        if name.lower() in WELL_KNOWN:
            return WELL_KNOWN[name.lower()]
        try:
            info = self.store.folder_by_id(name.replace("-", "/").replace("_", "+"))
        except FolderNotFound as exc:
            raise not_found() from exc
        if info.mailbox != mailbox:
            raise not_found()
        return info.name

    def _folder_id(self, mailbox: str, name: str) -> str:
        # Folder ids never change; store.folder() also counts items, too slow per message.
        key = (mailbox, name)
        if key not in self._folder_ids:
            self._folder_ids[key] = to_rest(self.store.folder(mailbox, name).id)
        return self._folder_ids[key]

    def _item(self, mailbox: str, graph_id: str) -> Item:
        item = self.ids.resolve(unquote(graph_id))
        if item.mailbox != mailbox:
            raise not_found()
        return item

    def _message(self, req: Request, item: Item, select: set[str] | None = None) -> dict[str, Any]:
        expand = _expand_props(req.query.get("expand"))
        return render.message_json(
            item,
            self.ids.graph_id(item, req.immutable),
            self._folder_id(item.mailbox, item.folder),
            select if select is not None else _select(req.query.get("select")),
            expand,
            "https://outlook.office365.com",
            req.prefer.get("outlook.body-content-type"),
        )

    def _display_name(self, mailbox: str) -> str:
        try:
            return self.store.mailbox_name(mailbox)
        except MailboxNotFound:
            return ""

    # ------------------------------------------------------------ messages

    def _get_message(self, req: Request, m: re.Match[str], mailbox: str) -> Response:
        item = self._item(mailbox, m.group("msg"))
        body = self._message(req, item)
        body["@odata.context"] = (
            f"{req.base}/v1.0/$metadata#users('{quote(mailbox)}')/messages/$entity"
        )
        return _json(200, body, _applied(req))

    def _get_mime(self, req: Request, m: re.Match[str], mailbox: str) -> Response:
        item = self._item(mailbox, m.group("msg"))
        mime = item.mime
        if mime is None:
            sender = Address(mailbox, self._display_name(mailbox))
            mime = outgoing_mime(item, sender, item.message_id or new_message_id())
        return 200, {"Content-Type": "text/plain"}, mime

    def _get_folder(self, req: Request, m: re.Match[str], mailbox: str) -> Response:
        name = self._folder_name(mailbox, m.group("folder"))
        info = self.store.folder(mailbox, name)
        return _json(
            200,
            {
                "@odata.context": f"{req.base}/v1.0/$metadata#users('{quote(mailbox)}')/mailFolders/$entity",
                "id": to_rest(info.id),
                "displayName": info.display_name,
                "parentFolderId": to_rest(self.store.folder(mailbox, info.parent_name).id)
                if info.parent_name
                else None,
                "childFolderCount": info.child_count,
                "unreadItemCount": info.unread,
                "totalItemCount": info.total,
                "isHidden": False,
            },
        )

    def _list_messages(self, req: Request, m: re.Match[str], mailbox: str) -> Response:
        folder_seg = m.groupdict().get("folder")
        folders = (self._folder_name(mailbox, folder_seg),) if folder_seg else MAIL_FOLDERS
        items = [
            it
            for f in folders
            for it in self.store.items(mailbox, f)
            if not it.item_class.startswith("IPM.Appointment")
        ]
        predicate = _filter(req.query.get("filter"))
        items = [it for it in items if predicate(it)]
        order = (req.query.get("orderby") or "receivedDateTime desc").strip().split()
        if order[0].lower() not in ("receiveddatetime", "sentdatetime", "createddatetime"):
            raise bad_request(
                f"The $orderby property '{order[0]}' is not supported.", "ErrorInvalidProperty"
            )
        attr = {"receiveddatetime": "date_received", "sentdatetime": "date_sent"}.get(
            order[0].lower(), "date_created"
        )
        epoch = datetime.min.replace(tzinfo=UTC)
        items.sort(
            key=lambda it: getattr(it, attr) or epoch,
            reverse=len(order) < 2 or order[1].lower() != "asc",
        )
        top, skip = _top_skip(req, self.config.default_page_size)
        page = items[skip : skip + top]
        body: dict[str, Any] = {
            "@odata.context": f"{req.base}/v1.0/$metadata#users('{quote(mailbox)}')/messages",
            "value": [self._message(req, it) for it in page],
        }
        if skip + top < len(items):
            body["@odata.nextLink"] = _next_link(req, {"$skip": str(skip + top)})
        return _json(200, body, _applied(req))

    def _create_message(self, req: Request, m: re.Match[str], mailbox: str) -> Response:
        item = self._new_draft(mailbox, req.json())
        return _json(201, self._message(req, item), _applied(req))

    def _new_draft(self, mailbox: str, message: dict[str, Any]) -> Item:
        me = Address(mailbox, self._display_name(mailbox))
        draft = self.store.create(
            mailbox, "drafts", NewItem(from_=me, is_draft=True, is_read=True, body_type="HTML")
        )
        try:
            return self.store.update(draft.id, lambda it: self._apply_patch(it, message))
        except GraphError:
            self.store.delete(draft.id)
            raise

    def _patch_message(self, req: Request, m: re.Match[str], mailbox: str) -> Response:
        item = self._item(mailbox, m.group("msg"))
        patch = req.json()
        updated = self.store.update(item.id, lambda it: self._apply_patch(it, patch))
        return _json(200, self._message(req, updated), _applied(req))

    def _delete_message(self, req: Request, m: re.Match[str], mailbox: str) -> Response:
        item = self._item(mailbox, m.group("msg"))
        if item.folder == "deleteditems":
            self.store.delete(item.id)
        else:
            self.ids.carry(item, self.store.move(item.id, "deleteditems"))
        return 204, {}, b""

    def _purge(self, req: Request, m: re.Match[str], mailbox: str) -> Response:
        """`permanentDelete` of a message or an event: gone at once, not in Deleted Items."""
        self.store.delete(self._item(mailbox, m.group("msg")).id)
        return 204, {}, b""

    def _delete_event(self, req: Request, m: re.Match[str], mailbox: str) -> Response:
        item = self._item(mailbox, m.group("msg"))
        if item.calendar is None:
            raise not_found()
        # As Graph documents: the event moves to Deleted Items (no attendees here: no cancellation).
        self.ids.carry(item, self.store.move(item.id, "deleteditems"))
        return 204, {}, b""

    def _move_message(self, req: Request, m: re.Match[str], mailbox: str) -> Response:
        item = self._item(mailbox, m.group("msg"))
        destination = req.json().get("destinationId")
        if not isinstance(destination, str):
            raise bad_request("The destinationId parameter is required.", "ErrorInvalidIdMalformed")
        folder = self._folder_name(mailbox, destination)
        if folder not in MAIL_FOLDERS:
            raise bad_request(
                "Messages can only be moved to mail folders.", "ErrorInvalidOperation"
            )
        moved = self.store.move(item.id, folder)
        self.ids.carry(item, moved)
        return _json(201, self._message(req, moved), _applied(req))

    def _apply_patch(self, item: Item, patch: dict[str, Any]) -> Item:
        changes: dict[str, Any] = {}
        extended: Any = None
        for key, value in patch.items():
            name = key.lower()
            if key.startswith("@"):
                continue
            if name == "isread":
                changes["is_read"] = _bool(value, key)
            elif name == "categories":
                if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
                    raise bad_request(
                        "categories must be a collection of strings.", "RequestBodyRead"
                    )
                changes["categories"] = tuple(value)
            elif name == "flag":
                changes["flag"] = _flag(value, item.flag)
            elif name == "importance":
                level = str(value).capitalize()
                if level not in ("Low", "Normal", "High"):
                    raise bad_request(
                        f"The value '{value}' is not valid for importance.", "RequestBodyRead"
                    )
                changes["importance"] = level
            elif name == "inferenceclassification":
                if value not in ("focused", "other"):
                    raise bad_request(
                        f"The value '{value}' is not valid for inferenceClassification.",
                        "RequestBodyRead",
                    )
            elif name == "singlevalueextendedproperties":
                extended = value
            elif name in _DRAFT_ONLY:
                if not item.is_draft:
                    raise bad_request(
                        "Update of one or more properties of a sent or received message is not "
                        "allowed.",
                        "ErrorInvalidPropertyUpdateSentMessage",
                    )
                changes.update(_draft_change(name, key, value))
            else:
                raise bad_request(
                    f"The property '{key}' does not exist on type 'Microsoft.OutlookServices."
                    "Message'. Make sure to only use property names that are defined by the type "
                    "or mark the type as open type.",
                    "RequestBodyRead",
                )
        item = replace(item, **changes)
        return item if extended is None else _extended(item, extended)

    # ------------------------------------------------------------ replying and sending

    def _create_reply(self, req: Request, m: re.Match[str], mailbox: str) -> Response:
        original = self._item(mailbox, m.group("msg"))
        me = Address(mailbox, self._display_name(mailbox))
        references = tuple(original.references) + (
            (original.message_id,) if original.message_id else ()
        )
        if req.headers.get("content-type", "").lower().startswith("text/plain"):
            mime = _base64_mime(req.body)
            draft = self.store.create(
                mailbox,
                "drafts",
                NewItem(
                    mime=mime,
                    is_draft=True,
                    is_read=True,
                    in_reply_to=original.message_id,
                    references=references,
                ),
            )
            return _json(201, self._message(req, draft), _applied(req))
        payload = req.json()
        comment = payload.get("comment", "")
        message = payload.get("message") or {}
        if not isinstance(comment, str) or not isinstance(message, dict):
            raise bad_request("Invalid createReply parameters.", "RequestBodyRead")
        if comment and "body" in message:
            raise bad_request(
                "Either 'comment' or 'message.body' may be specified, not both.",
                "ErrorInvalidRequest",
            )
        reply_to = [
            Address(a.strip().strip("<>"), "")
            for a in render.header_value(original, "Reply-To").split(",")
            if "@" in a
        ]
        recipients = tuple(reply_to) or tuple(
            a for a in (original.from_ or original.sender,) if a is not None
        )
        draft = self.store.create(
            mailbox,
            "drafts",
            NewItem(
                subject=f"RE: {render.normalized_subject(original.subject)}",
                from_=me,
                to=recipients,
                body=render.quoted_reply_body(original, comment),
                body_type="HTML",
                is_read=True,
                is_draft=True,
                in_reply_to=original.message_id,
                references=references,
            ),
        )
        if message:
            try:
                draft = self.store.update(draft.id, lambda it: self._apply_patch(it, message))
            except GraphError:
                self.store.delete(draft.id)
                raise
        return _json(201, self._message(req, draft), _applied(req))

    def _reply(self, req: Request, m: re.Match[str], mailbox: str) -> Response:
        """``reply``: createReply and send in one action (202, copy in Sent Items)."""
        _, _, body = self._create_reply(req, m, mailbox)
        draft = self.ids.resolve(json.loads(body)["id"])
        try:
            self._send_item(mailbox, draft, save_copy=True)
        except GraphError:
            self.store.delete(draft.id)
            raise
        return 202, {"Content-Length": "0"}, b""

    def _send_draft(self, req: Request, m: re.Match[str], mailbox: str) -> Response:
        draft = self._item(mailbox, m.group("msg"))
        if not draft.is_draft:
            raise bad_request("Only draft messages can be sent.", "ErrorInvalidOperation")
        self._send_item(mailbox, draft, save_copy=True)
        return 202, {"Content-Length": "0"}, b""

    def _send_item(self, mailbox: str, draft: Item, save_copy: bool) -> None:
        if not (draft.to or draft.cc or draft.bcc):
            raise bad_request(
                "At least one recipient is not valid., A message can't be sent because it "
                "contains no recipients.",
                "ErrorInvalidRecipients",
            )
        self._check_send_rate(mailbox)
        me = Address(mailbox, self._display_name(mailbox))
        mime = outgoing_mime(
            draft, me, new_message_id(), thread_index=child_thread_index(draft.conversation_index)
        )
        if save_copy:
            copy = self.store.create(
                mailbox,
                "sentitems",
                NewItem(
                    mime=mime,
                    subject=draft.subject,
                    from_=draft.from_ or me,
                    to=draft.to,
                    cc=draft.cc,
                    bcc=draft.bcc,
                    body=draft.body,
                    body_type=draft.body_type,
                    is_read=True,
                    categories=draft.categories,
                    extended=dict(draft.extended),
                    importance=draft.importance,
                    in_reply_to=draft.in_reply_to,
                    references=draft.references,
                ),
            )
            self.ids.carry(draft, copy)
        self.store.send(mailbox, NewItem(mime=mime, bcc=draft.bcc), save_copy=False)
        self.store.delete(draft.id)

    def _check_send_rate(self, mailbox: str) -> None:
        wait = self.sends.try_send(mailbox)
        if wait is not None:
            # Exchange Online documents ~30 messages per minute per mailbox; the sandbox
            # refuses the excess (instead of queueing it) so that pacing is testable.
            raise GraphError(
                429,
                "ErrorExceededMessageLimit",
                "Cannot send mail. The mailbox has exceeded its message rate limit of "
                f"{self.sends.per_minute} messages per minute. Try again later.",
                {"Retry-After": str(wait)},
            )

    def _send_mail(self, req: Request, m: re.Match[str], mailbox: str) -> Response:
        me = Address(mailbox, self._display_name(mailbox))
        if req.headers.get("content-type", "").lower().startswith("text/plain"):
            mime, _ = sanitize_submission(_base64_mime(req.body), me)
            self._check_send_rate(mailbox)
            self.store.create(mailbox, "sentitems", NewItem(mime=mime, is_read=True))
            self.store.send(mailbox, NewItem(mime=mime), save_copy=False)
            return 202, {"Content-Length": "0"}, b""
        payload = req.json()
        message = payload.get("message")
        if not isinstance(message, dict):
            raise bad_request("The 'message' parameter is required.", "ErrorInvalidRequest")
        save = payload.get("saveToSentItems", True)
        draft = self._new_draft(mailbox, message)
        try:
            self._send_item(mailbox, draft, save_copy=bool(save))
        except GraphError:
            self.store.delete(draft.id)
            raise
        return 202, {"Content-Length": "0"}, b""

    # ------------------------------------------------------------ delta

    def _delta(self, req: Request, m: re.Match[str], mailbox: str) -> Response:
        folder = self._folder_name(mailbox, m.group("folder"))
        token = req.query.get("deltatoken") or req.query.get("skiptoken")
        if token:
            state = self.delta.decode(token)
            if state.mailbox != mailbox or state.folder != folder:
                raise gone(state.epoch)
        else:
            if "search" in req.query:
                raise bad_request(
                    "$search is not supported on delta queries.", "ErrorInvalidUrlQuery"
                )
            delta_filter = req.query.get("filter")
            if delta_filter and not re.match(
                r"^\s*receivedDateTime\s+(ge|gt)\s+\S+\s*$", delta_filter, re.IGNORECASE
            ):
                raise bad_request(
                    "Delta queries support only $filter=receivedDateTime ge|gt {value}.",
                    "ErrorInvalidUrlQueryFilter",
                )
            change_type = req.query.get("changetype")
            if change_type not in (None, "created", "updated", "deleted"):
                raise bad_request(
                    f"The value '{change_type}' is not valid for changeType.",
                    "ErrorInvalidUrlQuery",
                )
            state = DeltaState(
                mailbox=mailbox,
                folder=folder,
                select=req.query.get("select"),
                expand=req.query.get("expand"),
                change_type=change_type,
                since=-1,
                upto=self.store.latest_seq(),
                cursor="",
                epoch=self.delta.epoch(mailbox),
                filter=delta_filter,
            )
        size = self.config.default_page_size
        if req.prefer.get("odata.maxpagesize", "").isdigit():
            size = max(1, min(int(req.prefer["odata.maxpagesize"]), self.config.max_page_size))
        if state.since < 0:
            entries, next_state = self._initial_page(state, size)
        else:
            entries, next_state = self._change_page(state, size)
        select = _select(state.select)
        expand = _expand_props(state.expand)
        values: list[dict[str, Any]] = []
        for entry in entries:
            if isinstance(entry, str):
                values.append(
                    {
                        "@odata.type": "#microsoft.graph.message",
                        "id": self.ids.former_id(entry, req.immutable),
                        "@removed": {"reason": "deleted"},
                    }
                )
            else:
                rendered = render.message_json(
                    entry,
                    self.ids.graph_id(entry, req.immutable),
                    self._folder_id(mailbox, folder),
                    select,
                    expand,
                    "https://outlook.office365.com",
                    req.prefer.get("outlook.body-content-type"),
                )
                values.append({"@odata.type": "#microsoft.graph.message", **rendered})
        base = f"{req.base}/v1.0/users/{quote(mailbox)}/mailFolders/{folder}/messages/delta"
        body: dict[str, Any] = {"@odata.context": f"{req.base}/v1.0/$metadata#Collection(message)"}
        if next_state.since >= 0 and next_state.cursor == "" and next_state.upto < 0:
            body["@odata.deltaLink"] = f"{base}?$deltatoken={self.delta.encode(next_state)}"
        else:
            body["@odata.nextLink"] = f"{base}?$skiptoken={self.delta.encode(next_state)}"
        body["value"] = values
        return _json(200, body, _applied(req, maxpagesize=size))

    def _initial_page(self, state: DeltaState, size: int) -> tuple[list[Item | str], DeltaState]:
        predicate = _filter(state.filter)
        items = sorted(
            (it for it in self.store.items(state.mailbox, state.folder) if predicate(it)),
            key=_sync_key,
        )
        if state.change_type == "deleted":
            items = []
        remaining = (
            [it for it in items if _sync_key(it) > tuple(state.cursor.split("|", 1))]
            if state.cursor
            else items
        )
        page = remaining[:size]
        if len(remaining) > size:
            return list(page), replace(state, cursor="|".join(_sync_key(page[-1])))
        return list(page), replace(state, since=state.upto, upto=-1, cursor="")

    def _change_page(self, state: DeltaState, size: int) -> tuple[list[Item | str], DeltaState]:
        upto = state.upto if state.upto >= 0 else self.store.latest_seq()
        log = self.store.changes_since(state.mailbox, [state.folder], state.since).changes
        first: dict[str, str] = {}
        last: dict[str, tuple[int, str]] = {}
        for change in log:
            if change.seq > upto:
                break
            first.setdefault(change.item_id, change.kind)
            last[change.item_id] = (change.seq, change.kind)
        predicate = _filter(state.filter)
        after = int(state.cursor) if state.cursor else state.since
        pending = sorted(
            ((seq, item_id, kind) for item_id, (seq, kind) in last.items() if seq > after),
        )
        entries: list[Item | str] = []
        cursor = after
        taken = 0
        for seq, item_id, kind in pending:
            if taken >= size:
                break
            cursor = seq
            created = first[item_id] == "create"
            if kind == "delete":
                if state.change_type in (None, "deleted"):
                    entries.append(item_id)
                    taken += 1
                continue
            if state.change_type == "deleted" or (state.change_type == "created" and not created):
                continue
            if state.change_type == "updated" and created:
                continue
            try:
                item = self.store.get(item_id)
            except ItemNotFound:
                continue  # removed after this round's end: reported next round
            if item.folder != state.folder or not predicate(item):
                continue
            entries.append(item)
            taken += 1
        more = any(seq > cursor for seq, _, _ in pending)
        if more:
            return entries, replace(state, upto=upto, cursor=str(cursor))
        return entries, replace(state, since=upto, upto=-1, cursor="")

    # ------------------------------------------------------------ calendars

    def _create_event(self, req: Request, m: re.Match[str], mailbox: str) -> Response:
        p = req.json()
        transaction = p.get("transactionId")
        tz_name = req.prefer.get("outlook.timezone") or str(
            (p.get("start") or {}).get("timeZone") or "UTC"
        )
        if isinstance(transaction, str) and transaction:
            for existing in self.store.items(mailbox, "calendar"):
                if read_property(existing, TRANSACTION_ID) == transaction:
                    body = render.event_json(
                        existing,
                        self.ids.graph_id(existing, req.immutable),
                        tz_name,
                        "https://outlook.office365.com",
                    )
                    body["transactionId"] = transaction
                    return _json(201, body, _applied(req))
        start = render.parse_date_time_time_zone(p.get("start"), "start")
        end = render.parse_date_time_time_zone(p.get("end"), "end")
        if end < start:
            raise bad_request(
                "The end of the event must be after its start.", "ErrorInvalidRequest"
            )
        attendees = []
        for entry in p.get("attendees") or []:
            address = render.parse_recipients([entry], "attendees")[0]
            kind = str(entry.get("type", "required")).lower()
            attendees.append(Attendee(address=address, required=kind != "optional"))
        body_obj = p.get("body") or {}
        show = str(p.get("showAs", "busy")).lower()
        location = p.get("location") or {}
        me = Address(mailbox, self._display_name(mailbox))
        cal = CalendarFields(
            start=start,
            end=end,
            organizer=me,
            attendees=tuple(attendees),
            free_busy=render.SHOW_AS_IN.get(show, "Busy"),
            location=str(location.get("displayName", "")) if isinstance(location, dict) else "",
            uid=uuid.uuid4().hex.upper(),
            is_all_day=bool(p.get("isAllDay", False)),
        )
        extended: dict[str, tuple[PropertyKey, ExtendedValue]] = {}
        if isinstance(transaction, str) and transaction:
            extended[TRANSACTION_ID.canonical] = (TRANSACTION_ID, transaction)
        item = self.store.create(
            mailbox,
            "calendar",
            NewItem(
                item_class="IPM.Appointment",
                subject=str(p.get("subject", "")),
                from_=me,
                to=tuple(a.address for a in attendees if a.required),
                cc=tuple(a.address for a in attendees if not a.required),
                body=str(body_obj.get("content", "")) if isinstance(body_obj, dict) else "",
                body_type="HTML"
                if isinstance(body_obj, dict)
                and str(body_obj.get("contentType", "")).lower() == "html"
                else "Text",
                is_read=True,
                calendar=cal,
                extended=extended,
            ),
        )
        if attendees:
            self.store.send_meeting(item.id)
        body = render.event_json(
            item, self.ids.graph_id(item, req.immutable), tz_name, "https://outlook.office365.com"
        )
        body["transactionId"] = transaction if isinstance(transaction, str) else None
        body["@odata.context"] = (
            f"{req.base}/v1.0/$metadata#users('{quote(mailbox)}')/events/$entity"
        )
        return _json(201, body, _applied(req))

    def _calendar_view(self, req: Request, m: re.Match[str], mailbox: str) -> Response:
        start_text = req.query.get("startdatetime")
        end_text = req.query.get("enddatetime")
        if not start_text or not end_text:
            raise bad_request(
                "This request requires a time window specified by the query string parameters "
                "StartDateTime and EndDateTime.",
                "ErrorInvalidParameter",
            )
        start, end = render.parse_datetime(start_text), render.parse_datetime(end_text)
        tz_name = req.prefer.get("outlook.timezone", "UTC")
        render.zone(tz_name)
        items = self.store.calendar_between(mailbox, start, end)
        top, skip = _top_skip(req, self.config.default_page_size)
        body: dict[str, Any] = {
            "@odata.context": f"{req.base}/v1.0/$metadata#users('{quote(mailbox)}')/calendarView",
            "value": [
                render.event_json(
                    it,
                    self.ids.graph_id(it, req.immutable),
                    tz_name,
                    "https://outlook.office365.com",
                )
                for it in items[skip : skip + top]
            ],
        }
        if skip + top < len(items):
            body["@odata.nextLink"] = _next_link(req, {"$skip": str(skip + top)})
        return _json(200, body, _applied(req))

    def _get_schedule(self, req: Request, m: re.Match[str], mailbox: str) -> Response:
        p = req.json()
        schedules = p.get("schedules")
        if not isinstance(schedules, list) or not schedules:
            raise bad_request("The 'schedules' parameter is required.", "ErrorInvalidParameter")
        start = render.parse_date_time_time_zone(p.get("startTime"), "startTime")
        end = render.parse_date_time_time_zone(p.get("endTime"), "endTime")
        interval = p.get("availabilityViewInterval", 30)
        if not isinstance(interval, int) or not 5 <= interval <= 1440:
            raise bad_request(
                "availabilityViewInterval must be between 5 and 1440 minutes.",
                "ErrorInvalidParameter",
            )
        tz_name = req.prefer.get("outlook.timezone", "UTC")
        render.zone(tz_name)
        result: list[dict[str, Any]] = []
        for schedule in schedules:
            address = str(schedule)
            if not self.store.has_mailbox(address):
                result.append(
                    {
                        "scheduleId": address,
                        "availabilityView": "",
                        "scheduleItems": [],
                        "error": {
                            "message": f"The recipient '{address}' could not be found.",
                            "responseCode": "ErrorMailRecipientNotFound",
                        },
                    }
                )
                continue
            items = [
                it
                for it in self.store.calendar_between(address, start, end)
                if it.calendar is not None
            ]
            view = []
            for slot_start, slot_end in render.slots(start, end, interval):
                busy = [
                    it.calendar.free_busy
                    for it in items
                    if it.calendar is not None
                    and it.calendar.start < slot_end
                    and it.calendar.end > slot_start
                ]
                top = max(busy, key=lambda s: render.AVAILABILITY_RANK.get(s, 3), default="Free")
                view.append(str(render.AVAILABILITY_DIGIT.get(top, 2)))
            result.append(
                {
                    "scheduleId": address,
                    "availabilityView": "".join(view),
                    "scheduleItems": [
                        {
                            "isPrivate": False,
                            "status": render.show_as(it.calendar.free_busy),
                            "subject": it.subject,
                            "location": it.calendar.location,
                            "start": render.date_time_time_zone(it.calendar.start, tz_name),
                            "end": render.date_time_time_zone(it.calendar.end, tz_name),
                        }
                        for it in items
                        if it.calendar is not None and it.calendar.free_busy != "Free"
                    ],
                    "workingHours": {
                        "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                        "startTime": "08:00:00.0000000",
                        "endTime": "17:00:00.0000000",
                        "timeZone": {"name": self.config.working_hours_time_zone},
                    },
                }
            )
        return _json(
            200,
            {
                "@odata.context": f"{req.base}/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)",
                "value": result,
            },
        )

    # ------------------------------------------------------------ batching

    def _batch(self, req: Request) -> Response:
        payload = req.json()
        steps = payload.get("requests")
        if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
            raise bad_request("Invalid batch payload format.", "BadRequest")
        if len(steps) > MAX_BATCH:
            raise bad_request("Number of requests inside batch exceeds the limit.", "BadRequest")
        ids = [str(s.get("id", "")).lower() for s in steps]
        if any(not i for i in ids) or len(set(ids)) != len(ids):
            raise bad_request("Batch request ids must be present and unique.", "BadRequest")
        sequential = any(s.get("dependsOn") for s in steps)
        per_mailbox: Counter[str] = Counter()
        statuses: dict[str, int] = {}
        responses = []
        for step in steps:
            step_id = str(step["id"])
            method = str(step.get("method", "GET")).upper()
            url = str(step.get("url", ""))
            parsed = urlsplit(url if "://" in url else "/" + url.lstrip("/"))
            path = parsed.path
            if path.lower().startswith("/v1.0/"):
                path = path[5:]
            headers = {str(k): str(v) for k, v in (step.get("headers") or {}).items()}
            headers.setdefault("Authorization", req.headers.get("authorization", ""))
            headers["Host"] = req.headers.get("host", "localhost")
            body = step.get("body")
            raw = b""
            if body is not None:
                raw = (
                    json.dumps(body).encode()
                    if isinstance(body, dict | list)
                    else str(body).encode()
                )
            depends = [str(d).lower() for d in step.get("dependsOn") or []]
            failed_dep = any(statuses.get(d, 424) >= 400 for d in depends)
            with self._count_lock:
                self._counts["batch:" + self.operation(method, "/v1.0" + path)] += 1
            if failed_dep:
                result: Response = error_response(
                    GraphError(424, "FailedDependency", "The dependent request failed."),
                    req.request_id,
                )
            else:
                user = re.match(r"^/users/([^/]+)", path, re.IGNORECASE)
                mailbox = unquote(user.group(1)).lower() if user else ""
                per_mailbox[mailbox] += 1
                if (
                    self.config.batch_parallel_throttling
                    and not sequential
                    and mailbox
                    and per_mailbox[mailbox] > self.config.mailbox_concurrency
                ):
                    result = error_response(throttled(1), req.request_id)
                else:
                    result = self._sub_request(method, path, parsed.query, headers, raw)
                    if result[0] == 0:  # a "drop" fault cannot drop one step of a batch
                        result = fault_response(503)
            statuses[step_id.lower()] = result[0]
            responses.append(_batch_entry(step_id, result))
        return _json(200, {"responses": responses})

    def _sub_request(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Response:
        hdrs = {k.lower(): v for k, v in headers.items()}
        req = Request(
            method=method,
            path="/v1.0" + path,
            query=_query(query),
            headers=hdrs,
            body=body,
            base=f"https://{hdrs.get('host', 'localhost')}",
            request_id=str(uuid.uuid4()),
            prefer=parse_prefer(hdrs.get("prefer", "")),
        )
        try:
            if path.lower() == "/$batch":
                raise bad_request("Nested batch requests are not supported.", "BadRequest")
            return self._graph(req)
        except GraphError as exc:
            return error_response(exc, req.request_id, hdrs.get("client-request-id"))

    # ------------------------------------------------------------ control endpoints

    def _control(self, req: Request) -> Response:
        action = req.path.lower().removeprefix("/_sandbox/graph/").strip("/")
        if req.method == "GET" and action == "stats":
            return _json(200, self.stats())
        if req.method != "POST":
            raise GraphError(405, "MethodNotAllowed", "Control endpoints take POST.")
        p = req.json()
        if action == "expire-delta":
            mailbox = p.get("mailbox")
            self.delta.expire(str(mailbox) if mailbox else None)
            return _json(200, {"expired": mailbox or "all"})
        if action == "revoke":
            mode = str(p.get("mode", "secret_expired"))
            if mode not in ("secret_expired", "disabled", "certificate_removed", "tokens"):
                raise bad_request(f"unknown revocation mode {mode!r}")
            targets = (
                [str(p["client_id"])]
                if p.get("client_id")
                else [a.client_id for a in self.config.apps]
            )
            for client_id in targets:
                self.tokens.revoke(client_id, mode)  # type: ignore[arg-type]  # checked above
            return _json(200, {"revoked": targets, "mode": mode})
        if action == "restore":
            self.tokens.restore(str(p["client_id"]) if p.get("client_id") else None)
            return _json(200, {"restored": p.get("client_id") or "all"})
        if action == "send-limit":
            per_minute = p.get("per_minute", 0)
            if not isinstance(per_minute, int) or per_minute < 0:
                raise bad_request("per_minute must be an integer >= 0")
            self.sends.per_minute = per_minute
            return _json(200, {"per_minute": per_minute})
        if action == "token-lifetime":
            seconds = p.get("seconds")
            if not isinstance(seconds, int) or seconds < 1:
                raise bad_request("seconds must be a positive integer")
            self.tokens.token_lifetime = seconds
            return _json(200, {"seconds": seconds})
        if action == "certificates":
            app = self.config.app(str(p.get("client_id", "")))
            if app is None or not isinstance(p.get("certificate"), str):
                raise bad_request("give the client_id of a configured app and a PEM certificate")
            cert = AppCertificate.from_pem(str(p["certificate"]).encode())
            self._set_config(
                self.config.with_app(replace(app, certificates=(*app.certificates, cert)))
            )
            return _json(200, {"thumbprint": cert.sha1.upper(), "sha256": cert.sha256})
        if action == "faults":
            statuses = tuple(int(s) for s in p.get("statuses", [429, 503]))
            self.faults.configure(
                float(p.get("rate", 0.0)), statuses, int(p.get("retry_after", 1)), p.get("seed")
            )
            return _json(200, {"rate": self.faults.rate, "statuses": list(statuses)})
        if action == "deliver":
            mailbox, mime = p.get("mailbox"), p.get("mime")
            if not isinstance(mailbox, str) or not isinstance(mime, str):
                raise bad_request("give mailbox and mime (RFC 5322 text)")
            item = self.store.deliver(mailbox, mime.encode())
            return _json(200, {"id": to_rest(item.id)})
        raise GraphError(404, "NotFound", f"No control endpoint {action!r}.")

    def _set_config(self, config: GraphConfig) -> None:
        self.config = config
        self.tokens.config = config


# ---------------------------------------------------------------- helpers

_DRAFT_ONLY = {
    "subject",
    "body",
    "torecipients",
    "ccrecipients",
    "bccrecipients",
    "replyto",
    "internetmessageheaders",
    "from",
    "sender",
}


def user_object_id(address: str) -> str:
    """The sandbox's stable Entra object id of a mailbox user (a UUID from the address)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "mailbox:" + address.lower()))


def _json(status: int, body: Any, headers: Headers | None = None) -> Response:
    out: Headers = {"Content-Type": JSON_TYPE, "OData-Version": "4.0", "Cache-Control": "no-cache"}
    out.update(headers or {})
    return status, out, json.dumps(body).encode()


def _applied(req: Request, maxpagesize: int | None = None) -> Headers:
    applied = []
    if maxpagesize is not None and "odata.maxpagesize" in req.prefer:
        applied.append(f"odata.maxpagesize={maxpagesize}")
    if req.immutable:
        applied.append('IdType="ImmutableId"')
    if "outlook.timezone" in req.prefer:
        applied.append(f'outlook.timezone="{req.prefer["outlook.timezone"]}"')
    if "outlook.body-content-type" in req.prefer:
        applied.append(f'outlook.body-content-type="{req.prefer["outlook.body-content-type"]}"')
    return {"Preference-Applied": ", ".join(applied)} if applied else {}


def _query(raw: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        result.setdefault(key.lower().lstrip("$"), value)
    return result


def _multi(req: Request) -> dict[str, list[str]]:
    return {k: [v] for k, v in req.query.items()}


def _select(text: str | None) -> set[str] | None:
    if not text:
        return None
    return {s.strip().lower() for s in text.split(",") if s.strip()}


_EXPAND = re.compile(r"^singleValueExtendedProperties(?:\((.*)\))?$", re.IGNORECASE)


def _expand_props(text: str | None) -> list[str] | None:
    if not text:
        return None
    match = _EXPAND.match(text.strip())
    if match is None:
        raise bad_request(
            f"Parsing OData Select and Expand failed: '{text}' is not supported.", "BadRequest"
        )
    if not match.group(1):
        return []
    filt = re.match(r"^\s*\$filter=(.*)$", match.group(1), re.IGNORECASE)
    if filt is None:
        raise bad_request("Only $filter is supported inside $expand.", "BadRequest")
    ids = re.findall(r"id\s+eq\s+'([^']*)'", filt.group(1), re.IGNORECASE)
    if not ids:
        raise bad_request("The $filter of an extended property must compare its id.", "BadRequest")
    for prop in ids:
        render.parse_property_id(prop)
    return ids


_ANY = re.compile(
    r"^singleValueExtendedProperties/any\(\s*(\w+)\s*:\s*\1/id\s+eq\s+'([^']*)'\s+and\s+\1/value\s+eq\s+'([^']*)'\s*\)$",
    re.IGNORECASE,
)
_CMP = re.compile(r"^(\w+)\s+(eq|ne|ge|gt|le|lt)\s+(.+)$", re.IGNORECASE)


def _filter(text: str | None) -> Callable[[Item], bool]:
    """A predicate for the few ``$filter`` forms the sandbox understands."""
    if not text:
        return lambda _item: True
    clauses = [c.strip() for c in re.split(r"\s+and\s+(?![^()]*\))", text.strip())]
    tests: list[Callable[[Item], bool]] = []
    for clause in clauses:
        any_match = _ANY.match(clause)
        if any_match:
            key = render.parse_property_id(any_match.group(2))
            wanted = any_match.group(3)
            tests.append(_has_property(key, wanted))
            continue
        cmp_match = _CMP.match(clause)
        if cmp_match is None:
            raise bad_request("Invalid filter clause", "ErrorInvalidUrlQueryFilter")
        prop, op, literal = (
            cmp_match.group(1).lower(),
            cmp_match.group(2).lower(),
            cmp_match.group(3).strip(),
        )
        tests.append(_comparison(prop, op, literal))
    return lambda it: all(t(it) for t in tests)


def _has_property(key: PropertyKey, wanted: str) -> Callable[[Item], bool]:
    def test(item: Item) -> bool:
        return read_property(item, key) == wanted

    return test


def _comparison(prop: str, op: str, literal: str) -> Callable[[Item], bool]:
    def compare(a: Any, b: Any) -> bool:
        if a is None:
            return op == "ne"
        return bool(
            {"eq": a == b, "ne": a != b, "ge": a >= b, "gt": a > b, "le": a <= b, "lt": a < b}[op]
        )

    if prop in ("receiveddatetime", "sentdatetime", "createddatetime", "lastmodifieddatetime"):
        moment = render.parse_datetime(literal)
        attr = {
            "receiveddatetime": "date_received",
            "sentdatetime": "date_sent",
            "createddatetime": "date_created",
            "lastmodifieddatetime": "last_modified",
        }[prop]
        return lambda it: compare(getattr(it, attr), moment)
    if prop in ("isread", "isdraft"):
        if literal.lower() not in ("true", "false"):
            raise bad_request("Invalid filter clause", "ErrorInvalidUrlQueryFilter")
        flag = literal.lower() == "true"
        attr = "is_read" if prop == "isread" else "is_draft"
        return lambda it: compare(getattr(it, attr), flag)
    if (
        literal.startswith("'")
        and literal.endswith("'")
        and prop in ("internetmessageid", "subject", "conversationid")
    ):
        text = literal[1:-1].replace("''", "'")
        if prop == "internetmessageid":
            return lambda it: compare(it.message_id, text)
        if prop == "subject":
            return lambda it: compare(it.subject, text)
        return lambda it: compare(render.conversation_id(it), text)
    raise bad_request(
        f"The property '{prop}' cannot be used in a $filter in the sandbox.",
        "ErrorInvalidUrlQueryFilter",
    )


def _top_skip(req: Request, default: int) -> tuple[int, int]:
    try:
        top = int(req.query.get("top", default))
        skip = int(req.query.get("skip", 0))
    except ValueError as exc:
        raise bad_request("$top and $skip must be integers.", "BadRequest") from exc
    if top < 1 or skip < 0:
        raise bad_request("$top must be positive and $skip not negative.", "BadRequest")
    return min(top, 1000), skip


def _next_link(req: Request, changes: dict[str, str]) -> str:
    params = {("$" + k if k in _ODATA else k): v for k, v in req.query.items()}
    params.update(changes)
    return f"{req.base}{req.path}?{urlencode(params, safe='$,()/: ')}"


_ODATA = {"select", "expand", "filter", "orderby", "top", "skip", "count", "search"}


def _sync_key(item: Item) -> tuple[str, str]:
    created = item.date_created.isoformat() if item.date_created else ""
    return created, item.id


def _bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise bad_request(
            f"Cannot convert the literal '{value}' to the expected type 'Edm.Boolean' for '{key}'.",
            "RequestBodyRead",
        )
    return value


def _flag(value: Any, old: Flag) -> Flag:
    if not isinstance(value, dict):
        raise bad_request("flag must be a followupFlag object.", "RequestBodyRead")
    status_map = {"notflagged": "NotFlagged", "flagged": "Flagged", "complete": "Complete"}
    raw_status = str(value.get("flagStatus", "flagged" if value else "notFlagged")).lower()
    if raw_status not in status_map:
        raise bad_request(
            f"The value '{raw_status}' is not valid for flagStatus.", "RequestBodyRead"
        )
    status = status_map[raw_status]
    if status == "NotFlagged":
        return Flag()
    start = (
        render.parse_date_time_time_zone(value["startDateTime"], "startDateTime")
        if value.get("startDateTime")
        else old.start
    )
    due = (
        render.parse_date_time_time_zone(value["dueDateTime"], "dueDateTime")
        if value.get("dueDateTime")
        else old.due
    )
    if due is not None and start is None:
        raise bad_request(
            "The flag's startDateTime must be set when dueDateTime is set.", "ErrorInvalidArgument"
        )
    complete = None
    if status == "Complete":
        complete = (
            render.parse_date_time_time_zone(value["completedDateTime"], "completedDateTime")
            if value.get("completedDateTime")
            else datetime.now(UTC).replace(microsecond=0)
        )
    return Flag(status=status, start=start, due=due, complete=complete)  # type: ignore[arg-type]  # status comes from status_map


def _extended(item: Item, value: Any) -> Item:
    if not isinstance(value, list):
        raise bad_request("singleValueExtendedProperties must be a collection.", "RequestBodyRead")
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise bad_request("Each extended property needs an id and a value.", "RequestBodyRead")
        key = render.parse_property_id(entry["id"])
        try:
            item = write_property(item, key, render.check_property_value(key, entry.get("value")))
        except ReadOnlyProperty as exc:
            raise bad_request(
                f"The property '{entry['id']}' is read-only and cannot be set.",
                "ErrorInvalidPropertySet",
            ) from exc
    return item


def _draft_change(name: str, key: str, value: Any) -> dict[str, Any]:
    if name == "subject":
        if not isinstance(value, str):
            raise bad_request("subject must be a string.", "RequestBodyRead")
        return {"subject": value}
    if name == "body":
        if not isinstance(value, dict):
            raise bad_request("body must be an itemBody object.", "RequestBodyRead")
        kind = str(value.get("contentType", "text")).lower()
        return {
            "body": str(value.get("content", "")),
            "body_type": "HTML" if kind == "html" else "Text",
        }
    if name in ("torecipients", "ccrecipients", "bccrecipients"):
        field_name = {"torecipients": "to", "ccrecipients": "cc", "bccrecipients": "bcc"}[name]
        return {field_name: render.parse_recipients(value, key)}
    if name == "internetmessageheaders":
        if not isinstance(value, list):
            raise bad_request("internetMessageHeaders must be a collection.", "RequestBodyRead")
        headers = []
        for entry in value:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise bad_request(
                    "Each internet message header needs a name and a value.", "RequestBodyRead"
                )
            header_name = entry["name"]
            if not header_name.lower().startswith("x-"):
                raise GraphError(
                    400,
                    "InvalidInternetMessageHeader",
                    f"The internet message header name '{header_name}' should start with "
                    "'x-' or 'X-'.",
                )
            header_value = str(entry.get("value", ""))
            if "\r" in header_value or "\n" in header_value:
                raise GraphError(
                    400,
                    "InvalidInternetMessageHeader",
                    f"The internet message header value of '{header_name}' is not valid.",
                )
            headers.append((header_name, header_value))
        if len(headers) > MAX_CUSTOM_HEADERS:
            raise GraphError(
                400,
                "InvalidInternetMessageHeaderCollection",
                f"Maximum number of headers in one message should be less than or equal to {MAX_CUSTOM_HEADERS}.",
            )
        return {"headers": tuple(headers)}
    if name in ("from", "sender"):
        found = render.parse_recipients([value], key)
        return {"from_" if name == "from" else "sender": found[0]}
    return {}  # replyTo: kept by Exchange as a property the sandbox does not model


def _base64_mime(body: bytes) -> bytes:
    try:
        mime = base64.b64decode(b"".join(body.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise bad_request(
            "Invalid base64 string for MIME content.", "ErrorMimeContentInvalidBase64String"
        ) from exc
    if not mime.strip():
        raise bad_request(
            "Invalid base64 string for MIME content.", "ErrorMimeContentInvalidBase64String"
        )
    return mime


def _batch_entry(step_id: str, result: Response) -> dict[str, Any]:
    status, headers, body = result
    keep = {
        k: v
        for k, v in headers.items()
        if k.lower() in ("content-type", "retry-after", "location", "preference-applied")
    }
    entry: dict[str, Any] = {"id": step_id, "status": status, "headers": keep}
    if body:
        if headers.get("Content-Type", "").startswith("application/json"):
            entry["body"] = json.loads(body)
        else:
            entry["body"] = base64.b64encode(body).decode()
    return entry
