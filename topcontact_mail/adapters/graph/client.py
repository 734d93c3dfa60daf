"""HTTP to Microsoft Graph for one mailbox: tokens, immutable ids, retries, throttling, `$batch`.

Retries follow `topcontact_mail.adapters.retry` (STYLE.md rule 8):

- 429 and 503 are answered before any work is done, so every request, a send
  included, is tried again after the server's `Retry-After` (or a doubling wait
  when it gives none), up to `MAX_ATTEMPTS`; a `Retry-After` longer than
  `MAX_BACK_OFF_SECONDS` leaves the work to a later pass;
- a refused token (401 on a token that should still be valid) is fetched anew once;
- a network error or a 5xx answer is retried only for requests that may run twice
  (reads, PATCH); for the others the outcome is unknown and the caller is told so
  (`AnswerLost`, or the 5xx answer itself), because a send may have gone out. A
  connection that was never made is the exception: nothing left, so it is tried again.

At most `MAX_CONCURRENCY` requests run at once, Exchange Online's limit per
app and mailbox, a batch's steps counted one by one; a request the client stopped
waiting for keeps its slots a while, as the server may still be working on it.
A `$batch` carries at most 20 requests; its steps answered 429 or 503 were not
run and are sent again in a smaller batch. A batch is answered only when its
slowest step is done: one that got no answer in time is split (reads) and makes
the next batches smaller (`GraphClient.batch_limit`).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, NewConnectionError

from topcontact_mail.adapters.graph.auth import PinnedSession, TokenSource
from topcontact_mail.adapters.retry import (
    MAX_BACK_OFF_SECONDS,
    NO_ANSWER,
    Failure,
    Retry,
    Verdict,
    classify_http,
    no_answer,
    retry_after,
    wait,
    waiting_as,
    watcher,
)
from topcontact_mail.logs import get_logger

#: Exchange Online's limit of concurrent requests per app and mailbox.
MAX_CONCURRENCY = 4
#: Graph's limit of requests in one JSON batch.
MAX_BATCH = 20
#: How long the slots of a request the client stopped waiting for stay taken at most.
ABANDONED_HOLD_SECONDS = 10.0
#: Attempts of one request (or of the throttled steps of one batch) before giving up for this pass.
MAX_ATTEMPTS = 5
PREFER_IMMUTABLE = 'IdType="ImmutableId"'
__all__ = [
    "MAX_ATTEMPTS",
    "MAX_BACK_OFF_SECONDS",
    "AnswerLost",
    "BatchStep",
    "GraphClient",
    "GraphResponse",
]


class AnswerLost(Exception):
    """The request may or may not have been carried out: the connection broke after sending."""


@dataclass(frozen=True)
class GraphResponse:
    """One answer of Graph, of a plain request or of one step of a batch."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error_code(self) -> str:
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return str(error.get("code", "")) if isinstance(error, dict) else ""

    @property
    def error_message(self) -> str:
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return str(error.get("message", ""))[:300] if isinstance(error, dict) else ""

    def describe(self) -> str:
        """`status code: message`, for logs and outcomes (never a token or a body)."""
        code = self.error_code or "HTTP"
        return f"{self.status} {code}: {self.error_message}".strip().rstrip(":")

    def failure(self, *, idempotent: bool) -> Failure | None:
        """What this answer means for trying again (None: a success)."""
        if self.ok:
            return None
        if self.status == 0:
            return no_answer(idempotent=idempotent, detail=self.error_code)
        return classify_http(
            self.status,
            self.error_code,
            idempotent=idempotent,
            hint=self.retry_after(),
            detail=self.describe(),
        )

    @property
    def transient(self) -> bool:
        """Whether trying the same request later may succeed."""
        failure = self.failure(idempotent=True)
        return failure is not None and failure.verdict is not Verdict.PERMANENT

    def retry_after(self) -> float | None:
        value = next((v for k, v in self.headers.items() if k.lower() == "retry-after"), None)
        return retry_after(value)


@dataclass(frozen=True)
class BatchStep:
    """One request inside a `$batch`; `url` is relative to the API root ("/users/…")."""

    id: str
    method: str
    url: str
    body: Any = None
    #: Extra headers of the step (e.g. If-Match).
    headers: Mapping[str, str] | None = None

    def as_json(self) -> dict[str, Any]:
        step: dict[str, Any] = {
            "id": self.id,
            "method": self.method,
            "url": self.url,
            "headers": {"Prefer": PREFER_IMMUTABLE},
        }
        step["headers"].update(self.headers or {})
        if self.body is not None:
            step["body"] = self.body
            step["headers"]["Content-Type"] = "application/json"
        return step


class _Slots:
    """The mailbox's concurrent requests as Graph counts them: a request takes one slot, a
    batch one per step up to four; taken all at once, so two batches never hold half each."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._changed = threading.Condition()

    def take(self, count: int) -> int:
        with self._changed:
            self._changed.wait_for(lambda: self._free >= count)
            self._free -= count
        return count

    def give_back(self, count: int) -> None:
        with self._changed:
            self._free += count
            self._changed.notify_all()

    def give_back_later(self, count: int, seconds: float) -> None:
        timer = threading.Timer(seconds, self.give_back, args=(count,))
        timer.daemon = True
        timer.start()


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the connection was never made, so the request certainly never left."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if isinstance(exc, requests.ConnectionError) and exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    # urllib3 raises NewConnectionError (NameResolutionError is one) before sending anything.
    return isinstance(reason, NewConnectionError)


class GraphClient:
    """Requests to one Graph API root ("https://graph.microsoft.com/v1.0") with a token source."""

    def __init__(
        self,
        api_root: str,
        tokens: TokenSource,
        *,
        verify: bool | str = True,
        timeout: float = 60.0,
        retry_wait: float = 10.0,
        sleep: Callable[[float], object] = wait,
        session: requests.Session | None = None,
        mailbox: str = "",
    ) -> None:
        self.api_root = api_root.rstrip("/")
        self.origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.api_root)).lower()
        self.tokens = tokens
        self.timeout = timeout
        self._slots = _Slots(MAX_CONCURRENCY)
        self.session = session or PinnedSession(verify, timeout)
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=MAX_CONCURRENCY, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers["User-Agent"] = "topcontact-mail"
        self.log = get_logger("graph", mailbox=mailbox)
        self.retry = Retry(first_wait=retry_wait, attempts=MAX_ATTEMPTS, sleep=sleep, log=self.log)
        self._sleep = sleep
        #: Requests sent, by "METHOD operation", for the benchmark and the tests.
        self.sent: dict[str, int] = {}
        #: Steps per `$batch` now: halved when a batch got no answer in time (a slow step holds
        #: up its whole batch), one more after each batch answered, up to `MAX_BATCH`.
        self.batch_limit = MAX_BATCH

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("https://", "http://")):
            return path_or_url
        return f"{self.api_root}/{path_or_url.lstrip('/')}"

    def owns(self, url: str) -> bool:
        """Whether `url` points at our Graph host (a token is never sent anywhere else)."""
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}".lower() == self.origin

    # -- one request ----------------------------------------------------------------------

    def _send_once(
        self, method: str, url: str, body: Any, headers: Mapping[str, str]
    ) -> GraphResponse:
        all_headers = {
            "Authorization": f"Bearer {self.tokens.token()}",
            "Prefer": PREFER_IMMUTABLE,
            "client-request-id": str(uuid.uuid4()),
            "Accept": "application/json",
            **headers,
        }
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            all_headers["Content-Type"] = "application/json"
        key = f"{method} {urlsplit(url).path.rsplit('/', 1)[-1]}"
        self.sent[key] = self.sent.get(key, 0) + 1
        # A batch's steps count one by one against the mailbox's limit (Graph runs four of
        # them at once), so a batch of four or more needs every slot.
        steps = (
            len(body.get("requests") or ())
            if isinstance(body, dict) and key == "POST $batch"
            else 1
        )
        held = self._slots.take(min(MAX_CONCURRENCY, max(1, steps)))
        try:
            answer = self.session.request(
                method, url, data=data, headers=all_headers, timeout=self.timeout
            )
        except requests.Timeout:
            # The server may still be working on what we stopped waiting for: its slots stay
            # taken for a while, or the next requests would meet 429 MailboxConcurrency.
            self._slots.give_back_later(held, min(self.timeout, ABANDONED_HOLD_SECONDS))
            raise
        except BaseException:
            self._slots.give_back(held)
            raise
        self._slots.give_back(held)
        try:
            parsed = answer.json() if answer.content else None
        except ValueError:
            parsed = None
        return GraphResponse(answer.status_code, dict(answer.headers), parsed)

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        may_repeat: bool,
    ) -> GraphResponse:
        """Send with the retries of the module docstring; `may_repeat`: safe to run twice.

        Raises `AnswerLost` when a request that may not run twice broke off in
        flight; otherwise returns Graph's last answer (status 0 when the network
        stayed down).
        """
        url = self.url(path_or_url)
        if not self.owns(url):
            raise ValueError(f"refusing to send a token to {urlsplit(url).netloc}")
        holder: list[GraphResponse] = [GraphResponse(0)]
        result = self.retry.run(
            _operation(method, url),
            lambda: self._attempt(method, url, body, headers or {}, may_repeat, holder),
        )
        _raise_if_lost(result, method)
        return holder[0]

    def _attempt(
        self,
        method: str,
        url: str,
        body: Any,
        headers: Mapping[str, str],
        may_repeat: bool,
        last: list[GraphResponse],
    ) -> GraphResponse | Failure:
        """One try of a request (a refused token fetched anew once); `last[0]`: Graph's answer."""
        try:
            last[0] = self._send_once(method, url, body, headers)
            if last[0].status == 401:
                # Revoked or rotated before its expiry: a fresh token, once per try.
                self.tokens.invalidate()
                last[0] = self._send_once(method, url, body, headers)
        except requests.RequestException as exc:
            last[0] = GraphResponse(0, {}, {"error": {"code": type(exc).__name__}})
            return no_answer(
                idempotent=may_repeat, sent=not _never_sent(exc), detail=type(exc).__name__
            )
        return last[0].failure(idempotent=may_repeat) or last[0]

    # -- batches --------------------------------------------------------------------------

    def batch(self, steps: Sequence[BatchStep], *, may_repeat: bool) -> dict[str, GraphResponse]:
        """Run up to 20 steps in one `$batch`; answers by step id.

        Steps answered 429/503 were not run: they go again, alone, after the
        longest `Retry-After` among them; with `may_repeat`, so do steps that
        failed with a 5xx. A batch is answered when its slowest step is done, so a
        batch that may run twice and got no answer in time is split in halves, each
        tried on its own (a slow step then holds up only its half), and later batches
        are smaller (`batch_limit`) until answers come in time again. When a batch
        that may not run twice is lost in flight, `AnswerLost` is raised.
        """
        if len(steps) > MAX_BATCH:
            raise ValueError(f"a $batch holds at most {MAX_BATCH} requests")
        results: dict[str, GraphResponse] = {}
        if not may_repeat:  # a send's batch is the caller's to size: `AnswerLost` covers it all
            self._batch(list(steps), may_repeat, results)
            return results
        size = self.batch_limit
        chunks = [list(steps[i : i + size]) for i in range(0, len(steps), size)]
        if len(chunks) == 1:
            self._batch(chunks[0], may_repeat, results)
            return results
        # Smaller batches after time-outs: side by side, as many as Graph runs at once for a
        # mailbox, so a slow server costs time once per round and not once per batch.
        hooks = watcher()

        def one(chunk: list[BatchStep]) -> None:
            with waiting_as(*hooks) if hooks else nullcontext():
                self._batch(chunk, may_repeat, results)

        with ThreadPoolExecutor(max_workers=min(MAX_CONCURRENCY, len(chunks))) as pool:
            for done in [pool.submit(one, chunk) for chunk in chunks]:
                done.result()
        return results

    def _batch(
        self, steps: list[BatchStep], may_repeat: bool, results: dict[str, GraphResponse]
    ) -> None:
        url = self.url("$batch")
        pending = steps
        last: list[GraphResponse] = [GraphResponse(0)]
        halves: list[list[BatchStep]] = []
        steps_failed = False

        def once() -> dict[str, GraphResponse] | Failure:
            nonlocal pending, steps_failed
            steps_failed = False
            body = {"requests": [s.as_json() for s in pending]}
            outcome = self._attempt("POST", url, body, {}, may_repeat, last)
            if isinstance(outcome, Failure):
                if outcome.code == NO_ANSWER and len(pending) > 1:
                    # Smaller batches from now on, until answers come in time again.
                    self.batch_limit = max(1, min(self.batch_limit, len(pending) // 2))
                    if may_repeat:
                        middle = len(pending) // 2
                        halves.extend((pending[:middle], pending[middle:]))
                        return results
                return outcome  # the batch as a whole: tried again, or handed back below
            answer = outcome
            self.batch_limit = min(MAX_BATCH, self.batch_limit + 1)
            if not isinstance(answer.body, dict):
                for step in pending:
                    results[step.id] = answer
                return results
            for entry in answer.body.get("responses") or ():
                if isinstance(entry, dict) and "id" in entry:
                    results[str(entry["id"])] = GraphResponse(
                        int(entry.get("status", 0)),
                        {str(k): str(v) for k, v in (entry.get("headers") or {}).items()},
                        entry.get("body"),
                    )
            for step in pending:
                results.setdefault(step.id, GraphResponse(0, {}, {"error": {"code": NO_ANSWER}}))
            # Throttled steps were not run; a failed step is run again only if that is harmless.
            again: list[tuple[BatchStep, Failure]] = []
            for step in pending:
                failure = results[step.id].failure(idempotent=may_repeat)
                if failure is not None and failure.verdict is Verdict.TRANSIENT:
                    again.append((step, failure))
            if not again:
                return results
            pending = [step for step, _ in again]
            steps_failed = True
            hints = [f.hint for _, f in again if f.hint is not None]
            # One wait for all: the longest the server asked for.
            return replace(again[0][1], hint=max(hints, default=None))

        result = self.retry.run("POST $batch", once)
        if isinstance(result, Failure) and not steps_failed:
            _raise_if_lost(result, "POST")
            for step in pending:  # the batch itself failed: every step has its answer
                results[step.id] = last[0]
        if halves:
            pause = self.retry.wait_before(1, no_answer(idempotent=True)) or 0.0
            self.log.warning(
                "batch got no answer in time, splitting it",
                steps=len(pending),
                seconds=round(pause, 3),
            )
            self._sleep(pause)
            for half in halves:
                self._batch(half, may_repeat, results)


def _operation(method: str, url: str) -> str:
    return f"{method} {urlsplit(url).path.rsplit('/', 1)[-1]}"


def _raise_if_lost(result: object, method: str) -> None:
    """`AnswerLost` when a request that may not run twice broke off after it was sent."""
    if (
        isinstance(result, Failure)
        and result.verdict is Verdict.UNKNOWN
        and result.code == NO_ANSWER
    ):
        raise AnswerLost(f"{result.detail} during {method}")
