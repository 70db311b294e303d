"""Stock issued before its entity ever received the SKU (issue 13, defect 3; docs/glossary.md,
cost of an issue before any receipt), on a small clean world (seed 21, scale factor 0.05, 28
days): a store loses 10 units of a SKU (a shrink count, corrected in a second delivery of the
day's adjustments) in the hour before its entity's opening receipt brings 2. The loss is costed
at the latest purchase- order cost and raises an exception; the receipt finds stock below zero
and restarts the average at its landed unit cost, so it books the difference between what the
ledger holds and the restarted stock value to purchase price variance (docs/decisions.md,
"Issues before any receipt"). Books and marts agree: the build passes the books_inventory tie at
error severity."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import SMALL_WORLD_ARGS, BuiltWorld, dbt, redeliver

from ingestion.load import ingest
from simulation.__main__ import generate, parse_args

SKU = "SKU000008"
STORE = "S101"
LOST_UNITS = 10
# an hour and more before US01's opening receipt (GR0000005, 11:24:54 UTC)
LOST_AT = "2026-01-01T10:00:00Z"


def query(warehouse: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).df()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> BuiltWorld:
    root = tmp_path_factory.mktemp("issue_before_receipt")
    generate(parse_args([*SMALL_WORLD_ARGS, "--out", str(root)]))
    world = BuiltWorld(root, root / "warehouse.duckdb")
    redeliver(
        world.landing,
        "erp",
        "erp_stock_adjustments",
        date(2026, 1, 1),
        [
            {
                "adjustment_number": "ADJ90000001",
                "location_id": STORE,
                "sku": SKU,
                "reason_code": "shrink",
                "units": str(-LOST_UNITS),
                "adjusted_at": LOST_AT,
            }
        ],
    )
    ingest(world.landing, world.warehouse)
    dbt("build", warehouse=world.warehouse)  # fails the test unless every node passes
    return world


def test_the_loss_is_costed_at_the_purchase_order_cost_and_queued(world: BuiltWorld) -> None:
    order_cost = query(
        world.warehouse,
        f"""
        select order_lines.unit_cost
        from staging.stg_erp__goods_receipt_lines as receipts
        inner join staging.stg_erp__purchase_order_lines as order_lines
            on receipts.purchase_order_number = order_lines.purchase_order_number
            and receipts.purchase_order_line_number = order_lines.purchase_order_line_number
        where receipts.goods_receipt_number = 'GR0000005' and receipts.sku = '{SKU}'
        """,
    )["unit_cost"].item()
    loss = query(
        world.warehouse,
        "select * from intermediate.int_valuation_events_costed "
        "where event_id like '%ADJ90000001%'",
    ).iloc[0]
    assert loss["is_costed_before_any_receipt"]
    assert float(loss["cost_amount"]) == -round(LOST_UNITS * float(order_cost), 2)

    queued = query(
        world.warehouse,
        "select * from marts.mart_exceptions where exception_type = 'issue_without_cost'",
    )
    assert len(queued) == 1
    exception = queued.iloc[0]
    assert (exception["entity_code"], exception["sku"]) == ("US01", SKU)
    assert exception["affected_units"] == LOST_UNITS
    assert float(exception["affected_value_reporting"]) == round(LOST_UNITS * float(order_cost), 2)


def test_the_restarting_receipt_revalues_and_the_books_tie(world: BuiltWorld) -> None:
    receipt = query(
        world.warehouse,
        f"""
        select landed.movement_id, landed.received_units, landed.landed_value,
            costed.units_before
        from intermediate.int_receipt_lines_landed as landed
        inner join intermediate.int_valuation_events_costed as costed
            on landed.movement_id = costed.event_id
        where landed.goods_receipt_number = 'GR0000005' and landed.sku = '{SKU}'
        """,
    ).iloc[0]
    assert receipt["units_before"] == -LOST_UNITS
    loss = query(
        world.warehouse,
        "select cost_amount from intermediate.int_valuation_events_costed "
        "where event_id like '%ADJ90000001%'",
    )["cost_amount"].item()
    units_after = int(receipt["units_before"]) + int(receipt["received_units"])
    restarted_value = round(
        units_after * float(receipt["landed_value"]) / int(receipt["received_units"]), 2
    )
    expected = round(float(loss) + round(float(receipt["landed_value"]), 2) - restarted_value, 2)

    posted = query(
        world.warehouse,
        f"""
        select price_variance_amount
        from marts.fct_gl_posting_events
        where event_id = '{receipt["movement_id"]}'
        """,
    )["price_variance_amount"].item()
    assert float(posted) == pytest.approx(expected, abs=1e-9)

    # this receipt revalues, and any later one of the SKU that finds US01 short again
    revalued = query(
        world.warehouse,
        "select entity_code, sku, sum(price_variance_amount) as amount "
        "from marts.fct_gl_posting_events "
        "where event_type = 'goods_receipt' and price_variance_amount <> 0 group by all",
    )
    assert list(zip(revalued["entity_code"], revalued["sku"], strict=True)) == [("US01", SKU)]

    books = query(
        world.warehouse,
        "select * from marts.mart_reconciliation_books "
        "where reconciliation_name = 'books_inventory' and entity_code = 'US01'",
    )
    assert len(books) > 0
    assert (books["status"] == "pass").all(), books
    # without the revaluation the tie would break, at error severity
    assert float(revalued["amount"].item()) > float(books["tolerance_value"].max())
    # the ledger's inventory and the mart's stock value differ by the marts' line rounding only
    assert (books["difference_value"].astype(float).abs() <= 1.00).all(), books
