"""One retry policy for both Exchange backends: what a failure means, how long to wait, when to stop.

A failure is classified by what the server said (an EWS ResponseCode, an HTTP
status, a Graph error code), or by the fact that no answer came; never by an
exception's name or by words in a message:

- **transient**: not carried out; the same request may succeed after a back-off;
- **permanent**: trying again will not help (a refused or invalid request);
- **outcome unknown**: it may have been carried out (the answer was lost, or the
  server failed while working on it). For a request that may run twice this is
  simply transient; a send is not repeated in place: the caller looks (in Sent
  Items) before sending again.

| what the server said | may run twice | a send |
| --- | --- | --- |
| EWS `ErrorServerBusy` (the server's own answer, with BackOffMilliseconds) | transient | transient |
| EWS `ErrorTimeoutExpired`, `ErrorExceededConnectionCount`, `ErrorMailboxStoreUnavailable`, `ErrorInternalServerTransientError`, `ErrorMailboxMoveInProgress`, `ErrorTooManyObjectsOpened`, `ErrorConnectionFailed`, `ErrorConnectionFailedTransientError`, `ErrorBatchProcessingStopped` | transient | outcome unknown |
| HTTP 429 or 503; Graph `TooManyRequests`, `ApplicationThrottled`, `activityLimitReached` | transient | transient |
| HTTP 408, 409, other 5xx | transient | outcome unknown |
| HTTP 412 (a stale If-Match: repeating it cannot help; the caller reads again) | permanent | permanent |
| no answer: connection broken, time-out, unreadable answer | transient | outcome unknown |
| no connection: the request never left | transient | transient |
| any other EWS code; any other HTTP status (401, 403, 404, 3xx, ...) | permanent | permanent |

Back-off: the server's hint (EWS BackOffMilliseconds, Retry-After in seconds or
as an HTTP date) is honoured as given; a hint longer than `max_wait` leaves the
work to a later pass instead of waiting in place. Without a hint the wait starts
at the configured first wait and doubles, capped at `max_wait`. Attempts are
bounded, and every retry is logged with the attempts left.

A wait in place can last minutes (a server may ask for five), longer than the
service's watchdog allows a loop to stay silent, and longer than a stop may take.
So waits are slept in slices (`wait`): a thread that runs inside `waiting_as`
tells its watcher it is alive between slices, and a stop asked meanwhile ends a
wait with more than `FINISH_AT_STOP_SECONDS` left: the work is left to a later
pass, as with a hint too long to wait. A shorter rest is waited out, because the
process that follows would not know the hint and ask again at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Any, TypeVar

from topcontact_mail.logs import get_logger

T = TypeVar("T")

#: The longest wait honoured in place; a longer hint leaves the work to a later pass.
MAX_BACK_OFF_SECONDS = 300.0

#: EWS codes with which the server refuses a request before doing any of it.
EWS_NOT_DONE = frozenset({"ErrorServerBusy"})
#: EWS codes of a passing condition of the server: trying again later may succeed.
EWS_TRANSIENT = EWS_NOT_DONE | frozenset(
    {
        "ErrorTimeoutExpired",
        "ErrorExceededConnectionCount",
        "ErrorMailboxStoreUnavailable",
        "ErrorInternalServerTransientError",
        "ErrorMailboxMoveInProgress",
        "ErrorTooManyObjectsOpened",
        "ErrorConnectionFailed",
        "ErrorConnectionFailedTransientError",
        "ErrorBatchProcessingStopped",
    }
)
#: HTTP statuses answered before any work is done (throttling, service unavailable).
HTTP_NOT_DONE = frozenset({429, 503})
#: Graph error codes of throttling, whatever the status they come with.
GRAPH_THROTTLED = frozenset({"TooManyRequests", "ApplicationThrottled", "activityLimitReached"})
#: HTTP statuses below 500 worth another try (a 5xx always is).
HTTP_TRANSIENT = frozenset({408, 409})
#: The code of a failure without an answer.
NO_ANSWER = "NoAnswer"
#: A wait in place is slept in slices this long (see `wait`).
WAIT_SLICE_SECONDS = 5.0
#: At a stop, a wait with at most this long left is still waited out: the process that
#: follows (a restart, the next `run --once`) does not know the hint and would ask at once.
FINISH_AT_STOP_SECONDS = 15.0

_watcher = threading.local()


@contextmanager
def waiting_as(alive: Callable[[], None], stopping: Callable[[], bool]) -> Iterator[None]:
    """Inside: this thread's back-off waits call `alive` every slice, and end early (the
    work left to a later pass) once `stopping` is true."""
    previous = getattr(_watcher, "hooks", None)
    _watcher.hooks = (alive, stopping)
    try:
        yield
    finally:
        _watcher.hooks = previous


def watcher() -> tuple[Callable[[], None], Callable[[], bool]] | None:
    """This thread's hooks from `waiting_as` (None outside), to hand to a helper thread."""
    hooks: tuple[Callable[[], None], Callable[[], bool]] | None = getattr(_watcher, "hooks", None)
    return hooks


def wait(seconds: float) -> bool:
    """Sleep `seconds` in slices, telling this thread's watcher (`waiting_as`) it is alive;
    False when a stop was asked while more than `FINISH_AT_STOP_SECONDS` were left (a shorter
    rest is waited out, so the server's hint holds for the process that comes next)."""
    hooks = watcher()
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if hooks is not None:
            hooks[0]()
            if left > FINISH_AT_STOP_SECONDS and hooks[1]():
                return False
        if left <= 0:
            return True
        time.sleep(min(left, WAIT_SLICE_SECONDS))


class Verdict(Enum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    UNKNOWN = "outcome unknown"


@dataclass(frozen=True)
class Failure:
    """A classified failure of one request."""

    verdict: Verdict
    #: The server's code (EWS ResponseCode, Graph error code, "HTTP 503") or `NO_ANSWER`.
    code: str
    #: Seconds the server asked to wait, if it said.
    hint: float | None = None
    #: For logs and outcomes: what happened, briefly (never a body or a token).
    detail: str = ""
    #: The HTTP status when the failure is an HTTP answer without a SOAP or JSON reply of its own.
    status: int = 0
    #: How many attempts were made when the failure was handed back.
    attempts: int = 1

    def describe(self) -> str:
        return f"{self.code}: {self.detail}" if self.detail else self.code


def classify_ews(
    code: str, *, idempotent: bool, hint: float | None = None, detail: str = ""
) -> Failure:
    """A failure the EWS server answered with `code` (a ResponseCode)."""
    if code in EWS_NOT_DONE:
        verdict = Verdict.TRANSIENT
    elif code in EWS_TRANSIENT:
        verdict = Verdict.TRANSIENT if idempotent else Verdict.UNKNOWN
    else:
        verdict = Verdict.PERMANENT
    return Failure(verdict, code, hint, detail)


def classify_http(
    status: int, code: str = "", *, idempotent: bool, hint: float | None = None, detail: str = ""
) -> Failure:
    """A failure answered with HTTP `status` (and a Graph error `code`, if the body has one)."""
    if status in HTTP_NOT_DONE or code in GRAPH_THROTTLED:
        verdict = Verdict.TRANSIENT
    elif status in HTTP_TRANSIENT or status >= 500:
        verdict = Verdict.TRANSIENT if idempotent else Verdict.UNKNOWN
    else:
        verdict = Verdict.PERMANENT
    return Failure(verdict, code or f"HTTP {status}", hint, detail, status=status)


def no_answer(*, idempotent: bool, sent: bool = True, detail: str = "") -> Failure:
    """No answer came; `sent`: the request may have reached the server (False: certainly not)."""
    verdict = Verdict.TRANSIENT if idempotent or not sent else Verdict.UNKNOWN
    return Failure(verdict, NO_ANSWER, None, detail)


def retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds from a Retry-After header: a number of seconds, or an HTTP date."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now())
    except (TypeError, ValueError):
        return None


class Retry:
    """Bounded attempts with back-off for one kind of request."""

    def __init__(
        self,
        *,
        first_wait: float,
        attempts: int,
        max_wait: float = MAX_BACK_OFF_SECONDS,
        sleep: Callable[[float], object] = wait,
        log: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.first_wait = first_wait
        self.attempts = attempts
        self.max_wait = max_wait
        self._sleep = sleep
        self._clock = clock
        self.log = log if log is not None else get_logger("retry")
        # A hint still running when the attempts in place ran out: the next run of the
        # operation (a later pass) waits it out instead of asking again at once.
        self._not_before: dict[str, float] = {}

    def _hint_pending(self, operation: str) -> Failure | None:
        """Wait out the rest of a hint an earlier run was given (a failure: too long to wait)."""
        until = self._not_before.pop(operation, None)
        remaining = until - self._clock() if until is not None else 0.0
        if until is None or remaining <= 0:
            return None
        if remaining > self.max_wait:
            self._not_before[operation] = until
            return Failure(
                Verdict.TRANSIENT,
                "BackOff",
                hint=remaining,
                detail=f"the server asked to wait; {remaining:.0f} s are left",
            )
        if self._sleep(remaining) is False:
            self._not_before[operation] = until
            return Failure(Verdict.TRANSIENT, "BackOff", hint=remaining, detail="stopping")
        return None

    def wait_before(self, attempt: int, failure: Failure) -> float | None:
        """Seconds to wait before the attempt after `attempt`; None: stop trying in place."""
        if attempt >= self.attempts:
            return None
        if failure.hint is not None:
            return failure.hint if failure.hint <= self.max_wait else None
        return min(self.first_wait * 2.0 ** (attempt - 1), self.max_wait)

    def back_off(self, attempt: int, failure: Failure, operation: str) -> bool:
        """Wait before the next attempt of a transient failure; False when there is none in place."""
        wait = self.wait_before(attempt, failure)
        if wait is None:
            if failure.hint is not None:
                self._not_before[operation] = self._clock() + failure.hint
            self.log.warning(
                "giving up for now",
                operation=operation,
                error=failure.describe(),
                attempts=attempt,
                reason="attempts used up"
                if attempt >= self.attempts
                else f"the server asks to wait {failure.hint:.0f} s, longer than we wait in place",
            )
            return False
        self.log.warning(
            "transient failure, backing off",
            operation=operation,
            error=failure.describe(),
            seconds=round(wait, 3),
            server_hint=failure.hint is not None,
            attempt=attempt,
            attempts_left=self.attempts - attempt,
        )
        if self._sleep(wait) is False:  # a stop was asked: the rest waits for a later pass
            if failure.hint is not None:
                self._not_before[operation] = self._clock() + failure.hint
            self.log.info("stopping; the retry waits for a later run", operation=operation)
            return False
        return True

    def run(self, operation: str, attempt: Callable[[], T | Failure]) -> T | Failure:
        """Call `attempt` until it succeeds, fails other than transiently, or the attempts run out.

        `attempt` returns its result, or its classified failure instead of raising.
        """
        pending = self._hint_pending(operation)
        if pending is not None:
            return pending
        number = 1
        while True:
            result = attempt()
            if not isinstance(result, Failure):
                return result
            failure = replace(result, attempts=number)
            if failure.verdict is not Verdict.TRANSIENT or not self.back_off(
                number, failure, operation
            ):
                return failure
            number += 1
