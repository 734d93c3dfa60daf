"""The daemon runs the tracking: a pass at start, the next armed at its wakeup, one after `--once`."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

from topcontact_mail.adapters.memory import MemoryMailbox
from topcontact_mail.adapters.sqlite_store import SqliteStore
from topcontact_mail.config import ServiceSettings, Settings
from topcontact_mail.domain.message import Address
from topcontact_mail.entrypoints.daemon import Daemon
from topcontact_mail.entrypoints.wiring import SystemClock, build_service, build_tracking

from .services.tracking_world import tenant_mail

SHARED = Address("klantcontact@woonservice.example", "Team Klantcontact")


def daemon_for(tmp_path: Path) -> tuple[Daemon, MemoryMailbox, SqliteStore]:
    settings = Settings(service=ServiceSettings(state_dir=tmp_path, health_listen=""))
    mailbox = MemoryMailbox(SHARED)
    store = SqliteStore(tmp_path / "topcontact.sqlite3")
    tracking = build_tracking(settings, mailbox, store)
    service = build_service(settings, mailbox, store, tracking)
    return Daemon(settings, service, mailbox, tracking=tracking), mailbox, store


def test_once_drains_then_makes_one_tracking_pass(tmp_path: Path) -> None:
    daemon, mailbox, store = daemon_for(tmp_path)
    now = SystemClock().now()
    mailbox.deliver(tenant_mail(1, now - timedelta(days=30)))

    daemon.drain(max_seconds=10)

    assert daemon.last_tracking is not None
    (target,) = store.targets()
    assert target.item_id == "item-1"
    # A month old: overdue, so it carries the overdue category after the pass.
    assert "Top Contact: te laat" in mailbox.items["item-1"].categories


def test_the_daemon_tracks_at_start_and_arms_the_next_wakeup(tmp_path: Path) -> None:
    daemon, mailbox, _ = daemon_for(tmp_path)
    mailbox.deliver(tenant_mail(1, SystemClock().now()))
    worker = threading.Thread(target=daemon.run_forever)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while daemon.last_tracking is None and time.monotonic() < deadline:
            time.sleep(0.05)
        summary = daemon.last_tracking
        assert summary is not None
        assert summary.next_wakeup is not None
        scheduler = daemon._scheduler
        assert scheduler is not None
        job = scheduler.get_job("tracking-wakeup")
        assert job is not None
        assert job.next_run_time == summary.next_wakeup
        assert scheduler.get_job("tracking-observe") is not None
    finally:
        daemon.stop.set()
        worker.join(timeout=10)
    assert not worker.is_alive()


def test_a_failing_tracking_pass_never_stops_the_acknowledgements(tmp_path: Path) -> None:
    daemon, mailbox, _ = daemon_for(tmp_path)
    assert daemon.tracking is not None

    def broken(**_: object) -> None:
        raise RuntimeError("bug")

    daemon.tracking.run_once = broken  # type: ignore[method-assign,assignment]
    mailbox.deliver(tenant_mail(1, SystemClock().now()))

    daemon.drain(max_seconds=10)

    assert len(mailbox.sent) == 1
    assert daemon.last_tracking is None
