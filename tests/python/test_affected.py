"""A day's build: what the new files affect (orchestration/affected.py), on the project's own
manifest and Dagster graph, with no build: which models a load reaches, what a retested check
brings back, and when everything is built. The service's run (tests/python/test_service.py)
shows the selection through the sensors and the published truth after it."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
from dagster_dbt.asset_utils import (
    get_asset_check_key_for_test,
    get_manifest_and_translator_from_dbt_assets,
)

from ingestion.contract import load_contract
from ingestion.warehouse import ensure_raw_schema
from orchestration import affected, open_warnings, settings
from orchestration.dbt import concord_dbt_assets
from orchestration.definitions import defs
from orchestration.manifest import dbt_manifest

MANIFEST: Mapping[str, Any] = dbt_manifest()
GRAPH = defs.resolve_asset_graph()
_manifest, _translator, _project = get_manifest_and_translator_from_dbt_assets([concord_dbt_assets])
# dbt unique id -> asset key, test unique id -> check key, as Dagster's dbt assets say
GRAPH_KEY = {
    uid: _translator.get_asset_spec(_manifest, uid, _project).key
    for uid in affected.buildable(_manifest)
}
CHECKS = {
    uid: get_asset_check_key_for_test(_manifest, _translator, uid, _project)
    for uid, node in _manifest["nodes"].items()
    if node["resource_type"] == "test"
}
JOB = defs.resolve_job_def("transform_job")
# the extracts a weekday delivers: the daily and weekday extracts of the contract (no master data)
DAILY = {e.name for e in load_contract().values() if e.cadence in {"daily", "weekdays"}}


def model(name: str) -> str:
    return next(u for u, n in MANIFEST["nodes"].items() if n["name"] == name and "." in u)


def upstream(key: dg.AssetKey) -> set[dg.AssetKey]:
    """Every asset upstream of `key` in Dagster's graph (not through the manifest)."""
    seen: set[dg.AssetKey] = set()
    stack = list(GRAPH.get(key).parent_keys)
    while stack:
        parent = stack.pop()
        if parent not in seen:
            seen.add(parent)
            stack.extend(GRAPH.get(parent).parent_keys)
    return seen


def raw_keys(extracts: set[str]) -> set[dg.AssetKey]:
    ingestion_tables = {"load_log", "quarantine", "replaced_rows"}
    return {dg.AssetKey(["raw", name]) for name in extracts | ingestion_tables}


def test_a_weekday_leaves_out_exactly_the_models_no_loaded_raw_table_reaches() -> None:
    assert DAILY and not DAILY & {"erp_products", "erp_locations", "erp_price_list"}
    build = affected.models_to_build(MANIFEST, DAILY, [])
    keys = {u: GRAPH_KEY[u] for u in affected.buildable(MANIFEST)}
    left_out = {keys[u] for u in affected.buildable(MANIFEST) - build}
    loaded = raw_keys(DAILY)
    assert {dg.AssetKey(["marts", n]) for n in ("dim_location", "dim_entity")} <= left_out
    for key in left_out:  # nothing they read (transitively) was loaded
        assert not upstream(key) & loaded, key
    for uid in build:  # each built model reads a loaded table or is tested against one
        reads_loaded = bool(upstream(keys[uid]) & loaded)
        tested_against = any(
            affected.tested_model(t) == uid and build & set(t["depends_on"]["nodes"]) - {uid}
            for t in MANIFEST["nodes"].values()
            if t["resource_type"] == "test"
        )
        assert reads_loaded or tested_against, uid


def test_every_test_dbt_runs_with_a_built_parent_is_a_check_of_a_built_model() -> None:
    """dbt's eager selection runs a test when any parent is built; its check's asset is in the
    run, so Dagster records a check, not an observation."""
    build = affected.models_to_build(MANIFEST, DAILY, [])
    tests = [n for n in MANIFEST["nodes"].values() if n["resource_type"] == "test"]
    run = [t for t in tests if build & set(t["depends_on"]["nodes"])]
    assert 0 < len(run) < len(tests)
    assert all(affected.tested_model(t) in build for t in run)


def test_tested_model_is_the_asset_dagster_attaches_the_check_to() -> None:
    for uid, node in MANIFEST["nodes"].items():
        if node["resource_type"] != "test":
            continue
        check = CHECKS.get(uid)
        tested = affected.tested_model(node)
        assert check is not None and tested is not None, uid
        assert GRAPH_KEY[tested] == check.asset_key, uid


def test_master_data_rebuilds_what_reads_it_and_everything_downstream() -> None:
    build = affected.models_to_build(MANIFEST, {"erp_locations"}, [])
    assert model("dim_location") in build and model("stg_erp__locations") in build
    for uid in affected.buildable(MANIFEST):
        if dg.AssetKey(["raw", "erp_locations"]) in upstream(GRAPH_KEY[uid]):
            assert uid in build, uid


def test_a_check_not_passing_brings_its_model_back() -> None:
    check = next(
        u
        for u, n in MANIFEST["nodes"].items()
        if n["resource_type"] == "test" and affected.tested_model(n) == model("dim_channel")
    )
    assert model("dim_channel") not in affected.models_to_build(MANIFEST, DAILY, [])
    assert model("dim_channel") in affected.models_to_build(MANIFEST, DAILY, [check])


def test_with_nothing_loaded_the_readers_of_the_load_log_are_built() -> None:
    """The transform's own stray-file log writes the load log after the plan: what reads it is
    built whatever was loaded."""
    build = affected.models_to_build(MANIFEST, set(), [])
    readers = {
        uid
        for uid in affected.buildable(MANIFEST)
        if dg.AssetKey(["raw", "load_log"]) in upstream(GRAPH_KEY[uid])
    }
    assert readers and readers <= build
    assert model("dim_location") not in build


def test_a_build_is_complete_when_every_model_it_was_to_build_succeeded() -> None:
    def results(*pairs: tuple[str, str]) -> dict:
        return {"results": [{"unique_id": u, "status": s} for u, s in pairs]}

    expected = {"model.concord.a", "seed.concord.b"}
    ok = (("model.concord.a", "success"), ("seed.concord.b", "success"))
    assert affected.is_complete(results(*ok, ("test.concord.t.1", "warn")), expected)
    assert affected.is_complete(results(*ok, ("test.concord.t.1", "fail")), expected)
    assert not affected.is_complete(results(*ok, ("test.concord.t.1", "error")), expected)
    assert not affected.is_complete(results(*ok, ("model.concord.c", "skipped")), expected)
    assert not affected.is_complete(results(("model.concord.a", "error"), ok[1]), expected)
    # stopped halfway: the results hold only the nodes done
    assert not affected.is_complete(results(ok[0]), expected)
    assert not affected.is_complete(results(), set())


def write_load_log(warehouse: Path, rows: list[tuple[str, str]]) -> None:
    """Append (extract, loaded_at) rows to a warehouse's load log, each with the next load_id."""
    with duckdb.connect(str(warehouse)) as con:
        ensure_raw_schema(con, load_contract())
        for extract, at in rows:
            con.execute(
                "insert into raw.load_log (load_id, extract_name, status, loaded_at) "
                "select coalesce(max(load_id), 0) + 1, ?, 'loaded', cast(? as timestamp) "
                "from raw.load_log",
                [extract, at],
            )


def selected_by(plan: affected.Plan) -> set[str]:
    """The dbt nodes a run of the plan builds."""
    nodes = affected.buildable(MANIFEST)
    return nodes if plan.assets is None else {u for u in nodes if GRAPH_KEY[u] in plan.assets}


def build(warehouse: Path, tags: dict, selected: set[str], status: str = "success") -> None:
    """The build step's bookkeeping (orchestration/dbt.py) for a build of `selected` whose
    models end with `status`."""
    state = affected.build_state(warehouse, MANIFEST, tags, selected)
    results = warehouse.with_name("run_results.json")
    results.write_text(
        json.dumps({"results": [{"unique_id": u, "status": status} for u in sorted(selected)]})
    )
    affected.remember_build(warehouse, results, state, selected)


def recorded(warehouse: Path) -> dict | None:
    return affected.last_complete(warehouse)


def test_the_plan_builds_what_the_loads_since_the_last_complete_build_reach(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    memory = open_warnings.memory_path(warehouse)
    write_load_log(warehouse, [("erp_locations", "2026-01-01 10:00"), ("pos_sales", "2026-01-01")])
    first = affected.plan_transform(JOB, warehouse)
    assert first.assets is None and "no complete build" in first.tags[affected.SCOPE_TAG]
    build(warehouse, first.tags, selected_by(first))
    memory.write_text("{}")  # the build's checks all passed
    assert recorded(warehouse)["loaded_through"] == 2
    # a weekday's files: the dimensions of master data stay out, the facts are in
    write_load_log(warehouse, [("pos_sales", "2026-01-02 10:00")])
    day = affected.plan_transform(JOB, warehouse)
    assert day.assets is not None and set(day.assets) <= set(JOB.asset_layer.selected_asset_keys)
    assert dg.AssetKey(["marts", "dim_location"]) not in day.assets
    assert {dg.AssetKey(["marts", "fct_sales_lines"]), dg.AssetKey(["publication"])} <= set(
        day.assets
    )
    # a run of part of the plan (a re-execution), a run of it once the project changed, or a
    # run of some models a person picked completes nothing
    part = set(sorted(selected_by(day))[:10])
    assert affected.build_state(warehouse, MANIFEST, day.tags, part) is None
    changed = json.loads(day.tags[affected.PLAN_TAG]) | {"project": "edited"}
    changed_tags = {affected.PLAN_TAG: json.dumps(changed)}
    assert affected.build_state(warehouse, MANIFEST, changed_tags, selected_by(day)) is None
    assert affected.build_state(warehouse, MANIFEST, {}, part) is None
    # and the build step's first line says which: the plan, or the part of it built
    nodes = affected.buildable(MANIFEST)
    scope = day.tags[affected.SCOPE_TAG]
    assert affected.scope_line(day.tags, selected_by(day), MANIFEST) == scope
    assert affected.scope_line(day.tags, part, MANIFEST) == (
        f"10 of {len(nodes)} dbt models and seeds, those this run selected (part of the run it "
        f"re-executes, which planned {scope})"
    )
    assert affected.scope_line({}, part, MANIFEST).endswith("those this run selected")
    assert affected.scope_line({}, nodes, MANIFEST).startswith("every model: all ")
    # a build that did not complete keeps the last record; the next plan is the same
    build(warehouse, day.tags, selected_by(day), status="error")
    assert recorded(warehouse)["loaded_through"] == 2
    assert affected.plan_transform(JOB, warehouse).assets == day.assets
    build(warehouse, day.tags, selected_by(day))
    assert recorded(warehouse)["loaded_through"] == 3
    # a check on a left-out dimension that warned last time brings it back
    check = next(
        u
        for u, n in MANIFEST["nodes"].items()
        if n["resource_type"] == "test" and affected.tested_model(n) == model("dim_location")
    )
    memory.write_text(json.dumps({check: "warn"}))
    assert dg.AssetKey(["marts", "dim_location"]) in affected.plan_transform(JOB, warehouse).assets
    # everything: the checks' last results unknown, another project, another warehouse
    memory.write_text("not json")
    assert "cannot be read" in affected.plan_transform(JOB, warehouse).tags[affected.SCOPE_TAG]
    memory.write_text("{}")
    record = recorded(warehouse)
    affected.record_complete(warehouse, record | {"project": "another"})
    assert affected.plan_transform(JOB, warehouse).assets is None
    affected.record_complete(warehouse, record | {"warehouse": "2025-12-31T00:00:00"})
    whole = affected.plan_transform(JOB, warehouse)
    assert whole.assets is None and "not the last complete" in whole.tags[affected.SCOPE_TAG]
    # a build of every node with no plan (the UI's, the daily close) records the load log now
    write_load_log(warehouse, [("erp_locations", "2026-01-08 10:00")])
    build(warehouse, {}, affected.buildable(MANIFEST))
    assert recorded(warehouse)["loaded_through"] == 4
    assert affected.plan_transform(JOB, warehouse).assets is not None


def test_the_plan_builds_everything_when_the_warehouse_is_being_written(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    write_load_log(warehouse, [("pos_sales", "2026-01-01 10:00")])
    with duckdb.connect(str(warehouse)):  # another writer (this process holds it read-write)
        plan = affected.plan_transform(JOB, warehouse)
    assert plan.assets is None and "cannot be read" in plan.tags[affected.SCOPE_TAG]


def test_the_fingerprint_changes_with_a_file_or_the_graph(tmp_path: Path) -> None:
    files = (
        "models/a.sql",
        "macros/m.sql",
        "tests/dbt/t.sql",
        "seeds/s.csv",
        "dbt_project.yml",
        "profiles/profiles.yml",
    )
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("select 1")
    graph = {"nodes": {"model.x.a": {"depends_on": {"nodes": []}}}, "sources": {}}
    before = affected.fingerprint(tmp_path, graph)
    assert affected.fingerprint(tmp_path, graph) == before
    for name in files:
        text = (tmp_path / name).read_text()
        (tmp_path / name).write_text(text + " ")
        assert affected.fingerprint(tmp_path, graph) != before, name
        (tmp_path / name).write_text(text)
    # a code location that still reads an older parse of the same files
    older = {"nodes": {"model.x.a": {"depends_on": {"nodes": ["source.x.s.t"]}}}, "sources": {}}
    assert affected.fingerprint(tmp_path, older) != before
    assert affected.fingerprint(tmp_path, graph) == before


def test_the_fingerprint_changes_with_the_environment_the_models_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = {"nodes": {}, "sources": {}}
    for name in affected.ENVIRONMENT + affected.NOT_CONTENT:
        monkeypatch.delenv(name, raising=False)
    before = affected.fingerprint(tmp_path, graph)
    for name in affected.ENVIRONMENT:
        monkeypatch.setenv(name, "")  # set, although empty, is not unset
        assert affected.fingerprint(tmp_path, graph) != before, name
        monkeypatch.delenv(name)
    for name in affected.NOT_CONTENT:  # e.g. the daily close's test scope
        monkeypatch.setenv(name, "x")
        assert affected.fingerprint(tmp_path, graph) == before, name
        monkeypatch.delenv(name)
    monkeypatch.setattr(affected, "installed", lambda package: "0.0.0")  # another dbt or DuckDB
    assert affected.fingerprint(tmp_path, graph) != before


def test_every_environment_variable_the_project_reads_is_classified() -> None:
    # a variable added to a model, macro or profile must say whether it changes a model's rows
    read = set()
    for name in affected.FINGERPRINTED:
        path = settings.PROJECT_ROOT / name
        for p in [path] if path.is_file() else path.rglob("*"):
            if p.is_file() and p.suffix in {".sql", ".yml", ".yaml"}:
                read |= set(re.findall(r"env_var\(\s*['\"](\w+)['\"]", p.read_text()))
    assert read, "no env_var( found: the pattern no longer matches the project"
    assert read <= set(affected.ENVIRONMENT + affected.NOT_CONTENT), read
