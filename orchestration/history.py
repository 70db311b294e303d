"""Runs of `python -m orchestration.run` on the UI's Overview timeline.

A job executed in process is recorded in DAGSTER_HOME without the code location it came from,
and the Overview timeline draws only runs that name one (it files each under its code location
and job). After each in-process run, the run's record is given the origin of the code location
`dagster dev` loads (`concord`, pyproject.toml [tool.dagster]), so `make run`'s runs show in the
timeline beside the daemon's, under the same job."""

from __future__ import annotations

import dagster as dg
from dagster._core.remote_origin import (
    InProcessCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

from orchestration import settings

CODE_LOCATION = "concord"  # pyproject.toml [tool.dagster] code_location_name
MODULE = "orchestration.definitions"  # pyproject.toml [tool.dagster] module_name
REPOSITORY = "__repository__"  # the repository Dagster makes of a module's Definitions


def job_origin(job_name: str) -> RemoteJobOrigin:
    location = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(module_name=MODULE, working_directory=str(settings.PROJECT_ROOT)),
        location_name=CODE_LOCATION,
    )
    return RemoteJobOrigin(RemoteRepositoryOrigin(location, REPOSITORY), job_name)


def record_origin(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> None:
    """Give an in-process run's record the code location's origin (see above)."""
    run = instance.get_run_by_id(result.run_id)
    if run is not None and run.remote_job_origin is None:
        instance.run_storage.replace_job_origin(run, job_origin(run.job_name))
