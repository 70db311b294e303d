"""What a dbt build's data tests cost as SQL alone, without dbt's work per node
(docs/benchmarks.md, "Issue 15's two open targets on a fast, quiet machine").

    python -m benchmarks.checks_sql --target DIR --warehouse FILE [--threads 2] [--repeat 3]

DIR is the target folder of a finished `dbt build` (its run_results.json and manifest.json, as
the build compiled its tests). Each data test the build ran is run again straight from Python
in DuckDB, wrapped as dbt's test materialization wraps it (`select count(*) as failures from
(...)`), on one read-only connection of FILE with a cursor per test, THREADS at a time. Prints
the median wall and CPU seconds and whether every test found as many failing rows as in the
build. Run it on the warehouse the build left, before anything else writes it.
"""

import argparse
import json
import resource
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb


def tests_of_build(target: Path) -> tuple[dict[str, str], dict[str, int]]:
    """For each data test the build ran (unique_id): its SQL as the build compiled it, and the
    failing rows it found."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    found = {
        r["unique_id"]: r.get("failures") or 0
        for r in results
        if r["unique_id"].startswith("test.")
    }
    missing = [uid for uid in found if not nodes[uid].get("compiled_code")]
    if missing:
        raise SystemExit(f"{target}/manifest.json has no compiled SQL for {missing[0]}")
    return {uid: nodes[uid]["compiled_code"] for uid in found}, found


def run_all(warehouse: Path, tests: dict[str, str], threads: int) -> tuple[float, float, dict]:
    """Wall and CPU seconds of running every test once, and the failing rows of each."""
    con = duckdb.connect(str(warehouse), read_only=True)

    def failures(item: tuple[str, str]) -> tuple[str, int]:
        unique_id, sql = item
        cursor = con.cursor()
        try:
            wrapped = f"select count(*) as failures from ({sql}) dbt_internal_test"  # noqa: S608
            return unique_id, cursor.execute(wrapped).fetchone()[0]
        finally:
            cursor.close()

    try:
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            found = dict(pool.map(failures, tests.items()))
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        con.close()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, found


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.checks_sql")
    parser.add_argument("--target", required=True, type=Path, help="a finished build's target")
    parser.add_argument("--warehouse", required=True, type=Path, help="the warehouse it built")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tests, expected = tests_of_build(args.target)
    runs = [run_all(args.warehouse, tests, args.threads) for _ in range(args.repeat)]
    agree = all(found == expected for _, _, found in runs)
    print(
        f"{len(tests)} data tests, {args.threads} threads: median "
        f"{statistics.median(r[0] for r in runs):.2f} s wall "
        f"({', '.join(f'{r[0]:.2f}' for r in runs)}), "
        f"{statistics.median(r[1] for r in runs):.2f} s CPU; "
        f"{sum(1 for n in runs[-1][2].values() if n)} failing; failing rows "
        + ("as in the build" if agree else "NOT as in the build")
    )


if __name__ == "__main__":
    main()
