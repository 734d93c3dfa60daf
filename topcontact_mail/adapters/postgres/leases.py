"""Leases: each mailbox worked by one instance at a time, taken over when its instance dies.

A lease is a row (mailbox, owner, token, expires_at) in the shared database.
The owner renews it well inside its expiry; when it stops renewing (the
instance died, hangs, or lost the network), the lease expires and another
instance takes it, with a new, larger fencing token. All times are the
database's clock (`clock_timestamp()`), so the machines' clocks never need to
agree.

The holder's side keeps a local deadline on its own monotonic clock: the
moment a renewal *started* plus the lease's length minus a margin (one renewal
interval). The database's expiry is later than that on any machine whose clock
runs at a sane rate, so an instance that cannot renew stops working the
mailbox before anyone else may take it. What a stalled process cannot stop (it
is not running to look at its clock) the fence stops: every state write checks,
in its own transaction and under a share lock on the lease row, that the lease
is still this token's and not expired; a take-over waits for that write to
commit, and a stale owner's write is refused with `LeaseLost`.

Why a row with expiry rather than advisory locks: docs/scale-out.md.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from topcontact_mail.logs import get_logger


class LeaseLost(Exception):
    """This instance no longer holds the mailbox's lease: it must stop working the mailbox."""


@dataclass
class MailboxLease:
    """A lease this instance holds: the fencing token and the local deadline to stop by."""

    mailbox: str
    owner: str
    token: int
    #: `time.monotonic()` by which the instance stops working the mailbox unless renewed.
    deadline: float
    #: The database's expiry as it last answered (for logs and the benchmark).
    expires_at: datetime
    acquired_at: datetime
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    def valid(self) -> bool:
        """Whether the instance may still work the mailbox (its local deadline is ahead)."""
        return self.clock() < self.deadline

    def check(self) -> None:
        """Raise `LeaseLost` when the local deadline has passed."""
        if not self.valid():
            raise LeaseLost(
                f"the lease of {self.mailbox} (token {self.token}) was not renewed in time"
            )


@dataclass(frozen=True)
class Holder:
    """Who holds a mailbox's lease, as the database says now."""

    owner: str
    token: int
    expires_at: datetime
    live: bool


_ACQUIRE = """
INSERT INTO leases (mailbox, owner, token, acquired_at, renewed_at, expires_at)
VALUES (%(mailbox)s, %(owner)s, nextval('lease_tokens'), clock_timestamp(), clock_timestamp(),
        clock_timestamp() + make_interval(secs => %(seconds)s))
ON CONFLICT (mailbox) DO UPDATE SET
    owner = excluded.owner, token = excluded.token, acquired_at = excluded.acquired_at,
    renewed_at = excluded.renewed_at, expires_at = excluded.expires_at
WHERE leases.expires_at <= clock_timestamp() OR leases.owner = excluded.owner
RETURNING token, acquired_at, expires_at
"""

_RENEW = """
UPDATE leases SET renewed_at = clock_timestamp(),
    expires_at = clock_timestamp() + make_interval(secs => %(seconds)s)
WHERE mailbox = %(mailbox)s AND owner = %(owner)s AND token = %(token)s
    AND expires_at > clock_timestamp()
RETURNING expires_at
"""

#: Released: expired now, so the next instance need not wait. The token stays with the row.
_RELEASE = """
UPDATE leases SET expires_at = clock_timestamp()
WHERE mailbox = %(mailbox)s AND token = %(token)s AND expires_at > clock_timestamp()
"""

#: The fence, inside a write's transaction: the share lock makes a take-over wait for it.
FENCE = """
SELECT token, expires_at > clock_timestamp() AS live FROM leases WHERE mailbox = %s FOR SHARE
"""


class Leases:
    """The lease table of one database, for one instance (`owner`)."""

    def __init__(
        self,
        pool: ConnectionPool[Any],
        owner: str,
        *,
        lease_seconds: float = 30,
        renew_seconds: float = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if renew_seconds * 3 > lease_seconds:
            raise ValueError("renew_seconds must be at most a third of lease_seconds")
        self.pool = pool
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.renew_seconds = renew_seconds
        self.clock = clock
        self.log = get_logger("leases", instance=owner)

    def _deadline(self, started: float) -> float:
        # Renewals start every renew_seconds: one may fail and the next still be in time.
        return started + self.lease_seconds - self.renew_seconds

    def acquire(self, mailbox: str) -> MailboxLease | None:
        """Take the mailbox's lease if it is free, expired or already this owner's; else None.

        Every acquisition, even of this owner's own lease (a restart), gets a new token, so
        whatever an earlier process of the same name still tries to write is refused.
        """
        started = self.clock()
        with self.pool.connection() as conn:
            row = conn.execute(
                _ACQUIRE,
                {"mailbox": mailbox, "owner": self.owner, "seconds": self.lease_seconds},
            ).fetchone()
        if row is None:
            return None
        lease = MailboxLease(
            mailbox=mailbox,
            owner=self.owner,
            token=int(row["token"]),
            deadline=self._deadline(started),
            expires_at=row["expires_at"],
            acquired_at=row["acquired_at"],
            clock=self.clock,
        )
        self.log.info("lease taken", mailbox=mailbox, fence=lease.token)
        return lease

    def renew(self, lease: MailboxLease) -> bool:
        """Extend a held lease; False when it is lost (expired, or taken over)."""
        if not lease.valid():
            return False  # past the local deadline the instance has stopped: never extend
        started = self.clock()
        with self.pool.connection() as conn:
            row = conn.execute(
                _RENEW,
                {
                    "mailbox": lease.mailbox,
                    "owner": self.owner,
                    "token": lease.token,
                    "seconds": self.lease_seconds,
                },
            ).fetchone()
        if row is None:
            self.log.warning("lease lost", mailbox=lease.mailbox, fence=lease.token)
            lease.deadline = min(lease.deadline, started)
            return False
        lease.deadline = self._deadline(started)
        lease.expires_at = row["expires_at"]
        return True

    def release(self, lease: MailboxLease) -> None:
        """Give the lease up now (after the work on the mailbox has stopped)."""
        lease.deadline = min(lease.deadline, self.clock())
        with self.pool.connection() as conn:
            conn.execute(_RELEASE, {"mailbox": lease.mailbox, "token": lease.token})
        self.log.info("lease released", mailbox=lease.mailbox, fence=lease.token)

    def holder(self, mailbox: str) -> Holder | None:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT owner, token, expires_at, expires_at > clock_timestamp() AS live "
                "FROM leases WHERE mailbox = %s",
                (mailbox,),
            ).fetchone()
        if row is None:
            return None
        return Holder(row["owner"], int(row["token"]), row["expires_at"], bool(row["live"]))

    def holders(self) -> dict[str, Holder]:
        """Every mailbox's lease as the database says now."""
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT mailbox, owner, token, expires_at, expires_at > clock_timestamp() AS live "
                "FROM leases"
            ).fetchall()
        return {
            r["mailbox"]: Holder(r["owner"], int(r["token"]), r["expires_at"], bool(r["live"]))
            for r in rows
        }

    # -- the instances that are alive ----------------------------------------------------

    def heartbeat(self) -> int:
        """Say this instance is alive (for a lease's length); returns how many are alive."""
        with self.pool.connection() as conn:
            conn.execute(
                "INSERT INTO instances (id, started_at, seen_at, expires_at) "
                "VALUES (%(id)s, clock_timestamp(), clock_timestamp(), "
                "clock_timestamp() + make_interval(secs => %(seconds)s)) "
                "ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at, "
                "expires_at = excluded.expires_at",
                {"id": self.owner, "seconds": self.lease_seconds},
            )
            row = conn.execute(
                "SELECT count(*) AS n FROM instances WHERE expires_at > clock_timestamp()"
            ).fetchone()
        return int(row["n"]) if row is not None else 1

    def leave(self) -> None:
        """This instance stops: the others need not wait for its heartbeat to expire."""
        with self.pool.connection() as conn:
            conn.execute("DELETE FROM instances WHERE id = %s", (self.owner,))


class LeaseKeeper:
    """Renews leases on a thread of its own every `renew_seconds` until stopped.

    The work on a mailbox never waits for it: the lease's local deadline tells
    the work when to stop, whatever this thread is doing (a renewal that hangs
    on the network included: statements have a time-out shorter than the
    margin).
    """

    def __init__(self, leases: Leases, held: Sequence[MailboxLease] = ()) -> None:
        self.leases = leases
        self.held = list(held)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)

    def start(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.leases.renew_seconds):
            for lease in list(self.held):
                try:
                    self.leases.renew(lease)
                except psycopg.Error as exc:
                    # The deadline runs on: the work stops in time if this goes on.
                    self.leases.log.warning(
                        "cannot renew the lease", mailbox=lease.mailbox, error=str(exc)
                    )

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.leases.renew_seconds + 5)
