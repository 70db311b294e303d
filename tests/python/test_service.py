"""Concord as a service (`make serve`), end to end through Dagster's test APIs: the sensors are
evaluated against a Dagster instance and the runs they request are executed, as the daemon
would. A small clean world is delivered and processed but for its last delivery; then the last
delivery's files are dropped into the landing zone, and with no manual step the landing sensor
asks for the ingestion of their business dates only, the transform sensor for the incremental
build with its checks, which publishes a new version equal to the simulation's truth. A run of
`python -m orchestration.run` right after finds nothing new, says so and changes nothing.

World: seed 5, SF 0.02, 10 days, clean (its own: the sensors need a landing zone to drop files
into, which the shared worlds are not).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest
from dagster._core.utils import make_new_run_id

import ingestion.discover
from ingestion.contract import load_contract
from ingestion.discover import discover
from orchestration import affected, automation, history, open_warnings, run, up_to_date
from orchestration.dbt import DbtBuildConfig, concord_dbt_assets, whole_history_tests
from orchestration.definitions import build_definitions
from orchestration.resources import LandingZone, ServedCopy, Warehouse
from publishing import served
from simulation.__main__ import generate, parse_args

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WORLD = ["--seed", "5", "--scale-factor", "0.02", "--days", "10", "--start-date", "2026-02-02"]


def deliver(source: Path, landing: Path, folders: list[str]) -> None:
    """Copy the delivery folders (landing/<system>/<delivery date>) of those dates."""
    for folder in sorted(source.glob("*/*")):
        if folder.name in folders:
            shutil.copytree(folder, landing / folder.parent.name / folder.name)


def served_version(path: Path) -> tuple[int, list[str]]:
    with served.connect(path) as con:
        publication = served.current_publication(con)
    return publication["version"], [str(d) for d in publication["business_dates"]]


def load_log(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select load_id, source_file, status, business_date from raw.load_log order by 1"
        ).fetchall()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("service")
    generate(parse_args([*WORLD, "--out", str(root / "world"), "--clean"]))
    source = root / "world" / "landing"
    deliveries = sorted({folder.name for folder in source.glob("*/*")})
    paths = run.Paths(root / "landing", root / "warehouse.duckdb", root / "served.duckdb")
    deliver(source, paths.landing, deliveries[:-1])
    resources = {
        "landing": LandingZone(path=str(paths.landing)),
        "warehouse": Warehouse(path=str(paths.warehouse)),
        "served_copy": ServedCopy(path=str(paths.served)),
    }
    defs = build_definitions(**resources)
    instance = dg.DagsterInstance.ephemeral()
    # every delivery but the last, processed as `make run` does
    before = run.run_pipeline(defs, instance)
    assert all(r.success for r in before), [run.step_failures(r) for r in before]
    baseline = {r.run_id for r in before}
    version_before = served_version(paths.served)
    log_before = load_log(paths.warehouse)

    # the daemon's first tick on a landing zone already loaded: nothing to ask for
    first_tick = automation.landing_sensor(
        dg.build_sensor_context(instance=instance, resources=resources)
    )
    # the last delivery arrives
    deliver(source, paths.landing, deliveries[-1:])
    tick = automation.landing_sensor(
        dg.build_sensor_context(instance=instance, cursor=first_tick.cursor, resources=resources)
    )
    ingest_results, transform_results, transform_requests = [], [], []
    for request in tick.run_requests:
        ingest = defs.resolve_job_def("ingest_job").execute_in_process(
            instance=instance, partition_key=request.partition_key, tags=request.tags
        )
        ingest_results.append(ingest)
        context = dg.build_run_status_sensor_context(
            sensor_name=automation.transform_after_ingest.name,
            dagster_event=ingest.get_run_success_event(),
            dagster_instance=instance,
            dagster_run=ingest.dagster_run,
            resources=resources,
            repository_def=defs.get_repository_def(),
        )
        transform_requests.append(automation.transform_after_ingest(context))
    for request in transform_requests:
        if isinstance(request, dg.RunRequest):  # as the daemon launches it
            transform_results.append(
                defs.resolve_job_def("transform_job").execute_in_process(
                    instance=instance, tags=request.tags, asset_selection=request.asset_selection
                )
            )
    yield {
        "root": root,
        "paths": paths,
        "defs": defs,
        "source": source,
        "last_delivery": deliveries[-1],
        "instance": instance,
        "baseline": baseline,
        "version_before": version_before,
        "log_before": log_before,
        "first_tick": first_tick,
        "tick": tick,
        "ingest": ingest_results,
        "transform_requests": transform_requests,
        "transform": transform_results,
    }


def new_business_dates(service: dict) -> set[str]:
    """The business dates in the names of the last delivery's loadable files."""
    return {
        f.business_date.isoformat()
        for f in discover(service["paths"].landing)
        if f.is_known
        and f.delivery_date
        and f.delivery_date.isoformat() == service["last_delivery"]
    }


def test_the_sensors_and_the_daily_close_are_on_by_default() -> None:
    running = dg.DefaultSensorStatus.RUNNING
    assert automation.landing_sensor.default_status == running
    assert automation.transform_after_ingest.default_status == running
    assert automation.close_schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    for automated in (automation.landing_sensor, automation.transform_after_ingest):
        assert automated.description and "ON so that" in automated.description
    assert "ON so that" in (automation.close_schedule.description or "")


def test_the_daily_close_tests_the_whole_history() -> None:
    context = dg.build_schedule_context(instance=dg.DagsterInstance.ephemeral())
    request = next(iter(automation.close_schedule.evaluate_tick(context).run_requests))
    config = DbtBuildConfig(**request.run_config["ops"]["concord_dbt_assets"]["config"])
    assert whole_history_tests(config, {"test.concord.some_test"}) == {open_warnings.EVERY_TEST}
    with open_warnings.tested_whole(whole_history_tests(config, set())):
        assert os.environ[open_warnings.ENV] == "*"


def test_a_skipped_test_keeps_its_warning_and_only_a_pass_clears_it(tmp_path: Path) -> None:
    memory = tmp_path / "warehouse.test_results.json"
    run_results = tmp_path / "run_results.json"

    def build(status: str) -> None:
        run_results.write_text(
            json.dumps({"results": [{"unique_id": "test.concord.old_rows", "status": status}]})
        )
        open_warnings.remember(memory, run_results)

    build("warn")
    assert open_warnings.not_passing(memory) == {"test.concord.old_rows"}
    build("skipped")  # an upstream model failed: the test did not run
    assert open_warnings.not_passing(memory) == {"test.concord.old_rows"}
    build("pass")
    assert open_warnings.not_passing(memory) == set()


def test_the_first_tick_on_a_loaded_landing_zone_asks_for_nothing(service: dict) -> None:
    assert service["first_tick"].run_requests == []


def test_a_dropped_delivery_is_ingested_for_its_business_dates_and_no_other(
    service: dict,
) -> None:
    expected = new_business_dates(service)
    assert expected, "the last delivery holds no loadable file"
    assert sorted(r.partition_key for r in service["tick"].run_requests) == sorted(expected)
    assert service["ingest"] and all(r.success for r in service["ingest"])
    new_runs = [
        r
        for r in service["instance"].get_runs(filters=dg.RunsFilter(job_name="ingest_job"))
        if r.run_id not in service["baseline"]
    ]
    assert sorted(r.tags.get("dagster/partition") for r in new_runs) == sorted(expected)
    materialized = {
        (event.asset_key.to_user_string(), event.partition)
        for result in service["ingest"]
        for event in result.get_asset_materialization_events()
    }
    assert materialized and {day for _, day in materialized} == expected
    logged_before = {row[0] for row in service["log_before"]}
    new_rows = [r for r in load_log(service["paths"].warehouse) if r[0] not in logged_before]
    assert new_rows and {r[3].isoformat() for r in new_rows} == expected
    assert {r[1].split("/")[1] for r in new_rows} == {service["last_delivery"]}


def test_the_ingestion_triggers_one_build_that_publishes_the_truth(service: dict) -> None:
    assert all(isinstance(r, dg.RunRequest) for r in service["transform_requests"])
    assert [r.success for r in service["transform"]] == [True] * len(service["ingest"])
    version, dates = served_version(service["paths"].served)
    assert version == service["version_before"][0] + len(service["transform"])
    assert run.published_version(service["transform"][-1]) == f"v{version:06d}"
    assert new_business_dates(service) <= set(dates)
    assert set(service["version_before"][1]) < set(dates)
    truth = pd.read_csv(service["root"] / "world" / "truth" / "net_sales.csv")
    truth = truth.groupby("business_date")[["units_sold", "net_sales"]].sum().round(2)
    with served.connect(service["paths"].served) as con:
        frame = con.execute(
            "select strftime(business_date, '%Y-%m-%d') as business_date, "
            "sum(units_sold) as units_sold, sum(net_sales) as net_sales "
            "from marts.mart_net_sales group by 1 order by 1"
        ).df()
    frame["units_sold"] = frame["units_sold"].astype("int64")
    frame["net_sales"] = frame["net_sales"].astype(float).round(2)
    pd.testing.assert_frame_equal(frame.set_index("business_date"), truth, check_dtype=False)


def test_the_build_leaves_out_the_models_the_delivery_does_not_reach(service: dict) -> None:
    """A weekday's delivery (no master data): the transform the sensor requests leaves out the
    models whose inputs did not change since the last complete build (orchestration/
    affected.py), says so in the run's log, and builds every other; the truth above is
    published from it."""
    defs, warehouse = service["defs"], service["paths"].warehouse
    logged_before = {row[0] for row in service["log_before"]}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        loaded = {
            extract
            for load_id, extract in con.execute(
                "select load_id, extract_name from raw.load_log"
            ).fetchall()
            if load_id not in logged_before
        }
    master = {e.name for e in load_contract().values() if e.cadence not in {"daily", "weekdays"}}
    assert loaded and not loaded & master
    loaded_keys = {dg.AssetKey(["raw", n]) for n in loaded | {"load_log", "quarantine"}}
    graph = defs.resolve_asset_graph()
    job_keys = set(defs.resolve_job_def("transform_job").asset_layer.selected_asset_keys)
    dbt_keys = set(concord_dbt_assets.keys)
    for request, result in zip(service["transform_requests"], service["transform"], strict=True):
        left_out = job_keys - set(request.asset_selection)
        assert {
            dg.AssetKey(["marts", "dim_location"]),
            dg.AssetKey(["seeds", "channels"]),
        } <= left_out
        for key in left_out:  # nothing they read, however far up, was loaded
            seen, stack = set(), list(graph.get(key).parent_keys)
            while stack:
                parent = stack.pop()
                if parent not in seen:
                    seen.add(parent)
                    stack.extend(graph.get(parent).parent_keys)
            assert not seen & loaded_keys, key
        built = set(request.asset_selection) & dbt_keys
        materialized = {e.asset_key for e in result.get_asset_materialization_events()}
        assert built <= materialized and not materialized & left_out
        assert request.tags[affected.SCOPE_TAG].startswith(
            f"{len(built)} of {len(dbt_keys)} dbt models and seeds"
        )
    # the build step recorded the build complete up to the last load (the next run's start)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        last = con.execute("select max(load_id) from raw.load_log").fetchone()[0]
    assert affected.last_complete(warehouse)["loaded_through"] == last


def test_the_transform_waits_for_the_last_of_several_pending_ingestions(service: dict) -> None:
    """A burst of deliveries: while another ingest run is queued, a finished one requests no
    build (the last one will)."""
    instance = service["instance"]
    finished = service["ingest"][-1]
    queued = instance.add_run(
        dg.DagsterRun(
            job_name="ingest_job",
            run_id=make_new_run_id(),
            status=dg.DagsterRunStatus.QUEUED,
            remote_job_origin=history.job_origin("ingest_job"),
        )
    )
    try:
        context = dg.build_run_status_sensor_context(
            sensor_name=automation.transform_after_ingest.name,
            dagster_event=finished.get_run_success_event(),
            dagster_instance=instance,
            dagster_run=finished.dagster_run,
            resources={"warehouse": Warehouse(path=str(service["paths"].warehouse))},
            repository_def=service["defs"].get_repository_def(),
        )
        assert isinstance(automation.transform_after_ingest(context), dg.SkipReason)
    finally:
        instance.delete_run(queued.run_id)


def test_a_run_with_nothing_new_says_so_and_changes_nothing(
    service: dict, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = service["paths"]
    version, log = served_version(paths.served), load_log(paths.warehouse)
    env = os.environ | {
        "PYTHONPATH": str(PROJECT_ROOT),
        "CONCORD_LANDING_DIR": str(paths.landing),
        "CONCORD_WAREHOUSE": str(paths.warehouse),
        "CONCORD_SERVED_WAREHOUSE": str(paths.served),
        "DAGSTER_HOME": str(service["root"] / "dagster_home"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.run"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("concord: nothing new"), done.stdout[-3000:]
    assert f"v{version[0]:06d}" in lines[0]
    assert served_version(paths.served) == version and load_log(paths.warehouse) == log
    # in this process: the landing zone listed once for the range check and the pending files
    for name in ("CONCORD_LANDING_DIR", "CONCORD_WAREHOUSE", "CONCORD_SERVED_WAREHOUSE"):
        monkeypatch.setenv(name, env[name])
    listings: list[Path] = []
    real_walk = ingestion.discover._walk
    monkeypatch.setattr(
        ingestion.discover, "_walk", lambda path: listings.append(path) or real_walk(path)
    )
    assert run.main() == 0
    assert capsys.readouterr().out.startswith("concord: nothing new")
    assert listings == [paths.landing]
    monkeypatch.undo()
    # a stray file is news: the same check then says there is work
    stray = paths.landing / "pos" / service["last_delivery"] / "notes.txt"
    stray.write_text("not an extract\n")
    try:
        assert (
            up_to_date.nothing_new(paths.landing, paths.warehouse, paths.served, PROJECT_ROOT)
            is None
        )
    finally:
        stray.unlink()
    assert up_to_date.nothing_new(paths.landing, paths.warehouse, paths.served, PROJECT_ROOT)


def test_the_runs_of_make_run_show_on_the_timeline_under_the_code_location(service: dict) -> None:
    """The Overview timeline draws only runs that name their code location and job."""
    for run_id in service["baseline"]:
        recorded = service["instance"].get_run_by_id(run_id)
        origin = recorded.remote_job_origin
        assert origin is not None, recorded.job_name
        assert origin.repository_origin.get_label() == "__repository__@concord"
        assert origin.job_name == recorded.job_name


def test_a_warning_on_old_rows_stays_until_the_data_changes(service: dict) -> None:
    """Tests that don't flicker (docs/decisions.md): a whole-history test warns on an old row;
    the next scoped build, with no data change, still warns (it tests that check over every
    row, and says why); once the row is corrected the next scoped build passes, and the build
    after it tests the rewritten rows again. The same row's two required columns made null
    fail the model's one not-null check, which names them (orchestration/grouped_failures.py). Runs
    last in this module: its builds replace the warehouse's build results."""
    defs, instance, warehouse = service["defs"], service["instance"], service["paths"].warehouse
    model = "stg_wms__movements"
    key = next(k for k in defs.resolve_asset_graph().get_all_asset_keys() if k.path[-1] == model)
    check_name = next(
        c.name
        for c in defs.resolve_asset_graph().get_check_keys_for_assets([key])
        if c.name.startswith(f"accepted_values_{model}_movement_type_")
    )
    first_date = "(select min(business_date) from staging.stg_wms__movements)"
    not_null = f"not_null_{model}"
    evaluations: dict[str, dg.AssetCheckEvaluation] = {}

    def build(whole_history: bool) -> dg.AssetCheckEvaluation:
        result = defs.resolve_job_def("transform_job").execute_in_process(
            instance=instance,
            asset_selection=[key],
            run_config={
                "ops": {"concord_dbt_assets": {"config": {"test_whole_history": whole_history}}}
            },
        )
        evaluations.update({e.check_name: e for e in run.check_evaluations(result)})
        return evaluations[check_name]

    with duckdb.connect(str(warehouse)) as con:
        (row, movement_type, sku, uom) = con.execute(
            f"select rowid, movement_type, wms_item_code, unit_of_measure from staging.{model} "  # noqa: S608
            f"where business_date = {first_date} limit 1"
        ).fetchone()
        con.execute(
            f"update staging.{model} set movement_type = 'teleport', wms_item_code = null, "  # noqa: S608
            "unit_of_measure = null where rowid = ?",
            [row],
        )
    try:
        closed = build(whole_history=True)
        assert not closed.passed and closed.severity == dg.AssetCheckSeverity.WARN
        nulls = evaluations[not_null]
        assert not nulls.passed and nulls.severity == dg.AssetCheckSeverity.WARN
        assert nulls.description == "null: `unit_of_measure` (1 row), `wms_item_code` (1 row)"
        assert nulls.metadata["null_columns"].value == {"unit_of_measure": 1, "wms_item_code": 1}
        scoped = build(whole_history=False)
        assert not scoped.passed, "a scoped build with no data change cleared the warning"
        assert "every row" in scoped.metadata["tested_rows"].value
    finally:
        with duckdb.connect(str(warehouse)) as con:
            con.execute(
                f"update staging.{model} set movement_type = ?, wms_item_code = ?, "  # noqa: S608
                "unit_of_measure = ? where rowid = ?",
                [movement_type, sku, uom, row],
            )
    corrected = build(whole_history=False)
    assert corrected.passed, "the data changed, the warning should clear"
    assert evaluations[not_null].passed and evaluations[not_null].description is None
    assert "every row" in corrected.metadata["tested_rows"].value
    # passed: the next build tests only the rewritten rows again
    memory = open_warnings.memory_path(warehouse)
    assert corrected.metadata["unique_id"].value not in open_warnings.not_passing(memory)
