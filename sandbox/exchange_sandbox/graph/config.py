"""Configuration of the sandbox Graph endpoint (a test double): tenant, app registrations, limits.

Read from the ``[graph]`` table of the sandbox TOML (see the shipped ``default.toml``)::

    [graph]
    tenant_id = "…"                 # directory (tenant) id, a GUID
    token_lifetime_seconds = 3600   # access-token lifetime; short values test refresh
    send_limit_per_minute = 0       # 0 = off; Exchange Online allows about 30
    mailbox_concurrency = 4         # concurrent requests per app and mailbox

    [[graph.apps]]
    client_id = "…"
    name = "topcontact-mail"
    client_secret = "…"             # and/or certificates
    certificates = ["app.pem"]      # public certificates (PEM), relative to the TOML file
    roles = ["Mail.ReadWrite", "Mail.Send", "Calendars.ReadWrite"]
    mailboxes = ["klantcontact@…"]  # application access policy; absent = every mailbox
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes

DEFAULT_ROLES = ("Mail.ReadWrite", "Mail.Send", "Calendars.ReadWrite")


class GraphConfigError(ValueError):
    """The ``[graph]`` section of the sandbox configuration is invalid."""


@dataclass(frozen=True)
class AppCertificate:
    """A public certificate uploaded to an app registration, with its two thumbprints."""

    pem: bytes
    sha1: str  # hex, lower case
    sha256: str

    @classmethod
    def from_pem(cls, pem: bytes) -> AppCertificate:
        try:
            cert = x509.load_pem_x509_certificate(pem)
        except ValueError as exc:
            raise GraphConfigError(f"not a PEM certificate: {exc}") from exc
        return cls(
            pem=pem,
            # SHA-1 is what Entra ID calls the certificate thumbprint (x5t); not a security use.
            sha1=cert.fingerprint(hashes.SHA1()).hex(),  # noqa: S303
            sha256=cert.fingerprint(hashes.SHA256()).hex(),
        )

    def public_key(self) -> Any:
        return x509.load_pem_x509_certificate(self.pem).public_key()


@dataclass(frozen=True)
class AppRegistration:
    client_id: str
    name: str = "topcontact-mail"
    client_secret: str | None = None
    certificates: tuple[AppCertificate, ...] = ()
    roles: tuple[str, ...] = DEFAULT_ROLES
    mailboxes: tuple[str, ...] | None = None

    def may_access(self, mailbox: str) -> bool:
        return self.mailboxes is None or mailbox.lower() in {m.lower() for m in self.mailboxes}


@dataclass(frozen=True)
class GraphConfig:
    tenant_id: str = "5f2c6d1e-8a44-4b6e-9f1a-3c7d2b9e0a61"
    apps: tuple[AppRegistration, ...] = ()
    token_lifetime_seconds: int = 3600
    send_limit_per_minute: int = 0
    mailbox_concurrency: int = 4
    default_page_size: int = 10
    max_page_size: int = 1000
    # Graph runs up to four batch steps in parallel, so steps beyond the fourth that target
    # one mailbox are reported to get 429 MailboxConcurrency; off keeps batches deterministic.
    batch_parallel_throttling: bool = False
    working_hours_time_zone: str = "W. Europe Standard Time"
    extra: dict[str, Any] = field(default_factory=dict)

    def app(self, client_id: str) -> AppRegistration | None:
        for app in self.apps:
            if app.client_id.lower() == client_id.lower():
                return app
        return None

    def with_app(self, app: AppRegistration) -> GraphConfig:
        others = tuple(a for a in self.apps if a.client_id.lower() != app.client_id.lower())
        return replace(self, apps=(*others, app))


def _int(data: dict[str, Any], key: str, default: int, minimum: int = 0) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise GraphConfigError(f"graph.{key} must be an integer >= {minimum}")
    return value


def _strs(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise GraphConfigError(f"{what} must be a list of strings")
    return tuple(value)


def parse_graph_config(data: dict[str, Any], base_dir: Path | None = None) -> GraphConfig:
    """The ``[graph]`` table of a parsed sandbox TOML document (defaults when absent)."""
    section = data.get("graph", {})
    if not isinstance(section, dict):
        raise GraphConfigError("[graph] must be a table")
    apps = []
    for entry in section.get("apps", []):
        if "client_id" not in entry:
            raise GraphConfigError("every [[graph.apps]] entry needs a client_id")
        certs = []
        for ref in _strs(entry.get("certificates", []), "graph.apps.certificates"):
            if ref.lstrip().startswith("-----BEGIN"):
                pem = ref.encode()
            else:
                path = Path(ref)
                if not path.is_absolute() and base_dir is not None:
                    path = base_dir / path
                pem = path.read_bytes()
            certs.append(AppCertificate.from_pem(pem))
        secret = entry.get("client_secret")
        if not secret and not certs:
            raise GraphConfigError(
                f"app {entry['client_id']}: give a client_secret or certificates"
            )
        mailboxes = entry.get("mailboxes")
        apps.append(
            AppRegistration(
                client_id=str(entry["client_id"]),
                name=str(entry.get("name", "topcontact-mail")),
                client_secret=str(secret) if secret else None,
                certificates=tuple(certs),
                roles=_strs(entry.get("roles", list(DEFAULT_ROLES)), "graph.apps.roles"),
                mailboxes=None if mailboxes is None else _strs(mailboxes, "graph.apps.mailboxes"),
            )
        )
    defaults = GraphConfig()
    return GraphConfig(
        tenant_id=str(section.get("tenant_id", defaults.tenant_id)),
        apps=tuple(apps),
        token_lifetime_seconds=_int(section, "token_lifetime_seconds", 3600, 1),
        send_limit_per_minute=_int(section, "send_limit_per_minute", 0),
        mailbox_concurrency=_int(section, "mailbox_concurrency", 4, 1),
        default_page_size=_int(section, "default_page_size", 10, 1),
        batch_parallel_throttling=bool(section.get("batch_parallel_throttling", False)),
        working_hours_time_zone=str(
            section.get("working_hours_time_zone", defaults.working_hours_time_zone)
        ),
    )


def load_graph_config(path: Path | None = None) -> GraphConfig:
    """The Graph settings of a sandbox TOML file, or of the shipped default when ``path`` is None."""
    if path is None:
        text = resources.files("exchange_sandbox").joinpath("default.toml").read_text("utf-8")
    else:
        text = path.read_text("utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GraphConfigError(f"{path or 'default.toml'}: {exc}") from exc
    return parse_graph_config(data, path.parent if path is not None else None)
