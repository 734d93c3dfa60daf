"""`make bench-scale-out`: 50 mailboxes shared by 3 instances, one killed mid-run.

A throw-away PostgreSQL server (tests/pg_server.py, with fsync on) holds the
state and the leases; the sandbox Exchange server (a test double, in this
process) holds 50 shared mailboxes, each with its own service account; three
`topcontact-mail scale-out` processes share them with the default lease (30 s,
renewed every 10 s). Tenant mail arrives in random mailboxes all the time.
Once every mailbox is worked, the instance holding the most mailboxes is
killed with SIGKILL, while mail keeps arriving. Then, measured:

- every mailbox taken over: each of the killed instance's mailboxes has a live
  lease of another instance, with a larger fencing token;
- the take-over time: from the kill to the new lease (the database's clock),
  median and maximum; and how long mail sent to those mailboxes after the kill
  waited for its acknowledgement;
- nothing lost or doubled: the acknowledgements in every mailbox's Sent Items,
  counted per original message.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.pg_server import PostgresServer, PostgresUnavailable  # noqa: E402
from tests.scale_out_world import World, address, start_many  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mailboxes", type=int, default=50)
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--lease", type=float, default=30.0, help="lease_seconds")
    parser.add_argument("--renew", type=float, default=10.0, help="renew_seconds")
    parser.add_argument("--backlog", type=int, default=4, help="messages per mailbox at start")
    parser.add_argument("--rate", type=float, default=4.0, help="new messages per second")
    parser.add_argument("--after-kill", type=float, default=60.0, help="seconds mail keeps coming")
    parser.add_argument("--latency", type=int, default=50, help="milliseconds per request")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    console = Console(width=140)
    rng = random.Random(args.seed)
    try:
        server = PostgresServer.start(durable=True)
    except PostgresUnavailable as exc:
        console.print(f"PostgreSQL is not available here: {exc}")
        raise SystemExit(1) from None
    sandbox = start_many(args.mailboxes, latency_ms=args.latency)
    # The killed instance's connections are reset: expected here, not worth a traceback each.
    sandbox.server.handle_error = lambda *_: None  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        world = World(
            Path(tmp),
            sandbox,
            server,
            f"bench_{uuid.uuid4().hex[:8]}",
            args.mailboxes,
            args.lease,
            args.renew,
        )
        try:
            figures = run(world, args, rng, console)
        finally:
            world.stop_all()
            sandbox.stop()
            server.stop()
    report(figures, args, console)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")


def run(
    world: World, args: argparse.Namespace, rng: random.Random, console: Console
) -> dict[str, object]:
    world.write()
    delivered: dict[str, tuple[int, float]] = {}  # message id → (mailbox, monotonic delivery)
    counter = [0]
    lock = threading.Lock()

    def deliver(box: int) -> None:
        with lock:
            counter[0] += 1
            n = counter[0]
        message_id = world.deliver(box, n, datetime.now(UTC))
        delivered[message_id] = (box, time.monotonic())

    for box in range(args.mailboxes):
        for _ in range(args.backlog):
            deliver(box)
    names = [f"instance-{i + 1}" for i in range(args.instances)]
    began = time.monotonic()
    for name in names:
        world.start(name)
    console.print(
        f"{args.mailboxes} mailboxes, {len(delivered)} messages waiting, "
        f"{args.instances} instances started (lease {args.lease:g} s, renewed every {args.renew:g} s)"
    )

    # Mail keeps arriving while the instances share, and while one dies.
    arriving = threading.Event()
    arriving.set()

    def stream() -> None:
        while arriving.is_set():
            deliver(rng.randrange(args.mailboxes))
            time.sleep(rng.expovariate(args.rate))

    streamer = threading.Thread(target=stream, daemon=True)
    streamer.start()

    # Every mailbox worked: a live lease each, and the backlog acknowledged.
    backlog = {k for k, (_, t) in delivered.items() if t <= began}
    world.wait_for(backlog, timeout=600)
    leases = world.leases()
    while sum(1 for v in leases.values() if v["live"]) < args.mailboxes:
        time.sleep(1)
        leases = world.leases()
    all_worked = time.monotonic() - began
    before = {name: sorted(k for k, v in leases.items() if v["owner"] == name) for name in names}
    victim = max(names, key=lambda n: len(before[n]))
    console.print(
        f"all worked after {all_worked:.1f} s: "
        + ", ".join(f"{n} {len(b)}" for n, b in before.items())
    )
    time.sleep(5)

    tokens = {k: leases[k]["token"] for k in before[victim]}
    world.kill(victim)
    killed_wall, killed = datetime.now(UTC), time.monotonic()
    console.print(f"killed {victim} (SIGKILL) holding {len(tokens)} mailboxes")
    taken: dict[str, float] = {}
    deadline = killed + args.after_kill
    while time.monotonic() < deadline:
        now_leases = world.leases()
        for box, token in tokens.items():
            lease = now_leases.get(box)
            if box not in taken and lease and lease["live"] and lease["token"] > token:
                taken[box] = (lease["acquired_at"] - killed_wall).total_seconds()
        time.sleep(0.5)
    arriving.clear()
    streamer.join()

    expected = set(delivered)
    counts = world.wait_for(expected, timeout=300)
    acked_at = world_ack_times(world, expected, timeout=5)
    leases = world.leases()
    after = {
        name: sorted(k for k, v in leases.items() if v["owner"] == name and v["live"])
        for name in names
        if name != victim
    }
    victim_boxes = {address(b) for b in range(args.mailboxes)} & set(tokens)
    waited = [
        acked_at[k] - t
        for k, (box, t) in delivered.items()
        if address(box) in victim_boxes and killed <= t < killed + args.lease and k in acked_at
    ]
    lost = sorted(expected - set(counts))
    doubled = {k: v for k, v in counts.items() if v > 1}
    return {
        "mailboxes": args.mailboxes,
        "instances": args.instances,
        "lease_seconds": args.lease,
        "renew_seconds": args.renew,
        "latency_ms": args.latency,
        "messages": len(expected),
        "acknowledged": sum(1 for k in expected if counts.get(k, 0) >= 1),
        "lost": len(lost),
        "doubled": len(doubled),
        "all_worked_after_s": round(all_worked, 1),
        "held_before": {n: len(b) for n, b in before.items()},
        "held_after": {n: len(b) for n, b in after.items()},
        "victim": victim,
        "victim_mailboxes": len(tokens),
        "taken_over": len(taken),
        "takeover_median_s": round(statistics.median(taken.values()), 1) if taken else None,
        "takeover_max_s": round(max(taken.values()), 1) if taken else None,
        "mail_after_kill_waited_median_s": round(statistics.median(waited), 1) if waited else None,
        "mail_after_kill_waited_max_s": round(max(waited), 1) if waited else None,
        "mail_after_kill_to_victims_mailboxes": len(waited),
        "every_mailbox_live_after": sum(len(b) for b in after.values()) == args.mailboxes,
    }


def world_ack_times(world: World, expected: set[str], timeout: float) -> dict[str, float]:
    """When each acknowledgement reached Sent Items, on the monotonic clock (from its creation)."""
    offset = time.monotonic() - datetime.now(UTC).timestamp()
    found: dict[str, float] = {}
    for n in range(world.count):
        for item in world.sandbox.store.items(address(n), "sentitems"):
            key = str(item.in_reply_to)
            if key in expected and item.date_created is not None:
                found[key] = min(
                    found.get(key, float("inf")), item.date_created.timestamp() + offset
                )
    return found


def report(figures: dict[str, object], args: argparse.Namespace, console: Console) -> None:
    table = Table("measure", "value")
    rows = [
        ("mailboxes / instances", f"{figures['mailboxes']} / {figures['instances']}"),
        ("lease / renewal", f"{figures['lease_seconds']:g} s / {figures['renew_seconds']:g} s"),
        ("mailboxes per instance before the kill", str(figures["held_before"])),
        ("killed (SIGKILL)", f"{figures['victim']}, holding {figures['victim_mailboxes']}"),
        ("taken over", f"{figures['taken_over']} of {figures['victim_mailboxes']}"),
        (
            "take-over time median / max",
            f"{figures['takeover_median_s']} s / {figures['takeover_max_s']} s",
        ),
        (
            "mail to those mailboxes after the kill: waited median / max",
            f"{figures['mail_after_kill_waited_median_s']} s / {figures['mail_after_kill_waited_max_s']} s "
            f"({figures['mail_after_kill_to_victims_mailboxes']} messages)",
        ),
        ("mailboxes per surviving instance after", str(figures["held_after"])),
        ("every mailbox worked after", str(figures["every_mailbox_live_after"])),
        ("messages / acknowledged", f"{figures['messages']} / {figures['acknowledged']}"),
        ("lost / doubled", f"{figures['lost']} / {figures['doubled']}"),
    ]
    for row in rows:
        table.add_row(*row)
    console.print(table)
    if (
        figures["lost"]
        or figures["doubled"]
        or figures["taken_over"] != figures["victim_mailboxes"]
    ):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
