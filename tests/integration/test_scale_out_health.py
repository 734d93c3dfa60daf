"""A `scale-out` instance's `/health` and `/metrics`: the mailboxes whose lease it holds, with their
conditions; a mailbox it gives back leaves them (docs/scale-out.md)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.test_health import free_port
from tests.pg_server import PostgresServer
from tests.scale_out_world import World, address, start_many

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MAILBOXES = 2
LEASE, RENEW = 6.0, 1.0


class HealthWorld(World):
    """The scale-out world whose instances each serve `/health` on a port of their own."""

    ports: dict[str, int]

    def instance_config(self, name: str) -> Path:
        path = super().instance_config(name)
        port = self.ports.setdefault(name, free_port())
        text = path.read_text("utf-8").replace(
            'health_listen = ""', f'health_listen = "127.0.0.1:{port}"'
        )
        path.write_text(text, encoding="utf-8")
        return path

    def health_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"


@pytest.fixture
def world(tmp_path: Path, postgres_server: PostgresServer, pg_schema: str) -> Iterator[HealthWorld]:
    sandbox = start_many(MAILBOXES)
    world = HealthWorld(tmp_path, sandbox, postgres_server, pg_schema, MAILBOXES, LEASE, RENEW)
    world.ports = {}
    world.write()
    yield world
    world.stop_all()
    sandbox.stop()


def health_until(base: str, done: Any, seconds: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            last = requests.get(f"{base}/health", timeout=2).json()
            if done(last):
                return last
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"/health never got there; last: {last}")


def test_an_instance_shows_the_mailboxes_it_holds_and_gives_one_up_when_another_joins(
    world: HealthWorld,
) -> None:
    boxes = {address(n) for n in range(MAILBOXES)}
    world.start("instance-a")
    first = world.health_url("instance-a")
    health = health_until(
        first,
        lambda h: (
            set(h["mailboxes"]) == boxes
            and all(b["status"] == "ok" for b in h["mailboxes"].values())
        ),
    )
    assert health["status"] == "ok"
    assert health["instance"]["id"] == "instance-a"
    assert set(health["instance"]["held"]) == boxes
    assert health["instance"]["mailboxes_configured"] == MAILBOXES
    metrics = requests.get(f"{first}/metrics", timeout=2).text
    assert "topcontact_mailboxes 2.0" in metrics
    for box in boxes:
        assert f'topcontact_mailbox_healthy{{mailbox="{box}"}} 1.0' in metrics

    world.start("instance-b")
    second = world.health_url("instance-b")
    mine = health_until(first, lambda h: len(h["instance"]["held"]) == 1)
    theirs = health_until(
        second,
        lambda h: (
            len(h["instance"]["held"]) == 1
            and all(b["status"] == "ok" for b in h["mailboxes"].values())
        ),
    )
    assert set(mine["mailboxes"]) == set(mine["instance"]["held"])  # the one given back left
    assert set(mine["instance"]["held"]) | set(theirs["instance"]["held"]) == boxes
    assert theirs["instance"]["live_instances"] == 2
    assert "topcontact_mailboxes 1.0" in requests.get(f"{first}/metrics", timeout=2).text

    world.stop_all()
    assert all(p.returncode == 0 for p in world.processes.values())
