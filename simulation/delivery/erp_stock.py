"""The ERP's stock-movement extracts: transfers shipped and received between locations, and
the stores' stock adjustments."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from simulation.deliver import Deliverer
    from simulation.engine import DayOutput


def transfers(dlv: Deliverer, d: int, out: DayOutput) -> None:
    shipped = dlv.frames(out, "transfers_shipped")
    received = dlv.frames(out, "transfers_received")
    parts = []
    for frame, event in ((shipped, "shipped"), (received, "received")):
        if frame.empty:
            continue
        parts.append(
            pd.DataFrame(
                {
                    "transfer_number": frame["transfer_number"],
                    "transfer_line_number": frame["transfer_line_number"],
                    "event_type": event,
                    "from_location_id": dlv.loc_ids[frame["src"]],
                    "to_location_id": dlv.loc_ids[frame["dst"]],
                    "sku": dlv.skus[frame["sku"]],
                    "units": frame["units"],
                    "event_at": frame["event_at"],
                }
            )
        )
    columns = dlv.writer.contract["erp_transfers"].column_names
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    dlv.write_file(
        "erp_transfers",
        d,
        frame.sort_values(["event_at", "transfer_number", "transfer_line_number"]),
    )


def store_adjustments(dlv: Deliverer, d: int, out: DayOutput) -> None:
    adj = dlv.frames(out, "store_adjustments")
    columns = dlv.writer.contract["erp_stock_adjustments"].column_names
    if adj.empty:
        frame = pd.DataFrame(columns=columns)
    else:
        frame = pd.DataFrame(
            {
                "adjustment_number": [f"ADJ{dlv.sim.next_id('adj'):08d}" for _ in range(len(adj))],
                "location_id": dlv.loc_ids[adj["loc"]],
                "sku": dlv.skus[adj["sku"]],
                "reason_code": adj["reason"],
                "units": adj["units"],
                "adjusted_at": adj["event_at"],
                "unit_cost": adj["unit_cost"] if "unit_cost" in adj else np.nan,
            }
        )
    dlv.write_file("erp_stock_adjustments", d, frame)
