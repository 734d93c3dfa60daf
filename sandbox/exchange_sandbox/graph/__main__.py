"""Runs the sandbox Exchange server (a test double) with its Graph front on an HTTPS port.

``python -m exchange_sandbox.graph --port 8765 --graph-port 8766`` starts the EWS
sandbox (plain HTTP, also answering Graph there) and an HTTPS listener for Graph and the
Entra ID token endpoint over the same store (msal accepts only https authorities). It prints
the authority, the Graph base URL, the CA file to trust and the shipped app registration.
"""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType

import click

from exchange_sandbox.config import ConfigError, load_config
from exchange_sandbox.faults import FaultSpecError, parse_faults
from exchange_sandbox.graph.mount import mount_graph, serve_graph_tls
from exchange_sandbox.server import build_server


@click.command()
@click.option("--port", default=8765, show_default=True, help="HTTP port (EWS and Graph).")
@click.option("--graph-port", default=8766, show_default=True, help="HTTPS port (Graph, tokens).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--state",
    "state_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the SQLite state and the TLS files; default: in memory / a temp dir.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Sandbox TOML; default: the shipped default.toml.",
)
@click.option("--latency", default=0, show_default=True, help="Milliseconds added per request.")
@click.option("--faults", default="", help="Fault spec, e.g. 'server_busy=0.2,http503=0.1'.")
def main(
    port: int,
    graph_port: int,
    host: str,
    state_dir: Path | None,
    config_file: Path | None,
    latency: int,
    faults: str,
) -> None:
    """Sandbox Exchange with Microsoft Graph: a TEST DOUBLE, never a production option."""
    try:
        config = load_config(config_file)
        parsed = parse_faults(faults)
    except (ConfigError, FaultSpecError) as exc:
        raise click.BadParameter(str(exc)) from exc
    server = build_server(config, state_dir, host, port, latency, parsed)
    mount_graph(server)
    tls = serve_graph_tls(
        server, host, graph_port, tls_dir=state_dir / "tls" if state_dir is not None else None
    )
    bound_host, bound_port = server.server_address[:2]
    click.echo(
        f"Sandbox Exchange (TEST DOUBLE): EWS http://{bound_host!s}:{bound_port}/EWS/Exchange.asmx"
    )
    click.echo(f"Graph: {tls.graph_url}  (also http://{bound_host!s}:{bound_port}/v1.0)")
    click.echo(f"Authority: {tls.authority}  (msal: instance_discovery=False)")
    click.echo(f"CA certificate to trust: {tls.ca_file}")
    for app in config.graph.apps:
        click.echo(f"App: client_id={app.client_id} roles={','.join(app.roles)}")

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        tls.stop()
        server.server_close()
        server.store.close()


if __name__ == "__main__":
    main()
