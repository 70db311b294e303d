"""Sensors and schedules: Concord as a service (`make serve`, README.md "Concord as a service").

All are ON by default (default_status RUNNING): with the daemon running, a delivery dropped into
the landing zone is ingested (its business dates only), built incrementally with every test and
published, with no manual step; the daily close rebuilds regardless. Each can be stopped in the
UI (Automation), where its description says why it is on. Runs of `python -m orchestration.run`
do not need them (it runs both jobs itself)."""

import hashlib
import json
from pathlib import Path

import dagster as dg
import duckdb

from ingestion.discover import discover
from ingestion.load import unlogged_files
from ingestion.warehouse import WarehouseSchemaError
from orchestration import affected
from orchestration.jobs import ingest_job, transform_job
from orchestration.resources import LandingZone, Warehouse

ON = dg.DefaultSensorStatus.RUNNING
# A run not yet finished: a transform requested now would start before it ends.
PENDING_STATUSES = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def pending_dates(root: Path, seen: dict[str, str]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Business dates whose landing files are new or changed since the cursor (file -> its
    identity as listed: mtime, size, ctime, inode), and the new cursor. Pure function of the
    landing zone and the cursor. A cursor an earlier version wrote (mtime and size) stands for
    the files whose mtime and size it holds."""
    current: dict[str, str] = {}
    by_date: dict[str, list[str]] = {}
    for f in discover(root):
        if not f.is_known or f.business_date is None or f.identity is None:
            continue
        i = f.identity
        stamp = f"{i.mtime_ns}:{i.size}:{i.ctime_ns}:{i.inode}"
        before = seen.get(f.source_file)
        if before is not None and before.count(":") == 1 and stamp.startswith(f"{before}:"):
            before = stamp  # an earlier version's cursor: not a change by itself
        current[f.source_file] = stamp
        if before != stamp:
            by_date.setdefault(f.business_date.isoformat(), []).append(f.source_file)
    return by_date, current


def not_yet_logged(root: Path, warehouse: Path, by_date: dict[str, list[str]]) -> dict:
    """The dates of by_date with a file whose content is not the one the warehouse's load log
    last recorded for its path (unlogged_files): on the sensor's first tick, the landing zone a
    `make run` already loaded asks for nothing. Raises duckdb.IOException while another
    process writes the warehouse."""
    if not warehouse.exists():
        return by_date
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'raw' and table_name = 'load_log'"
        ).fetchone()[0]
        if not tables:
            return by_date
        pending = {f.source_file for f in unlogged_files(root, con)}
    out = {day: [f for f in files if f in pending] for day, files in by_date.items()}
    return {day: files for day, files in out.items() if files}


def run_key(day: str, files: list[str], stamps: dict[str, str]) -> str:
    """The run key of an ingest run for `day`'s new or changed `files`: their names and their
    stamps (size, times, inode), so that a file changed again in place (a re-delivery under the
    same name, a file first listed half-written) asks for a new run. Dagster skips a request
    whose key it has seen, so a key of names alone asked for nothing the second time."""
    listed = "".join(f"{name}={stamps[name]};" for name in sorted(files))
    return f"{day}:{hashlib.sha256(listed.encode()).hexdigest()[:16]}"


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=60,
    default_status=ON,
    description="ON so that a delivery needs no person: each minute, the business dates of "
    "landing files that are new or changed since the last tick (path, size, modification and "
    "change times, inode) get one ingest run each, for that date only. The first tick skips "
    "files the load log already holds (a landing zone `make run` loaded).",
)
def landing_sensor(
    context: dg.SensorEvaluationContext, landing: LandingZone, warehouse: Warehouse
) -> dg.SensorResult | dg.SkipReason:
    seen = json.loads(context.cursor) if context.cursor else {}
    by_date, current = pending_dates(landing.root, seen)
    if not context.cursor and by_date:
        try:
            by_date = not_yet_logged(landing.root, warehouse.file, by_date)
        except duckdb.IOException:
            return dg.SkipReason("the warehouse is being written; looking again at the next tick")
        except (ValueError, WarehouseSchemaError) as error:
            # CONCORD_VERIFY_HASHES set wrong, a load log of another layout: said, not a crash
            # loop
            context.log.error(str(error))
            return dg.SkipReason(f"{error}; looking again at the next tick")
    requests = [
        dg.RunRequest(
            partition_key=day,
            run_key=run_key(day, files, current),
            tags={"concord/files": str(len(files))},
        )
        for day, files in sorted(by_date.items())
    ]
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(current))


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[ingest_job],
    request_job=transform_job,
    default_status=ON,
    description="ON so that loaded data reaches readers: after a successful ingest run, the "
    "transform job builds the models the loaded files affect, incrementally (the business dates "
    "just loaded), runs their data tests and publishes a new version when no blocking check "
    "failed. When more ingest runs are still queued, it waits for the last of them: one build for "
    "a burst of deliveries.",
)
def transform_after_ingest(
    context: dg.RunStatusSensorContext, warehouse: Warehouse
) -> dg.RunRequest | dg.SkipReason:
    others = context.instance.get_runs(
        filters=dg.RunsFilter(job_name=ingest_job.name, statuses=PENDING_STATUSES)
    )
    if any(run.run_id != context.dagster_run.run_id for run in others):
        return dg.SkipReason("another ingest run is pending: the transform follows the last one")
    # the models the loaded files affect (orchestration/affected.py)
    job = context.repository_def.get_job(transform_job.name)
    plan = affected.plan_transform(job, warehouse.file)
    return dg.RunRequest(
        run_key=context.dagster_run.run_id, asset_selection=plan.assets, tags=plan.tags
    )


# The close tests every row, not only those the last build rewrote (docs/decisions.md, "Tests
# that don't flicker").
CLOSE_RUN_CONFIG = {"ops": {"concord_dbt_assets": {"config": {"test_whole_history": True}}}}

close_schedule = dg.ScheduleDefinition(
    name="daily_close",
    job=transform_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    run_config=CLOSE_RUN_CONFIG,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="ON so that the books close every day even with no delivery: at 06:00 UTC, "
    "rebuild, test every row of the history (not only the rows the last build rewrote) and "
    "publish.",
)
