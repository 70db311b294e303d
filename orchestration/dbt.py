"""The dbt project as Dagster assets: one DbtProject, a translator built from small rules."""

import json
import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration import settings
from orchestration.progress import Ticker
from publishing import settings as publishing_settings

DBT_PROJECT = DbtProject(
    project_dir=settings.PROJECT_ROOT,
    profiles_dir=settings.PROJECT_ROOT / "profiles",
)
DBT_PROJECT.prepare_if_dev()


class ConcordTranslator(DagsterDbtTranslator):
    """Groups from the model's folder, owners from its dbt group. Sources keep the asset key
    their YAML meta names (the ingest asset), which dagster-dbt reads by default."""

    @cached_property
    def group_owners(self) -> dict[str, list[str]]:
        manifest = json.loads(DBT_PROJECT.manifest_path.read_text())
        owners: dict[str, list[str]] = {}
        for group in manifest.get("groups", {}).values():
            email = (group.get("owner") or {}).get("email")
            owners[group["name"]] = [email] if email else []
        return owners

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        if dbt_resource_props.get("resource_type") == "source":
            return f"raw_{fqn[2]}" if len(fqn) > 2 else "raw"
        # fqn: [project, layer, area?, model]
        return "_".join(fqn[1:-1]) or "dbt"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str] | None:
        group = (dbt_resource_props.get("config") or {}).get("group")
        return self.group_owners.get(group) or None


class DbtBuildConfig(dg.Config):
    """Launchpad options of a dbt build."""

    full_refresh: bool = False
    """Rebuild the models rebuilt by load from all history, not only the business dates of
    files loaded since their last build (docs/decisions.md, "Incremental event facts")."""

    test_whole_history: bool = False
    """Run the data tests of the models rebuilt by load over all their rows, not only over the
    rows the build rewrote (a full refresh always tests everything)."""


def dbt_build_args(config: DbtBuildConfig) -> list[str]:
    """The production build: models and data tests. Unit tests check SQL logic on fixed inputs,
    not the data, and run in CI (`make test`), as dbt recommends."""
    args = ["build", "--exclude-resource-type", "unit_test"]
    if config.full_refresh:
        args.append("--full-refresh")
    if config.test_whole_history:
        args += ["--vars", json.dumps({"test_whole_history": True})]
    return args


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=ConcordTranslator(),
    pool=settings.WAREHOUSE_POOL,
)
def concord_dbt_assets(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig
) -> Iterator:
    """dbt build: every model with its data tests (they appear as asset checks). The event facts
    and available inventory are incremental: a build processes the business dates of newly
    loaded files, and tests what it rewrote, unless the run's config asks for more."""
    # The build's results are the publishing gate's evidence (publishing.core.gate): remove the
    # last build's before starting, keep this one's even when dbt fails.
    results = publishing_settings.build_results_path(settings.warehouse_path())
    results.unlink(missing_ok=True)
    invocation = dbt.cli(dbt_build_args(config), context=context)
    try:
        yield from with_progress(context, invocation.stream())
    finally:
        keep_run_results(Path(invocation.target_path) / "run_results.json", results)


def with_progress(context: dg.AssetExecutionContext, events: Iterator) -> Iterator:
    """Pass dbt's results through, saying how far the build has come (about one line each
    5 s): nodes done of those selected, and the checks that failed or warned so far."""
    total = len(context.selected_asset_keys) + len(context.selected_asset_check_keys)
    ticker = Ticker(context, "dbt build")
    done = failed = warned = 0
    for event in events:
        done += 1
        if isinstance(event, dg.AssetCheckResult) and not event.passed:
            if event.severity == dg.AssetCheckSeverity.ERROR:
                failed += 1
            else:
                warned += 1
        ticker.tick(min(done, total), total, f"{failed} failed, {warned} warned")
        yield event
    ticker.tick(min(done, total), total, f"{failed} failed, {warned} warned", final=True)


def keep_run_results(source: Path, destination: Path) -> None:
    """Copy a dbt invocation's run_results.json to where publishing reads it, atomically."""
    if not source.is_file():
        return
    partial = destination.with_name(destination.name + ".partial")
    shutil.copyfile(source, partial)
    os.replace(partial, destination)


# The dbt of this interpreter's environment, whether or not that environment is on PATH.
DBT_RESOURCE = DbtCliResource(
    project_dir=DBT_PROJECT, dbt_executable=str(Path(sys.executable).parent / "dbt")
)
