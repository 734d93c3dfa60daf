"""The one launcher of the sandbox Exchange server (a test double): ``exchange-sandbox serve|deliver``.

The same click group is mounted by the product as ``topcontact-mail sandbox ...`` and runs
as ``python -m exchange_sandbox``.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType
from urllib.parse import quote

import click
import requests

from exchange_sandbox.config import ConfigError, load_config
from exchange_sandbox.faults import FaultSpecError, parse_faults
from exchange_sandbox.graph.mount import serve_graph_tls
from exchange_sandbox.server import build_server

DEFAULT_URL = "http://127.0.0.1:8765"


@click.group(name="sandbox")
def sandbox_group() -> None:
    """Sandbox Exchange server: a TEST DOUBLE for tests and demos, never a production option."""


@sandbox_group.command()
@click.option("--port", default=8765, show_default=True, help="TCP port (0 picks a free one).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--state",
    "state_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the SQLite state (and the TLS files of --graph-port, in tls/); "
    "without it everything lives in memory and the TLS files in a temporary directory.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Sandbox TOML (mailboxes, users, rights, [graph] tenant and apps); "
    "default: the shipped default.toml.",
)
@click.option(
    "--latency", default=0, show_default=True, help="Milliseconds added to every request."
)
@click.option(
    "--faults",
    default="",
    help="Fault injection, e.g. 'server_busy=0.2,http503=0.1,drop=0.05,ops=CreateItem+UpdateItem'.",
)
@click.option(
    "--graph-port",
    type=int,
    default=None,
    help="Also serve Microsoft Graph and the Entra ID token endpoint over HTTPS on this port "
    "(msal needs https; 0 picks one).",
)
def serve(
    port: int,
    host: str,
    state_dir: Path | None,
    config_file: Path | None,
    latency: int,
    faults: str,
    graph_port: int | None,
) -> None:
    """Run the sandbox Exchange server (a test double) until interrupted.

    EWS, Graph and the control endpoints answer on --port (plain HTTP); with --graph-port,
    Graph and the Entra ID token endpoint also answer over HTTPS, which msal requires.
    """
    try:
        config = load_config(config_file)
        parsed = parse_faults(faults)
    except (ConfigError, FaultSpecError) as exc:
        raise click.BadParameter(str(exc)) from exc
    server = build_server(config, state_dir, host, port, latency, parsed)
    bound_host, bound_port = server.server_address[:2]
    base = f"http://{bound_host!s}:{bound_port}"
    click.echo(f"Sandbox Exchange (TEST DOUBLE) listening on {base}/EWS/Exchange.asmx")
    click.echo(
        f"State: {state_dir or 'in memory'}; mailboxes: "
        + ", ".join(m.address for m in config.mailboxes)
    )
    graph = None
    if graph_port is not None:
        tls_dir = state_dir / "tls" if state_dir is not None else None
        graph = serve_graph_tls(server, host=host, port=graph_port, tls_dir=tls_dir)
        click.echo(f"Graph (TEST DOUBLE): {graph.graph_url}  (also {base}/v1.0)")
        click.echo(f"Authority: {graph.authority}  (msal: instance_discovery=False)")
        click.echo(f"CA certificate to trust: {graph.ca_file}")
        for app in graph.app.config.apps:
            click.echo(f"App: client_id={app.client_id} roles={','.join(app.roles)}")

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if graph is not None:
            graph.stop()
        server.server_close()
        server.store.close()


@sandbox_group.command()
@click.option("--mailbox", required=True, help="SMTP address of the sandbox mailbox to deliver to.")
@click.option("--received", default=None, help="Arrival time, ISO 8601 with offset (default: now).")
@click.option(
    "--url", default=DEFAULT_URL, show_default=True, help="Base URL of the running sandbox."
)
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def deliver(mailbox: str, received: str | None, url: str, files: tuple[Path, ...]) -> None:
    """Deliver .eml files into a mailbox of a running sandbox (test double) as transport would."""
    target = f"{url.rstrip('/')}/_sandbox/deliver?mailbox={quote(mailbox)}"
    if received:
        target += f"&received={quote(received)}"
    for path in files:
        try:
            resp = requests.post(target, data=path.read_bytes(), timeout=30)
        except requests.ConnectionError:
            click.echo(
                f"No sandbox answers at {url}; start one with 'topcontact-mail sandbox serve'.",
                err=True,
            )
            sys.exit(2)
        if resp.status_code != 200:
            click.echo(f"{path}: {resp.status_code} {resp.text.strip()}", err=True)
            sys.exit(1)
        click.echo(f"{path}: delivered as {resp.json()['id']}")


def main() -> None:
    """`exchange-sandbox serve|deliver`: the same commands as `topcontact-mail sandbox ...`."""
    sandbox_group(prog_name="exchange-sandbox")
