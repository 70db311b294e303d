"""Incremental event facts (issue 5): a warehouse fed day by day, late files included, holds
exactly the marts of one full build over the same files.

The defective world's landing zone is replayed by delivery date into a second warehouse: a full
build over the deliveries before a late sales file arrives, one incremental build for the day
it arrives (it corrects a business date three days back), one for the next day (its freight
invoices re-cost receipts before its window), one for all the rest. The shared defective world
was built in one go from every file, so it is the full refresh to compare to: the event facts,
the valuation, the KPI marts and the postings up to the general ledger (fct_gl_postings).
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import BuiltWorld, copy_project, dbt, redeliver

from ingestion.load import ingest
from orchestration import grouped_failures

KPI_CHAIN = [
    "+mart_net_sales",
    "+mart_cogs",
    "+mart_available_inventory",
    "+fct_marketplace_fees",
    "+fct_inventory_movements",
    "+fct_gl_postings",
    "+mart_forecast_accuracy",
    "+mart_days_of_supply",
]
# The models the chain rebuilds by load, and what the valuation rebuilds whole between them.
COMPARED = {
    "staging": [
        "stg_pos__sales_lines",
        "stg_wms__movements",
        "stg_marketplace__settlement_lines",
        "stg_webshop__order_events",
        "stg_webshop__order_lines",
        "stg_webshop__refund_lines",
    ],
    "intermediate": [
        "int_sales_lines_unioned",
        "int_sales_lines_allocated",
        "int_sales_lines_converted",
        "int_inventory_movements_unioned",
        "int_inventory_position_changes",
        "int_valuation_events_sequenced",
        "int_valuation_events_costed",
        "int_moving_average_costs",
        "int_average_cost_changes",
        "int_work_order_costs",
        "int_posting_events_sales",
        "int_posting_events_inventory",
        "int_posting_events_purchasing",
    ],
    "marts": [
        "fct_sales_lines",
        "fct_marketplace_fees",
        "fct_inventory_movements",
        "mart_net_sales",
        "mart_cogs",
        "mart_available_inventory",
        "fct_gl_posting_events",
        "fct_gl_postings",
        "mart_forecast_accuracy",
        "mart_demand_forecast",
        "mart_days_of_supply",
    ],
}
INCREMENTAL_MODELS = {*COMPARED["staging"], *COMPARED["intermediate"], *COMPARED["marts"]} - {
    "int_moving_average_costs",
    "int_average_cost_changes",
    "int_work_order_costs",
    "int_posting_events_purchasing",
}


# Which load brought a row differs between the two warehouses by construction.
LOAD_COLUMNS = ("load_id", "loaded_at")


def table(warehouse: Path, relation: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = [c[0] for c in con.execute(f"select * from {relation} limit 0").description]
        kept = ", ".join(c for c in columns if c not in LOAD_COLUMNS)
        return con.execute(f"select {kept} from {relation} order by all").df()


def deliveries(landing: Path) -> list[date]:
    return sorted({date.fromisoformat(d.name) for d in landing.glob("*/*") if d.is_dir()})


def deliver(landing: Path, replay: Path, through: date) -> None:
    """Copy every delivery folder dated on or before `through` into the replayed landing zone."""
    for folder in landing.glob("*/*"):
        if folder.is_dir() and date.fromisoformat(folder.name) <= through:
            target = replay / folder.relative_to(landing)
            if not target.exists():
                shutil.copytree(folder, target)


def late_sales_file(world: BuiltWorld) -> dict:
    """A late_file defect of the POS extract: a day of store sales that arrives days later."""
    with (world.truth / "defects.csv").open() as handle:
        for row in csv.DictReader(handle):
            if row["kind"] == "late_file" and row["extract"] == "pos_sales":
                return {"file": row["file"], **json.loads(row["detail"])}
    pytest.fail("the defective world has no late POS file to replay")


@dataclass(frozen=True)
class Replayed:
    warehouse: Path
    late_date: date
    # after the day the late file arrives: builds per incremental model, the late date's POS lines
    builds_after_late_day: dict[str, int]
    late_date_lines: pd.DataFrame


@pytest.fixture(scope="module")
def replayed(defective_world: BuiltWorld, tmp_path_factory: pytest.TempPathFactory) -> Replayed:
    """The defective world's deliveries fed day by day: a full build over those before the late
    POS file arrives, one incremental build for that day, one for the next, one for all the
    rest."""
    late = late_sales_file(defective_world)
    late_date = date.fromisoformat(late["business_date"])
    arrival = date.fromisoformat(late["delivered"])
    assert (arrival - late_date).days >= 2
    root = tmp_path_factory.mktemp("replayed")
    replay, warehouse = root / "landing", root / "warehouse.duckdb"

    def build_through(day: date) -> None:
        replay_through(defective_world, replay, warehouse, day)

    build_through(arrival - timedelta(days=1))
    assert pos_lines_of(warehouse, late_date).empty
    build_through(arrival)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        builds = con.execute(
            "select model_name, count(*) from intermediate.incremental_load_watermarks "
            "group by model_name"
        ).fetchall()
    late_date_lines = pos_lines_of(warehouse, late_date)
    # one day alone: its freight and duty invoices re-cost receipts of up to six days before
    # (int_receipt_costs_backdated), earlier than its files' window
    build_through(arrival + timedelta(days=1))
    build_through(deliveries(defective_world.landing)[-1])
    return Replayed(warehouse, late_date, dict(builds), late_date_lines)


def replay_through(
    world: BuiltWorld, replay: Path, warehouse: Path, day: date, project: Path | None = None
) -> None:
    """Deliver the world's folders dated through `day` and build the KPI chain on them."""
    deliver(world.landing, replay, day)
    ingest(replay, warehouse)
    # landed cost reads the owners' decisions on suspected duplicate charges, and sales lines
    # resolve their item codes by the channels seed (with its accounts), and the marts read the
    # close calendar, and the postings their rules, and days of supply its lead-time history:
    # seeds that `dbt run` does not load
    seeds = (
        "exception_actions",
        "channels",
        "chart_of_accounts",
        "close_calendar",
        "posting_rules",
        "anomaly_thresholds",
    )
    dbt("seed", "--select", *seeds, warehouse=warehouse, project=project)
    dbt("run", "--select", *KPI_CHAIN, warehouse=warehouse, project=project)


def pos_lines_of(warehouse: Path, business_date: date) -> pd.DataFrame:
    return table(
        warehouse,
        f"marts.fct_sales_lines where source_system = 'pos' "
        f"and business_date = date '{business_date}'",
    )


def test_a_late_file_corrects_its_own_business_date(
    replayed: Replayed, defective_world: BuiltWorld
) -> None:
    assert set(replayed.builds_after_late_day) == INCREMENTAL_MODELS
    assert set(replayed.builds_after_late_day.values()) == {2}
    expected = pos_lines_of(defective_world.warehouse, replayed.late_date)
    assert len(expected) > 0
    pd.testing.assert_frame_equal(replayed.late_date_lines, expected)


def test_incremental_history_equals_a_full_refresh(
    replayed: Replayed, defective_world: BuiltWorld
) -> None:
    for schema, models in COMPARED.items():
        for model in models:
            full = table(defective_world.warehouse, f"{schema}.{model}")
            incremental = table(replayed.warehouse, f"{schema}.{model}")
            assert len(full) > 0, model
            pd.testing.assert_frame_equal(incremental, full, obj=model)


def failing_tests(result: subprocess.CompletedProcess, warehouse: Path) -> set[str]:
    """The names of the data tests that failed in the last dbt invocation against warehouse."""
    run = json.loads((warehouse.parent / "target" / "run_results.json").read_text())
    assert run["results"], result.stdout[-3000:]
    return {r["unique_id"].split(".")[2] for r in run["results"] if r["status"] == "fail"}


def test_an_incremental_build_tests_the_rows_it_rewrote(replayed: Replayed, tmp_path: Path) -> None:
    """The data tests of a model rebuilt by load check the rows its last build rewrote (and, for
    uniqueness, every row sharing a key with them); var test_whole_history checks every row."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(replayed.warehouse, warehouse)
    model = "intermediate.int_sales_lines_unioned"
    with duckdb.connect(str(warehouse)) as con:
        (window_start,) = con.execute(
            "select window_start from intermediate.incremental_load_watermarks "
            "where model_name = 'int_sales_lines_unioned' order by recorded_at desc limit 1"
        ).fetchone()
        (old_line, new_line) = con.execute(
            f"select min(sales_line_id) filter (where business_date < ?), "
            f"min(sales_line_id) filter (where business_date >= ?) from {model}",
            [window_start, window_start],
        ).fetchone()
    assert window_start is not None and old_line and new_line

    def tests_failing(*extra: str) -> set[str]:
        args = ("test", "--select", "int_sales_lines_unioned", *extra)
        return failing_tests(dbt(*args, warehouse=warehouse, check=False), warehouse)

    def execute(sql: str) -> None:
        with duckdb.connect(str(warehouse)) as con:
            con.execute(sql)

    assert tests_failing() == set()
    # a row the last build did not rewrite loses its key: only a test of the whole history sees it
    execute(f"update {model} set sales_line_id = null where sales_line_id = '{old_line}'")
    assert tests_failing() == set()

    def null_in_last_run() -> list[tuple[str, int]]:
        """What the failing not-null test's rows name: (column, rows)."""
        compiled = grouped_failures.compiled_tests(warehouse.parent / "target" / "run_results.json")
        (sql,) = [sql for test, sql in compiled.items() if ".not_null_int_sales_lines" in test]
        return grouped_failures.failing_counts(warehouse, sql, "null_column")

    whole = ("--vars", json.dumps({"test_whole_history": True}))
    assert tests_failing(*whole) == {"not_null_int_sales_lines_unioned"}
    assert null_in_last_run() == [("sales_line_id", 1)]
    execute(f"update {model} set sales_line_id = '{old_line}' where sales_line_id is null")
    # a rewritten row that repeats an older row's key fails the uniqueness test
    execute(f"update {model} set sales_line_id = '{old_line}' where sales_line_id = '{new_line}'")
    assert tests_failing() == {"unique_int_sales_lines_unioned_sales_line_id"}
    # and so does a rewritten row without a key
    execute(
        f"update {model} set sales_line_id = null where sales_line_id = '{old_line}' "
        f"and business_date >= date '{window_start}'"
    )
    assert tests_failing() == {"not_null_int_sales_lines_unioned"}
    assert null_in_last_run() == [("sales_line_id", 1)]


def test_an_invoice_dated_before_its_window_posts_in_the_next_build(
    replayed: Replayed, tmp_path: Path
) -> None:
    """A supplier invoice posts on its invoice date, which its file's date does not bound: the
    ledger models rewrite every supplier invoice's postings on each build (config
    load_window_rewrites), so one delivered today, dated weeks back, posts in today's build."""
    root = tmp_path / "replayed"
    shutil.copytree(replayed.warehouse.parent, root, ignore=shutil.ignore_patterns("target"))
    landing, warehouse = root / "landing", root / "warehouse.duckdb"
    last = deliveries(landing)[-1]
    # a goods line of an invoice file at least 20 days older, again under a new number
    dated, line = next(
        (day, row)
        for day in reversed(deliveries(landing))
        if day <= last - timedelta(days=20)
        for path in (landing / "erp" / day.isoformat()).glob("erp_supplier_invoices_*.csv")
        for row in csv.DictReader(path.read_text().splitlines())
        if row["line_type"] == "goods"
    )
    late = line | {"invoice_number": "INV-LATE-000001", "invoice_date": dated.isoformat()}
    redeliver(landing, "erp", "erp_supplier_invoices", last, [late])
    ingest(landing, warehouse)
    dbt("run", "--select", *KPI_CHAIN, warehouse=warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (window_start,) = con.execute(
            "select window_start from intermediate.incremental_load_watermarks "
            "where model_name = 'fct_gl_postings' order by recorded_at desc limit 1"
        ).fetchone()
        posted = con.execute(
            "select business_date, journal_id from marts.fct_gl_posting_events "
            "where event_id = 'supplier_invoice:INV-LATE-000001:1'"
        ).fetchall()
        assert window_start is not None and window_start > dated
        assert [day for day, _ in posted] == [dated]
        journal = posted[0][1]
        (events,) = con.execute(
            "select count(*) from marts.fct_gl_posting_events where journal_id = ?", [journal]
        ).fetchone()
        counted = con.execute(
            "select distinct event_count from marts.fct_gl_postings where journal_id = ?",
            [journal],
        ).fetchall()
    assert counted == [(events,)]


# What a late line's cost flows into, compared to a full build with the same close calendar.
POSTINGS_CHAIN = {
    "intermediate": ["int_posting_events_sales", "int_posting_events_inventory"],
    "marts": ["fct_gl_posting_events", "fct_gl_postings", "mart_cogs"],
}


@dataclass(frozen=True)
class ClosedReplay:
    warehouse: Path
    full: Path  # the same files and close calendar, built in one go (--full-refresh)
    late_file: str
    late_date: date
    window_start: date  # of the last build of the postings
    costs_before: dict[str, object]  # the late lines' cost before the last build, by event


def late_line_costs(warehouse: Path, late_file: str) -> dict[str, object]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return dict(
            con.execute(
                "select event_id, cost_amount from intermediate.int_posting_events_sales "
                "where source_file = ? and event_type = 'sale'",
                [late_file],
            ).fetchall()
        )


@pytest.fixture(scope="module")
def replayed_after_close(
    defective_world: BuiltWorld, tmp_path_factory: pytest.TempPathFactory
) -> ClosedReplay:
    """The late POS file's month closed for every entity the day after its business date,
    before it arrives, so its lines post late, on the first day of the next month, valued on
    that date. Replayed: a full build over the deliveries before it arrives, one build through
    the month's last delivery, one for the rest, whose window starts after the late file's
    business date while the receipts it adds and re-costs (freight invoices, days back) change
    the average the late lines are valued at on their posting date."""
    late = late_sales_file(defective_world)
    late_date = date.fromisoformat(late["business_date"])
    arrival = date.fromisoformat(late["delivered"])
    closed_on = late_date + timedelta(days=1)
    assert late_date < closed_on < arrival
    month = late_date.replace(day=1)
    month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    root = tmp_path_factory.mktemp("replayed_after_close")
    project = copy_project(root / "project")
    with duckdb.connect(str(defective_world.warehouse), read_only=True) as con:
        entities = [
            r[0] for r in con.execute("select entity_code from marts.dim_entity").fetchall()
        ]
    with (project / "seeds" / "close_calendar.csv").open("a", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for entity in entities:
            writer.writerow([entity, month.isoformat(), closed_on.isoformat()])

    replay, warehouse = root / "landing", root / "warehouse.duckdb"
    for day in (arrival - timedelta(days=1), month_end):
        replay_through(defective_world, replay, warehouse, day, project=project)
    costs_before = late_line_costs(warehouse, late["file"])
    replay_through(
        defective_world, replay, warehouse, deliveries(defective_world.landing)[-1], project=project
    )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (window_start,) = con.execute(
            "select window_start from intermediate.incremental_load_watermarks "
            "where model_name = 'int_posting_events_sales' order by recorded_at desc limit 1"
        ).fetchone()
    full = root / "full" / "warehouse.duckdb"
    full.parent.mkdir()
    shutil.copy(warehouse, full)
    dbt("run", "--full-refresh", "--select", *KPI_CHAIN, warehouse=full, project=project)
    return ClosedReplay(warehouse, full, late["file"], late_date, window_start, costs_before)


def test_late_lines_revalued_after_their_window_equal_a_full_build(
    replayed_after_close: ClosedReplay,
) -> None:
    """A line that arrived after its period's close is valued on its posting date: when a
    later build re-values that date, its postings are rewritten though its business date lies
    before the build's window (the postings are windowed on the posting date)."""
    replay = replayed_after_close
    with duckdb.connect(str(replay.full), read_only=True) as con:
        late_lines = con.execute(
            "select business_date, posting_date, count(*) from marts.fct_gl_posting_events "
            "where event_type = 'sale' and source_file = ? and adjusts_period_start_date "
            "is not null group by all",
            [replay.late_file],
        ).fetchall()
    # the late file's lines post late, after the last build's window start, their business
    # date before it: the case a business-date window missed
    assert late_lines, replay.late_file
    assert all(
        business_date == replay.late_date < replay.window_start <= posting_date
        for business_date, posting_date, _ in late_lines
    ), (late_lines, replay.window_start)
    # and the last build changes what some of them cost: else this proves nothing
    costs_after = late_line_costs(replay.warehouse, replay.late_file)
    assert replay.costs_before.keys() == costs_after.keys()
    assert any(costs_after[e] != cost for e, cost in replay.costs_before.items()), replay.late_file
    for schema, models in POSTINGS_CHAIN.items():
        for model in models:
            full = table(replay.full, f"{schema}.{model}")
            incremental = table(replay.warehouse, f"{schema}.{model}")
            assert len(full) > 0, model
            pd.testing.assert_frame_equal(incremental, full, obj=model)


def test_a_rewritten_duplicate_with_a_null_key_part_fails_uniqueness(
    replayed: Replayed, tmp_path: Path
) -> None:
    """unique_combination_of_columns groups null key parts together, so the scoped test must see
    a rewritten row whose key has a null part: mart_net_sales' adjusted_business_date is null on
    every row not moved by a close (a key matched with `in` would drop them all)."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(replayed.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        (window_start,) = con.execute(
            "select window_start from intermediate.incremental_load_watermarks "
            "where model_name = 'mart_net_sales' order by recorded_at desc limit 1"
        ).fetchone()
        assert window_start is not None
        (in_window,) = con.execute(
            "select count(*) from marts.mart_net_sales "
            "where business_date >= ? and adjusted_business_date is null",
            [window_start],
        ).fetchone()
    assert in_window > 0

    def uniqueness_failing() -> set[str]:
        result = dbt("test", "--select", "mart_net_sales", warehouse=warehouse, check=False)
        failing = failing_tests(result, warehouse)
        return {name for name in failing if name.startswith("unique_combination_of_columns")}

    assert uniqueness_failing() == set()
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "insert into marts.mart_net_sales select * from marts.mart_net_sales "
            "where business_date >= ? and adjusted_business_date is null limit 1",
            [window_start],
        )
    (failing,) = uniqueness_failing()
    assert failing.startswith("unique_combination_of_columns_mart_net_sales"), failing
