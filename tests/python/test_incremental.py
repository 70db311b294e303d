"""Incremental event facts (issue 5): a warehouse fed day by day, late files included, holds
exactly the marts of one full build over the same files.

The defective world's landing zone is replayed by delivery date into a second warehouse: a full
build over the deliveries before a late sales file arrives, one incremental build for the day
it arrives (it corrects a business date three days back), one for all the rest. The shared
defective world was built in one go from every file, so it is the full refresh to compare to.
"""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import BuiltWorld, dbt

from ingestion.load import ingest

KPI_CHAIN = [
    "+mart_net_sales",
    "+mart_cogs",
    "+mart_available_inventory",
    "+fct_marketplace_fees",
    "+fct_inventory_movements",
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
        "int_valuation_events_sequenced",
        "int_valuation_events_costed",
        "int_moving_average_costs",
        "int_average_cost_changes",
    ],
    "marts": [
        "fct_sales_lines",
        "fct_marketplace_fees",
        "fct_inventory_movements",
        "mart_net_sales",
        "mart_cogs",
        "mart_available_inventory",
    ],
}
INCREMENTAL_MODELS = {*COMPARED["staging"], *COMPARED["intermediate"], *COMPARED["marts"]} - {
    "int_moving_average_costs",
    "int_average_cost_changes",
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


def test_incremental_history_equals_a_full_refresh(
    defective_world: BuiltWorld, tmp_path: Path
) -> None:
    late = late_sales_file(defective_world)
    late_date = date.fromisoformat(late["business_date"])
    arrival = date.fromisoformat(late["delivered"])
    assert (arrival - late_date).days >= 2
    replay, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"

    def build_through(day: date) -> None:
        deliver(defective_world.landing, replay, day)
        ingest(replay, warehouse)
        dbt("run", "--select", *KPI_CHAIN, warehouse=warehouse)

    def pos_lines_of_late_date(path: Path) -> pd.DataFrame:
        return table(
            path,
            f"marts.fct_sales_lines where source_system = 'pos' "
            f"and business_date = date '{late_date}'",
        )

    # a full build over the deliveries before the late file
    build_through(arrival - timedelta(days=1))
    assert pos_lines_of_late_date(warehouse).empty
    # one more day, incrementally: the late file fills its own date
    build_through(arrival)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        built = con.execute(
            "select model_name, count(*) from intermediate.incremental_load_watermarks "
            "group by model_name"
        ).fetchall()
    assert {name for name, _ in built} == INCREMENTAL_MODELS
    assert all(count == 2 for _, count in built)
    expected = pos_lines_of_late_date(defective_world.warehouse)
    assert len(expected) > 0
    pd.testing.assert_frame_equal(pos_lines_of_late_date(warehouse), expected)
    # and the rest of the history, incrementally
    build_through(deliveries(defective_world.landing)[-1])

    for schema, models in COMPARED.items():
        for model in models:
            full = table(defective_world.warehouse, f"{schema}.{model}")
            incremental = table(warehouse, f"{schema}.{model}")
            assert len(full) > 0, model
            pd.testing.assert_frame_equal(incremental, full, obj=model)
