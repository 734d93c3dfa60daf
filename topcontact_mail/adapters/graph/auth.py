"""App-only access tokens for Microsoft Graph through msal: certificate preferred, secret allowed.

msal keeps the token in its cache and fetches a new one shortly before the old
one expires. A credential Entra ID refuses (expired secret, removed
certificate, disabled app, unknown tenant) is not a passing fault: it is logged
at error level with its AADSTS code and a one-line fix, and raised as
`CredentialsRejected`, so the daemon can report it instead of silently
retrying for ever.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import msal
import requests
from msal.authority import WELL_KNOWN_AUTHORITY_HOSTS
from msal.exceptions import MsalServiceError

from topcontact_mail.config import GraphSettings
from topcontact_mail.logs import get_logger
from topcontact_mail.ports import CredentialsRejected, MailboxUnavailable

__all__ = ["CredentialsRejected"]  # re-exported: callers of this module catch it here

#: OAuth errors of the token endpoint that say "try again later", not "your credential is wrong".
_TRANSIENT_ERRORS = frozenset({"temporarily_unavailable", "server_error"})
_AADSTS = re.compile(r"AADSTS(\d+)")
#: What the administrator does about the AADSTS codes seen most with app-only sign-in.
_HINTS = {
    "7000222": "the client secret has expired: add a new secret to the app registration in Entra ID",
    "7000215": "the client secret is wrong: copy the secret's value (not its id) into the configuration",
    "700027": "the certificate is not (or no longer) uploaded to the app registration",
    "700016": "the client_id is unknown in this tenant: check client_id and tenant_id",
    "7000112": "the app registration is disabled: enable it in Entra ID",
    "90002": "the tenant_id is unknown: check it against the tenant's overview page",
    "1002012": "the token scope is not valid: leave 'token_scope' at its default",
    "500011": "Microsoft Graph is not known in this tenant or cloud: check 'token_scope'",
}


class TokenSource(Protocol):
    def token(self) -> str:
        """A valid access token for Graph (from the cache while it lasts)."""
        ...

    def invalidate(self) -> None:
        """Forget the cached token: Graph refused it before it expired (revoked)."""
        ...


def tls_verify(settings: GraphSettings) -> bool | str:
    """What `requests` and msal check the server certificate against."""
    if settings.ca_file is not None:
        return str(settings.ca_file)
    return settings.verify_tls


class PinnedSession(requests.Session):
    """A session whose TLS check and timeout hold for every request.

    `requests` lets REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE override a session's
    `verify`; passing it with each request keeps the configured CA (and the
    proxies from the environment, which corporate networks need).
    """

    def __init__(self, verify: bool | str, timeout: float) -> None:
        super().__init__()
        self.pinned_verify = verify
        self.pinned_timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs["verify"] = self.pinned_verify
        kwargs.setdefault("timeout", self.pinned_timeout)
        return super().request(method, url, *args, **kwargs)


_TLS_REASON = re.compile(r"\[SSL: [A-Z_]+\][^'\")(]*")


def _unreachable(service: str, exc: requests.RequestException) -> MailboxUnavailable:
    """Why `service` could not be reached; an untrusted certificate is named with its fix."""
    if isinstance(exc, requests.exceptions.SSLError):
        found = _TLS_REASON.search(str(exc))
        reason = found.group(0).strip() if found else type(exc).__name__
        return MailboxUnavailable(
            f"{service}: its TLS certificate is not trusted ({reason}); if it is signed by your "
            "own CA (a TLS proxy), set connection.graph.ca_file to that CA's PEM file"
        )
    return MailboxUnavailable(f"{service} unreachable: {type(exc).__name__}")


def _credential(settings: GraphSettings) -> Any:
    """msal's client credential: the certificate when configured (preferred), else the secret."""
    path = settings.certificate_path
    if path is None:
        secret = settings.client_secret
        return secret.get_secret_value() if secret is not None else ""
    if path.suffix.lower() in (".pfx", ".p12"):
        if not path.is_file():
            raise CredentialsRejected(f"certificate file {str(path)!r} cannot be read")
        return {"private_key_pfx_path": str(path)}
    try:
        pem = Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsRejected(f"certificate file {str(path)!r} cannot be read: {exc}") from None
    key = re.search(
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----", pem, re.S
    )
    if key is None:
        raise CredentialsRejected(f"certificate file {str(path)!r} holds no private key (PEM)")
    if settings.certificate_thumbprint:
        # An explicit SHA-1 thumbprint, as the Entra portal shows it (RS256 assertion).
        return {"private_key": key.group(0), "thumbprint": settings.certificate_thumbprint}
    cert = re.search(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", pem, re.S)
    if cert is None:
        raise CredentialsRejected(
            f"certificate file {str(path)!r} holds no certificate: add it to the PEM file "
            "or set 'certificate_thumbprint'"
        )
    # msal derives the SHA-256 thumbprint from the certificate (PS256 assertion).
    return {"private_key": key.group(0), "public_certificate": cert.group(0)}


class MsalTokenSource:
    """Client-credentials tokens for one app registration, cached by msal."""

    def __init__(self, settings: GraphSettings) -> None:
        self.settings = settings
        self._app: Any = None
        self._lock = threading.Lock()
        self.log = get_logger("graph.auth", client_id=settings.client_id)
        self.authority = f"{settings.authority_url.rstrip('/')}/{settings.tenant_id}"

    def _application(self) -> Any:
        if self._app is not None:
            return self._app
        credential = _credential(self.settings)
        host = urlsplit(self.settings.authority_url).netloc.lower()
        known = host in WELL_KNOWN_AUTHORITY_HOSTS
        try:
            self._app = msal.ConfidentialClientApplication(
                self.settings.client_id,
                authority=self.authority,
                client_credential=credential,
                http_client=PinnedSession(tls_verify(self.settings), self.settings.timeout_seconds),
                # Another authority host (a sovereign cloud's, or the sandbox's) is taken as
                # configured: msal would otherwise ask login.microsoftonline.com about it.
                instance_discovery=None if known else False,
                token_cache=msal.TokenCache(),
            )
        except ValueError as exc:
            # msal reads the tenant's OpenID configuration here; an unknown tenant or an
            # unreachable sign-in service both end up as this ValueError.
            self.log.error(
                "Graph sign-in service refused the tenant or cannot be reached",
                authority=self.authority,
                detail=str(exc)[:300],
            )
            raise MailboxUnavailable(f"cannot use authority {self.authority}: {exc}") from None
        except requests.RequestException as exc:
            raise _unreachable(f"sign-in service {self.authority}", exc) from None
        return self._app

    def token(self) -> str:
        with self._lock:
            app = self._application()
            try:
                result = app.acquire_token_for_client(scopes=[self.settings.token_scope])
            except requests.RequestException as exc:
                raise _unreachable("sign-in service", exc) from None
            except MsalServiceError as exc:  # msal raises for a 5xx of the token endpoint
                self.log.warning("Graph sign-in service failing", error=str(exc)[:200])
                raise MailboxUnavailable(f"sign-in service failing: {exc}") from None
            except ValueError as exc:  # msal could not read the answer (e.g. an HTML error page)
                raise MailboxUnavailable(
                    f"unreadable answer of the sign-in service: {exc}"
                ) from None
        if isinstance(result, dict) and result.get("access_token"):
            return str(result["access_token"])
        return self._refused(result if isinstance(result, dict) else {})

    def _refused(self, result: dict[str, Any]) -> str:
        error = str(result.get("error") or "unknown_error")
        description = str(result.get("error_description") or "")
        codes = result.get("error_codes") or []
        found = _AADSTS.search(description)
        code = str(codes[0]) if codes else (found.group(1) if found else "")
        # The first sentence says what is wrong; trace and correlation ids follow it.
        summary = description.split(" Trace ID:")[0].strip()[:300]
        if error in _TRANSIENT_ERRORS:
            self.log.warning(
                "Graph sign-in temporarily unavailable", aadsts=code, oauth_error=error
            )
            raise MailboxUnavailable(f"sign-in temporarily unavailable ({error})")
        hint = _HINTS.get(code, "check the app registration's credentials in Entra ID")
        self.log.error(
            "Graph credentials rejected: no mail is read or sent until this is fixed",
            aadsts=f"AADSTS{code}" if code else "",
            oauth_error=error,
            detail=summary,
            fix=hint,
        )
        raise CredentialsRejected(
            f"Entra ID refused the app's credentials (AADSTS{code}): {hint}", code=code, error=error
        )

    def invalidate(self) -> None:
        with self._lock:
            if self._app is None:
                return
            cache = self._app.token_cache
            for entry in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
                cache.remove_at(entry)
