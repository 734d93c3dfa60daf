"""The proving ground's short crash scenario with the state in PostgreSQL (the hosting partners'
set-up): SIGKILLs while sending, and still every human exactly one acknowledgement.

`python reliability/run.py --store postgres` runs the full versions. The server is the
tests' throw-away one (tests/pg_server.py); where none can start, the test is skipped
with the reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reliability.run import run_unit
from tests.pg_server import DSN_ENV, PostgresServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.parametrize("backend", ["ews", "graph"])
def test_the_short_crash_scenario_holds_every_goal_on_postgresql(
    backend: str, tmp_path: Path, postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DSN_ENV, postgres_server.dsn())  # the site's schema in this server
    rows = run_unit("crash", backend, full=False, workdir=tmp_path, store="postgres")

    assert rows, "the scenario reported nothing"
    failed = [f"{r['figure']}: {r['value']} (goal {r['goal']})" for r in rows if not r["held"]]
    assert failed == [], f"crash on {backend} with PostgreSQL: " + "; ".join(failed)
    figures = {r["figure"]: r["value"] for r in rows}
    assert figures["acknowledgements missing"] == 0
    assert figures["acknowledgements doubled"] == 0
