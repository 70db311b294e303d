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
  tables, load log, quarantine and replaced rows, count as loaded whenever a file was);
* the model of each test whose last result did not pass (orchestration/open_warnings.py): it
  is tested again, over every row, so a warning stays a warning and an error still blocks the
  publication;
* the model a test is on, when another parent of the test is built (a reference to a dimension
  rebuilt today is checked on the unchanged model too); dbt runs every test of a built model.

Everything is built (None) when there is no record of a complete build, when the project's
files (models, macros, seeds, tests, dbt_project.yml) changed since it, when the warehouse is
not the one recorded, or when it cannot be read (another process writes it). The record (`warehouse.build_state.json`) is
written after a build whose every model succeeded: the project's fingerprint and how far the
load log went when the run was launched (the run's tag), so files loaded after the launch are
built by the next run."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import duckdb

from orchestration.up_to_date import PROJECT_INPUTS

if TYPE_CHECKING:
    import dagster as dg

# The launch's view of the load log, on the transform run (what the build is complete up to).
LOADED_THROUGH_TAG = "concord/loaded_through_at"
# What the run builds and why, in words (the build's step says it).
SCOPE_TAG = "concord/build_scope"
# The project's files whose change rebuilds everything: what dbt builds from, and the tests.
FINGERPRINTED = (*PROJECT_INPUTS, "tests/dbt")
# The source of the ingestion's own tables, written whenever a file is loaded.
INGESTION_SOURCE = "ingestion"


# A complete build's record: the project's fingerprint, how far the load log went, and its
# first load (another warehouse, started again under the same name, has another).
STATE_KEYS = ("project", "loaded_through_at", "first_loaded_at")


def state_path(warehouse: Path) -> Path:
    return warehouse.with_name(f"{warehouse.stem}.build_state.json")


def fingerprint(project_root: Path) -> str:
    """SHA-256 of the project's files dbt builds and tests from (paths and contents)."""
    digest = hashlib.sha256()
    for name in FINGERPRINTED:
        path = project_root / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for p in files:
            digest.update(f"{p.relative_to(project_root).as_posix()}\0".encode())
            digest.update(hashlib.sha256(p.read_bytes()).digest())
    return digest.hexdigest()


def last_complete(warehouse: Path) -> dict[str, str] | None:
    """The record of the last complete build (STATE_KEYS), or None."""
    try:
        state = json.loads(state_path(warehouse).read_text())
    except (OSError, ValueError):
        return None
    ok = isinstance(state, dict) and set(STATE_KEYS) <= state.keys()
    return state if ok else None


def record_complete(warehouse: Path, state: Mapping[str, str]) -> None:
    """Record a complete build (atomically)."""
    path = state_path(warehouse)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(dict(state), sort_keys=True))
    os.replace(partial, path)


def forget(warehouse: Path) -> None:
    """The next build builds everything (a full refresh, a warehouse started again)."""
    state_path(warehouse).unlink(missing_ok=True)


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


def load_log_span(con: duckdb.DuckDBPyConnection) -> tuple[str | None, str | None]:
    """The load log's first and latest load (ISO timestamps; None when it is empty)."""
    span = con.execute("select min(loaded_at), max(loaded_at) from raw.load_log").fetchone()
    first, latest = (t.isoformat() if isinstance(t, datetime) else None for t in span)
    return first, latest


def loaded_since(con: duckdb.DuckDBPyConnection, since: str) -> set[str]:
    """The extracts (raw table names) of the files loaded after `since` (ISO timestamp)."""
    rows = con.execute(
        "select distinct extract_name from raw.load_log where loaded_at > cast(? as timestamp)",
        [since],
    ).fetchall()
    return {r[0] for r in rows}


def build_state(
    warehouse: Path, project_root: Path, tagged: str | None, whole: bool
) -> dict[str, str] | None:
    """What a build starting now will be complete up to: the load log as the run's launch saw
    it (`tagged`, LOADED_THROUGH_TAG), else as it is now for a build of every model (`whole`:
    a run launched from the UI, the daily close). None for a run of some models picked by a
    person, which completes nothing. Read by the build's own step, which holds the warehouse:
    nothing loads while it runs."""
    if tagged is None and not whole:
        return None
    try:
        with duckdb.connect(str(warehouse)) as con:
            first, latest = load_log_span(con)
    except duckdb.Error:  # no load log yet
        return None
    through = tagged or latest
    if first is None or through is None:
        return None
    return {
        "project": fingerprint(project_root),
        "loaded_through_at": through,
        "first_loaded_at": first,
    }


def remember_build(
    warehouse: Path, run_results: Path, state: Mapping[str, str] | None, expected: Iterable[str]
) -> None:
    """After a build: record `state` (STATE_KEYS, as the build started) when the build of the
    nodes `expected` was complete (is_complete); else keep the last record, whose loads since
    then are still new."""
    if state is None or not run_results.is_file():
        return
    if is_complete(json.loads(run_results.read_text()), expected):
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
        if loaded and (source_table(source) in loaded or source["source_name"] == INGESTION_SOURCE)
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
    """A transform run's selection: its assets (None: the whole job) and its tags, which say
    how far the load log went (LOADED_THROUGH_TAG) and what is built and why (SCOPE_TAG)."""

    assets: list[dg.AssetKey] | None
    tags: dict[str, str]


def plan_transform(job: dg.JobDefinition, warehouse: Path) -> Plan:
    """The transform run to launch after ingestion into `warehouse`: the job's assets less the
    dbt models the files loaded since the last complete build do not affect."""
    from orchestration import settings

    record = last_complete(warehouse)
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            first, latest = load_log_span(con)
            loaded = loaded_since(con, record["loaded_through_at"]) if record else set()
    except duckdb.Error:  # another process writes it, or no load log yet
        return Plan(None, {SCOPE_TAG: "every model: the load log cannot be read now"})
    tags = {LOADED_THROUGH_TAG: latest} if latest else {}
    if record is None:
        why = "no complete build recorded yet"
    elif record["first_loaded_at"] != first:
        why = "the warehouse is not the last complete build's"
    elif record["project"] != fingerprint(settings.PROJECT_ROOT):
        why = "the dbt project changed since the last complete build"
    else:
        return _affected(job, warehouse, loaded, tags)
    return Plan(None, {**tags, SCOPE_TAG: f"every model: {why}"})


def _affected(job: dg.JobDefinition, warehouse: Path, loaded: set[str], tags: dict) -> Plan:
    """The job's assets less the dbt models and seeds models_to_build leaves out."""
    from dagster_dbt.asset_utils import get_manifest_and_translator_from_dbt_assets

    from orchestration import open_warnings
    from orchestration.dbt import concord_dbt_assets

    manifest, translator, project = get_manifest_and_translator_from_dbt_assets(
        [concord_dbt_assets]
    )
    retested = open_warnings.not_passing(open_warnings.memory_path(warehouse))
    nodes = buildable(manifest)
    build = models_to_build(manifest, loaded, retested) & nodes
    left_out = {translator.get_asset_spec(manifest, uid, project).key for uid in nodes - build}
    assets = sorted(key for key in job.asset_layer.selected_asset_keys if key not in left_out)
    scope = (
        f"{len(build)} of {len(nodes)} dbt models and seeds, those reading the "
        f"{len(loaded)} raw tables loaded since the last complete build"
        + (f" or with {len(retested)} checks not passing" if retested else "")
        + f"; the inputs of the other {len(nodes - build)} are unchanged"
    )
    return Plan(assets, {**tags, SCOPE_TAG: scope})
