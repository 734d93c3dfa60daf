"""Faults: 30 % of requests answered with each fault kind, in daemon mode and with `--once`.

One phase per (fault, mode), each with mail of its own, transport asynchronous: busy with
a back-off hint (EWS ErrorServerBusy, Graph 429 with Retry-After), 500, 503, answers
slower than the client waits, dropped connections, lost answers; credentials that stop
working mid-run (Graph: every access token revoked, or tokens that live five seconds;
EWS: the password refused, then accepted again) and the state file deleted mid-run.
After each phase every person has exactly one acknowledgement; over the whole run no
retry came before the back-off the server asked for (the sandbox's request log).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reliability.harness import (
    SHARED,
    Instance,
    Rows,
    Site,
    machine_mail,
    person_mail,
    start_of_run,
    tally,
    wait_for,
)

RATE = 0.3
FAULTS = ("server_busy", "http503", "http500", "slow", "drop", "lost")
SPECIAL = ("credentials", "state deleted")
#: The client gives up after 2 s; a slow answer comes after 3 s.
CLIENT_TIMEOUT = 2.0
SLOW_MS = 3000
BACKOFF_MS = 1500
FULL = {"humans": 20, "machines": 4, "modes": ("daemon", "once"), "settle": 180, "rate": RATE}
# The short version: a fifth of the requests (a slow step holds up a whole Graph $batch, so
# at 30 % a drain in make test would take minutes).
QUICK = {"humans": 4, "machines": 1, "modes": ("daemon",), "settle": 60, "rate": 0.2}


@dataclasses.dataclass
class Phase:
    kind: str
    mode: str
    people: list[str]
    machines: list[str]
    seconds: float = 0.0
    #: Exit statuses of the daemons stopped and the drains finished in this phase.
    exits: list[int] = dataclasses.field(default_factory=list)


def run(backend: str, full: bool, workdir: Path) -> Rows:
    size: dict[str, Any] = FULL if full else QUICK
    rows = Rows("faults", backend)
    site = Site(backend, workdir)
    rng = random.Random()
    try:
        site.submission(1000, 1000, "outbox")
        instance = site.instance(in_doubt=12, timeout=CLIENT_TIMEOUT, small_batches=True)
        phases: list[Phase] = []
        kinds = [*FAULTS, *SPECIAL]
        plan = [(kind, mode) for kind in kinds for mode in size["modes"]]
        if not full:  # the short version: each kind once, the modes taking turns
            plan = [(kind, ("daemon", "once")[i % 2]) for i, kind in enumerate(kinds)]
        began = time.monotonic()
        for number, (kind, mode) in enumerate(plan):
            phase = Phase(kind, mode, [], [])
            prefix = f"f{number}"
            start = start_of_run()
            for n in range(size["humans"]):
                site.deliver(person_mail(n, start, prefix=prefix))
                phase.people.append(f"<{prefix}-{n}@example.nl>")
            for n in range(size["machines"]):
                site.deliver(machine_mail(n, prefix=prefix + "m"))
                phase.machines.append(f"<{prefix}m-{n}@machines.example>")
            phase_began = time.monotonic()
            exits_before = len(instance.exit_codes)
            run_phase(site, instance, phase, size, rng)
            phase.exits = instance.exit_codes[exits_before:]
            phase.seconds = time.monotonic() - phase_began
            phases.append(phase)
        site.faults("")
        final = instance.drain()  # what the last phase left unsure is settled
        elapsed = time.monotonic() - began

        counted = tally(site)
        people = [p for phase in phases for p in phase.people]
        machines = [m for phase in phases for m in phase.machines]
        # A hint in an answer that came after the client stopped waiting was never read.
        report = site.handle.server.stats.log.report(client_timeout=CLIENT_TIMEOUT)
        injected = site.handle.server.stats.snapshot()["faults"]
        rows.zero("acknowledgements lost", counted.missing(people))
        rows.zero("acknowledgements doubled", counted.doubled())
        rows.zero("machines acknowledged", counted.wrong(machines))
        rows.zero("retries before the server's back-off elapsed", len(report["early_retries"]))
        if report["early_retries"]:
            rows.info("early retries (first five)", json.dumps(report["early_retries"][:5]))
        rows.info(
            "back-off hints given / retried",
            f"{report['hints']} / {report['retries']}",
        )
        rows.info("hints in answers later than the client waits (not counted)", report["unseen"])
        rows.info(
            "other requests of a refused operation within its back-off",
            len(report["early_same_operation"]),
        )
        bad_exits = [c for c in instance.exit_codes if c != 0]
        rows.zero("daemon or drain ended with an error", len(bad_exits))
        if bad_exits:
            rows.info(
                "phases with an error exit (exit statuses)",
                ", ".join(
                    f"{p.kind} ({p.mode}): {p.exits}"
                    for p in phases
                    if any(c != 0 for c in p.exits)
                )
                or f"the final drain: {final}",
            )
        rows.exactly("final drain exit status", final, 0)
        rows.info(
            "`run --once` runs / exited 1 with work left (then run again)",
            f"{len(instance.once_runs)} / {sum(1 for c in instance.once_runs if c == 1)}",
        )
        rows.info("faults injected", ", ".join(f"{k} {v}" for k, v in sorted(injected.items())))
        rows.info(
            "time to drain per phase, s",
            ", ".join(f"{p.kind} ({p.mode}) {p.seconds:.0f}" for p in phases),
        )
        rows.info(
            "messages per phase (humans + machines)", f"{size['humans']} + {size['machines']}"
        )
        rows.info("seconds", round(elapsed))
        return rows
    finally:
        site.stop()


def run_phase(
    site: Site, instance: Instance, phase: Phase, size: dict[str, Any], rng: random.Random
) -> None:
    """Work through one phase's mail under its fault; all faults off before it is counted."""
    seed = rng.randrange(10**6)
    if phase.kind in FAULTS:
        site.faults(
            f"{phase.kind}={size['rate']},backoff_ms={BACKOFF_MS},slow_ms={SLOW_MS},seed={seed}"
        )
        trouble: Callable[[], None] = lambda: None  # noqa: E731
    elif phase.kind == "credentials":
        trouble = credentials_trouble(site, phase.mode)
    else:
        trouble = lambda: None  # noqa: E731  # the state file is deleted below
    done = lambda: acknowledged(site, phase.people)  # noqa: E731
    if phase.mode == "daemon":
        instance.start()
        trouble()
        if phase.kind == "state deleted":
            wait_for(lambda: sent_some(site, phase.people), 30, 0.05)
            instance.delete_state()  # the open file is gone; the next start has none
            time.sleep(1)
            instance.stop()
            instance.start()
        wait_for(done, size["settle"], 0.5)
        site.faults("")
        if instance.stop() == 0 and not done():
            wait_for(done, 5)
    else:
        if phase.kind == "state deleted":
            process = instance.start()  # a drain (`--once` would do the same) killed mid-way
            wait_for(lambda: sent_some(site, phase.people), 30, 0.05)
            process.kill()
            instance.kill()
            instance.delete_state()
            instance.drain()
        else:
            thread = threading.Thread(target=trouble)
            thread.start()
            instance.drain()
            thread.join()
        site.faults("")
        if not done():  # the fault outlasted the drain: once more, with the fault gone
            instance.drain()


def acknowledged(site: Site, people: list[str]) -> bool:
    """Every one of `people` has its acknowledgement in Sent Items (transport takes seconds)."""
    answered = {item.in_reply_to for item in site.store.items(SHARED, "sentitems")}
    return set(people) <= answered


def sent_some(site: Site, people: list[str]) -> bool:
    answered = {item.in_reply_to for item in site.store.items(SHARED, "sentitems")}
    return len(set(people) & answered) >= 2 or len(site.store.in_transit(SHARED)) >= 2


def credentials_trouble(site: Site, mode: str) -> Callable[[], None]:
    """The credential stops working a moment after the start, and works again later."""

    def trouble() -> None:
        time.sleep(1.5)
        if site.backend == "graph":
            assert site.graph is not None
            tokens = site.graph.app.tokens
            client_id = site.graph.app.config.apps[0].client_id
            if mode == "daemon":
                tokens.revoke(client_id, "tokens")  # every access token so far stops working
            else:
                tokens.token_lifetime = 5  # tokens expire during the drain
                time.sleep(20)
                tokens.token_lifetime = 3600
        else:
            server = site.handle.server
            config = server.config
            server.config = dataclasses.replace(
                config,
                users=tuple(dataclasses.replace(u, password="Changed-2026!") for u in config.users),
            )
            for connection in list(server.open_connections):  # NTLM authenticates connections
                with contextlib.suppress(OSError):
                    connection.shutdown(2)
            time.sleep(6)
            server.config = config

    return trouble
