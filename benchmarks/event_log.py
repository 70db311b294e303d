"""What Dagster's run history costs a build, by event log storage (docs/benchmarks.md,
"Dagster's event log").

    python -m benchmarks.event_log [--checks 1000] [--repeat 3]
    python -m benchmarks.event_log --ranged 200 [--repeat 3] [--concord-only] [--metadata 2|1|0]

One in-process run of a multi-asset with as many asset checks as a day's dbt build reports
(each check: planned, output and evaluation events, the latter mirrored in the cross-run index),
in a fresh DAGSTER_HOME per run: Dagster's default SQLite event log, then Concord's
(orchestration/event_log.py, as orchestration/dagster.yaml configures it). Prints the median
wall and CPU seconds of each, and per check. With --ranged DAYS: instead, one run over DAYS
daily partitions of a multi-asset shaped like ingestion's (25 assets with 4 checks each, one
step, a single-run backfill), planned as orchestration.run plans a long range with Concord's
storage (one planned event per asset, not per date): what a backfill's run history costs per
asset and date.
"""

import argparse
import contextlib
import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT = "Dagster's default SQLite event log"
STORAGES = {
    DEFAULT: "telemetry:\n  enabled: false\n",
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


RANGED_ASSETS = 25
DAILY = dg.DailyPartitionsDefinition(start_date="2023-01-01", end_offset=1)


def ranged_asset(metadata: int = 2) -> dg.AssetsDefinition:
    keys = [dg.AssetKey(["raw", f"extract_{n:02d}"]) for n in range(RANGED_ASSETS)]
    checks = [dg.AssetCheckSpec(c, asset=k) for k in keys for c in ("a", "b", "c", "d")]

    # the ingest step's two entries, or fewer
    entries = dict(list({"rows_in_table": 1, "files_seen_this_run": 16117}.items())[:metadata])

    @dg.multi_asset(
        specs=[dg.AssetSpec(k) for k in keys],
        check_specs=checks,
        partitions_def=DAILY,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def ingested():
        for key in keys:
            yield dg.MaterializeResult(asset_key=key, metadata=entries)
        for spec in checks:
            yield dg.AssetCheckResult(asset_key=spec.asset_key, check_name=spec.name, passed=True)

    return ingested


def one_run(config: str, checks: int, days: int = 0, metadata: int = 2) -> tuple[float, float]:
    home = Path(tempfile.mkdtemp(prefix="concord-events-"))
    previous = os.environ.get("DAGSTER_HOME")
    try:
        (home / "dagster.yaml").write_text(config)
        os.environ["DAGSTER_HOME"] = str(home)
        instance = dg.DagsterInstance.from_config(str(home))
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        keys = DAILY.get_partition_keys()[:days]
        # a long range planned as orchestration.run plans it (Concord's storage only)
        planning = getattr(instance.event_log_storage, "compact_planning", None)
        with planning(days) if planning else contextlib.nullcontext():
            result = dg.materialize(
                [ranged_asset(metadata) if days else checked_asset(checks)],
                instance=instance,
                run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
                tags={
                    ASSET_PARTITION_RANGE_START_TAG: keys[0],
                    ASSET_PARTITION_RANGE_END_TAG: keys[-1],
                }
                if days
                else None,
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
    parser.add_argument("--ranged", type=int, default=0, metavar="DAYS")
    parser.add_argument("--concord-only", action="store_true", help="skip Dagster's storage")
    parser.add_argument(
        "--metadata",
        type=int,
        choices=(0, 1, 2),
        default=2,
        help="with --ranged: metadata entries on each materialization (the ingest step has 2)",
    )
    args = parser.parse_args()
    if args.ranged:
        what, count, unit = (
            f"one run over {args.ranged} dates of {RANGED_ASSETS} assets",
            args.ranged * RANGED_ASSETS,
            "asset and date",
        )
    else:
        what, count, unit = f"one run, one asset with {args.checks} checks", args.checks, "check"
    print(f"{what}; median of {args.repeat}", flush=True)
    for name, config in STORAGES.items():
        if args.concord_only and config is STORAGES[DEFAULT]:
            continue
        runs = [
            one_run(config, args.checks, args.ranged, args.metadata) for _ in range(args.repeat)
        ]
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        print(
            f"{name}: {wall:.1f} s wall, {cpu:.1f} s CPU; "
            f"{1000 * wall / count:.2f} ms wall, {1000 * cpu / count:.2f} ms CPU per {unit}",
            flush=True,
        )


if __name__ == "__main__":
    main()
