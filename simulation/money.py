"""Money arithmetic the simulated sources share: commercial rounding to cents and the
allocation of an order-level amount to its lines."""

from __future__ import annotations

import numpy as np
import pandas as pd


def round_half_up(values: np.ndarray | float, decimals: int = 2) -> np.ndarray:
    """Commercial rounding to cents (half away from zero), robust to binary representation."""
    factor = 10.0**decimals
    scaled = np.asarray(values, dtype=float) * factor
    return np.sign(scaled) * np.floor(np.abs(scaled) + 0.5 + 1e-9) / factor


def allocate_by_gross(
    order_ids: np.ndarray, gross: np.ndarray, order_amount: np.ndarray, line_numbers: np.ndarray
) -> np.ndarray:
    """Allocate an order-level amount to its lines by gross value, rounded to cents so that the
    lines sum to the order exactly: each share is rounded half up and the remainder goes to the
    line with the largest gross (lowest line number on ties). order_amount is per line (the
    order's amount repeated on each of its lines)."""
    frame = pd.DataFrame(
        {"order": order_ids, "gross": gross, "amount": order_amount, "line": line_numbers}
    )
    total = frame.groupby("order")["gross"].transform("sum")
    share = np.where(total > 0, frame["amount"] * frame["gross"] / total.where(total > 0, 1), 0)
    frame["share"] = round_half_up(share)
    remainder = round_half_up(frame["amount"] - frame.groupby("order")["share"].transform("sum"))
    order_of_lines = frame.sort_values(["order", "gross", "line"], ascending=[True, False, True])
    first = ~order_of_lines["order"].duplicated()
    target = order_of_lines.index[first.to_numpy()]
    frame.loc[target, "share"] = round_half_up(frame.loc[target, "share"] + remainder[target])
    return frame["share"].to_numpy()
