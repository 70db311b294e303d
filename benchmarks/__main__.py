"""python -m benchmarks {world,ingest,build} [options]: time the generator, the ingestion or
the dbt build of the KPI marts.

world:  generate a world REPEAT times into a scratch folder; report the median wall time and
        the peak memory of one generation (resource.getrusage of a child process).
ingest: load a generated landing zone into a fresh DuckDB file REPEAT times (median), and a
        one-more-day ingest: all business dates but the last, then the last one alone.
build:  replay a landing zone by delivery date into a fresh warehouse: every delivery but the
        last, ingested and built in full (`dbt build` of the KPI marts and everything upstream,
        data tests included, unit tests left to CI as in production), REPEAT times; then the
        last delivery ingested and built incrementally on that built warehouse, and built once
        more with nothing new, REPEAT times. Medians and peak memory of the dbt process.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from ingestion.discover import discover
from ingestion.load import ingest

# Runs a command and prints its own peak RSS of children (KiB) on stderr: a fresh process per
# measurement, so that an earlier, bigger child does not show in a later one's peak.
PEAK_WRAPPER = (
    "import resource, subprocess, sys; "
    "code = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(code)"
)


def timed_alone(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process, measured on its own."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK_WRAPPER, *command], capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-4000:]}{done.stderr}")
    return seconds, int(done.stderr.strip().splitlines()[-1]) / 1024


def bench_world(args: argparse.Namespace) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="concord-bench-"))
    try:
        runs = []
        for _ in range(args.repeat):
            runs.append(
                timed_alone(
                    [
                        sys.executable,
                        "-m",
                        "simulation",
                        "--seed",
                        "42",
                        "--scale-factor",
                        str(args.scale_factor),
                        "--days",
                        str(args.days),
                        "--out",
                        str(scratch / "world"),
                    ]
                )
            )
        seconds = statistics.median(r[0] for r in runs)
        print(
            f"world sf={args.scale_factor} days={args.days}: median {seconds:.1f} s over "
            f"{len(runs)} runs ({', '.join(f'{r[0]:.1f}' for r in runs)}); "
            f"peak RSS {max(r[1] for r in runs):.0f} MiB"
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def bench_ingest(args: argparse.Namespace) -> None:
    landing = Path(args.landing)
    dates = sorted({f.business_date for f in discover(landing) if f.business_date})
    scratch = Path(tempfile.mkdtemp(prefix="concord-bench-"))
    try:
        full = []
        for i in range(args.repeat):
            report = ingest(landing, scratch / f"full{i}.duckdb")
            full.append(report.seconds)
        print(
            f"ingest all {len(dates)} business dates: median {statistics.median(full):.2f} s "
            f"over {len(full)} runs; {report.rows_loaded} rows loaded, "
            f"{report.rows_quarantined} quarantined, {report.files_seen} files"
        )
        one = []
        for i in range(args.repeat):
            warehouse = scratch / f"inc{i}.duckdb"
            ingest(landing, warehouse, business_dates=set(dates[:-1]))
            one.append(ingest(landing, warehouse, business_dates={dates[-1]}).seconds)
        print(
            f"ingest one more day ({dates[-1]}) on top of {len(dates) - 1}: median "
            f"{statistics.median(one):.2f} s over {len(one)} runs"
        )
        assert dates[-1] - dates[0] >= timedelta(days=1)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


KPI_CHAIN = [
    "+mart_net_sales",
    "+mart_cogs",
    "+mart_available_inventory",
    "+fct_marketplace_fees",
    "+fct_inventory_movements",
    # the conformed dimensions, which the facts' relationship tests read
    "+path:models/marts/core",
]


def dbt_build(warehouse: Path, scratch: Path) -> tuple[float, float]:
    """`dbt build` of the KPI chain against a warehouse: wall seconds and peak RSS (MiB)."""
    project = Path(__file__).resolve().parents[1]
    return timed_alone(
        [
            "env",
            f"CONCORD_WAREHOUSE={warehouse}",
            str(Path(sys.executable).parent / "dbt"),
            "--quiet",
            "build",
            "--select",
            *KPI_CHAIN,
            # the tests of these models, not those that also read models left out
            "--indirect-selection",
            "cautious",
            # as in production (orchestration/dbt.py): unit tests run in CI
            "--exclude-resource-type",
            "unit_test",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project / "profiles"),
            "--target-path",
            str(scratch / "target"),
            "--log-path",
            str(scratch / "logs"),
        ]
    )


def replay(landing: Path, replayed: Path, deliveries: list[str]) -> None:
    """Copy the delivery folders (<system>/<delivery date>) of the given dates."""
    for folder in sorted(landing.glob("*/*")):
        if folder.is_dir() and folder.name in deliveries:
            shutil.copytree(folder, replayed / folder.relative_to(landing), dirs_exist_ok=True)


def print_slowest(run_results: Path, count: int = 12) -> None:
    """The slowest nodes of the last dbt invocation, and model and test time in all."""
    results = json.loads(run_results.read_text())["results"]
    models = sum(r["execution_time"] for r in results if r["unique_id"].startswith("model."))
    others = sum(r["execution_time"] for r in results) - models
    print(f"  last build: models {models:.1f} s, tests {others:.1f} s of node time; slowest:")
    for result in sorted(results, key=lambda r: -r["execution_time"])[:count]:
        print(f"    {result['execution_time']:6.2f} s  {result['unique_id']}")


def report(what: str, runs: list[tuple[float, float]]) -> None:
    print(
        f"dbt build of the KPI marts, {what}: median "
        f"{statistics.median(r[0] for r in runs):.1f} s over {len(runs)} runs "
        f"({', '.join(f'{r[0]:.1f}' for r in runs)}); peak RSS "
        f"{max(r[1] for r in runs):.0f} MiB"
    )


def bench_build(args: argparse.Namespace) -> None:
    landing = Path(args.landing)
    deliveries = sorted({d.name for d in landing.glob("*/*") if d.is_dir()})
    scratch = Path(tempfile.mkdtemp(prefix="concord-bench-", dir=args.scratch))
    try:
        replay(landing, scratch / "landing", deliveries[:-1])
        base = scratch / "base.duckdb"
        ingest(scratch / "landing", base)
        ingested = scratch / "ingested.duckdb"
        shutil.copy(base, ingested)
        full = []
        for _ in range(args.repeat):
            shutil.copy(ingested, base)
            full.append(dbt_build(base, scratch))
        report(f"full, over {len(deliveries) - 1} deliveries", full)
        replay(landing, scratch / "landing", deliveries[-1:])
        built = scratch / "built.duckdb"
        shutil.copy(base, built)
        one, nothing_new = [], []
        for _ in range(args.repeat):
            # the same warehouse path as the full build's, as in production: dbt's partial
            # parse stays valid
            shutil.copy(built, base)
            ingest(scratch / "landing", base)
            one.append(dbt_build(base, scratch))
            shutil.copy(scratch / "target" / "run_results.json", scratch / "one_more_day.json")
            nothing_new.append(dbt_build(base, scratch))
        print_slowest(scratch / "one_more_day.json")
        report(f"one more delivery ({deliveries[-1]}), incremental", one)
        report("again with nothing new (dbt's own work and the tests of whole models)", nothing_new)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    sub = parser.add_subparsers(dest="what", required=True)
    world = sub.add_parser("world")
    world.add_argument("--scale-factor", type=float, default=1.0)
    world.add_argument("--days", type=int, default=365)
    world.add_argument("--repeat", type=int, default=3)
    load = sub.add_parser("ingest")
    load.add_argument("--landing", required=True)
    load.add_argument("--repeat", type=int, default=3)
    build = sub.add_parser("build")
    build.add_argument("--landing", required=True)
    build.add_argument("--repeat", type=int, default=3)
    build.add_argument("--scratch", default=None, help="folder for the scratch warehouses")
    args = parser.parse_args(argv)
    {"world": bench_world, "ingest": bench_ingest, "build": bench_build}[args.what](args)


if __name__ == "__main__":
    main()
