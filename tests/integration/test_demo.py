"""`topcontact-mail demo` end to end, as a process: it ends with the status table and writes the
HTML report of the demo month beside the acknowledgements."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.parametrize("backend", ["ews", "graph"])
def test_the_demo_ends_with_the_status_table_and_the_months_report(
    backend: str, tmp_path: Path
) -> None:
    output = tmp_path / "demo-output"

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "topcontact_mail",
            "demo",
            "--backend",
            backend,
            "--output",
            str(output),
        ],
        capture_output=True,
        timeout=240,
        check=False,
        cwd=tmp_path,
    )

    text = result.stdout.decode("utf-8", "replace")
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    assert "Een collega heeft gewerkt: beantwoord vanuit de gedeelde mailbox" in text
    assert "Top Contact, stand op" in text
    assert "Terugbellen: 1 gepland, 0 gemist" in text  # the demo's booking for Jan de Vries
    assert len(list(output.glob("bevestiging-*.eml"))) == 5
    assert len(list(output.glob("terugbelverzoek-*.eml"))) == 1  # the booker's confirmation
    report = output / "rapport-2026-11.html"
    page = report.read_text(encoding="utf-8")
    assert 'data-key="totals.received">8<' in page  # eight of the nine samples are November's
    assert "berichten als beantwoord herkend" in text
