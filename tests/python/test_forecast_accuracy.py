"""Forecast accuracy (mart_forecast_accuracy) equals an independent computation on the clean
world: the planning publications as delivered in the landing zone against the units the
simulation knows the retail channels sold (truth/net_sales.csv), week by week, exactly; and
WAPE and bias by horizon from those figures equal the mart's."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import duckdb
import pandas as pd
import pytest
from conftest import PROJECT_ROOT, BuiltWorld

Key = tuple[date, date, str, str]


def retail_channels() -> set[str]:
    with (PROJECT_ROOT / "seeds" / "channels.csv").open() as f:
        return {row["channel"] for row in csv.DictReader(f) if row["channel_kind"] == "retail"}


def expected_weeks(world: BuiltWorld) -> dict[Key, tuple[Decimal, Decimal, int]]:
    """(forecast, units sold, horizon) per publication, week, location and SKU."""
    files = sorted(world.landing.glob("planning/*/planning_forecast_*.parquet"))
    assert files, "the clean world delivers planning forecasts"
    forecasts = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    sold: dict[tuple[date, str, str], int] = defaultdict(int)
    channels = retail_channels()
    last_day = date.min
    with (world.truth / "net_sales.csv").open() as f:
        for row in csv.DictReader(f):
            day = date.fromisoformat(row["business_date"])
            last_day = max(last_day, day)
            if row["channel"] in channels:
                sold[(day, row["location_id"], row["sku"])] += int(row["units_sold"])
    weeks = {}
    for row in forecasts.itertuples(index=False):
        created = pd.Timestamp(row.forecast_created_date).date()
        week = pd.Timestamp(row.week_start_date).date()
        if week < created or week + timedelta(days=6) > last_day:
            continue
        units = sum(
            sold.get((week + timedelta(days=i), row.location_id, row.sku), 0) for i in range(7)
        )
        forecast = Decimal(str(row.forecast_units)).quantize(Decimal("0.01"))
        weeks[(created, week, row.location_id, row.sku)] = (
            forecast,
            Decimal(units).quantize(Decimal("0.01")),
            (week - created).days // 7,
        )
    return weeks


@pytest.fixture(scope="module")
def mart(clean_world: BuiltWorld) -> dict[Key, tuple]:
    with duckdb.connect(str(clean_world.warehouse), read_only=True) as con:
        rows = con.execute(
            """
            select forecast_created_date, week_start_date, location_id, sku, forecast_units,
                units_sold, horizon_weeks, error_units, absolute_error_units
            from marts.mart_forecast_accuracy
            """
        ).fetchall()
    return {tuple(row[:4]): tuple(row[4:]) for row in rows}


def test_every_judged_week_equals_the_truth(clean_world: BuiltWorld, mart: dict) -> None:
    expected = expected_weeks(clean_world)
    assert len(expected) > 1000, "the clean world judges weeks of several publications"
    assert set(mart) == set(expected), (
        f"weeks only in the mart: {sorted(set(mart) - set(expected))[:5]}; "
        f"only in the truth: {sorted(set(expected) - set(mart))[:5]}"
    )
    wrong = [
        (key, mart[key][:3], expected[key]) for key in expected if mart[key][:3] != expected[key]
    ]
    assert not wrong, f"{len(wrong)} weeks differ (mart, truth), e.g. {wrong[:5]}"
    assert sum(1 for v in expected.values() if v[1] > 0) > 100, "sales in the judged weeks"


def test_wape_and_bias_by_horizon(clean_world: BuiltWorld, mart: dict) -> None:
    expected = expected_weeks(clean_world)
    truth = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0)])
    for forecast, units, horizon in expected.values():
        truth[horizon][0] += abs(forecast - units)
        truth[horizon][1] += forecast - units
        truth[horizon][2] += units
    got = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0)])
    for _forecast, units, horizon, error, absolute in mart.values():
        got[horizon][0] += absolute
        got[horizon][1] += error
        got[horizon][2] += units
    assert set(truth) == set(got) and len(truth) >= 2, "several horizons are judged"
    for horizon, (absolute, error, units) in truth.items():
        assert got[horizon] == [absolute, error, units], f"horizon {horizon}"
