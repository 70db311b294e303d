"""python -m benchmarks {world,ingest} [options]: time the generator or the ingestion.

world:  generate a world REPEAT times into a scratch folder; report the median wall time and
        the peak memory of one generation (resource.getrusage of a child process).
ingest: load a generated landing zone into a fresh DuckDB file REPEAT times (median), and a
        one-more-day ingest: all business dates but the last, then the last one alone.
"""

from __future__ import annotations

import argparse
import resource
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


def timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024


def bench_world(args: argparse.Namespace) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="concord-bench-"))
    try:
        runs = []
        for _ in range(args.repeat):
            runs.append(
                timed(
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
    args = parser.parse_args(argv)
    {"world": bench_world, "ingest": bench_ingest}[args.what](args)


if __name__ == "__main__":
    main()
