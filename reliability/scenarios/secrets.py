"""Secrets: nothing secret in the logs, `/health`, `/metrics`, command output or sent mail; TLS
verified by default.

A daemon runs at debug level with the health endpoint on, through faults, a credential
that stops working (Graph: tokens revoked; EWS: the password refused for a while) and a
mail storm (so alert mails go out). Everything it wrote, served and sent, and the output
of `check-config` and `test-connection`, is searched for the configured password or
client secret (also base64-encoded as in a Basic header), every access token the
sandbox's token endpoint issued, and the tenants' message texts. Then a server whose
certificate no trusted CA signed (the sandbox over HTTPS, no `ca_file`) must be refused
with a clear error, and accepted once the CA file is configured (Graph; EWS has no
`ca_file` setting and is only checked for the refusal).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import re
import secrets as random_secrets
import socket
import ssl
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from exchange_sandbox.graph.server import make_tls_files
from reliability.harness import (
    ADMIN,
    SHARED,
    Instance,
    Rows,
    Site,
    free_port,
    person_mail,
    start_of_run,
    tracebacks,
    wait_for,
)

FULL = {"people": 40, "cap": 25}
QUICK = {"people": 8, "cap": 5}


def run(backend: str, full: bool, workdir: Path) -> Rows:
    size: dict[str, Any] = FULL if full else QUICK
    rows = Rows("secrets", backend)
    began = time.monotonic()
    site = Site(backend, workdir)
    try:
        site.submission(500, 500, "outbox")
        port = free_port()
        instance = site.instance(
            extra=f"[screening]\nglobal_per_hour = {size['cap']}\n",
            service={
                "health_listen": f"127.0.0.1:{port}",
                "log_level": "debug",
                "admin_address": ADMIN,
            },
            small_batches=True,
        )
        texts = [
            f"Mijn IBAN is NL{n:02d}ABNA04171643{n:02d}, code GEHEIM-{random_secrets.token_hex(6)}"
            for n in range(size["people"])
        ]
        start = start_of_run()
        for n, text in enumerate(texts):
            site.deliver(person_mail(n, start, prefix="secret", body=text))
        answers: list[str] = []
        stop = threading.Event()
        poller = threading.Thread(target=poll, args=(port, answers, stop))
        instance.start()
        poller.start()
        try:
            time.sleep(2)
            site.faults("server_busy=0.15,http500=0.1,lost=0.1,backoff_ms=500,seed=11")
            time.sleep(4)
            refuse_credentials(site, seconds=6)
            site.faults("")
            wait_for(lambda: len(instance.records()) >= size["people"], 120, 1)
            time.sleep(4)
        finally:
            stop.set()
            poller.join()
            code = instance.stop()
        commands = command_output(instance)
        site.flush_transport()
        mail = b"".join(
            item.mime or b""
            for box in (SHARED, ADMIN)
            for folder in ("sentitems", "inbox", "drafts", "deleteditems")
            for item in site.store.items(box, folder)
            if box == ADMIN or folder != "inbox"
        )
        secret_values = [*site.secrets().values(), *site.tokens]
        user = site.handle.server.config.users[0]
        secret_values.append(base64.b64encode(f"{user.name}:{user.password}".encode()).decode())
        log = instance.log_text()
        places = {
            "log": log,
            "/health and /metrics": "\n".join(answers),
            "check-config and test-connection output": commands,
            "sent mail (acknowledgements, alerts)": mail.decode("utf-8", "replace"),
        }
        for place, text in places.items():
            rows.zero(f"{place}: passwords, secrets, tokens", found(text, secret_values))
            rows.zero(
                f"{place}: tenants' message text", found(text, texts) + found(text, ["GEHEIM-"])
            )
        rows.info("tokens issued and searched for", len(site.tokens))
        rows.info(
            "log lines / /health and /metrics answers", f"{log.count(chr(10))} / {len(answers)}"
        )
        rows.zero("tracebacks in the log", tracebacks(log))
        rows.exactly("daemon exit status", code, 0)
        tls_checks(site, instance, rows, len(instance.records()))
        rows.info("seconds", round(time.monotonic() - began))
        return rows
    finally:
        site.stop()


def found(text: str, values: list[str]) -> int:
    return sum(text.count(value) for value in values if value)


def poll(port: int, answers: list[str], stop: threading.Event) -> None:
    while not stop.is_set():
        for path in ("/health", "/metrics"):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as answer:
                    answers.append(answer.read().decode("utf-8", "replace"))
            except OSError as error:  # 503 while degraded: its body counts too
                body = getattr(error, "read", None)
                if body is not None:
                    answers.append(body().decode("utf-8", "replace"))
        stop.wait(0.5)


def refuse_credentials(site: Site, seconds: float) -> None:
    """The credential stops working for a while (Graph: revoked tokens and secret)."""
    if site.graph is not None:
        app = site.graph.app
        client_id = app.config.apps[0].client_id
        app.tokens.revoke(client_id, "tokens")
        app.tokens.revoke(client_id, "secret_expired")
        time.sleep(seconds)
        app.tokens.restore(client_id)
        return
    server = site.handle.server
    config = server.config
    server.config = dataclasses.replace(
        config, users=tuple(dataclasses.replace(u, password="Changed-2026!") for u in config.users)
    )
    for connection in list(server.open_connections):
        with contextlib.suppress(OSError):
            connection.shutdown(2)
    time.sleep(seconds)
    server.config = config


def command_output(instance: Instance) -> str:
    out = []
    for args in (("check-config",), ("test-connection", "--json")):
        result = subprocess.run(
            instance.command(*args), capture_output=True, text=True, timeout=120, check=False
        )
        out.append(result.stdout + result.stderr)
    return "\n".join(out)


CLEAR_TLS_ERROR = re.compile(
    r"certificate.*CERTIFICATE_VERIFY_FAILED|CERTIFICATE_VERIFY_FAILED.*certificate"
)


def tls_checks(site: Site, instance: Instance, rows: Rows, handled_with_ca: int) -> None:
    text = instance.config_file.read_text("utf-8")
    rows.exactly(
        "TLS verification without a setting", "on" if "verify_tls" not in text else "set", "on"
    )
    if site.graph is not None:
        refused, clear, handled = try_untrusted(
            instance, re.sub(r"^ca_file = .*\n", "", text, flags=re.M)
        )
        rows.exactly(
            "self-signed server without ca_file: refused (nothing handled)",
            refused and handled == 0,
            True,
        )
        rows.exactly("  ... with a clear error naming the certificate, no traceback", clear, True)
        rows.exactly(
            "  ... the same server with ca_file configured: accepted", handled_with_ca > 0, True
        )
        return
    with tls_proxy(site) as url:
        untrusted = re.sub(
            r"^service_endpoint = .*\n", f'service_endpoint = "{url}"\n', text, flags=re.M
        )
        refused, clear, handled = try_untrusted(instance, untrusted)
        rows.exactly(
            "self-signed server: refused (nothing handled)", refused and handled == 0, True
        )
        rows.exactly("  ... with a clear error naming the certificate, no traceback", clear, True)


def try_untrusted(instance: Instance, text: str) -> tuple[bool, bool, int]:
    """Run a daemon on `text` until it logs its error: (refused, clearly, messages handled)."""
    state = instance.dir / "tls-state"
    path = instance.dir / "tls-check.toml"
    path.write_text(text.replace(str(instance.state_dir), str(state)), "utf-8")
    log_path = instance.dir / "tls-refused.log"
    command = [*instance.command("run")[:-1], str(path)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
    wait_for(lambda: "CERTIFICATE_VERIFY_FAILED" in log_path.read_text("utf-8", "replace"), 60, 0.2)
    time.sleep(1)
    process.terminate()
    process.wait(timeout=30)
    log = log_path.read_text("utf-8", "replace")
    errors = [line for line in log.splitlines() if '"level": "' in line]
    clear = any(CLEAR_TLS_ERROR.search(line) for line in errors) and tracebacks(log) == 0
    handled = 0
    database = state / "topcontact.sqlite3"
    if database.exists():
        import sqlite3

        with contextlib.closing(sqlite3.connect(database)) as db:
            handled = int(db.execute("SELECT count(*) FROM messages").fetchone()[0])
    return bool(errors), clear, handled


@contextlib.contextmanager
def tls_proxy(site: Site) -> Any:
    """HTTPS in front of the sandbox's EWS, with a certificate of a CA nobody trusts."""
    files = make_tls_files(site.workdir / "ews-tls")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.server_cert, files.server_key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    upstream = site.handle.server.server_address[:2]
    stop = threading.Event()

    def pipe(source: Any, target: Any) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.close()

    def serve() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                secure = context.wrap_socket(client, server_side=True)
            except (OSError, ssl.SSLError):
                client.close()  # the client refused our certificate: as it should
                continue
            back = socket.create_connection(upstream)
            threading.Thread(target=pipe, args=(secure, back), daemon=True).start()
            threading.Thread(target=pipe, args=(back, secure), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{port}/EWS/Exchange.asmx"
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=2)
