"""The webshop: orders placed (stock reserved at the fulfilling DC), cancelled, shipped (the
sale) and refunded in part."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulation import world as w
from simulation.money import allocate_by_gross, round_half_up

if TYPE_CHECKING:
    from simulation.engine import DayOutput, Simulation

CHANNEL_WEBSHOP = "webshop"


def webshop_orders(sim: Simulation, d: int, out: DayOutput) -> None:
    dcs = np.array(list(w.WEBSHOP_DCS.values()))
    lines = sim.draw_lines(dcs, 1.0, d)
    if lines.empty:
        return
    lines["local"] = sim.rng.integers(5 * 3600, 17 * 3600, len(lines))
    # lines of one DC placed close together form an order of one to four lines
    lines = lines.sort_values(["loc", "local", "sku"], kind="stable").reset_index(drop=True)
    new_order = (sim.rng.random(len(lines)) < 0.55) | lines["loc"].ne(lines["loc"].shift())
    lines["order_seq"] = new_order.cumsum()
    lines["local"] = lines.groupby("order_seq")["local"].transform("min")
    available = sim.on_hand - sim.reserved - sim.quarantined
    lines = sim.keep_available(lines, available).copy()
    lines["line_number"] = lines.groupby("order_seq").cumcount() + 1
    np.add.at(
        sim.reserved,
        (lines["loc"].to_numpy(), lines["sku"].to_numpy()),
        lines["units"].to_numpy(),
    )
    entity_idx = sim.loc_entity_idx[lines["loc"]]
    lines["unit_price"] = sim.price(d, entity_idx, lines["sku"].to_numpy())
    lines["gross"] = round_half_up(lines["units"] * lines["unit_price"])
    discounted = sim.rng.random(len(lines)) < 0.05
    lines["line_discount"] = np.where(discounted, round_half_up(lines["gross"] * 0.1), 0.0)
    orders = (
        lines.groupby("order_seq")
        .agg(loc=("loc", "first"), local=("local", "first"), gross=("gross", "sum"))
        .reset_index()
    )
    voucher = sim.rng.random(len(orders)) < 0.2
    orders["order_discount"] = np.where(
        voucher, np.minimum(5.0, round_half_up(orders["gross"] * 0.1)), 0.0
    )
    orders["shipping"] = np.where(orders["gross"] >= 50, 0.0, 4.95)
    orders["order_id"] = [f"WO{sim.next_id('wo'):08d}" for _ in range(len(orders))]
    orders["placed_at"] = sim.utc(orders["loc"].to_numpy(), d, orders["local"].to_numpy())
    orders_in_repeated_hour(sim, d, orders)
    lines = lines.merge(orders[["order_seq", "order_id", "order_discount"]], on="order_seq")
    lines["allocated_discount"] = allocate_by_gross(
        lines["order_id"].to_numpy(),
        lines["gross"].to_numpy(),
        lines["order_discount"].to_numpy(),
        lines["line_number"].to_numpy(),
    )
    lines["discount"] = lines["line_discount"] + lines["allocated_discount"]
    tax_rate = w.LOCATIONS["tax_rate"].to_numpy()[lines["loc"]]
    lines["tax"] = round_half_up((lines["gross"] - lines["discount"]) * tax_rate)
    customers = sim.rng.integers(1, 5000 + int(20000 * sim.config.scale_factor), len(orders))
    orders["customer_id"] = [f"C{c:07d}" for c in customers]
    sim.return_anomalies.serial_orders_placed(sim, d, orders)
    fate = sim.rng.random(len(orders))
    orders["cancelled"] = fate < 0.03
    orders["ship_day"] = d + np.where(fate < 0.5, 1, 2)
    sim.pending["web_orders"][d].append((orders, lines))
    for o in orders[orders["cancelled"]].itertuples():
        sim.pending["web_cancel"][d + 1].append(o.order_id)
    for ship_day, group in orders[~orders["cancelled"]].groupby("ship_day"):
        sim.pending["web_ship"][int(ship_day)].append(group["order_id"].to_numpy())
    out.extracts["web_placed"].append((orders, lines))
    sim.web_open = pd.concat([sim.web_open, lines], ignore_index=True)


def orders_in_repeated_hour(sim: Simulation, d: int, orders: pd.DataFrame) -> None:
    """On the night a DC's zone puts its clocks back, its first two orders of the day are
    placed in the repeated hour, one in each occurrence of half past (night owls shop).
    Only the placing time moves: the order keeps its local date, so reservations and the
    truth stay as they were; the events carry the exact UTC instants."""
    for dc in w.WEBSHOP_DCS.values():
        instants = w.repeated_hour(w.LOCATIONS.at[dc, "time_zone"], sim.config.day(d))
        mine = orders.index[orders["loc"] == dc][:2]
        if instants is not None and len(mine) == 2:
            orders.loc[mine, "placed_at"] = list(instants)


def take_open_orders(sim: Simulation, order_ids: np.ndarray) -> pd.DataFrame:
    """Remove and return the lines of open webshop orders."""
    chosen = sim.web_open["order_id"].isin(order_ids).to_numpy()
    lines = sim.web_open[chosen].reset_index(drop=True)
    sim.web_open = sim.web_open[~chosen].reset_index(drop=True)
    return lines


def webshop_cancellations(sim: Simulation, d: int, out: DayOutput) -> None:
    ids = sim.pending["web_cancel"].pop(d, [])
    if not ids:
        return
    lines = take_open_orders(sim, np.array(ids))
    np.subtract.at(
        sim.reserved,
        (lines["loc"].to_numpy(), lines["sku"].to_numpy()),
        lines["units"].to_numpy(),
    )
    orders = lines.groupby("order_id", sort=True)["loc"].first()
    at = sim.utc(orders.to_numpy(), d, sim.local_times(len(orders), 8, 9))
    for order_id, loc, t in zip(orders.index, orders.to_numpy(), at, strict=True):
        out.extracts["web_events"].append(
            {
                "event_type": "cancelled",
                "order_id": order_id,
                "event_at": int(t),
                "currency_code": w.ENTITY_CURRENCY[sim.entity_of[loc]],
            }
        )


def webshop_shipments(sim: Simulation, d: int, out: DayOutput) -> None:
    ids = sim.pending["web_ship"].pop(d, [])
    if not ids:
        return
    lines = take_open_orders(sim, np.concatenate(ids))
    orders = lines.groupby("order_id", sort=True)["loc"].first()
    ship_local = sim.rng.integers(10 * 3600, 17 * 3600, len(orders))
    ship_at = pd.Series(sim.utc(orders.to_numpy(), d, ship_local), index=orders.index)
    lines["event_at"] = lines["order_id"].map(ship_at).to_numpy()
    np.subtract.at(
        sim.reserved,
        (lines["loc"].to_numpy(), lines["sku"].to_numpy()),
        lines["units"].to_numpy(),
    )
    lines["line_id"] = sim.new_line_ids(len(lines))
    sim.issue(d, lines, CHANNEL_WEBSHOP, out)
    currency = np.array([w.ENTITY_CURRENCY[e] for e in sim.entity_of[lines["loc"]]])
    sim.sales_lines(d, lines, CHANNEL_WEBSHOP, False, currency, out)
    out.extracts["web_shipped"].append(lines)
    # some shipped orders are refunded later, in part (always at least their first line)
    refund_order = pd.Series(sim.rng.random(len(orders)) < 0.06, index=orders.index)
    refund_day = pd.Series(d + sim.rng.integers(3, 21, len(orders)), index=orders.index)
    take = lines["order_id"].map(refund_order).to_numpy() & (
        (sim.rng.random(len(lines)) < 0.7) | (lines["line_number"] == 1).to_numpy()
    )
    chosen = lines[take].copy()
    chosen["return_units"] = sim.rng.integers(1, chosen["units"].to_numpy() + 1)
    chosen["restock"] = sim.rng.random(len(chosen)) < 0.9
    chosen["refund_day"] = chosen["order_id"].map(refund_day).to_numpy()
    for day, group in chosen.groupby("refund_day"):
        sim.pending["web_refund"][int(day)].append(group)
    sim.return_anomalies.serial_shipped(sim, d, lines, refund_order)


def webshop_refunds(sim: Simulation, d: int, out: DayOutput) -> None:
    due = sim.pending["web_refund"].pop(d, []) + sim.return_anomalies.serial_refunds_due(sim, d)
    if not due:
        return
    orig = pd.concat(due, ignore_index=True)
    frac = orig["return_units"] / orig["units"]
    net_per_line = orig["gross"] - orig["discount"]
    ret = pd.DataFrame(
        {
            "order_id": orig["order_id"],
            "line_number": orig["line_number"],
            "loc": orig["loc"],
            "sku": orig["sku"],
            "units": orig["return_units"],
            "gross": round_half_up(orig["return_units"] * orig["unit_price"]),
            "refund_amount": round_half_up(net_per_line * frac),
            "tax": round_half_up(orig["tax"] * frac),
            "original_line_id": orig["line_id"],
            "restock": orig["restock"],
        }
    )
    ret["discount"] = round_half_up(ret["gross"] - ret["refund_amount"])
    orders = ret.groupby("order_id")["loc"].first()
    at = sim.utc(orders.to_numpy(), d, sim.return_anomalies.refund_times(sim, orders.index))
    ret["event_at"] = ret["order_id"].map(pd.Series(at, index=orders.index)).to_numpy()
    sim.take_back(d, ret, CHANNEL_WEBSHOP, out)
    currency = np.array([w.ENTITY_CURRENCY[e] for e in sim.entity_of[ret["loc"]]])
    sim.sales_lines(d, ret, CHANNEL_WEBSHOP, True, currency, out)
    out.extracts["web_refunded"].append(ret)
