"""A stock-out risk (issue 18), a kind of its own in the manifest (truth/defects.csv) on this
module's own random stream: a promotion the buyers missed. From one weekly publication on, the
planning system forecasts a popular SKU at PROMOTION_FACTOR times its usual demand at every
selling location of an entity (US01 or DE01, the entities that buy from suppliers), while the
DC keeps ordering for the demand it sees: the network's days of supply against the forecast
fall under the supplier lead time. Only the forecast extract changes (what the planner
published); no operational event moves. Off with --clean, --no-anomalies or in a world under
simulation.anomalies.MIN_DAYS days. Hook: delivery/planning.py (the forecast's units).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np

from simulation import world as w
from simulation.anomalies import MIN_DAYS

if TYPE_CHECKING:
    from simulation.engine import Simulation

STREAM = 1820  # this module's random stream: np.random.default_rng([seed, STREAM])
PROMOTION_FACTOR = 10  # the promoted SKU's forecast, times its usual (a national campaign)
KIND = "stock_out_risk"


class StockOutRisk:
    """Which entity and SKU the missed promotion is, from which publication, and its row."""

    def __init__(self, sim: Simulation) -> None:
        config = sim.config
        self.active = config.anomalies and not config.clean and config.days >= MIN_DAYS
        if not self.active:
            return
        rng = np.random.default_rng([config.seed, STREAM])
        self.entity = str(rng.choice(sorted(w.WEBSHOP_DCS)))
        self.selling = [
            loc
            for loc in [*w.STORES, w.MARKETPLACE_LOCATION, *w.WEBSHOP_DCS.values()]
            if sim.entity_of[loc] == self.entity
        ]
        top = np.argsort(-sim.demand[self.selling].sum(axis=0), kind="stable")[:3]
        self.sku = int(rng.choice(top))
        # a weekly publication (every seventh day from the first)
        self.from_day = 7 * max(1, config.days // 14)
        sim.defects.anomaly_manifest.append(
            {
                "kind": KIND,
                "system": "planning",
                "extract": "",
                "file": "",
                "detail": json.dumps(
                    {
                        "entity_code": self.entity,
                        "sku": sim.skus[self.sku],
                        "from_date": config.day(self.from_day),
                        "forecast_factor": PROMOTION_FACTOR,
                    },
                    sort_keys=True,
                    default=str,
                ),
            }
        )

    def promote(self, d: int, selling: list[int], units: np.ndarray) -> None:
        """The publication of day d: the promoted SKU's forecast units (rows: the selling
        locations listed, columns: SKUs) times PROMOTION_FACTOR at the entity's locations."""
        if not self.active or d < self.from_day:
            return
        rows = [i for i, loc in enumerate(selling) if loc in self.selling]
        units[rows, self.sku] *= PROMOTION_FACTOR
