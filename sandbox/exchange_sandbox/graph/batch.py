"""Graph JSON batching in the sandbox (a test double): ``POST /$batch`` with up to 20 steps.

Steps run in order, one at a time; ``dependsOn`` on a failed step gives 424. With
``batch_parallel_throttling`` steps beyond the mailbox concurrency get 429, as reported for
real Graph, which runs up to four steps in parallel.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections import Counter
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from exchange_sandbox.graph.errors import (
    GraphError,
    Response,
    bad_request,
    error_response,
    fault_response,
    throttled,
)
from exchange_sandbox.graph.request import Request, json_response, parse_prefer, parse_query

if TYPE_CHECKING:
    from exchange_sandbox.graph.app import GraphApp

MAX_BATCH = 20


def batch(app: GraphApp, req: Request) -> Response:
    payload = req.json()
    steps = payload.get("requests")
    if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
        raise bad_request("Invalid batch payload format.", "BadRequest")
    if len(steps) > MAX_BATCH:
        raise bad_request("Number of requests inside batch exceeds the limit.", "BadRequest")
    ids = [str(s.get("id", "")).lower() for s in steps]
    if any(not i for i in ids) or len(set(ids)) != len(ids):
        raise bad_request("Batch request ids must be present and unique.", "BadRequest")
    sequential = any(s.get("dependsOn") for s in steps)
    per_mailbox: Counter[str] = Counter()
    statuses: dict[str, int] = {}
    responses = []
    for step in steps:
        step_id = str(step["id"])
        method = str(step.get("method", "GET")).upper()
        url = str(step.get("url", ""))
        parsed = urlsplit(url if "://" in url else "/" + url.lstrip("/"))
        path = parsed.path
        if path.lower().startswith("/v1.0/"):
            path = path[5:]
        headers = {str(k): str(v) for k, v in (step.get("headers") or {}).items()}
        headers.setdefault("Authorization", req.headers.get("authorization", ""))
        headers["Host"] = req.headers.get("host", "localhost")
        body = step.get("body")
        raw = b""
        if body is not None:
            raw = json.dumps(body).encode() if isinstance(body, dict | list) else str(body).encode()
        depends = [str(d).lower() for d in step.get("dependsOn") or []]
        failed_dep = any(statuses.get(d, 424) >= 400 for d in depends)
        app.count("batch:" + app.operation(method, "/v1.0" + path))
        if failed_dep:
            result: Response = error_response(
                GraphError(424, "FailedDependency", "The dependent request failed."),
                req.request_id,
            )
        else:
            user = re.match(r"^/users/([^/]+)", path, re.IGNORECASE)
            mailbox = unquote(user.group(1)).lower() if user else ""
            per_mailbox[mailbox] += 1
            if (
                app.config.batch_parallel_throttling
                and not sequential
                and mailbox
                and per_mailbox[mailbox] > app.config.mailbox_concurrency
            ):
                result = error_response(throttled(1), req.request_id)
            else:
                result = _sub_request(app, method, path, parsed.query, headers, raw)
                if result[0] == 0:  # a "drop" fault cannot drop one step of a batch
                    result = fault_response(503)
        statuses[step_id.lower()] = result[0]
        responses.append(_batch_entry(step_id, result))
    return json_response(200, {"responses": responses})


def _sub_request(
    app: GraphApp, method: str, path: str, query: str, headers: dict[str, str], body: bytes
) -> Response:
    hdrs = {k.lower(): v for k, v in headers.items()}
    req = Request(
        method=method,
        path="/v1.0" + path,
        query=parse_query(query),
        headers=hdrs,
        body=body,
        base=f"https://{hdrs.get('host', 'localhost')}",
        request_id=str(uuid.uuid4()),
        prefer=parse_prefer(hdrs.get("prefer", "")),
    )
    try:
        if path.lower() == "/$batch":
            raise bad_request("Nested batch requests are not supported.", "BadRequest")
        return app.dispatch(req)
    except GraphError as exc:
        return error_response(exc, req.request_id, hdrs.get("client-request-id"))


def _batch_entry(step_id: str, result: Response) -> dict[str, Any]:
    status, headers, body = result
    keep = {
        k: v
        for k, v in headers.items()
        if k.lower() in ("content-type", "retry-after", "location", "preference-applied")
    }
    entry: dict[str, Any] = {"id": step_id, "status": status, "headers": keep}
    if body:
        if headers.get("Content-Type", "").startswith("application/json"):
            entry["body"] = json.loads(body)
        else:
            entry["body"] = base64.b64encode(body).decode()
    return entry
