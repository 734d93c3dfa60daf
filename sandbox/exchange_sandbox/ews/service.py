"""The EWS operation table of the sandbox (a test double): one SOAP request in, one SOAP answer out.

Answers requests to ``/EWS/Exchange.asmx`` the way Exchange Server 2016/2019 does:
``ServerVersionInfo`` header, one response message per requested id with ``ResponseClass``
and ``ResponseCode``, documented error codes, throttling as a SOAP fault carrying
``BackOffMilliseconds``. The operations live in one module per family; the mailbox data in
:mod:`exchange_sandbox.store`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from lxml import etree

from exchange_sandbox.config import SandboxConfig, UserConfig
from exchange_sandbox.ews import availability, folders, items, names, send, sync, versions
from exchange_sandbox.ews.access import Caller, caller_of
from exchange_sandbox.ews.faults import (
    EwsFault,
    fault_of,
    schema_fault,
    serialize,
    server_busy,
    soap_fault,
    syntax_fault,
)
from exchange_sandbox.ews.fields import REQUEST_ZONE
from exchange_sandbox.ews.notifications import EventStream, Notifications, Subscription
from exchange_sandbox.ews.responses import envelope
from exchange_sandbox.ews.throttling import Budgets
from exchange_sandbox.ews.validation import violation
from exchange_sandbox.ews.xml import MNS, PARSER, SOAP_NS, Element
from exchange_sandbox.ews.zones import SerializableZone, context_zone
from exchange_sandbox.store import MailStore

Operation = Callable[[Element, Caller], Element]


@dataclass(frozen=True)
class Prepared:
    """A request Exchange would run: its operation, the operation element, the caller."""

    name: str
    op: Element
    caller: Caller
    zone: SerializableZone | None = None
    """The request's TimeZoneContext (Exchange2010 and later), None for UTC."""


def operation_of(body: bytes) -> str:
    """Name of the EWS operation in a SOAP request, or "" when it cannot be told."""
    try:
        root = etree.fromstring(body, PARSER)
    except etree.XMLSyntaxError:
        return ""
    soap_body = root.find(f"{{{SOAP_NS}}}Body")
    if soap_body is None or len(soap_body) == 0:
        return ""
    return _op_name(str(etree.QName(soap_body[0]).localname))


def _op_name(element_name: str) -> str:
    # The one operation whose request element carries a "Request" suffix.
    return "GetUserAvailability" if element_name == "GetUserAvailabilityRequest" else element_name


class EwsService:
    """Turns SOAP request bytes into SOAP response bytes against a MailStore."""

    def __init__(self, store: MailStore, config: SandboxConfig) -> None:
        self.store = store
        self.config = config
        self.settings = config.ews
        self.budgets = Budgets()
        self.notifications = Notifications(
            store, config.build, lambda: self.settings.max_subscriptions
        )
        self._ops: dict[str, Operation] = {
            "GetFolder": partial(folders.get_folder, store),
            "FindFolder": partial(folders.find_folder, store),
            "CreateFolder": partial(folders.create_folder, store),
            "FindItem": partial(items.find_item, store),
            "GetItem": partial(items.get_item, store),
            "SyncFolderItems": partial(sync.sync_folder_items, store),
            "CreateItem": partial(send.create_item, store),
            "UpdateItem": partial(items.update_item, store),
            "DeleteItem": partial(items.delete_item, store),
            "SendItem": partial(send.send_item, store),
            "MoveItem": partial(items.move_item, store),
            "GetUserAvailability": partial(availability.get_user_availability, store, config),
            "GetServerTimeZones": partial(availability.get_server_time_zones, store),
            "Subscribe": self.notifications.subscribe,
            "GetEvents": self.notifications.get_events,
            "Unsubscribe": self.notifications.unsubscribe,
            "GetStreamingEvents": self._not_streamed,
            "ConvertId": partial(names.convert_id, store),
            "ResolveNames": partial(names.resolve_names, store, config),
        }

    def set(self, **settings: Any) -> None:
        """Change EWS settings at runtime (``strict`` and the throttling limits of ``[ews]``)."""
        self.settings = replace(self.settings, **settings)

    def prepare(self, request: bytes, user: UserConfig) -> Prepared | tuple[int, bytes]:
        """Read, version-check and validate a request as Exchange does before running it;
        the refusal (HTTP status, SOAP fault) when it does not get that far."""
        try:
            root = etree.fromstring(request, PARSER)
        except etree.XMLSyntaxError as exc:
            return 500, syntax_fault(exc)
        header = root.find(f"{{{SOAP_NS}}}Header")
        soap_body = root.find(f"{{{SOAP_NS}}}Body")
        if soap_body is None or len(soap_body) == 0:
            return 500, soap_fault("ErrorInvalidRequest", "The request is invalid.")
        op_el = soap_body[0]
        try:
            version = versions.request_version(header, self.config.build)
        except EwsFault as exc:
            return 500, fault_of(exc)
        if self.settings.strict:
            found = violation(root, request)
            if found is not None:
                return 500, schema_fault(found.text, found.line, found.position)
        name = _op_name(etree.QName(op_el).localname)
        if etree.QName(op_el).namespace != MNS or name not in self._ops:
            # Not ErrorInvalidRequest: exchangelib takes that fault for a wrong schema version
            # and retries every version it knows before giving up with a misleading error.
            return 500, soap_fault(
                "ErrorInvalidOperation", f"The sandbox does not implement the operation {name}."
            )
        try:
            versions.check_request(op_el, version)
            zone = context_zone(header, version)
            caller = caller_of(self.store, header, user, version)
        except EwsFault as exc:
            return 500, fault_of(exc)
        return Prepared(name, op_el, caller, zone)

    def handle(self, request: bytes, user: UserConfig) -> tuple[int, bytes]:
        """Answer one SOAP request; returns (HTTP status, body)."""
        prepared = self.prepare(request, user)
        if isinstance(prepared, tuple):
            return prepared
        env, body = envelope(self.config.build)
        token = REQUEST_ZONE.set(prepared.zone)
        try:
            body.append(self._ops[prepared.name](prepared.op, prepared.caller))
        except EwsFault as exc:
            return 500, fault_of(exc)
        finally:
            REQUEST_ZONE.reset(token)
        return 200, serialize(env)

    # ------------------------------------------------------------ throttling and streaming

    def server_busy(self, back_off_ms: int) -> bytes:
        """ErrorServerBusy with BackOffMilliseconds, the SOAP fault of EWS throttling."""
        return server_busy(back_off_ms)

    def open_stream(self, request: bytes, user: UserConfig) -> tuple[int, bytes] | EventStream:
        """Start a GetStreamingEvents answer, or give the (status, body) of its refusal."""
        prepared = self.prepare(request, user)
        if isinstance(prepared, tuple):
            return prepared
        return self.notifications.open_stream(prepared.op, prepared.caller)

    def _not_streamed(self, op: Element, caller: Caller) -> Element:
        # The HTTP server streams GetStreamingEvents itself (open_stream); never called here.
        raise EwsFault("ErrorInvalidRequest", "GetStreamingEvents is answered as a stream.")

    def stream_document(self, subs: Sequence[Subscription], status: str) -> bytes:
        return self.notifications.stream_document(subs, status)

    def has_pending(self, subs: Sequence[Subscription]) -> bool:
        return self.notifications.has_pending(subs)
