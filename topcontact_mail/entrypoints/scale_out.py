"""Several instances sharing the mailboxes: each works only the mailboxes whose lease it holds.

An instance reads a folder of mailbox configurations (`[scale_out]
mailboxes_dir`, one `*.toml` per shared mailbox, each a complete configuration
as `run` reads it) and keeps, every `renew_seconds`:

- its heartbeat in the `instances` table, which tells it how many instances
  are alive, so that it aims at its share: the mailboxes divided by the live
  instances, rounded up;
- its leases renewed; a lease it cannot renew is lost, and that mailbox's work
  has stopped by then (the lease's local deadline, `adapters/postgres/leases.py`);
- free and expired leases taken up to its share, in the order of a rendezvous
  hash of (instance, mailbox), so that instances prefer different mailboxes
  and seldom contend; above its share (an instance joined) it gives leases
  back, after their work has stopped.

The instance's `/health` and `/metrics` (`service.health_listen`, each instance
its own port) show the mailboxes whose lease it holds, each with its conditions
and counters as `run` shows them, and under `instance` its id, its leases and
its share.

Each held mailbox runs the daemon's own loop (`Daemon`: notifications, the
safety-net sync, the tracking, the callbacks when its configuration turns them
on) on a thread (`entrypoints/mailboxes.py` `MailboxWorker`, as `run` does for
its mailboxes), with its state in the shared
database fenced by the lease. A supervisor looks four times a second whether a
lease's local deadline has passed and stops that mailbox's loop; the loop
itself asks between messages, and every state write asks the database. When an
instance dies, its leases expire, its heartbeat too, and the others take its
mailboxes within about `lease_seconds + renew_seconds`.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from topcontact_mail.config import ConfigError, Settings, load_settings
from topcontact_mail.entrypoints.daemon import Daemon
from topcontact_mail.entrypoints.health import Health, MailboxHealth
from topcontact_mail.entrypoints.mailboxes import STOP_PATIENCE_SECONDS, MailboxWorker, lag_limit
from topcontact_mail.entrypoints.shared_store import instance_id, mailbox_key, open_shared_pool
from topcontact_mail.entrypoints.systemd import Notifier
from topcontact_mail.logs import get_logger

if TYPE_CHECKING:
    from topcontact_mail.adapters.postgres import Leases, MailboxLease

#: How often the supervisor looks at the leases' local deadlines (seconds).
SUPERVISE_SECONDS = 0.25


class ScaleOutError(Exception):
    """The instance or a mailbox configuration cannot be used; the message says which and why."""


@dataclass(frozen=True)
class MailboxConfig:
    """One shared mailbox an instance may work: its file, its settings, its key in the database."""

    path: Path
    settings: Settings
    key: str


def load_mailboxes(instance: Settings) -> list[MailboxConfig]:
    """The mailbox configurations of `[scale_out] mailboxes_dir`, with the instance's database.

    Every mailbox's state goes to the instance's `[postgresql]` database (the leases live
    there: a mailbox's state anywhere else would not be fenced), whatever its own file says.
    """
    folder = instance.scale_out.mailboxes_dir
    if folder is None:
        raise ScaleOutError("scale_out.mailboxes_dir is not set: the folder of mailbox files")
    if not folder.is_dir():
        raise ScaleOutError(f"{folder}: scale_out.mailboxes_dir is not a folder")
    found: list[MailboxConfig] = []
    seen: dict[str, Path] = {}
    for path in sorted(folder.glob("*.toml")):
        try:
            own = load_settings(path)
        except ConfigError as exc:
            raise ScaleOutError(str(exc)) from None
        problem = own.connection.missing_section()
        if problem is not None:
            raise ScaleOutError(f"{path}: the configuration is not valid:\n  connection: {problem}")
        settings = own.model_copy(
            update={
                "service": own.service.model_copy(update={"store": "postgresql"}),
                "postgresql": instance.postgresql,
                "scale_out": instance.scale_out,
            }
        )
        key = mailbox_key(settings)
        if key in seen:
            raise ScaleOutError(f"{path}: the mailbox {key} is configured in {seen[key]} already")
        seen[key] = path
        found.append(MailboxConfig(path, settings, key))
    if not found:
        raise ScaleOutError(f"{folder}: no mailbox configurations (*.toml) in it")
    return found


def preference(instance: str, mailbox: str) -> int:
    """Rendezvous hashing: each instance ranks the mailboxes its own way, stable across runs."""
    digest = hashlib.sha256(f"{instance}\x00{mailbox}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


class LeasedDaemon(Daemon):
    """The daemon's loop for one mailbox, which stops when the mailbox's lease runs out."""

    lease: MailboxLease

    def _should_stop(self) -> bool:
        # Asked between messages and before each batch: a lease past its local deadline stops
        # the work here, before the database could give the mailbox to another instance.
        if not self.lease.valid():
            self.stop.set()
        return super()._should_stop()


@dataclass
class Worker:
    """A held mailbox: its lease and the mailbox's loop on its thread (`MailboxWorker`)."""

    config: MailboxConfig
    lease: MailboxLease
    pool: Any
    health: MailboxHealth | None = None
    inner: MailboxWorker | None = None

    def start(self) -> Worker:
        from topcontact_mail.adapters.postgres import LeaseLost, PostgresStore

        settings = self.config.settings
        store = PostgresStore(
            self.pool,
            self.config.key,
            schema=settings.postgresql.schema_name,
            fence=self.lease,
            migrate_schema=False,
        )
        lease = self.lease

        def give_lease(daemon: Daemon) -> None:
            assert isinstance(daemon, LeasedDaemon)
            daemon.lease = lease

        self.inner = MailboxWorker(
            settings,
            store,
            health=self.health,
            daemon_class=LeasedDaemon,
            prepare=give_lease,
            # Past the lease's local deadline nothing is started again; a lost lease ends it.
            keep_going=lease.valid,
            fatal=(LeaseLost,),
        ).start()
        return self

    @property
    def stop(self) -> threading.Event:
        assert self.inner is not None
        return self.inner.stop

    @property
    def thread(self) -> threading.Thread | None:
        return self.inner.thread if self.inner is not None else None

    @property
    def alive(self) -> bool:
        return self.inner is not None and self.inner.alive

    @property
    def ended(self) -> str:
        return self.inner.ended if self.inner is not None else ""


class Instance:
    """One instance of `topcontact-mail scale-out`."""

    def __init__(
        self,
        settings: Settings,
        mailboxes: list[MailboxConfig],
        stop: threading.Event,
        notifier: Notifier | None = None,
        health: Health | None = None,
    ) -> None:
        from topcontact_mail.adapters.postgres import Leases, PostgresStoreError, prepare

        self.settings = settings
        self.mailboxes = {m.key: m for m in mailboxes}
        self.stop = stop
        self.notifier = notifier or Notifier(environ={})
        self.id = instance_id(settings)
        self.log = get_logger("scale-out", instance=self.id)
        self.pool = open_shared_pool(settings)
        try:
            prepare(self.pool, settings.postgresql.schema_name)
        except PostgresStoreError as exc:
            self.pool.close()
            raise ScaleOutError(str(exc)) from None
        self.leases: Leases = Leases(
            self.pool,
            self.id,
            lease_seconds=settings.scale_out.lease_seconds,
            renew_seconds=settings.scale_out.renew_seconds,
        )
        self.health = health or Health()
        self.health.about = self.about
        #: What `/health` shows of the leases (replaced whole: the endpoint's thread reads it).
        self._leases: dict[str, Any] = {"held": [], "share": None, "live_instances": None}
        self.workers: dict[str, Worker] = {}
        #: Loops whose lease was lost, until they have ended: their mailbox is not taken again
        #: by this instance before that.
        self.stopping: dict[str, Worker] = {}

    def about(self) -> dict[str, Any]:
        """The instance as `/health` shows it: its id, the mailboxes whose lease it holds, its
        share and the live instances (as of its last look at the leases)."""
        return {"id": self.id, "mailboxes_configured": len(self.mailboxes), **self._leases}

    def share(self, live: int) -> int:
        return math.ceil(len(self.mailboxes) / max(live, 1))

    def run(self) -> None:
        """Work until `stop` is set; then stop every mailbox's loop and give the leases back."""
        import psycopg

        scale = self.settings.scale_out
        self.log.info("instance started", mailboxes=len(self.mailboxes))
        try:
            self.leases.heartbeat()
            # Instances started together see each other before taking shares.
            self._wait(scale.renew_seconds)
            self.notifier.ready(f"sharing {len(self.mailboxes)} mailboxes")
            while not self.stop.is_set():
                try:
                    self.tick()
                except psycopg.Error as exc:
                    # The leases' deadlines run on: without the database the work stops in time.
                    self.log.warning("cannot reach the database", error=str(exc))
                self._wait(scale.renew_seconds)
        finally:
            self.notifier.stopping()
            self.shutdown()

    def _wait(self, seconds: float) -> None:
        """Wait, supervising: a lease past its local deadline stops its mailbox at once."""
        deadline = time.monotonic() + seconds
        while not self.stop.is_set() and time.monotonic() < deadline:
            self.notifier.heartbeat()
            for worker in self.workers.values():
                if not worker.lease.valid():
                    worker.stop.set()
            self.stop.wait(min(SUPERVISE_SECONDS, max(0.0, deadline - time.monotonic())))

    def tick(self) -> None:
        live = self.leases.heartbeat()
        share = self.share(live)
        for key, worker in list(self.workers.items()):
            if not worker.alive:
                self.log.warning("a mailbox's loop ended", mailbox=key, why=worker.ended)
                self._give_back(key)
            elif not self.leases.renew(worker.lease):
                worker.stop.set()
                self.log.warning("lease lost; the mailbox's work is stopped", mailbox=key)
                self.stopping[key] = self.workers.pop(key)
                self.health.forget(key)
        self.stopping = {k: w for k, w in self.stopping.items() if w.alive}
        if len(self.workers) > share:
            # An instance joined: give back those this instance likes least.
            extra = sorted(self.workers, key=lambda k: preference(self.id, k))
            for key in extra[: len(self.workers) - share]:
                self._give_back(key)
        if len(self.workers) < share:
            holders = self.leases.holders()
            candidates = sorted(
                (k for k in self.mailboxes if k not in self.workers and k not in self.stopping),
                key=lambda k: preference(self.id, k),
                reverse=True,
            )
            for key in candidates:
                if len(self.workers) >= share or self.stop.is_set():
                    break
                holder = holders.get(key)
                if holder is not None and holder.live and holder.owner != self.id:
                    continue
                lease = self.leases.acquire(key)
                if lease is not None:
                    box = self.health.mailbox(
                        key, lag_limit=lag_limit(self.mailboxes[key].settings)
                    )
                    self.workers[key] = Worker(self.mailboxes[key], lease, self.pool, box).start()
        self._leases = {"held": sorted(self.workers), "share": share, "live_instances": live}
        # Holding none is a normal state from here on (more instances than mailboxes).
        self.health.idle_ok = True
        self.notifier.status(f"working {len(self.workers)} of {len(self.mailboxes)} mailboxes")
        self.log.info("leases", held=len(self.workers), share=share, live_instances=live)

    def _give_back(self, key: str) -> None:
        """Stop the mailbox's loop (the message in hand finishes), then release its lease."""
        worker = self.workers.pop(key)
        worker.stop.set()
        self.health.forget(key)
        if worker.thread is not None:
            worker.thread.join(timeout=STOP_PATIENCE_SECONDS)
        if worker.alive:
            # Still busy: keep away from the lease; it expires, and the fence refuses the rest.
            self.log.warning("a mailbox's loop did not stop in time", mailbox=key)
            return
        try:
            self.leases.release(worker.lease)
        except Exception as exc:  # it expires by itself
            self.log.warning("cannot release a lease; it expires by itself", error=str(exc))

    def shutdown(self) -> None:
        for worker in [*self.workers.values(), *self.stopping.values()]:
            worker.stop.set()
        for key in list(self.workers):
            self._give_back(key)
        try:
            self.leases.leave()
        except Exception as exc:  # the heartbeat expires by itself
            self.log.warning("cannot sign off", error=str(exc))
        self.pool.close()
        self.log.info("instance stopped")
