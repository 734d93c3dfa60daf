"""Control endpoints of the EWS front of the sandbox (a test double): ``/_sandbox/ews/...``.

- ``GET /_sandbox/ews/settings``: strictness and throttling limits in force.
- ``POST /_sandbox/ews/settings`` (JSON, any subset of the ``[ews]`` keys): change them, e.g.
  ``{"strict": false}`` for a test that needs a kinder server, ``{"max_concurrency": 2}``.

No authentication; they listen only where the server listens (loopback by default).
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from typing import Any

from exchange_sandbox.config import EwsConfig
from exchange_sandbox.ews.service import EwsService

PREFIX = "/_sandbox/ews/"


def ews_control(service: EwsService, verb: str, path: str, body: bytes) -> tuple[int, Any]:
    """Answer a control request under ``/_sandbox/ews/``: (HTTP status, JSON value)."""
    if path != PREFIX + "settings":
        return 404, {"error": f"unknown control endpoint {verb} {path}"}
    if verb == "POST":
        try:
            changes = json.loads(body or b"{}")
        except json.JSONDecodeError as exc:
            return 400, {"error": f"not JSON: {exc}"}
        problem = settings_problem(changes)
        if problem:
            return 400, {"error": problem}
        service.set(**changes)
    elif verb != "GET":
        return 405, {"error": f"{verb} is not allowed here"}
    return 200, asdict(service.settings)


def settings_problem(changes: Any) -> str:
    """Why ``changes`` are no valid ``[ews]`` settings, or "" when they are."""
    if not isinstance(changes, dict):
        return "send a JSON object of [ews] settings"
    kinds = {f.name: f.type for f in fields(EwsConfig)}
    for key, value in changes.items():
        if key not in kinds:
            return f"unknown setting {key!r}; known: {sorted(kinds)}"
        if key == "strict":
            if not isinstance(value, bool):
                return "strict must be true or false"
        elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return f"{key} must be an integer >= 0 (0 switches the limit off)"
    return ""
