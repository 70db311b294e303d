"""The stores' tills: sales rung up in receipts of a few lines, and returns within the return
window (restocked or damaged)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulation import world as w
from simulation.footfall import every_store_sells
from simulation.money import round_half_up

if TYPE_CHECKING:
    from simulation.engine import DayOutput, Simulation

CHANNEL_STORE = "store"
RETURN_WINDOW_DAYS = 30


def store_sales(sim: Simulation, d: int, out: DayOutput) -> None:
    lines = sim.draw_lines(w.STORES, 1.0, d)
    if lines.empty:
        return
    hours = w.LOCATIONS.loc[lines["loc"], ["open_hour", "close_hour"]].to_numpy()
    local = sim.rng.integers((hours[:, 0] * 3600).astype(int), (hours[:, 1] * 3600).astype(int))
    lines = lines.assign(local=local).sort_values(["loc", "local", "sku"], kind="stable")
    lines = sim.keep_available(lines, sim.on_hand).reset_index(drop=True)
    lines = every_store_sells(sim, lines, d)  # no open store has a day without a sale
    # group consecutive lines of a store into receipts of one to a few lines
    new_receipt = (sim.rng.random(len(lines)) < 0.5) | lines["loc"].ne(lines["loc"].shift())
    lines["receipt_seq"] = new_receipt.groupby(lines["loc"]).cumsum()
    lines["receipt_line_number"] = lines.groupby(["loc", "receipt_seq"]).cumcount() + 1
    lines["local"] = (
        lines.groupby(["loc", "receipt_seq"])["local"].transform("min")
        + lines["receipt_line_number"]
        - 1
    )
    entity_idx = sim.loc_entity_idx[lines["loc"]]
    lines["unit_price"] = sim.price(d, entity_idx, lines["sku"].to_numpy())
    lines["listed_price"] = np.nan
    sim.defects.pos_prices(d, lines, sim)
    lines["gross"] = round_half_up(lines["units"] * lines["unit_price"])
    discounted = sim.rng.random(len(lines)) < 0.10
    lines["discount"] = np.where(
        discounted, round_half_up(lines["gross"] * sim.rng.uniform(0.1, 0.3, len(lines))), 0.0
    )
    sim.anomalies.underprice(sim, d, lines)
    tax_rate = w.LOCATIONS["tax_rate"].to_numpy()[lines["loc"]]
    lines["tax"] = round_half_up((lines["gross"] - lines["discount"]) * tax_rate)
    lines["line_id"] = sim.new_line_ids(len(lines))
    lines["event_at"] = sim.utc(lines["loc"].to_numpy(), d, lines["local"].to_numpy())
    code = w.LOCATIONS["pos_store_code"].to_numpy()[lines["loc"]]
    lines["receipt_number"] = (
        pd.Series(code)
        + "-"
        + sim.config.day(d).strftime("%Y%m%d")
        + "-S"
        + lines["receipt_seq"].astype(str).str.zfill(5)
    )
    sim.issue(d, lines, CHANNEL_STORE, out)
    currency = np.array([w.ENTITY_CURRENCY[e] for e in sim.entity_of[lines["loc"]]])
    sim.sales_lines(d, lines, CHANNEL_STORE, False, currency, out)
    lines["transaction_type"] = "sale"
    out.extracts["pos"].append(lines)
    # schedule some returns within the return window
    returned = sim.rng.random(len(lines)) < 0.05
    chosen = lines[returned]
    delay = np.minimum(RETURN_WINDOW_DAYS, 1 + sim.rng.geometric(0.15, len(chosen)))
    units = sim.rng.integers(1, chosen["units"].to_numpy() + 1)
    restock = sim.rng.random(len(chosen)) < 0.85
    schedule = chosen.assign(return_units=units, restock=restock, return_day=d + delay)
    for day, group in schedule.groupby("return_day"):
        sim.pending["pos_returns"][int(day)].append(group)
    sim.anomalies.fraud_sales(sim, d, lines, returned)
    sim.return_anomalies.defect_sales(sim, d, lines, returned)


def store_returns(sim: Simulation, d: int, out: DayOutput) -> None:
    due = sim.pending["pos_returns"].pop(d, [])
    fraud, fraud_local = sim.anomalies.fraud_returns_due(sim, d)
    faulty, faulty_local = sim.return_anomalies.defect_returns_due(sim, d)
    fraud, fraud_local = fraud + faulty, np.concatenate([fraud_local, faulty_local])
    if not due and not fraud:
        return
    orig = pd.concat(due + fraud, ignore_index=True)
    hours = w.LOCATIONS.loc[orig["loc"], ["open_hour", "close_hour"]].to_numpy()[
        : len(orig) - len(fraud_local)
    ]
    local = sim.rng.integers((hours[:, 0] * 3600).astype(int), (hours[:, 1] * 3600).astype(int))
    local = np.concatenate([local, fraud_local])
    frac = orig["return_units"] / orig["units"]
    ret = (
        pd.DataFrame(
            {
                "loc": orig["loc"],
                "sku": orig["sku"],
                "units": orig["return_units"],
                "unit_price": orig["unit_price"],
                "gross": round_half_up(orig["return_units"] * orig["unit_price"]),
                "discount": round_half_up(orig["discount"] * frac),
                "tax": round_half_up(orig["tax"] * frac),
                "local": local,
                "original_receipt_number": orig["receipt_number"],
                "original_receipt_line_number": orig["receipt_line_number"],
                "original_line_id": orig["line_id"],
                "restock": orig["restock"],
            }
        )
        .sort_values(["loc", "local", "sku"], kind="stable")
        .reset_index(drop=True)
    )
    ret["receipt_seq"] = ret.groupby("loc").cumcount() + 1
    ret["receipt_line_number"] = 1
    ret["event_at"] = sim.utc(ret["loc"].to_numpy(), d, ret["local"].to_numpy())
    code = w.LOCATIONS["pos_store_code"].to_numpy()[ret["loc"]]
    ret["receipt_number"] = (
        pd.Series(code)
        + "-"
        + sim.config.day(d).strftime("%Y%m%d")
        + "-R"
        + ret["receipt_seq"].astype(str).str.zfill(5)
    )
    sim.take_back(d, ret, CHANNEL_STORE, out)
    currency = np.array([w.ENTITY_CURRENCY[e] for e in sim.entity_of[ret["loc"]]])
    sim.sales_lines(d, ret, CHANNEL_STORE, True, currency, out)
    ret["transaction_type"] = "return"
    out.extracts["pos"].append(ret)
