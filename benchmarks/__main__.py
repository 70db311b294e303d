"""python -m benchmarks {world,ingest,build,refresh,service,publish} [options]: time the
generator, the ingestion, the dbt build of the KPI marts, a one-day refresh from landing to
published, or the publication alone.

world:  generate a world REPEAT times into a scratch folder; report the median wall time and
        the peak memory of one generation (resource.getrusage of a child process).
ingest: load a generated landing zone into a fresh DuckDB file REPEAT times (median), and a
        one-more-day ingest: all business dates but the last, then the last one alone.
build:  replay a landing zone by delivery date into a fresh warehouse: every delivery but the
        last, ingested and built in full (`dbt build` of the KPI marts and everything upstream,
        data tests included, unit tests left to CI as in production), REPEAT times; then the
        last delivery ingested and built incrementally on that built warehouse, and built once
        more with nothing new, REPEAT times. Medians and peak memory of the dbt process.
refresh: replay every delivery but the last into a fresh warehouse, ingest, run the production
        `dbt build` and publish (timing the publish: a full publication); then deliver the last
        day and run `python -m orchestration.run` (ingestion, dbt build, publishing through
        Dagster, as `make run` does): its wall time, its steps' times from the Dagster instance,
        and the publication's seconds and bytes. With CONCORD_PG_DSN set, PostgreSQL too.
service: end to end through Dagster as `make run` does it: every delivery but the last (a full
        run), the last (one more day), then nothing new (REPEAT times); each split into start-up
        and bookkeeping (outside the steps, and the ingest steps' recording of materializations
        and checks after the rows are loaded), ingestion, dbt and publishing, with the CPU time
        (user+sys) of the run's processes beside the wall time (docs/benchmarks.md); a run that
        built also splits its dbt step: dbt's start-up until its first node, the nodes (with the
        models' and the tests' node time) and the rest.
        --keep-full DIR keeps the state after the full run; --from-full DIR starts from it (no
        full run); --full-direct makes that state without Dagster; --repeat-day N runs the one
        more delivery N times from it.
publish: the served copy's publication alone, in process as the `publication` asset runs it:
        BEFORE (a built warehouse) published in full into a fresh served copy, REPEAT times;
        then, each time from that copy, AFTER (the same warehouse built later, e.g. one more
        delivery) published by difference, and BEFORE again (nothing changed). Medians, bytes
        and what the difference did. Each warehouse's run_results.json is read from beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from benchmarks import orchestrated_env
from ingestion.discover import discover
from ingestion.load import ingest
from publishing.settings import build_results_path

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


def node_time(results: list[dict], kind: str) -> tuple[int, float]:
    """How many nodes of a kind ("model", "test") a dbt invocation ran, and their node time."""
    of_kind = [r for r in results if r["unique_id"].startswith(f"{kind}.")]
    return len(of_kind), sum(r["execution_time"] for r in of_kind)


def print_slowest(run_results: Path, count: int = 12) -> None:
    """The slowest nodes of the last dbt invocation, and model and test time in all."""
    results = json.loads(run_results.read_text())["results"]
    models = node_time(results, "model")[1]
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


def step_seconds(dagster_home: Path) -> dict[str, float]:
    """Wall seconds of every step of the runs in a Dagster instance, by step key."""
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(dagster_home))
    out: dict[str, float] = {}
    for run in instance.get_runs():
        for stats in instance.get_run_step_stats(run.run_id):
            if stats.start_time and stats.end_time:
                out[stats.step_key] = (
                    out.get(stats.step_key, 0.0) + stats.end_time - stats.start_time
                )
    return out


def production_build(project: Path, scratch: Path, env: dict[str, str]) -> None:
    """The production `dbt build` (no unit tests) of the project into the scratch warehouse."""
    subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "--quiet",
            "build",
            "--exclude-resource-type",
            "unit_test",
            *["--project-dir", str(project), "--profiles-dir", str(project / "profiles")],
            *["--target-path", str(scratch / "target"), "--log-path", str(scratch / "logs")],
        ],
        env=env,
        check=True,
    )


def bench_refresh(args: argparse.Namespace) -> None:
    import os

    import dagster as dg

    project = Path(__file__).resolve().parents[1]
    landing = Path(args.landing)
    deliveries = sorted({d.name for d in landing.glob("*/*") if d.is_dir()})
    scratch = Path(tempfile.mkdtemp(prefix="concord-bench-", dir=args.scratch))
    env = orchestrated_env(project, scratch)
    # this process reads the runs' history too: Concord's event log finds it through DAGSTER_HOME
    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    try:
        replay(landing, scratch / "landing", deliveries[:-1])
        ingest(scratch / "landing", scratch / "warehouse.duckdb")
        started = time.perf_counter()
        production_build(project, scratch, env)
        print(
            f"full dbt build over {len(deliveries) - 1} deliveries: "
            f"{time.perf_counter() - started:.1f} s"
        )
        publish = [sys.executable, "-m", "publishing", "publish", "--run-results"]
        for _ in range(args.repeat):
            done = subprocess.run(
                [*publish, str(scratch / "target" / "run_results.json")],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            print(f"full publication: {done.stdout.strip()}")
        replay(landing, scratch / "landing", deliveries[-1:])
        started = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-m", "orchestration.run"],
            env=env,
            capture_output=True,
            text=True,
            cwd=project,
        )
        seconds = time.perf_counter() - started
        if run.returncode != 0:
            raise SystemExit(f"orchestration.run failed:\n{run.stdout[-4000:]}{run.stderr}")
        print(
            f"one-day refresh ({deliveries[-1]}), landing to published, "
            f"python -m orchestration.run: {seconds:.1f} s"
        )
        steps = step_seconds(scratch / "dagster_home")
        ingest_steps = sum(v for k, v in steps.items() if k.startswith("ingest_"))
        print(
            f"  ingest steps {ingest_steps:.1f} s (summed); "
            + ", ".join(
                f"{k} {v:.1f} s" for k, v in sorted(steps.items()) if not k.startswith("ingest_")
            )
        )
        instance = dg.DagsterInstance.from_config(str(scratch / "dagster_home"))
        for key in ("publication", "publication_postgres"):
            event = instance.get_latest_materialization_event(dg.AssetKey(key))
            if event and event.asset_materialization:
                meta = {k: v.value for k, v in event.asset_materialization.metadata.items()}
                print(
                    f"  {key}: "
                    + ", ".join(
                        f"{k} {meta[k]}"
                        for k in ("version", "seconds", "bytes_written", "rows")
                        if k in meta
                    )
                )
        print("\n".join(line for line in run.stdout.splitlines() if line.startswith("publ")))
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


def phases(dagster_home: Path, before: set[str]) -> dict[str, float]:
    """Seconds of one orchestration.run by phase, from the Dagster runs it recorded (those not
    in `before`): ingestion (the ingest steps and the stray-file log), dbt, publishing; and
    "recording", the part of the ingest steps after their first materialization, when Dagster
    records a materialization per asset and business date and the checks' results (the
    ingestion itself has finished by then: docs/benchmarks.md, "A three-year backfill")."""
    import dagster as dg

    if not dagster_home.is_dir():
        return {}
    instance = dg.DagsterInstance.from_config(str(dagster_home))
    out = {"ingestion": 0.0, "dbt": 0.0, "publishing": 0.0, "recording": 0.0}
    for run in instance.get_runs():
        if run.run_id in before:
            continue
        first_output: dict[str, float] = {}
        if run.job_name == "ingest_job":
            for record in instance.all_logs(
                run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
            ):
                first_output.setdefault(record.step_key, record.timestamp)
        for stats in instance.get_run_step_stats(run.run_id):
            if not (stats.start_time and stats.end_time):
                continue
            key = stats.step_key
            phase = (
                "publishing"
                if key.startswith("publication")
                else "dbt"
                if "dbt" in key
                else "ingestion"
            )
            recorded = stats.end_time - first_output.get(key, stats.end_time)
            out[phase] += stats.end_time - stats.start_time - recorded
            out["recording"] += recorded
    return out


def dbt_split(results: Path, since: float, step: float) -> str | None:
    """The dbt step of a run split from the build's run_results (the copy the step keeps beside
    the warehouse): dbt's start-up until its first node, the nodes from the first start to the
    last end (with the models' and the tests' node time, summed over dbt's threads), and the
    rest of the step (dbt's imports before its invocation starts, its end, dagster-dbt). None if
    the run built nothing (results older than `since`)."""
    from datetime import datetime

    if not results.is_file() or results.stat().st_mtime < since:
        return None
    run = json.loads(results.read_text())
    times = [
        (datetime.fromisoformat(t["started_at"]), datetime.fromisoformat(t["completed_at"]))
        for result in run["results"]
        for t in result["timing"]
        if t.get("started_at") and t.get("completed_at")
    ]
    if not times:
        return None
    invoked = datetime.fromisoformat(run["metadata"]["invocation_started_at"])
    first, last = min(t[0] for t in times), max(t[1] for t in times)
    start_up = (first - invoked).total_seconds()
    nodes = (last - first).total_seconds()
    (models, model_s), (tests, test_s) = (node_time(run["results"], k) for k in ("model", "test"))
    return (
        f"  dbt step {step:.1f} s: start-up {start_up:.1f} s, nodes {nodes:.1f} s ({models} models "
        f"{model_s:.1f} s and {tests} tests {test_s:.1f} s of node time), the rest (dbt's imports "
        f"and end, dagster-dbt) {step - start_up - nodes:.1f} s"
    )


def run_ids(dagster_home: Path) -> set[str]:
    import dagster as dg

    if not dagster_home.is_dir():
        return set()
    return {r.run_id for r in dg.DagsterInstance.from_config(str(dagster_home)).get_runs()}


def full_state_directly(scratch: Path, env: dict[str, str], project: Path) -> None:
    """The state a full run leaves (warehouse, build results, served copy), made without
    Dagster: ingestion, the production `dbt build`, a publication. No Dagster history."""
    from ingestion.lake import lake_dir_for

    started = time.perf_counter()
    warehouse = scratch / "warehouse.duckdb"
    ingest(scratch / "landing", warehouse, lake_dir=lake_dir_for(warehouse))
    production_build(project, scratch, env)
    results = scratch / "warehouse.run_results.json"  # where orchestration's build leaves them
    shutil.copy(scratch / "target" / "run_results.json", results)
    published = subprocess.run(
        [
            *[sys.executable, "-m", "publishing", "publish", "--run-results", str(results)],
            *["--manifest", str(scratch / "target" / "manifest.json")],
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if published.returncode:
        raise SystemExit(f"publishing the full state failed:\n{published.stdout}{published.stderr}")
    print(f"full state made directly: {time.perf_counter() - started:.1f} s", flush=True)


def prime_parse_cache(project: Path, scratch: Path, env: dict[str, str]) -> None:
    """What a day in service starts from: the partial parse the previous orchestrated build left
    for this warehouse (orchestration/dbt.py, parse_cache). A state made directly or copied into
    a new scratch folder has none (the cache is keyed by the warehouse's path), so its first
    build through Dagster would parse the whole project again (about 5 s of CPU at SF1 that a
    day in service does not spend). Made here by `dbt parse` with the orchestrated build's
    environment."""
    from orchestration.dbt import (
        PARTIAL_PARSE,
        DbtBuildConfig,
        copy_atomically,
        dbt_build_args,
        parse_cache,
    )

    warehouse = Path(env["CONCORD_WAREHOUSE"])
    cache = parse_cache(warehouse, dbt_build_args(DbtBuildConfig()))
    if cache.is_file():
        return
    target = scratch / "target-parse"
    subprocess.run(
        [
            *[str(Path(sys.executable).parent / "dbt"), "--quiet", "parse"],
            *["--project-dir", str(project), "--profiles-dir", str(project / "profiles")],
            *["--target-path", str(target), "--log-path", str(scratch / "logs")],
        ],
        env=env,
        check=True,
    )
    copy_atomically(target / PARTIAL_PARSE, cache)


def settle_identities(scratch: Path) -> None:
    """What a service's landing zone has: the identity (inode, ctime...) of every file already
    loaded recorded for its path. A state copied into a new scratch folder has new inodes and
    ctimes, so its next run would read and hash every landing file again (5,377 at SF1, not a
    day's cost: docs/benchmarks.md). An ingestion of the copy, before the new delivery is added,
    reads them once, loads nothing and records their identities (untimed)."""
    from ingestion.lake import lake_dir_for

    warehouse = scratch / "warehouse.duckdb"
    report = ingest(scratch / "landing", warehouse, lake_dir=lake_dir_for(warehouse))
    if report.files_loaded:
        raise SystemExit(f"settling the copied state loaded files: {report.summary()}")


def bench_service(args: argparse.Namespace) -> None:
    """End to end through Dagster as `make run` does it (python -m orchestration.run, a fresh
    process each time): every delivery but the last (a full run), the last delivery (one more
    day), then nothing new (REPEAT times, median). Each split into start-up and bookkeeping
    (wall time outside the steps), ingestion, dbt and publishing."""
    import os

    project = Path(__file__).resolve().parents[1]
    landing = Path(args.landing)
    deliveries = sorted({d.name for d in landing.glob("*/*") if d.is_dir()})
    scratch = Path(tempfile.mkdtemp(prefix="concord-bench-", dir=args.scratch))
    env = orchestrated_env(project, scratch)
    home = scratch / "dagster_home"
    # this process reads the runs' history too: Concord's event log finds it through DAGSTER_HOME
    os.environ["DAGSTER_HOME"] = str(home)

    def one_run(what: str) -> float:
        before = run_ids(home)
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "orchestration.run"],
            env=env,
            capture_output=True,
            text=True,
            cwd=project,
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = sum(getattr(after, f) - getattr(used, f) for f in ("ru_utime", "ru_stime"))
        if done.returncode not in (0, 1):  # 1: files needing a person (the injected defects)
            raise SystemExit(f"orchestration.run failed:\n{done.stdout[-4000:]}{done.stderr}")
        split = phases(home, before)
        outside = wall - sum(split.values())
        recording = split.pop("recording", 0.0)
        print(
            f"{what}: {wall:.1f} s wall, {cpu:.1f} s CPU (user+sys, every process of the run); "
            f"start-up and bookkeeping {outside:.1f} s outside the steps and {recording:.1f} s "
            f"recording the ingest steps' materializations and checks "
            f"({100 * (outside + recording) / wall:.0f}% of the wall time), "
            + ", ".join(f"{k} {v:.1f} s" for k, v in split.items())
            + f"; {len(run_ids(home) - before)} Dagster run(s)"
        )
        last = [
            line for line in done.stdout.splitlines() if line.startswith(("publ", "concord: n"))
        ]
        print("  " + (last[-1] if last else "(no publication line)"))
        results = build_results_path(Path(env["CONCORD_WAREHOUSE"]))
        built = dbt_split(results, time.time() - wall, split.get("dbt", 0.0))
        if built:
            print(built)
        return wall

    try:
        if args.from_full:
            shutil.copytree(args.from_full, scratch, symlinks=True, dirs_exist_ok=True)
            written_out()
        elif args.full_direct:
            replay(landing, scratch / "landing", deliveries[:-1])
            full_state_directly(scratch, env, project)
        else:
            replay(landing, scratch / "landing", deliveries[:-1])
            one_run(f"full run ({len(deliveries) - 1} deliveries)")
        if args.keep_full:
            shutil.copytree(scratch, args.keep_full, symlinks=True)
            written_out()
        for _ in range(args.repeat_day):
            if args.repeat_day > 1:  # each from the state after the full run
                shutil.rmtree(scratch)
                shutil.copytree(args.keep_full or args.from_full, scratch, symlinks=True)
                written_out()
            if args.repeat_day > 1 or args.from_full:
                settle_identities(scratch)
            replay(landing, scratch / "landing", deliveries[-1:])
            prime_parse_cache(project, scratch, env)
            one_run(f"one more delivery ({deliveries[-1]})")
        idle = [one_run("nothing new") for _ in range(args.repeat)]
        if idle:  # --repeat 0: the runs above only
            print(f"nothing new: median {statistics.median(idle):.1f} s of {args.repeat}")
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


def written_out() -> None:
    """Write a copied state's dirty pages to disk now, so that the measured run's first fsync of
    the warehouse (ingestion's first commit) never writes the benchmark's own copy of it: 1.7 s
    for a 1 GB SF1 warehouse when it follows the copy at once (docs/benchmarks.md, "What one
    more SF1 day costs at the least"; here the parse in between mostly hid it)."""
    os.sync()


def bench_publish(args: argparse.Namespace) -> None:
    from publishing import served, settings

    manifest = json.loads(Path(args.manifest).read_text())
    scratch = Path(tempfile.mkdtemp(prefix="concord-bench-publish-", dir=args.scratch))

    cpu: dict[int, float] = {}  # CPU seconds (user+sys, every thread) of each publication

    def publish(warehouse: Path, place: Path, full: bool) -> served.PublishResult:
        used = resource.getrusage(resource.RUSAGE_SELF)
        result = served.publish(
            build=warehouse,
            run_results=served.load_json(settings.build_results_path(warehouse)),
            manifest=manifest,
            served=place / "served.duckdb",
            keep=5,
            full=full,
        )
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu[id(result)] = sum(
            getattr(after, f) - getattr(used, f) for f in ("ru_utime", "ru_stime")
        )
        return result

    def report(what: str, results: list[served.PublishResult]) -> None:
        seconds = statistics.median(r.seconds for r in results)
        print(
            f"{what}: median {seconds:.2f} s of {len(results)} "
            f"({', '.join(f'{r.seconds:.2f}' for r in results)}), CPU median "
            f"{statistics.median(cpu[id(r)] for r in results):.2f} s; "
            f"{results[-1].bytes_written:,} bytes; {results[-1].summary()}",
            flush=True,
        )

    try:
        before, after = Path(args.before), Path(args.after)
        full = []
        for i in range(args.repeat):
            place = scratch / f"full{i}"
            full.append(publish(before, place, full=True))
        report("full publication of BEFORE", full)
        base = scratch / "full0"
        for what, warehouse in (("AFTER by difference", after), ("BEFORE again", before)):
            runs = []
            for _ in range(args.repeat):
                place = scratch / "next"
                shutil.rmtree(place, ignore_errors=True)
                shutil.copytree(base, place, symlinks=True)
                runs.append(publish(warehouse, place, full=False))
            report(what, runs)
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
    refresh = sub.add_parser("refresh")
    refresh.add_argument("--landing", required=True)
    refresh.add_argument("--repeat", type=int, default=3, help="full publications to time")
    refresh.add_argument("--scratch", default=None, help="folder for the scratch warehouses")
    refresh.add_argument("--keep", action="store_true", help="keep the scratch folder")
    service = sub.add_parser("service")
    service.add_argument("--landing", required=True)
    service.add_argument("--repeat", type=int, default=3, help="runs with nothing new to time")
    service.add_argument("--scratch", default=None, help="folder for the scratch warehouses")
    service.add_argument("--keep", action="store_true", help="keep the scratch folder")
    service.add_argument(
        "--keep-full", default=None, help="copy the state after the full run to this new folder"
    )
    service.add_argument(
        "--from-full",
        default=None,
        help="start from a state kept by --keep-full (same landing zone) instead of a full run",
    )
    service.add_argument(
        "--full-direct",
        action="store_true",
        help="make the state before the last delivery without Dagster (ingestion, dbt build, "
        "publish) instead of a full run through it",
    )
    service.add_argument(
        "--repeat-day",
        type=int,
        default=1,
        help="one-more-delivery runs, each from the state after the full run (needs "
        "--keep-full or --from-full when above 1)",
    )
    pub = sub.add_parser("publish")
    pub.add_argument("--before", required=True, help="a built warehouse, published in full")
    pub.add_argument("--after", required=True, help="the same warehouse built later")
    pub.add_argument("--manifest", required=True, help="the dbt manifest of both builds")
    pub.add_argument("--repeat", type=int, default=3)
    pub.add_argument("--scratch", default=None, help="folder for the scratch served copies")
    args = parser.parse_args(argv)
    if getattr(args, "scratch", None):
        Path(args.scratch).mkdir(parents=True, exist_ok=True)
    {
        "world": bench_world,
        "ingest": bench_ingest,
        "build": bench_build,
        "refresh": bench_refresh,
        "service": bench_service,
        "publish": bench_publish,
    }[args.what](args)


if __name__ == "__main__":
    main()
