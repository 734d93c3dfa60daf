"""The shared mailbox over Exchange Web Services, through exchangelib: the Mailbox port.

Reads new mail with SyncFolderItems from a persisted sync state, one page at a
time so the watermark can be saved after every page; fetches only the fields it
needs, in batches; sends acknowledgements as complete MIME messages (so every
header, `Auto-Submitted` included, reaches the recipient) with SendAndSaveCopy;
sets flag, category and marker with batched UpdateItem calls; observes tracked
messages (`observe.py`) and sends the team's mails with their refs.

Retries follow `topcontact_mail.adapters.retry`. Reads and updates may run
twice and are tried again after any transient failure. A send is repeated in
place only when the server itself answered ErrorServerBusy; a send whose answer
was lost, or that failed in any unclear way, is reported as interrupted
(transient), and the service looks in Sent Items before sending it again.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from exchangelib import Account, Message, Q
from exchangelib.errors import ErrorItemNotFound
from exchangelib.fields import FieldPath
from exchangelib.items import ID_ONLY
from exchangelib.services import SyncFolderItems

from topcontact_mail.adapters.ews.account import build_account, probe
from topcontact_mail.adapters.ews.faults import attempt, failure_of, send_once
from topcontact_mail.adapters.ews.finding import find_messages
from topcontact_mail.adapters.ews.items import (
    FETCH_FIELDS,
    SYNC_FIELDS,
    acknowledgement_item,
    mark_update,
    message_from_item,
    notice_item,
    team_mail_item,
)
from topcontact_mail.adapters.ews.notifications import Notifications
from topcontact_mail.adapters.ews.observe import EwsObserver
from topcontact_mail.adapters.retry import NO_ANSWER, Failure, Retry, Verdict, wait
from topcontact_mail.config import Settings
from topcontact_mail.domain.message import Address, IncomingMessage
from topcontact_mail.logs import get_logger
from topcontact_mail.ports import (
    ChangePage,
    FetchedMessage,
    MailboxUnavailable,
    Mark,
    Observed,
    Outcome,
    OutgoingAcknowledgement,
    OutgoingNotice,
    Watched,
    WatermarkExpired,
)

#: Tries of a request that may run twice (sync, read, update) before the pass gives up for now.
READ_ATTEMPTS = 4
#: Tries of a send the server refused as busy.
SEND_ATTEMPTS = 3
#: How many Sent Items message ids one FindItem looks for.
LOOKUP_CHUNK = 50
#: Items per folder one FindItem of a lookup returns: room for every ref of a chunk twice over
#: (a copy still in the Outbox and one in Sent Items), so a lookup is one request.
LOOKUP_PAGE = 2 * LOOKUP_CHUNK
_T = TypeVar("_T")


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def connect(settings: Settings) -> EwsMailbox:
    """Open the shared mailbox as the configuration says; nothing connects before this call."""
    ews = settings.connection.ews
    if ews is None:
        raise MailboxUnavailable("no [connection.ews] section in the configuration")
    shared = settings.connection.shared_mailbox
    retry = Retry(
        first_wait=ews.retry_wait_seconds,
        attempts=READ_ATTEMPTS,
        log=get_logger("ews", mailbox=shared),
    )
    # With autodiscover, building the account asks the server already.
    built = retry.run("Account", attempt(lambda: build_account(settings, ews), idempotent=True))
    if isinstance(built, Failure):
        raise MailboxUnavailable(f"cannot open {shared}: {built.describe()}")
    probe(built, shared, retry)
    return EwsMailbox(
        built,
        page_size=ews.page_size,
        batch_size=ews.batch_size,
        display_name=f"{settings.team.name} {settings.team.organisation}".strip(),
        retry_wait=ews.retry_wait_seconds,
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
        sleep: Callable[[float], object] = wait,
    ) -> None:
        self.account = account
        self.display_name = display_name
        self.page_size = page_size
        self.batch_size = batch_size
        self.log = get_logger("ews", mailbox=account.primary_smtp_address)
        self.reads = Retry(first_wait=retry_wait, attempts=READ_ATTEMPTS, sleep=sleep, log=self.log)
        self.sends = Retry(first_wait=retry_wait, attempts=SEND_ATTEMPTS, sleep=sleep, log=self.log)
        self.once = Retry(first_wait=retry_wait, attempts=1, sleep=sleep, log=self.log)
        self.notifications = Notifications(
            account, retry_wait=retry_wait, log=self.log, sleep=sleep
        )
        #: Staff's categories as last read, and the version (ChangeKey) they were read at.
        self._categories: dict[str, list[str]] = {}
        self._change_keys: dict[str, str] = {}
        self.observer = EwsObserver(account, self._read, self.log)
        self._sync_fields = {
            FieldPath(field=Message.get_field_by_fieldname(f)) for f in SYNC_FIELDS
        }

    @property
    def address(self) -> Address:
        return Address(self.account.primary_smtp_address, self.display_name)

    def _sent(self) -> Any:
        """Sent Items; exchangelib looks it up once (GetFolder), with the read retries."""
        return self._read("GetFolder", lambda: self.account.sent)

    def _read(self, operation: str, call: Callable[[], _T], *, retry: Retry | None = None) -> _T:
        """Run a request that may run twice, with the read retries; raise when it cannot be done now."""
        result = (retry or self.reads).run(operation, attempt(call, idempotent=True))
        if not isinstance(result, Failure):
            return result
        if result.code == "ErrorInvalidSyncStateData":
            raise WatermarkExpired("Exchange no longer knows the sync state")
        if result.verdict is Verdict.PERMANENT:
            raise MailboxUnavailable(f"{operation} refused: {result.describe()}")
        raise MailboxUnavailable(f"{operation} failed {result.attempts} times: {result.describe()}")

    @staticmethod
    def _outcome(key: str, result: Any, *, idempotent: bool) -> Outcome:
        """The outcome of one item of a batch: its result, or the server's error for it."""
        failure = result if isinstance(result, Failure) else None
        if failure is None and isinstance(result, BaseException):
            failure = failure_of(result, idempotent=idempotent, answered=True)
            if failure is None:
                raise result
        if failure is None:
            return Outcome(key, True)
        # The server answered this item with an error: it was not done, so it may be repeated.
        return Outcome(
            key,
            False,
            failure.describe(),
            transient=failure.verdict is not Verdict.PERMANENT,
            clean=failure.verdict is not Verdict.UNKNOWN,
        )

    # -- reading ----------------------------------------------------------------------

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

        changes = self._read("SyncFolderItems", sync_page)
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

    def read(self, item_ids: Sequence[str]) -> list[FetchedMessage]:
        return list(self._get_items([_ItemRef(i) for i in item_ids]))

    def _get_items(
        self, items: Sequence[Any], *, isolating: bool = False
    ) -> Iterator[FetchedMessage]:
        """GetItem in batches; a batch the server keeps failing on is split until the culprit
        stands alone, which is reported unreadable so the others go on (one bad message must
        never stall the inbox).

        Only a failure that may be the items' own (no answer, an error answer) is split up,
        and only while the server answers a probe: a busy or throttled server, or one that is
        away, leaves the whole page for the next pass. While splitting, each part gets one
        try; a message standing alone gets the full patience before it is judged unreadable.
        """
        if not items:
            return
        result = self._fetch(items, self.once if isolating else self.reads)
        if isinstance(result, Failure) and len(items) == 1 and isolating:
            result = self._fetch(items, self.reads)
        if isinstance(result, Failure):
            if not _may_be_the_items(result) or not self._server_answers():
                raise MailboxUnavailable(
                    f"GetItem failed {result.attempts} times: {result.describe()}"
                )
            if len(items) == 1:
                self.log.error(
                    "message cannot be read; it is skipped and recorded",
                    item_id=items[0].id,
                    error=result.describe(),
                )
                yield FetchedMessage(
                    IncomingMessage(item_id=items[0].id), unreadable=result.describe()
                )
                return
            middle = len(items) // 2
            yield from self._get_items(items[:middle], isolating=True)
            yield from self._get_items(items[middle:], isolating=True)
            return
        for source, item in zip(items, result, strict=True):
            if isinstance(item, ErrorItemNotFound):
                continue  # deleted or moved since the sync; a move shows up as a new item
            if isinstance(item, Exception):
                self.log.warning("item could not be read", item_id=source.id, error=str(item))
                yield FetchedMessage(
                    IncomingMessage(item_id=source.id),
                    unreadable=f"{type(item).__name__}: {item}",
                )
                continue
            self._categories[item.id] = list(item.categories or [])
            if item.changekey:
                self._change_keys[item.id] = item.changekey
            yield FetchedMessage(message_from_item(item), item.topcontact_marker or None)

    def _fetch(self, items: Sequence[Any], retry: Retry) -> list[Any] | Failure:
        result: list[Any] | Failure = retry.run(
            "GetItem",
            attempt(
                lambda: list(
                    self.account.fetch(
                        ids=[(i.id, i.changekey) for i in items],
                        only_fields=FETCH_FIELDS,
                        chunk_size=self.batch_size,
                    )
                ),
                idempotent=True,
            ),
        )
        return result

    def _server_answers(self) -> bool:
        """One cheap request: does the server answer at all (then a failing batch is its items')."""
        result = self.reads.run(
            "GetFolder", attempt(lambda: self.account.inbox.refresh(), idempotent=True)
        )
        return not isinstance(result, Failure)

    # -- sending ----------------------------------------------------------------------

    def send_acknowledgements(self, batch: Sequence[OutgoingAcknowledgement]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        sender = self.address
        sent = self._sent()
        for chunk in _chunks(batch, self.batch_size):
            now = datetime.now().astimezone()
            items = [acknowledgement_item(self.account, sent, o, sender, now) for o in chunk]
            result = self.sends.run("CreateItem", lambda i=items: send_once(self.account, sent, i))  # type: ignore[misc]
            if isinstance(result, Failure):
                outcomes.extend(_send_failed(o.ref, result) for o in chunk)
            else:
                outcomes.extend(
                    self._outcome(o.ref, r, idempotent=False)
                    for o, r in zip(chunk, result, strict=True)
                )
        return outcomes

    def send_notice(self, to: Address, subject: str, text: str) -> None:
        sent = self._sent()
        notice = notice_item(self.account, sent, to, subject, text)
        result = self.sends.run("CreateItem", lambda: send_once(self.account, sent, [notice]))
        outcome = (
            _send_failed("notice", result)
            if isinstance(result, Failure)
            else self._outcome("notice", result[0], idempotent=False)
        )
        if not outcome.ok:
            raise MailboxUnavailable(f"notice not sent: {outcome.error}")

    def send_notices(self, batch: Sequence[OutgoingNotice]) -> list[Outcome]:
        """The team's mails, each with its ref, in one request per batch (as acknowledgements)."""
        outcomes: list[Outcome] = []
        sent = self._sent()
        for chunk in _chunks(batch, self.batch_size):
            items = [team_mail_item(self.account, sent, n) for n in chunk]
            result = self.sends.run("CreateItem", lambda i=items: send_once(self.account, sent, i))  # type: ignore[misc]
            if isinstance(result, Failure):
                outcomes.extend(_send_failed(n.ref, result) for n in chunk)
            else:
                outcomes.extend(
                    self._outcome(n.ref, r, idempotent=False)
                    for n, r in zip(chunk, result, strict=True)
                )
        return outcomes

    def observe(self, watched: Sequence[Watched]) -> dict[str, Observed]:
        found: dict[str, Observed] = {}
        for chunk in _chunks(watched, self.batch_size):
            found.update(self.observer.observe(chunk, datetime.now().astimezone()))
        return found

    def sent_refs(self, refs: Collection[str], since: datetime) -> set[str]:
        """Which refs are on a mail in the mailbox: in Sent Items, the Outbox (still in
        transport) or Deleted Items (staff may have deleted the copy).

        By the ref property, not a header: Exchange rebuilds the Sent Items copy
        after transport, and what it keeps of the headers is its business.
        """
        found: set[str] = set()
        folders = self._read(
            "GetFolder", lambda: [self.account.sent, self.account.outbox, self.account.trash]
        )
        for chunk in _chunks(sorted(set(refs)), LOOKUP_CHUNK):
            items = find_messages(
                self._read,
                self.account,
                folders,
                Q(topcontact_ref__in=list(chunk)),
                ("topcontact_ref",),
                page_size=LOOKUP_PAGE,
            )
            for item in items:
                if not isinstance(item, Exception) and item.topcontact_ref in refs:
                    found.add(item.topcontact_ref)
        return found

    # -- marking ------------------------------------------------------------------------

    def mark(self, marks: Sequence[Mark]) -> list[Outcome]:
        """Marker, flag and categories; staff's categories kept even if they changed meanwhile.

        A mark that writes categories names the version it read (the ChangeKey, with
        ConflictResolution NeverOverwrite): if staff changed the message since,
        Exchange refuses it (ErrorIrresolvableConflict), and the categories are read
        again and the mark tried once more.
        """
        self._load_categories(
            [
                m.item_id
                for m in marks
                if (m.category or m.remove_categories) and m.item_id not in self._categories
            ]
        )
        outcomes: dict[str, Outcome] = {}
        stale = self._update_all(marks, outcomes)
        if stale:
            self._load_categories([m.item_id for m in stale])
            self._update_all(stale, outcomes)
        return [outcomes[m.item_id] for m in marks]

    def _update_all(self, marks: Sequence[Mark], outcomes: dict[str, Outcome]) -> list[Mark]:
        """UpdateItem in batches; the marks refused as stale are returned, the rest settled."""
        stale: list[Mark] = []
        guarded = [
            m
            for m in marks
            if (m.category or m.remove_categories) and m.item_id in self._change_keys
        ]
        plain = [m for m in marks if m not in guarded]
        for group, conflict in ((guarded, "NeverOverwrite"), (plain, "AutoResolve")):
            for chunk in _chunks(group, self.batch_size):
                updates = [
                    mark_update(
                        self.account,
                        m,
                        self._categories.get(m.item_id, []),
                        self._change_keys.get(m.item_id) if conflict == "NeverOverwrite" else None,
                    )
                    for m in chunk
                ]
                result = self.reads.run(
                    "UpdateItem",
                    attempt(
                        lambda u=updates, c=conflict: list(  # type: ignore[misc]
                            self.account.bulk_update(
                                items=u, conflict_resolution=c, chunk_size=self.batch_size
                            )
                        ),
                        idempotent=True,
                    ),
                )
                if isinstance(result, Failure):
                    for m in chunk:
                        outcomes[m.item_id] = self._outcome(m.item_id, result, idempotent=True)
                        if result.code == "ErrorIrresolvableConflict":
                            stale.append(m)
                            self._change_keys.pop(m.item_id, None)
                    continue
                for mark, item_result in zip(chunk, result, strict=True):
                    outcome = self._outcome(mark.item_id, item_result, idempotent=True)
                    if outcome.ok:
                        self._categories.pop(mark.item_id, None)
                        self._change_keys.pop(mark.item_id, None)
                    elif _code(item_result) == "ErrorIrresolvableConflict":
                        stale.append(mark)
                        self._change_keys.pop(mark.item_id, None)
                    outcomes[mark.item_id] = outcome
        return stale

    def _load_categories(self, item_ids: Sequence[str]) -> None:
        if not item_ids:
            return
        results = self._read(
            "GetItem",
            lambda: list(
                self.account.fetch(ids=[(i, None) for i in item_ids], only_fields=["categories"])
            ),
        )
        for item_id, result in zip(item_ids, results, strict=True):
            if not isinstance(result, Exception):
                self._categories[item_id] = list(result.categories or [])
                if result.changekey:
                    self._change_keys[item_id] = result.changekey

    # -- notifications --------------------------------------------------------------------

    def wait_for_changes(self, timeout: float) -> bool:
        """Wait for new mail: a streaming subscription signals it; the daemon's timer is the net."""
        return self.notifications.wait(timeout)

    def close(self) -> None:
        self.notifications.close()
        self.account.protocol.close()


#: Failures a message itself can cause (the server broke off or failed on it); the others
#: (busy, throttled, a mailbox moving) say nothing about the items asked for.
_ITEMS_MAY_CAUSE = frozenset({NO_ANSWER, "ErrorTimeoutExpired", "ErrorInternalServerError"})


def _may_be_the_items(failure: Failure) -> bool:
    return (
        failure.code in _ITEMS_MAY_CAUSE
        or failure.status == 500
        or failure.verdict is Verdict.PERMANENT
    )


def _code(result: Any) -> str:
    """The server's code of one item's error in a batch ('' when it is no error)."""
    if not isinstance(result, BaseException):
        return ""
    failure = failure_of(result, idempotent=True, answered=True)
    return failure.code if failure is not None else ""


class _ItemRef:
    """An item id without a change key, as `account.fetch` takes it."""

    def __init__(self, item_id: str) -> None:
        self.id = item_id
        self.changekey = None


def _send_failed(ref: str, failure: Failure) -> Outcome:
    """The outcome of an acknowledgement whose request as a whole failed."""
    if failure.verdict is Verdict.TRANSIENT:
        # Only the server's own ErrorServerBusy (or no connection) makes a send transient.
        return Outcome(
            ref, False, f"server stayed busy: {failure.describe()}", transient=True, clean=True
        )
    if failure.verdict is Verdict.UNKNOWN:
        # Some may have gone out: the service looks in Sent Items before sending again.
        return Outcome(ref, False, f"send interrupted: {failure.describe()}", transient=True)
    return Outcome(ref, False, f"send refused: {failure.describe()}", transient=False)
