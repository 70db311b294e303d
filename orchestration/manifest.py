"""The dbt project and its parsed manifest, read once per process.

`DBT_PROJECT` is prepared (under `dagster dev`, dagster-dbt parses the project again) before any
module reads the manifest; `dbt_manifest()` is the parse every part of the code location reads
(the dbt assets, the groups' owners, the publication's and the dashboard's dependencies): by
dagster-dbt's reader, which keeps it by path, so the 4 MB file is parsed once, not once per
reader (docs/benchmarks.md, "A run's start-up")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster_dbt import DbtProject
from dagster_dbt.dbt_manifest import validate_manifest

from orchestration import settings

DBT_PROJECT = DbtProject(
    project_dir=settings.PROJECT_ROOT,
    profiles_dir=settings.PROJECT_ROOT / "profiles",
)
DBT_PROJECT.prepare_if_dev()


def dbt_manifest() -> Mapping[str, Any]:
    """The parsed target/manifest.json of DBT_PROJECT."""
    return validate_manifest(DBT_PROJECT.manifest_path)
