"""A retailer whose extracts start mid-life (issue 13): on a tiny world the day-0 stock
arrives as the ERP's opening-balance extract with costs, not as purchase orders received. From
the first day the marts equal the simulation's truth (units, values, COGS, net sales), the
opening balances seed the moving average at their stated cost, post against the opening-balance
account, and the books tie (docs/decisions.md, "Opening balances"). The extract is optional: a
world without it expects none. Stock gains at a stated cost (on in every world) enter the moving
average at that cost, in the opening world and in the shared clean world alike ("Stock
adjustments at a stated cost")."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import BuiltWorld
from test_kpi_marts import cogs_mismatches, inventory_mismatches, net_sales_mismatches

from simulation.valuation import round_cents


def query(world: BuiltWorld, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        return con.execute(sql).df()


def opening_files(world: BuiltWorld) -> list[Path]:
    return sorted(world.landing.glob("erp/*/erp_opening_balances_*.csv"))


def opening_rows(world: BuiltWorld) -> pd.DataFrame:
    rows = []
    for path in opening_files(world):
        with path.open(newline="") as handle:
            rows += list(csv.DictReader(handle))
    frame = pd.DataFrame(rows)
    frame["units"] = frame["units"].astype(int)
    frame["unit_cost"] = frame["unit_cost"].astype(float)
    return frame


@pytest.fixture(scope="module")
def world(opening_world: BuiltWorld) -> BuiltWorld:
    assert opening_files(opening_world), "the opening world sends opening balances"
    return opening_world


def test_sales_cogs_and_units_equal_the_truth_from_the_first_day(world: BuiltWorld) -> None:
    assert net_sales_mismatches(world).empty
    assert cogs_mismatches(world).empty
    assert inventory_mismatches(world).empty
    first = query(world, "select min(business_date) as day from marts.mart_cogs")["day"].item()
    assert pd.Timestamp(first).date().isoformat() == opening_rows(world)["as_of_date"].min()


def value_mismatches(world: BuiltWorld) -> pd.DataFrame:
    """Locations and days whose stock value is not its units at its entity's reference moving
    average (truth average_cost_eod.csv), to the cent."""
    averages = pd.read_csv(world.truth / "average_cost_eod.csv", dtype={"sku": str})
    averages["as_of_date"] = pd.to_datetime(averages["as_of_date"]).dt.date
    held = query(
        world,
        "select as_of_date, entity_code, location_id, sku, on_hand_units, inventory_value "
        "from marts.mart_available_inventory where on_hand_units <> 0",
    )
    held["as_of_date"] = pd.to_datetime(held["as_of_date"]).dt.date
    both = held.merge(averages, on=["as_of_date", "entity_code", "sku"], how="left")
    assert both["average_cost"].notna().all(), both[both["average_cost"].isna()].head()
    expected = [
        round_cents(u * a) for u, a in zip(both["on_hand_units"], both["average_cost"], strict=True)
    ]
    difference = (both["inventory_value"].astype(float) - expected).abs()
    return both[difference >= 0.005]


@pytest.mark.parametrize("world_name", ["opening_world", "clean_world"])
def test_inventory_values_equal_the_truth_every_day(
    world_name: str, request: pytest.FixtureRequest
) -> None:
    world = request.getfixturevalue(world_name)
    assert value_mismatches(world).empty, value_mismatches(world).head(10)
    first = query(world, "select min(as_of_date) as day from marts.mart_available_inventory")
    truth_first = pd.read_csv(world.truth / "inventory_eod.csv", nrows=1)["as_of_date"].item()
    assert pd.Timestamp(first["day"].item()).date().isoformat() == truth_first


@pytest.mark.parametrize("world_name", ["opening_world", "clean_world"])
def test_gains_at_a_stated_cost_enter_the_average_at_it(
    world_name: str, request: pytest.FixtureRequest
) -> None:
    world = request.getfixturevalue(world_name)
    gains = query(
        world,
        """
        select adjustments.stock_adjustment_number, adjustments.units, adjustments.unit_cost,
            costed.units_before, costed.cost_amount, costed.unit_cost as valued_unit_cost,
            costed.average_cost_after, postings.cost_amount as posted_cost,
            postings.price_variance_amount as posted_variance
        from staging.stg_erp__stock_adjustments as adjustments
        inner join intermediate.int_valuation_events_costed as costed
            on costed.event_id = 'adjustment:' || adjustments.stock_adjustment_number
        inner join marts.fct_gl_posting_events as postings
            on costed.event_id = postings.event_id
        where adjustments.unit_cost is not null and costed.event_type = 'adjustment_at_cost'
        """,
    )
    stated = sum(
        1
        for path in world.landing.glob("erp/*/erp_stock_adjustments_*.csv")
        for row in csv.DictReader(path.read_text().splitlines())
        if row["unit_cost"]
    )
    assert stated > 0 and len(gains) == stated
    assert (gains["valued_unit_cost"] - gains["unit_cost"].astype(float)).abs().max() < 1e-9
    expected = [
        round_cents(u * float(c)) for u, c in zip(gains["units"], gains["unit_cost"], strict=True)
    ]
    assert (gains["cost_amount"].astype(float) - expected).abs().max() < 1e-9
    # a gain: a negative amount to shrinkage (the rule books a loss), inventory debited
    assert (
        gains["posted_cost"].astype(float) + gains["cost_amount"].astype(float)
    ).abs().max() == 0
    # the gain re-averages: (units before x average + value) / units after, or restarts
    on_stock = gains[gains["units_before"] > 0]
    assert (on_stock["average_cost_after"] != on_stock["valued_unit_cost"]).any()
    assert gains.loc[gains["units_before"] > 0, "posted_variance"].isna().all()


def test_opening_balances_enter_the_ledger_first_and_seed_the_average(world: BuiltWorld) -> None:
    stated = opening_rows(world)
    costed = query(
        world,
        """
        select movements.location_id, movements.sku, movements.on_hand_units,
            costed.entity_code, costed.units_before, costed.cost_amount,
            costed.average_cost_after, costed.segment
        from marts.fct_inventory_movements as movements
        inner join intermediate.int_valuation_events_costed as costed
            on movements.movement_id = costed.event_id
        where movements.movement_type = 'opening_balance'
        """,
    )
    both = stated.merge(costed, on=["location_id", "sku"], how="outer", indicator=True)
    assert (both["_merge"] == "both").all()
    assert (both["units"] == both["on_hand_units"]).all()
    # the first inbound events of their entity and SKU, on empty stock
    assert (both["units_before"] >= 0).all()
    expected = [round_cents(u * c) for u, c in zip(both["units"], both["unit_cost"], strict=True)]
    assert (both["cost_amount"].astype(float) - expected).abs().max() < 1e-9
    # the first seeds the average at its stated cost; each later one of the entity and SKU
    # re-averages from the stock value in cents (docs/glossary.md): the values stated so far
    # over the units
    both["value"] = expected
    both = both.sort_values(["entity_code", "sku", "units_before"])
    group = both.groupby(["entity_code", "sku"])
    averages = group["value"].cumsum() / group["units"].cumsum()
    first = group.cumcount() == 0
    averages[first] = both.loc[first, "unit_cost"]
    assert (both["average_cost_after"] - averages).abs().max() < 1e-9
    assert (~first).any()
    # nothing moved any of them before its opening balance
    earlier = query(
        world,
        """
        select count(*) as n
        from marts.fct_inventory_movements as movements
        inner join marts.fct_inventory_movements as openings
            on movements.location_id = openings.location_id
            and movements.sku = openings.sku
            and openings.movement_type = 'opening_balance'
            and movements.moved_at < openings.moved_at
        """,
    )["n"].item()
    assert earlier == 0


def test_opening_balances_post_against_the_opening_balance_account(world: BuiltWorld) -> None:
    stated = opening_rows(world)
    stated["value"] = [
        round_cents(u * c) for u, c in zip(stated["units"], stated["unit_cost"], strict=True)
    ]
    locations = query(world, "select location_id, entity_code from marts.dim_location")
    expected = stated.merge(locations, on="location_id").groupby("entity_code")["value"].sum()
    posted = query(
        world,
        """
        select entity_code, account_role,
            sum(debit_amount) as debit, sum(credit_amount) as credit
        from marts.fct_gl_postings
        where event_type = 'opening_balance'
        group by entity_code, account_role
        """,
    )
    inventory = posted[posted["account_role"] == "inventory"].set_index("entity_code")
    equity = posted[posted["account_role"] == "opening_balance_equity"].set_index("entity_code")
    for entity, value in expected.items():
        assert float(inventory.loc[entity, "debit"]) == pytest.approx(value, abs=0.005)
        assert float(equity.loc[entity, "credit"]) == pytest.approx(value, abs=0.005)
    # nothing issued short before its opening balance: no revaluation to price variance
    assert (inventory["credit"].astype(float) == 0).all()


def test_the_books_tie_from_the_first_day_with_no_uncosted_issue(world: BuiltWorld) -> None:
    books = query(world, "select * from marts.mart_reconciliation_books")
    assert set(books["reconciliation_name"]) == {"books_revenue", "books_cogs", "books_inventory"}
    assert (books["status"] == "pass").all(), books[books["status"] != "pass"]
    # the ERP's own inventory account, which books the opening balances too, agrees every day
    erp = query(
        world,
        "select * from marts.mart_reconciliation_inventory_gl where status <> 'pending'",
    )
    assert (erp["status"] == "pass").all(), erp[erp["status"] != "pass"]
    first = opening_rows(world)["as_of_date"].min()
    assert pd.to_datetime(erp["comparison_date"]).dt.date.min().isoformat() == first
    queued = query(
        world,
        "select exception_type, count(*) as n from marts.mart_exceptions "
        "where exception_type in ('issue_without_cost', 'negative_stock', "
        "'reconciliation_break') group by all",
    )
    assert queued.empty, queued


def test_the_optional_extract_is_never_an_expected_delivery(world: BuiltWorld) -> None:
    rows = query(
        world,
        "select * from marts.mart_completeness where extract_name = 'erp_opening_balances'",
    )
    assert len(rows) == 1 and not rows["is_expected"].any()
    missing = query(
        world,
        "select count(*) as n from marts.mart_exceptions "
        "where exception_type = 'missing_delivery' "
        "and natural_key like '%erp_opening_balances%'",
    )["n"].item()
    assert missing == 0
