"""HTTPS listener of the sandbox Graph endpoint (a test double), with a throw-away certificate.

``msal`` accepts only ``https://`` authorities, so the Graph front listens with TLS: at start
a private CA and a server certificate for ``localhost``/``127.0.0.1`` are generated and the CA
certificate is written to a file that clients pass as ``verify=`` (``requests``) or
``ConfidentialClientApplication(..., verify=...)`` (``msal``). TLS verification stays on.
The same listener serves the Entra ID endpoints (``/{tenant}/oauth2/v2.0/token`` …), the
Graph API (``/v1.0/…``) and the controls (``/_sandbox/graph/…``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import ssl
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from exchange_sandbox.config import GraphConfig
from exchange_sandbox.graph.app import GraphApp
from exchange_sandbox.httpserver import PromptStopHTTPServer
from exchange_sandbox.store import MailStore

Observer = Callable[[str, int], None]  # (operation, status) of every answered request


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    server_cert: Path
    server_key: Path


def make_tls_files(
    directory: Path, hosts: tuple[str, ...] = ("localhost", "127.0.0.1")
) -> TlsFiles:
    """A private CA and a server certificate signed by it, valid for ``hosts``, as PEM files."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "topcontact-mail sandbox CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(
        ca_cert=directory / "graph-sandbox-ca.pem",
        server_cert=directory / "graph-sandbox-server.pem",
        server_key=directory / "graph-sandbox-server.key",
    )
    files.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.server_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.server_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    files.server_key.chmod(0o600)
    return files


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _GraphHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        return  # tests and demos stay quiet; counters are at /_sandbox/graph/stats

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        app = self.server.app
        status, headers, payload = app.handle(
            self.command,
            self.path,
            "",
            dict(self.headers.items()),
            body,
            scheme=self.server.scheme,
        )
        if self.server.observer is not None:
            self.server.observer(app.operation(self.command, self.path), status)
        if status == 0:  # an injected "drop" fault: no answer at all
            self.close_connection = True
            return
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = (
        _serve  # http.server dispatches on do_<METHOD>
    )


class _GraphHTTPServer(PromptStopHTTPServer):
    def __init__(
        self,
        address: tuple[str, int],
        app: GraphApp,
        scheme: str,
        observer: Observer | None = None,
    ) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self.scheme = scheme
        self.observer = observer


@dataclass
class GraphSandbox:
    """A running Graph sandbox: its URLs, the CA file clients verify against, and ``stop()``."""

    app: GraphApp
    host: str
    port: int
    ca_file: Path | None
    _server: _GraphHTTPServer
    _thread: threading.Thread
    #: The temporary folder of the certificate files, removed by ``stop()`` (None: the caller's).
    _tls_temp: Path | None = None

    @property
    def base_url(self) -> str:
        scheme = "https" if self.ca_file is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def authority(self) -> str:
        return f"{self.base_url}/{self.app.config.tenant_id}"

    @property
    def graph_url(self) -> str:
        return f"{self.base_url}/v1.0"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        if self._tls_temp is not None:
            shutil.rmtree(self._tls_temp, ignore_errors=True)


def start_graph_sandbox(
    store: MailStore,
    config: GraphConfig,
    host: str = "127.0.0.1",
    port: int = 0,
    tls_dir: Path | None = None,
    tls: bool = True,
    latency: float = 0.0,
    app: GraphApp | None = None,
    observer: Observer | None = None,
) -> GraphSandbox:
    """Serve a :class:`GraphApp` over HTTPS (default) in a background thread.

    ``port=0`` picks a free port; the certificate files go to ``tls_dir`` (a new temporary
    directory when None) and ``GraphSandbox.ca_file`` names the CA certificate to trust.
    """
    graph = app or GraphApp(store, config)
    if app is None:
        graph.latency = lambda: latency
    server = _GraphHTTPServer((host, port), graph, "https" if tls else "http", observer)
    ca_file: Path | None = None
    temporary: Path | None = None
    if tls:
        if tls_dir is None:
            temporary = directory = Path(tempfile.mkdtemp(prefix="graph-sandbox-tls-"))
        else:
            directory = tls_dir
        files = make_tls_files(directory, (host, "localhost", "127.0.0.1"))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(files.server_cert, files.server_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        ca_file = files.ca_cert
    thread = threading.Thread(target=server.serve_forever, name="graph-sandbox", daemon=True)
    thread.start()
    return GraphSandbox(
        app=graph,
        host=host,
        port=server.server_address[1],
        ca_file=ca_file,
        _server=server,
        _thread=thread,
        _tls_temp=temporary,
    )
