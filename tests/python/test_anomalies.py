"""Anomaly detection (issue 18): the simulator's operational anomalies (simulation/anomalies.py,
return_anomalies.py and stockout_risk.py, in truth/defects.csv) against the detectors'
exceptions in the queue (marts.mart_exceptions).

Detection quality is measured per detector on two seeds: the shared defective world (seed 21,
45 days) and a tiny world of its own (seed 5, 28 days, scale 0.02; about 90 s to build).
Recall: injected anomalies whose own detector shows them with an impact; precision: the
detector's exceptions that point at an injected anomaly. The clean world raises none.
"""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import BuiltWorld, build_world

from simulation.anomalies import KINDS
from simulation.audit import (
    ANOMALY_KINDS,
    QUARANTINED_KINDS,
    Defect,
    anomaly_matches,
    is_caught,
    load_queue,
    manifest,
)
from simulation.return_anomalies import KINDS as RETURN_KINDS
from simulation.stockout_risk import KIND as STOCK_OUT_RISK

# a world of another seed, long enough for every detector's baseline (simulation/anomalies.py)
ANOMALY_WORLD_ARGS = [
    "--seed",
    "5",
    "--scale-factor",
    "0.02",
    "--days",
    "28",
    "--start-date",
    "2026-02-02",
]
RECALL_AT_LEAST = 0.9
PRECISION_AT_LEAST = 0.8


@pytest.fixture(scope="module")
def anomaly_world(tmp_path_factory: pytest.TempPathFactory) -> BuiltWorld:
    return build_world(tmp_path_factory.mktemp("anomaly_world"), world_args=ANOMALY_WORLD_ARGS)


def queue_of(world: BuiltWorld):
    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        return load_queue(con)


def anomalies_of(world: BuiltWorld) -> list[Defect]:
    return [d for d in manifest(world.truth) if d.kind in ANOMALY_KINDS]


def quality(worlds: list[BuiltWorld]) -> pd.DataFrame:
    """Per detector over the worlds: anomalies injected and caught, exceptions raised and the
    ones that point at an injected anomaly."""
    rows = []
    for world in worlds:
        queue = queue_of(world)
        anomalies = anomalies_of(world)
        for kind, exception_type in ANOMALY_KINDS.items():
            mine = [a for a in anomalies if a.kind == kind]
            raised = queue.of_type(exception_type)
            pointed = set()
            for anomaly in mine:
                pointed |= set(anomaly_matches(queue, anomaly)["exception_id"])
            rows.append(
                {
                    "world": world.root.name,
                    "kind": kind,
                    "injected": len(mine),
                    "caught": sum(is_caught(queue, a) for a in mine),
                    "raised": len(raised),
                    "true_alerts": len(set(raised["exception_id"]) & pointed),
                }
            )
    frame = (
        pd.DataFrame(rows)
        .groupby("kind", sort=False)[["injected", "caught", "raised", "true_alerts"]]
        .sum()
    )
    frame["recall"] = frame["caught"] / frame["injected"]
    frame["precision"] = frame["true_alerts"] / frame["raised"]
    return frame


def test_every_anomaly_kind_is_injected_in_the_defective_world(
    defective_world: BuiltWorld,
) -> None:
    kinds = {a.kind for a in anomalies_of(defective_world)}
    assert kinds == {*KINDS, *RETURN_KINDS, STOCK_OUT_RISK} == set(ANOMALY_KINDS)


def test_detection_quality_per_detector_on_two_seeds(
    defective_world: BuiltWorld, anomaly_world: BuiltWorld
) -> None:
    table = quality([defective_world, anomaly_world])
    print("\nanomaly detection quality (seeds 21 and 5):\n" + table.to_string())
    assert (table["injected"] >= 2).all(), table
    assert (table["recall"] >= RECALL_AT_LEAST).all(), table
    assert (table["precision"] >= PRECISION_AT_LEAST).all(), table


def test_clean_world_raises_no_anomaly(clean_world: BuiltWorld) -> None:
    queue = queue_of(clean_world)
    assert not anomalies_of(clean_world)
    assert queue.exceptions[queue.exceptions["exception_type"].isin(ANOMALY_KINDS.values())].empty


def test_each_explanation_carries_its_baseline_score_and_rows(
    defective_world: BuiltWorld,
) -> None:
    queue = queue_of(defective_world)
    found = queue.exceptions[queue.exceptions["exception_type"].isin(ANOMALY_KINDS.values())]
    assert set(found["exception_type"]) == set(ANOMALY_KINDS.values())
    for row in found.itertuples():
        assert "baseline" in row.explanation and "score" in row.explanation, row.explanation
        assert row.severity and row.owning_role, row
        assert row.affected_value_reporting > 0, row
    imbalance = found[found["exception_type"] == "stock_imbalance"]
    assert imbalance["explanation"].str.contains(r"Transfer \d+ units of ", regex=True).all()


def truth_losses(truth: Path, location_id: str, day: str) -> int:
    """Units a location lost to shrink and downward count corrections on a day (the truth)."""
    events = pd.read_parquet(truth / "events.parquet")
    lost = events[
        (events["location_id"] == location_id)
        & (events["business_date"].astype(str) == day)
        & (events["event_type"] == "adjustment")
        & events["reason"].isin(["shrink", "count_correction"])
        & (events["on_hand_delta"] < 0)
    ]
    return int(-lost["on_hand_delta"].sum())


def test_observed_values_equal_the_truth(defective_world: BuiltWorld) -> None:
    """The observed value an explanation shows is the truth's: a shrink spike's lost units,
    a volume break's rows (those delivered, less the rows ingestion quarantined)."""
    queue = queue_of(defective_world)
    defects = manifest(defective_world.truth)
    for anomaly in anomalies_of(defective_world):
        d = anomaly.detail
        shown = anomaly_matches(queue, anomaly)
        if anomaly.kind == "shrink_spike":
            assert len(shown) == 1
            expected = truth_losses(defective_world.truth, d["location_id"], d["business_date"])
            assert expected >= d["units"]
            assert int(shown["affected_units"].iloc[0]) == expected
        if anomaly.kind == "volume_break":
            assert len(shown) == 1
            day = d["business_date"].replace("-", "")
            quarantined = sum(
                x.kind in QUARANTINED_KINDS and f"pos_sales_{day}" in x.file for x in defects
            )
            rows = d["rows_delivered"] - quarantined
            assert f" loaded {rows} rows against a baseline of " in shown["explanation"].iloc[0]


def test_stock_out_risk_scores_the_days_short_counting_what_is_on_order(
    defective_world: BuiltWorld,
) -> None:
    """The score of a stock-out risk (days short of the lead time) follows the rule of its flag
    and impact: available and on order cover (available + on order) x 28 / forecast days. The
    worst date of each run is the one short the most days by that rule; every flagged date is
    short some (score > 0), which a score without the units on order would not tell."""
    queue = queue_of(defective_world)
    risks = queue.exceptions[queue.exceptions["exception_type"] == "stock_out_risk"]
    assert len(risks) > 0
    with duckdb.connect(str(defective_world.warehouse), read_only=True) as con:
        days = con.execute(
            "select entity_code, sku, as_of_date, available_units, on_order_units, "
            "cast(forecast_units_next_28_days as double) as forecast, "
            "cast(lead_time_days as double) as lead_time, is_stock_out_risk "
            "from marts.mart_days_of_supply where forecast_units_next_28_days > 0"
        ).df()
    days["as_of_date"] = pd.to_datetime(days["as_of_date"]).dt.date
    days["short"] = (
        days["lead_time"]
        - (days["available_units"] + days["on_order_units"]) * 28 / days["forecast"]
    )
    pattern = re.compile(
        r"^On (\d{4}-\d{2}-\d{2}) .* on hand \(\d+ available, (\d+) on order\).* "
        r"short (-?[\d.]+) days \(the score\)"
    )
    seed = Path(__file__).resolve().parents[2] / "seeds" / "anomaly_thresholds.csv"
    with seed.open(newline="") as handle:
        (min_volume,) = [
            float(r["value"])
            for r in csv.DictReader(handle)
            if (r["exception_type"], r["parameter"]) == ("stock_out_risk", "min_volume")
        ]
    for risk in risks.itertuples():
        match = pattern.search(risk.explanation)
        assert match, risk.explanation
        observed, score = date.fromisoformat(match.group(1)), float(match.group(3))
        run = days[
            (days["entity_code"] == risk.entity_code)
            & (days["sku"] == risk.sku)
            & (days["as_of_date"] >= pd.Timestamp(risk.first_seen_date).date())
            & (days["as_of_date"] <= pd.Timestamp(risk.last_seen_date).date())
            & days["is_stock_out_risk"]
            & (days["forecast"] >= min_volume)
        ]
        assert (run["short"] > 0).all(), run
        worst = run[run["as_of_date"] == observed]
        assert len(worst) == 1, (risk.explanation, run)
        assert worst["short"].iloc[0] == pytest.approx(run["short"].max(), abs=1e-9)
        assert score == pytest.approx(worst["short"].iloc[0], abs=0.05 + 1e-9)
        assert score > 0
