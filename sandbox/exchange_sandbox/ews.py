"""EWS SOAP operations of the sandbox Exchange server (a test double, never production).

Answers requests to ``/EWS/Exchange.asmx`` the way Exchange Server 2016/2019 does:
``ServerVersionInfo`` header, one response message per requested id with ``ResponseClass``
and ``ResponseCode``, documented error codes, throttling as a SOAP fault carrying
``BackOffMilliseconds``. The mailbox data lives in :mod:`exchange_sandbox.store`.

Known simplifications against real Exchange are listed in the module docstring of
:mod:`exchange_sandbox.server`.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from lxml import etree

from exchange_sandbox.config import SandboxConfig, UserConfig
from exchange_sandbox.ews_xml import (
    ENS,
    MNS,
    NSMAP,
    SOAP_NS,
    TNS,
    WEEKDAYS,
    ZONES,
    Element,
    EwsFault,
    RenderContext,
    SerializableZone,
    Shape,
    applies_to,
    apply_fields,
    boolean,
    clear_field,
    iso,
    item_fields,
    item_kind,
    local_iso,
    m,
    parse_dt,
    parse_folder_shape,
    parse_shape,
    property_key,
    render_folder,
    render_item,
    render_item_id_only,
    render_zone,
    sub,
    t,
    text_of,
)
from exchange_sandbox.store import (
    DISTINGUISHED_FOLDERS,
    ITEM_FOLDERS,
    Address,
    Attendee,
    CalendarFields,
    Change,
    ChangeKeyMismatch,
    Flag,
    FolderInfo,
    FolderNotFound,
    Item,
    ItemNotFound,
    MailStore,
    NewItem,
    ReadOnlyProperty,
    read_property,
    utcnow,
)

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)

SCHEMA_FOLDER_NAMES = frozenset(
    [
        "calendar",
        "contacts",
        "deleteditems",
        "drafts",
        "inbox",
        "journal",
        "notes",
        "outbox",
        "sentitems",
        "tasks",
        "msgfolderroot",
        "publicfoldersroot",
        "root",
        "junkemail",
        "searchfolders",
        "voicemail",
        "recoverableitemsroot",
        "recoverableitemsdeletions",
        "recoverableitemsversions",
        "recoverableitemspurges",
        "recoverableitemsdiscoveryholds",
        "archiveroot",
        "archivemsgfolderroot",
        "archivedeleteditems",
        "archiveinbox",
        "archiverecoverableitemsroot",
        "archiverecoverableitemsdeletions",
        "archiverecoverableitemsversions",
        "archiverecoverableitemspurges",
        "archiverecoverableitemsdiscoveryholds",
        "syncissues",
        "conflicts",
        "localfailures",
        "serverfailures",
        "recipientcache",
        "quickcontacts",
        "conversationhistory",
        "adminauditlogs",
        "todosearch",
        "mycontacts",
        "directory",
        "imcontactlist",
        "peopleconnect",
        "favorites",
        "mecontact",
        "personmetadata",
        "teamspaceactivity",
        "teamspacemessaging",
        "teamspaceworkitems",
        "scheduled",
        "orionnotes",
        "tagitems",
        "alltaggeditems",
        "allcategorizeditems",
        "externalcontacts",
        "teamchat",
        "teamchathistory",
        "yammerdata",
        "yammerroot",
        "yammerinbound",
        "yammeroutbound",
        "yammerfeeds",
        "kaizaladata",
        "messageingestion",
        "onedriveroot",
        "onedriverecylebin",
        "onedrivesystem",
        "onedrivevolume",
        "important",
        "starred",
        "archive",
    ]
)
"""The schema's DistinguishedFolderIdNameType (types.xsd): any other DistinguishedFolderId Id
fails schema validation; names in it that the sandbox does not model are ErrorFolderNotFound."""


def operation_of(body: bytes) -> str:
    """Name of the EWS operation in a SOAP request, or "" when it cannot be told."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError:
        return ""
    soap_body = root.find(f"{{{SOAP_NS}}}Body")
    if soap_body is None or len(soap_body) == 0:
        return ""
    return _op_name(str(etree.QName(soap_body[0]).localname))


def _op_name(element_name: str) -> str:
    # The one operation whose request element carries a "Request" suffix.
    return "GetUserAvailability" if element_name == "GetUserAvailabilityRequest" else element_name


# ---------------------------------------------------------------- subscriptions


@dataclass
class Subscription:
    id: str
    user: str
    mailbox: str
    folders: tuple[str, ...] | None
    event_types: frozenset[str]
    watermark: int
    timeout_minutes: int
    last_seen: float = field(default_factory=time.monotonic)


def encode_watermark(seq: int) -> str:
    return base64.b64encode(f"SBX-WM:{seq}".encode()).decode()


def decode_watermark(value: str) -> int:
    try:
        text = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise EwsFault("ErrorInvalidWatermark", "The watermark is invalid.") from exc
    if not text.startswith("SBX-WM:") or not text[7:].isdigit():
        raise EwsFault("ErrorInvalidWatermark", "The watermark is invalid.")
    return int(text[7:])


def encode_sync_state(mailbox: str, folder: str, seq: int) -> str:
    payload = json.dumps({"v": 1, "m": mailbox, "f": folder, "s": seq}).encode()
    return base64.b64encode(b"SBXSYNC" + payload).decode()


def decode_sync_state(value: str, mailbox: str, folder: str) -> int:
    try:
        raw = base64.b64decode(value, validate=True)
        if not raw.startswith(b"SBXSYNC"):
            raise ValueError("not a sandbox sync state")
        data = json.loads(raw[7:])
        if data["m"] != mailbox or data["f"] != folder:
            raise ValueError("sync state of another folder")
        return int(data["s"])
    except (ValueError, KeyError, TypeError) as exc:
        raise EwsFault("ErrorInvalidSyncStateData", "Invalid synchronization state data.") from exc


@dataclass
class EventStream:
    """A GetStreamingEvents connection being served: which subscriptions, for how long."""

    service: EwsService
    subscriptions: list[Subscription]
    seconds: int


# ---------------------------------------------------------------- the service


@dataclass
class Caller:
    user: UserConfig
    impersonated: str | None = None
    request_version: str = ""
    """The RequestServerVersion of the request (Exchange2007_SP1, Exchange2016, ...)."""

    @property
    def principal_mailbox(self) -> str | None:
        return self.impersonated or (self.user.mailbox.lower() if self.user.mailbox else None)


class EwsService:
    """Turns SOAP request bytes into SOAP response bytes against a MailStore."""

    def __init__(self, store: MailStore, config: SandboxConfig) -> None:
        self.store = store
        self.config = config
        self._subs: dict[str, Subscription] = {}
        self._subs_lock = threading.Lock()
        self._ops: dict[str, Callable[[Element, Caller], Element]] = {
            "GetFolder": self.get_folder,
            "FindFolder": self.find_folder,
            "FindItem": self.find_item,
            "GetItem": self.get_item,
            "SyncFolderItems": self.sync_folder_items,
            "CreateItem": self.create_item,
            "UpdateItem": self.update_item,
            "DeleteItem": self.delete_item,
            "SendItem": self.send_item,
            "MoveItem": self.move_item,
            "GetUserAvailability": self.get_user_availability,
            "GetServerTimeZones": self.get_server_time_zones,
            "Subscribe": self.subscribe,
            "GetEvents": self.get_events,
            "Unsubscribe": self.unsubscribe,
            "ConvertId": self.convert_id,
            "ResolveNames": self.resolve_names,
        }

    # ------------------------------------------------------------ envelope

    def _envelope(self) -> tuple[Element, Element]:
        env = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"s": SOAP_NS})
        header = sub(env, f"{{{SOAP_NS}}}Header")
        major, minor, build, rev = self.config.build
        info = etree.SubElement(
            header,
            f"{{{TNS}}}ServerVersionInfo",
            nsmap={"h": TNS},
            attrib={
                "MajorVersion": str(major),
                "MinorVersion": str(minor),
                "MajorBuildNumber": str(build),
                "MinorBuildNumber": str(rev),
                "Version": "V2017_07_11",
            },
        )
        del info
        body = etree.SubElement(env, f"{{{SOAP_NS}}}Body", nsmap=NSMAP)
        return env, body

    def _serialize(self, env: Element) -> bytes:
        return bytes(etree.tostring(env, xml_declaration=True, encoding="utf-8"))

    def fault(
        self,
        code: str,
        text: str,
        values: dict[str, str] | None = None,
        details: Sequence[tuple[str, str]] | None = None,
    ) -> bytes:
        """A SOAP fault as Exchange sends for throttling and request-level errors (HTTP 500).

        Unlike a normal answer it has no soap:Header (no ServerVersionInfo), as in Microsoft's
        published faults; exchangelib reads the version from normal answers only.
        """
        env = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"s": SOAP_NS})
        body = sub(env, f"{{{SOAP_NS}}}Body")
        fault = sub(body, f"{{{SOAP_NS}}}Fault")
        code_el = etree.SubElement(fault, "faultcode", nsmap={"a": TNS})
        code_el.text = f"a:{code}"
        fs = sub(fault, "faultstring", text)
        fs.set("{http://www.w3.org/XML/1998/namespace}lang", "en-US")
        detail = sub(fault, "detail")
        etree.SubElement(detail, f"{{{ENS}}}ResponseCode", nsmap={"e": ENS}).text = code
        etree.SubElement(detail, f"{{{ENS}}}Message", nsmap={"e": ENS}).text = text
        if values or details:
            mx = etree.SubElement(detail, f"{{{TNS}}}MessageXml", nsmap={"t": TNS})
            for name, value in (values or {}).items():
                sub(mx, t("Value"), value, Name=name)
            for name, value in details or ():
                sub(mx, t(name), value)
        return self._serialize(env)

    def schema_fault(self, violation: str, line: int, position: int) -> bytes:
        """ErrorSchemaValidation as Exchange sends it: where in the request, and what is wrong."""
        return self.fault(
            "ErrorSchemaValidation",
            "The request failed schema validation.",
            details=(
                ("LineNumber", str(line)),
                ("LinePosition", str(position)),
                ("Violation", violation),
            ),
        )

    def _syntax_fault(self, exc: etree.XMLSyntaxError) -> bytes:
        line, column = exc.position if exc.position else (exc.lineno or 0, 0)
        return self.schema_fault(str(exc.msg or exc), line, column)

    def server_busy(self, back_off_ms: int) -> bytes:
        return self.fault(
            "ErrorServerBusy",
            "The server cannot service this request right now. Try again later.",
            {"BackOffMilliseconds": str(back_off_ms)},
        )

    def handle(self, request: bytes, user: UserConfig) -> tuple[int, bytes]:
        """Answer one SOAP request; returns (HTTP status, body)."""
        try:
            root = etree.fromstring(request, _PARSER)
        except etree.XMLSyntaxError as exc:
            return 500, self._syntax_fault(exc)
        header = root.find(f"{{{SOAP_NS}}}Header")
        soap_body = root.find(f"{{{SOAP_NS}}}Body")
        if soap_body is None or len(soap_body) == 0:
            return 500, self.fault("ErrorInvalidRequest", "The request is invalid.")
        op_el = soap_body[0]
        name = _op_name(etree.QName(op_el).localname)
        if etree.QName(op_el).namespace != MNS or name not in self._ops:
            # Not ErrorInvalidRequest: exchangelib takes that fault for a wrong schema version
            # and retries every version it knows before giving up with a misleading error.
            return 500, self.fault(
                "ErrorInvalidOperation", f"The sandbox does not implement the operation {name}."
            )
        violation = _schema_violation(op_el, request)
        if violation is not None:
            return 500, self.schema_fault(*violation)
        try:
            caller = self._caller(header, user)
        except EwsFault as exc:
            return 500, self.fault(exc.code, exc.text, exc.values)
        env, body = self._envelope()
        try:
            body.append(self._ops[name](op_el, caller))
        except EwsFault as exc:
            return 500, self.fault(exc.code, exc.text, exc.values)
        return 200, self._serialize(env)

    def _caller(self, header: Element | None, user: UserConfig) -> Caller:
        caller = self._identity(header, user)
        version = header.find(t("RequestServerVersion")) if header is not None else None
        if version is not None:
            caller.request_version = version.get("Version", "")
        return caller

    def _identity(self, header: Element | None, user: UserConfig) -> Caller:
        if header is None:
            return Caller(user=user)
        imp = header.find(t("ExchangeImpersonation"))
        if imp is None:
            return Caller(user=user)
        sid = imp.find(t("ConnectingSID"))
        target = None
        if sid is not None:
            for tag in ("PrimarySmtpAddress", "SmtpAddress", "PrincipalName"):
                target = text_of(sid, t(tag)) or target
        if not target:
            raise EwsFault("ErrorInvalidRequest", "ExchangeImpersonation needs a ConnectingSID.")
        if not self.store.has_mailbox(target):
            raise EwsFault(
                "ErrorNonExistentMailbox",
                f"The SMTP address has no mailbox associated with it: {target}",
            )
        if not user.may_impersonate(target):
            raise EwsFault(
                "ErrorImpersonateUserDenied",
                "The account does not have permission to impersonate the requested user.",
            )
        return Caller(user=user, impersonated=target.lower())

    # ------------------------------------------------------------ response helpers

    @staticmethod
    def _message(op: str, parent: Element, error: EwsFault | None = None) -> Element:
        msg = sub(parent, m(f"{op}ResponseMessage"), ResponseClass="Error" if error else "Success")
        if error is not None:
            sub(msg, m("MessageText"), error.text)
            sub(msg, m("ResponseCode"), error.code)
            sub(msg, m("DescriptiveLinkKey"), "0")
            if error.values or error.field_uri:
                mx = sub(msg, m("MessageXml"))
                if error.field_uri:
                    sub(mx, t("FieldURI"), FieldURI=error.field_uri)
                for name, value in error.values.items():
                    sub(mx, t("Value"), value, Name=name)
        else:
            sub(msg, m("ResponseCode"), "NoError")
        return msg

    def _each(
        self,
        op: str,
        elements: list[Element],
        build: Callable[[Element, Element], None],
        error_tail: Callable[[Element], None] | None = None,
    ) -> Element:
        resp = etree.Element(m(f"{op}Response"), nsmap=NSMAP)
        msgs = sub(resp, m("ResponseMessages"))
        for el in elements:
            try:
                # Render into a scratch element first, so an error leaves no half-built message.
                scratch = etree.Element(m("scratch"))
                build(el, scratch)
            except (EwsFault, ReadOnlyProperty) as exc:
                fault = (
                    exc
                    if isinstance(exc, EwsFault)
                    else EwsFault("ErrorInvalidPropertySet", f"{exc} is read-only.")
                )
                msg = self._message(op, msgs, fault)
                if error_tail is not None:
                    error_tail(msg)
                continue
            msg = self._message(op, msgs)
            for child in scratch:
                msg.append(child)
        return resp

    # ------------------------------------------------------------ mailbox access

    def _check(self, caller: Caller, address: str) -> str:
        addr = address.lower()
        if not self.store.has_mailbox(addr):
            raise EwsFault(
                "ErrorNonExistentMailbox",
                f"The SMTP address has no mailbox associated with it: {address}",
            )
        if caller.impersonated is not None:
            if addr != caller.impersonated:
                raise EwsFault(
                    "ErrorAccessDenied", "Access is denied. Check credentials and try again."
                )
            return addr
        if not caller.user.may_open(addr):
            raise EwsFault(
                "ErrorAccessDenied", "Access is denied. Check credentials and try again."
            )
        return addr

    def _own_mailbox(self, caller: Caller) -> str:
        mailbox = caller.principal_mailbox
        if mailbox is None:
            raise EwsFault(
                "ErrorNonExistentMailbox",
                f"The account {caller.user.name} has no mailbox; name a mailbox in the request.",
            )
        return self._check(caller, mailbox)

    def _folder_ref(self, el: Element, caller: Caller) -> FolderInfo:
        """Resolve a DistinguishedFolderId or FolderId element, checking access."""
        if el.tag == t("DistinguishedFolderId"):
            name = el.get("Id", "")
            box = el.find(t("Mailbox"))
            address = text_of(box, t("EmailAddress")) if box is not None else None
            mailbox = self._check(caller, address) if address else self._own_mailbox(caller)
            if name not in DISTINGUISHED_FOLDERS:
                raise EwsFault("ErrorFolderNotFound", f"The sandbox has no {name} folder.")
            return self.store.folder(mailbox, name)
        if el.tag == t("FolderId"):
            folder_id = el.get("Id", "")
            _check_id_format(folder_id)
            try:
                info = self.store.folder_by_id(folder_id)
            except FolderNotFound as exc:
                raise EwsFault(
                    "ErrorFolderNotFound", "The specified folder could not be found in the store."
                ) from exc
            self._check(caller, info.mailbox)
            return info
        raise EwsFault("ErrorInvalidRequest", f"Unsupported folder reference {el.tag}.")

    def _folder_list(self, container: Element | None) -> list[Element]:
        if container is None:
            raise EwsFault("ErrorInvalidRequest", "Folder ids are missing.")
        return list(container)

    def _item(self, el: Element, caller: Caller) -> Item:
        if el.tag != t("ItemId"):
            raise EwsFault(
                "ErrorInvalidRequest", f"Unsupported item reference {etree.QName(el).localname}."
            )
        item_id = el.get("Id", "")
        _check_id_format(item_id)
        try:
            item = self.store.get(item_id)
        except ItemNotFound as exc:
            raise EwsFault(
                "ErrorItemNotFound", "The specified object was not found in the store."
            ) from exc
        self._check(caller, item.mailbox)
        return item

    def _ctx(self, shape: Shape) -> RenderContext:
        return RenderContext(
            folder_id=lambda mailbox, folder: self.store.folder(mailbox, folder).id,
            is_known=self.store.has_mailbox,
            shape=shape,
        )

    def _parent_id(self, info: FolderInfo) -> str | None:
        if info.parent_name is None:
            return None
        return self.store.folder(info.mailbox, info.parent_name).id

    # ------------------------------------------------------------ folders

    def get_folder(self, op: Element, caller: Caller) -> Element:
        shape = parse_folder_shape(op.find(m("FolderShape")))

        def build(ref: Element, out: Element) -> None:
            info = self._folder_ref(ref, caller)
            folders = sub(out, m("Folders"))
            render_folder(folders, info, shape, self._parent_id(info))

        def error_tail(msg: Element) -> None:
            # Exchange keeps an empty Folders element in a failed GetFolder message.
            sub(msg, m("Folders"))

        return self._each(
            "GetFolder", self._folder_list(op.find(m("FolderIds"))), build, error_tail
        )

    def find_folder(self, op: Element, caller: Caller) -> Element:
        shape = parse_folder_shape(op.find(m("FolderShape")))
        deep = op.get("Traversal") == "Deep"

        def build(ref: Element, out: Element) -> None:
            info = self._folder_ref(ref, caller)
            found: list[FolderInfo] = []
            todo = self.store.child_folders(info.mailbox, info.name)
            while todo:
                child = todo.pop(0)
                found.append(child)
                if deep:
                    todo.extend(self.store.child_folders(child.mailbox, child.name))
            root = sub(
                out,
                m("RootFolder"),
                TotalItemsInView=str(len(found)),
                IncludesLastItemInRange="true",
            )
            folders = sub(root, t("Folders"))
            for child in found:
                render_folder(folders, child, shape, self._parent_id(child))

        return self._each("FindFolder", self._folder_list(op.find(m("ParentFolderIds"))), build)

    # ------------------------------------------------------------ items: reading

    def get_item(self, op: Element, caller: Caller) -> Element:
        shape = parse_shape(op.find(m("ItemShape")))
        ctx = self._ctx(shape)

        strict = caller.request_version.startswith("Exchange2007")

        def build(ref: Element, out: Element) -> None:
            item = self._item(ref, caller)
            if strict:
                # In the Exchange 2007 schema a property another item type has is an error (as in
                # Microsoft's Exchange 2007 example); from Exchange2010 on such properties are
                # left out, which exchangelib relies on when it asks for the fields of all types.
                for uri in shape.uris:
                    if not applies_to(uri, item_kind(item)):
                        raise EwsFault(
                            "ErrorInvalidPropertyRequest",
                            "Property is not valid for this object type.",
                            field_uri=uri,
                        )
            render_item(sub(out, m("Items")), item, ctx)

        ids = op.find(m("ItemIds"))
        return self._each("GetItem", list(ids) if ids is not None else [], build, _empty_items)

    def find_item(self, op: Element, caller: Caller) -> Element:
        shape = parse_shape(op.find(m("ItemShape")))
        ctx = self._ctx(shape)
        restriction = op.find(m("Restriction"))
        sort = op.find(m("SortOrder"))
        paging = op.find(m("IndexedPageItemView"))
        calview = op.find(m("CalendarView"))

        def build(ref: Element, out: Element) -> None:
            info = self._folder_ref(ref, caller)
            items = self.store.items(info.mailbox, info.name)
            if calview is not None:
                start = parse_dt(calview.get("StartDate"))
                end = parse_dt(calview.get("EndDate"))
                items = self.store.calendar_between(info.mailbox, start, end)
            if restriction is not None and len(restriction):
                items = [it for it in items if _matches(restriction[0], it)]
            if sort is not None:
                for order in reversed(list(sort)):
                    uri = order[0] if len(order) else None
                    if uri is None:
                        continue
                    getter = _getter(uri)
                    items.sort(
                        key=lambda it, g=getter: _sort_key(g(it)),  # type: ignore[misc]  # default arg binds the loop's getter
                        reverse=order.get("Order") == "Descending",
                    )
            total = len(items)
            offset = 0
            if paging is not None:
                offset = int(paging.get("Offset", "0"))
                limit = int(paging.get("MaxEntriesReturned", str(total)) or total)
                if paging.get("BasePoint") == "End":
                    offset = max(total - offset - limit, 0)
                page = items[offset : offset + limit]
            elif calview is not None and calview.get("MaxEntriesReturned"):
                limit = int(calview.get("MaxEntriesReturned", "0"))
                if total > limit:
                    raise EwsFault(
                        "ErrorCalendarViewRangeTooBig",
                        "The number of calendar entries exceeds the MaxEntriesReturned value.",
                    )
                page = items
            else:
                page = items
            attrs = {
                "TotalItemsInView": str(total),
                "IncludesLastItemInRange": _b(offset + len(page) >= total),
            }
            if calview is None:
                attrs = {"IndexedPagingOffset": str(offset + len(page)), **attrs}
            root = sub(out, m("RootFolder"), **attrs)
            box = sub(root, t("Items"))
            for it in page:
                render_item(box, it, ctx)

        return self._each("FindItem", self._folder_list(op.find(m("ParentFolderIds"))), build)

    def sync_folder_items(self, op: Element, caller: Caller) -> Element:
        shape = parse_shape(op.find(m("ItemShape")))
        ctx = self._ctx(shape)
        ref_box = op.find(m("SyncFolderId"))
        state = text_of(op, m("SyncState"))
        max_changes = int(text_of(op, m("MaxChangesReturned")) or "100")
        if not 1 <= max_changes <= 512:
            raise EwsFault("ErrorInvalidRequest", "MaxChangesReturned must be between 1 and 512.")
        ignore_el = op.find(m("Ignore"))
        ignore = {el.get("Id") for el in ignore_el} if ignore_el is not None else set()

        def build(ref: Element, out: Element) -> None:
            info = self._folder_ref(ref, caller)
            after = decode_sync_state(state, info.mailbox, info.name) if state else 0
            page = self.store.changes_since(info.mailbox, [info.name], after)
            order: dict[str, dict[str, Any]] = {}
            last = after
            consumed = 0
            for change in page.changes:
                if change.item_id not in order and len(order) >= max_changes:
                    break
                entry = order.setdefault(
                    change.item_id, {"created": False, "deleted": False, "kinds": set()}
                )
                if change.kind == "create":
                    entry["created"] = True
                elif change.kind == "delete":
                    entry["deleted"] = True
                entry["kinds"].add(change.kind)
                last = change.seq
                consumed += 1
            more = consumed < len(page.changes)
            sub(out, m("SyncState"), encode_sync_state(info.mailbox, info.name, last))
            sub(out, m("IncludesLastItemInRange"), _b(not more))
            changes = sub(out, m("Changes"))
            for item_id, entry in order.items():
                if item_id in ignore:
                    continue
                if entry["deleted"]:
                    if not entry["created"]:
                        box = sub(changes, t("Delete"))
                        sub(box, t("ItemId"), Id=item_id, ChangeKey="AAAAAA==")
                    continue
                try:
                    item = self.store.get(item_id)
                except ItemNotFound:
                    continue
                if entry["created"]:
                    render_item(sub(changes, t("Create")), item, ctx)
                elif entry["kinds"] == {"read_flag"}:
                    box = sub(changes, t("ReadFlagChange"))
                    sub(box, t("ItemId"), Id=item.id, ChangeKey=item.change_key)
                    sub(box, t("IsRead"), _b(item.is_read))
                else:
                    render_item(sub(changes, t("Update")), item, ctx)

        if ref_box is None or len(ref_box) == 0:
            raise EwsFault("ErrorInvalidRequest", "SyncFolderId is missing.")

        def error_tail(msg: Element) -> None:
            # Exchange keeps these elements (empty) in failed sync answers; exchangelib relies on it.
            sub(msg, m("SyncState"))
            sub(msg, m("IncludesLastItemInRange"), "true")

        return self._each("SyncFolderItems", [ref_box[0]], build, error_tail)

    # ------------------------------------------------------------ items: writing

    def _new_item(self, el: Element) -> tuple[str, NewItem, dict[str, Any]]:
        kind = etree.QName(el).localname
        f = item_fields(el)
        body = f.get("Body", ("", "Text"))
        new = NewItem(
            item_class=f.get("ItemClass")
            or ("IPM.Appointment" if kind == "CalendarItem" else "IPM.Note"),
            mime=f.get("MimeContent"),
            subject=f.get("Subject", ""),
            from_=f.get("From"),
            to=f.get("ToRecipients", ()),
            cc=f.get("CcRecipients", ()),
            bcc=f.get("BccRecipients", ()),
            body=body[0],
            body_type=body[1],
            is_read=f.get("IsRead", False),
            flag=f.get("Flag", Flag()),
            categories=f.get("Categories", ()),
            extended={k.canonical: (k, v) for k, v in f.get("ExtendedProperty", [])},
            importance=f.get("Importance", "Normal"),
            in_reply_to=f.get("InReplyTo", ""),
            references=tuple(f.get("References", "").split()),
        )
        return kind, new, f

    def create_item(self, op: Element, caller: Caller) -> Element:
        disposition = op.get("MessageDisposition", "SaveOnly")
        invitations = op.get("SendMeetingInvitations", "SendToNone")
        saved = op.find(m("SavedItemFolderId"))
        target = self._folder_ref(saved[0], caller) if saved is not None and len(saved) else None
        items_el = op.find(m("Items"))

        def build(el: Element, out: Element) -> None:
            kind, new, fields = self._new_item(el)
            items_out = sub(out, m("Items"))
            if kind == "CalendarItem":
                item = self._create_calendar(caller, target, new, fields, invitations)
                render_item_id_only(items_out, item)
                return
            if kind != "Message":
                raise EwsFault("ErrorInvalidRequest", f"The sandbox cannot create {kind} items.")
            if disposition == "SaveOnly":
                info = target or self.store.folder(self._own_mailbox(caller), "drafts")
                item = self.store.create(info.mailbox, info.name, replace(new, is_draft=True))
                render_item_id_only(items_out, item)
                return
            if disposition not in ("SendOnly", "SendAndSaveCopy"):
                raise EwsFault("ErrorInvalidRequest", f"Unknown MessageDisposition {disposition}.")
            if (
                disposition == "SendAndSaveCopy"
                and target is not None
                and target.name != "sentitems"
            ):
                raise EwsFault(
                    "ErrorInvalidRequest", "The sandbox saves sent copies in Sent Items only."
                )
            mailbox = self._sending_mailbox(caller, target, new, fields.get("Sender"))
            # Like Exchange, a sent message gets no id in the answer: it is submitted, not saved.
            self.store.send(mailbox, new, save_copy=disposition == "SendAndSaveCopy")

        return self._each(
            "CreateItem", list(items_el) if items_el is not None else [], build, _empty_items
        )

    def _sending_mailbox(
        self,
        caller: Caller,
        target: FolderInfo | None,
        new: NewItem,
        sender_field: Address | None = None,
    ) -> str:
        """The mailbox a message is sent from, after checking the caller may send as its
        From and Sender (in the item or its MIME): ErrorSendAsDenied otherwise."""
        senders = [a for a in (new.from_, sender_field) if a is not None]
        if new.mime is not None:
            from exchange_sandbox.store import parse_mime

            parsed = parse_mime(new.mime)
            senders += [a for a in (parsed["from_"], parsed["sender"]) if a is not None]
        for address in senders:
            self._check_send_as(caller, address.email)
        if target is not None:
            return target.mailbox
        if senders and self.store.has_mailbox(senders[0].email):
            return self._check(caller, senders[0].email)
        return self._own_mailbox(caller)

    def _check_send_as(self, caller: Caller, address: str) -> None:
        """Send-as rights: the mailbox the caller owns or impersonates, or a delegated one."""
        addr = address.lower()
        if caller.impersonated is not None:
            allowed = addr == caller.impersonated
        else:
            allowed = self.store.has_mailbox(addr) and caller.user.may_open(addr)
        if not allowed:
            raise EwsFault(
                "ErrorSendAsDenied",
                "The user account which was used to submit this request does not have the right "
                "to send mail on behalf of the specified sending account.",
            )

    def _create_calendar(
        self,
        caller: Caller,
        target: FolderInfo | None,
        new: NewItem,
        fields: dict[str, Any],
        invitations: str,
    ) -> Item:
        info = target or self.store.folder(self._own_mailbox(caller), "calendar")
        if info.name != "calendar":
            raise EwsFault("ErrorInvalidRequest", "Calendar items belong in a calendar folder.")
        if "Start" not in fields or "End" not in fields:
            raise EwsFault("ErrorInvalidRequest", "A calendar item needs Start and End.")
        if fields["End"] < fields["Start"]:
            raise EwsFault(
                "ErrorCalendarEndDateIsEarlierThanStartDate", "EndDate is earlier than StartDate."
            )
        organizer = Address(email=info.mailbox, name=self.store.mailbox_name(info.mailbox))
        attendees: tuple[Attendee, ...] = fields.get("RequiredAttendees", ()) + fields.get(
            "OptionalAttendees", ()
        )
        cal = CalendarFields(
            start=fields["Start"],
            end=fields["End"],
            organizer=organizer,
            attendees=tuple(replace(a, response="Unknown") for a in attendees),
            free_busy=fields.get("LegacyFreeBusyStatus") or "Busy",
            location=fields.get("Location", ""),
            uid=fields.get("UID")
            or "040000008200E00074C5B7101A82E00800000000" + uuid.uuid4().hex.upper(),
            is_all_day=bool(fields.get("IsAllDayEvent", False)),
        )
        item = self.store.create(
            info.mailbox,
            "calendar",
            replace(new, item_class="IPM.Appointment", calendar=cal, from_=organizer, is_read=True),
        )
        if attendees and invitations in ("SendOnlyToAll", "SendToAllAndSaveCopy"):
            self.store.send_meeting(item.id)
        if invitations == "SendOnlyToAll" and attendees:
            # Exchange keeps the organizer's item anyway; the "save copy" concerns Sent Items.
            pass
        return item

    def update_item(self, op: Element, caller: Caller) -> Element:
        conflict = op.get("ConflictResolution", "AutoResolve")
        changes_el = op.find(m("ItemChanges"))

        def build(change: Element, out: Element) -> None:
            ref = change.find(t("ItemId"))
            if ref is None:
                raise EwsFault("ErrorInvalidRequest", "ItemChange without ItemId.")
            item = self._item(ref, caller)
            expected = ref.get("ChangeKey") if conflict == "NeverOverwrite" else None
            updates = change.find(t("Updates"))
            steps = list(updates) if updates is not None else []

            def mutate(old: Item) -> Item:
                new = old
                for step in steps:
                    kind = etree.QName(step).localname
                    uri = step[0] if len(step) else None
                    if uri is None:
                        raise EwsFault("ErrorInvalidRequest", f"{kind} without a field.")
                    if kind == "DeleteItemField":
                        new = clear_field(new, uri)
                        continue
                    if len(step) < 2:
                        raise EwsFault("ErrorInvalidRequest", f"{kind} without an item element.")
                    fields = item_fields(step[1])
                    if uri.tag == t("ExtendedFieldURI"):
                        want = property_key(uri).canonical
                        if not any(
                            k.canonical == want for k, _ in fields.get("ExtendedProperty", [])
                        ):
                            raise EwsFault(
                                "ErrorInvalidRequest",
                                "ExtendedProperty does not match its ExtendedFieldURI.",
                            )
                    new = apply_fields(new, fields, append=kind == "AppendToItemField")
                return new

            try:
                updated = self.store.update(item.id, mutate, expected_change_key=expected)
            except ChangeKeyMismatch as exc:
                raise EwsFault(
                    "ErrorIrresolvableConflict",
                    "The send or update operation could not be performed because the change key passed in the "
                    "request does not match the current change key for the item.",
                ) from exc
            render_item_id_only(sub(out, m("Items")), updated)
            conflicts = sub(out, m("ConflictResults"))
            sub(conflicts, t("Count"), "0")

        return self._each("UpdateItem", list(changes_el) if changes_el is not None else [], build)

    def delete_item(self, op: Element, caller: Caller) -> Element:
        delete_type = op.get("DeleteType", "MoveToDeletedItems")

        def build(ref: Element, out: Element) -> None:
            item = self._item(ref, caller)
            if delete_type == "MoveToDeletedItems" and item.folder != "deleteditems":
                self.store.move(item.id, "deleteditems")
            else:
                self.store.delete(item.id)

        ids = op.find(m("ItemIds"))
        return self._each("DeleteItem", list(ids) if ids is not None else [], build)

    def move_item(self, op: Element, caller: Caller) -> Element:
        target_box = op.find(m("ToFolderId"))
        if target_box is None or len(target_box) == 0:
            raise EwsFault("ErrorInvalidRequest", "ToFolderId is missing.")
        target = self._folder_ref(target_box[0], caller)

        def build(ref: Element, out: Element) -> None:
            item = self._item(ref, caller)
            if target.mailbox != item.mailbox:
                raise EwsFault(
                    "ErrorInvalidRequest", "The sandbox moves items within one mailbox only."
                )
            if target.name not in ITEM_FOLDERS:
                raise EwsFault("ErrorInvalidRequest", f"Items cannot live in {target.name}.")
            moved = item if item.folder == target.name else self.store.move(item.id, target.name)
            render_item_id_only(sub(out, m("Items")), moved)

        ids = op.find(m("ItemIds"))
        return self._each("MoveItem", list(ids) if ids is not None else [], build)

    def send_item(self, op: Element, caller: Caller) -> Element:
        save = boolean(op.get("SaveItemToFolder", "true"))
        saved = op.find(m("SavedItemFolderId"))
        target = self._folder_ref(saved[0], caller) if saved is not None and len(saved) else None

        def build(ref: Element, out: Element) -> None:
            item = self._item(ref, caller)
            if target is not None and target.mailbox != item.mailbox:
                raise EwsFault("ErrorInvalidRequest", "A draft is sent from its own mailbox.")
            if item.from_ is not None:
                self._check_send_as(caller, item.from_.email)
            draft = NewItem(
                item_class=item.item_class,
                mime=item.mime,
                subject=item.subject,
                from_=item.from_ or Address(item.mailbox, self.store.mailbox_name(item.mailbox)),
                to=item.to,
                cc=item.cc,
                bcc=item.bcc,
                body=item.body,
                body_type=item.body_type,
                categories=item.categories,
                extended=item.extended,
                importance=item.importance,
                in_reply_to=item.in_reply_to,
                references=item.references,
            )
            self.store.send(item.mailbox, draft, save_copy=save)
            self.store.delete(item.id)

        ids = op.find(m("ItemIds"))
        return self._each("SendItem", list(ids) if ids is not None else [], build)

    # ------------------------------------------------------------ availability

    def get_user_availability(self, op: Element, caller: Caller) -> Element:
        zone = SerializableZone.parse(op.find(t("TimeZone")))
        options = op.find(t("FreeBusyViewOptions"))
        if options is None:
            raise EwsFault("ErrorInvalidRequest", "FreeBusyViewOptions are missing.")
        window = options.find(t("TimeWindow"))
        if window is None:
            raise EwsFault("ErrorInvalidRequest", "TimeWindow is missing.")
        # The window is wall-clock time of the request's time zone; compare in UTC.
        start = _window_time(zone, text_of(window, t("StartTime")))
        end = _window_time(zone, text_of(window, t("EndTime")))
        requested = text_of(options, t("RequestedView")) or "DetailedMerged"
        interval = int(text_of(options, t("MergedFreeBusyIntervalInMinutes")) or "30")
        resp = etree.Element(m("GetUserAvailabilityResponse"), nsmap=NSMAP)
        array = sub(resp, m("FreeBusyResponseArray"))
        mailboxes = op.find(m("MailboxDataArray"))
        for data in list(mailboxes) if mailboxes is not None else []:
            email_el = data.find(t("Email"))
            address = text_of(email_el, t("Address")) if email_el is not None else None
            fb = sub(array, m("FreeBusyResponse"))
            if not address or not self.store.has_mailbox(address):
                msg = sub(fb, m("ResponseMessage"), ResponseClass="Error")
                sub(msg, m("MessageText"), "No mailbox with such guid.")
                sub(msg, m("ResponseCode"), "ErrorMailRecipientNotFound")
                sub(msg, m("DescriptiveLinkKey"), "0")
                continue
            msg = sub(fb, m("ResponseMessage"), ResponseClass="Success")
            sub(msg, m("ResponseCode"), "NoError")
            events = self.store.calendar_between(address, start, end)
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
                        sub(det, t("IsMeeting"), _b(bool(cal.attendees)))
                        sub(det, t("IsRecurring"), "false")
                        sub(det, t("IsException"), "false")
                        sub(det, t("IsReminderSet"), "false")
                        sub(det, t("IsPrivate"), "false")
            hours = sub(view, t("WorkingHours"))
            tz = sub(hours, t("TimeZone"))
            _render_serializable_zone(tz, zone)
            periods = sub(hours, t("WorkingPeriodArray"))
            period = sub(periods, t("WorkingPeriod"))
            sub(period, t("DayOfWeek"), " ".join(WEEKDAYS[:5]))
            sub(period, t("StartTimeInMinutes"), "510")
            sub(period, t("EndTimeInMinutes"), "1020")
        return resp

    def get_server_time_zones(self, op: Element, caller: Caller) -> Element:
        ids_el = op.find(m("Ids"))
        wanted = [i.text or "" for i in ids_el] if ids_el is not None else list(ZONES)
        resp = etree.Element(m("GetServerTimeZonesResponse"), nsmap=NSMAP)
        msgs = sub(resp, m("ResponseMessages"))
        unknown = [w for w in wanted if w not in ZONES]
        if unknown:
            self._message(
                "GetServerTimeZones",
                msgs,
                EwsFault(
                    "ErrorInvalidRequest", f"The sandbox does not model the time zone {unknown[0]}."
                ),
            )
            return resp
        msg = self._message("GetServerTimeZones", msgs)
        defs = sub(msg, m("TimeZoneDefinitions"))
        for w in wanted:
            render_zone(defs, ZONES[w])
        return resp

    # ------------------------------------------------------------ notifications

    def subscribe(self, op: Element, caller: Caller) -> Element:
        req = op.find(m("PullSubscriptionRequest"))
        streaming = False
        if req is None:
            req = op.find(m("StreamingSubscriptionRequest"))
            streaming = True
        if req is None:
            raise EwsFault(
                "ErrorInvalidRequest", "The sandbox supports pull and streaming subscriptions only."
            )

        def build(request: Element, out: Element) -> None:
            folder_ids = request.find(t("FolderIds"))
            if request.get("SubscribeToAllFolders") == "true" or folder_ids is None:
                mailbox = self._own_mailbox(caller)
                folders: tuple[str, ...] | None = None
            else:
                infos = [self._folder_ref(f, caller) for f in folder_ids]
                if not infos or len({i.mailbox for i in infos}) != 1:
                    raise EwsFault("ErrorInvalidRequest", "Subscribe to folders of one mailbox.")
                mailbox = infos[0].mailbox
                folders = tuple(i.name for i in infos)
            types_el = request.find(t("EventTypes"))
            types = (
                frozenset(e.text or "" for e in types_el) if types_el is not None else frozenset()
            )
            wm_text = text_of(request, t("Watermark"))
            watermark = decode_watermark(wm_text) if wm_text else self.store.latest_seq()
            sub_id = base64.b64encode(b"SBXSUB" + uuid.uuid4().bytes).decode()
            # Streaming subscriptions live 30 minutes past their last connection, as in Exchange.
            timeout = 30 if streaming else int(text_of(request, t("Timeout")) or "30")
            with self._subs_lock:
                self._subs[sub_id] = Subscription(
                    id=sub_id,
                    user=caller.user.name,
                    mailbox=mailbox,
                    folders=folders,
                    event_types=types,
                    watermark=watermark,
                    timeout_minutes=timeout,
                )
            sub(out, m("SubscriptionId"), sub_id)
            if not streaming:
                sub(out, m("Watermark"), encode_watermark(watermark))

        return self._each("Subscribe", [req], build)

    def _subscription(self, sub_id: str, caller: Caller) -> Subscription:
        with self._subs_lock:
            found = self._subs.get(sub_id)
            if (
                found is not None
                and time.monotonic() - found.last_seen > found.timeout_minutes * 60
            ):
                del self._subs[sub_id]
                found = None
        if found is None:
            raise EwsFault("ErrorSubscriptionNotFound", "The specified subscription was not found.")
        if found.user != caller.user.name:
            # Exchange tells an existing subscription of another account apart from a missing one.
            raise EwsFault(
                "ErrorSubscriptionAccessDenied",
                "Subscriptions can only be used by the account that created them.",
            )
        return found

    def get_events(self, op: Element, caller: Caller) -> Element:
        def build(el: Element, out: Element) -> None:
            subscription = self._subscription(text_of(op, m("SubscriptionId")) or "", caller)
            wm_text = text_of(op, m("Watermark")) or ""
            previous = decode_watermark(wm_text)
            if previous > self.store.latest_seq():
                raise EwsFault("ErrorInvalidWatermark", "The watermark is invalid.")
            previous = max(previous, min(subscription.watermark, previous))
            page = self.store.changes_since(
                subscription.mailbox, subscription.folders, previous, limit=50
            )
            note = sub(out, m("Notification"))
            sub(note, t("SubscriptionId"), subscription.id)
            sub(note, t("PreviousWatermark"), encode_watermark(previous))
            sub(note, t("MoreEvents"), _b(page.more))
            emitted = self._render_events(note, subscription, page.changes)
            last = page.last_seq if page.changes else previous
            if emitted == 0:
                status = sub(note, t("StatusEvent"))
                sub(status, t("Watermark"), encode_watermark(last))
            with self._subs_lock:
                subscription.watermark = last
                subscription.last_seen = time.monotonic()

        return self._each("GetEvents", [op], build)

    def _render_events(
        self, note: Element, subscription: Subscription, changes: Sequence[Change]
    ) -> int:
        emitted = 0
        now = iso(utcnow())
        for change in changes:
            for event_type in _event_types(change.kind, change.folder):
                if subscription.event_types and event_type not in subscription.event_types:
                    continue
                ev = sub(note, t(event_type))
                sub(ev, t("Watermark"), encode_watermark(change.seq))
                sub(ev, t("TimeStamp"), now)
                try:
                    change_key = self.store.get(change.item_id).change_key
                except ItemNotFound:
                    change_key = "AAAAAA=="
                sub(ev, t("ItemId"), Id=change.item_id, ChangeKey=change_key)
                folder_id = self.store.folder(change.mailbox, change.folder).id
                sub(ev, t("ParentFolderId"), Id=folder_id, ChangeKey="AQAAAA==")
                emitted += 1
        return emitted

    def open_stream(self, request: bytes, user: UserConfig) -> tuple[int, bytes] | EventStream:
        """Start a GetStreamingEvents answer, or give the (status, body) of its refusal."""
        try:
            root = etree.fromstring(request, _PARSER)
            op = root.find(f"{{{SOAP_NS}}}Body/{{{MNS}}}GetStreamingEvents")
            if op is None:
                raise EwsFault("ErrorInvalidRequest", "GetStreamingEvents is missing.")
            caller = self._caller(root.find(f"{{{SOAP_NS}}}Header"), user)
        except etree.XMLSyntaxError as exc:
            return 500, self._syntax_fault(exc)
        except EwsFault as exc:
            return 500, self.fault(exc.code, exc.text, exc.values)
        ids_el = op.find(m("SubscriptionIds"))
        ids = [i.text or "" for i in ids_el] if ids_el is not None else []
        timeout = int(text_of(op, m("ConnectionTimeout")) or "30")
        try:
            if not 1 <= timeout <= 30:
                raise EwsFault(
                    "ErrorInvalidValueForProperty", "ConnectionTimeout must be 1 to 30 minutes."
                )
            subs = [self._subscription(i, caller) for i in ids]
            if not subs:
                raise EwsFault("ErrorInvalidRequest", "No subscription ids given.")
        except EwsFault as exc:
            env, body = self._envelope()
            resp = sub(body, m("GetStreamingEventsResponse"))
            msgs = sub(resp, m("ResponseMessages"))
            msg = self._message("GetStreamingEvents", msgs, exc)
            errs = sub(msg, m("ErrorSubscriptionIds"))
            for i in ids:
                sub(errs, m("SubscriptionId"), i)
            return 200, self._serialize(env)
        return EventStream(self, subs, timeout * 60)

    def stream_document(self, subs: Sequence[Subscription], status: str) -> bytes:
        """One streamed envelope: pending events of the subscriptions and a ConnectionStatus."""
        env, body = self._envelope()
        resp = sub(body, m("GetStreamingEventsResponse"))
        msgs = sub(resp, m("ResponseMessages"))
        msg = self._message("GetStreamingEvents", msgs)
        notes: Element | None = None
        for subscription in subs:
            page = self.store.changes_since(
                subscription.mailbox, subscription.folders, subscription.watermark
            )
            if not page.changes:
                continue
            # Inside m:Notifications the Notification element is in the types namespace.
            scratch = etree.Element(t("Notification"))
            sub(scratch, t("SubscriptionId"), subscription.id)
            if self._render_events(scratch, subscription, page.changes):
                if notes is None:
                    notes = sub(msg, m("Notifications"))
                notes.append(scratch)
            with self._subs_lock:
                subscription.watermark = page.last_seq
                subscription.last_seen = time.monotonic()
        sub(msg, m("ConnectionStatus"), status)
        return self._serialize(env)

    def has_pending(self, subs: Sequence[Subscription]) -> bool:
        return any(self.store.latest_seq() > s.watermark for s in subs)

    def unsubscribe(self, op: Element, caller: Caller) -> Element:
        def build(el: Element, out: Element) -> None:
            subscription = self._subscription(text_of(op, m("SubscriptionId")) or "", caller)
            with self._subs_lock:
                self._subs.pop(subscription.id, None)

        return self._each("Unsubscribe", [op], build)

    # ------------------------------------------------------------ odds and ends

    def convert_id(self, op: Element, caller: Caller) -> Element:
        # exchangelib probes the server version with a ConvertId of a dummy id; Exchange answers
        # it with an error message, which carries the ServerVersionInfo header all the same.
        def build(el: Element, out: Element) -> None:
            raise EwsFault("ErrorInvalidIdMalformed", "Id is malformed.")

        ids = op.find(m("SourceIds"))
        return self._each("ConvertId", list(ids) if ids is not None else [], build)

    def resolve_names(self, op: Element, caller: Caller) -> Element:
        def build(el: Element, out: Element) -> None:
            entry = (text_of(op, m("UnresolvedEntry")) or "").strip().lower()
            if entry.startswith("smtp:"):
                entry = entry[5:]
            matches = [
                a
                for a in self.store.mailboxes()
                if entry and (entry in a.email or entry in a.name.lower())
            ]
            if not matches:
                raise EwsFault("ErrorNameResolutionNoResults", "No results were found.")
            res = sub(
                out,
                m("ResolutionSet"),
                TotalItemsInView=str(len(matches)),
                IncludesLastItemInRange="true",
            )
            for addr in matches:
                resolution = sub(res, t("Resolution"))
                box = sub(resolution, t("Mailbox"))
                sub(box, t("Name"), addr.name)
                sub(box, t("EmailAddress"), addr.email)
                sub(box, t("RoutingType"), "SMTP")
                sub(box, t("MailboxType"), "Mailbox")

        return self._each("ResolveNames", [op], build)


# ---------------------------------------------------------------- helpers


def _schema_violation(op: Element, request: bytes) -> tuple[str, int, int] | None:
    """The first DistinguishedFolderId whose Id is no name of the schema, as (violation, line,
    position): Exchange rejects such a request as a whole, before running it."""
    for el in op.iter(t("DistinguishedFolderId")):
        name = el.get("Id", "")
        if name in SCHEMA_FOLDER_NAMES:
            continue
        source_line = el.sourceline
        line = source_line if isinstance(source_line, int) else 0
        lines = request.splitlines()
        text = lines[line - 1] if 0 < line <= len(lines) else b""
        found = text.find(f'Id="{name}"'.encode())
        if found < 0:
            found = text.find(f"Id='{name}'".encode())
        violation = (
            f"The 'Id' attribute is invalid - The value '{name}' is invalid according to its "
            f"datatype '{TNS}:DistinguishedFolderIdNameType' - The Enumeration constraint failed."
        )
        return violation, line, found + 1 if found >= 0 else 0
    return None


def _empty_items(msg: Element) -> None:
    """Exchange keeps an empty Items element in a failed GetItem/CreateItem message."""
    sub(msg, m("Items"))


def _check_id_format(value: str) -> None:
    """Exchange ids are base64; anything else is ErrorInvalidIdMalformed, before any lookup."""
    try:
        base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise EwsFault("ErrorInvalidIdMalformed", "Id is malformed.") from exc


def _b(value: bool) -> str:
    return "true" if value else "false"


def _event_types(kind: str, folder: str) -> list[str]:
    if kind == "create":
        return ["NewMailEvent", "CreatedEvent"] if folder == "inbox" else ["CreatedEvent"]
    if kind == "delete":
        return ["DeletedEvent"]
    return ["ModifiedEvent"]


def _window_time(zone: SerializableZone, text: str | None) -> datetime:
    """A TimeWindow bound: absolute when it has an offset, else wall-clock time of the zone."""
    try:
        value = datetime.fromisoformat((text or "").strip())
    except ValueError as exc:
        raise EwsFault("ErrorInvalidRequest", f"Invalid date/time value {text!r}.") from exc
    if value.tzinfo is not None:
        return parse_dt(text)
    return _from_local(zone, value)


def _from_local(zone: SerializableZone, local: datetime) -> datetime:
    # Invert to_local by trying the zone's possible offsets (wall time -> UTC).
    from datetime import UTC

    for minutes in sorted({zone.bias + (r[0] if r else 0) for r in (zone.std, zone.dst)}):
        candidate = (local + timedelta(minutes=minutes)).replace(tzinfo=UTC)
        if zone.to_local(candidate) == local:
            return candidate
    return (local + timedelta(minutes=zone.bias)).replace(tzinfo=UTC)


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


def _render_serializable_zone(parent: Element, zone: SerializableZone) -> None:
    sub(parent, t("Bias"), str(zone.bias))
    for tag, rule in (("StandardTime", zone.std), ("DaylightTime", zone.dst)):
        part = sub(parent, t(tag))
        bias, month, order, weekday, minutes = rule or (0, 1, 1, 6, 0)
        sub(part, t("Bias"), str(bias))
        sub(part, t("Time"), f"{minutes // 60:02d}:{minutes % 60:02d}:00")
        sub(part, t("DayOrder"), str(order))
        sub(part, t("Month"), str(month))
        sub(part, t("DayOfWeek"), WEEKDAYS[weekday])


def _getter(uri: Element) -> Callable[[Item], Any]:
    if uri.tag == t("ExtendedFieldURI"):
        key = property_key(uri)

        def ext(it: Item) -> Any:
            return read_property(it, key)

        return ext
    name = uri.get("FieldURI", "").split(":", 1)[-1]
    getters: dict[str, Callable[[Item], Any]] = {
        "Subject": lambda it: it.subject,
        "DateTimeReceived": lambda it: it.date_received,
        "DateTimeSent": lambda it: it.date_sent,
        "DateTimeCreated": lambda it: it.date_created,
        "LastModifiedTime": lambda it: it.last_modified,
        "IsRead": lambda it: it.is_read,
        "IsDraft": lambda it: it.is_draft,
        "InternetMessageId": lambda it: it.message_id,
        "ItemClass": lambda it: it.item_class,
        "Categories": lambda it: it.categories,
        "Importance": lambda it: it.importance,
        "From": lambda it: it.from_.email if it.from_ else None,
        "Sender": lambda it: it.sender.email if it.sender else None,
        "Start": lambda it: it.calendar.start if it.calendar else None,
        "End": lambda it: it.calendar.end if it.calendar else None,
        "ConversationId": lambda it: it.conversation_id,
    }
    if name not in getters:
        raise EwsFault("ErrorUnsupportedPathForQuery", f"The sandbox cannot query {name}.")
    return getters[name]


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, datetime):
        return (1, value.timestamp())
    return (1, value)


def _coerce(constant: str, sample: Any) -> Any:
    if isinstance(sample, bool):
        return boolean(constant)
    if isinstance(sample, datetime):
        return parse_dt(constant)
    return constant


def _matches(expr: Element, item: Item) -> bool:
    name = etree.QName(expr).localname
    if name == "And":
        return all(_matches(e, item) for e in expr)
    if name == "Or":
        return any(_matches(e, item) for e in expr)
    if name == "Not":
        return not _matches(expr[0], item)
    if name == "Exists":
        return _getter(expr[0])(item) not in (None, "", ())
    if name == "Contains":
        value = _getter(expr[0])(item)
        const = expr.find(t("Constant"))
        needle = const.get("Value", "") if const is not None else ""
        hay = " ".join(value) if isinstance(value, tuple) else str(value or "")
        if expr.get("ContainmentComparison", "Exact") != "Exact":
            hay, needle = hay.lower(), needle.lower()
        mode = expr.get("ContainmentMode", "FullString")
        if isinstance(value, tuple) and mode == "FullString":
            return any(v.lower() == needle.lower() for v in value)
        return {"FullString": hay == needle, "Prefixed": hay.startswith(needle)}.get(
            mode, needle in hay
        )
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "IsEqualTo": lambda a, b: a == b,
        "IsNotEqualTo": lambda a, b: a != b,
        "IsGreaterThan": lambda a, b: a > b,
        "IsGreaterThanOrEqualTo": lambda a, b: a >= b,
        "IsLessThan": lambda a, b: a < b,
        "IsLessThanOrEqualTo": lambda a, b: a <= b,
    }
    if name not in ops:
        raise EwsFault(
            "ErrorInvalidRestriction", f"The sandbox does not support {name} restrictions."
        )
    value = _getter(expr[0])(item)
    const_box = expr.find(t("FieldURIOrConstant"))
    const = const_box.find(t("Constant")) if const_box is not None else None
    if const is None:
        raise EwsFault("ErrorInvalidRestriction", "Comparisons need a constant.")
    if value is None:
        return name == "IsNotEqualTo"
    if isinstance(value, tuple):
        return any(ops[name](v, const.get("Value", "")) for v in value)
    return ops[name](value, _coerce(const.get("Value", ""), value))
