"""Control endpoints of the sandbox Graph front (a test double): ``/_sandbox/graph/...`` for tests.

Expire delta tokens, revoke or restore an app's credentials, set the send limit and token
lifetime, register a certificate, inject faults, deliver mail, read the counters, and the
colleague's calendar actions (``/_sandbox/graph/calendar[/respond|/move|/delete]``, as
``/_sandbox/calendar`` of the main server). They take
no authentication and listen only where the server listens (loopback by default).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from exchange_sandbox.calendar_control import calendar_control
from exchange_sandbox.config import AppCertificate
from exchange_sandbox.graph.errors import GraphError, Response, bad_request
from exchange_sandbox.graph.ids import to_rest
from exchange_sandbox.graph.request import Request, json_response

if TYPE_CHECKING:
    from exchange_sandbox.graph.app import GraphApp


def control(app: GraphApp, req: Request) -> Response:
    action = req.path.lower().removeprefix("/_sandbox/graph/").strip("/")
    if req.method == "GET" and action == "stats":
        return json_response(200, app.stats())
    if req.method != "POST":
        raise GraphError(405, "MethodNotAllowed", "Control endpoints take POST.")
    if action == "calendar" or action.startswith("calendar/"):
        # The same colleague actions as the main server's /_sandbox/calendar, for a Graph
        # front that runs alone.
        rest = [p for p in action.split("/")[1:] if p]
        status, answer = calendar_control(app.store, app.sandbox, "POST", rest, req.body)
        return json_response(status, answer)
    p = req.json()
    if action == "expire-delta":
        mailbox = p.get("mailbox")
        app.delta.expire(str(mailbox) if mailbox else None)
        return json_response(200, {"expired": mailbox or "all"})
    if action == "delta-tokens":
        for key, attr in (("lifetime_seconds", "lifetime_seconds"), ("cache_size", "cache_size")):
            if key in p:
                value = p[key]
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise bad_request(f"{key} must be an integer >= 0 (0: no limit)")
                setattr(app.delta, attr, value)
        return json_response(
            200,
            {"lifetime_seconds": app.delta.lifetime_seconds, "cache_size": app.delta.cache_size},
        )
    if action == "revoke":
        mode = str(p.get("mode", "secret_expired"))
        if mode not in ("secret_expired", "disabled", "certificate_removed", "tokens"):
            raise bad_request(f"unknown revocation mode {mode!r}")
        targets = (
            [str(p["client_id"])] if p.get("client_id") else [a.client_id for a in app.config.apps]
        )
        for client_id in targets:
            app.tokens.revoke(client_id, mode)  # type: ignore[arg-type]  # checked above
        return json_response(200, {"revoked": targets, "mode": mode})
    if action == "restore":
        app.tokens.restore(str(p["client_id"]) if p.get("client_id") else None)
        return json_response(200, {"restored": p.get("client_id") or "all"})
    if action == "send-limit":
        per_minute = p.get("per_minute", 0)
        if not isinstance(per_minute, int) or per_minute < 0:
            raise bad_request("per_minute must be an integer >= 0")
        app.sends.per_minute = per_minute
        return json_response(200, {"per_minute": per_minute})
    if action == "token-lifetime":
        seconds = p.get("seconds")
        if not isinstance(seconds, int) or seconds < 1:
            raise bad_request("seconds must be a positive integer")
        app.tokens.token_lifetime = seconds
        return json_response(200, {"seconds": seconds})
    if action == "certificates":
        registration = app.config.app(str(p.get("client_id", "")))
        if registration is None or not isinstance(p.get("certificate"), str):
            raise bad_request("give the client_id of a configured app and a PEM certificate")
        cert = AppCertificate.from_pem(str(p["certificate"]).encode())
        certificates = (*registration.certificates, cert)
        app.set_config(app.config.with_app(replace(registration, certificates=certificates)))
        return json_response(200, {"thumbprint": cert.sha1.upper(), "sha256": cert.sha256})
    if action == "faults":
        statuses = tuple(int(s) for s in p.get("statuses", [429, 503]))
        app.faults.configure(
            float(p.get("rate", 0.0)),
            statuses,
            int(p.get("retry_after", 1)),
            p.get("seed"),
            lost=float(p.get("lost", 0.0)),
        )
        return json_response(
            200, {"rate": app.faults.rate, "statuses": list(statuses), "lost": app.faults.lost}
        )
    if action == "throttling":
        return _throttling(app, p)
    if action == "deliver":
        mailbox, mime = p.get("mailbox"), p.get("mime")
        if not isinstance(mailbox, str) or not isinstance(mime, str):
            raise bad_request("give mailbox and mime (RFC 5322 text)")
        item = app.store.deliver(mailbox, mime.encode())
        return json_response(200, {"id": to_rest(item.id)})
    raise GraphError(404, "NotFound", f"No control endpoint {action!r}.")


def _throttling(app: GraphApp, p: dict[str, Any]) -> Response:
    """Set the concurrency, the request budget and the batch mode at runtime."""
    for key in ("mailbox_concurrency", "request_budget", "request_budget_window_seconds"):
        value = p.get(key)
        if key in p and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise bad_request(f"{key} must be an integer >= 0")
    if "mailbox_concurrency" in p:
        app.gate.limit = int(p["mailbox_concurrency"])
    if "request_budget" in p:
        app.budget.limit = int(p["request_budget"])
    if "request_budget_window_seconds" in p:
        app.budget.window = max(1, int(p["request_budget_window_seconds"]))
    if "batch_parallel_throttling" in p:
        flag = p["batch_parallel_throttling"]
        if not isinstance(flag, bool):
            raise bad_request("batch_parallel_throttling must be true or false")
        app.set_config(replace(app.config, batch_parallel_throttling=flag))
    return json_response(
        200,
        {
            "mailbox_concurrency": app.gate.limit,
            "request_budget": app.budget.limit,
            "request_budget_window_seconds": app.budget.window,
            "batch_parallel_throttling": app.config.batch_parallel_throttling,
        },
    )
