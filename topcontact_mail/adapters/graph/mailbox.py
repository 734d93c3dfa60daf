"""The shared mailbox over Microsoft Graph (Exchange Online): the Mailbox port, as the EWS adapter.

- Reading: a delta query on the inbox with `$select` of only what the screening
  needs and the marker expanded, one page per call; the watermark is the
  `@odata.nextLink` while paging and the `@odata.deltaLink` after the last page.
  A sync state Graph no longer knows (410 Gone) raises `WatermarkExpired`.
- Sending: `reply` on the customer's message, one request per acknowledgement
  (createReply and send in one action, so the reply is threaded in headers and
  in the mailbox's conversation, and saved in Sent Items), with the recipient,
  subject, body, our `x-` headers and two properties given in its `message`;
  in batches of at most 20, paced below `send_rate_per_minute`. The body given
  replaces Graph's quoted original, so the customer's text is never quoted.
  The acknowledgement's ref travels as a property, so `sent_refs` finds it.
- Marking: one PATCH per message with marker, follow-up flag and categories
  (appended to staff's own), in batches of at most 20.
- Observing tracked messages (`observe.py`) and the team's mails (`sendMail`,
  one request each, with the ref property so `sent_refs` finds them).

`Auto-Submitted` cannot be carried: Graph accepts only `x-` internet headers
and is reported to strip `Auto-Submitted` from MIME submissions. The README
describes the Exchange Online mail-flow rule that stamps `Auto-Submitted:
auto-replied` on messages carrying our `X-TopContact-Mail` header.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from topcontact_mail.adapters.graph import fields
from topcontact_mail.adapters.graph.auth import MsalTokenSource, tls_verify
from topcontact_mail.adapters.graph.client import (
    MAX_BATCH,
    AnswerLost,
    BatchStep,
    GraphClient,
    GraphResponse,
)
from topcontact_mail.adapters.graph.observe import GraphObserver
from topcontact_mail.adapters.retry import wait
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

#: Error codes Graph uses for a delta token it no longer knows (with 410 Gone, or 400).
_LOST_SYNC_STATE = frozenset({"syncstatenotfound", "syncstateinvalid", "resyncrequired"})
T = TypeVar("T")


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _reception_order(fetched: FetchedMessage) -> tuple[float, str]:
    received = fetched.message.received
    return (received.timestamp() if received else float("inf"), fetched.message.item_id or "")


def api_root(graph_url: str) -> str:
    """The v1.0 root under `graph_url` ("https://graph.microsoft.com" → ".../v1.0")."""
    root = graph_url.rstrip("/")
    return root if root.lower().endswith(("/v1.0", "/beta")) else f"{root}/v1.0"


def connect(settings: Settings) -> GraphMailbox:
    """Open the shared mailbox as the configuration says; checks sign-in and access once."""
    graph = settings.connection.graph
    if graph is None:
        raise MailboxUnavailable("no [connection.graph] section in the configuration")
    log = get_logger("graph", mailbox=settings.connection.shared_mailbox)
    if not graph.verify_tls and graph.ca_file is None:
        log.warning("TLS verification is OFF: only acceptable against a test server")
    client = GraphClient(
        api_root(graph.graph_url),
        MsalTokenSource(graph),
        verify=tls_verify(graph),
        timeout=graph.timeout_seconds,
        retry_wait=graph.retry_wait_seconds,
        mailbox=settings.connection.shared_mailbox,
    )
    mailbox = GraphMailbox(
        client,
        settings.connection.shared_mailbox,
        display_name=f"{settings.team.name} {settings.team.organisation}".strip(),
        time_zone=settings.calendar.timezone,
        page_size=graph.page_size,
        poll_interval=graph.poll_interval_seconds,
        send_rate_per_minute=graph.send_rate_per_minute,
    )
    mailbox.check_access()
    return mailbox


class SendPacer:
    """At most `per_minute` sends in any 60 seconds (0: no limit); waits when the window is full."""

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = wait,
    ) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()

    def _trim(self, now: float) -> None:
        while self._sent and self._sent[0] <= now - 60.0:
            self._sent.popleft()

    def take(self, wanted: int) -> int:
        """Wait until at least one send is allowed; how many of `wanted` may go now."""
        if self.per_minute <= 0:
            return wanted
        while True:
            now = self._clock()
            self._trim(now)
            free = self.per_minute - len(self._sent)
            if free > 0:
                return min(wanted, free)
            self._sleep(max(0.01, self._sent[0] + 60.0 - now))

    def record(self, count: int) -> None:
        now = self._clock()
        self._sent.extend([now] * count)


class GraphMailbox:
    """The Mailbox port over Microsoft Graph."""

    def __init__(
        self,
        client: GraphClient,
        address: str,
        *,
        display_name: str = "",
        time_zone: str = "Europe/Amsterdam",
        page_size: int = 100,
        poll_interval: float = 10.0,
        send_rate_per_minute: int = 25,
        sleep: Callable[[float], object] = wait,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.email = address
        self.display_name = display_name
        self.time_zone = time_zone
        self.page_size = page_size
        self.poll_interval = poll_interval
        self._sleep = sleep
        self._clock = clock
        self.pacer = SendPacer(send_rate_per_minute, clock=clock, sleep=sleep)
        self._user = f"/users/{quote(address, safe='@')}"
        #: Staff's categories as last read, so ours are appended instead of replacing theirs,
        #: and the version they were read at: a PATCH names it (If-Match), so categories staff
        #: changed since are read again instead of overwritten.
        self._categories: dict[str, list[str]] = {}
        self._etags: dict[str, str] = {}
        self._last_poll = clock()
        self.log = get_logger("graph", mailbox=address)
        self.observer = GraphObserver(client, self._user)

    @property
    def address(self) -> Address:
        return Address(self.email, self.display_name)

    def _message_url(self, item_id: str, action: str = "") -> str:
        url = f"{self._user}/messages/{quote(item_id, safe='')}"
        return f"{url}/{action}" if action else url

    def check_access(self) -> None:
        """One read of the inbox: signs in and proves the app may open the mailbox."""
        answer = self.client.request(
            "GET", f"{self._user}/mailFolders/inbox?$select=id", may_repeat=True
        )
        if not answer.ok:
            self.log.error("cannot open the shared mailbox", error=answer.describe())
            raise MailboxUnavailable(f"cannot open {self.email}: {answer.describe()}")

    # -- reading ----------------------------------------------------------------------------

    def _first_delta_url(self) -> str:
        query = urlencode(
            {"$select": ",".join(fields.SELECT_FIELDS), "$expand": fields.expand_parameter()},
            quote_via=quote,
            safe="$,()'",
        )
        return f"{self._user}/mailFolders/inbox/messages/delta?{query}"

    def fetch_changes(self, watermark: str | None) -> ChangePage:
        self._last_poll = self._clock()
        if watermark is not None and not (
            self.client.owns(watermark) and "/messages/delta" in watermark.lower()
        ):
            # Another backend's sync state, or another Graph host: start over (markers tell).
            raise WatermarkExpired("the watermark is not a Graph delta link of this mailbox")
        url = watermark or self._first_delta_url()
        try:
            answer = self.client.request(
                "GET",
                url,
                headers={"Prefer": f'odata.maxpagesize={self.page_size}, IdType="ImmutableId"'},
                may_repeat=True,
            )
        except AnswerLost as exc:  # not raised for reads; kept for completeness of the contract
            raise MailboxUnavailable(str(exc)) from None
        if answer.status == 410 or answer.error_code.lower() in _LOST_SYNC_STATE:
            raise WatermarkExpired(f"Graph no longer knows the delta state ({answer.describe()})")
        if not answer.ok or not isinstance(answer.body, dict):
            if answer.status in (401, 403, 404):
                self.log.error("delta query refused", error=answer.describe())
            raise MailboxUnavailable(f"delta query failed: {answer.describe()}")
        messages: dict[str, FetchedMessage] = {}
        for entry in answer.body.get("value") or ():
            fetched = self._fetched(entry)
            if fetched is not None:
                messages[fetched.message.item_id or ""] = fetched
        # Graph does not promise an order within a page: oldest first, so the first message of a
        # conversation is the one acknowledged, as the service expects.
        ordered = sorted(messages.values(), key=_reception_order)
        next_link = answer.body.get("@odata.nextLink")
        delta_link = answer.body.get("@odata.deltaLink")
        new_watermark = str(next_link or delta_link or url)
        if not self.client.owns(self.client.url(new_watermark)):
            raise MailboxUnavailable("Graph answered with a link to another host")
        return ChangePage(ordered, new_watermark, more=bool(next_link))

    def _fetched(self, entry: Any) -> FetchedMessage | None:
        if not isinstance(entry, dict) or "@removed" in entry or not entry.get("id"):
            return None  # deleted or moved out of the inbox; a move in shows up as a change
        item_id = str(entry["id"])
        if isinstance(entry.get("categories"), list):
            self._categories[item_id] = [str(c) for c in entry["categories"]]
            if isinstance(entry.get("@odata.etag"), str):
                self._etags[item_id] = str(entry["@odata.etag"])
        marker = fields.property_value(entry, fields.MARKER_PROPERTY)
        if marker:
            return FetchedMessage(IncomingMessage(item_id=item_id), marker)
        if "receivedDateTime" not in entry:
            # A delta update may carry only the id and what changed (our own marks, staff's flags).
            return FetchedMessage(IncomingMessage(item_id=item_id), partial=True)
        try:
            return FetchedMessage(fields.message_from_json(entry))
        except Exception as exc:  # one odd message must never stop the page
            self.log.error(
                "message cannot be read; it is skipped and recorded",
                item_id=item_id,
                error=type(exc).__name__,
            )
            return FetchedMessage(
                IncomingMessage(item_id=item_id),
                unreadable=f"conversion failed: {type(exc).__name__}",
            )

    def read(self, item_ids: Sequence[str]) -> list[FetchedMessage]:
        query = urlencode(
            {"$select": ",".join(fields.SELECT_FIELDS), "$expand": fields.expand_parameter()},
            quote_via=quote,
            safe="$,()'",
        )
        found: list[FetchedMessage] = []
        for chunk in _chunks(list(dict.fromkeys(item_ids)), MAX_BATCH):
            steps = [
                BatchStep(str(n), "GET", f"{self._message_url(i)}?{query}")
                for n, i in enumerate(chunk)
            ]
            answers = self.client.batch(steps, may_repeat=True)
            for step in steps:
                answer = answers[step.id]
                if answer.status == 404:
                    continue  # deleted since
                if not answer.ok:
                    raise MailboxUnavailable(f"reading messages failed: {answer.describe()}")
                fetched = self._fetched(answer.body)
                if fetched is not None:
                    found.append(fetched)
        return found

    # -- sending ----------------------------------------------------------------------------

    def send_acknowledgements(self, batch: Sequence[OutgoingAcknowledgement]) -> list[Outcome]:
        outcomes: dict[str, Outcome] = {}
        queue = list(batch)
        while queue:
            allowed = self.pacer.take(min(self.client.batch_limit, len(queue)))
            chunk, queue = queue[:allowed], queue[allowed:]
            outcomes.update(self._send_chunk(chunk))
        return [outcomes[o.ref] for o in batch]

    def _send_chunk(self, chunk: Sequence[OutgoingAcknowledgement]) -> dict[str, Outcome]:
        steps = []
        for n, o in enumerate(chunk):
            message, dropped = fields.reply_message(o.acknowledgement, o.ref)
            if dropped:
                self.log.debug("headers Graph cannot carry", headers=dropped)
            steps.append(
                BatchStep(
                    str(n),
                    "POST",
                    self._message_url(o.original_item_id, "reply"),
                    {"message": message},
                )
            )
        self.pacer.record(len(steps))
        try:
            answers = self.client.batch(steps, may_repeat=False)
        except AnswerLost as exc:
            # Some may have gone out: the service looks for their refs before sending again.
            return {
                o.ref: Outcome(o.ref, False, f"send interrupted: {exc}", transient=True)
                for o in chunk
            }
        except MailboxUnavailable as exc:  # no token: nothing was sent
            return {
                o.ref: Outcome(o.ref, False, f"send not started: {exc}", transient=True, clean=True)
                for o in chunk
            }
        return {
            o.ref: self._send_outcome(o.ref, answers[step.id])
            for step, o in zip(steps, chunk, strict=True)
        }

    @staticmethod
    def _send_outcome(ref: str, answer: GraphResponse) -> Outcome:
        if answer.ok:
            return Outcome(ref, True)
        if answer.status == 404:
            return Outcome(ref, False, "the customer's message is no longer in the mailbox")
        if answer.status in (429, 503):
            # Throttled steps are refused before any work (Graph's batch semantics).
            return Outcome(ref, False, f"reply: {answer.describe()}", transient=True, clean=True)
        if answer.transient:
            # A 5xx may come after the work was done: the service reconciles before retrying.
            return Outcome(ref, False, f"reply: {answer.describe()}", transient=True)
        return Outcome(ref, False, f"reply refused: {answer.describe()}")

    def send_notice(self, to: Address, subject: str, text: str) -> None:
        message = {
            "subject": subject,
            "body": {"contentType": "Text", "content": text},
            "toRecipients": [{"emailAddress": {"address": to.email}}],
        }
        try:
            answer = self.client.request(
                "POST", f"{self._user}/sendMail", body={"message": message}, may_repeat=False
            )
        except AnswerLost as exc:
            raise MailboxUnavailable(f"notice may not have been sent: {exc}") from None
        if not answer.ok:
            raise MailboxUnavailable(f"notice not sent: {answer.describe()}")

    def send_notices(self, batch: Sequence[OutgoingNotice]) -> list[Outcome]:
        """The team's mails, one sendMail each (they are few), each with its ref."""
        outcomes = []
        for notice in batch:
            self.pacer.take(1)
            self.pacer.record(1)
            message = fields.team_mail(notice.to, notice.subject, notice.text, notice.ref)
            try:
                answer = self.client.request(
                    "POST", f"{self._user}/sendMail", body={"message": message}, may_repeat=False
                )
            except AnswerLost as exc:
                outcomes.append(
                    Outcome(notice.ref, False, f"send interrupted: {exc}", transient=True)
                )
                continue
            outcomes.append(self._send_outcome(notice.ref, answer))
        return outcomes

    def observe(self, watched: Sequence[Watched]) -> dict[str, Observed]:
        return self.observer.observe(watched, datetime.now().astimezone())

    def sent_refs(self, refs: Collection[str], since: datetime) -> set[str]:
        """Acknowledgements found by their ref property, in Sent Items or wherever staff moved them.

        A reply still on its way (in the Outbox) carries the property as well, so
        it counts as sent. `since` is not used: a ref is unique, so the property
        alone is exact.
        """
        found: set[str] = set()
        for chunk in _chunks(sorted(refs), MAX_BATCH):
            steps = [BatchStep(str(n), "GET", self._ref_query(ref)) for n, ref in enumerate(chunk)]
            answers = self.client.batch(steps, may_repeat=True)
            for step, ref in zip(steps, chunk, strict=True):
                answer = answers[step.id]
                if not answer.ok or not isinstance(answer.body, dict):
                    raise MailboxUnavailable(
                        f"search for sent acknowledgements failed: {answer.describe()}"
                    )
                if answer.body.get("value"):
                    found.add(ref)
        return found

    def _ref_query(self, ref: str) -> str:
        value = ref.replace("'", "''")
        clause = (
            "singleValueExtendedProperties/any(ep: ep/id eq "
            f"'{fields.ACK_REF_PROPERTY}' and ep/value eq '{value}')"
        )
        query = urlencode(
            {"$filter": clause, "$select": "id", "$top": "1"}, quote_via=quote, safe="$,()'"
        )
        return f"{self._user}/messages?{query}"

    # -- marking ----------------------------------------------------------------------------

    def mark(self, marks: Sequence[Mark]) -> list[Outcome]:
        outcomes: dict[str, Outcome] = {}
        unknown = [
            m.item_id
            for m in marks
            if (m.category or m.remove_categories) and m.item_id not in self._categories
        ]
        outcomes.update(self._load_categories(unknown))
        todo = [m for m in marks if m.item_id not in outcomes]
        stale = self._patch_all(todo, outcomes)
        if stale:
            # Staff changed these since they were read: read their categories again, once.
            unreadable = self._load_categories([m.item_id for m in stale])
            outcomes.update(unreadable)
            self._patch_all([m for m in stale if m.item_id not in unreadable], outcomes)
        return [outcomes[m.item_id] for m in marks]

    def _patch_all(self, marks: Sequence[Mark], outcomes: dict[str, Outcome]) -> list[Mark]:
        """PATCH in batches; the marks refused as stale (412) are returned, the rest settled."""
        stale: list[Mark] = []
        for chunk in _chunks(marks, MAX_BATCH):
            steps = [
                BatchStep(
                    str(n),
                    "PATCH",
                    self._message_url(m.item_id),
                    self._patch(m),
                    {"If-Match": self._etags[m.item_id]}
                    if (m.category or m.remove_categories) and m.item_id in self._etags
                    else None,
                )
                for n, m in enumerate(chunk)
            ]
            # An outage raises MailboxUnavailable: the daemon backs off, no attempt is spent.
            answers = self.client.batch(steps, may_repeat=True)
            for step, m in zip(steps, chunk, strict=True):
                answer = answers[step.id]
                if answer.ok:
                    self._categories.pop(m.item_id, None)
                    self._etags.pop(m.item_id, None)
                    outcomes[m.item_id] = Outcome(m.item_id, True)
                elif answer.status == 412 and m.item_id not in {s.item_id for s in stale}:
                    stale.append(m)
                    outcomes[m.item_id] = Outcome(
                        m.item_id, False, f"update: {answer.describe()}", True
                    )
                else:
                    outcomes[m.item_id] = Outcome(
                        m.item_id, False, f"update: {answer.describe()}", answer.transient
                    )
        return stale

    def _patch(self, mark: Mark) -> dict[str, Any]:
        categories = None
        if mark.category or mark.remove_categories:
            current = [
                c for c in self._categories.get(mark.item_id, []) if c not in mark.remove_categories
            ]
            if mark.category and mark.category not in current:
                current.append(mark.category)
            categories = current
        return fields.mark_patch(
            mark.marker,
            zone=self.time_zone,
            flag_start=mark.flag_start,
            flag_due=mark.flag_due,
            categories=categories,
        )

    def _load_categories(self, item_ids: Sequence[str]) -> dict[str, Outcome]:
        """Read staff's categories of messages not seen in this process; failures as outcomes."""
        failed: dict[str, Outcome] = {}
        for chunk in _chunks(list(dict.fromkeys(item_ids)), MAX_BATCH):
            steps = [
                BatchStep(str(n), "GET", f"{self._message_url(i)}?$select=categories")
                for n, i in enumerate(chunk)
            ]
            answers = self.client.batch(steps, may_repeat=True)
            for step, item_id in zip(steps, chunk, strict=True):
                answer = answers[step.id]
                if answer.ok and isinstance(answer.body, dict):
                    self._categories[item_id] = [
                        str(c) for c in answer.body.get("categories") or ()
                    ]
                    if isinstance(answer.body.get("@odata.etag"), str):
                        self._etags[item_id] = str(answer.body["@odata.etag"])
                else:
                    failed[item_id] = Outcome(
                        item_id, False, f"read: {answer.describe()}", answer.transient
                    )
        return failed

    # -- waiting ----------------------------------------------------------------------------

    def wait_for_changes(self, timeout: float) -> bool:
        """Sleep until the next poll is due (True) or `timeout` passes (False).

        Graph's change notifications need a public HTTPS endpoint; polling the
        delta link every `poll_interval_seconds` costs one request when nothing
        changed, well inside Graph's per-mailbox limits.
        """
        due = self._last_poll + self.poll_interval
        now = self._clock()
        if now >= due:
            self._last_poll = now
            return True
        self._sleep(min(timeout, due - now))
        if self._clock() >= due:
            self._last_poll = self._clock()
            return True
        return False

    def close(self) -> None:
        self.client.session.close()
