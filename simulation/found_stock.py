"""Stock gains booked at a stated cost (issue 13): now and then a store finds units it did not
know it held (a count, a mis-shipped carton booked back) and the ERP books the gain at the cost
it states, not at the moving average: the ERP stock adjustment carries that unit cost and the
gain enters the moving average at it (docs/decisions.md, "Stock adjustments at a stated cost").

Draws come from the module's own random stream, so that no existing draw moves: per store and
day a found-stock count with probability FOUND_PER_STORE_DAY, of 1 to 3 units of a SKU the
store's entity has received before (so the gain re-averages; the restart below zero is the
receipt's rule), at the entity's purchase cost x a factor in [0.80, 1.20], four decimals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulation import world as w
from simulation.valuation import INBOUND_PRIORITY

if TYPE_CHECKING:
    from simulation.engine import DayOutput, Simulation

RNG_STREAM = 1302  # np.random.default_rng([seed, RNG_STREAM, day]): this module's draws only
FOUND_PER_STORE_DAY = 0.05
BOOKED_AT_LOCAL_SECONDS = 23 * 3600 + 2700  # with the store's other adjustments of the day


def book_found_stock(sim: Simulation, d: int, out: DayOutput) -> None:
    """The day's gains at a stated cost at the stores, as ERP stock adjustments."""
    if d == 0:
        return  # the opening day has its own stock
    rng = np.random.default_rng([sim.config.seed, RNG_STREAM, d])
    stores = np.asarray(w.STORES)
    found = stores[rng.random(len(stores)) < FOUND_PER_STORE_DAY]
    for loc in found:
        entity = sim.entity_of[loc]
        known = [
            i
            for i, sku in enumerate(sim.skus)
            if (entity, sku) in sim.ledger.positions
            and sim.ledger.positions[(entity, sku)].units > 0
        ]
        if not known:
            continue
        sku = int(rng.choice(known))
        units = int(rng.integers(1, 4))
        unit_cost = round(float(sim.costs[sim.loc_entity_idx[loc], sku] * rng.uniform(0.8, 1.2)), 4)
        at = sim.utc(loc, d, np.array([BOOKED_AT_LOCAL_SECONDS]))
        sim.on_hand[loc, sku] += units
        sim.events(
            out,
            event_at=at,
            priority=INBOUND_PRIORITY,
            business_date=sim.config.day(d),
            entity_code=entity,
            location=np.array([loc]),
            sku=np.array([sku]),
            event_type="adjustment_at_cost",
            reason="count_correction",
            on_hand_delta=np.array([units]),
            value=np.array([units * unit_cost]),
        )
        out.extracts["store_adjustments"].append(
            pd.DataFrame(
                {
                    "loc": [loc],
                    "sku": [sku],
                    "units": [units],
                    "event_at": at,
                    "reason": ["count_correction"],
                    "unit_cost": [unit_cost],
                }
            )
        )
