"""One request to the sandbox Graph endpoint (a test double) and the JSON answers Graph gives.

Query option names are kept without their ``$`` and in lower case; ``Prefer`` header
preferences are parsed once, and :func:`applied` echoes those honoured in
``Preference-Applied`` as Graph does.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from exchange_sandbox.graph.auth import Principal
from exchange_sandbox.graph.errors import Headers, Response, bad_request

JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    base: str
    request_id: str
    prefer: dict[str, str] = field(default_factory=dict)
    principal: Principal | None = None
    #: When it came (``time.monotonic()``), for the back-off log.
    arrived: float = field(default_factory=time.monotonic)

    @property
    def immutable(self) -> bool:
        return self.prefer.get("idtype", "").lower() == "immutableid"

    def json(self) -> dict[str, Any]:
        if not self.body.strip():
            return {}
        try:
            data = json.loads(self.body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise bad_request(
                "Empty Payload. JSON content expected."
                if not self.body
                else f"Invalid JSON: {exc}",
                "RequestBodyRead",
            ) from exc
        if not isinstance(data, dict):
            raise bad_request("The request body must be a JSON object.", "RequestBodyRead")
        return data


def parse_prefer(values: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for part in values.split(","):
        key, _, value = part.strip().partition("=")
        if key.strip():
            result[key.strip().lower()] = value.strip().strip('"')
    return result


def parse_query(raw: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        result.setdefault(key.lower().lstrip("$"), value)
    return result


def json_response(status: int, body: Any, headers: Headers | None = None) -> Response:
    out: Headers = {"Content-Type": JSON_TYPE, "OData-Version": "4.0", "Cache-Control": "no-cache"}
    out.update(headers or {})
    return status, out, json.dumps(body).encode()


def applied(req: Request, maxpagesize: int | None = None) -> Headers:
    applied = []
    if maxpagesize is not None and "odata.maxpagesize" in req.prefer:
        applied.append(f"odata.maxpagesize={maxpagesize}")
    if req.immutable:
        applied.append('IdType="ImmutableId"')
    if "outlook.timezone" in req.prefer:
        applied.append(f'outlook.timezone="{req.prefer["outlook.timezone"]}"')
    if "outlook.body-content-type" in req.prefer:
        applied.append(f'outlook.body-content-type="{req.prefer["outlook.body-content-type"]}"')
    return {"Preference-Applied": ", ".join(applied)} if applied else {}
