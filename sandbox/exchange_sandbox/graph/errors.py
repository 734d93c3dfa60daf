"""Error answers of the sandbox Microsoft Graph endpoint (a test double), shaped as Graph's.

Graph wraps every failure in ``{"error": {"code", "message", "innerError": {"date",
"request-id", "client-request-id"}}}`` (https://learn.microsoft.com/graph/errors); the
codes and message texts below are the ones Exchange Online is documented or reported to
send for the same situation.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

Headers = dict[str, str]
Response = tuple[int, Headers, bytes]


class GraphError(Exception):
    """A failure answered with a Graph error body; ``headers`` adds e.g. ``Retry-After``."""

    def __init__(
        self, status: int, code: str, message: str, headers: Headers | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def error_body(code: str, message: str, request_id: str, client_request_id: str) -> bytes:
    inner = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": request_id,
        "client-request-id": client_request_id,
    }
    return json.dumps({"error": {"code": code, "message": message, "innerError": inner}}).encode()


def error_response(
    err: GraphError, request_id: str | None = None, client_request_id: str | None = None
) -> Response:
    rid = request_id or str(uuid.uuid4())
    crid = client_request_id or rid
    headers: Headers = {
        "Content-Type": "application/json",
        "request-id": rid,
        "client-request-id": crid,
        **err.headers,
    }
    return err.status, headers, error_body(err.code, err.message, rid, crid)


# ---------------------------------------------------------------- the common cases


def not_found() -> GraphError:
    return GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")


def malformed_id() -> GraphError:
    # The answer Exchange Online gives for an id it cannot parse (microsoftgraph/
    # microsoft-graph-docs-contrib#106 shows the code and text).
    return GraphError(400, "ErrorInvalidIdMalformed", "Id is malformed.")


def invalid_user(user: str) -> GraphError:
    return GraphError(404, "ErrorInvalidUser", f"The requested user '{user}' is invalid.")


def policy_denied() -> GraphError:
    # The text Exchange Online sends when an application access policy (or RBAC for
    # Applications scope) excludes the mailbox.
    return GraphError(
        403,
        "ErrorAccessDenied",
        "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly "
        "AccessPolicy settings.",
    )


def permission_denied() -> GraphError:
    return GraphError(
        403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
    )


def stale_change_key() -> GraphError:
    # What Exchange Online answers a PATCH whose If-Match names an older version of the item.
    return GraphError(
        412,
        "ErrorIrresolvableConflict",
        "The send or update operation could not be performed because the change key passed "
        "in the request does not match the current change key for the item.",
    )


def bad_request(message: str, code: str = "ErrorInvalidRequest") -> GraphError:
    return GraphError(400, code, message)


def throttled(retry_after: int, limit: str = "MailboxConcurrency") -> GraphError:
    return GraphError(
        429,
        "ApplicationThrottled",
        f"Application is over its {limit} limit.",
        {"Retry-After": str(retry_after)},
    )


def over_budget(retry_after: int, limit: int, window: float) -> GraphError:
    # Exchange answers the 10,000-requests-per-10-minutes limit with 429 ApplicationThrottled
    # and a Retry-After; no public sample shows its message, so this text is the sandbox's.
    return GraphError(
        429,
        "ApplicationThrottled",
        f"Application is over its request limit for this mailbox ({limit} requests in "
        f"{window:g} seconds).",
        {"Retry-After": str(retry_after)},
    )


def unavailable(retry_after: int) -> GraphError:
    return GraphError(
        503,
        "ServiceUnavailable",
        "The service is temporarily unavailable. Please retry later.",
        {"Retry-After": str(retry_after)},
    )


def fault_response(status: int, retry_after: int = 1, request_id: str | None = None) -> Response:
    """The Graph answer for an injected fault (429 throttling or 503), for any HTTP front."""
    if status == 429:
        return error_response(
            GraphError(
                429,
                "TooManyRequests",
                "Too many requests. Please try again later.",
                {"Retry-After": str(retry_after)},
            ),
            request_id,
        )
    if status == 503:
        return error_response(unavailable(retry_after), request_id)
    return error_response(
        GraphError(status, "UnknownError", "An internal server error occurred."), request_id
    )
