"""Entra ID endpoints of the sandbox (a test double): what msal asks before and for a token.

Instance discovery, the OpenID configuration of a tenant, its (empty) signing keys and the
token endpoint; the tokens themselves are made and checked by :mod:`~exchange_sandbox.graph.auth`.
"""

from __future__ import annotations

from exchange_sandbox.graph.auth import TokenService
from exchange_sandbox.graph.errors import Response
from exchange_sandbox.graph.request import Request, json_response


def identity_endpoint(tokens: TokenService, req: Request) -> Response:
    """Answer a request to one of the Entra ID endpoints (404 in Entra's shape for others)."""
    parts = [p for p in req.path.split("/") if p]
    login_base = req.base
    if req.method == "GET" and parts[:3] == ["common", "discovery", "instance"]:
        return json_response(
            200, tokens.instance_discovery(login_base, {k: [v] for k, v in req.query.items()})
        )
    if len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
        if not tokens.tenant_known(parts[0]):
            return json_response(
                400,
                {
                    "error": "invalid_tenant",
                    "error_description": f"AADSTS90002: Tenant '{parts[0]}' not found.",
                    "error_codes": [90002],
                },
            )
        return json_response(200, tokens.openid_configuration(login_base, parts[0]))
    if len(parts) == 4 and parts[1:] == ["discovery", "v2.0", "keys"]:
        return json_response(200, {"keys": []})
    if req.method == "POST" and len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]:
        status, payload = tokens.token(parts[0], req.body, f"{login_base}{req.path}")
        return json_response(status, payload, {"Cache-Control": "no-store, no-cache"})
    return json_response(
        404, {"error": "not_found", "error_description": f"No endpoint {req.path}"}
    )
