"""The HTML report opened in a real browser (headless Chromium): it renders, and shows the JSON's numbers.

The browser takes a screenshot (set TOPCONTACT_REPORT_SCREENSHOT to a path to
keep it, for a person to look at) and dumps the DOM it built; every element
with a `data-key` must show the JSON's value at that key, written the Dutch
way. Skipped only when no Chromium binary is installed (Debian: `apt-get
install chromium`).
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from topcontact_mail.reports.figures import MonthReport, Privacy, month_report
from topcontact_mail.reports.render import to_html, to_json
from topcontact_mail.reports.templating import number, percent, report_environment

from .support import AS_OF, CALENDAR, CALLBACKS, RECORDS, SUBJECTS, TARGETS

BROWSER = next(
    (
        found
        for name in ("chromium", "chromium-browser", "google-chrome")
        if (found := shutil.which(name))
    ),
    None,
)
pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no Chromium binary on PATH (Debian: apt-get install chromium)"
)
WIDTH, HEIGHT = 1200, 1600


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert BROWSER is not None
    command = [
        BROWSER,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--window-size={WIDTH},{HEIGHT}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


class _Keyed(HTMLParser):
    """Collects the text of every element that has a data-key, and the charts' value labels."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[tuple[str, str]] = []
        self.chart_values: dict[str, list[str]] = {}
        self._open: list[tuple[str, str, list[str]]] = []
        self._chart: str | None = None
        self._value_text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        key = attributes.get("data-key")
        if key:
            self._open.append((tag, key, []))
        if tag == "svg" and (attributes.get("id") or "").startswith("chart-"):
            self._chart = (attributes.get("id") or "")[len("chart-") :]
            self.chart_values[self._chart] = []
        if tag == "text" and self._chart and "value" in (attributes.get("class") or "").split():
            self._value_text = []

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            _, key, parts = self._open.pop()
            self.values.append((key, "".join(parts).strip()))
        if tag == "text" and self._value_text is not None and self._chart:
            self.chart_values[self._chart].append("".join(self._value_text))
            self._value_text = None
        if tag == "svg":
            self._chart = None

    def handle_data(self, data: str) -> None:
        for _, _, parts in self._open:
            parts.append(data)
        if self._value_text is not None:
            self._value_text.append(data)


def _at(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def _shown(path: str, value: Any) -> str:
    if path.endswith(".share"):
        return percent(value)
    return number(value)


@pytest.fixture(scope="module")
def report() -> MonthReport:
    return month_report(
        RECORDS,
        TARGETS,
        CALLBACKS,
        "2026-12",
        CALENDAR,
        AS_OF,
        privacy=Privacy.IDENTIFIED,
        subjects=SUBJECTS,
    )


def test_the_browser_renders_the_report_and_shows_the_json_numbers(
    report: MonthReport, tmp_path: Path
) -> None:
    page = tmp_path / "rapport-2026-12.html"
    page.write_text(to_html(report, report_environment(), team_name="Team Klantcontact"), "utf-8")
    data = json.loads(to_json(report))
    screenshot = tmp_path / "rapport.png"

    _chromium(tmp_path, f"--screenshot={screenshot}", page.as_uri())
    dom = _chromium(tmp_path, "--dump-dom", page.as_uri()).stdout

    png = screenshot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (WIDTH, HEIGHT)
    assert len(png) > 20_000, "a blank page compresses to almost nothing"
    if keep := os.environ.get("TOPCONTACT_REPORT_SCREENSHOT"):
        shutil.copyfile(screenshot, keep)

    parser = _Keyed()
    parser.feed(dom)
    assert len(parser.values) > 60
    for path, shown in parser.values:
        assert shown == _shown(path, _at(data, path)), path
    # Every week's share on the chart is the JSON's (weeks without a known outcome have no bar).
    assert parser.chart_values["op-tijd-per-week"] == [
        percent(w["answered_in_time"]["share"])
        for w in data["weeks"]
        if w["answered_in_time"]["share"] is not None
    ]
    assert sorted(parser.chart_values["redenen"]) == sorted(
        number(n) for n in data["totals"]["skipped_by_reason"].values()
    )
    assert "Top Contact: cijfers van december 2026" in dom
