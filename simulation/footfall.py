"""Every open store rings at least one sale a day, and the marketplace settles one.

In a small world a store's Poisson draw of sale lines can come out empty, and a store that
delivers no row on a business date is, by the extract contract, a missing delivery: a clean
world must not hold one (nor a marketplace settlement file without rows). A store with no sale
left after the day's draw sells one unit of a product it has on hand (chosen by popularity) at
a time within its opening hours; an empty marketplace day sells one unit it can sell. Both draw
from this module's own generator, so the main stream's draws do not move.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulation import world as w

if TYPE_CHECKING:
    from simulation.engine import Simulation

RNG_STREAM = 0xF00F  # the footfall stream of the world's seed


def every_store_sells(sim: Simulation, lines: pd.DataFrame, d: int) -> pd.DataFrame:
    """The day's store lines (columns loc, sku, units, local), with one line added for each
    store that has none and stock to sell, in the order the engine keeps them."""
    quiet = [s for s in w.STORES if not (lines["loc"] == s).any()]
    if not quiet:
        return lines
    rng = np.random.default_rng([sim.config.seed, RNG_STREAM, d])
    popularity = sim.products["popularity"].to_numpy()
    extra = []
    for store in quiet:
        stocked = np.nonzero(sim.on_hand[store] > 0)[0]
        if len(stocked) == 0:
            continue
        weights = popularity[stocked] / popularity[stocked].sum()
        opens, closes = w.LOCATIONS.loc[store, ["open_hour", "close_hour"]]
        extra.append(
            {
                "loc": int(store),
                "sku": int(rng.choice(stocked, p=weights)),
                "units": 1,
                "local": int(rng.integers(int(opens * 3600), int(closes * 3600))),
            }
        )
    if not extra:
        return lines
    frame = pd.concat([lines, pd.DataFrame(extra)], ignore_index=True)
    return frame.sort_values(["loc", "local", "sku"], kind="stable").reset_index(drop=True)


def marketplace_sells(sim: Simulation, lines: pd.DataFrame, d: int) -> pd.DataFrame:
    """The marketplace's candidate lines (columns loc, sku, units), with one unit of a product
    it can sell (by popularity) when the day's draw came out empty."""
    if not lines.empty:
        return lines
    location = w.MARKETPLACE_LOCATION
    sellable = np.nonzero((sim.on_hand[location] - sim.quarantined[location]) > 0)[0]
    if len(sellable) == 0:
        return lines
    rng = np.random.default_rng([sim.config.seed, RNG_STREAM, d, location])
    popularity = sim.products["popularity"].to_numpy()[sellable]
    sku = int(rng.choice(sellable, p=popularity / popularity.sum()))
    return pd.DataFrame({"loc": [location], "sku": [sku], "units": [1]})
