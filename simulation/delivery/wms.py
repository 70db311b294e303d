"""The WMS's extracts: the DCs' stock movements, in cases or eaches, and the end-of-day on-hand
snapshot (with some count differences)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulation import world as w

if TYPE_CHECKING:
    from simulation.deliver import Deliverer
    from simulation.engine import DayOutput


def units_of_measure(
    dlv: Deliverer, sku: np.ndarray, units: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Whole cases are reported in CS for items the WMS manages in cases."""
    pack = dlv.products["case_pack_units"].to_numpy()[sku]
    cases = dlv.products["reported_in_cases"].to_numpy()[sku] & (pack > 1) & (units % pack == 0)
    return np.where(cases, "CS", "EA"), np.where(cases, units // pack, units)


def wms(dlv: Deliverer, d: int, out: DayOutput) -> None:
    sim = dlv.sim
    parts = []
    receipts = dlv.frames(out, "goods_receipts")
    if not receipts.empty:
        r = receipts[receipts["loc"].isin(w.DCS)]
        parts.append(
            pd.DataFrame(
                {
                    "loc": r["loc"],
                    "sku": r["sku_idx"],
                    "units": r["received_units"],
                    "event_at": r["received_at"],
                    "movement_type": "receipt",
                    "stock_status": "unrestricted",
                    "reference_number": r["receipt_number"],
                }
            )
        )
    shipped = dlv.frames(out, "web_shipped")
    if not shipped.empty:
        parts.append(
            pd.DataFrame(
                {
                    "loc": shipped["loc"],
                    "sku": shipped["sku"],
                    "units": shipped["units"],
                    "event_at": shipped["event_at"],
                    "movement_type": "pick",
                    "stock_status": "unrestricted",
                    "reference_number": shipped["order_id"],
                }
            )
        )
    transfers = dlv.frames(out, "transfers_shipped")
    if not transfers.empty:
        t = transfers[transfers["src"].isin(w.DCS)]
        parts.append(
            pd.DataFrame(
                {
                    "loc": t["src"],
                    "sku": t["sku"],
                    "units": t["units"],
                    "event_at": t["event_at"],
                    "movement_type": "transfer_out",
                    "stock_status": "unrestricted",
                    "reference_number": t["transfer_number"],
                }
            )
        )
    parts += [f for f in out.extracts.get("wms_moves", []) if len(f)]
    columns = dlv.writer.contract["wms_movements"].column_names
    if parts:
        moves = (
            pd.concat(parts, ignore_index=True)
            .sort_values(["loc", "event_at", "movement_type", "sku"], kind="stable")
            .reset_index(drop=True)
        )
        signed = moves["movement_type"] == "count_correction"
        uom, qty = units_of_measure(dlv, moves["sku"].to_numpy(), np.abs(moves["units"].to_numpy()))
        qty = np.where(signed & (moves["units"] < 0), -qty, qty)
        moves = pd.DataFrame(
            {
                "wms_site_code": w.LOCATIONS["wms_site_code"].to_numpy()[moves["loc"]],
                "movement_number": [f"M{sim.next_id('move'):09d}" for _ in range(len(moves))],
                "movement_type": moves["movement_type"],
                "stock_status": moves["stock_status"],
                "wms_item_code": dlv.products["wms_item_code"].to_numpy()[moves["sku"]],
                "unit_of_measure": uom,
                "quantity": qty,
                "reference_number": moves["reference_number"],
                "moved_at": moves["event_at"],
            }
        )
    else:
        moves = pd.DataFrame(columns=columns)
    dlv.write_file("wms_movements", d, moves)
    dlv.write_file("wms_on_hand", d, wms_snapshot(dlv, d))


def wms_snapshot(dlv: Deliverer, d: int) -> pd.DataFrame:
    sim = dlv.sim
    rows = []
    for dc in w.DCS:
        for status, qty in (
            ("unrestricted", sim.on_hand[dc] - sim.quarantined[dc]),
            ("hold", sim.quarantined[dc]),
        ):
            sku = np.nonzero(qty > 0)[0]
            q = qty[sku].copy()
            rows.append(pd.DataFrame({"dc": dc, "sku": sku, "status": status, "units": q}))
    snap = pd.concat(rows, ignore_index=True)
    n = dlv.plan.take("wms_count_difference", d, len(snap))
    for i in sorted(dlv.plan.rng.choice(len(snap), size=n, replace=False).tolist()):
        delta = int(dlv.plan.rng.choice([-3, -2, -1, 1, 2, 3]))
        true_units = int(snap.at[i, "units"])
        snap.at[i, "units"] = max(0, true_units + delta)
        file = dlv.writer.path_for(
            dlv.writer.contract["wms_on_hand"], dlv.config.day(d), dlv.config.day(d)
        )
        dlv.plan.record(
            "wms_count_difference",
            "wms",
            "wms_on_hand",
            dlv.writer.relative(file),
            location_id=dlv.loc_ids[snap.at[i, "dc"]],
            sku=dlv.skus[snap.at[i, "sku"]],
            stock_status=snap.at[i, "status"],
            true_units=true_units,
            counted_units=int(snap.at[i, "units"]),
            snapshot_date=dlv.config.day(d).isoformat(),
        )
    pack = dlv.products["case_pack_units"].to_numpy()[snap["sku"]]
    in_cases = dlv.products["reported_in_cases"].to_numpy()[snap["sku"]] & (pack > 1)
    cases = np.where(in_cases, snap["units"] // pack, 0)
    eaches = snap["units"] - cases * pack
    site = w.LOCATIONS["wms_site_code"].to_numpy()[snap["dc"]]
    item = dlv.products["wms_item_code"].to_numpy()[snap["sku"]]
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "wms_site_code": site,
                    "wms_item_code": item,
                    "stock_status": snap["status"],
                    "unit_of_measure": "CS",
                    "quantity": cases,
                }
            ),
            pd.DataFrame(
                {
                    "wms_site_code": site,
                    "wms_item_code": item,
                    "stock_status": snap["status"],
                    "unit_of_measure": "EA",
                    "quantity": eaches,
                }
            ),
        ],
        ignore_index=True,
    )
    frame = (
        frame[frame["quantity"] > 0]
        .sort_values(["wms_site_code", "wms_item_code", "stock_status", "unit_of_measure"])
        .reset_index(drop=True)
    )
    frame.insert(0, "snapshot_date", dlv.config.day(d))
    return frame
