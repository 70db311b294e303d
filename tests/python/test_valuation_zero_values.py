"""Zero values that used to stop the build (issue 13, defects 1 and 2), on a small clean world
(seed 21, scale factor 0.05, 28 days) with two additions delivered as the contract lets a source
correct a day (a second delivery of the day's file):

* a free-of-charge receipt: a purchase-order line at unit cost 0, received (8 units at DC1) and
  charged 100.00 USD of freight. Its goods are worth nothing, so the freight is allocated by units
  (docs/decisions.md, "Charges on a receipt worth nothing"): the marts must equal, to the cent,
  those of the same world where the line was bought at 12.50 (8 x 12.50 = 100.00) with no freight;
* a stock count that finds 3 more units of a SKU at a store and, at the same moment, 3 fewer: the
  day's adjustment journal nets to zero and is kept as zero lines (docs/decisions.md, "Journals
  that net to zero"), so that its events still drill down to it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import SMALL_WORLD_ARGS, BuiltWorld, dbt, redeliver
from test_kpi_marts import cogs_mismatches, inventory_mismatches, truth

from ingestion.load import ingest
from simulation.__main__ import generate, parse_args

RECEIPT_DAY = date(2026, 1, 12)
COUNT_LOCATION = "S101"
FREE_SKU = "SKU000081"
RECEIVED_UNITS = 8
FREIGHT = "100.00"
COGS_KEY = ["business_date", "entity_code", "location_id", "channel", "sku"]
INVENTORY_KEY = ["as_of_date", "location_id", "sku"]


def query(warehouse: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).df()


def count_day(world: BuiltWorld) -> date:
    """The first day from 9 January on whose ERP adjustments file books nothing at the store,
    so that the count's two adjustments are the day's only ones there (the world books
    adjustments of its own, such as found stock at a stated cost)."""
    for day in pd.date_range("2026-01-09", "2026-01-25").date:
        path = world.landing / "erp" / day.isoformat() / f"erp_stock_adjustments_{day:%Y%m%d}.csv"
        rows = list(csv.DictReader(path.read_text().splitlines())) if path.exists() else []
        if not any(row["location_id"] == COUNT_LOCATION for row in rows):
            return day
    raise AssertionError("the world books adjustments at the store on every day")


def counted_sku(world: BuiltWorld) -> str:
    """A SKU the store holds at least 3 of the day before the count."""
    stock = truth(world, "inventory_eod")
    before = pd.Timestamp(count_day(world)) - pd.Timedelta(days=1)
    held = stock[
        (stock["location_id"] == COUNT_LOCATION)
        & (stock["as_of_date"] == before.date())
        & (stock["on_hand_units"] >= 3)
    ]
    return str(held["sku"].min())


def kits_made_of(world: BuiltWorld, sku: str) -> set[str]:
    """The SKUs assembled from a component (their cost follows the component's, docs/decisions.md,
    "Kits: work order completions")."""
    lines = [
        row
        for path in world.landing.glob("erp/*/erp_work_order_completions_*.csv")
        for row in csv.DictReader(path.read_text().splitlines())
    ]
    orders = {r["work_order_number"] for r in lines if r["sku"] == sku}
    return {
        r["sku"] for r in lines if r["work_order_number"] in orders and r["line_role"] == "output"
    }


def build(root: Path, unit_cost: str, freight: bool) -> BuiltWorld:
    generate(parse_args([*SMALL_WORLD_ARGS, "--out", str(root)]))
    world = BuiltWorld(root, root / "warehouse.duckdb")
    sku, day = counted_sku(world), count_day(world)
    at = f"{day.isoformat()}T15:00:00Z"
    redeliver(
        world.landing,
        "erp",
        "erp_stock_adjustments",
        day,
        [
            {
                "adjustment_number": "ADJ90000001",
                "location_id": COUNT_LOCATION,
                "sku": sku,
                "reason_code": "count_correction",
                "units": "3",
                "adjusted_at": at,
            },
            {
                "adjustment_number": "ADJ90000002",
                "location_id": COUNT_LOCATION,
                "sku": sku,
                "reason_code": "count_correction",
                "units": "-3",
                "adjusted_at": at,
            },
        ],
    )
    day = RECEIPT_DAY.isoformat()
    redeliver(
        world.landing,
        "erp",
        "erp_purchase_orders",
        RECEIPT_DAY,
        [
            {
                "po_number": "PO9000001",
                "po_line_number": "1",
                "supplier_id": "V100",
                "entity_code": "US01",
                "ship_to_location_id": "DC1",
                "sku": FREE_SKU,
                "ordered_units": str(RECEIVED_UNITS),
                "unit_cost": unit_cost,
                "currency_code": "USD",
                "order_date": day,
                "expected_date": day,
            }
        ],
    )
    redeliver(
        world.landing,
        "erp",
        "erp_goods_receipts",
        RECEIPT_DAY,
        [
            {
                "receipt_number": "GR9000001",
                "receipt_line_number": "1",
                "po_number": "PO9000001",
                "po_line_number": "1",
                "location_id": "DC1",
                "sku": FREE_SKU,
                "received_units": str(RECEIVED_UNITS),
                "received_at": f"{day}T16:00:00Z",
            }
        ],
    )
    if freight:
        redeliver(
            world.landing,
            "erp",
            "erp_supplier_invoices",
            RECEIPT_DAY,
            [
                {
                    "invoice_number": "F100-900001",
                    "invoice_line_number": "1",
                    "supplier_id": "F100",
                    "invoice_date": day,
                    "line_type": "freight",
                    "po_number": "",
                    "po_line_number": "",
                    "receipt_number": "GR9000001",
                    "sku": "",
                    "invoiced_units": "",
                    "unit_price": "",
                    "line_amount": FREIGHT,
                    "currency_code": "USD",
                }
            ],
        )
    ingest(world.landing, world.warehouse)
    dbt("build", warehouse=world.warehouse)  # fails the test unless every node passes
    return world


@dataclass(frozen=True)
class Worlds:
    free: BuiltWorld
    bought: BuiltWorld


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> Worlds:
    return Worlds(
        free=build(tmp_path_factory.mktemp("free_receipt"), "0.0000", freight=True),
        bought=build(tmp_path_factory.mktemp("bought_receipt"), "12.5000", freight=False),
    )


def test_a_receipt_worth_nothing_takes_its_freight_by_units(worlds: Worlds) -> None:
    landed = query(
        worlds.free.warehouse,
        "select * from intermediate.int_receipt_lines_landed "
        "where goods_receipt_number = 'GR9000001'",
    )
    assert len(landed) == 1
    line = landed.iloc[0]
    assert line["goods_value"] == 0
    assert line["allocated_charge_value"] == 100.0
    assert line["landed_value"] == 100.0

    # costed as if bought at 12.50 a unit, to the cent, every row of both marts
    for mart, key in (("mart_cogs", COGS_KEY), ("mart_available_inventory", INVENTORY_KEY)):
        sql = f"select * from marts.{mart} order by all"
        free = query(worlds.free.warehouse, sql).set_index(key)
        bought = query(worlds.bought.warehouse, sql).set_index(key)
        pd.testing.assert_frame_equal(free, bought)

    # against the truth, which never saw the receipt: only DC1's stock of the SKU differs, by
    # the 8 units from the receipt's day on, and COGS only of that SKU in US01
    stock = inventory_mismatches(worlds.free)
    assert len(stock) > 0
    assert set(stock["location_id"]) == {"DC1"} and set(stock["sku"]) == {FREE_SKU}
    assert (stock["as_of_date"] >= RECEIPT_DAY).all()
    assert (
        stock["on_hand_units_mart"].fillna(0) - stock["on_hand_units_truth"].fillna(0)
        == RECEIVED_UNITS
    ).all()
    costs = cogs_mismatches(worlds.free)
    assert set(costs["sku"]) <= {FREE_SKU} | kits_made_of(worlds.free, FREE_SKU)
    assert set(costs["entity_code"]) <= {"US01"}
    assert (costs["net_units_truth"] == costs["net_units_mart"]).all()


def test_a_journal_that_nets_to_zero_is_kept_with_its_events(worlds: Worlds) -> None:
    warehouse = worlds.free.warehouse
    journal = query(
        warehouse,
        f"""
        select *
        from marts.fct_gl_postings
        where event_type = 'stock_adjustment'
            and location_id = '{COUNT_LOCATION}'
            and business_date = '{count_day(worlds.free).isoformat()}'
        """,
    )
    assert len(journal) > 0
    assert set(journal["account_role"]) == {"inventory", "shrinkage"}
    for column in ("debit_amount", "credit_amount", "debit_amount_reporting"):
        assert (journal[column] == 0).all(), column
    assert (journal["event_count"] == 2).all()
    events = query(
        warehouse,
        f"""
        select event_id, cost_amount
        from marts.fct_gl_posting_events
        where journal_id = '{journal["journal_id"].iloc[0]}'
        order by event_id
        """,
    )
    assert len(events) == 2
    assert events["cost_amount"].astype(float).sum() == 0
    assert (events["cost_amount"].astype(float).abs() > 0).all()

    # every event drills down to a journal of the ledger, and the ledger still ties
    orphans = query(
        warehouse,
        """
        select count(*) as n
        from marts.fct_gl_posting_events as events
        left join (select distinct journal_id from marts.fct_gl_postings) as journals
            using (journal_id)
        where journals.journal_id is null
        """,
    )["n"].item()
    assert orphans == 0
    # the count moved nothing: the store's stock and the counted SKU's COGS equal the truth
    sku = counted_sku(worlds.free)
    assert sku != FREE_SKU
    assert COUNT_LOCATION not in set(inventory_mismatches(worlds.free)["location_id"])
    assert sku not in set(cogs_mismatches(worlds.free)["sku"])
