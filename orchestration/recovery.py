"""Recovery after a killed `python -m orchestration.run`.

A run executed in process keeps its slot of the `concord_warehouse` pool in the Dagster instance
while it runs. Killed with SIGKILL, it never releases the slot and stays STARTED, and the next
run waits for that slot for ever. Each in-process run is tagged with the host and process that
runs it; before a new run starts, a run so tagged whose process is gone is marked failed and its
slots are freed. Runs of the daemon (`make serve`) carry no such tag and are left to Dagster's
run monitoring.
"""

from __future__ import annotations

import os
import socket

import dagster as dg

LAUNCHER_TAG = "concord/launcher"
HOST_TAG = "concord/host"
PROCESS_TAG = "concord/process"
UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def _process_identity(pid: int) -> str:
    """pid and start time (so that a reused pid is not mistaken for the same process)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            started = stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        started = "?"
    return f"{pid}:{started}"


def launcher_tags() -> dict[str, str]:
    return {
        LAUNCHER_TAG: "orchestration.run",
        HOST_TAG: socket.gethostname(),
        PROCESS_TAG: _process_identity(os.getpid()),
    }


def is_alive(identity: str) -> bool:
    pid_text, _, _ = identity.partition(":")
    if not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return _process_identity(int(pid_text)) == identity


def release_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed, and free the pool slots of, in-process runs whose process has died."""
    released = []
    runs = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=UNFINISHED,
            tags={LAUNCHER_TAG: "orchestration.run", HOST_TAG: socket.gethostname()},
        )
    )
    for run in runs:
        if is_alive(run.tags.get(PROCESS_TAG, "")):
            continue
        instance.report_run_failed(run, message="its process ended without finishing the run")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    return released


def release_slots_of_finished_runs(instance: dg.DagsterInstance) -> list[str]:
    """Free the pool slots still held by runs that finished (or no longer exist): a slot whose
    release was lost (a power cut after the run finished: orchestration/event_log.py commits
    without an fsync each) would otherwise keep every later warehouse step waiting."""
    storage = instance.event_log_storage
    released = []
    for pool in sorted(storage.get_concurrency_keys()):
        for run_id in sorted(storage.get_concurrency_info(pool).active_run_ids):
            run = instance.get_run_by_id(run_id)
            if run is None or run.is_finished:
                storage.free_concurrency_slots_for_run(run_id)
                released.append(run_id)
    return released
