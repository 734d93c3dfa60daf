"""Token service of the sandbox Graph endpoint (a test double standing in for Microsoft Entra ID).

It serves what ``msal.ConfidentialClientApplication.acquire_token_for_client`` fetches:
instance discovery (``/common/discovery/instance``), tenant discovery
(``/{tenant}/v2.0/.well-known/openid-configuration``) and the token endpoint
(``/{tenant}/oauth2/v2.0/token``) for the client-credentials grant, authenticated by a
client secret or by a client assertion (RFC 7523 JWT, RS256 with ``x5t`` or PS256 with
``x5t#S256``) whose signature is checked against the certificates uploaded to the app
registration. Failures answer with Entra's ``AADSTS`` codes and texts.

Access tokens are JWTs (HS256 with a per-process key, so they die with the sandbox, as
tokens of a rotated signing key would); Graph clients must treat them as opaque.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from exchange_sandbox.config import AppCertificate, GraphConfig
from exchange_sandbox.graph.errors import GraphError

GRAPH_RESOURCE = "https://graph.microsoft.com"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
RevokeMode = Literal["secret_expired", "disabled", "certificate_removed", "tokens"]


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Principal:
    """The application a valid access token was issued to."""

    client_id: str
    roles: tuple[str, ...]
    expires: float


@dataclass
class _Revocation:
    modes: set[str] = field(default_factory=set)
    generation: int = 0  # tokens of an older generation are refused ("tokens" mode)


class AadError(Exception):
    """An OAuth error answer of the token endpoint (``error``, ``AADSTS…`` description)."""

    def __init__(self, status: int, error: str, code: int, text: str) -> None:
        super().__init__(f"AADSTS{code}: {text}")
        self.status = status
        self.error = error
        self.code = code
        self.text = text

    def body(self) -> dict[str, Any]:
        trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        return {
            "error": self.error,
            "error_description": f"AADSTS{self.code}: {self.text} Trace ID: {trace} "
            f"Correlation ID: {corr} Timestamp: {stamp}",
            "error_codes": [self.code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": corr,
            "error_uri": f"https://login.microsoftonline.com/error?code={self.code}",
        }


class TokenService:
    """Issues and checks app-only access tokens for the configured app registrations."""

    def __init__(self, config: GraphConfig) -> None:
        self.config = config
        self._key = os.urandom(32)
        self._lock = threading.Lock()
        self._revoked: dict[str, _Revocation] = {}
        self.token_lifetime = config.token_lifetime_seconds

    # ------------------------------------------------------------ discovery documents

    def tenant_known(self, tenant: str) -> bool:
        # Entra accepts the tenant GUID, a verified domain, and "organizations"/"common" for
        # discovery; client credentials need the real tenant, checked at the token endpoint.
        return tenant.lower() in (self.config.tenant_id.lower(), "organizations", "common")

    def openid_configuration(self, base: str, tenant: str) -> dict[str, Any]:
        tid = self.config.tenant_id
        return {
            "token_endpoint": f"{base}/{tid}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{base}/{tid}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/{tid}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{GRAPH_RESOURCE}/oidc/userinfo",
            "authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/{tid}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "tid"],
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
        }

    def instance_discovery(self, base: str, query: dict[str, list[str]]) -> dict[str, Any]:
        endpoint = (query.get("authorization_endpoint") or [""])[0]
        path = urlsplit(endpoint).path.split("/")
        tenant = path[1] if len(path) > 1 and path[1] else self.config.tenant_id
        host = urlsplit(base).netloc
        return {
            "tenant_discovery_endpoint": f"{base}/{tenant}/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
        }

    # ------------------------------------------------------------ token endpoint

    def token(self, tenant: str, form_body: bytes, token_url: str) -> tuple[int, dict[str, Any]]:
        try:
            return 200, self._token(tenant, form_body, token_url)
        except AadError as exc:
            return exc.status, exc.body()

    def _token(self, tenant: str, form_body: bytes, token_url: str) -> dict[str, Any]:
        form = {k: v[0] for k, v in parse_qs(form_body.decode("utf-8", "replace")).items()}
        tid = self.config.tenant_id
        if tenant.lower() != tid.lower():
            raise AadError(
                400,
                "invalid_request",
                90002,
                f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
                "and are signing into the correct cloud.",
            )
        if form.get("grant_type") != "client_credentials":
            raise AadError(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{form.get('grant_type', '')}'.",
            )
        client_id = form.get("client_id", "")
        assertion = form.get("client_assertion")
        if not client_id and assertion:
            try:
                client_id = str(_jwt_parts(assertion)[1].get("iss", ""))
            except ValueError:
                client_id = ""
        app = self.config.app(client_id)
        if app is None:
            raise AadError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{tid}'. This can happen if the application has not been installed by the "
                "administrator of the tenant or consented to by any user in the tenant.",
            )
        with self._lock:
            revoked = set(self._revoked.get(app.client_id.lower(), _Revocation()).modes)
        if "disabled" in revoked:
            raise AadError(
                401,
                "unauthorized_client",
                7000112,
                f"Application '{app.client_id}'({app.name}) is disabled.",
            )
        scope = form.get("scope", "")
        scopes = scope.split()
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            raise AadError(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows "
                "must have a scope value with /.default suffixed to the resource identifier "
                "(application ID URI).",
            )
        if scopes[0].rstrip("/").removesuffix("/.default") not in (GRAPH_RESOURCE, GRAPH_APP_ID):
            raise AadError(
                400,
                "invalid_resource",
                500011,
                f"The resource principal named {scopes[0].removesuffix('/.default')} was not "
                f"found in the tenant named {tid}.",
            )
        if assertion is not None:
            if form.get("client_assertion_type") != ASSERTION_TYPE:
                raise AadError(
                    400,
                    "invalid_request",
                    7000219,
                    "'client_assertion' or 'client_secret' is required for the "
                    "'client_credentials' grant type.",
                )
            certs = () if "certificate_removed" in revoked else app.certificates
            self._check_assertion(assertion, app.client_id, certs, token_url)
        elif "client_secret" in form:
            if app.client_secret is None or not hmac.compare_digest(
                form["client_secret"].encode(), app.client_secret.encode()
            ):
                raise AadError(
                    401,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the request "
                    "is the client secret value, not the client secret ID, for a secret added to "
                    f"app '{app.client_id}'.",
                )
            if "secret_expired" in revoked:
                raise AadError(
                    401,
                    "invalid_client",
                    7000222,
                    f"The provided client secret keys for app '{app.client_id}' are expired. "
                    "Visit the Azure portal to create new keys for your app: "
                    "https://aka.ms/NewClientSecret, or consider using certificate credentials "
                    "for added security: https://aka.ms/certCreds.",
                )
        else:
            raise AadError(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or "
                "'client_secret'.",
            )
        now = int(time.time())
        claims = {
            "aud": GRAPH_RESOURCE,
            "iss": f"https://sts.windows.net/{tid}/",
            "iat": now,
            "nbf": now,
            "exp": now + self.token_lifetime,
            "app_displayname": app.name,
            "appid": app.client_id,
            "appidacr": "2" if assertion is not None else "1",
            "idtyp": "app",
            "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, app.client_id)),
            "roles": list(app.roles),
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, app.client_id)),
            "tid": tid,
            "uti": b64url(os.urandom(16)),
            "xms_sbx_gen": self._generation(app.client_id),
            "ver": "1.0",
        }
        return {
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
            "ext_expires_in": self.token_lifetime,
            "access_token": self._sign(claims),
        }

    def _check_assertion(
        self,
        assertion: str,
        client_id: str,
        certs: tuple[AppCertificate, ...],
        token_url: str,
    ) -> None:
        try:
            header, payload, signing_input, signature = _jwt_parts(assertion)
        except ValueError as exc:
            raise AadError(
                400, "invalid_client", 50027, f"JWT token is invalid or malformed. ({exc})"
            ) from exc
        alg = header.get("alg")
        cert: AppCertificate | None = None
        if "x5t#S256" in header:
            wanted = b64url_decode(str(header["x5t#S256"])).hex()
            cert = next((c for c in certs if c.sha256 == wanted), None)
        elif "x5t" in header:
            wanted = b64url_decode(str(header["x5t"])).hex()
            cert = next((c for c in certs if c.sha1 == wanted), None)
        else:
            wanted = ""
        if cert is None:
            raise AadError(
                401,
                "invalid_client",
                700027,
                "The certificate with identifier used to sign the client assertion is not "
                f"registered on application. [Reason - The key was not found., Thumbprint of "
                f"key used by client: '{wanted.upper()}']",
            )
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey) or alg not in ("RS256", "PS256"):
            raise AadError(
                400,
                "invalid_client",
                5002738,
                f"Invalid JWT token. '{alg}' is not a supported "
                "signature algorithm. Supported signing algorithms are: 'RS256,RS384,RS512,"
                "PS256,PS384,PS512'",
            )
        pad: padding.AsymmetricPadding
        if alg == "RS256":
            pad = padding.PKCS1v15()
        else:
            pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
        try:
            key.verify(signature, signing_input, pad, hashes.SHA256())
        except InvalidSignature as exc:
            raise AadError(
                401,
                "invalid_client",
                700027,
                "Client assertion contains an invalid signature. [Reason - The key was not found.]",
            ) from exc
        if payload.get("iss") != client_id or payload.get("sub") != client_id:
            raise AadError(
                401,
                "invalid_client",
                700021,
                "Client assertion application identifier doesn't match 'client_id' parameter.",
            )
        aud = str(payload.get("aud", ""))
        if urlsplit(aud).path.lower() != urlsplit(token_url).path.lower():
            raise AadError(
                401,
                "invalid_client",
                700212,
                f"No matching federated identity record found for presented assertion audience "
                f"'{aud}'.",
            )
        now = time.time()
        exp = payload.get("exp")
        nbf = payload.get("nbf", payload.get("iat", now))
        if not isinstance(exp, int | float) or exp < now or float(nbf) > now + 300:
            raise AadError(
                401,
                "invalid_client",
                700024,
                "Client assertion is not within its valid time range.",
            )

    # ------------------------------------------------------------ access tokens

    def _sign(self, claims: dict[str, Any]) -> str:
        header = {"typ": "JWT", "alg": "HS256", "kid": "sandbox"}
        head = b64url(json.dumps(header, separators=(",", ":")).encode())
        body = b64url(json.dumps(claims, separators=(",", ":")).encode())
        mac = hmac.new(self._key, f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{b64url(mac)}"

    def authenticate(self, authorization: str | None) -> Principal:
        """The principal of a ``Bearer`` header, or a 401 ``InvalidAuthenticationToken``."""
        if not authorization or not authorization.strip():
            raise _invalid_token("Access token is empty.")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _invalid_token("Access token is empty.")
        token = token.strip()
        parts = token.split(".")
        if len(parts) != 3:
            raise _invalid_token(
                "IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be "
                "in JWS or JWE Compact Serialization Format."
                if len(parts) == 1
                else "IDX14120: JWT is not well formed."
            )
        expected = hmac.new(self._key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        try:
            ok = hmac.compare_digest(expected, b64url_decode(parts[2]))
            claims = json.loads(b64url_decode(parts[1]))
        except (ValueError, json.JSONDecodeError):
            ok, claims = False, {}
        if not ok or not isinstance(claims, dict):
            raise _invalid_token("Access token validation failure. Invalid signature.")
        if claims.get("aud") not in (GRAPH_RESOURCE, GRAPH_RESOURCE + "/", GRAPH_APP_ID):
            raise _invalid_token("Access token validation failure. Invalid audience.")
        now = time.time()
        if float(claims.get("exp", 0)) <= now:
            raise _invalid_token("Lifetime validation failed, the token is expired.")
        client_id = str(claims.get("appid", ""))
        with self._lock:
            rev = self._revoked.get(client_id.lower())
        if rev is not None and int(claims.get("xms_sbx_gen", 0)) < rev.generation:
            raise _invalid_token("Access token has been revoked.")
        if self.config.app(client_id) is None:
            raise _invalid_token("Access token validation failure. Invalid application.")
        return Principal(
            client_id=client_id,
            roles=tuple(str(r) for r in claims.get("roles", [])),
            expires=float(claims["exp"]),
        )

    # ------------------------------------------------------------ control

    def revoke(self, client_id: str, mode: RevokeMode) -> None:
        """Simulate an admin action: expired secret, disabled app, removed certificate, or
        revoked sessions ("tokens": access tokens issued so far stop working at once)."""
        with self._lock:
            rev = self._revoked.setdefault(client_id.lower(), _Revocation())
            if mode == "tokens":
                rev.generation += 1
            else:
                rev.modes.add(mode)

    def _generation(self, client_id: str) -> int:
        with self._lock:
            rev = self._revoked.get(client_id.lower())
            return rev.generation if rev is not None else 0

    def restore(self, client_id: str | None = None) -> None:
        with self._lock:
            # Generations stay: a restored app does not bring revoked tokens back to life.
            for key, rev in self._revoked.items():
                if client_id is None or key == client_id.lower():
                    rev.modes.clear()


def _invalid_token(message: str) -> GraphError:
    return GraphError(
        401,
        "InvalidAuthenticationToken",
        message,
        {
            "WWW-Authenticate": 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"'
        },
    )


def _jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("a JWS has three parts")
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except (ValueError, json.JSONDecodeError) as exc:
        raise ValueError("undecodable JWS") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise ValueError("JWS header and payload must be JSON objects")
    return header, payload, f"{parts[0]}.{parts[1]}".encode(), signature
