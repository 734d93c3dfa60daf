"""Configuration of the sandbox Exchange server (a test double): one TOML file, every table.

``load_config(path)`` reads the file (the shipped ``default.toml`` when ``path`` is None)
into one :class:`SandboxConfig`: ``[server]`` (reported version, NTLM domain),
``[[mailboxes]]`` (with directory attributes and working hours), ``[working_hours]`` (the
default), ``[[directory]]`` (mail contacts of the address book), ``[[users]]`` with their
delegate and impersonation rights, and
``[graph]`` (:class:`GraphConfig`: tenant, app registrations, limits), ``[ews]``
(:class:`EwsConfig`: strictness and throttling limits) and ``[submission]`` (how long
transport takes before a sent message reaches Sent Items and its recipients; a mailbox may
differ with its own ``submission`` table). Every table is documented in ``default.toml``;
the EWS and Graph fronts take their part from this object. The variables in
:data:`SUBMISSION_ENV` override the ``[submission]`` defaults, so a test run can be made
slower without another file.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from exchange_sandbox.directory import Person
from exchange_sandbox.schedule import WorkingHours, WorkingHoursError
from exchange_sandbox.store.submission import SubmissionSettings

DEFAULT_ROLES = ("Mail.ReadWrite", "Mail.Send", "Calendars.ReadWrite")
#: Environment variables that override the ``[submission]`` defaults of the loaded file.
SUBMISSION_ENV = {
    "EXCHANGE_SANDBOX_SUBMISSION_DELAY_MS": "delay_ms",
    "EXCHANGE_SANDBOX_SUBMISSION_JITTER_MS": "jitter_ms",
    "EXCHANGE_SANDBOX_SUBMISSION_IN_TRANSIT": "in_transit",
}


class ConfigError(ValueError):
    """The sandbox configuration file is invalid."""


@dataclass(frozen=True)
class MailboxConfig:
    address: str
    name: str = ""
    #: This mailbox's own submission settings; None follows ``[submission]``.
    submission: SubmissionSettings | None = None
    #: This mailbox's working hours; None follows ``[working_hours]``.
    working_hours: WorkingHours | None = None
    #: Directory attributes ResolveNames and Graph ``/users`` search (alias: the local part).
    given_name: str = ""
    surname: str = ""
    alias: str = ""
    job_title: str = ""


@dataclass(frozen=True)
class UserConfig:
    name: str
    password: str
    mailbox: str | None = None
    delegate: tuple[str, ...] = ()
    impersonation: tuple[str, ...] = ()

    def may_open(self, address: str) -> bool:
        """Whether this user may open ``address`` as itself (own mailbox or delegate access)."""
        addr = address.lower()
        own = self.mailbox is not None and self.mailbox.lower() == addr
        return own or addr in {d.lower() for d in self.delegate}

    def may_impersonate(self, address: str) -> bool:
        return address.lower() in {i.lower() for i in self.impersonation}


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
            raise ConfigError(f"not a PEM certificate: {exc}") from exc
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
    # Requests per app and mailbox in a sliding window (Exchange Online: 10,000 per 10 minutes).
    request_budget: int = 10_000
    request_budget_window_seconds: int = 600
    # Delta sync states: a lifetime, and how many per mailbox are kept (older ones are pruned).
    delta_token_lifetime_seconds: int = 7 * 24 * 3600
    delta_token_cache_size: int = 100
    # A message only updated since the last round comes back with its id and a few properties.
    delta_partial_updates: bool = True
    # getSchedule: at most this many schedules and a window shorter than this many days.
    schedule_max_mailboxes: int = 20
    schedule_max_days: int = 62
    extra: dict[str, Any] = field(default_factory=dict)

    def app(self, client_id: str) -> AppRegistration | None:
        for app in self.apps:
            if app.client_id.lower() == client_id.lower():
                return app
        return None

    def with_app(self, app: AppRegistration) -> GraphConfig:
        others = tuple(a for a in self.apps if a.client_id.lower() != app.client_id.lower())
        return replace(self, apps=(*others, app))


@dataclass(frozen=True)
class EwsConfig:
    """The ``[ews]`` table: schema strictness and the throttling limits, with Exchange's defaults."""

    #: Validate every request against Microsoft's schema (ErrorSchemaValidation), as Exchange does.
    strict: bool = True
    #: EWSMaxConcurrency: requests in progress per account (Exchange 2013+ and Online: 27).
    max_concurrency: int = 27
    #: EWSMaxSubscriptions: live subscriptions per account or impersonated mailbox (Online: 20).
    max_subscriptions: int = 20
    #: HangingConnectionLimit: open GetStreamingEvents connections per account (2016/2019: 10).
    hanging_connection_limit: int = 10
    #: ConcurrentSyncCalls: SyncFolderItems/SyncFolderHierarchy in progress per account (Online: 5).
    concurrent_sync_calls: int = 5
    #: GetUserAvailability's longest time window in days (ErrorTimeIntervalTooBig; default 42).
    availability_max_days: int = 42


@dataclass(frozen=True)
class SandboxConfig:
    mailboxes: tuple[MailboxConfig, ...] = ()
    users: tuple[UserConfig, ...] = ()
    version: str = "15.1.2507.6"
    domain: str = "WOONSERVICE"
    graph: GraphConfig = field(default_factory=GraphConfig)
    ews: EwsConfig = field(default_factory=EwsConfig)
    submission: SubmissionSettings = field(default_factory=SubmissionSettings)
    #: The working hours of a mailbox without its own (``[working_hours]``).
    working_hours: WorkingHours = field(default_factory=WorkingHours)
    #: Mail contacts of the global address list (``[[directory]]``), beside the mailboxes.
    directory: tuple[Person, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def hours_of(self, address: str) -> WorkingHours:
        """The working hours of a mailbox (its own, else the ``[working_hours]`` default)."""
        for box in self.mailboxes:
            if box.address.lower() == address.lower() and box.working_hours is not None:
                return box.working_hours
        return self.working_hours

    def people(self) -> list[Person]:
        """The global address list: every mailbox user, then the mail contacts."""
        users = [
            Person(
                email=box.address.lower(),
                name=box.name or box.address,
                given_name=box.given_name,
                surname=box.surname,
                alias=box.alias,
                job_title=box.job_title,
            )
            for box in self.mailboxes
        ]
        return [*users, *self.directory]

    def submission_settings(self) -> dict[str, SubmissionSettings]:
        """The mailboxes whose submission settings differ from ``submission``."""
        return {m.address: m.submission for m in self.mailboxes if m.submission is not None}

    def user(self, name: str) -> UserConfig | None:
        # Windows logon names are case-insensitive; "DOMAIN\\user" and UPN forms are accepted.
        bare = name.split("\\")[-1]
        for user in self.users:
            if user.name.lower() in (bare.lower(), name.lower()):
                return user
        return None

    @property
    def build(self) -> tuple[int, int, int, int]:
        parts = [int(p) for p in self.version.split(".")]
        while len(parts) < 4:
            parts.append(0)
        return parts[0], parts[1], parts[2], parts[3]


def load_config(
    path: Path | None = None, environ: Mapping[str, str] | None = None
) -> SandboxConfig:
    """Read a sandbox TOML file, or the shipped default when ``path`` is None.

    ``environ`` (default: the process environment) may override the submission defaults
    (:data:`SUBMISSION_ENV`).
    """
    if path is None:
        text = resources.files("exchange_sandbox").joinpath("default.toml").read_text("utf-8")
    else:
        text = path.read_text("utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path or 'default.toml'}: {exc}") from exc
    env = os.environ if environ is None else environ
    return parse_config(data, path.parent if path is not None else None, env)


def parse_config(
    data: dict[str, Any], base_dir: Path | None = None, environ: Mapping[str, str] | None = None
) -> SandboxConfig:
    """A parsed sandbox TOML document; ``base_dir`` anchors relative certificate paths,
    ``environ`` may hold the submission overrides (:data:`SUBMISSION_ENV`)."""
    server = data.get("server", {})
    submission = _submission(data.get("submission", {}), SubmissionSettings(), "[submission]")
    submission = _submission_env(submission, environ or {})
    hours = _hours(data.get("working_hours", {}), WorkingHours(), "[working_hours]")
    mailboxes = []
    for entry in data.get("mailboxes", []):
        if "address" not in entry:
            raise ConfigError("every [[mailboxes]] entry needs an address")
        own = entry.get("submission")
        own_hours = entry.get("working_hours")
        where = f"mailbox {entry['address']}"
        mailboxes.append(
            MailboxConfig(
                address=str(entry["address"]),
                name=str(entry.get("name", "")),
                submission=None
                if own is None
                else _submission(own, submission, f"{where}: submission"),
                working_hours=None
                if own_hours is None
                else _hours(own_hours, hours, f"{where}: working_hours"),
                given_name=str(entry.get("given_name", "")),
                surname=str(entry.get("surname", "")),
                alias=str(entry.get("alias", "")),
                job_title=str(entry.get("job_title", "")),
            )
        )
    contacts = []
    for entry in data.get("directory", []):
        if "address" not in entry or "name" not in entry:
            raise ConfigError("every [[directory]] entry needs an address and a name")
        contacts.append(
            Person(
                email=str(entry["address"]).lower(),
                name=str(entry["name"]),
                given_name=str(entry.get("given_name", "")),
                surname=str(entry.get("surname", "")),
                alias=str(entry.get("alias", "")),
                kind="Contact",
                job_title=str(entry.get("job_title", "")),
                department=str(entry.get("department", "")),
                phone=str(entry.get("phone", "")),
            )
        )
    users = []
    for entry in data.get("users", []):
        if "name" not in entry or "password" not in entry:
            raise ConfigError("every [[users]] entry needs a name and a password")
        users.append(
            UserConfig(
                name=str(entry["name"]),
                password=str(entry["password"]),
                mailbox=entry.get("mailbox"),
                delegate=_strs(entry.get("delegate"), "delegate"),
                impersonation=_strs(entry.get("impersonation"), "impersonation"),
            )
        )
    return SandboxConfig(
        mailboxes=tuple(mailboxes),
        users=tuple(users),
        version=str(server.get("version", "15.1.2507.6")),
        domain=str(server.get("domain", "WOONSERVICE")),
        graph=_graph(data.get("graph", {}), base_dir),
        ews=_ews(data.get("ews", {})),
        submission=submission,
        working_hours=hours,
        directory=tuple(contacts),
    )


def _hours(section: Any, base: WorkingHours, where: str) -> WorkingHours:
    """A working-hours table (``days``, ``start``, ``end``, ``time_zone``) over ``base``."""
    if not isinstance(section, dict):
        raise ConfigError(f"{where} must be a table")
    try:
        return base.changed(section, where)
    except WorkingHoursError as exc:
        raise ConfigError(str(exc)) from exc


def _submission(section: Any, base: SubmissionSettings, where: str) -> SubmissionSettings:
    """A submission table (``delay_ms``, ``jitter_ms``, ``in_transit``) over ``base``."""
    if not isinstance(section, dict):
        raise ConfigError(f"{where} must be a table")
    try:
        return base.changed(section)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def _submission_env(base: SubmissionSettings, environ: Mapping[str, str]) -> SubmissionSettings:
    changes: dict[str, Any] = {}
    for variable, key in SUBMISSION_ENV.items():
        value = environ.get(variable, "").strip()
        if not value:
            continue
        if key == "in_transit":
            changes[key] = value
            continue
        try:
            changes[key] = int(value)
        except ValueError as exc:
            raise ConfigError(f"{variable} must be a whole number of milliseconds") from exc
    return _submission(changes, base, "environment")


def _graph(section: Any, base_dir: Path | None) -> GraphConfig:
    """The ``[graph]`` table (defaults when absent)."""
    if not isinstance(section, dict):
        raise ConfigError("[graph] must be a table")
    apps = []
    for entry in section.get("apps", []):
        if "client_id" not in entry:
            raise ConfigError("every [[graph.apps]] entry needs a client_id")
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
            raise ConfigError(f"app {entry['client_id']}: give a client_secret or certificates")
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
    if "working_hours_time_zone" in section:
        raise ConfigError(
            "[graph] working_hours_time_zone is gone: working hours are per mailbox now, the "
            "same on both fronts ([working_hours] time_zone, or a mailbox's working_hours)"
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
        schedule_max_mailboxes=_int(
            section, "schedule_max_mailboxes", defaults.schedule_max_mailboxes, 1
        ),
        schedule_max_days=_int(section, "schedule_max_days", defaults.schedule_max_days, 1),
        request_budget=_int(section, "request_budget", defaults.request_budget),
        request_budget_window_seconds=_int(
            section, "request_budget_window_seconds", defaults.request_budget_window_seconds, 1
        ),
        delta_token_lifetime_seconds=_int(
            section, "delta_token_lifetime_seconds", defaults.delta_token_lifetime_seconds
        ),
        delta_token_cache_size=_int(
            section, "delta_token_cache_size", defaults.delta_token_cache_size
        ),
        delta_partial_updates=bool(
            section.get("delta_partial_updates", defaults.delta_partial_updates)
        ),
    )


def _ews(section: Any) -> EwsConfig:
    """The ``[ews]`` table (Exchange's defaults when absent); a limit of 0 switches it off."""
    if not isinstance(section, dict):
        raise ConfigError("[ews] must be a table")
    unknown = set(section) - set(EwsConfig.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"[ews] has unknown keys: {sorted(unknown)}")
    strict = section.get("strict", True)
    if not isinstance(strict, bool):
        raise ConfigError("ews.strict must be true or false")
    defaults = EwsConfig()
    limits = {
        key: _int(section, key, getattr(defaults, key), table="ews")
        for key in (
            "max_concurrency",
            "max_subscriptions",
            "hanging_connection_limit",
            "concurrent_sync_calls",
            "availability_max_days",
        )
    }
    return EwsConfig(strict=strict, **limits)


def _strs(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{what} must be a list of strings")
    return tuple(value)


def _int(
    data: dict[str, Any], key: str, default: int, minimum: int = 0, table: str = "graph"
) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(f"{table}.{key} must be an integer >= {minimum}")
    return value
