"""Graph-only behaviour of the adapter over HTTPS against the sandbox: sign-in, resync, ids, pacing.

The contract tests (`tests/integration/test_acknowledge_loop.py`) run for Graph
as well; these cover what only the Graph backend has: msal with a secret or a
certificate, refused credentials, lost delta tokens, revoked tokens, immutable
ids across a move and the send-rate limit.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from exchange_sandbox import GraphSandbox, SandboxHandle, serve_graph_tls, start_sandbox
from topcontact_mail.adapters.graph import CredentialsRejected, GraphMailbox, connect
from topcontact_mail.adapters.sqlite_store import SqliteStore
from topcontact_mail.config import ConnectionSettings, GraphSettings, ServiceSettings, Settings
from topcontact_mail.entrypoints.daemon import Daemon
from topcontact_mail.entrypoints.wiring import build_service
from topcontact_mail.logs import configure_logging
from topcontact_mail.ports import Mark, WatermarkExpired

pytestmark = pytest.mark.integration

SHARED = "klantcontact@woonservice.example"
ROOT = Path(__file__).resolve().parents[3]
AMS = dt.timezone(dt.timedelta(hours=1))


@dataclass
class Rig:
    sandbox: SandboxHandle
    graph: GraphSandbox
    tmp: Path

    def settings(self, **graph: Any) -> Settings:
        config = self.graph.app.config
        values: dict[str, Any] = {
            "tenant_id": config.tenant_id,
            "client_id": config.apps[0].client_id,
            "client_secret": SecretStr(config.apps[0].client_secret or ""),
            "authority_url": self.graph.base_url,
            "graph_url": self.graph.base_url,
            "ca_file": self.graph.ca_file,
            "send_rate_per_minute": 0,
            "retry_wait_seconds": 0.1,
        }
        values.update(graph)
        connection = ConnectionSettings(
            backend="graph", shared_mailbox=SHARED, graph=GraphSettings(**values)
        )
        return Settings().model_copy(
            update={
                "connection": connection,
                "service": ServiceSettings(state_dir=self.tmp / "state"),
            }
        )

    def control(self, action: str, payload: dict[str, Any]) -> Any:
        answer = requests.post(
            f"{self.graph.base_url}/_sandbox/graph/{action}",
            json=payload,
            verify=str(self.graph.ca_file),
            timeout=10,
        )
        answer.raise_for_status()
        return answer.json()

    def deliver(self, n: int) -> None:
        day = dt.datetime(2026, 11, 23, 9, 0, tzinfo=AMS) + dt.timedelta(minutes=n)
        raw = (
            f"From: Huurder {n} <huurder{n}@example.nl>\r\nTo: {SHARED}\r\n"
            f"Subject: Vraag {n}\r\nDate: {email.utils.format_datetime(day)}\r\n"
            f"Message-ID: <graph-{n}@example.nl>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            "Beste mensen, dit is mijn vraag. Met vriendelijke groet.\r\n"
        ).encode()
        self.sandbox.store.deliver(SHARED, raw, received=day)

    def drain(self, settings: Settings, mailbox: GraphMailbox) -> None:
        store = SqliteStore(settings.service.state_dir / "topcontact.sqlite3")
        try:
            Daemon(settings, build_service(settings, mailbox, store), mailbox).drain(60)
        finally:
            store.close()

    def acknowledged(self) -> list[str]:
        return sorted(i.in_reply_to or "" for i in self.sandbox.store.items(SHARED, "sentitems"))


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    sandbox = start_sandbox(state_dir=tmp_path / "sandbox")
    graph = serve_graph_tls(sandbox.server, tls_dir=tmp_path / "tls")
    yield Rig(sandbox, graph, tmp_path)
    graph.stop()
    sandbox.stop()


def _certificate(tmp: Path) -> tuple[Path, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "topcontact-mail test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path = tmp / "app.pem"
    path.write_text(key_pem + cert_pem)
    return path, cert_pem


def test_a_certificate_credential_signs_in_and_the_backlog_is_acknowledged(rig: Rig) -> None:
    path, cert_pem = _certificate(rig.tmp)
    client_id = rig.graph.app.config.apps[0].client_id
    rig.control("certificates", {"client_id": client_id, "certificate": cert_pem})
    for n in range(3):
        rig.deliver(n)
    settings = rig.settings(client_secret=None, certificate_path=path)

    rig.drain(settings, connect(settings))

    assert rig.acknowledged() == [f"<graph-{n}@example.nl>" for n in range(3)]


def test_an_expired_secret_is_reported_loudly_with_its_aadsts_code(rig: Rig) -> None:
    rig.control("revoke", {"mode": "secret_expired"})
    out = io.StringIO()
    configure_logging("info", stream=out)

    with pytest.raises(CredentialsRejected) as caught:
        connect(rig.settings())

    assert caught.value.code == "7000222"
    errors = [json.loads(line) for line in out.getvalue().splitlines() if '"error"' in line]
    assert any(e.get("aadsts") == "AADSTS7000222" for e in errors)
    secret = rig.graph.app.config.apps[0].client_secret or "?"
    assert secret not in out.getvalue()


def test_revoked_tokens_are_replaced_without_failing_a_request(rig: Rig) -> None:
    rig.deliver(1)
    settings = rig.settings()
    mailbox = connect(settings)
    rig.control("revoke", {"mode": "tokens"})

    page = mailbox.fetch_changes(None)

    assert len(page.messages) == 1


def test_a_lost_delta_token_restarts_a_full_sync_without_acknowledging_twice(rig: Rig) -> None:
    for n in range(4):
        rig.deliver(n)
    settings = rig.settings()
    mailbox = connect(settings)
    rig.drain(settings, mailbox)
    rig.control("expire-delta", {})
    rig.deliver(4)

    rig.drain(settings, mailbox)

    assert rig.acknowledged() == [f"<graph-{n}@example.nl>" for n in range(5)]


def test_a_delta_link_graph_forgot_raises_watermark_expired(rig: Rig) -> None:
    mailbox = connect(rig.settings())
    link = mailbox.fetch_changes(None).watermark
    rig.control("expire-delta", {})

    with pytest.raises(WatermarkExpired):
        mailbox.fetch_changes(link)


def test_an_immutable_id_still_names_the_message_after_staff_move_it(rig: Rig) -> None:
    rig.deliver(1)
    mailbox = connect(rig.settings())
    (fetched,) = mailbox.fetch_changes(None).messages
    item_id = fetched.message.item_id or ""
    (stored,) = rig.sandbox.store.items(SHARED, "inbox")
    rig.sandbox.store.move(stored.id, "deleteditems")

    (outcome,) = mailbox.mark([Mark(item_id=item_id, marker="{}", category="Top Contact")])

    assert outcome.ok
    (moved,) = rig.sandbox.store.items(SHARED, "deleteditems")
    assert moved.categories == ("Top Contact",)
