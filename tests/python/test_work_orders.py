"""Kits assembled at a DC (issue 13; docs/decisions.md, "Kits: work order completions"), on in
every world: each work order completion takes its components out of stock at their moving
average and brings the kits in at the components' cost plus the conversion cost it states. The
valuation equals the simulation's independent reference ledger event for event, the postings
route the components through work in process, and the ledger's stock is the truth's."""

from __future__ import annotations

import csv

import duckdb
import pandas as pd
import pytest
from conftest import BuiltWorld

EVENT_KEY = ["event_at", "location_id", "sku", "event_type"]


def query(world: BuiltWorld, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        return con.execute(sql).df()


def stated_lines(world: BuiltWorld) -> pd.DataFrame:
    rows = [
        row
        for path in sorted(world.landing.glob("erp/*/erp_work_order_completions_*.csv"))
        for row in csv.DictReader(path.read_text().splitlines())
    ]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("world_name", ["clean_world", "opening_world"])
def test_work_orders_are_valued_as_the_reference_ledger_values_them(
    world_name: str, request: pytest.FixtureRequest
) -> None:
    assert_valued_as_the_truth(request.getfixturevalue(world_name))


def assert_valued_as_the_truth(world: BuiltWorld) -> None:
    """The warehouse's cost of every production event equals the reference ledger's."""
    truth = pd.read_parquet(world.truth / "events.parquet")
    truth = truth[truth["event_type"].isin(["production_receipt", "production_issue"])]
    truth = truth.groupby(EVENT_KEY, as_index=False)[["on_hand_delta", "amount"]].sum()
    valued = query(
        world,
        """
        select cast(event_at as timestamp) as event_at, location_id, sku, event_type,
            sum(units) as units, sum(cost_amount) as cost_amount
        from intermediate.int_valuation_events_costed
        where event_type in ('production_receipt', 'production_issue')
        group by all
        """,
    )
    assert len(truth) > 0
    both = truth.merge(valued, on=EVENT_KEY, how="outer", indicator=True)
    assert (both["_merge"] == "both").all(), both[both["_merge"] != "both"]
    assert (both["on_hand_delta"] == both["units"]).all()
    assert (both["amount"] - both["cost_amount"].astype(float)).abs().max() < 0.005


def test_each_output_enters_at_its_components_cost_plus_conversion(
    clean_world: BuiltWorld,
) -> None:
    lines = stated_lines(clean_world)
    outputs = lines[lines["line_role"] == "output"]
    assert len(outputs) > 0 and (outputs["conversion_cost"] != "").any()
    assert (outputs["conversion_cost"] == "").any()  # some state none
    costed = query(
        clean_world,
        """
        select split_part(event_id, ':', 2) as work_order_number, event_type, cost_amount
        from intermediate.int_valuation_events_costed
        where event_type in ('production_receipt', 'production_issue')
        """,
    )
    costed["cost_amount"] = costed["cost_amount"].astype(float)
    consumed = costed[costed["event_type"] == "production_issue"].groupby("work_order_number")
    produced = costed[costed["event_type"] == "production_receipt"].set_index("work_order_number")[
        "cost_amount"
    ]
    conversion = outputs.set_index("work_order_number")["conversion_cost"].replace("", "0")
    expected = consumed["cost_amount"].sum() + conversion.astype(float)
    assert set(expected.index) == set(produced.index)
    assert (produced - expected.loc[produced.index]).abs().max() < 0.005


def test_work_orders_post_through_work_in_process(clean_world: BuiltWorld) -> None:
    posted = query(
        clean_world,
        """
        select account_role, sum(debit_amount) as debit, sum(credit_amount) as credit
        from marts.fct_gl_postings
        where event_type in ('production_receipt', 'production_issue')
        group by account_role
        """,
    ).set_index("account_role")
    lines = stated_lines(clean_world)
    conversion = pd.to_numeric(lines["conversion_cost"].replace("", "0")).sum()
    wip = posted.loc["work_in_process"]
    assert float(wip["debit"]) == pytest.approx(float(wip["credit"]), abs=0.005) and wip["debit"]
    absorbed = posted.loc["production_absorption"]
    assert float(absorbed["credit"]) == pytest.approx(conversion, abs=0.005)
    inventory = posted.loc["inventory"]
    assert float(inventory["debit"] - inventory["credit"]) == pytest.approx(conversion, abs=0.005)
