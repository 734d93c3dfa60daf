"""Many shared mailboxes on the sandbox and the instances that share them, for the scale-out test
and `bench/scale_out.py`.

Each mailbox has a service account of its own (as separate customers of a
hosting partner would: Exchange limits subscriptions and connections per
account), a configuration file of its own in the instances' `mailboxes/`
folder, and its state in one PostgreSQL schema with the leases.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from exchange_sandbox import MailboxConfig, SandboxHandle, load_config, start_sandbox
from exchange_sandbox.config import UserConfig
from tests.pg_server import PostgresServer

PASSWORD = "Sandbox-Demo-2026!"


def address(n: int) -> str:
    return f"klantcontact{n:02d}@woonservice.example"


def tenant_mail(box: int, n: int, when: datetime) -> bytes:
    return (
        f"From: Huurder {n} <huurder{n}@example.nl>\r\n"
        f"To: {address(box)}\r\n"
        f"Subject: Vraag nummer {n}\r\n"
        f"Date: {when:%a, %d %b %Y %H:%M:%S %z}\r\n"
        f"Message-ID: <scale-{box}-{n}@example.nl>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Beste mensen, dit is mijn vraag nummer {n}. Met vriendelijke groet.\r\n"
    ).encode()


def start_many(count: int, latency_ms: int = 0) -> SandboxHandle:
    """The sandbox with `count` shared mailboxes, each with its own service account."""
    base = load_config()
    config = dataclasses.replace(
        base,
        mailboxes=tuple(MailboxConfig(address(n), f"Klantcontact {n}") for n in range(count)),
        users=tuple(
            UserConfig(name=f"svc-{n:02d}", password=PASSWORD, delegate=(address(n),))
            for n in range(count)
        ),
    )
    return start_sandbox(config=config, latency_ms=latency_ms)


@dataclass
class World:
    """The sandbox, the database and the instances' configuration files."""

    root: Path
    sandbox: SandboxHandle
    server: PostgresServer
    schema: str
    count: int
    lease_seconds: float
    renew_seconds: float
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def write(self) -> None:
        folder = self.root / "mailboxes"
        folder.mkdir(parents=True, exist_ok=True)
        for n in range(self.count):
            (folder / f"{n:02d}.toml").write_text(
                "\n".join(
                    [
                        "[connection]",
                        'backend = "ews"',
                        f'shared_mailbox = "{address(n)}"',
                        "[connection.ews]",
                        f'service_endpoint = "{self.sandbox.ews_url}"',
                        f'username = "svc-{n:02d}"',
                        f'password = "{PASSWORD}"',
                        'auth_type = "ntlm"',
                        "retry_wait_seconds = 0.2",
                        "[service]",
                        "sync_interval_seconds = 2",
                        "in_doubt_seconds = 2",
                        f'state_dir = "{self.root / "unused-state"}"',
                        "[screening]",
                        "global_per_hour = 1000000",
                        "per_sender_per_day = 1000",
                        "",
                    ]
                ),
                encoding="utf-8",
            )

    def instance_config(self, name: str) -> Path:
        path = self.root / f"{name}.toml"
        path.write_text(
            "\n".join(
                [
                    "[service]",
                    'store = "postgresql"',
                    'log_level = "info"',
                    'health_listen = ""',
                    self.server.toml(self.schema),
                    "[scale_out]",
                    f'instance_id = "{name}"',
                    f"lease_seconds = {self.lease_seconds}",
                    f"renew_seconds = {self.renew_seconds}",
                    'mailboxes_dir = "mailboxes"',
                    "",
                ]
            ),
            encoding="utf-8",
        )
        return path

    def start(self, name: str) -> subprocess.Popen[bytes]:
        config = self.instance_config(name)
        log = (self.root / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "topcontact_mail", "scale-out", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        log.close()
        self.processes[name] = process
        return process

    def kill(self, name: str) -> None:
        os.kill(self.processes[name].pid, signal.SIGKILL)
        self.processes[name].wait()

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def deliver(self, box: int, n: int, when: datetime) -> str:
        self.sandbox.store.deliver(address(box), tenant_mail(box, n, when), received=when)
        return f"<scale-{box}-{n}@example.nl>"

    def acknowledged(self) -> Counter[str]:
        """Acknowledgements in every mailbox's Sent Items, counted per original Message-ID."""
        counts: Counter[str] = Counter()
        for n in range(self.count):
            for item in self.sandbox.store.items(address(n), "sentitems"):
                counts[str(item.in_reply_to)] += 1
        return counts

    def wait_for(self, expected: set[str], timeout: float) -> Counter[str]:
        deadline = time.monotonic() + timeout
        counts = self.acknowledged()
        while time.monotonic() < deadline and not expected <= set(counts):
            time.sleep(0.5)
            counts = self.acknowledged()
        return counts

    def leases(self) -> dict[str, dict[str, Any]]:
        """Every mailbox's lease now: owner, token, acquired_at, live."""
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(self.server.dsn(), row_factory=dict_row) as conn:
            rows = conn.execute(
                f'SELECT mailbox, owner, token, acquired_at, expires_at > clock_timestamp() AS live FROM "{self.schema}".leases'
            ).fetchall()
        return {r["mailbox"]: r for r in rows}
