"""Screening figures per fixture class: how many are skipped and acknowledged, and every disagreement.

Run as `make screening-report` (not part of `make test`). The class of a fixture
is its file name's prefix (bounce, oof, list, person, ...); the expected verdict
is the one in tests/unit/screening/test_screening_fixtures.py (EXPECTED).

Other folders of .eml files can be screened too, each with what all its
messages are expected to be, to measure a corpus the tests do not hold:

    python tools/screening_report.py --corpus machine:/path/to/bounces --corpus person:/path/to/people

Exit status 1 when any verdict disagrees with the expectation.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.unit.screening.support import FIXTURES, POLICY  # noqa: E402 - after the path is set
from tests.unit.screening.test_screening_fixtures import EXPECTED, UNREADABLE  # noqa: E402
from topcontact_mail.domain.mime import UnreadableMessage, parse_message  # noqa: E402
from topcontact_mail.domain.screening import screen  # noqa: E402

UNREADABLE_REASON = "unreadable"


@dataclass(frozen=True)
class Result:
    name: str
    group: str
    expected: str
    reason: str
    detail: str

    @property
    def agrees(self) -> bool:
        if self.expected in ("machine", "person"):
            return (self.reason == "person") == (self.expected == "person")
        return self.reason == self.expected


def screen_file(path: Path) -> tuple[str, str]:
    try:
        message = parse_message(path.read_bytes())
    except UnreadableMessage as exc:
        return UNREADABLE_REASON, exc.reason
    verdict = screen(message, POLICY)
    return verdict.reason, verdict.detail


def fixture_results() -> list[Result]:
    expected = {**EXPECTED, **dict.fromkeys(UNREADABLE, UNREADABLE_REASON)}
    results = []
    for path in sorted(p for p in FIXTURES.iterdir() if p.name != "SOURCES.md"):
        reason, detail = screen_file(path)
        group = path.name.split("-", 1)[0].split(".", 1)[0]
        results.append(Result(path.name, group, expected.get(path.name, "(none)"), reason, detail))
    return results


def corpus_results(spec: str) -> list[Result]:
    kind, _, folder = spec.partition(":")
    if kind not in ("machine", "person") or not folder:
        raise SystemExit(f"--corpus wants machine:DIR or person:DIR, not {spec!r}")
    results = []
    for path in sorted(Path(folder).glob("*.eml")):
        reason, detail = screen_file(path)
        results.append(Result(path.name, f"{kind}:{Path(folder).name}", kind, reason, detail))
    return results


def report(results: list[Result]) -> int:
    groups: dict[str, Counter[str]] = {}
    for r in results:
        counts = groups.setdefault(r.group, Counter())
        counts["total"] += 1
        counts["acknowledged" if r.reason == "person" else "skipped"] += 1
        counts["disagree"] += 0 if r.agrees else 1
    width = max(len(g) for g in groups) if groups else 5
    print(
        f"{'class':<{width}}  {'total':>5}  {'skipped':>7}  {'acknowledged':>12}  {'disagree':>8}"
    )
    for group in sorted(groups):
        c = groups[group]
        print(
            f"{group:<{width}}  {c['total']:>5}  {c['skipped']:>7}  "
            f"{c['acknowledged']:>12}  {c['disagree']:>8}"
        )
    total = Counter[str]()
    for c in groups.values():
        total.update(c)
    print(
        f"{'all':<{width}}  {total['total']:>5}  {total['skipped']:>7}  "
        f"{total['acknowledged']:>12}  {total['disagree']:>8}"
    )
    wrong = [r for r in results if not r.agrees]
    print()
    if not wrong:
        print("No disagreement with the expected verdicts.")
        return 0
    print(f"{len(wrong)} disagreement(s) with the expected verdict:")
    for r in wrong:
        print(f"  {r.name}: expected {r.expected}, got {r.reason} ({r.detail})")
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--corpus",
        action="append",
        default=[],
        metavar="KIND:DIR",
        help="also screen DIR/*.eml, all expected to be KIND (machine or person)",
    )
    parser.add_argument(
        "--no-fixtures", action="store_true", help="screen only the --corpus folders"
    )
    args = parser.parse_args(argv)
    results = [] if args.no_fixtures else fixture_results()
    for spec in args.corpus:
        results += corpus_results(spec)
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
