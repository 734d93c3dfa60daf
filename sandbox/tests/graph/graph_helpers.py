"""Helpers and fixtures of the Graph sandbox tests (conftest.py registers the fixtures)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from exchange_sandbox.graph import AppCertificate, AppRegistration, GraphApp, GraphConfig
from exchange_sandbox.store import MailStore

TENANT = "5f2c6d1e-8a44-4b6e-9f1a-3c7d2b9e0a61"
CLIENT_ID = "b7e1c0de-0000-4000-8000-00000000a001"
SECRET = "sandbox-secret-~Qx8"
LIMITED_ID = "b7e1c0de-0000-4000-8000-00000000a002"
SHARED = "klantcontact@woonservice.example"
JAN = "j.devries@woonservice.example"
ANOUK = "a.bakker@woonservice.example"
CUSTOMER = "huurder@example.org"
EXAMPLES = Path(__file__).parent / "examples"


@dataclass(frozen=True)
class Credential:
    private_pem: str
    cert_pem: str
    sha1: str


@pytest.fixture(scope="session")
def credential() -> Credential:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "topcontact-mail app")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return Credential(
        private_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        sha1=cert.fingerprint(hashes.SHA1()).hex().upper(),
    )


@pytest.fixture
def config(credential: Credential) -> GraphConfig:
    return GraphConfig(
        tenant_id=TENANT,
        apps=(
            AppRegistration(
                client_id=CLIENT_ID,
                name="topcontact-mail",
                client_secret=SECRET,
                certificates=(AppCertificate.from_pem(credential.cert_pem.encode()),),
                mailboxes=(SHARED, JAN, ANOUK),
            ),
            AppRegistration(
                client_id=LIMITED_ID,
                name="read-only reporter",
                client_secret=SECRET,
                roles=("Mail.Read",),
                mailboxes=(SHARED,),
            ),
        ),
    )


@pytest.fixture
def store() -> MailStore:
    mail = MailStore()
    mail.ensure_mailbox(SHARED, "Klantcontact Woonservice")
    mail.ensure_mailbox(JAN, "Jan de Vries")
    mail.ensure_mailbox(ANOUK, "Anouk Bakker")
    return mail


def customer_mail(
    subject: str = "Lekkage in de badkamer",
    sender: str = CUSTOMER,
    to: str = SHARED,
    msgid: str | None = None,
    extra: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Huurder <{sender}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Fri, 27 Nov 2026 09:00:00 +0100"
    msg["Message-ID"] = msgid or f"<{abs(hash((subject, sender)))}@example.org>"
    for key, value in (extra or {}).items():
        msg[key] = value
    msg.set_content("Er lekt water uit het plafond.\n")
    return msg.as_bytes()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


class Client:
    """Calls a GraphApp in-process, as an HTTP front would."""

    def __init__(self, app: GraphApp, token: str) -> None:
        self.app = app
        self.token = token

    def call(
        self,
        method: str,
        url: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
    ) -> Answer:
        parts = urlsplit(url)
        path = (
            parts.path
            if parts.path.startswith("/v1.0") or parts.path.startswith("/_")
            else "/v1.0" + parts.path
        )
        hdrs = {"Host": "graph.sandbox.test", "Authorization": f"Bearer {token or self.token}"}
        raw = b""
        if body is not None:
            if isinstance(body, bytes):
                raw = body
                hdrs["Content-Type"] = "text/plain"
            else:
                raw = json.dumps(body).encode()
                hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        status, out, payload = self.app.handle(method, path, parts.query, hdrs, raw, scheme="https")
        return Answer(status, out, payload)

    def get(self, url: str, **kw: Any) -> Answer:
        return self.call("GET", url, **kw)

    def post(self, url: str, body: Any = None, **kw: Any) -> Answer:
        return self.call("POST", url, body, **kw)

    def patch(self, url: str, body: Any, **kw: Any) -> Answer:
        return self.call("PATCH", url, body, **kw)


def issue_token(app: GraphApp, client_id: str = CLIENT_ID, secret: str = SECRET) -> str:
    form = (
        f"grant_type=client_credentials&client_id={client_id}&client_secret={secret}"
        "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
    ).encode()
    status, _, body = app.handle(
        "POST", f"/{TENANT}/oauth2/v2.0/token", "", {"Host": "login.sandbox.test"}, form, "https"
    )
    assert status == 200, body
    return str(json.loads(body)["access_token"])


@pytest.fixture
def app(store: MailStore, config: GraphConfig) -> GraphApp:
    return GraphApp(store, config)


@pytest.fixture
def client(app: GraphApp) -> Client:
    return Client(app, issue_token(app))


def example(name: str) -> dict[str, Any]:
    data = json.loads((EXAMPLES / name).read_text())
    assert data["source"].startswith("https://")
    return dict(data)
