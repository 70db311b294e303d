"""The dbt project as Dagster assets: one DbtProject, a translator built from small rules."""

import hashlib
import importlib.metadata
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any
from uuid import uuid4

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from dagster_dbt.asset_utils import get_manifest_and_translator_from_dbt_assets
from packaging import version

from orchestration import (
    affected,
    check_descriptions,
    grouped_failures,
    groups,
    open_warnings,
    settings,
)
from orchestration.ingest import LOAD_LOG_KEY
from orchestration.manifest import DBT_PROJECT, dbt_manifest
from orchestration.progress import Ticker, note
from orchestration.resources import Warehouse
from publishing import settings as publishing_settings


class ConcordTranslator(DagsterDbtTranslator):
    """Groups from the model's folder (orchestration/groups.py), owners from its dbt group (the
    source system's data owner for staging), a sentence for every check. Sources keep the asset
    key their YAML meta names (the ingest asset), which dagster-dbt reads by default."""

    @cached_property
    def system_owners(self) -> dict[str, list[str]]:
        return groups.system_owners()

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return groups.group_for_folder(groups.folder_of(dbt_resource_props["original_file_path"]))

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str] | None:
        """Staging belongs to its source system's data owner (the contract); every other
        resource to the owner of its dbt group (models/_groups.yml)."""
        folder = groups.folder_of(dbt_resource_props["original_file_path"]).split("/")
        if folder[0] == "staging" and len(folder) > 1 and folder[1] in self.system_owners:
            return self.system_owners[folder[1]]
        group = (dbt_resource_props.get("config") or {}).get("group")
        return groups.dbt_group_owners().get(group) or None

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        """A model rebuilt by load reads raw.load_log only for its load window (macros/
        incremental.sql): that read is bookkeeping, not lineage, so the stray-file log is no
        parent of it. Models that read the log's rows (the completeness controls) keep it."""
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if reads_load_log_only_for_its_window(props):
            spec = spec.replace_attributes(
                deps=[d for d in spec.deps if d.asset_key != LOAD_LOG_KEY]
            )
        return spec

    def get_asset_check_spec(
        self,
        asset_spec: dg.AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        return spec._replace(description=check_descriptions.describe(manifest["nodes"][unique_id]))


def reads_load_log_only_for_its_window(props: Mapping[str, Any]) -> bool:
    """An incremental model whose own SQL does not name the load log (it reaches it through the
    load-window macros only)."""
    return (props.get("config") or {}).get("materialized") == "incremental" and (
        "load_log" not in (props.get("raw_code") or "")
    )


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
    if not os.environ.get("DBT_LOG_LEVEL_FILE"):
        # no dbt file log (target/<step>/dbt.log): its info lines are the ones the run's log
        # already holds (dagster-dbt passes dbt's output on), and writing them again cost about
        # 5 s of a day's 90 s of CPU; at debug it wrote every SQL statement (docs/decisions.md,
        # "dbt's file log off"). DBT_LOG_LEVEL_FILE=info or debug brings it back.
        args += ["--log-level-file", "none"]
    return args


def whole_history_tests(config: DbtBuildConfig, not_passing: set[str]) -> set[str]:
    """The data tests the build runs over every row: all of them when the run asks for it (the
    daily close), else those whose last result did not pass (orchestration/open_warnings.py).
    Said through the environment, not dbt's --vars, which would make dbt parse the whole project
    again (its partial parse is only valid for the vars it was made with)."""
    return {open_warnings.EVERY_TEST} if config.test_whole_history else not_passing


@dbt_assets(
    manifest=dbt_manifest(),
    project=DBT_PROJECT,
    dagster_dbt_translator=ConcordTranslator(),
    pool=settings.WAREHOUSE_POOL,
)
def concord_dbt_assets(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: Warehouse,
    config: DbtBuildConfig,
) -> Iterator:
    """dbt build: every model with its data tests (they appear as asset checks). The event facts
    and available inventory are incremental: a build processes the business dates of newly
    loaded files, and tests what it rewrote, unless the run's config asks for more."""
    # The build's results are the publishing gate's evidence (publishing.core.gate): remove the
    # last build's before starting, keep this one's even when dbt fails.
    results = publishing_settings.build_results_path(warehouse.file)
    results.unlink(missing_ok=True)
    # a test whose last result did not pass is tested over every row (orchestration/
    # open_warnings.py): a scoped pass does not clear a warning on older rows
    memory = open_warnings.memory_path(warehouse.file)
    manifest = get_manifest_and_translator_from_dbt_assets([context.assets_def])[0]
    # tests since grouped hand their warnings on to the tests covering them
    open_warnings.carry_over(memory, manifest)
    retested = open_warnings.not_passing(memory)
    # what the build completes when every model succeeds (orchestration/affected.py)
    selected = affected.selected_nodes(context.assets_def, context.selected_asset_keys)
    state = affected.build_state(warehouse.file, manifest, context.run.tags, selected)
    note(context, f"dbt build: {affected.scope_line(context.run.tags, selected, manifest)}")
    args = dbt_build_args(config)
    # as dagster-dbt names it, with the partial parse of the last build like this one in it
    name = f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}-{uuid4().hex[:7]}"
    target = settings.PROJECT_ROOT / "target" / name
    parsed = parse_cache(warehouse.file, args)
    copy_atomically(parsed, target / PARTIAL_PARSE)
    with warehouse.for_dbt(), open_warnings.tested_whole(whole_history_tests(config, retested)):
        invocation = dbt.cli(args, context=context, target_path=target)
    try:
        # counted as dbt reports them; what failed a grouped check is said once dbt has finished
        yield from grouped_failures.name_what_failed(
            with_progress(context, say_why(invocation.stream(), retested)),
            invocation.manifest,
            Path(invocation.target_path) / "run_results.json",
            warehouse.file,
        )
    except Exception as error:
        stop(invocation)
        if isinstance(error, KeyError):
            raise_if_project_changed(error, context.assets_def)
        raise
    finally:
        keep_run_results(Path(invocation.target_path) / "run_results.json", results)
        open_warnings.remember(memory, results)
        affected.remember_build(warehouse.file, results, state, selected)
        copy_atomically(target / PARTIAL_PARSE, parsed)


def raise_if_project_changed(error: KeyError, assets_def: dg.AssetsDefinition) -> None:
    """dbt parses the project's files as they are when the build starts; a node the definitions
    this run loaded do not know means the project changed since (a deploy, a `make parse` of
    edited models): say so in one line instead of dagster-dbt's bare KeyError."""
    node = error.args[0] if error.args else None
    manifest = get_manifest_and_translator_from_dbt_assets([assets_def])[0]
    if isinstance(node, str) and node not in manifest.get("nodes", {}):
        raise dg.Failure(
            description=(
                f"the dbt project changed while this run was in flight: dbt built {node}, "
                "which the definitions this run loaded do not have; reload the code location "
                "(restart `make serve`, or reload it in the UI) and run again"
            )
        ) from None


def stop(invocation: Any) -> None:
    """End a dbt build this step gives up on, as dagster-dbt does on an interrupt: a build left
    running would hold the warehouse's lock against the run's summary and the next run."""
    process = invocation.process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=invocation.termination_timeout_seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


PARTIAL_PARSE = "partial_parse.msgpack"


def parse_cache(warehouse: Path, args: list[str]) -> Path:
    """Where the partial parse of builds into this warehouse with these --vars is kept. dbt
    parses the whole project again when the profile's connection (the warehouse's path) or the
    vars differ from those of the parse it finds (docs/benchmarks.md, "A day through Dagster":
    every orchestrated build did, its warehouse path being absolute, unlike `make parse`'s); so
    each build starts from the last parse of the same warehouse and vars, and dbt re-reads only
    the project files that changed since."""
    vars_given = args[args.index("--vars") + 1] if "--vars" in args else ""
    key = hashlib.sha256(f"{warehouse.resolve()}\n{vars_given}".encode()).hexdigest()[:16]
    return settings.PROJECT_ROOT / "target" / "partial_parse" / f"{key}.msgpack"


def copy_atomically(source: Path, destination: Path) -> None:
    """Copy a file if it exists (a missing cache or a build that did not parse: nothing)."""
    if not source.is_file():
        return
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    shutil.copyfile(source, partial)
    os.replace(partial, destination)


def say_why(events: Iterator, retested: set[str]) -> Iterator:
    """A check run over every row because its last result did not pass says so."""
    for event in events:
        if isinstance(event, dg.AssetCheckResult) and event.metadata.get("unique_id"):
            unique_id = event.metadata["unique_id"]
            unique_id = getattr(unique_id, "value", unique_id)
            if unique_id in retested:
                event = event._replace(
                    metadata={
                        **event.metadata,
                        "tested_rows": dg.MetadataValue.text(open_warnings.WHY),
                    }
                )
        yield event


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
    copy_atomically(source, destination)


class ConcordDbtCli(DbtCliResource):
    """dagster-dbt's dbt resource without two start-up costs of every build that Concord does
    not use (docs/benchmarks.md, "A day through Dagster"): it asked the dbt executable for its
    version in a subprocess (`dbt --version`, a second Python start with dbt's imports), and
    loaded every macro of the project in this process to hold a dbt adapter, which serves only
    its column-metadata and row-count helpers. The executable is this environment's dbt, so its
    version is the installed dbt-core's."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # noqa: ARG002
        return None


# The dbt of this interpreter's environment, whether or not that environment is on PATH.
DBT_RESOURCE = ConcordDbtCli(
    project_dir=DBT_PROJECT, dbt_executable=str(Path(sys.executable).parent / "dbt")
)
