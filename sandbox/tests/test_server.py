"""The in-process sandbox server: it stops promptly, the Graph HTTPS listener with it."""

from __future__ import annotations

import time

import pytest
import requests

from exchange_sandbox.graph.mount import serve_graph_tls
from exchange_sandbox.server import start_sandbox
from sandbox_helpers import SHARED, eml


def test_stopping_the_sandbox_and_its_graph_listener_takes_no_poll_interval() -> None:
    # socketserver's default poll interval made every stop wait up to half a second per
    # listener; tests start and stop hundreds of sandboxes.
    handle = start_sandbox()
    graph = serve_graph_tls(handle.server)
    requests.post(
        f"{handle.url}/_sandbox/deliver", params={"mailbox": SHARED}, data=eml(), timeout=10
    ).raise_for_status()
    started = time.perf_counter()
    graph.stop()
    handle.stop()
    assert time.perf_counter() - started < 0.4
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{handle.url}/_sandbox/health", timeout=2)
