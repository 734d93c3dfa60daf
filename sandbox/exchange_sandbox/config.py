"""Configuration of the sandbox Exchange server (a test double): mailboxes, users and their rights.

The TOML layout is documented in the shipped ``default.toml``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """The sandbox configuration file is invalid."""


@dataclass(frozen=True)
class MailboxConfig:
    address: str
    name: str = ""


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
class SandboxConfig:
    mailboxes: tuple[MailboxConfig, ...] = ()
    users: tuple[UserConfig, ...] = ()
    version: str = "15.1.2507.6"
    domain: str = "WOONSERVICE"
    extra: dict[str, Any] = field(default_factory=dict)

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


def _strs(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{what} must be a list of strings")
    return tuple(value)


def parse_config(data: dict[str, Any]) -> SandboxConfig:
    server = data.get("server", {})
    mailboxes = []
    for entry in data.get("mailboxes", []):
        if "address" not in entry:
            raise ConfigError("every [[mailboxes]] entry needs an address")
        mailboxes.append(
            MailboxConfig(address=str(entry["address"]), name=str(entry.get("name", "")))
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
    )


def load_config(path: Path | None = None) -> SandboxConfig:
    """Read a sandbox TOML file, or the shipped default when ``path`` is None."""
    if path is None:
        text = resources.files("exchange_sandbox").joinpath("default.toml").read_text("utf-8")
    else:
        text = path.read_text("utf-8")
    try:
        return parse_config(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path or 'default.toml'}: {exc}") from exc
