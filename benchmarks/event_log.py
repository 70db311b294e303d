"""What Dagster's run history costs a build, by event log storage (docs/benchmarks.md,
"Dagster's event log").

    python -m benchmarks.event_log [--checks 1000] [--repeat 3]

One in-process run of a multi-asset with as many asset checks as a day's dbt build reports
(each check: planned, output and evaluation events, the latter mirrored in the cross-run index),
in a fresh DAGSTER_HOME per run: Dagster's default SQLite event log, then Concord's
(orchestration/event_log.py, as orchestration/dagster.yaml configures it). Prints the median
wall and CPU seconds of each, and per check.
"""

import argparse
import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import dagster as dg

PROJECT_ROOT = Path(__file__).resolve().parents[1]
STORAGES = {
    "Dagster's default SQLite event log": "telemetry:\n  enabled: false\n",
    "Concord's (orchestration/event_log.py)": (
        PROJECT_ROOT / "orchestration" / "dagster.yaml"
    ).read_text(),
}


def checked_asset(checks: int) -> dg.AssetsDefinition:
    specs = [dg.AssetCheckSpec(f"check_{n:04d}", asset="tested") for n in range(checks)]

    @dg.multi_asset(specs=[dg.AssetSpec("tested")], check_specs=specs)
    def tested():
        yield dg.MaterializeResult(asset_key="tested")
        for spec in specs:
            yield dg.AssetCheckResult(asset_key="tested", check_name=spec.name, passed=True)

    return tested


def one_run(config: str, checks: int) -> tuple[float, float]:
    home = Path(tempfile.mkdtemp(prefix="concord-events-"))
    previous = os.environ.get("DAGSTER_HOME")
    try:
        (home / "dagster.yaml").write_text(config)
        os.environ["DAGSTER_HOME"] = str(home)
        instance = dg.DagsterInstance.from_config(str(home))
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        result = dg.materialize(
            [checked_asset(checks)],
            instance=instance,
            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        if not result.success:
            raise SystemExit("the benchmark run failed")
        instance.dispose()
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu
    finally:
        if previous is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = previous
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.event_log")
    parser.add_argument("--checks", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"one run, one asset with {args.checks} checks; median of {args.repeat}", flush=True)
    for name, config in STORAGES.items():
        runs = [one_run(config, args.checks) for _ in range(args.repeat)]
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        print(
            f"{name}: {wall:.1f} s wall, {cpu:.1f} s CPU; "
            f"{1000 * wall / args.checks:.1f} ms wall per check",
            flush=True,
        )


if __name__ == "__main__":
    main()
