"""Integration fixtures: the sandbox Exchange server over HTTP and the real daemon as a process."""

from __future__ import annotations

import email
import email.policy
import email.utils
import os
import random
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest

from exchange_sandbox import GraphSandbox, Item, SandboxHandle, serve_graph_tls, start_sandbox

SHARED = "klantcontact@woonservice.example"
USER = "svc-topcontact"
PASSWORD = "Sandbox-Demo-2026!"
ROOT = Path(__file__).resolve().parents[2]
DEMO_MAIL = ROOT / "topcontact_mail" / "entrypoints" / "demo_mail"
FIXTURES = ROOT / "tests" / "fixtures" / "mail"


@dataclass
class Backend:
    """One backend of the service wired to a running sandbox, with ways to look inside."""

    name: str
    sandbox: SandboxHandle
    config_file: Path
    state_dir: Path
    #: Loop-protection headers this backend can put on an acknowledgement.
    loop_headers: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    reconfigure: Callable[..., None] = lambda **_: None

    def deliver(self, raw: bytes, *, use_date: bool = True) -> Item:
        received = None
        if use_date:
            date = email.message_from_bytes(raw).get("Date")
            received = email.utils.parsedate_to_datetime(date) if date else None
        return self.sandbox.store.deliver(SHARED, raw, received=received)

    def inbox(self) -> list[Item]:
        return self.sandbox.store.items(SHARED, "inbox")

    def sent(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(item.mime or b"", policy=email.policy.default)  # type: ignore[misc]
            for item in self.sandbox.store.items(SHARED, "sentitems")
        ]

    def sent_items(self) -> list[Item]:
        return self.sandbox.store.items(SHARED, "sentitems")

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "topcontact_mail", *args, "--config", str(self.config_file)]

    def run_once(self, timeout: float = 240) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            self.command("run", "--once"), capture_output=True, timeout=timeout, check=False
        )

    def start_daemon(self) -> subprocess.Popen[bytes]:
        # A file, not a pipe: nobody reads while the daemon runs, and a full pipe would block it.
        log = (self.config_file.parent / "daemon.log").open("ab")
        process = subprocess.Popen(self.command("run"), stdout=subprocess.DEVNULL, stderr=log)
        log.close()
        self.processes.append(process)
        return process


def seed_hitting(probability: float, *, lost: bool = False) -> int:
    """A random fault seed whose first matching request surely gets the fault.

    The sandbox rolls once per request for the fault kinds, and once more for a
    lost answer; a seed whose roll for the first request falls under the
    probability makes "at least one fault happened" certain, not likely.
    """
    start = random.randrange(10**6)
    for seed in range(start, start + 10_000):
        rng = random.Random(seed)
        first = rng.random()
        if (rng.random() if lost else first) < probability:
            return seed
    raise AssertionError("no seed found")  # practically impossible for any useful probability


def write_config(
    path: Path,
    backend: str,
    sandbox: SandboxHandle,
    state_dir: Path,
    *,
    small_batches: bool = False,
    graph: GraphSandbox | None = None,
    extra: str = "",
    send_rate: int = 0,
    timeout: float | None = None,
    in_doubt: float = 2,
    shared: str = SHARED,
    service_keys: dict[str, object] | None = None,
) -> None:
    """The daemon's config file; `small_batches` makes many requests, so faults get their chance.

    `extra` is appended as TOML (whole sections, e.g. a `[screening]` table); `shared` is the
    watched mailbox and `service_keys` sets or overrides keys of `[service]` (the proving ground
    runs two instances, a health endpoint and an administrator's address).
    """
    service = {
        "state_dir": str(state_dir),
        "sync_interval_seconds": 2,
        # The sandbox's copies of sent mail are there at once: a short in-doubt window suffices.
        "in_doubt_seconds": in_doubt,
        "log_level": "warning",
        "health_listen": "",  # several daemons run side by side in tests
        **(service_keys or {}),
    }
    lines = [
        "[connection]",
        f'backend = "{backend}"',
        f'shared_mailbox = "{shared}"',
    ]
    if backend == "ews":
        lines += [
            "[connection.ews]",
            f'service_endpoint = "{sandbox.ews_url}"',
            f'username = "{USER}"',
            f'password = "{PASSWORD}"',
            'auth_type = "ntlm"',
            "retry_wait_seconds = 0.2",
            *(["page_size = 10", "batch_size = 5"] if small_batches else []),
            *([f"timeout_seconds = {timeout}"] if timeout else []),
        ]
    if backend == "graph" and graph is not None:
        app = graph.app.config.apps[0]
        lines += [
            "[connection.graph]",
            f'tenant_id = "{graph.app.config.tenant_id}"',
            f'client_id = "{app.client_id}"',
            f'client_secret = "{app.client_secret}"',
            f'authority_url = "{graph.base_url}"',
            f'graph_url = "{graph.base_url}"',
            f'ca_file = "{graph.ca_file}"',
            "retry_wait_seconds = 0.2",
            f"send_rate_per_minute = {send_rate}",
            "poll_interval_seconds = 1",
            *(["page_size = 10"] if small_batches else []),
            *([f"timeout_seconds = {timeout}"] if timeout else []),
        ]
    lines += ["[service]", *(f"{k} = {v!r}".replace("'", '"') for k, v in service.items())]
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")


@pytest.fixture(params=["ews", "graph"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    sandbox = start_sandbox(state_dir=tmp_path / "sandbox")
    # msal needs an https authority: Graph gets a TLS listener over the same store and faults.
    graph = (
        serve_graph_tls(sandbox.server, tls_dir=tmp_path / "tls")
        if request.param == "graph"
        else None
    )
    state_dir = tmp_path / "state"
    config = tmp_path / "topcontact.toml"
    write_config(config, request.param, sandbox, state_dir, graph=graph)
    loop_headers = {
        "Auto-Submitted": "auto-replied",
        "X-Auto-Response-Suppress": "All",
        "X-TopContact-Mail": "acknowledgement",
    }
    if request.param == "graph":
        # Graph refuses non-x- headers; a mail-flow rule adds Auto-Submitted (README).
        del loop_headers["Auto-Submitted"]
    backend = Backend(request.param, sandbox, config, state_dir, loop_headers)
    backend.reconfigure = lambda **kw: write_config(
        config, request.param, sandbox, state_dir, graph=graph, **kw
    )
    yield backend
    for process in backend.processes:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
    if graph is not None:
        graph.stop()
    sandbox.stop()
