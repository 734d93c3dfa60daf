"""systemd's notify protocol: readiness, status, stopping, and the watchdog's heartbeat.

With `Type=notify` systemd waits for `READY=1` before it counts the service as
started; with `WatchdogSec=` it restarts a service that stops sending
`WATCHDOG=1` — a hung process, not only a dead one. The messages are datagrams
to the socket in `$NOTIFY_SOCKET` (sd_notify(3)); without that variable (not
under systemd, or `Type=simple`) every call does nothing.

The heartbeat is sent from the daemon's own loop, never from a helper thread:
a loop that hangs must stop the heartbeat. With several mailboxes each loop
beats to a `LoopBeat`, and the process sends `WATCHDOG=1` only while every
running loop has beaten within the watchdog's time. A reload (SIGHUP) is told as
`RELOADING=1` … `READY=1`.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping


class Notifier:
    """Sends sd_notify messages when systemd asked for them; silent otherwise."""

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        env = os.environ if environ is None else environ
        self._address = _socket_address(env.get("NOTIFY_SOCKET", ""))
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        watched = usec.isdigit() and (not pid or pid == str(os.getpid()))
        #: Seconds between heartbeats: half the watchdog's timeout, as sd_watchdog_enabled(3) advises.
        self.interval = int(usec) / 2_000_000 if watched else None
        self._clock = clock
        self._last_beat = float("-inf")
        self._ready = False

    @property
    def active(self) -> bool:
        return self._address is not None

    def _send(self, message: str) -> None:
        if self._address is None:
            return
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            # Never wait: a listener that does not read (its queue holds ten datagrams) must
            # not hang the service's loop; a heartbeat lost that way is followed by the next.
            sock.setblocking(False)
            try:
                sock.connect(self._address)
                sock.sendall(message.encode("utf-8"))
            except OSError:
                pass  # systemd went away (shutdown) or is not reading: nothing to tell

    def ready(self, status: str = "") -> None:
        """READY=1 the first time (later calls only update the status)."""
        if self._ready:
            if status:
                self.status(status)
            return
        self._ready = True
        self._send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def status(self, status: str) -> None:
        self._send(f"STATUS={status}")

    def reloading(self, status: str = "reloading the configuration") -> None:
        """RELOADING=1 (with the moment, as `Type=notify-reload` wants it): a reload began."""
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self._send(f"RELOADING=1\nMONOTONIC_USEC={usec}\nSTATUS={status}")

    def reloaded(self, status: str = "") -> None:
        """READY=1 again: the reload is over (applied or refused)."""
        self._ready = True
        self._send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def stopping(self) -> None:
        self._send("STOPPING=1")

    def heartbeat(self) -> None:
        """WATCHDOG=1, at most once per interval (cheap to call from every loop turn)."""
        if self.interval is None:
            return
        now = self._clock()
        if now - self._last_beat >= self.interval:
            self._last_beat = now
            self._send("WATCHDOG=1")


def _socket_address(value: str) -> str | None:
    if not value:
        return None
    if value.startswith("@"):
        return "\0" + value[1:]  # an abstract socket
    return value if value.startswith("/") else None


class LoopBeat(Notifier):
    """What one mailbox's loop tells, kept for the process to pass on (several mailboxes).

    The process speaks to systemd once for all its mailboxes: it sends the watchdog's
    heartbeat only while every loop has beaten lately, and sums their statuses up.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(environ={}, clock=clock)
        self.last_beat = clock()
        self.last_status = ""
        self.ended = False

    def ready(self, status: str = "") -> None:
        self.beat()
        if status:
            self.last_status = status

    def status(self, status: str) -> None:
        self.last_status = status

    def stopping(self) -> None:
        self.ended = True

    def heartbeat(self) -> None:
        self.beat()

    def beat(self) -> None:
        self.last_beat = self._clock()
        self.ended = False
