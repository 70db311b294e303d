"""A build of what the new files affect (docs/decisions.md, "A day's build: what the new files
affect"). A transform run launched after ingestion (`python -m orchestration.run`, the
transform-after-ingest sensor) selects the dbt models that read, directly or through other
models, a raw table loaded since the last complete build, and leaves out the others: their
inputs are what they were built from. On a day without master data (6 of 7 days of the
simulated world), the ERP's master-data staging, the dimensions built from it alone, the seeds
and the models of seeds alone (18 of 123 models, the 8 seeds, 102 of 486 tests) are not
rebuilt.

What is built, as dbt nodes (`models_to_build`):
* every model downstream of a source whose raw table was loaded since (the ingestion's own
  tables, load log, quarantine and replaced rows, count as changed on every run: the
  transform's stray-file log writes the load log after the plan);
* the model of each test whose last result did not pass (orchestration/open_warnings.py): it
  is tested again, over every row, so a warning stays a warning and an error still blocks the
  publication;
* the model a test is on, when another parent of the test is built (a reference to a dimension
  rebuilt today is checked on the unchanged model too); dbt runs every test of a built model.

Everything is built (None) when there is no record of a complete build, when the project
(its files: models, macros, seeds, tests, dbt_project.yml, profiles; the graph the plan reads;
the dbt and DuckDB versions installed; the environment variables that change what a model
holds) changed since it, when the warehouse is not the one recorded, when the checks' last results
cannot be read, or when the warehouse cannot be read (another process writes it). The record
(`warehouse.build_state.json`) is written by the build's step after a build whose every model
and seed succeeded: the plan's view of the project, the warehouse and the load log's last
load_id, so files loaded after the launch are built by the next run; a run that builds
something else than was planned (a re-execution of part of it, a project changed meanwhile)
records nothing."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import duckdb

from orchestration.up_to_date import PROJECT_INPUTS

if TYPE_CHECKING:
    import dagster as dg

# The plan a transform run was launched with (JSON: the record it completes, PLAN_KEYS, and a
# digest of the dbt nodes it selects), and what it builds and why, in words.
PLAN_TAG = "concord/build_plan"
SCOPE_TAG = "concord/build_scope"
# The project's files whose change rebuilds everything: what dbt builds from, the tests, and
# the connection profiles (not dbt's .user.yml beside them).
FINGERPRINTED = (*PROJECT_INPUTS, "tests/dbt", "profiles/profiles.yml")
# The installed packages that compile and run the models: an upgrade rebuilds everything.
PACKAGES = ("dbt-core", "dbt-adapters", "dbt-duckdb", "duckdb")
# The environment the models' contents depend on: the engine and the salt of their pseudonyms
# (read by ingestion.pii's connection plugin, not by a model). The other variables the project
# reads do not change what an orchestrated (DuckDB) build holds: the warehouse's path (its
# identity is the load log's first load), the test scope of the daily close, and the lake and
# resources of the Spark target, which reads the lake instead of the warehouse's raw tables.
ENVIRONMENT = ("CONCORD_TARGET", "CONCORD_PII_SALT")
NOT_CONTENT = (
    "CONCORD_WAREHOUSE",
    "CONCORD_TESTS_WHOLE_HISTORY",
    "CONCORD_LAKE_DIR",
    "CONCORD_SPARK_WAREHOUSE",
    "CONCORD_SPARK_CORES",
    "CONCORD_SPARK_DRIVER_MEMORY",
    "CONCORD_SPARK_SHUFFLE_PARTITIONS",
)
# The source of the ingestion's own tables: the load log, quarantine and replaced rows. Every
# ingestion writes them, and so does the transform's own stray-file log (after the plan).
INGESTION_SOURCE = "ingestion"
# A complete build's record: the project (its files and the graph the plan read), the
# warehouse (its load log's first load: another warehouse started again under the same name
# has another) and the last load the build read (the load log's load_id, which only grows).
STATE_KEYS = ("project", "warehouse", "loaded_through")


def state_path(warehouse: Path) -> Path:
    return warehouse.with_name(f"{warehouse.stem}.build_state.json")


def fingerprint(project_root: Path, manifest: Mapping[str, Any]) -> str:
    """SHA-256 of the project's files dbt builds and tests from (paths and contents), of the
    graph of the parsed manifest this process reads (a code location not reloaded since the
    files changed plans with an older graph: it differs), of the installed PACKAGES' versions and
    of the ENVIRONMENT's values (through environment_digest: the salt is a secret)."""
    digest = hashlib.sha256()
    for name in FINGERPRINTED:
        path = project_root / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for p in files:
            digest.update(f"{p.relative_to(project_root).as_posix()}\0".encode())
            digest.update(hashlib.sha256(p.read_bytes()).digest())
    graph = {u: (n.get("depends_on") or {}).get("nodes") for u, n in manifest["nodes"].items()}
    digest.update(json.dumps([graph, sorted(manifest.get("sources", {}))], sort_keys=True).encode())
    versions = {name: installed(name) for name in PACKAGES}
    digest.update(json.dumps(versions, sort_keys=True).encode())
    digest.update(environment_digest())
    return digest.hexdigest()


def installed(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def environment_digest() -> bytes:
    """The ENVIRONMENT's values (unset apart from empty), stretched with PBKDF2 so that the
    record beside the warehouse does not make the PII salt cheap to guess."""
    values = json.dumps([os.environ.get(name) for name in ENVIRONMENT]).encode()
    return hashlib.pbkdf2_hmac("sha256", values, b"concord build state", 100_000)


def nodes_digest(nodes: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(nodes)).encode()).hexdigest()


def last_complete(warehouse: Path) -> dict[str, Any] | None:
    """The record of the last complete build (STATE_KEYS), or None."""
    try:
        state = json.loads(state_path(warehouse).read_text())
    except (OSError, ValueError):
        return None
    ok = isinstance(state, dict) and set(STATE_KEYS) <= state.keys()
    return state if ok else None


def record_complete(warehouse: Path, state: Mapping[str, Any]) -> None:
    """Record a complete build (atomically)."""
    path = state_path(warehouse)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps({k: state[k] for k in STATE_KEYS}, sort_keys=True))
    os.replace(partial, path)


def is_complete(run_results: Mapping[str, Any], expected: Iterable[str]) -> bool:
    """Every model, seed and snapshot the build was to run (`expected`, unique ids) has a
    result, every one succeeded, and every test could run (a test's warning or failure is
    remembered by open_warnings, whose model is built again). A build stopped halfway (its
    results hold the nodes done) is not complete."""
    results = run_results.get("results") or []
    statuses = {r.get("unique_id", ""): r.get("status") for r in results}
    if not results or not set(expected) <= statuses.keys():
        return False
    for unique_id, status in statuses.items():
        kind = unique_id.split(".")[0]
        if kind in {"model", "seed", "snapshot"} and status != "success":
            return False
        if kind == "test" and status not in {"pass", "warn", "fail"}:
            return False
    return True


def warehouse_now(con: duckdb.DuckDBPyConnection) -> tuple[str | None, int | None]:
    """The load log's first load (ISO timestamp: the warehouse's identity) and its last load_id
    (None, None when it is empty)."""
    first, last = con.execute("select min(loaded_at), max(load_id) from raw.load_log").fetchone()
    return (first.isoformat() if isinstance(first, datetime) else None), last


def loaded_since(con: duckdb.DuckDBPyConnection, since: int) -> set[str]:
    """The extracts (raw table names) of the files loaded after load_id `since`."""
    rows = con.execute(
        "select distinct extract_name from raw.load_log where load_id > ?", [since]
    ).fetchall()
    return {r[0] for r in rows if r[0]}


def current_state(
    manifest: Mapping[str, Any], first: str | None, last: int | None
) -> dict[str, Any]:
    """The record (STATE_KEYS) of the project as it is now and the load log's `warehouse_now`."""
    from orchestration import settings

    return {
        "project": fingerprint(settings.PROJECT_ROOT, manifest),
        "warehouse": first,
        "loaded_through": last,
    }


def build_state(
    warehouse: Path,
    manifest: Mapping[str, Any],
    tags: Mapping[str, str],
    selected: set[str],
) -> dict[str, Any] | None:
    """What the build of the dbt nodes `selected` (unique ids), starting now, completes if every
    one succeeds: for a run launched with a plan (PLAN_TAG), the plan's record, provided the
    run builds what was planned (not a re-execution of part of it) for the project and
    warehouse planned for; else, for a build of every node (a run from the UI, the daily
    close), the project and the load log as they are now. None otherwise: a run of some models
    a person picked completes nothing. Read by the build's own step, which holds the
    warehouse: nothing loads while it runs."""
    if not warehouse.is_file():
        return None
    try:
        with duckdb.connect(str(warehouse)) as con:
            first, last = warehouse_now(con)
    except duckdb.Error:  # no load log
        return None
    if first is None or last is None:
        return None
    if not builds_the_plan(tags, selected, manifest):
        return None
    now = current_state(manifest, first, last)
    if PLAN_TAG not in tags:
        return now
    try:
        plan = json.loads(tags[PLAN_TAG])
        same = (plan["project"], plan["warehouse"]) == (now["project"], now["warehouse"])
        return {key: plan[key] for key in STATE_KEYS} if same else None
    except (ValueError, KeyError, TypeError):
        return None


def remember_build(
    warehouse: Path, run_results: Path, state: Mapping[str, Any] | None, expected: Iterable[str]
) -> None:
    """After a build: record `state` (build_state, as the build started) when the build of the
    nodes `expected` was complete (is_complete); else keep the last record, whose loads since
    then are still new."""
    if state is None or not run_results.is_file():
        return
    try:
        results = json.loads(run_results.read_text())
    except ValueError:  # cut short while written
        return
    if is_complete(results, expected):
        record_complete(warehouse, state)


def selected_nodes(assets_def: dg.AssetsDefinition, keys: Iterable[dg.AssetKey]) -> set[str]:
    """The dbt models, seeds and snapshots (unique ids) of these asset keys."""
    from dagster_dbt.asset_utils import get_manifest_and_translator_from_dbt_assets

    manifest, translator, project = get_manifest_and_translator_from_dbt_assets([assets_def])
    keys = set(keys)
    return {
        uid
        for uid in buildable(manifest)
        if translator.get_asset_spec(manifest, uid, project).key in keys
    }


def source_table(source: Mapping[str, Any]) -> str:
    """The raw table a dbt source reads: its Dagster asset key's last part, else its name."""
    key = ((source.get("meta") or {}).get("dagster") or {}).get("asset_key")
    return key[-1] if key else source["name"]


def tested_model(test: Mapping[str, Any]) -> str | None:
    """The node (unique id) a test's check is on, as dagster-dbt attaches it: the model of its
    meta's `dagster: ref: name`, else its only parent, else dbt's attached node."""
    meta = (test.get("config") or {}).get("meta") or test.get("meta") or {}
    ref = (meta.get("dagster") or {}).get("ref") or {}
    if ref.get("name"):
        return f"model.{ref.get('package') or test['package_name']}.{ref['name']}"
    parents = (test.get("depends_on") or {}).get("nodes") or []
    return parents[0] if len(parents) == 1 else test.get("attached_node")


def builds_the_plan(
    tags: Mapping[str, str], selected: set[str], manifest: Mapping[str, Any]
) -> bool:
    """A run building the dbt nodes `selected` builds what it was launched for: the nodes of its
    plan (PLAN_TAG), or every node when it has none. Not a re-execution of part of a run (it
    copies the run's tags) nor some assets a person picked."""
    if PLAN_TAG not in tags:
        return selected == buildable(manifest)
    try:
        return json.loads(tags[PLAN_TAG])["nodes"] == nodes_digest(selected)
    except (ValueError, KeyError, TypeError):
        return False


def scope_line(tags: Mapping[str, str], selected: set[str], manifest: Mapping[str, Any]) -> str:
    """What the build of the dbt nodes `selected` is, in words: the plan's line (SCOPE_TAG) when
    the run builds what was planned (builds_the_plan); else the part of it this run builds."""
    nodes = buildable(manifest)
    scope = tags.get(SCOPE_TAG)
    if builds_the_plan(tags, selected, manifest):
        return scope or f"every model: all {len(nodes)} dbt models and seeds"
    part = f"{len(selected)} of {len(nodes)} dbt models and seeds, those this run selected"
    return part + (f" (part of the run it re-executes, which planned {scope})" if scope else "")


def buildable(manifest: Mapping[str, Any]) -> set[str]:
    """The dbt nodes a build materializes: models, seeds, snapshots."""
    return {
        uid
        for uid, node in manifest.get("nodes", {}).items()
        if node.get("resource_type") in {"model", "seed", "snapshot"}
    }


def models_to_build(
    manifest: Mapping[str, Any], loaded: Iterable[str], retested: Iterable[str]
) -> set[str]:
    """The models (unique ids; a seed when a test on it is retested) a build of the raw tables
    `loaded` needs, with the models of the tests `retested` (module docstring)."""
    loaded = set(loaded)
    nodes = manifest.get("nodes", {})
    children = manifest.get("child_map", {})
    changed = {
        uid
        for uid, source in manifest.get("sources", {}).items()
        if source_table(source) in loaded or source["source_name"] == INGESTION_SOURCE
    }
    models = buildable(manifest)
    build: set[str] = set()
    frontier = [c for uid in changed for c in children.get(uid, ())]
    while frontier:  # downstream of a changed source
        uid = frontier.pop()
        if uid in models and uid not in build:
            build.add(uid)
            frontier.extend(children.get(uid, ()))
    build |= {m for t in retested if t in nodes and (m := tested_model(nodes[t])) in models}
    tests = [n for n in nodes.values() if n.get("resource_type") == "test"]
    while True:  # the model of a test with a parent built
        more = {
            m
            for t in tests
            if (m := tested_model(t)) in models
            and m not in build
            and build.intersection(t.get("depends_on", {}).get("nodes", ()))
        }
        if not more:
            return build
        build |= more


class Plan(NamedTuple):
    """A transform run's selection: its assets (None: the whole job) and its tags, which carry
    the plan (PLAN_TAG) and say what is built and why (SCOPE_TAG)."""

    assets: list[dg.AssetKey] | None
    tags: dict[str, str]


def plan_transform(job: dg.JobDefinition, warehouse: Path) -> Plan:
    """The transform run to launch after ingestion into `warehouse`: the job's assets less the
    dbt models the files loaded since the last complete build do not affect."""
    from dagster_dbt.asset_utils import get_manifest_and_translator_from_dbt_assets

    from orchestration import open_warnings
    from orchestration.dbt import concord_dbt_assets

    manifest, translator, project = get_manifest_and_translator_from_dbt_assets(
        [concord_dbt_assets]
    )
    nodes = buildable(manifest)
    record = last_complete(warehouse)
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            first, last = warehouse_now(con)
            loaded = loaded_since(con, record["loaded_through"]) if record else set()
    except duckdb.Error:  # another process writes it, or no load log yet
        return Plan(None, {SCOPE_TAG: "every model: the load log cannot be read now"})
    now = current_state(manifest, first, last)
    results = open_warnings.read_results(open_warnings.memory_path(warehouse))
    retested = None if results is None else open_warnings.failing(results)
    if record is None:
        why = "no complete build recorded yet"
    elif record["warehouse"] != first:
        why = "the warehouse is not the last complete build's"
    elif record["project"] != now["project"]:
        why = "the dbt project changed since the last complete build"
    elif retested is None:
        why = "the checks' last results (warehouse.test_results.json) cannot be read"
    else:
        build = models_to_build(manifest, loaded, retested) & nodes
        left_out = {translator.get_asset_spec(manifest, u, project).key for u in nodes - build}
        scope = (
            f"{len(build)} of {len(nodes)} dbt models and seeds, those reading the "
            f"{len(loaded)} raw tables loaded since the last complete build"
            + (f" or with {len(retested)} checks not passing" if retested else "")
            + f"; the inputs of the other {len(nodes - build)} are unchanged"
        )
        return Plan(
            sorted(key for key in job.asset_layer.selected_asset_keys if key not in left_out),
            {PLAN_TAG: json.dumps({**now, "nodes": nodes_digest(build)}), SCOPE_TAG: scope},
        )
    plan = json.dumps({**now, "nodes": nodes_digest(nodes)}) if last is not None else None
    return Plan(None, {**({PLAN_TAG: plan} if plan else {}), SCOPE_TAG: f"every model: {why}"})
