"""The shared mailbox over Exchange Web Services, through exchangelib.

Reads new mail with SyncFolderItems from a persisted sync state, one page at a
time so the watermark can be saved after every page; fetches only the fields it
needs, in batches; sends acknowledgements as complete MIME messages (so every
header, `Auto-Submitted` included, reaches the recipient) with SendAndSaveCopy;
sets flag, category and marker with batched UpdateItem calls.

Retries: exchangelib already retries reads and updates, honouring the server's
BackOffMilliseconds. Sending is different: a send whose answer was lost may
have gone out, so sends run without exchangelib's blind retries and the service
reconciles against Sent Items before sending again.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from exchangelib import (
    BASIC,
    DELEGATE,
    IMPERSONATION,
    NTLM,
    OAUTH2,
    Account,
    Configuration,
    Credentials,
    EWSDateTime,
    FaultTolerance,
    Message,
    OAuth2Credentials,
)
from exchangelib.errors import (
    ErrorAccessDenied,
    ErrorImpersonateUserDenied,
    ErrorInternalServerTransientError,
    ErrorInvalidSyncStateData,
    ErrorItemNotFound,
    ErrorMailboxStoreUnavailable,
    ErrorNonExistentMailbox,
    ErrorServerBusy,
    ErrorTimeoutExpired,
    EWSError,
    TransportError,
    UnauthorizedError,
)
from exchangelib.fields import FieldPath
from exchangelib.items import ID_ONLY, SEND_AND_SAVE_COPY
from exchangelib.protocol import FailFast
from exchangelib.services import SyncFolderItems
from exchangelib.util import CONNECTION_ERRORS

from topcontact_mail.adapters.ews.fields import FollowupFlag
from topcontact_mail.adapters.ews.transport import use_large_chunks
from topcontact_mail.config import EwsSettings, Settings
from topcontact_mail.domain.acknowledgement import to_mime
from topcontact_mail.domain.message import Address, IncomingMessage
from topcontact_mail.domain.mime import UnreadableMessage, parse_message
from topcontact_mail.logs import get_logger
from topcontact_mail.ports import (
    ChangePage,
    CredentialsRejected,
    FetchedMessage,
    MailboxUnavailable,
    Mark,
    Outcome,
    OutgoingAcknowledgement,
    WatermarkExpired,
)

#: What GetItem asks for: enough to screen and to keep staff's categories, no attachments.
FETCH_FIELDS = (
    "subject",
    "sender",
    "author",
    "to_recipients",
    "cc_recipients",
    "message_id",
    "conversation_id",
    "item_class",
    "datetime_received",
    "headers",
    "text_body",
    "categories",
    "topcontact_marker",
)
#: What every sync change carries, so our own updates are recognised without a GetItem.
SYNC_FIELDS = ("topcontact_marker", "datetime_received")
#: The longest back-off the adapter honours itself before leaving the work to the next pass.
MAX_BACK_OFF_SECONDS = 300.0
#: Tries of an idempotent request (sync, read, update) before the pass gives up for now.
READ_ATTEMPTS = 4
#: Failures worth trying again: the server or the network, not the request.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    TransportError,
    ErrorServerBusy,
    ErrorInternalServerTransientError,
    ErrorTimeoutExpired,
    ErrorMailboxStoreUnavailable,
)
_T = TypeVar("_T")
#: The events that mean "look at the inbox".
NEW_MAIL_EVENTS = ("NewMailEvent", "CreatedEvent")
#: How long one streaming connection stays open before it is renewed (Exchange allows 1-30).
STREAM_MINUTES = 10
#: How often a pull subscription is asked for events while waiting.
POLL_SECONDS = 0.5
#: Only the text needed to guess the language is read from a body.
_SAMPLE_CHARS = 4000


def build_account(settings: Settings, ews: EwsSettings, retry_policy: Any) -> Account:
    """The shared mailbox's exchangelib account; no request is made yet."""
    if not ews.verify_tls:
        get_logger("ews").warning("TLS verification is OFF: only acceptable against a test server")
    use_large_chunks(ews.verify_tls)
    credentials: Any
    if ews.auth_type == "oauth":
        secret = ews.client_secret.get_secret_value() if ews.client_secret else ""
        credentials = OAuth2Credentials(
            client_id=ews.client_id, client_secret=secret, tenant_id=ews.tenant_id
        )
    else:
        password = ews.password.get_secret_value() if ews.password else ""
        credentials = Credentials(ews.username, password)
    config = Configuration(
        service_endpoint=ews.service_endpoint,
        credentials=credentials,
        auth_type={"oauth": OAUTH2, "ntlm": NTLM, "basic": BASIC}[ews.auth_type],
        retry_policy=retry_policy,
        max_connections=4,
    )
    account = Account(
        primary_smtp_address=settings.connection.shared_mailbox,
        config=config,
        autodiscover=ews.autodiscover,
        access_type=IMPERSONATION if ews.access_type == "impersonation" else DELEGATE,
    )
    # exchangelib shares one protocol per endpoint and credentials, and keeps these as class
    # defaults: this account's protocol gets the configured policy and times.
    account.protocol.config.retry_policy = retry_policy
    account.protocol.RETRY_WAIT = ews.retry_wait_seconds
    account.protocol.TIMEOUT = ews.timeout_seconds
    return account


def connect(settings: Settings) -> EwsMailbox:
    """Open the shared mailbox as the configuration says; nothing connects before this call."""
    ews = settings.connection.ews
    if ews is None:
        raise MailboxUnavailable("no [connection.ews] section in the configuration")
    try:
        account = build_account(settings, ews, FaultTolerance(max_wait=MAX_BACK_OFF_SECONDS))
    except (EWSError, TransportError, *CONNECTION_ERRORS) as exc:
        raise MailboxUnavailable(
            f"cannot open {settings.connection.shared_mailbox}: {exc}"
        ) from None
    _probe(account, settings.connection.shared_mailbox, ews.retry_wait_seconds)
    return EwsMailbox(
        account,
        page_size=ews.page_size,
        batch_size=ews.batch_size,
        display_name=f"{settings.team.name} {settings.team.organisation}".strip(),
        retry_wait=ews.retry_wait_seconds,
    )


def _probe(
    account: Account, mailbox: str, retry_wait: float, sleep: Callable[[float], None] = time.sleep
) -> None:
    """The first request, without exchangelib's patience for a 401.

    Under its fault-tolerant policy exchangelib takes a 401 for throttling and
    keeps retrying for minutes; here a refusal becomes `CredentialsRejected` at
    once, while a busy or failing server is still tried a few times.
    """
    config = account.protocol.config
    saved = config.retry_policy
    config.retry_policy = FailFast()
    try:
        for attempt in range(1, READ_ATTEMPTS + 1):
            try:
                account.inbox.refresh()
                return
            except UnauthorizedError as exc:
                raise CredentialsRejected(
                    f"Exchange refuses the credentials of the service account for {mailbox}: {exc}",
                    error="unauthorized",
                ) from None
            except (ErrorAccessDenied, ErrorNonExistentMailbox, ErrorImpersonateUserDenied) as exc:
                raise MailboxUnavailable(f"no access to {mailbox}: {exc}") from None
            except (*TRANSIENT_ERRORS, *CONNECTION_ERRORS) as exc:
                if attempt == READ_ATTEMPTS:
                    raise MailboxUnavailable(f"cannot open {mailbox}: {exc}") from None
                hint = getattr(exc, "back_off", None)
                sleep(min(hint or retry_wait * 2 ** (attempt - 1), MAX_BACK_OFF_SECONDS))
            except EWSError as exc:
                raise MailboxUnavailable(f"cannot open {mailbox}: {exc}") from None
    finally:
        config.retry_policy = saved


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _address(mailbox: Any) -> Address | None:
    if mailbox is None or not getattr(mailbox, "email_address", None):
        return None
    return Address(mailbox.email_address, mailbox.name or "")


def _ews_time(moment: datetime | None) -> EWSDateTime | None:
    """exchangelib wants its own datetime type; UTC keeps the moment exact."""
    return None if moment is None else EWSDateTime.from_datetime(moment.astimezone(UTC))


def _plain_time(moment: datetime | None) -> datetime | None:
    """A standard datetime: exchangelib's own subclass must not leak into the domain."""
    if moment is None:
        return None
    return datetime.fromtimestamp(moment.timestamp(), UTC)


def _header_block(headers: Sequence[Any], body: str) -> bytes:
    lines = [f"{h.name}: {h.value or ''}" for h in headers if h.name]
    return ("\r\n".join(lines) + "\r\n\r\n" + body[:_SAMPLE_CHARS]).encode("utf-8", "replace")


def message_from_item(item: Any) -> IncomingMessage:
    """An IncomingMessage from an exchangelib Message, from its internet headers where it has them.

    Mail submitted inside the organisation (MAPI) has no internet headers; then
    the item's own fields are used.
    """
    body = str(item.text_body or "")
    base = IncomingMessage()
    if item.headers:
        with contextlib.suppress(UnreadableMessage):
            base = parse_message(_header_block(item.headers, body))
    sender = base.sender or _address(item.author) or _address(item.sender)
    recipients = base.recipients or tuple(
        a
        for a in (_address(r) for r in [*(item.to_recipients or ()), *(item.cc_recipients or ())])
        if a
    )
    return IncomingMessage(
        subject=base.subject or str(item.subject or ""),
        sender=sender,
        recipients=recipients,
        headers=base.headers,
        message_id=base.message_id or item.message_id,
        return_path=base.return_path,
        item_class=item.item_class,
        content_type=base.content_type,
        spam_confidence=base.spam_confidence,
        conversation_id=item.conversation_id.id if item.conversation_id else None,
        received=_plain_time(item.datetime_received),
        text_sample=base.text_sample or body[:_SAMPLE_CHARS],
        item_id=item.id,
        part_types=base.part_types,
    )


class EwsMailbox:
    """The Mailbox port over EWS."""

    def __init__(
        self,
        account: Account,
        *,
        page_size: int = 512,
        batch_size: int = 100,
        display_name: str = "",
        retry_wait: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.account = account
        self.retry_wait = retry_wait
        self.display_name = display_name
        self.page_size = page_size
        self.batch_size = batch_size
        self._sleep = sleep
        self._categories: dict[str, list[str]] = {}
        self._subscription: tuple[str, str] | None = None
        self._listener: threading.Thread | None = None
        self._changed = threading.Event()
        self._closing = threading.Event()
        self._streaming_failed = False
        self._send_lock = threading.Lock()
        self.log = get_logger("ews", mailbox=account.primary_smtp_address)
        self._sync_fields = {
            FieldPath(field=Message.get_field_by_fieldname(f)) for f in SYNC_FIELDS
        }

    @property
    def address(self) -> Address:
        return Address(self.account.primary_smtp_address, self.display_name)

    # -- reading ----------------------------------------------------------------------

    def _retrying(self, operation: str, call: Callable[[], _T]) -> _T:
        """Run an idempotent call, retrying transient failures exchangelib gave up on; bounded."""
        wait = self.retry_wait
        for attempt in range(1, READ_ATTEMPTS + 1):
            try:
                return call()
            except ErrorInvalidSyncStateData:
                raise
            except (*TRANSIENT_ERRORS, *CONNECTION_ERRORS) as exc:
                if attempt == READ_ATTEMPTS:
                    raise MailboxUnavailable(f"{operation} failed {attempt} times: {exc}") from None
                self.log.warning(
                    "transient failure, retrying",
                    operation=operation,
                    error=type(exc).__name__,
                    attempts_left=READ_ATTEMPTS - attempt,
                    seconds=wait,
                )
                self._sleep(wait)
                wait *= 2
            except EWSError as exc:
                raise MailboxUnavailable(f"{operation} refused: {exc}") from None
        raise AssertionError("unreachable")  # the loop returns or raises

    def fetch_changes(self, watermark: str | None) -> ChangePage:
        service = SyncFolderItems(account=self.account)

        def sync_page() -> list[Any]:
            return list(
                service.call(
                    folder=self.account.inbox,
                    shape=ID_ONLY,
                    additional_fields=self._sync_fields,
                    sync_state=watermark,
                    ignore=None,
                    max_changes_returned=self.page_size,
                    sync_scope="NormalItems",
                )
            )

        try:
            changes = self._retrying("SyncFolderItems", sync_page)
        except ErrorInvalidSyncStateData:
            raise WatermarkExpired("Exchange no longer knows the sync state") from None
        fetched: dict[str, FetchedMessage] = {}
        to_get: list[Any] = []
        for kind, item in changes:
            if kind not in (SyncFolderItems.CREATE, SyncFolderItems.UPDATE) or isinstance(
                item, Exception
            ):
                continue
            marker = getattr(item, "topcontact_marker", None)
            if marker:
                fetched[item.id] = FetchedMessage(IncomingMessage(item_id=item.id), marker)
            else:
                to_get.append(item)
        for message in self._get_items(to_get):
            fetched[message.message.item_id or ""] = message
        return ChangePage(
            list(fetched.values()),
            service.sync_state or watermark or "",
            more=not service.includes_last_item_in_range,
        )

    def _get_items(self, items: Sequence[Any]) -> Iterator[FetchedMessage]:
        if not items:
            return
        results = self._retrying(
            "GetItem",
            lambda: list(
                self.account.fetch(
                    ids=[(i.id, i.changekey) for i in items],
                    only_fields=FETCH_FIELDS,
                    chunk_size=self.batch_size,
                )
            ),
        )
        for source, result in zip(items, results, strict=True):
            if isinstance(result, ErrorItemNotFound):
                continue  # deleted or moved since the sync; a move shows up as a new item
            if isinstance(result, Exception):
                self.log.warning("item could not be read", item_id=source.id, error=str(result))
                continue
            self._categories[result.id] = list(result.categories or [])
            yield FetchedMessage(message_from_item(result), result.topcontact_marker or None)

    # -- sending ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _without_blind_retries(self) -> Iterator[None]:
        config = self.account.protocol.config
        with self._send_lock:
            saved = config.retry_policy
            config.retry_policy = FailFast()
            try:
                yield
            finally:
                config.retry_policy = saved

    def send_acknowledgements(self, batch: Sequence[OutgoingAcknowledgement]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        sender = self.address
        for chunk in _chunks(batch, self.batch_size):
            now = datetime.now().astimezone()
            items = [
                Message(
                    account=self.account,
                    folder=self.account.sent,
                    mime_content=to_mime(
                        o.acknowledgement, sender=sender, message_id=o.message_id, date=now
                    ),
                )
                for o in chunk
            ]
            outcomes.extend(self._send_chunk(chunk, items))
        return outcomes

    def _send_chunk(
        self, chunk: Sequence[OutgoingAcknowledgement], items: list[Any]
    ) -> list[Outcome]:
        for attempt in range(1, 4):
            try:
                with self._without_blind_retries():
                    results = self.account.bulk_create(
                        folder=self.account.sent,
                        items=items,
                        message_disposition=SEND_AND_SAVE_COPY,
                        chunk_size=self.batch_size,
                    )
            except (ErrorServerBusy, ErrorInternalServerTransientError) as exc:
                if isinstance(exc, ErrorInternalServerTransientError) and "503" not in str(exc):
                    # Some other server error: the mail may have gone out; the service checks.
                    return [
                        Outcome(o.ref, False, f"send interrupted: {exc}", transient=True)
                        for o in chunk
                    ]
                # Busy, or 503 from the front end: refused before any work was done, safe to repeat.
                hint = getattr(exc, "back_off", None)
                wait = min(hint or self.retry_wait * 2 ** (attempt - 1), MAX_BACK_OFF_SECONDS)
                self.log.warning(
                    "server busy, backing off",
                    seconds=wait,
                    attempt=attempt,
                    operation="CreateItem",
                )
                self._sleep(wait)
                continue
            except (EWSError, TransportError, *CONNECTION_ERRORS) as exc:
                # The answer was lost: some may have gone out. The service checks Sent Items first.
                return [
                    Outcome(o.ref, False, f"send interrupted: {type(exc).__name__}", transient=True)
                    for o in chunk
                ]
            return [self._outcome(o.ref, r) for o, r in zip(chunk, results, strict=True)]
        return [Outcome(o.ref, False, "server stayed busy", transient=True) for o in chunk]

    @staticmethod
    def _outcome(key: str, result: Any) -> Outcome:
        if not isinstance(result, Exception):
            return Outcome(key, True)
        transient = isinstance(result, ErrorServerBusy) or type(result).__name__ in {
            "ErrorInternalServerTransientError",
            "ErrorTimeoutExpired",
            "ErrorMailboxStoreUnavailable",
            "ErrorMailboxMoveInProgress",
        }
        return Outcome(key, False, f"{type(result).__name__}: {result}", transient=transient)

    def send_notice(self, to: Address, subject: str, text: str) -> None:
        notice = Message(
            account=self.account,
            folder=self.account.sent,
            subject=subject,
            body=text,
            to_recipients=[to.email],
        )
        try:
            notice.send_and_save()
        except (EWSError, TransportError, *CONNECTION_ERRORS) as exc:
            raise MailboxUnavailable(f"notice not sent: {exc}") from None

    def sent_refs(self, refs: Collection[str], since: datetime) -> set[str]:
        domain = self.address.domain
        wanted = {f"<{ref}@{domain}>": ref for ref in refs}
        found: set[str] = set()
        for chunk in _chunks(sorted(wanted), 50):
            query = self.account.sent.filter(message_id__in=list(chunk)).only("message_id")
            items = self._retrying("FindItem", lambda q=query: list(q))  # type: ignore[misc]
            for item in items:
                if not isinstance(item, Exception) and item.message_id in wanted:
                    found.add(wanted[item.message_id])
        return found

    # -- marking ------------------------------------------------------------------------

    def mark(self, marks: Sequence[Mark]) -> list[Outcome]:
        self._load_categories(
            [m.item_id for m in marks if m.category and m.item_id not in self._categories]
        )
        outcomes: list[Outcome] = []
        for chunk in _chunks(marks, self.batch_size):
            updates = []
            for mark in chunk:
                item = Message(account=self.account, id=mark.item_id)
                item.topcontact_marker = mark.marker
                fields = ["topcontact_marker"]
                if mark.flag_due is not None:
                    item.followup_flag = FollowupFlag(
                        flag_status="Flagged",
                        start_date=_ews_time(mark.flag_start),
                        due_date=_ews_time(mark.flag_due),
                    )
                    fields.append("followup_flag")
                if mark.category:
                    current = self._categories.get(mark.item_id, [])
                    item.categories = (
                        current if mark.category in current else [*current, mark.category]
                    )
                    fields.append("categories")
                updates.append((item, fields))
            try:
                # Setting the same flag, category list and marker twice is harmless: retry-safe.
                results = self._retrying(
                    "UpdateItem",
                    lambda u=updates: list(  # type: ignore[misc]
                        self.account.bulk_update(
                            items=u, conflict_resolution="AutoResolve", chunk_size=self.batch_size
                        )
                    ),
                )
            except MailboxUnavailable as exc:
                outcomes.extend(Outcome(m.item_id, False, str(exc), transient=True) for m in chunk)
                continue
            for mark, result in zip(chunk, results, strict=True):
                outcome = self._outcome(mark.item_id, result)
                if outcome.ok:
                    self._categories.pop(mark.item_id, None)
                outcomes.append(outcome)
        return outcomes

    def _load_categories(self, item_ids: Sequence[str]) -> None:
        if not item_ids:
            return
        results = self._retrying(
            "GetItem",
            lambda: list(
                self.account.fetch(ids=[(i, None) for i in item_ids], only_fields=["categories"])
            ),
        )
        for item_id, result in zip(item_ids, results, strict=True):
            if not isinstance(result, Exception):
                self._categories[item_id] = list(result.categories or [])

    # -- notifications --------------------------------------------------------------------

    def wait_for_changes(self, timeout: float) -> bool:
        """Wait for new mail: a streaming subscription signals it; the daemon's timer is the net.

        A background thread holds one GetStreamingEvents connection open (Exchange
        pushes events over it, no polling); if streaming is not possible the
        wait falls back to asking a pull subscription every half second.
        """
        if self._streaming_failed:
            return self._wait_by_pulling(timeout)
        if self._listener is None or not self._listener.is_alive():
            self._listener = threading.Thread(
                target=self._listen, name="ews-streaming", daemon=True
            )
            self._listener.start()
        signalled = self._changed.wait(timeout)
        self._changed.clear()
        return signalled

    def _listen(self) -> None:
        failures = 0
        while not self._closing.is_set():
            try:
                subscription = self.account.inbox.subscribe_to_streaming(
                    event_types=NEW_MAIL_EVENTS
                )
                failures = 0
                for notification in self.account.inbox.get_streaming_events(
                    subscription, connection_timeout=STREAM_MINUTES
                ):
                    if any(type(e).__name__ != "StatusEvent" for e in notification.events):
                        self._changed.set()
                    if self._closing.is_set():
                        return
            except (EWSError, TransportError, *CONNECTION_ERRORS) as exc:
                failures += 1
                if failures >= 3:
                    self.log.warning(
                        "streaming notifications unavailable, pulling instead", error=str(exc)
                    )
                    self._streaming_failed = True
                    self._changed.set()  # let the waiter switch over now
                    return
                self._closing.wait(self.retry_wait * failures)

    def _wait_by_pulling(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        try:
            if self._subscription is None:
                self._subscription = self.account.inbox.subscribe_to_pull(
                    event_types=NEW_MAIL_EVENTS
                )
            while True:
                subscription_id, watermark = self._subscription
                changed = False
                for notification in self.account.inbox.get_events(subscription_id, watermark):
                    for event in notification.events:
                        watermark = getattr(event, "watermark", None) or watermark
                        changed = changed or type(event).__name__ != "StatusEvent"
                self._subscription = (subscription_id, watermark)
                if changed:
                    return True
                if time.monotonic() >= deadline:
                    return False
                self._sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        except (EWSError, TransportError, *CONNECTION_ERRORS) as exc:
            self.log.warning(
                "notifications unavailable, relying on the periodic sync", error=str(exc)
            )
            self._subscription = None
            self._sleep(max(0.0, deadline - time.monotonic()))
            return False

    def close(self) -> None:
        self._closing.set()
        if self._subscription is not None:
            with contextlib.suppress(Exception):
                self.account.inbox.unsubscribe(self._subscription[0])
            self._subscription = None
        self.account.protocol.close()
