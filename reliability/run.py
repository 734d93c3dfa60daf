"""`make reliability`: the proving ground — the real daemon against the strict sandbox, scored.

Six scenarios (crash consistency, faults, loops and storms, hostile input, secrets, soak)
on both backends. Each (scenario, backend) runs in its own process with its own sandbox,
`--jobs` of them at a time; the rows (scenario, backend, figure, value, goal, held) are
printed as a table and written as JSON. Exit status 1 when any goal was not held.

`--store postgres` keeps the instances' state in PostgreSQL instead of SQLite (the
hosting partners' set-up): one throw-away server for the run (`tests/pg_server.py`, or
the one `$TOPCONTACT_TEST_POSTGRES_DSN` names), a schema per scenario and backend, each
instance working its mailbox under the lease. Exit status 2 when no server can start.

    python reliability/run.py [--quick] [--scenario NAME]... [--backend ews|graph]...
                              [--store sqlite|postgres] [--jobs 2]
                              [--json reliability/results/latest.json]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: In the order they are reported; the longest start first when run side by side.
SCENARIOS = ("crash", "faults", "storms", "hostile", "secrets", "soak")
LONGEST_FIRST = ("soak", "faults", "crash", "storms", "hostile", "secrets")
BACKENDS = ("ews", "graph")
STORES = ("sqlite", "postgres")
DEFAULT_JSON = ROOT / "reliability" / "results" / "latest.json"
DEFAULT_JSON_POSTGRES = ROOT / "reliability" / "results" / "latest-postgres.json"


def run_unit(
    scenario: str, backend: str, full: bool, workdir: Path, store: str = "sqlite"
) -> list[dict[str, Any]]:
    """Run one scenario on one backend in this process, the state in `store`; its rows as
    dicts."""
    from reliability.harness import use_store

    use_store(store)
    module = importlib.import_module(f"reliability.scenarios.{scenario}")
    rows = module.run(backend, full, workdir)
    return [row.as_dict() for row in rows.rows]


def worker(args: argparse.Namespace) -> int:
    began = time.monotonic()
    try:
        rows = run_unit(
            args.worker[0], args.worker[1], not args.quick, Path(args.workdir), args.store
        )
    except Exception as exc:  # a harness failure is a row that did not hold, not a lost run
        import traceback

        traceback.print_exc()
        rows = [
            {
                "scenario": args.worker[0],
                "backend": args.worker[1],
                "figure": "scenario ran to its end",
                "value": f"{type(exc).__name__}: {exc}"[:200],
                "goal": "yes",
                "held": False,
            }
        ]
    Path(args.out).write_text(
        json.dumps({"rows": rows, "seconds": round(time.monotonic() - began, 1)}), "utf-8"
    )
    return 0


def spawn(scenario: str, backend: str, quick: bool, base: Path, store: str) -> dict[str, Any]:
    workdir = base / f"{scenario}-{backend}"
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / "rows.json"
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        scenario,
        backend,
        "--out",
        str(out),
        "--workdir",
        str(workdir),
        "--store",
        store,
        *(["--quick"] if quick else []),
    ]
    with (workdir / "harness.log").open("wb") as log:
        subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False, cwd=ROOT)
    if not out.exists():
        tail = (workdir / "harness.log").read_text("utf-8", "replace")[-500:]
        return {
            "rows": [
                {
                    "scenario": scenario,
                    "backend": backend,
                    "figure": "scenario ran to its end",
                    "value": tail,
                    "goal": "yes",
                    "held": False,
                }
            ],
            "seconds": 0,
        }
    return dict(json.loads(out.read_text("utf-8")))


def show(rows: list[dict[str, Any]], timings: dict[str, float]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("scenario", "backend", "figure", "value", "goal", "held")
    order = {name: i for i, name in enumerate(SCENARIOS)}
    for row in sorted(rows, key=lambda r: (order.get(r["scenario"], 99), r["backend"])):
        table.add_row(
            row["scenario"],
            row["backend"],
            row["figure"],
            str(row["value"]),
            row["goal"],
            "yes" if row["held"] else "[bold red]NO[/]",
        )
    console = Console(width=160)
    console.print(table)
    console.print(
        "time per scenario and backend: "
        + ", ".join(f"{unit} {seconds:.0f} s" for unit, seconds in timings.items())
    )


def markdown(path: Path) -> str:
    """The rows of a results file as a Markdown table (for the README)."""
    data = json.loads(path.read_text("utf-8"))
    order = {name: i for i, name in enumerate(SCENARIOS)}
    lines = [
        "| scenario | backend | figure | value | goal | held |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in sorted(data["rows"], key=lambda r: (order.get(r["scenario"], 99), r["backend"])):
        value = str(row["value"]).replace("|", "/")
        lines.append(
            f"| {row['scenario']} | {row['backend']} | {row['figure'].strip()} | {value} "
            f"| {row['goal']} | {'yes' if row['held'] else '**no**'} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the short versions (as in make test)")
    parser.add_argument("--scenario", action="append", choices=SCENARIOS)
    parser.add_argument("--backend", action="append", choices=BACKENDS)
    parser.add_argument(
        "--store", choices=STORES, default="sqlite", help="where the instances keep their state"
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--json", type=Path, help=f"default {DEFAULT_JSON} ({DEFAULT_JSON_POSTGRES} on PostgreSQL)"
    )
    parser.add_argument("--keep", type=Path, help="keep the runs' files (logs, state) here")
    parser.add_argument("--markdown", type=Path, help="print a results file as a Markdown table")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    from tests.pg_server import DSN_ENV, PostgresServer, PostgresUnavailable

    if args.worker:
        return worker(args)
    if args.markdown:
        print(markdown(args.markdown))
        return 0

    scenarios = args.scenario or list(SCENARIOS)
    backends = args.backend or list(BACKENDS)
    units = [(s, b) for s in LONGEST_FIRST if s in scenarios for b in backends]
    json_path = args.json or (DEFAULT_JSON_POSTGRES if args.store == "postgres" else DEFAULT_JSON)
    began = time.monotonic()
    server = None
    if args.store == "postgres" and not os.environ.get(DSN_ENV):
        try:
            server = PostgresServer.start()
        except PostgresUnavailable as exc:
            print(f"--store postgres: no PostgreSQL server: {exc}", file=sys.stderr)
            return 2
        os.environ[DSN_ENV] = server.dsn()  # the workers' sites use this one server
    try:
        with tempfile.TemporaryDirectory(prefix="proving-ground-") as tmp:
            base = args.keep or Path(tmp)
            with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
                futures = {
                    unit: pool.submit(spawn, unit[0], unit[1], args.quick, base, args.store)
                    for unit in units
                }
                results = {unit: future.result() for unit, future in futures.items()}
    finally:
        if server is not None:
            server.stop()
    rows = [row for result in results.values() for row in result["rows"]]
    timings = {f"{s}/{b}": float(results[(s, b)]["seconds"]) for s, b in units}
    total = time.monotonic() - began
    show(rows, timings)
    held = all(row["held"] for row in rows)
    print(
        f"proving ground ({args.store}): {len(rows)} rows, {'every goal held' if held else 'GOALS NOT HELD'}, {total / 60:.1f} min"
    )
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(
        json.dumps(
            {
                "finished": datetime.now(UTC).isoformat(timespec="seconds"),
                "quick": args.quick,
                "store": args.store,
                "seconds": round(total),
                "timings": timings,
                "all_held": held,
                "rows": rows,
            },
            indent=1,
            ensure_ascii=False,
        ),
        "utf-8",
    )
    print(f"written: {json_path}")
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
