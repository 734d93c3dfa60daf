"""The shared PostgreSQL state store from the configuration: for `run` (with the mailbox's lease),
for the commands that only read it (`status`, `report`) or write beside a running daemon
(`callback`), and the names both go by.

`run` with `[service] store = "postgresql"` works its one mailbox only while it
holds the mailbox's lease: it waits for the lease at start (at most a lease's
length and a renewal, time enough for a dead instance's lease to expire), keeps
it renewed on a thread of its own, and every state write is fenced by it. Another
instance running for the same mailbox is refused at start; to share many
mailboxes between instances use `topcontact-mail scale-out` (docs/scale-out.md).
"""

from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING

from topcontact_mail.adapters.sqlite_store import StoreError
from topcontact_mail.config import Settings
from topcontact_mail.logs import get_logger

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

    from topcontact_mail.adapters.postgres import PostgresStore


def instance_id(settings: Settings) -> str:
    """This instance's name in the lease table: the configured one, or the host name."""
    return settings.scale_out.instance_id or socket.gethostname()


def mailbox_key(settings: Settings) -> str:
    """The key of a mailbox's rows: its address, lower-case (the same for EWS and Graph)."""
    return settings.connection.shared_mailbox.lower()


def open_shared_pool(settings: Settings, size: int | None = None) -> ConnectionPool:
    from topcontact_mail.adapters.postgres import PostgresUnavailable, open_pool

    try:
        return open_pool(settings.postgresql, timezone=settings.calendar.timezone, size=size)
    except PostgresUnavailable as exc:
        raise StoreError(str(exc)) from None


def open_unleased_store(settings: Settings) -> PostgresStore:
    """The mailbox's state in the shared database, without its lease (unfenced): for the
    commands that only read (`status`, `report`, `callback list`), and for `callback book` and
    `cancel`, which write beside a running daemon as they do beside its SQLite file (a meeting
    they create is recorded as being attempted, so the daemon never creates it a second time;
    docs/exactly-once.md). Taking the lease would stop the daemon's work, or wait for it."""
    from topcontact_mail.adapters.postgres import PostgresStore, PostgresStoreError

    pool = open_shared_pool(settings, size=1)
    try:
        return PostgresStore(
            pool, mailbox_key(settings), schema=settings.postgresql.schema_name, owns_pool=True
        )
    except PostgresStoreError as exc:
        pool.close()
        raise StoreError(str(exc)) from None


def open_leased_store(settings: Settings) -> PostgresStore:
    """The mailbox's state, fenced by its lease, which a thread keeps renewed until `close()`.

    Raises `StoreError` when the database cannot be used or another instance keeps the
    mailbox's lease.
    """
    import psycopg

    from topcontact_mail.adapters.postgres import (
        LeaseKeeper,
        Leases,
        PostgresStore,
        PostgresStoreError,
        where,
    )

    log = get_logger("store")
    pool = open_shared_pool(settings)
    key = mailbox_key(settings)
    scale = settings.scale_out
    try:
        # Opening migrates the database; only then is there a lease table.
        PostgresStore(pool, key, schema=settings.postgresql.schema_name)
        leases = Leases(
            pool,
            instance_id(settings),
            lease_seconds=scale.lease_seconds,
            renew_seconds=scale.renew_seconds,
        )
        deadline = time.monotonic() + scale.lease_seconds + scale.renew_seconds
        lease = leases.acquire(key)
        while lease is None and time.monotonic() < deadline:
            holder = leases.holder(key)
            log.warning(
                "waiting for the mailbox's lease",
                mailbox=key,
                holder=holder.owner if holder else None,
                until=holder.expires_at.isoformat() if holder else None,
            )
            time.sleep(scale.renew_seconds)
            lease = leases.acquire(key)
        if lease is None:
            holder = leases.holder(key)
            raise StoreError(
                f"{where(settings.postgresql)}: the mailbox {key} is worked by instance "
                f"{holder.owner if holder else '?'!r}, which keeps its lease: run one instance "
                "per mailbox, or share the mailboxes with 'topcontact-mail scale-out'"
            )
        store = PostgresStore(
            pool,
            key,
            schema=settings.postgresql.schema_name,
            fence=lease,
            migrate_schema=False,
            owns_pool=True,
        )
    except (PostgresStoreError, psycopg.Error) as exc:
        pool.close()
        raise StoreError(f"{where(settings.postgresql)}: {exc}") from None
    except StoreError:
        pool.close()
        raise
    keeper = LeaseKeeper(leases, [lease]).start()

    def give_back() -> None:
        keeper.stop()
        try:
            leases.release(lease)
        except Exception as exc:  # the lease expires by itself; never fail a clean stop for it
            log.warning("cannot release the lease; it expires by itself", error=str(exc))

    store.on_close(give_back)
    log.info("working the mailbox under its lease", mailbox=key, fence=lease.token)
    return store
