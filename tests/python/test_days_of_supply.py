"""Days of supply and stock-out risk (issue 18): marts.mart_days_of_supply against an independent
computation from the clean world's truth (end-of-day positions, truth/inventory_eod.csv), the
planning publications it landed and the lead times its purchase orders quoted (landing files),
to the unit, the cent of a forecast unit and the cent of a day.
"""

from __future__ import annotations

import csv
import statistics
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pandas as pd
from conftest import BuiltWorld

from simulation import world as w

CENT = Decimal("0.01")


def threshold(parameter: str) -> int:
    """A stock_out_risk threshold as the seed holds it (the business's, read not copied)."""
    seed = Path(__file__).resolve().parents[2] / "seeds" / "anomaly_thresholds.csv"
    with seed.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["exception_type"] == "stock_out_risk" and row["parameter"] == parameter:
                return int(row["value"])
    raise AssertionError(f"no stock_out_risk {parameter} in {seed}")


def network_positions(world: BuiltWorld) -> pd.DataFrame:
    """Per date, entity and SKU: units on hand, available and on order (the truth)."""
    eod = pd.read_csv(world.truth / "inventory_eod.csv")
    eod["available_units"] = eod["on_hand_units"] - eod["reserved_units"] - eod["quarantined_units"]
    return eod.groupby(["as_of_date", "entity_code", "sku"], as_index=False)[
        ["on_hand_units", "available_units", "on_order_units"]
    ].sum()


def publications(world: BuiltWorld) -> dict[date, dict[tuple[str, str], Decimal]]:
    """Each planning publication's units of its weeks starting within 28 days of it, per
    entity (of the selling location, from the world's master data) and SKU."""
    entity = dict(zip(w.LOCATIONS["location_id"], w.LOCATIONS["entity_code"], strict=True))
    out: dict[date, dict[tuple[str, str], Decimal]] = {}
    for path in sorted((world.landing / "planning").glob("*/planning_forecast_*.parquet")):
        frame = pd.read_parquet(path)
        for row in frame.itertuples():
            created = date.fromisoformat(str(row.forecast_created_date))
            week = date.fromisoformat(str(row.week_start_date))
            if not created <= week < created + timedelta(days=28):
                continue
            sums = out.setdefault(created, {})
            key = (entity[row.location_id], row.sku)
            sums[key] = sums.get(key, Decimal(0)) + Decimal(str(row.forecast_units))
    return out


def quoted_leads(world: BuiltWorld) -> pd.DataFrame:
    """Each purchase order line's order date and quoted lead time (days to the expected date),
    from the ERP's extracts (a line repeated by later extracts counted once)."""
    frames = [
        pd.read_csv(path, dtype=str)
        for path in sorted((world.landing / "erp").glob("*/erp_purchase_orders_*.csv"))
    ]
    lines = pd.concat(frames).drop_duplicates(["po_number", "po_line_number"])
    lines["order_date"] = pd.to_datetime(lines["order_date"]).dt.date
    lines["lead"] = (
        pd.to_datetime(lines["expected_date"]) - pd.to_datetime(lines["order_date"])
    ).dt.days
    return lines[lines["lead"] > 0][["entity_code", "sku", "order_date", "lead"]]


def expected(world: BuiltWorld, dates: list[date]) -> pd.DataFrame:
    history = threshold("history_days")
    positions = network_positions(world)
    positions["as_of_date"] = pd.to_datetime(positions["as_of_date"]).dt.date
    published = publications(world)
    leads = quoted_leads(world)
    rows = []
    by_date = {day: frame for day, frame in positions.groupby("as_of_date")}
    for day in dates:
        latest = max((p for p in published if p <= day), default=None)
        demand = published.get(latest, {}) if latest else {}
        stock = by_date.get(day, positions.iloc[0:0]).set_index(["entity_code", "sku"])
        window = leads[
            (leads["order_date"] <= day) & (leads["order_date"] > day - timedelta(days=history))
        ]
        medians = window.groupby(["entity_code", "sku"])["lead"].apply(
            lambda x: Decimal(str(statistics.median(x.tolist())))
        )
        for key in set(demand) | set(stock.index):
            on_hand, available, on_order = (
                stock.loc[key, ["on_hand_units", "available_units", "on_order_units"]].tolist()
                if key in stock.index
                else (0, 0, 0)
            )
            forecast = demand.get(key, Decimal(0))
            lead = medians.get(key)
            dos = (
                (Decimal(int(available)) * 28 / forecast).quantize(CENT, ROUND_HALF_UP)
                if forecast > 0
                else None
            )
            risk = bool(
                forecast > 0
                and lead is not None
                and Decimal(int(available + on_order)) * 28 < lead * forecast
            )
            rows.append((day, *key, on_hand, available, on_order, forecast, dos, lead, risk))
    return pd.DataFrame(
        rows,
        columns=[
            "as_of_date",
            "entity_code",
            "sku",
            "on_hand_units",
            "available_units",
            "on_order_units",
            "forecast_units_next_28_days",
            "days_of_supply",
            "lead_time_days",
            "is_stock_out_risk",
        ],
    )


def test_days_of_supply_equal_the_truth(clean_world: BuiltWorld) -> None:
    with duckdb.connect(str(clean_world.warehouse), read_only=True) as con:
        mart = con.execute(
            "select as_of_date, entity_code, sku, on_hand_units, available_units,"
            " on_order_units, forecast_units_next_28_days, days_of_supply, lead_time_days,"
            " is_stock_out_risk from marts.mart_days_of_supply"
        ).df()
    mart["as_of_date"] = pd.to_datetime(mart["as_of_date"]).dt.date
    # every date the world has stock on (the truth's), so a date missing from the mart fails
    dates = sorted(set(pd.to_datetime(network_positions(clean_world)["as_of_date"]).dt.date))
    truth = expected(clean_world, dates)
    # the mart holds every pair with a position or a forecast, and only those
    truth = truth[
        (truth["forecast_units_next_28_days"] > 0)
        | (truth[["on_hand_units", "available_units", "on_order_units"]] != 0).any(axis=1)
        | truth.set_index(["as_of_date", "entity_code", "sku"]).index.isin(
            mart.set_index(["as_of_date", "entity_code", "sku"]).index
        )
    ]
    key = ["as_of_date", "entity_code", "sku"]
    both = mart.merge(truth, on=key, how="outer", suffixes=("_mart", "_truth"), indicator=True)
    assert (both["_merge"] == "both").all(), both[both["_merge"] != "both"].head(20)
    assert len(both) > 1000 and both["lead_time_days_truth"].notna().any()
    for column in ("on_hand_units", "available_units", "on_order_units", "is_stock_out_risk"):
        differ = both[both[f"{column}_mart"] != both[f"{column}_truth"]]
        assert differ.empty, differ[[*key, f"{column}_mart", f"{column}_truth"]].head(20)
    for column in ("forecast_units_next_28_days", "days_of_supply", "lead_time_days"):
        mart_values = both[f"{column}_mart"].map(lambda v: None if pd.isna(v) else Decimal(str(v)))
        truth_values = both[f"{column}_truth"]
        differ = both[
            [
                (a is None) != (b is None) or (a is not None and a != b)
                for a, b in zip(mart_values, truth_values, strict=True)
            ]
        ]
        assert differ.empty, differ[[*key, f"{column}_mart", f"{column}_truth"]].head(20)
