"""The shared retry policy: the classification table, the back-off and its bounds."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from structlog.testing import capture_logs

from topcontact_mail.adapters import retry as retry_module
from topcontact_mail.adapters.retry import (
    NO_ANSWER,
    Failure,
    Retry,
    Verdict,
    classify_ews,
    classify_http,
    no_answer,
    retry_after,
    wait,
    waiting_as,
)

T, P, U = Verdict.TRANSIENT, Verdict.PERMANENT, Verdict.UNKNOWN


@pytest.mark.parametrize(
    ("code", "read", "send"),
    [
        ("ErrorServerBusy", T, T),
        ("ErrorTimeoutExpired", T, U),
        ("ErrorExceededConnectionCount", T, U),
        ("ErrorMailboxStoreUnavailable", T, U),
        ("ErrorInternalServerTransientError", T, U),
        ("ErrorMailboxMoveInProgress", T, U),
        ("ErrorTooManyObjectsOpened", T, U),
        ("ErrorAccessDenied", P, P),
        ("ErrorSendAsDenied", P, P),
        ("ErrorItemNotFound", P, P),
        ("ErrorInvalidSyncStateData", P, P),
    ],
)
def test_ews_codes_are_classified_by_the_table(code: str, read: Verdict, send: Verdict) -> None:
    assert classify_ews(code, idempotent=True).verdict is read
    assert classify_ews(code, idempotent=False).verdict is send


@pytest.mark.parametrize(
    ("status", "code", "read", "send"),
    [
        (429, "TooManyRequests", T, T),
        (503, "ServiceUnavailable", T, T),
        (400, "ApplicationThrottled", T, T),
        (500, "", T, U),
        (502, "", T, U),
        (504, "", T, U),
        (408, "", T, U),
        (409, "", T, U),
        (412, "", P, P),  # a stale If-Match: the caller reads the item again
        (401, "InvalidAuthenticationToken", P, P),
        (403, "ErrorAccessDenied", P, P),
        (404, "ErrorItemNotFound", P, P),
        (400, "InvalidInternetMessageHeader", P, P),
        (302, "", P, P),
    ],
)
def test_http_statuses_and_graph_codes_are_classified_by_the_table(
    status: int, code: str, read: Verdict, send: Verdict
) -> None:
    assert classify_http(status, code, idempotent=True).verdict is read
    assert classify_http(status, code, idempotent=False).verdict is send


def test_a_lost_answer_is_unknown_for_a_send_and_transient_for_a_read() -> None:
    assert no_answer(idempotent=True).verdict is T
    assert no_answer(idempotent=False).verdict is U
    assert no_answer(idempotent=False, sent=False).verdict is T  # never left: safe to send
    assert no_answer(idempotent=False).code == NO_ANSWER


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC).timestamp()
    in_two_minutes = format_datetime(datetime(2026, 11, 27, 9, 2, tzinfo=UTC), usegmt=True)

    assert retry_after("7") == 7.0
    assert retry_after("1.5") == 1.5
    assert retry_after(in_two_minutes, now=lambda: now) == 120.0
    assert retry_after("Thu, 26 Nov 2026 09:00:00 GMT", now=lambda: now) == 0.0  # in the past
    assert retry_after("soon") is None
    assert retry_after(None) is None


class Calls:
    """A request that fails with the given failures, then succeeds."""

    def __init__(self, *failures: Failure) -> None:
        self.failures = list(failures)
        self.count = 0

    def __call__(self) -> str | Failure:
        self.count += 1
        return self.failures.pop(0) if self.failures else "done"


def busy(hint: float | None = None) -> Failure:
    return classify_ews("ErrorServerBusy", idempotent=True, hint=hint)


def policy(waits: list[float], attempts: int = 4, max_wait: float = 300.0) -> Retry:
    return Retry(first_wait=1.0, attempts=attempts, max_wait=max_wait, sleep=waits.append)


def test_the_servers_hint_is_honoured_as_given() -> None:
    waits: list[float] = []
    calls = Calls(busy(hint=1.5), busy(hint=0.25))

    assert policy(waits).run("SyncFolderItems", calls) == "done"
    assert waits == [1.5, 0.25]
    assert calls.count == 3


def test_without_a_hint_the_wait_doubles_from_the_first_wait_up_to_the_cap() -> None:
    waits: list[float] = []
    calls = Calls(*[busy()] * 5)

    assert policy(waits, attempts=6, max_wait=5.0).run("GetItem", calls) == "done"
    assert waits == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_attempts_are_bounded_and_the_last_failure_is_handed_back() -> None:
    waits: list[float] = []
    calls = Calls(*[busy()] * 10)

    result = policy(waits, attempts=4).run("GetItem", calls)

    assert isinstance(result, Failure)
    assert result.code == "ErrorServerBusy"
    assert result.attempts == 4
    assert calls.count == 4
    assert waits == [1.0, 2.0, 4.0]


def test_a_hint_longer_than_the_maximum_leaves_the_work_to_a_later_pass() -> None:
    waits: list[float] = []
    calls = Calls(busy(hint=3600.0))

    result = policy(waits).run("GetItem", calls)

    assert isinstance(result, Failure)
    assert calls.count == 1
    assert waits == []


@pytest.mark.parametrize(
    "failure",
    [
        classify_ews("ErrorAccessDenied", idempotent=True),
        classify_ews("ErrorTimeoutExpired", idempotent=False),
        no_answer(idempotent=False),
    ],
    ids=["permanent", "unknown-send", "lost-send"],
)
def test_permanent_and_unknown_failures_are_not_tried_again(failure: Failure) -> None:
    waits: list[float] = []
    calls = Calls(failure)

    result = policy(waits).run("CreateItem", calls)

    assert result == failure
    assert calls.count == 1
    assert waits == []


def test_every_retry_is_logged_with_the_attempts_left() -> None:
    waits: list[float] = []
    with capture_logs() as logs:
        policy(waits, attempts=3).run("UpdateItem", Calls(busy(hint=2.0), busy(), busy()))

    retries = [e for e in logs if e["event"] == "transient failure, backing off"]
    assert [(e["attempt"], e["attempts_left"], e["seconds"]) for e in retries] == [
        (1, 2, 2.0),
        (2, 1, 2.0),
    ]
    assert all(e["operation"] == "UpdateItem" for e in retries)
    assert [e["event"] for e in logs][-1] == "giving up for now"


class Clock:
    """A clock that only moves when the policy sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def test_a_hint_given_as_the_attempts_ran_out_is_waited_out_by_the_next_run() -> None:
    """Found by the proving ground: the next pass re-sent a throttled request at once."""
    clock = Clock()
    retry = Retry(first_wait=1.0, attempts=2, sleep=clock.sleep, clock=lambda: clock.now)
    first = Calls(busy(hint=2.0), busy(hint=2.0))
    assert isinstance(retry.run("POST $batch", first), Failure)

    second = Calls()
    assert retry.run("POST $batch", second) == "done"

    assert clock.waits == [2.0, 2.0]  # in place, then before the next pass's first request
    assert second.count == 1


def test_a_hint_longer_than_the_maximum_is_not_cut_short_by_the_next_pass() -> None:
    clock = Clock()
    retry = Retry(
        first_wait=1.0, attempts=4, max_wait=300.0, sleep=clock.sleep, clock=lambda: clock.now
    )
    assert isinstance(retry.run("GetItem", Calls(busy(hint=3600.0))), Failure)

    too_soon = Calls()
    result = retry.run("GetItem", too_soon)

    assert isinstance(result, Failure)
    assert result.verdict is Verdict.TRANSIENT
    assert too_soon.count == 0  # no request before the server's back-off is over
    clock.now += 3600
    assert retry.run("GetItem", too_soon) == "done"


def test_another_operation_does_not_wait_for_a_hint_it_was_not_given() -> None:
    clock = Clock()
    retry = Retry(first_wait=1.0, attempts=1, sleep=clock.sleep, clock=lambda: clock.now)
    retry.run("GetItem", Calls(busy(hint=2.0)))

    assert retry.run("SyncFolderItems", Calls()) == "done"
    assert clock.waits == []


def test_a_wait_in_place_tells_the_watcher_it_is_alive_every_slice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(retry_module, "WAIT_SLICE_SECONDS", 0.01)
    beats: list[float] = []
    with waiting_as(lambda: beats.append(time.monotonic()), lambda: False):
        assert wait(0.2) is True
    # systemd's watchdog restarts a loop that is silent too long: a back-off is not a hang.
    assert len(beats) >= 3


def test_a_stop_ends_a_long_back_off_and_leaves_the_work_to_a_later_run() -> None:
    stop = threading.Event()
    calls: list[int] = []

    def busy() -> Failure:
        calls.append(1)
        stop.set()  # SIGTERM arrives while the server asks to wait 200 s
        return Failure(T, "ErrorServerBusy", hint=200.0)

    retry = Retry(first_wait=1.0, attempts=4)
    began = time.monotonic()
    with waiting_as(lambda: None, stop.is_set):
        result = retry.run("GetItem", busy)
    assert isinstance(result, Failure)
    assert time.monotonic() - began < 1.0
    assert calls == [1]
    # The next run (after a restart of the loop, not of the process) still honours the hint.
    stop.clear()
    with waiting_as(lambda: None, lambda: True):
        again = retry.run("GetItem", busy)
    assert isinstance(again, Failure)
    assert calls == [1]


def test_outside_a_watched_loop_a_wait_is_a_plain_sleep() -> None:
    began = time.monotonic()
    assert wait(0.05) is True
    assert time.monotonic() - began >= 0.05


def test_at_a_stop_a_short_rest_of_a_back_off_is_still_waited_out() -> None:
    # The process that follows (a restart, the next run --once) does not know the hint: a
    # stop must not turn a 2 s Retry-After into a request at once.
    began = time.monotonic()
    with waiting_as(lambda: None, lambda: True):
        assert wait(0.3) is True
    assert time.monotonic() - began >= 0.3
