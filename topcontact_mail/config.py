"""The one typed configuration object: loaded from TOML and the environment, validated at start.

Sources, strongest first: environment variables (`TOPCONTACT_` prefix, `__`
between nested keys), the TOML file, the defaults below. Secrets are
`SecretStr` and can also come from a file (`*_file` keys, e.g. a systemd
credential); they are never printed.
"""

from __future__ import annotations

import itertools
import os
import re
import tomllib
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from topcontact_mail.domain.calendar import (
    BusinessCalendar,
    ClosureRange,
    Interval,
    netherlands_holidays,
)
from topcontact_mail.domain.retention import RetentionPolicy

DEFAULT_CONFIG_PATH = Path("config/topcontact.toml")
ENV_PREFIX = "TOPCONTACT_"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HOURS_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


_ADDRESS_RE = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def _check_address(value: str) -> str:
    if not _ADDRESS_RE.match(value.strip()):
        raise ValueError(f"{value!r} is not a mail address like 'naam@organisatie.nl'")
    return value.strip()


#: A plain SMTP address; internal domains such as `.local` are allowed, display names are not.
MailAddress = Annotated[str, AfterValidator(_check_address)]


class ConfigError(Exception):
    """A configuration that cannot be used; `str()` is the message for the administrator."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _parse_interval(text: str) -> Interval:
    match = _HOURS_RE.match(text)
    if not match:
        raise ValueError(f"expected office hours like '08:30-17:00', got {text!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        start, end = time(h1, m1), time(h2, m2)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid time range (hours 0-23, minutes 0-59)") from None
    return Interval(start, end)


HoursList = list[str]


class OfficeHours(Section):
    monday: HoursList = ["08:30-17:00"]
    tuesday: HoursList = ["08:30-17:00"]
    wednesday: HoursList = ["08:30-17:00"]
    thursday: HoursList = ["08:30-17:00"]
    friday: HoursList = ["08:30-17:00"]
    saturday: HoursList = []
    sunday: HoursList = []

    @field_validator(*WEEKDAYS)
    @classmethod
    def _valid_intervals(cls, value: HoursList) -> HoursList:
        intervals = sorted(_parse_interval(v) for v in value)
        for before, after in itertools.pairwise(intervals):
            if after.start < before.end:
                raise ValueError(f"office hours overlap: {value}")
        return value

    @model_validator(mode="after")
    def _some_day_open(self) -> OfficeHours:
        if not any(getattr(self, day) for day in WEEKDAYS):
            raise ValueError("office hours are empty on every weekday: there would be no workday")
        return self

    def intervals(self) -> dict[int, tuple[Interval, ...]]:
        return {
            number: tuple(_parse_interval(v) for v in getattr(self, day))
            for number, day in enumerate(WEEKDAYS, start=1)
        }


class ClosedRange(Section):
    first: date
    last: date

    @model_validator(mode="after")
    def _ordered(self) -> ClosedRange:
        if self.last < self.first:
            raise ValueError(f"'last' ({self.last}) is before 'first' ({self.first})")
        return self


class CalendarSettings(Section):
    timezone: str = "Europe/Amsterdam"
    office_hours: OfficeHours = OfficeHours()
    holiday_categories: list[Literal["public", "optional"]] = ["public"]
    ignore_holidays: list[str] = []
    closed_dates: list[date] = []
    closed_ranges: list[ClosedRange] = []

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name like 'Europe/Amsterdam'"
            ) from None
        return value

    def build(self) -> BusinessCalendar:
        return BusinessCalendar(
            tz=ZoneInfo(self.timezone),
            office_hours=self.office_hours.intervals(),
            holiday=netherlands_holidays(self.holiday_categories, self.ignore_holidays),
            closed_dates=frozenset(self.closed_dates),
            closed_ranges=tuple(ClosureRange(r.first, r.last) for r in self.closed_ranges),
        )


class TeamSettings(Section):
    """Who the tenant deals with: shown in every text."""

    name: str = "Team Klantcontact"
    organisation: str = "Woonservice IJsselland"
    phone: str = "0313 000 000"
    email: MailAddress = "klantcontact@woonservice.example"
    website: str = ""
    address: str = ""


def _read_secret(secret: SecretStr | None, path: Path | None, what: str) -> SecretStr | None:
    if secret is not None and secret.get_secret_value():
        return secret
    if path is None:
        return secret
    try:
        return SecretStr(path.read_text(encoding="utf-8").strip())
    except OSError as exc:
        raise ValueError(f"cannot read {what} from file {str(path)!r}: {exc.strerror}") from None


class EwsSettings(Section):
    service_endpoint: str | None = None
    autodiscover: bool = False
    username: str = ""
    password: SecretStr | None = None
    password_file: Path | None = None
    auth_type: Literal["basic", "ntlm", "oauth"] = "ntlm"
    access_type: Literal["delegate", "impersonation"] = "delegate"
    #: OAuth (hybrid set-ups) only.
    client_id: str = ""
    tenant_id: str = ""
    client_secret: SecretStr | None = None
    client_secret_file: Path | None = None
    verify_tls: bool = True
    timeout_seconds: float = Field(default=60, gt=0)
    #: First wait after a failure the server gave no back-off hint for (it doubles after that).
    retry_wait_seconds: float = Field(default=10, gt=0, le=300)
    #: Changes per SyncFolderItems page (Exchange allows at most 512).
    page_size: int = Field(default=512, ge=1, le=512)
    #: Items per GetItem, CreateItem and UpdateItem request.
    batch_size: int = Field(default=250, ge=1, le=500)

    @model_validator(mode="after")
    def _complete(self) -> EwsSettings:
        object.__setattr__(
            self, "password", _read_secret(self.password, self.password_file, "password")
        )
        object.__setattr__(
            self,
            "client_secret",
            _read_secret(self.client_secret, self.client_secret_file, "client_secret"),
        )
        if not self.autodiscover and not self.service_endpoint:
            raise ValueError(
                "set 'service_endpoint' (https://.../EWS/Exchange.asmx) or 'autodiscover = true'"
            )
        if self.service_endpoint and not re.match(r"^https?://", self.service_endpoint):
            raise ValueError(
                f"'service_endpoint' must be an http(s) URL, got {self.service_endpoint!r}"
            )
        if self.service_endpoint and _USERINFO_RE.match(self.service_endpoint):
            raise ValueError(
                "'service_endpoint' must not hold a user name or password: "
                "use 'username' and 'password' (or 'password_file')"
            )
        return self


class GraphSettings(Section):
    tenant_id: str = ""
    client_id: str = ""
    client_secret: SecretStr | None = None
    client_secret_file: Path | None = None
    certificate_path: Path | None = None
    certificate_thumbprint: str = ""
    authority_url: str = "https://login.microsoftonline.com"
    graph_url: str = "https://graph.microsoft.com"
    poll_interval_seconds: float = Field(default=10, ge=1)
    send_rate_per_minute: int = Field(default=25, ge=0)
    verify_tls: bool = True
    timeout_seconds: float = Field(default=60, gt=0)
    #: Extra CA certificate (PEM) to trust, e.g. a TLS-inspecting proxy's; None = system CAs.
    ca_file: Path | None = None
    #: The app-only scope; other than the default only in a national cloud.
    token_scope: str = "https://graph.microsoft.com/.default"  # noqa: S105  # a public scope, no secret
    #: Messages per delta page (Prefer: odata.maxpagesize).
    page_size: int = Field(default=100, ge=1, le=1000)
    #: First wait after a failure the server gave no back-off hint for (it doubles after that).
    retry_wait_seconds: float = Field(default=10, gt=0, le=300)

    @model_validator(mode="after")
    def _complete(self) -> GraphSettings:
        object.__setattr__(
            self,
            "client_secret",
            _read_secret(self.client_secret, self.client_secret_file, "client_secret"),
        )
        if not self.tenant_id or not self.client_id:
            raise ValueError("Graph needs 'tenant_id' and 'client_id' of the app registration")
        if self.client_secret is None and self.certificate_path is None:
            raise ValueError("Graph needs 'certificate_path' (preferred) or 'client_secret'")
        return self


class ConnectionSettings(Section):
    backend: Literal["ews", "graph"] = "ews"
    shared_mailbox: MailAddress = "klantcontact@woonservice.example"
    #: Colleagues in whose calendars the service books callbacks (test-connection checks them).
    colleague_mailboxes: list[MailAddress] = []
    ews: EwsSettings | None = None
    graph: GraphSettings | None = None

    def missing_section(self) -> str | None:
        """Why the service cannot connect with this section, or None when it can.

        Commands that never connect (deadlines, explain, preview) work without
        one; `run`, `test-connection` and `check-config` require it. The other
        backend's section may stay (for switching over).
        """
        if getattr(self, self.backend) is None:
            return (
                f"backend is {self.backend!r} but there is no [connection.{self.backend}] section"
            )
        return None


class ScreeningSettings(Section):
    #: Domains of the organisation itself; mail from these counts as colleagues.
    internal_domains: list[str] = []
    acknowledge_internal: bool = False
    #: Exchange spam confidence level (SCL) from which a message counts as spam.
    spam_threshold: int = Field(default=5, ge=0, le=9)
    per_sender_per_day: int = Field(default=3, ge=1)
    global_per_hour: int = Field(default=200, ge=1)
    #: Extra addresses of the organisation's own systems that must never be answered.
    own_addresses: list[MailAddress] = []


class AcknowledgementSettings(Section):
    languages: list[str] = ["nl", "en"]
    default_language: str = "nl"
    #: How the language is chosen: from Content-Language, by simple detection of the text, or fixed.
    language_rule: Literal["content-language", "detect", "fixed"] = "detect"
    #: A folder of the administrator's own templates (they replace built-in ones of the same
    #: name); None: the built-in templates only. Relative paths count from the config file.
    templates_dir: Path | None = None
    max_subject_length: int = Field(default=200, ge=40)

    @model_validator(mode="after")
    def _default_in_languages(self) -> AcknowledgementSettings:
        if self.default_language not in self.languages:
            raise ValueError(
                f"default_language {self.default_language!r} is not in languages {self.languages}"
            )
        return self


AnswerMethodName = Literal["reply", "forward", "flag_complete", "done_folder", "done_category"]
ALL_ANSWER_METHODS: list[AnswerMethodName] = [
    "reply",
    "forward",
    "flag_complete",
    "done_folder",
    "done_category",
]


class TrackingSettings(Section):
    """Keeping the promise: answer targets tracked until met, warnings, escalations, reports."""

    #: Category put on a handled message; {date} becomes the answer date ("4 dec").
    category: str = "Top Contact: antwoord vóór {date}"
    #: Off: targets are still recorded, but nothing is observed, marked or mailed.
    enabled: bool = True
    #: Which signs count as "answered" (docs/tracking.md).
    answered_methods: list[AnswerMethodName] = Field(
        default_factory=lambda: list(ALL_ANSWER_METHODS), min_length=1
    )
    #: Folders (path from the mailbox root, or own name; any case) that mean "done".
    done_folders: list[str] = []
    #: Categories (any case) that mean "done".
    done_categories: list[str] = []
    #: The warning starts at the opening of the due day (0), or of the n-th workday before it.
    warn_workdays_before: int = Field(default=0, ge=0, le=10)
    #: Category put on a message in its warning period, and on an overdue one.
    warning_category: str = "Top Contact: bijna te laat"
    overdue_category: str = "Top Contact: te laat"
    #: Who gets the escalation of overdue messages (at most once per message per workday).
    team_lead_address: MailAddress | None = None
    #: Who gets the daily overview at opening time (the team, or a distribution group).
    team_address: MailAddress | None = None
    #: How often the open targets are looked at in the mailbox (seconds).
    observe_interval_seconds: float = Field(default=300, ge=10)
    #: "aggregate": numbers only; "identified": also the late and overdue messages with
    #: sender and subject (read from the mailbox for the report, never stored).
    report_privacy: Literal["aggregate", "identified"] = "aggregate"

    @field_validator("category", "warning_category", "overdue_category")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if not value.strip() or any(c in value for c in "\r\n,;"):
            raise ValueError(
                f"a category is one non-empty line without ',' or ';' (Outlook splits on them), got {value!r}"
            )
        return value.strip()

    @field_validator("answered_methods")
    @classmethod
    def _no_repeats(cls, value: list[AnswerMethodName]) -> list[AnswerMethodName]:
        return list(dict.fromkeys(value))


# -- callbacks (issue 11): a promised call-back becomes a meeting request ---------------------


class WorkingHoursSettings(OfficeHours):
    """A colleague's own working hours: like office hours, but a day not named is a day off."""

    monday: HoursList = []
    tuesday: HoursList = []
    wednesday: HoursList = []
    thursday: HoursList = []
    friday: HoursList = []
    saturday: HoursList = []
    sunday: HoursList = []


class StaffSettings(Section):
    """A colleague who can be booked for callbacks (`[[callbacks.staff]]`)."""

    #: As people say it ("Jan de Vries") or as Exchange lists it ("Vries, Jan de").
    name: str
    address: MailAddress
    #: Other names the form may use ("JdV", "Jantje").
    aliases: list[str] = []
    #: Own working hours per weekday, like `[calendar.office_hours]`; absent = what Exchange
    #: reports for the mailbox (its working hours), else the office hours.
    working_hours: WorkingHoursSettings | None = None
    #: The colleague (an address of this list) who calls back when this one is away.
    fallback: MailAddress | None = None


class CallbacksSettings(Section):
    """Callbacks booked by mail or on the command line, as meeting requests (docs/callbacks.md)."""

    enabled: bool = True
    #: A mailbox only for booking mails; empty: booking mails come to the shared mailbox and are
    #: told apart by `subject_keyword` in their subject (and an internal sender).
    mailbox: MailAddress | None = None
    subject_keyword: str = "Terugbelverzoek"
    #: Who organises the meeting requests; empty: the shared mailbox.
    organiser: MailAddress | None = None
    #: Category on the meeting in Outlook.
    category: str = "Terugbelverzoek"
    reminder_minutes: int = Field(default=15, ge=0, le=1440)
    slot_minutes: int = Field(default=15, ge=5, le=240)
    #: At least this long between booking and the call.
    lead_minutes: int = Field(default=15, ge=0, le=1440)
    #: Slots start on this grid (10:00, 10:15, ...); must divide a day.
    grid_minutes: int = Field(default=15, ge=5, le=60)
    #: How many workdays after the term a late slot is looked for.
    horizon_workdays: int = Field(default=10, ge=1, le=60)
    #: A colleague or staff sets one of these categories on the meeting when the call was made.
    done_categories: list[str] = ["Teruggebeld"]
    #: A callback whose slot ended this long ago without a done category counts as missed.
    missed_after_minutes: int = Field(default=60, ge=0)
    #: How often the meetings are checked for declines, cancellations, moves and done marks.
    check_interval_seconds: float = Field(default=300, ge=5)
    #: Look a colleague up in the directory (EWS ResolveNames, Graph users) when not in `staff`.
    use_directory: bool = True
    #: Category on a booking mail that could not be booked (the booker got a reply saying why).
    rejected_category: str = "Top Contact: terugbelverzoek niet ingepland"
    #: How often a declined or cancelled callback is booked anew before the booker is asked to act.
    max_rebookings: int = Field(default=3, ge=0, le=20)
    staff: list[StaffSettings] = []

    @field_validator("grid_minutes")
    @classmethod
    def _grid_divides_a_day(cls, value: int) -> int:
        if (24 * 60) % value:
            raise ValueError(f"grid_minutes must divide a day (5, 10, 15, 20, 30, 60), got {value}")
        return value

    @model_validator(mode="after")
    def _fallbacks_known(self) -> CallbacksSettings:
        known = {s.address.lower() for s in self.staff}
        for member in self.staff:
            if member.fallback and member.fallback.lower() not in known:
                raise ValueError(
                    f"staff {member.name!r}: fallback {member.fallback} is not in [[callbacks.staff]]"
                )
        return self


class ServiceSettings(Section):
    dry_run: bool = False
    #: Where the state lives: one SQLite file under `state_dir` (embedded, the default), or the
    #: `[postgresql]` database that several instances share (docs/scale-out.md).
    store: Literal["sqlite", "postgresql"] = "sqlite"
    state_dir: Path = Path("var/state")
    sync_interval_seconds: float = Field(default=60, ge=1)
    #: A send whose outcome is unknown (answer lost, server slow) is looked for in the mailbox;
    #: only when it is not found this long after the attempt is it sent again (docs/exactly-once.md).
    in_doubt_seconds: float = Field(default=600, ge=1)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    admin_address: MailAddress | None = None
    #: Where the health and metrics endpoint listens; empty to switch it off.
    health_listen: str = "127.0.0.1:9310"
    #: Long work (catching up a backlog, building a report) shows a bar on a terminal, and off
    #: one a log line every this many seconds.
    progress_interval_seconds: float = Field(default=10, gt=0)
    #: With `[[mailboxes]]`: at most this many mailboxes do a pass (read, send, track) at the
    #: same moment; the others wait their turn (waiting for new mail needs no turn).
    max_concurrent_mailboxes: int = Field(default=4, ge=1, le=256)
    #: A mailbox whose last successful sync is older than this is "sync lagging" in `/health`;
    #: 0: three safety-net sync intervals (`sync_interval_seconds`).
    sync_lag_seconds: float = Field(default=0, ge=0)

    @field_validator("health_listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if value.strip() and not re.fullmatch(r"[\w.:\[\]-]*:\d{1,5}", value.strip()):
            raise ValueError(
                f"expected 'host:port' like '127.0.0.1:9310' (or empty), got {value!r}"
            )
        return value.strip()


# -- retention (AVG / GDPR, docs/retention.md) -----------------------------------------------

_CLOCK_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


class RetentionSettings(Section):
    """How long the state keeps details about contacts and the report's figures."""

    #: Days after a message was received (a callback booked, a team mail made) that its details
    #: about contacts are kept: addresses, names, Message-IDs, conversations, error texts,
    #: callback names, phone numbers and texts. Then only the figures stay.
    details_days: int = 90
    #: Months the figures (what `report --month` counts) are kept besides the current month;
    #: a month older than that goes entirely.
    figures_months: int = 13
    #: When the daemon purges, every night (local time, HH:MM).
    purge_time: str = "03:30"

    @field_validator("details_days", "figures_months")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"must be a positive whole number, got {value}")
        return value

    @field_validator("purge_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        match = _CLOCK_RE.match(value)
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise ValueError(f"expected a time of day like '03:30', got {value!r}")
        return f"{int(match.group(1)):02d}:{match.group(2)}"

    @model_validator(mode="after")
    def _figures_outlast_details(self) -> RetentionSettings:
        if self.details_days > self.figures_months * 30:
            raise ValueError(
                f"details_days ({self.details_days}) is longer than figures_months "
                f"({self.figures_months} months, counted as {self.figures_months * 30} days): "
                "the figures must be kept at least as long as the details; raise "
                "figures_months or lower details_days"
            )
        return self

    def policy(self) -> RetentionPolicy:
        return RetentionPolicy(self.details_days, self.figures_months)

    def purge_at(self) -> time:
        hour, minute = self.purge_time.split(":")
        return time(int(hour), int(minute))


# -- more than one machine (docs/scale-out.md) ------------------------------------------------

_IDENTIFIER_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class PostgresSettings(Section):
    """The PostgreSQL database the state lives in with `[service] store = "postgresql"`."""

    #: A libpq connection string or URI; when set, it replaces host/port/dbname/user (a
    #: password in it is a secret like `password`). Empty: built from the keys below.
    dsn: SecretStr | None = None
    host: str = "localhost"
    port: int = Field(default=5432, ge=1, le=65535)
    dbname: str = "topcontact"
    user: str = "topcontact"
    password: SecretStr | None = None
    password_file: Path | None = None
    #: libpq's sslmode; verify-full checks the certificate and the host name.
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = (
        "verify-full"
    )
    #: CA certificate(s) to verify the server with (an absolute path), "system" for the
    #: system's CAs; empty: libpq's default (~/.postgresql/root.crt).
    sslrootcert: str = ""
    #: The PostgreSQL schema that holds the tables; several mailboxes share it.
    schema_name: str = "topcontact"
    #: Connections kept open per instance (every mailbox it works shares them).
    pool_size: int = Field(default=4, ge=1, le=64)
    connect_timeout_seconds: int = Field(default=10, ge=1, le=300)
    #: Longest a single statement may run (a lease must never wait on a hung server).
    statement_timeout_seconds: float = Field(default=15, gt=0, le=300)

    @field_validator("schema_name")
    @classmethod
    def _plain_identifier(cls, value: str) -> str:
        if not _IDENTIFIER_RE.match(value):
            raise ValueError(
                f"a schema name is lower-case letters, digits and '_' (at most 63), got {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _complete(self) -> PostgresSettings:
        object.__setattr__(
            self, "password", _read_secret(self.password, self.password_file, "password")
        )
        return self


class ScaleOutSettings(Section):
    """Several instances sharing the mailboxes through leases (docs/scale-out.md)."""

    #: This instance's name in the lease table; empty: the host name. Two processes must
    #: never share one (a restarted instance with the same name takes its leases back at once).
    instance_id: str = ""
    #: A lease runs this long unless renewed; a dead instance's mailboxes are taken over
    #: within about lease_seconds + renew_seconds.
    lease_seconds: float = Field(default=30, ge=3, le=600)
    #: How often an instance renews its leases (and looks for mailboxes to take).
    renew_seconds: float = Field(default=10, gt=0)
    #: `topcontact-mail scale-out`: the folder of mailbox configurations (`*.toml`), one per
    #: shared mailbox; the instance works those it holds the lease of.
    mailboxes_dir: Path | None = None

    @model_validator(mode="after")
    def _renew_well_inside(self) -> ScaleOutSettings:
        if self.renew_seconds * 3 > self.lease_seconds:
            raise ValueError(
                f"renew_seconds ({self.renew_seconds}) must be at most a third of "
                f"lease_seconds ({self.lease_seconds}): a lease is renewed well inside its expiry"
            )
        return self


#: The sections a `[[mailboxes]]` table may set for its mailbox; the top level's are its defaults.
MAILBOX_SECTIONS = (
    "calendar",
    "team",
    "connection",
    "screening",
    "acknowledgement",
    "tracking",
    "callbacks",
)


class MailboxEntry(Section):
    """One shared mailbox of a configuration that serves several (`[[mailboxes]]`).

    Each table names its `shared_mailbox` and sets what differs from the top level:
    whole or partial sections, merged key by key over the top level's (a
    `[mailboxes.connection.ews]` with only `password_file` keeps the top level's
    endpoint and user). Checked in full by `load_settings`, per mailbox.
    """

    shared_mailbox: MailAddress
    #: This mailbox's state folder; default: `<service.state_dir>/<shared_mailbox>`.
    state_dir: Path | None = None
    calendar: dict[str, Any] = {}
    team: dict[str, Any] = {}
    connection: dict[str, Any] = {}
    screening: dict[str, Any] = {}
    acknowledgement: dict[str, Any] = {}
    tracking: dict[str, Any] = {}
    callbacks: dict[str, Any] = {}


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the already-parsed TOML document handed over by `load_settings`."""

    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


class Settings(BaseSettings):
    """Everything the service can be told, with the defaults of DESIGN.md."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    calendar: CalendarSettings = CalendarSettings()
    team: TeamSettings = TeamSettings()
    connection: ConnectionSettings = ConnectionSettings()
    screening: ScreeningSettings = ScreeningSettings()
    acknowledgement: AcknowledgementSettings = AcknowledgementSettings()
    tracking: TrackingSettings = TrackingSettings()
    callbacks: CallbacksSettings = CallbacksSettings()
    service: ServiceSettings = ServiceSettings()
    retention: RetentionSettings = RetentionSettings()
    postgresql: PostgresSettings = PostgresSettings()
    scale_out: ScaleOutSettings = ScaleOutSettings()
    #: Several shared mailboxes in one process (`[[mailboxes]]`); empty: the one of `[connection]`.
    mailboxes: list[MailboxEntry] = []

    #: Each mailbox's complete settings, made and checked by `load_settings`.
    _expanded: tuple[Settings, ...] = PrivateAttr(default=())

    def mailbox_settings(self) -> tuple[Settings, ...]:
        """The settings of every mailbox this configuration serves (itself when it has no
        `[[mailboxes]]`), each complete: its own sections over the top level's."""
        return self._expanded or (self,)

    def for_mailbox(self, address: str) -> Settings:
        """The settings of the mailbox `address`; `ConfigError` when it is not configured."""
        for one in self.mailbox_settings():
            if one.connection.shared_mailbox.casefold() == address.strip().casefold():
                return one
        known = ", ".join(m.connection.shared_mailbox for m in self.mailbox_settings())
        raise ConfigError(f"no mailbox {address!r} in the configuration (it has: {known})")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            _TomlSource(settings_cls, _PENDING_TOML.get("data", {})),
        )


# The TOML document being loaded; pydantic-settings builds sources from the class,
# so the parsed file is handed over here for the duration of one `load_settings` call.
_PENDING_TOML: dict[str, dict[str, Any]] = {}


def resolve_config_path(explicit: Path | None) -> tuple[Path | None, bool]:
    """The file to read and whether the user asked for it (then it must exist)."""
    if explicit is not None:
        return explicit, True
    from_env = os.environ.get(f"{ENV_PREFIX}CONFIG")
    if from_env:
        return Path(from_env), True
    return DEFAULT_CONFIG_PATH, False


def load_settings(path: Path | None = None) -> Settings:
    """Load and validate the configuration; raise `ConfigError` with an admin-readable message."""
    file, required = resolve_config_path(path)
    data: dict[str, Any] = {}
    source = "defaults"
    base: Path | None = None
    if file is not None and (required or file.exists()):
        source = str(file)
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{file}: configuration file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: cannot read the file ({exc})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from None
        base = file.resolve().parent
        data = _anchored(data, base)
    settings = _validated(data, source, base)
    if settings.mailboxes:
        expanded = _expand(settings, data, source, base)
        settings._expanded = expanded
    return settings


def _validated(data: dict[str, Any], source: str, base: Path | None) -> Settings:
    _PENDING_TOML["data"] = data
    try:
        settings = Settings()
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None
    finally:
        _PENDING_TOML.clear()
    state_dir = settings.service.state_dir
    if base is not None and not state_dir.is_absolute():
        # The default state folder belongs with the configuration file, not wherever a command ran.
        service = settings.service.model_copy(update={"state_dir": base / state_dir})
        settings = settings.model_copy(update={"service": service})
    return settings


def _merged(defaults: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """`own` over `defaults`, table by table (lists and values are replaced whole)."""
    result = dict(defaults)
    for key, value in own.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merged(result[key], value)
        else:
            result[key] = value
    return result


def _expand(
    settings: Settings, data: dict[str, Any], source: str, base: Path | None
) -> tuple[Settings, ...]:
    """Each `[[mailboxes]]` table's complete settings: its sections over the top level's."""
    top = {k: v for k, v in data.items() if k != "mailboxes"}
    raw_entries: list[dict[str, Any]] = list(data.get("mailboxes") or [])
    found: list[Settings] = []
    seen: dict[str, int] = {}
    for number, entry in enumerate(settings.mailboxes):
        raw = raw_entries[number] if number < len(raw_entries) else {}
        address = entry.shared_mailbox
        where = f"{source}: mailboxes[{number}] ({address})"
        key = address.casefold()
        if key in seen:
            raise ConfigError(
                f"{where}: the mailbox is configured in mailboxes[{seen[key]}] already"
            )
        seen[key] = number
        own = {section: raw[section] for section in MAILBOX_SECTIONS if section in raw}
        own = _merged(own, {"connection": {"shared_mailbox": address}})
        one = _validated(_merged(top, own), where, base)
        # The environment is the strongest source: it must not make every mailbox the same one.
        if one.connection.shared_mailbox.casefold() != key:
            raise ConfigError(
                f"{where}: connection.shared_mailbox is overridden by the environment "
                "(TOPCONTACT_CONNECTION__SHARED_MAILBOX); unset it with [[mailboxes]]"
            )
        # One state per mailbox: its own folder, inside the top level's unless it names one.
        state_dir = entry.state_dir or settings.service.state_dir / key
        service = one.service.model_copy(update={"state_dir": state_dir})
        one = one.model_copy(update={"service": service, "mailboxes": []})
        found.append(one)
    return tuple(found)


#: Keys that name files or folders; their relative values count from the configuration file.
_PATH_KEY_SUFFIXES = ("_dir", "_file", "_path")


def _anchored(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """`data` with every relative path value made absolute against `base` (the file's folder)."""
    result: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            result[key] = _anchored(value, base)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            result[key] = [_anchored(v, base) for v in value]
        elif isinstance(value, str) and value and key.endswith(_PATH_KEY_SUFFIXES):
            path = Path(value).expanduser()
            result[key] = str(path if path.is_absolute() else base / path)
        else:
            result[key] = value
    return result


def _describe(exc: ValidationError, source: str) -> str:
    lines = [f"{source}: the configuration is not valid:"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        env_name = ENV_PREFIX + "__".join(str(p) for p in err["loc"]).upper()
        origin = f" (from environment variable {env_name})" if env_name in os.environ else ""
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key (check the spelling against config/topcontact.example.toml)"
        value = err.get("input")
        # An unknown key is often a misspelled secret ("passwd"): its value is never shown.
        hidden = err["type"] == "extra_forbidden" or _looks_secret(key)
        shown = "" if hidden or isinstance(value, dict | list) else f" = {_no_userinfo(value)!r}"
        lines.append(f"  {key or '(top level)'}{shown}{origin}: {_no_userinfo(message)}")
    return "\n".join(lines)


_SECRET_WORDS = ("password", "passwd", "pwd", "pass", "secret", "certificate", "token", "key")
_USERINFO_RE = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@")


def _looks_secret(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def _no_userinfo(value: object) -> object:
    """A URL's user name and password replaced by '****' (anything else unchanged)."""
    if isinstance(value, str):
        return _USERINFO_RE.sub(r"\1****@", value)
    return value


def masked(settings: Settings) -> dict[str, Any]:
    """The effective configuration as plain data, secrets replaced by '********'."""
    dumped: dict[str, Any] = settings.model_dump(mode="json")

    def scrub(node: Any, key: str = "") -> Any:
        if isinstance(node, dict):
            return {k: scrub(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [scrub(v, key) for v in node]
        if _looks_secret(key) and node not in (None, ""):
            return "********"
        return _no_userinfo(node)

    return dict(scrub(dumped))
