"""The threaded HTTP server under both sandbox listeners (a test double): it stops promptly.

``socketserver`` checks for ``shutdown()`` only between waits of ``poll_interval`` seconds
(0.5 by default), so every stop of an in-process sandbox cost up to half a second; tests
start and stop hundreds. A short poll keeps the stop prompt for a negligible idle cost.
"""

from __future__ import annotations

from http.server import ThreadingHTTPServer

POLL_SECONDS = 0.02


class PromptStopHTTPServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer whose ``serve_forever`` notices ``shutdown()`` within 20 ms."""

    daemon_threads = True

    def serve_forever(self, poll_interval: float = POLL_SECONDS) -> None:
        super().serve_forever(poll_interval)
