"""`topcontact-mail scale-out`: instances sharing mailboxes by leases, one killed mid-run — every
mailbox taken over in bounded time, nothing lost, nothing doubled (docs/scale-out.md)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.pg_server import PostgresServer
from tests.scale_out_world import World, address, start_many

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MAILBOXES = 6
INSTANCES = ("instance-a", "instance-b", "instance-c")
LEASE, RENEW = 6.0, 2.0


@pytest.fixture
def world(tmp_path: Path, postgres_server: PostgresServer, pg_schema: str) -> Iterator[World]:
    sandbox = start_many(MAILBOXES)
    world = World(tmp_path, sandbox, postgres_server, pg_schema, MAILBOXES, LEASE, RENEW)
    world.write()
    yield world
    world.stop_all()
    sandbox.stop()


def test_a_killed_instances_mailboxes_are_taken_over_and_nothing_is_lost_or_doubled(
    world: World,
) -> None:
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    expected = {
        world.deliver(b, n, start + timedelta(minutes=n))
        for b in range(MAILBOXES)
        for n in range(2)
    }
    for name in INSTANCES:
        world.start(name)

    counts = world.wait_for(expected, timeout=120)
    assert expected <= set(counts), _logs(world)
    leases = world.leases()
    assert {k for k, v in leases.items() if v["live"]} == {address(b) for b in range(MAILBOXES)}
    held = {name: [k for k, v in leases.items() if v["owner"] == name] for name in INSTANCES}
    assert all(len(boxes) == math.ceil(MAILBOXES / len(INSTANCES)) for boxes in held.values()), held

    victim = "instance-b"
    tokens = {k: leases[k]["token"] for k in held[victim]}
    world.kill(victim)
    killed_at = datetime.now(UTC)
    expected |= {
        world.deliver(b, n, start + timedelta(hours=1, minutes=n))
        for b in range(MAILBOXES)
        for n in range(2, 4)
    }

    counts = world.wait_for(expected, timeout=120)
    twice = {k: v for k, v in counts.items() if v > 1}
    assert twice == {}, f"acknowledged more than once: {twice}"
    assert set(counts) == expected, _logs(world)
    leases = world.leases()
    for box, token in tokens.items():
        lease = leases[box]
        assert lease["owner"] != victim
        assert lease["live"]
        assert lease["token"] > token
        taken_after = (lease["acquired_at"] - killed_at).total_seconds()
        assert taken_after <= LEASE + 2 * RENEW + 2, f"{box} taken over after {taken_after:.1f} s"

    world.stop_all()
    assert all(p.returncode == 0 for n, p in world.processes.items() if n != victim)
    assert not any(v["live"] for v in world.leases().values())  # given back at the stop


def _logs(world: World) -> str:
    return "\n".join(
        f"--- {name}\n" + (world.root / f"{name}.log").read_text(errors="replace")[-1500:]
        for name in INSTANCES
    )
