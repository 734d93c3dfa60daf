"""Soak: the daemon under a steady stream of mail; its memory and open files must stay flat.

Mail arrives at a fixed rate (people, a machine in ten) for the run's length while the
daemon works; its resident memory (VmRSS) and open file descriptors are read from /proc
every few seconds. The criterion: after a warm-up (the first quarter of the run), the
median of the last fifth of the samples is at most 10 % (RSS) and 5 descriptors above
the median of the first fifth. Every person still gets exactly one acknowledgement.
"""

from __future__ import annotations

import os
import statistics
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
    wait_for,
)

FULL = {"seconds": 600, "rate": 5.0, "sample": 5.0}
QUICK = {"seconds": 24, "rate": 4.0, "sample": 1.0}
RSS_GROWTH = 0.10
FD_GROWTH = 5


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def run(backend: str, full: bool, workdir: Path) -> Rows:
    size: dict[str, Any] = FULL if full else QUICK
    rows = Rows("soak", backend)
    site = Site(backend, workdir)
    began = time.monotonic()
    try:
        site.submission(300, 300, "outbox")
        instance = site.instance()
        process = instance.start()
        samples: list[tuple[float, int, int]] = []
        people: list[str] = []
        machines: list[str] = []
        start = start_of_run()
        t0 = time.monotonic()
        next_sample = t0
        n = 0
        while (now := time.monotonic()) < t0 + size["seconds"]:
            due = int((now - t0) * size["rate"])
            while n < due:
                if n % 10 == 9:
                    site.deliver(machine_mail(n, prefix="soakm"))
                    machines.append(f"<soakm-{n}@machines.example>")
                else:
                    site.deliver(person_mail(n, start, prefix="soak"))
                    people.append(f"<soak-{n}@example.nl>")
                n += 1
            if now >= next_sample and process.poll() is None:
                samples.append((now - t0, rss_kb(process.pid), open_files(process.pid)))
                next_sample += size["sample"]
            time.sleep(0.05)
        wait_for(lambda: len(instance.records()) >= n, 300, 1)
        alive = process.poll() is None
        code = instance.stop()
        counted = tally(site)

        after = [s for s in samples if s[0] >= size["seconds"] / 4]
        fifth = max(1, len(after) // 5)
        rss_first = statistics.median(s[1] for s in after[:fifth]) / 1024
        rss_last = statistics.median(s[1] for s in after[-fifth:]) / 1024
        fd_first = statistics.median(s[2] for s in after[:fifth])
        fd_last = statistics.median(s[2] for s in after[-fifth:])
        rows.info("run, messages delivered", f"{size['seconds']} s, {n} ({size['rate']:g}/s)")
        rows.check(
            "RSS after warm-up, MB (first fifth -> last fifth)",
            f"{rss_first:.1f} -> {rss_last:.1f}",
            f"<= +{RSS_GROWTH:.0%}",
            rss_last <= rss_first * (1 + RSS_GROWTH),
        )
        rows.check(
            "open file descriptors after warm-up (first -> last fifth)",
            f"{fd_first:g} -> {fd_last:g}",
            f"<= +{FD_GROWTH}",
            fd_last <= fd_first + FD_GROWTH,
        )
        rows.info(
            "RSS peak, MB / samples", f"{max(s[1] for s in samples) / 1024:.1f} / {len(samples)}"
        )
        rows.zero("acknowledgements missing", counted.missing(people))
        rows.zero("acknowledgements doubled", counted.doubled())
        rows.zero("machines acknowledged", counted.wrong(machines))
        rows.exactly("daemon ran throughout and exited 0", (alive, code), (True, 0))
        rows.info("seconds", round(time.monotonic() - began))
        return rows
    finally:
        site.stop()
