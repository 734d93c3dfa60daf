"""The shared state store in PostgreSQL, and the leases by which instances share the mailboxes.

`PostgresStore` honours the StateStore port as the SQLite store does, one
mailbox's rows in a database several share; `Leases` and `MailboxLease` make
sure one instance at a time works a mailbox (docs/scale-out.md). Loaded only
when `[service] store = "postgresql"`.
"""

from topcontact_mail.adapters.postgres.connection import PostgresUnavailable, open_pool, where
from topcontact_mail.adapters.postgres.leases import (
    Holder,
    LeaseKeeper,
    LeaseLost,
    Leases,
    MailboxLease,
)
from topcontact_mail.adapters.postgres.schema import SCHEMA_VERSION, SchemaError
from topcontact_mail.adapters.postgres.store import PostgresStore, PostgresStoreError, prepare

__all__ = [
    "SCHEMA_VERSION",
    "Holder",
    "LeaseKeeper",
    "LeaseLost",
    "Leases",
    "MailboxLease",
    "PostgresStore",
    "PostgresStoreError",
    "PostgresUnavailable",
    "SchemaError",
    "open_pool",
    "prepare",
    "where",
]
