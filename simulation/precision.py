"""Prices and costs at the precision real sources use: some list prices and supplier unit costs
carry three or four decimals.

A share of SKUs is listed a half cent or five hundredths of a cent below the round price
(19.985, 19.9895), in every entity's price list, and a share of US01's supplier quotes carry
four decimals (the other entities' costs come from conversion and have four already). Amounts
are then rounded per line to cents (docs/decisions.md, "Rounding of money"), in the simulation
(round_half_up of units x price) as in the warehouse. The draws come from a stream of their own,
so the other draws of the world stay where they were.
"""

from __future__ import annotations

import numpy as np

STREAM = 1_302_014  # np.random.default_rng([seed, STREAM])
PRICE_SHARE = 0.15  # SKUs whose list price is not a whole cent
COST_SHARE = 0.25  # SKUs whose US01 supplier quotes four decimals
PRICE_OFFSETS = np.array([0.005, 0.0005])  # below the round price: 19.985, 19.9895
DECIMALS = 4


def offsets(seed: int, n_skus: int) -> tuple[np.ndarray, np.ndarray]:
    """Per SKU: how far its list prices sit below the whole-cent price, and how far its US01
    unit cost sits below the whole-cent quote (zero for most SKUs)."""
    rng = np.random.default_rng([seed, STREAM])
    priced = rng.random(n_skus) < PRICE_SHARE
    price = np.where(priced, PRICE_OFFSETS[rng.integers(0, len(PRICE_OFFSETS), n_skus)], 0.0)
    costed = rng.random(n_skus) < COST_SHARE
    cost = np.where(costed, rng.integers(1, 100, n_skus) / 10_000, 0.0)
    return price, cost


def at_source_precision(values: np.ndarray, below: np.ndarray) -> np.ndarray:
    """values less the offsets, at the four decimals the contract carries."""
    return np.round(np.asarray(values, dtype=float) - below, DECIMALS)
