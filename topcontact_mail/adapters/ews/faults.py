"""What an exchangelib failure means for retrying: read from the server's answer, not from exchangelib's names.

exchangelib raises one class per EWS ResponseCode (it builds them with
`vars(exchangelib.errors)[code]`), so the class gives the code back. But it
also raises some of these classes for failures no server answered:

- `post_ratelimited` (util.py) turns a dropped connection or a client time-out
  into `ErrorTimeoutExpired`;
- `_get_elements` (services/common.py) then turns that `ErrorTimeoutExpired`
  into `ErrorServerBusy` when the session pool holds more than one session (the
  daemon's streaming thread makes it two), and every
  `ErrorInternalServerTransientError` and `ErrorTooManyObjectsOpened` too; under
  `FailFast` it raises it, under `FaultTolerance` it sleeps and sends again;
- `raise_response_errors` (protocol.py) calls an HTTP 503 or an IIS error page
  `ErrorInternalServerTransientError`, and any non-200 answer with `Connection:
  close` `ErrorServerBusy`.

For a read that difference does not matter: every one of them is worth another
try. For a send it does: a send whose answer was lost may have gone out. So a
send goes through `CreateItemOnce`, which makes one HTTP exchange, renames
nothing, returns every per-item error as that item's result, and records whether
a SOAP answer was parsed; only then is a code the server's own word.

The accounts run with `FailFast` (exchangelib never waits or repeats by itself;
`adapters.retry` does) and with `RETRY_WAIT` 0: exchangelib fills a missing
back-off with `RETRY_WAIT`, so the only non-zero `back_off` left is the server's
BackOffMilliseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from exchangelib import errors
from exchangelib.errors import (
    CASError,
    ErrorServerBusy,
    EWSError,
    RedirectError,
    ResponseMessageError,
    TransportError,
    UnauthorizedError,
)
from exchangelib.items import SEND_AND_SAVE_COPY, SEND_TO_NONE
from exchangelib.services import CreateItem
from exchangelib.util import CONNECTION_ERRORS
from oauthlib.oauth2 import TokenExpiredError  # type: ignore[import-untyped]  # oauthlib ships no types

from topcontact_mail.adapters.retry import Failure, classify_ews, classify_http, no_answer

T = TypeVar("T")

#: exchangelib's table of ResponseCodes, read the other way round: error class → code.
_CODES: dict[type, str] = {
    cls: name
    for name, cls in vars(errors).items()
    if isinstance(cls, type)
    and issubclass(cls, ResponseMessageError)
    and cls is not ResponseMessageError
    and cls.__name__ == name
}


def response_code(exc: BaseException) -> str | None:
    """The EWS ResponseCode exchangelib raised `exc` for (None: it stands for no code)."""
    return _CODES.get(type(exc))


def _detail(exc: BaseException, *, named: bool) -> str:
    """The first line of `exc`'s text; `named`: led by exchangelib's name for it (when no code is)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if named:
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text[:300]


def back_off_hint(exc: BaseException) -> float | None:
    """The seconds an ErrorServerBusy asks to wait (its BackOffMilliseconds), or None."""
    back_off = exc.back_off if isinstance(exc, ErrorServerBusy) else None
    return float(back_off) if back_off else None


def unwrapped(exc: BaseException) -> BaseException:
    """The failure itself, where exchangelib renamed it ErrorServerBusy ("Reraised from") or
    wrapped it in a TransportError while learning the server's version.

    `_get_elements` raises a new ErrorServerBusy inside the handler of an
    ErrorTimeoutExpired (a dropped connection or a client time-out, when the pool
    holds two sessions), an ErrorTooManyObjectsOpened or an
    ErrorInternalServerTransientError, without a back-off of the server's. The
    server's own ErrorServerBusy carries its BackOffMilliseconds and is not raised
    while another failure is handled. Only the first is undone: a message the
    server breaks off on must be told from a busy server.

    `Version.guess` (the ConvertId a new process sends first) raises a plain
    TransportError, "No valid version headers found in response", inside the
    handler of whatever the ConvertId failed with: the server's ErrorServerBusy
    with its back-off among them. That failure is the one that counts.
    """
    context = exc.__context__
    if type(exc) is TransportError and isinstance(context, ResponseMessageError):
        return unwrapped(context)
    if (
        isinstance(exc, ErrorServerBusy)
        and not exc.back_off
        and context is not None
        and isinstance(context, (ResponseMessageError, *CONNECTION_ERRORS))
    ):
        return unwrapped(context)
    return exc


def failure_of(
    exc: BaseException, *, idempotent: bool, answered: bool | None = None
) -> Failure | None:
    """What `exc` means for trying again; None when it is no failure of the exchange (a bug).

    `answered` is known for sends only: False means no SOAP answer was parsed,
    so whatever exchangelib called the failure, no server said so.
    """
    exc = unwrapped(exc)
    code = response_code(exc)
    if code is not None and answered is not False:
        return classify_ews(
            code, idempotent=idempotent, hint=back_off_hint(exc), detail=_detail(exc, named=False)
        )
    detail = _detail(exc, named=True)
    if isinstance(exc, UnauthorizedError):
        # Raised for an HTTP 401 (under FailFast) or for a locked-out account.
        return classify_http(401, idempotent=idempotent, detail=detail)
    if isinstance(exc, CASError) and exc.response is not None:
        return classify_http(exc.response.status_code, idempotent=idempotent, detail=detail)
    if isinstance(exc, RedirectError):
        return classify_http(302, idempotent=idempotent, detail=detail)
    if isinstance(exc, (EWSError, *CONNECTION_ERRORS)):
        return no_answer(idempotent=idempotent, detail=detail)
    return None


def attempt(call: Callable[[], T], *, idempotent: bool) -> Callable[[], T | Failure]:
    """`call`, handing back its classified failure instead of raising it (other errors pass)."""

    def once() -> T | Failure:
        try:
            return call()
        except Exception as exc:
            failure = failure_of(exc, idempotent=idempotent)
            if failure is None:
                raise
            return failure

    return once


class CreateItemOnce(CreateItem):  # type: ignore[misc]  # exchangelib is untyped
    """CreateItem in one HTTP exchange, with its failures as they happened (see the module docstring)."""

    #: Every per-item error and warning is that item's result; only a failure of the whole
    #: request is raised.
    ERRORS_TO_CATCH_IN_RESPONSE = EWSError
    WARNINGS_TO_CATCH_IN_RESPONSE = EWSError

    #: Whether the last exchange's answer was parsed as SOAP (a fault or response messages).
    answered = False

    def _get_elements(self, payload: Any) -> Iterator[Any]:
        try:
            yield from self._response_generator(payload=payload)
        except TokenExpiredError:
            # requests-oauthlib raises this before the request leaves; exchangelib has renewed
            # the token by now, so this one retry cannot send anything twice.
            yield from self._response_generator(payload=payload)

    def _get_response(self, payload: Any, api_version: Any) -> Any:
        self.answered = False
        return super()._get_response(payload=payload, api_version=api_version)

    def _get_soap_messages(self, body: Any) -> Any:
        self.answered = True
        return super()._get_soap_messages(body=body)


def send_once(account: Any, sent: Any, items: Sequence[Any]) -> list[Any] | Failure:
    """Send `items` in one request, saving copies in `sent` (SendAndSaveCopy); see `create_once`."""
    return create_once(
        account, sent, items, disposition=SEND_AND_SAVE_COPY, invitations=SEND_TO_NONE
    )


def create_once(
    account: Any, folder: Any, items: Sequence[Any], *, disposition: str, invitations: str
) -> list[Any] | Failure:
    """CreateItem of `items` into `folder` in one exchange (messages sent, or calendar items
    with their invitations).

    Returns one result per item (True, or the server's error for that item, or
    a `Failure` for items whose answer was lost), or the `Failure` of the whole
    request when no item was answered.
    """
    service = CreateItemOnce(account=account, chunk_size=max(1, len(items)))
    results: list[Any] = []
    try:
        for result in service.call(
            items=items,
            folder=folder,
            message_disposition=disposition,
            send_meeting_invitations=invitations,
        ):
            results.append(result)
    except Exception as exc:
        # A fault is the server's word only if it came as a SOAP answer before any item's.
        failure = failure_of(exc, idempotent=False, answered=service.answered and not results)
        if failure is None:
            raise
        if not results:
            return failure
        results.extend([failure] * (len(items) - len(results)))
    return results
