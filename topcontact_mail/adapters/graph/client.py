"""HTTP to Microsoft Graph for one mailbox: tokens, immutable ids, retries, throttling, `$batch`.

Retries are classified (STYLE.md rule 8):

- 429 and 503 are answered before any work is done, so every request, a send
  included, is tried again after the server's `Retry-After` (or a doubling wait
  when it gives none), up to `MAX_ATTEMPTS` and never longer than
  `MAX_BACK_OFF_SECONDS` per wait;
- a refused token (401 on a token that should still be valid) is fetched anew once;
- a network error or a 5xx answer is retried only for requests that may run twice
  (reads, PATCH); for the others the answer is lost and the caller is told so
  (`AnswerLost`, or the 5xx answer itself), because a send may have gone out.

At most `MAX_CONCURRENCY` requests run at once, Exchange Online's limit per
app and mailbox. A `$batch` carries at most 20 requests; its steps answered 429
or 503 were not run and are sent again in a smaller batch.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from topcontact_mail.adapters.graph.auth import PinnedSession, TokenSource
from topcontact_mail.logs import get_logger

#: Exchange Online's limit of concurrent requests per app and mailbox.
MAX_CONCURRENCY = 4
#: Graph's limit of requests in one JSON batch.
MAX_BATCH = 20
#: Attempts of one request (or of the throttled steps of one batch) before giving up for this pass.
MAX_ATTEMPTS = 5
#: The longest back-off honoured in place; a longer hint leaves the work to a later pass.
MAX_BACK_OFF_SECONDS = 300.0
PREFER_IMMUTABLE = 'IdType="ImmutableId"'
_THROTTLED = (429, 503)


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

    @property
    def transient(self) -> bool:
        """Whether trying the same request later may succeed."""
        return self.status in (408, 409, 412, *_THROTTLED) or self.status >= 500 or self.status == 0

    def retry_after(self) -> float | None:
        value = next((v for k, v in self.headers.items() if k.lower() == "retry-after"), None)
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


@dataclass(frozen=True)
class BatchStep:
    """One request inside a `$batch`; `url` is relative to the API root ("/users/…")."""

    id: str
    method: str
    url: str
    body: Any = None

    def as_json(self) -> dict[str, Any]:
        step: dict[str, Any] = {
            "id": self.id,
            "method": self.method,
            "url": self.url,
            "headers": {"Prefer": PREFER_IMMUTABLE},
        }
        if self.body is not None:
            step["body"] = self.body
            step["headers"]["Content-Type"] = "application/json"
        return step


def _connect_failed(exc: requests.RequestException) -> bool:
    """True when the request certainly never reached the server (safe to send again)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.ReadTimeout):
        text = repr(exc)
        return any(s in text for s in ("NewConnectionError", "ConnectionRefused", "NameResolution"))
    return False


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
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        mailbox: str = "",
    ) -> None:
        self.api_root = api_root.rstrip("/")
        self.origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.api_root)).lower()
        self.tokens = tokens
        self.timeout = timeout
        self.retry_wait = retry_wait
        self._sleep = sleep
        self._slots = threading.BoundedSemaphore(MAX_CONCURRENCY)
        self.session = session or PinnedSession(verify, timeout)
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=MAX_CONCURRENCY, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers["User-Agent"] = "topcontact-mail"
        self.log = get_logger("graph", mailbox=mailbox)
        #: Requests sent, by "METHOD operation", for the benchmark and the tests.
        self.sent: dict[str, int] = {}

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
        with self._slots:
            answer = self.session.request(
                method, url, data=data, headers=all_headers, timeout=self.timeout
            )
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
        refreshed = False
        last = GraphResponse(0)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                last = self._send_once(method, url, body, headers or {})
            except requests.RequestException as exc:
                if not (may_repeat or _connect_failed(exc)):
                    raise AnswerLost(f"{type(exc).__name__} during {method}") from None
                last = GraphResponse(0, {}, {"error": {"code": type(exc).__name__}})
                if not self._back_off(attempt, None, method, url, type(exc).__name__):
                    return last
                continue
            if last.status == 401 and not refreshed:
                refreshed = True  # revoked or rotated before its expiry: get a fresh one once
                self.tokens.invalidate()
                continue
            if last.status in _THROTTLED or (may_repeat and last.transient):
                if not self._back_off(attempt, last.retry_after(), method, url, last.describe()):
                    return last
                continue
            return last
        return last

    def _back_off(
        self, attempt: int, hint: float | None, method: str, url: str, reason: str
    ) -> bool:
        """Wait before the next attempt; False when no attempt is left or the wait is too long."""
        if attempt >= MAX_ATTEMPTS:
            self.log.warning("Graph request failed, attempts used up", reason=reason, method=method)
            return False
        wait = hint if hint is not None else self.retry_wait * 2 ** (attempt - 1)
        if wait > MAX_BACK_OFF_SECONDS:
            self.log.warning(
                "Graph asks to wait longer than we wait in place", seconds=wait, reason=reason
            )
            return False
        self.log.warning(
            "Graph busy or unreachable, backing off",
            seconds=round(wait, 2),
            attempt=attempt,
            attempts_left=MAX_ATTEMPTS - attempt,
            operation=f"{method} {urlsplit(url).path.rsplit('/', 1)[-1]}",
            reason=reason,
        )
        self._sleep(wait)
        return True

    # -- batches --------------------------------------------------------------------------

    def batch(self, steps: Sequence[BatchStep], *, may_repeat: bool) -> dict[str, GraphResponse]:
        """Run up to 20 steps in one `$batch`; answers by step id.

        Steps answered 429/503 were not run: they go again, alone, after the
        longest `Retry-After` among them; with `may_repeat`, so do steps that
        failed with a 5xx. When the batch itself is lost in
        flight, `AnswerLost` is raised (for steps that may not run twice).
        """
        if len(steps) > MAX_BATCH:
            raise ValueError(f"a $batch holds at most {MAX_BATCH} requests")
        results: dict[str, GraphResponse] = {}
        pending = list(steps)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if not pending:
                break
            answer = self.request(
                "POST",
                "$batch",
                body={"requests": [s.as_json() for s in pending]},
                may_repeat=may_repeat,
            )
            if not answer.ok or not isinstance(answer.body, dict):
                for step in pending:
                    results[step.id] = answer
                break
            for entry in answer.body.get("responses") or ():
                if isinstance(entry, dict) and "id" in entry:
                    results[str(entry["id"])] = GraphResponse(
                        int(entry.get("status", 0)),
                        {str(k): str(v) for k, v in (entry.get("headers") or {}).items()},
                        entry.get("body"),
                    )
            for step in pending:
                results.setdefault(step.id, GraphResponse(0, {}, {"error": {"code": "NoAnswer"}}))
            # Throttled steps were not run; a failed step is run again only if that is harmless.
            throttled = [
                s
                for s in pending
                if results[s.id].status in _THROTTLED
                or (may_repeat and (results[s.id].status >= 500 or results[s.id].status == 0))
            ]
            if not throttled:
                break
            hints = [results[s.id].retry_after() for s in throttled]
            hint = max((h for h in hints if h is not None), default=None)
            if not self._back_off(
                attempt, hint, "POST", "$batch", results[throttled[0].id].describe()
            ):
                break
            pending = throttled
        return results
