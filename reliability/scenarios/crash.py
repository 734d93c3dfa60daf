"""Crash consistency: SIGKILLs at random moments, right after a send among them, mail arriving.

Humans and machines arrive before and between the kills; transport is asynchronous (a
delay with jitter, the message in the Outbox or hidden meanwhile). Each round starts the
daemon and kills it: right after the sandbox carried out a send request (before the
daemon has its answer), at a random moment, or while it starts. A last `run --once`
drains; then every human has exactly one acknowledgement and no machine has one.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path
from typing import Any

from reliability.harness import (
    Rows,
    Site,
    machine_mail,
    person_mail,
    start_of_run,
    tally,
)

FULL = {
    "humans": 500,
    "machines": 100,
    "kills": 50,
    "delay_ms": 2000,
    "jitter_ms": 3000,
    "margin": 10,
}
QUICK = {"humans": 40, "machines": 10, "kills": 6, "delay_ms": 500, "jitter_ms": 1000, "margin": 5}


#: Half the kills right after a send, most others at random, one in ten while starting.
CYCLE = (
    "after a send",
    "at random",
    "after a send",
    "while starting",
    "after a send",
    "at random",
    "after a send",
    "at random",
    "after a send",
    "at random",
)


class SendTrap:
    """Kills the daemon the moment the sandbox has carried out its n-th send request (a batch
    of acknowledgements is one request)."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.lock = threading.Lock()
        self.pid: int | None = None
        self.left = 0
        self.fired = threading.Event()
        server = site.handle.server
        if site.backend == "ews":
            server.recorder = self._ews
        else:
            app = server.graph
            lost = app.lost_hook

            def hook(operations: list[str]) -> bool:
                if any("reply" in op or "send" in op for op in operations):
                    self._sent()
                return bool(lost(operations))

            app.lost_hook = hook

    def arm(self, pid: int, after_sends: int) -> None:
        with self.lock:
            self.pid, self.left = pid, after_sends
            self.fired.clear()

    def disarm(self) -> None:
        with self.lock:
            self.pid = None

    def _ews(self, operation: str, request: bytes, answer: bytes) -> None:
        if operation in ("CreateItem", "SendItem") and b"Send" in request[:4000]:
            self._sent()

    def _sent(self) -> None:
        with self.lock:
            if self.pid is None:
                return
            self.left -= 1
            if self.left > 0:
                return
            os.kill(self.pid, signal.SIGKILL)  # the answer to this send never reaches it
            self.pid = None
            self.fired.set()


def run(backend: str, full: bool, workdir: Path) -> Rows:
    size: dict[str, Any] = FULL if full else QUICK
    rows = Rows("crash", backend)
    rng = random.Random()
    site = Site(backend, workdir)
    try:
        site.submission(size["delay_ms"], size["jitter_ms"], "outbox")
        # The in-doubt window covers transport's longest delay, with room for a loaded machine.
        instance = site.instance(
            in_doubt=(size["delay_ms"] + size["jitter_ms"]) / 1000 + size["margin"]
        )
        trap = SendTrap(site)
        began = time.monotonic()
        people = [f"<pg-{n}@example.nl>" for n in range(size["humans"])]
        machines = [f"<pgm-{n}@machines.example>" for n in range(size["machines"])]
        queue = [("h", n) for n in range(size["humans"])] + [
            ("m", n) for n in range(size["machines"])
        ]
        rng.shuffle(queue)
        first = len(queue) * 2 // 5
        start = start_of_run()
        deliver(site, queue[:first], start)
        rest = queue[first:]
        per_round = -(-len(rest) // size["kills"])
        moments: dict[str, int] = {"after a send": 0, "at random": 0, "while starting": 0}
        for round_ in range(size["kills"]):
            deliver(site, rest[round_ * per_round : (round_ + 1) * per_round], start)
            site.submission(
                size["delay_ms"], size["jitter_ms"], "hidden" if round_ % 2 else "outbox"
            )
            moment = CYCLE[round_ % len(CYCLE)]
            process = instance.start()
            if moment == "after a send":
                # The daemon's first send request: a round's few messages go out in one batch
                # (one CreateItem, one $batch), so a later one seldom comes before the timeout.
                trap.arm(process.pid, 1)
                if not trap.fired.wait(12):
                    moment = "at random"  # nothing left to send this round
                trap.disarm()
            elif moment == "at random":
                time.sleep(rng.uniform(0.3, 4.0))
            else:
                time.sleep(rng.uniform(0.0, 0.8))
            moments[moment] += 1
            instance.kill()
        drained = instance.drain()
        elapsed = time.monotonic() - began
        counted = tally(site)
        rows.zero("acknowledgements missing", counted.missing(people))
        rows.zero("acknowledgements doubled", counted.doubled())
        rows.zero("machines acknowledged", counted.wrong(machines))
        rows.exactly("SIGKILLs", sum(moments.values()), size["kills"])
        rows.info(
            "kills right after a send / at random / while starting",
            "/".join(str(v) for v in moments.values()),
        )
        rows.exactly("final drain exit status", drained, 0)
        rows.info("messages (humans + machines)", f"{size['humans']} + {size['machines']}")
        rows.info("seconds", round(elapsed))
        return rows
    finally:
        site.stop()


def deliver(site: Site, batch: list[tuple[str, int]], start: Any) -> None:
    for kind, n in batch:
        if kind == "h":
            site.deliver(person_mail(n, start))
        else:
            site.deliver(machine_mail(n))
