"""The proving ground's short versions: each scenario on each backend, every goal held.

`make reliability` runs the full versions (reliability/run.py); these run the same code
with small numbers, so a change that breaks a promise shows up in `make test` already.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reliability.run import SCENARIOS, run_unit

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.parametrize("backend", ["ews", "graph"])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_goal_of_the_short_scenario_holds(
    scenario: str, backend: str, tmp_path: Path
) -> None:
    rows = run_unit(scenario, backend, full=False, workdir=tmp_path)

    assert rows, "the scenario reported nothing"
    failed = [f"{r['figure']}: {r['value']} (goal {r['goal']})" for r in rows if not r["held"]]
    assert failed == [], f"{scenario} on {backend}: " + "; ".join(failed)
