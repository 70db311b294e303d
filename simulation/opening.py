"""A world that starts mid-life (--opening-balances): the stock each location holds at the start
of day 0 arrives as the ERP's opening-balance extract, with the cost the ERP carries it at,
instead of as day-0 purchase orders received at dawn.

The quantities are those of the opening deliveries (planning.opening_targets in
simulation/events/planning.py). The cost is the entity's moving average before the period: the
purchase cost scaled by a factor drawn per entity and SKU between 0.90 and 1.10 from the
module's own random stream (so that it differs from every purchase-order cost and no existing
draw moves), rounded to the extract's four decimals. Each balance enters the reference ledger at
local midnight of day 0 at units x unit cost, before any other event of its entity
(docs/decisions.md, "Opening balances").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulation import world as w
from simulation.events import planning
from simulation.valuation import INBOUND_PRIORITY

if TYPE_CHECKING:
    from simulation.deliver import Deliverer
    from simulation.engine import DayOutput, Simulation

RNG_STREAM = 1301  # np.random.default_rng([seed, RNG_STREAM]): this module's draws only
EXTRACT = "erp_opening_balances"


def opening_unit_costs(sim: Simulation) -> np.ndarray:
    """Cost per [entity, sku] the ERP carries the opening stock at (four decimals)."""
    rng = np.random.default_rng([sim.config.seed, RNG_STREAM])
    factor = rng.uniform(0.90, 1.10, sim.costs.shape)
    return np.round(sim.costs * factor, 4)


def open_with_balances(sim: Simulation, d: int, out: DayOutput) -> None:
    """Day 0 of a world that starts mid-life: the opening stock is on hand at local midnight."""
    loc, sku, units = planning.opening_targets(sim)
    keep = units > 0
    loc, sku, units = loc[keep], sku[keep], units[keep]
    unit_cost = opening_unit_costs(sim)[sim.loc_entity_idx[loc], sku]
    at = sim.utc(loc, d, np.zeros(len(loc), dtype=np.int64))
    np.add.at(sim.on_hand, (loc, sku), units)
    entity = sim.entity_of[loc]
    sim.events(
        out,
        event_at=at,
        priority=INBOUND_PRIORITY,
        business_date=sim.config.day(d),
        entity_code=entity,
        location=loc,
        sku=sku,
        event_type="opening_balance",
        on_hand_delta=units,
        value=units * unit_cost,
    )
    out.extracts[EXTRACT].append(
        pd.DataFrame(
            {
                "as_of_date": sim.config.day(d),
                "location_id": w.LOCATIONS["location_id"].to_numpy()[loc],
                "sku": sim.skus[sku],
                "units": units,
                "unit_cost": unit_cost,
                "currency_code": [w.ENTITY_CURRENCY[e] for e in entity],
            }
        )
    )


def deliver_opening_balances(deliverer: Deliverer, d: int, out: DayOutput) -> None:
    """The extract is sent once, on the as-of date, and only by a world that has balances."""
    frame = deliverer.frames(out, EXTRACT)
    if frame.empty:
        return
    columns = deliverer.writer.contract[EXTRACT].column_names
    deliverer.write_file(EXTRACT, d, frame.sort_values(["location_id", "sku"])[columns])
