"""Fixtures every test folder may use: a throw-away PostgreSQL server (tests/pg_server.py).

The server starts once per test session (per xdist worker) on first use; where
it cannot start, every test that asks for it is skipped with the reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.pg_server import PostgresServer, PostgresUnavailable


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer.start()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL is not available here: {exc}")
    yield server
    server.stop()


@pytest.fixture
def pg_schema(postgres_server: PostgresServer) -> Iterator[str]:
    """A schema of its own for one test (dropped after it), so tests never see each other."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    yield schema
    postgres_server.drop_schema(schema)


@pytest.fixture
def pg_pool(postgres_server: PostgresServer, pg_schema: str) -> Iterator[Any]:
    """A connection pool to the test's schema, as the service makes it."""
    from pydantic import SecretStr

    from topcontact_mail.adapters.postgres import open_pool
    from topcontact_mail.config import PostgresSettings

    settings = PostgresSettings(
        dsn=SecretStr(postgres_server.dsn()), schema_name=pg_schema, sslmode="disable"
    )
    pool = open_pool(settings, timezone="Europe/Amsterdam", size=8)
    yield pool
    pool.close()
