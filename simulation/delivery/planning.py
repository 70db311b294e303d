"""The planning system's weekly demand forecast."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulation import world as w
from simulation.money import round_half_up

if TYPE_CHECKING:
    from simulation.deliver import Deliverer


def forecast(dlv: Deliverer, d: int) -> pd.DataFrame:
    today = dlv.config.day(d)
    selling = list(w.STORES) + [w.MARKETPLACE_LOCATION] + list(w.WEBSHOP_DCS.values())
    frames = []
    for week in range(4):
        noise = dlv.sim.rng.uniform(0.85, 1.15, (len(selling), dlv.sim.n_sku))
        units = round_half_up(dlv.sim.demand[selling] * 1.35 * 7 * noise)
        dlv.sim.stockout_risk.promote(d, selling, units)  # issue 18's missed promotion
        frames.append(
            pd.DataFrame(
                {
                    "forecast_created_date": today,
                    "week_start_date": today + timedelta(days=7 * week),
                    "location_id": np.repeat(dlv.loc_ids[selling], dlv.sim.n_sku),
                    "sku": np.tile(dlv.skus, len(selling)),
                    "forecast_units": units.ravel(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
