"""The connection pool to the shared database, from the `[postgresql]` settings.

Every connection is in autocommit mode (a store opens its transactions
explicitly), has the store's schema on its search path, reads moments in the
configured time zone, and gives up on any statement after
`statement_timeout_seconds`, so a lease renewal never hangs past its margin.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from topcontact_mail.config import PostgresSettings


class PostgresUnavailable(Exception):
    """The database cannot be reached or used; the message never holds a password."""


def conninfo(settings: PostgresSettings, *, timezone: str) -> str:
    """The libpq connection string the settings describe (with the password: keep it inside)."""
    base: dict[str, Any] = (
        conninfo_to_dict(settings.dsn.get_secret_value())
        if settings.dsn is not None and settings.dsn.get_secret_value()
        else {
            "host": settings.host,
            "port": settings.port,
            "dbname": settings.dbname,
            "user": settings.user,
        }
    )
    if settings.password is not None and settings.password.get_secret_value():
        base["password"] = settings.password.get_secret_value()
    base.setdefault("sslmode", settings.sslmode)
    if settings.sslrootcert:
        base.setdefault("sslrootcert", settings.sslrootcert)
    base.setdefault("connect_timeout", settings.connect_timeout_seconds)
    base.setdefault("application_name", "topcontact-mail")
    milliseconds = round(settings.statement_timeout_seconds * 1000)
    base["options"] = " ".join(
        [
            f"-c search_path={settings.schema_name}",
            f"-c TimeZone={timezone}",
            f"-c statement_timeout={milliseconds}",
            # A lock a write waits for (a lease row) is given up as early.
            f"-c lock_timeout={milliseconds}",
        ]
    )
    return make_conninfo(**base)


def where(settings: PostgresSettings) -> str:
    """Where the database is, for messages (never the password)."""
    if settings.dsn is not None and settings.dsn.get_secret_value():
        try:
            parts = conninfo_to_dict(settings.dsn.get_secret_value())
        except psycopg.ProgrammingError:
            return "the database of postgresql.dsn (not a valid connection string)"
        host, port, name = (
            parts.get("host", "localhost"),
            parts.get("port", 5432),
            parts.get("dbname", ""),
        )
    else:
        host, port, name = settings.host, settings.port, settings.dbname
    return f"PostgreSQL {name} on {host}:{port}"


def open_pool(
    settings: PostgresSettings, *, timezone: str, size: int | None = None
) -> ConnectionPool[Any]:
    """A pool with at least one connection made, or `PostgresUnavailable` saying why not."""
    try:
        info = conninfo(settings, timezone=timezone)
    except psycopg.ProgrammingError as exc:
        raise PostgresUnavailable(
            f"postgresql.dsn is not a valid connection string: {exc}"
        ) from None
    pool: ConnectionPool[Any] = ConnectionPool(
        info,
        min_size=1,
        max_size=size or settings.pool_size,
        kwargs={"autocommit": True, "row_factory": dict_row},
        check=ConnectionPool.check_connection,
        open=False,
        name="topcontact-state",
    )
    try:
        pool.open(wait=True, timeout=settings.connect_timeout_seconds + 5)
    except psycopg.Error as exc:
        pool.close()
        # Make the first connection ourselves for libpq's own message (the pool only times out).
        try:
            psycopg.connect(info).close()
        except psycopg.Error as reason:
            raise PostgresUnavailable(f"{where(settings)}: cannot connect: {reason}") from None
        raise PostgresUnavailable(f"{where(settings)}: cannot connect: {exc}") from None
    return pool
