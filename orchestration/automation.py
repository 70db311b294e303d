"""Sensors and schedules: new landing files request their business dates' ingestion; a
successful ingestion triggers the transform; a daily close runs the transform regardless."""

import hashlib
import json
from pathlib import Path

import dagster as dg

from ingestion.discover import discover
from orchestration.jobs import ingest_job, transform_job
from orchestration.resources import LandingZone


def pending_dates(root: Path, seen: dict[str, str]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Business dates whose landing files are new or changed since the cursor (file -> mtime
    and size), and the new cursor. Pure function of the landing zone and the cursor."""
    current: dict[str, str] = {}
    by_date: dict[str, list[str]] = {}
    for f in discover(root):
        if not f.is_known or f.business_date is None:
            continue
        stat = (root / f.source_file).stat()
        stamp = f"{stat.st_mtime_ns}:{stat.st_size}"
        current[f.source_file] = stamp
        if seen.get(f.source_file) != stamp:
            by_date.setdefault(f.business_date.isoformat(), []).append(f.source_file)
    return by_date, current


@dg.sensor(
    job=ingest_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED
)
def landing_sensor(context: dg.SensorEvaluationContext, landing: LandingZone) -> dg.SensorResult:
    seen = json.loads(context.cursor) if context.cursor else {}
    by_date, current = pending_dates(landing.root, seen)
    requests = [
        dg.RunRequest(
            partition_key=day,
            run_key=f"{day}:{hashlib.sha256(''.join(sorted(files)).encode()).hexdigest()[:16]}",
            tags={"concord/files": str(len(files))},
        )
        for day, files in sorted(by_date.items())
    ]
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(current))


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[ingest_job],
    request_job=transform_job,
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def transform_after_ingest(context: dg.RunStatusSensorContext) -> dg.RunRequest:
    return dg.RunRequest(run_key=context.dagster_run.run_id)


close_schedule = dg.ScheduleDefinition(
    name="daily_close",
    job=transform_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    description="The daily close: rebuild and audit everything after the night's deliveries.",
)
