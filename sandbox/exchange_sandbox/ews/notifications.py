"""EWS notifications of the sandbox (a test double): pull and streaming subscriptions over the change log.

Subscribe, GetEvents, GetStreamingEvents and Unsubscribe. Watermarks are change-log
positions; subscriptions live in memory (they do not survive a restart), expire after their
timeout without a GetEvents, and belong to the account that made them.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from lxml import etree

from exchange_sandbox.ews.access import Caller, folder_ref, own_mailbox
from exchange_sandbox.ews.faults import EwsFault, serialize
from exchange_sandbox.ews.responses import Build, each, envelope, response_message
from exchange_sandbox.ews.xml import Element, iso, m, sub, t, text_of, xs_bool
from exchange_sandbox.store import Change, ItemNotFound, MailStore, utcnow


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
    budget: str = ""
    """Whose EWSMaxSubscriptions budget it uses: the impersonated mailbox, else the account."""

    def expired(self, now: float) -> bool:
        return now - self.last_seen > self.timeout_minutes * 60


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


@dataclass
class EventStream:
    """A GetStreamingEvents connection being served: which subscriptions, for how long."""

    subscriptions: list[Subscription]
    seconds: int


class Notifications:
    """The subscriptions of one sandbox and the operations on them."""

    def __init__(
        self, store: MailStore, build: Build, max_subscriptions: Callable[[], int] = lambda: 0
    ) -> None:
        self.store = store
        self.build = build
        self.max_subscriptions = max_subscriptions
        """EWSMaxSubscriptions in force (0: no limit); read at every Subscribe."""
        self._subs: dict[str, Subscription] = {}
        self._subs_lock = threading.Lock()

    def subscribe(self, op: Element, caller: Caller) -> Element:
        # Since Exchange 2010 SP2 RU4 the budget is the target mailbox's when impersonating
        # ("EWS throttling in Exchange", table 2), else the calling account's.
        budget = f"mailbox:{caller.impersonated}" if caller.impersonated else caller.user.name

        def build(request: Element, out: Element) -> None:
            if request.tag not in (m("PullSubscriptionRequest"), m("StreamingSubscriptionRequest")):
                raise EwsFault(
                    "ErrorInvalidRequest", "The sandbox has pull and streaming subscriptions only."
                )
            streaming = request.tag == m("StreamingSubscriptionRequest")
            limit = self.max_subscriptions()
            if limit and self.live_subscriptions(budget) >= limit:
                raise EwsFault(
                    "ErrorExceededSubscriptionCount",
                    "You have exceeded the maximum number of subscriptions allowed for your "
                    "account.",
                    {"Policy": "MaxSubscriptions", "MaxSubscriptionsLimit": str(limit)},
                )
            folder_ids = request.find(t("FolderIds"))
            if request.get("SubscribeToAllFolders") == "true" or folder_ids is None:
                mailbox = own_mailbox(self.store, caller)
                folders: tuple[str, ...] | None = None
            else:
                infos = [folder_ref(self.store, f, caller) for f in folder_ids]
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
                    budget=budget,
                )
            sub(out, m("SubscriptionId"), sub_id)
            if not streaming:
                sub(out, m("Watermark"), encode_watermark(watermark))

        return each("Subscribe", list(op), build)

    def live_subscriptions(self, budget: str) -> int:
        """Unexpired subscriptions charged to ``budget``; expired ones are forgotten."""
        now = time.monotonic()
        with self._subs_lock:
            for gone in [k for k, v in self._subs.items() if v.expired(now)]:
                del self._subs[gone]
            return sum(1 for v in self._subs.values() if v.budget == budget)

    def _subscription(self, sub_id: str, caller: Caller) -> Subscription:
        with self._subs_lock:
            found = self._subs.get(sub_id)
            if found is not None and found.expired(time.monotonic()):
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
            sub(note, t("MoreEvents"), xs_bool(page.more))
            emitted = self._render_events(note, subscription, page.changes)
            last = page.last_seq if page.changes else previous
            if emitted == 0:
                status = sub(note, t("StatusEvent"))
                sub(status, t("Watermark"), encode_watermark(last))
            with self._subs_lock:
                subscription.watermark = last
                subscription.last_seen = time.monotonic()

        return each("GetEvents", [op], build)

    def _render_events(
        self, note: Element, subscription: Subscription, changes: Sequence[Change]
    ) -> int:
        emitted = 0
        now = iso(utcnow())
        for change in changes:
            for event_type in event_types(change.kind, change.folder):
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

    def open_stream(self, op: Element, caller: Caller) -> tuple[int, bytes] | EventStream:
        """Start a GetStreamingEvents answer, or give the (status, body) of its refusal."""
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
            env, body = envelope(self.build)
            resp = sub(body, m("GetStreamingEventsResponse"))
            msgs = sub(resp, m("ResponseMessages"))
            msg = response_message("GetStreamingEvents", msgs, exc)
            errs = sub(msg, m("ErrorSubscriptionIds"))
            for i in ids:
                sub(errs, m("SubscriptionId"), i)
            return 200, serialize(env)
        return EventStream(subs, timeout * 60)

    def stream_document(self, subs: Sequence[Subscription], status: str) -> bytes:
        """One streamed envelope: pending events of the subscriptions and a ConnectionStatus."""
        env, body = envelope(self.build)
        resp = sub(body, m("GetStreamingEventsResponse"))
        msgs = sub(resp, m("ResponseMessages"))
        msg = response_message("GetStreamingEvents", msgs)
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
        return serialize(env)

    def has_pending(self, subs: Sequence[Subscription]) -> bool:
        return any(self.store.latest_seq() > s.watermark for s in subs)

    def unsubscribe(self, op: Element, caller: Caller) -> Element:
        def build(el: Element, out: Element) -> None:
            subscription = self._subscription(text_of(op, m("SubscriptionId")) or "", caller)
            with self._subs_lock:
                self._subs.pop(subscription.id, None)

        return each("Unsubscribe", [op], build)


def event_types(kind: str, folder: str) -> list[str]:
    if kind == "create":
        return ["NewMailEvent", "CreatedEvent"] if folder == "inbox" else ["CreatedEvent"]
    if kind == "delete":
        return ["DeletedEvent"]
    return ["ModifiedEvent"]
