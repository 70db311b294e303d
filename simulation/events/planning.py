"""The planner's decisions: the stock each location opens with, the daily replenishment of
stores and the webshop from their DCs (transfers), and the DCs' purchase orders."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation import world as w
from simulation.events import erp

if TYPE_CHECKING:
    from simulation.engine import DayOutput, Simulation


def opening_stock(sim: Simulation, d: int, out: DayOutput) -> None:
    """Day 0: every selling location and DC receives an opening delivery at dawn."""
    loc, sku, units = opening_targets(sim)
    erp.create_purchase_orders(sim, d, loc, sku, units, np.zeros(len(sku), int), out)


def opening_targets(sim: Simulation) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stock each location starts with: (location, sku, units) of every pair."""
    loc_list, sku_list, units = [], [], []
    for loc in range(sim.n_loc):
        days_cover = 40 if loc in w.DCS else 12
        target = np.ceil(sim.demand[loc] * 1.4 * days_cover).astype(np.int64) + 1
        if loc in w.DCS:
            served = [
                i
                for i, src in enumerate(w.LOCATIONS["replenished_from"])
                if src == w.LOCATIONS.location_id[loc]
            ]
            target += np.ceil(sim.demand[served].sum(axis=0) * 1.4 * 20).astype(np.int64)
            target = np.ceil(target / sim.case_packs).astype(np.int64) * sim.case_packs
        loc_list.append(np.full(sim.n_sku, loc))
        sku_list.append(np.arange(sim.n_sku))
        units.append(target)
    return np.concatenate(loc_list), np.concatenate(sku_list), np.concatenate(units)


def replenish_locations(sim: Simulation, d: int, out: DayOutput) -> None:
    src_all, dst_all, sku_all, units_all = [], [], [], []
    for dc_id in ("DC1", "DC2"):
        dc = w.LOCATION_INDEX[dc_id]
        served = [i for i, s in enumerate(w.LOCATIONS["replenished_from"]) if s == dc_id]
        available = sim.on_hand[dc] - sim.reserved[dc] - sim.quarantined[dc]
        for loc in served:
            position = sim.on_hand[loc] + sim.in_transit[loc]
            reorder = np.maximum(1, np.ceil(sim.demand[loc] * 1.4 * 5))
            target = np.maximum(2, np.ceil(sim.demand[loc] * 1.4 * 12))
            want = np.where(position < reorder, target - position, 0).astype(np.int64)
            sim.anomalies.replenishment(sim, d, loc, want)
            give = np.minimum(want, available)
            available -= give
            sku = np.nonzero(give > 0)[0]
            src_all.append(np.full(len(sku), dc))
            dst_all.append(np.full(len(sku), loc))
            sku_all.append(sku)
            units_all.append(give[sku])
    erp.ship_transfers(
        sim,
        d,
        np.concatenate(src_all),
        np.concatenate(dst_all),
        np.concatenate(sku_all),
        np.concatenate(units_all),
        out,
    )
    sim.anomalies.misdirect(sim, d, out)  # issue 18's stock imbalance, on its own draws


def order_for_dcs(sim: Simulation, d: int, out: DayOutput) -> None:
    loc_all, sku_all, units_all, lead_all = [], [], [], []
    for dc_id in ("DC1", "DC2"):
        dc = w.LOCATION_INDEX[dc_id]
        served = [i for i, s in enumerate(w.LOCATIONS["replenished_from"]) if s == dc_id]
        rate = (sim.demand[served].sum(axis=0) + sim.demand[dc]) * 1.4
        position = sim.on_hand[dc] - sim.reserved[dc] - sim.quarantined[dc] + sim.on_order[dc]
        reorder = np.ceil(rate * 16)
        target = np.ceil(rate * 36) + 1
        want = np.where(position < reorder, target - position, 0)
        units = (np.ceil(want / sim.case_packs) * sim.case_packs).astype(np.int64)
        sku = np.nonzero(units > 0)[0]
        loc_all.append(np.full(len(sku), dc))
        sku_all.append(sku)
        units_all.append(units[sku])
        lead_all.append(sim.rng.integers(5, 10, len(sku)))
    erp.create_purchase_orders(
        sim,
        d,
        np.concatenate(loc_all),
        np.concatenate(sku_all),
        np.concatenate(units_all),
        np.concatenate(lead_all),
        out,
    )
