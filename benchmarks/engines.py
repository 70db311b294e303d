"""python -m benchmarks.engines --landing DIR [--engines duckdb,spark]: the same dbt build on
DuckDB and on Spark (docs/benchmarks.md, "DuckDB and Spark").

Replays every delivery of the landing zone but the last into a scratch folder and ingests it
(DuckDB's raw tables and the Parquet lake), then runs the production `dbt build` (models, seeds
and data tests; unit tests are CI's) on each engine: the full history. Then delivers the last
day, ingests it (with its lake sync) and builds again on each engine: one more day,
incremental. Each build is split, from dbt's run_results.json, into start-up (process, parse,
connection and Spark session, on-run-start hooks: up to the first model's, seed's or test's
start), nodes (from there to the last one's end) and the rest (on-run-end, exit). One run each.

The Spark build is a local session (`CONCORD_TARGET=spark`, Java 17 and the extra `spark`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.__main__ import replay
from ingestion.load import ingest

PROJECT = Path(__file__).resolve().parents[1]
# The nodes that do the work (the on-run-start hooks count as start-up; exposures and saved
# queries run nothing).
NODE_TYPES = {"model", "seed", "test", "unit_test"}


def engine_env(engine: str, scratch: Path) -> dict[str, str]:
    env = os.environ | {
        "CONCORD_WAREHOUSE": str(scratch / "warehouse.duckdb"),
        "CONCORD_LAKE_DIR": str(scratch / "lake"),
    }
    if engine == "spark":
        env |= {
            "CONCORD_TARGET": "spark",
            "CONCORD_SPARK_WAREHOUSE": str(scratch / "spark" / "warehouse"),
            "SPARK_LOCAL_IP": "127.0.0.1",
        }
    return env


def build(engine: str, scratch: Path, what: str) -> None:
    """One production `dbt build` on an engine; prints its split and its nodes' statuses."""
    artifacts = scratch / engine
    started = datetime.now(UTC)
    clock = time.perf_counter()
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "build",
            "--exclude-resource-type",
            "unit_test",
            *["--project-dir", str(PROJECT), "--profiles-dir", str(PROJECT / "profiles")],
            *["--target-path", str(artifacts / "target"), "--log-path", str(artifacts / "logs")],
        ],
        env=engine_env(engine, scratch),
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - clock
    if done.returncode != 0:
        failed = [line for line in done.stdout.splitlines() if " ERROR " in line]
        raise SystemExit(f"dbt build on {engine} failed:\n" + "\n".join(failed[-30:]))
    results = [
        r
        for r in json.loads((artifacts / "target" / "run_results.json").read_text())["results"]
        if r["unique_id"].split(".")[0] in NODE_TYPES
    ]
    spans = [
        (
            datetime.fromisoformat(t["started_at"].replace("Z", "+00:00")),
            datetime.fromisoformat(t["completed_at"].replace("Z", "+00:00")),
        )
        for r in results
        for t in r["timing"]
        if t.get("started_at") and t.get("completed_at")
    ]
    first = min(s for s, _ in spans)
    last = max(e for _, e in spans)
    start_up = (first - started).total_seconds()
    nodes = (last - first).total_seconds()
    statuses = Counter(r["status"] for r in results)
    print(
        f"{engine:6} {what}: {wall:7.1f} s = start-up {start_up:5.1f} s + nodes {nodes:7.1f} s "
        f"+ end {wall - start_up - nodes:4.1f} s; {len(results)} nodes "
        f"({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))})",
        flush=True,
    )


def ingest_timed(scratch: Path, what: str) -> None:
    """Ingest the scratch landing zone into its warehouse and lake, and say how long it took."""
    report = ingest(scratch / "landing", scratch / "warehouse.duckdb", lake_dir=scratch / "lake")
    print(
        f"ingest (raw tables and lake) of {what}: "
        f"{report.seconds:.1f} s, {report.rows_loaded:,} rows",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.engines", description=__doc__)
    parser.add_argument("--landing", required=True)
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("--scratch", default=None, help="folder for the scratch folder")
    args = parser.parse_args(argv)
    engines = args.engines.split(",")
    landing = Path(args.landing)
    deliveries = sorted({d.name for d in landing.glob("*/*") if d.is_dir()})
    scratch = Path(tempfile.mkdtemp(prefix="concord-engines-", dir=args.scratch))
    try:
        replay(landing, scratch / "landing", deliveries[:-1])
        ingest_timed(scratch, f"{len(deliveries) - 1} deliveries")
        for engine in engines:
            build(engine, scratch, f"full, {len(deliveries) - 1} deliveries")
        replay(landing, scratch / "landing", deliveries[-1:])
        ingest_timed(scratch, f"one more delivery ({deliveries[-1]})")
        for engine in engines:
            build(engine, scratch, f"one more day ({deliveries[-1]}), incremental")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
