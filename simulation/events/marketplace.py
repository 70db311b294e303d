"""The marketplace: orders sold from the marketplace stock at the euro price list, with
promotions and fees, and refunds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulation import world as w
from simulation.footfall import marketplace_sells
from simulation.money import allocate_by_gross, round_half_up

if TYPE_CHECKING:
    from simulation.engine import DayOutput, Simulation

CHANNEL_MARKETPLACE = "marketplace"


def marketplace_sales(sim: Simulation, d: int, out: DayOutput) -> None:
    loc = np.array([w.MARKETPLACE_LOCATION])
    lines = marketplace_sells(sim, sim.draw_lines(loc, 1.0, d), d)
    if lines.empty:
        return
    lines["local"] = sim.rng.integers(8 * 3600, 22 * 3600, len(lines))
    lines = lines.sort_values(["local", "sku"], kind="stable").reset_index(drop=True)
    new_order = sim.rng.random(len(lines)) < 0.65
    new_order[0] = True
    lines["order_seq"] = np.cumsum(new_order)
    lines["local"] = lines.groupby("order_seq")["local"].transform("min")
    lines = sim.keep_available(lines, sim.on_hand - sim.quarantined).copy()
    lines["line_number"] = lines.groupby("order_seq").cumcount() + 1
    de = sim.entity_index["DE01"]  # the marketplace lists at the euro price list
    lines["unit_price"] = sim.price(d, np.full(len(lines), de), lines["sku"].to_numpy())
    lines["gross"] = round_half_up(lines["units"] * lines["unit_price"])
    order_ids = {s: f"MO-{sim.next_id('mo'):09d}" for s in lines["order_seq"].unique()}
    lines["order_id"] = lines["order_seq"].map(order_ids)
    order_gross = lines.groupby("order_id")["gross"].transform("sum")
    promo_orders = {o for o in order_ids.values() if sim.rng.random() < 0.25}
    lines["promotion"] = np.where(
        lines["order_id"].isin(promo_orders), round_half_up(order_gross * 0.1), 0.0
    )
    lines["discount"] = allocate_by_gross(
        lines["order_id"].to_numpy(),
        lines["gross"].to_numpy(),
        lines["promotion"].to_numpy(),
        lines["line_number"].to_numpy(),
    )
    lines["tax"] = round_half_up((lines["gross"] - lines["discount"]) * 0.2)
    lines["fee"] = round_half_up(lines["gross"] * 0.15)
    lines["event_at"] = sim.utc(lines["loc"].to_numpy(), d, lines["local"].to_numpy())
    lines["line_id"] = sim.new_line_ids(len(lines))
    sim.issue(d, lines, CHANNEL_MARKETPLACE, out)
    currency = np.full(len(lines), w.MARKETPLACE_CURRENCY)
    sim.sales_lines(d, lines, CHANNEL_MARKETPLACE, False, currency, out)
    out.extracts["mkt_orders"].append(lines)
    returned = sim.rng.random(len(lines)) < 0.05
    chosen = lines[returned].copy()
    chosen["return_units"] = sim.rng.integers(1, chosen["units"].to_numpy() + 1)
    chosen["return_day"] = d + sim.rng.integers(5, 26, len(chosen))
    for day, group in chosen.groupby("return_day"):
        sim.pending["mkt_refund"][int(day)].append(group)


def marketplace_refunds(sim: Simulation, d: int, out: DayOutput) -> None:
    due = sim.pending["mkt_refund"].pop(d, [])
    if not due:
        return
    orig = pd.concat(due, ignore_index=True)
    frac = orig["return_units"] / orig["units"]
    ret = pd.DataFrame(
        {
            "order_id": orig["order_id"],
            "line_number": orig["line_number"],
            "loc": orig["loc"],
            "sku": orig["sku"],
            "units": orig["return_units"],
            "gross": round_half_up(orig["return_units"] * orig["unit_price"]),
            "discount": round_half_up(orig["discount"] * frac),
            "tax": round_half_up(orig["tax"] * frac),
            "original_line_id": orig["line_id"],
            "restock": True,
        }
    )
    ret["event_at"] = sim.utc(ret["loc"].to_numpy(), d, sim.local_times(len(ret), 8, 22))
    ret = ret.sort_values(["event_at", "order_id", "line_number"], kind="stable")
    sim.take_back(d, ret, CHANNEL_MARKETPLACE, out)
    currency = np.full(len(ret), w.MARKETPLACE_CURRENCY)
    sim.sales_lines(d, ret, CHANNEL_MARKETPLACE, True, currency, out)
    out.extracts["mkt_refunds"].append(ret)
