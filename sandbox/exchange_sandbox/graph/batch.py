"""Graph JSON batching in the sandbox (a test double): ``POST /$batch`` with up to 20 steps.

A malformed batch is refused whole (400); otherwise each step gets its own answer: steps run
in waves of four side by side, or one by one along ``dependsOn`` (a failed dependency gives
424), each counted against the mailbox's concurrency and request budget like any request.
"""

from __future__ import annotations

import base64
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from exchange_sandbox.graph.errors import (
    GraphError,
    Response,
    bad_request,
    error_response,
    fault_response,
    throttled,
)
from exchange_sandbox.graph.faults import lost_answer
from exchange_sandbox.graph.request import Request, json_response, parse_prefer, parse_query

if TYPE_CHECKING:
    from exchange_sandbox.graph.app import Call, GraphApp

MAX_BATCH = 20
BATCH_PARALLELISM = 4
METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")
WRITES = ("POST", "PATCH", "PUT")


def check_batch(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The steps of a well-formed batch; 400 BadRequest for the batch as a whole otherwise.

    As documented (JSON batching): at most 20 requests; each with an ``id`` unique in the
    batch without regard to case ("Request Id A has to be unique in a batch.",
    microsoftgraph/msgraph-sdk-javascript#433), a ``method`` and a relative ``url``; a
    request with a body needs a Content-Type header, and Graph refuses a write without
    both ("Write request id : … does not contain Content-Type header or body.",
    microsoftgraph/msgraph-sdk-dotnet#2628); ``dependsOn`` names other requests of the
    batch, without cycles.
    """
    steps = payload.get("requests")
    if not isinstance(steps, list) or not steps or not all(isinstance(s, dict) for s in steps):
        raise bad_request("Invalid batch payload format.", "BadRequest")
    if len(steps) > MAX_BATCH:
        raise bad_request(
            f"Number of requests inside batch exceeds the limit of {MAX_BATCH}.", "BadRequest"
        )
    seen: set[str] = set()
    for step in steps:
        step_id = step.get("id")
        if not isinstance(step_id, str) or not step_id:
            raise bad_request("Every request of a batch needs an id (a string).", "BadRequest")
        if step_id.lower() in seen:
            raise bad_request(f"Request Id {step_id} has to be unique in a batch.", "BadRequest")
        seen.add(step_id.lower())
        method, url = step.get("method"), step.get("url")
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise bad_request(f"Request id : {step_id} has no valid method.", "BadRequest")
        if not isinstance(url, str) or not url.strip() or "://" in url:
            raise bad_request(
                f"Request id : {step_id} needs a url relative to the service root.",
                "BadRequest",
            )
        headers = step.get("headers") or {}
        if not isinstance(headers, dict):
            raise bad_request(f"Request id : {step_id} has invalid headers.", "BadRequest")
        has_type = any(str(k).lower() == "content-type" for k in headers)
        if (method.upper() in WRITES and not (has_type and "body" in step)) or (
            "body" in step and not has_type
        ):
            raise bad_request(
                f"Write request id : {step_id} does not contain Content-Type header or body.",
                "BadRequest",
            )
    _check_dependencies(steps)
    return steps


def _check_dependencies(steps: list[dict[str, Any]]) -> None:
    ids = {str(s["id"]).lower() for s in steps}
    needs: dict[str, list[str]] = {}
    for step in steps:
        depends = step.get("dependsOn") or []
        if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
            raise bad_request(f"Request id : {step['id']} has an invalid dependsOn.", "BadRequest")
        for dep in depends:
            if dep.lower() not in ids or dep.lower() == str(step["id"]).lower():
                raise bad_request(
                    f"Request id : {step['id']} depends on '{dep}', which is not another "
                    "request of the batch.",
                    "BadRequest",
                )
        needs[str(step["id"]).lower()] = [d.lower() for d in depends]
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(node: str) -> None:
        if node in done:
            return
        if node in visiting:
            raise bad_request("The dependsOn of the batch requests form a cycle.", "BadRequest")
        visiting.add(node)
        for dep in needs[node]:
            visit(dep)
        visiting.discard(node)
        done.add(node)

    for node in needs:
        visit(node)


def batch(app: GraphApp, req: Request) -> Response:
    """Run the steps of a batch: in waves of parallel steps, or one by one along ``dependsOn``.

    Graph runs up to four steps of a batch at once ("Outlook service limits for JSON
    batching"); each step holds a concurrency slot of its mailbox while it runs and counts
    against the request budget, so a step that finds no free slot (other requests of the app
    to that mailbox in flight) is answered 429 on its own, with a Retry-After. With
    ``batch_parallel_throttling`` all steps of a parallel batch are in flight at once, as
    reported for Exchange Online (steps beyond the fourth per mailbox get 429).
    """
    steps = check_batch(req.json())
    sequential = any(step.get("dependsOn") for step in steps)
    order = _dependency_order(steps) if sequential else steps
    if sequential:
        width = 1
    elif app.config.batch_parallel_throttling:
        width = len(steps)
    else:
        width = BATCH_PARALLELISM
    results: dict[str, Response] = {}
    step_requests: dict[str, Request] = {}
    operations = ["graph.batch"]
    for start in range(0, len(order), width):
        admitted: list[tuple[str, Call]] = []
        for step in order[start : start + width]:
            step_id = str(step["id"]).lower()
            sub_req = _step_request(req, step)
            step_requests[step_id] = sub_req
            operation = app.operation(sub_req.method, sub_req.path)
            operations.append(operation)
            app.count("batch:" + operation)
            depends = [str(d).lower() for d in step.get("dependsOn") or []]
            if any(results[d][0] >= 400 for d in depends):
                results[step_id] = error_response(
                    GraphError(424, "FailedDependency", "The dependent request failed."),
                    sub_req.request_id,
                )
                continue
            try:
                if sub_req.path.lower() == "/v1.0/$batch":
                    raise bad_request("Nested batch requests are not supported.", "BadRequest")
                call = app.prepare(sub_req)
                app.admit(call)
                if not app.gate.enter(call.principal.client_id, call.mailbox):
                    raise throttled(1)
            except GraphError as exc:
                results[step_id] = _error(exc, sub_req)
                continue
            admitted.append((step_id, call))
        if not admitted:
            continue
        try:
            app.pause()  # the steps of a wave run side by side: one latency for them all
            for step_id, result in _run_side_by_side(app, admitted):
                # A "drop" fault cannot drop one step of a batch: Graph answers it 503.
                results[step_id] = fault_response(503) if result[0] == 0 else result
        finally:
            for _, call in admitted:
                app.gate.leave(call.principal.client_id, call.mailbox)
    if app.lost_hook(operations):
        return lost_answer()  # every step carried out, the batch's answer lost
    for step in steps:
        status, headers, _ = results[str(step["id"]).lower()]
        app.note(step_requests[str(step["id"]).lower()], status, headers)
    responses = [_batch_entry(str(s["id"]), results[str(s["id"]).lower()]) for s in steps]
    return json_response(200, {"responses": responses})


def _run_side_by_side(
    app: GraphApp, admitted: list[tuple[str, Call]]
) -> list[tuple[str, Response]]:
    """Run a wave's steps at the same time (a slow step delays its wave, not the others)."""

    def one(call: Call) -> Response:
        try:
            return app.run(call)
        except GraphError as exc:
            return _error(exc, call.req)

    if len(admitted) == 1:
        return [(admitted[0][0], one(admitted[0][1]))]
    with ThreadPoolExecutor(max_workers=len(admitted)) as pool:
        answers = list(pool.map(one, [call for _, call in admitted]))
    return [(step_id, answer) for (step_id, _), answer in zip(admitted, answers, strict=True)]


def _dependency_order(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The steps so that each comes after those it depends on (list order otherwise)."""
    by_id = {str(s["id"]).lower(): s for s in steps}
    placed: set[str] = set()
    order: list[dict[str, Any]] = []

    def place(step_id: str) -> None:
        if step_id in placed:
            return
        placed.add(step_id)
        for dep in by_id[step_id].get("dependsOn") or []:
            place(str(dep).lower())
        order.append(by_id[step_id])

    for step_id in by_id:
        place(step_id)
    return order


def _step_request(req: Request, step: dict[str, Any]) -> Request:
    url = str(step["url"])
    parsed = urlsplit("/" + url.lstrip("/"))
    path = parsed.path
    if not path.lower().startswith("/v1.0/"):
        path = "/v1.0" + path
    headers = {str(k).lower(): str(v) for k, v in (step.get("headers") or {}).items()}
    headers.setdefault("authorization", req.headers.get("authorization", ""))
    headers["host"] = req.headers.get("host", "localhost")
    body = step.get("body")
    raw = b""
    if body is not None:
        raw = json.dumps(body).encode() if isinstance(body, dict | list) else str(body).encode()
    return Request(
        method=str(step["method"]).upper(),
        path=path,
        query=parse_query(parsed.query),
        headers=headers,
        body=raw,
        base=req.base,
        request_id=str(uuid.uuid4()),
        prefer=parse_prefer(headers.get("prefer", "")),
        arrived=req.arrived,  # a step comes with its batch
    )


def _error(exc: GraphError, req: Request) -> Response:
    return error_response(exc, req.request_id, req.headers.get("client-request-id"))


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
