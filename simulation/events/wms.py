"""The WMS's stock control: quality holds at the DCs and their release or scrapping, and the
shrink, damage and count corrections booked at stores (in the ERP) and DCs (in the WMS)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulation import world as w

if TYPE_CHECKING:
    from simulation.engine import DayOutput, Simulation


def resolve_holds(sim: Simulation, d: int, out: DayOutput) -> None:
    due = sim.pending["holds"].pop(d, [])
    if not due:
        return
    holds = pd.concat(due, ignore_index=True)
    scrap = sim.rng.random(len(holds)) < 0.2
    loc, sku, units = (
        holds["loc"].to_numpy(),
        holds["sku"].to_numpy(),
        holds["units"].to_numpy(),
    )
    np.subtract.at(sim.quarantined, (loc, sku), units)
    np.subtract.at(sim.on_hand, (loc[scrap], sku[scrap]), units[scrap])
    at = sim.utc(loc, d, np.full(len(holds), 9 * 3600 + 1800))
    sim.events(
        out,
        event_at=at,
        business_date=sim.config.day(d),
        entity_code=sim.entity_of[loc],
        location=loc,
        sku=sku,
        event_type=np.where(scrap, "adjustment", "release"),
        reason=np.where(scrap, "damage", None),
        on_hand_delta=np.where(scrap, -units, 0),
        quarantined_delta=-units,
    )
    out.extracts["wms_moves"].append(
        pd.DataFrame(
            {
                "loc": loc,
                "sku": sku,
                "units": np.where(scrap, units, units),
                "event_at": at,
                "movement_type": np.where(scrap, "damage", "release"),
                "stock_status": "hold",
                "reference_number": None,
            }
        )
    )


def holds_and_adjustments(sim: Simulation, d: int, out: DayOutput) -> None:
    # quality holds at the DCs
    for dc in w.DCS:
        available = sim.on_hand[dc] - sim.reserved[dc] - sim.quarantined[dc]
        hit = np.nonzero((sim.rng.random(sim.n_sku) < 0.004) & (available > 0))[0]
        units = np.minimum(sim.case_packs[hit], available[hit])
        sim.quarantined[dc, hit] += units
        at = sim.utc(dc, d, np.full(len(hit), 19 * 3600))
        sim.events(
            out,
            event_at=at,
            business_date=sim.config.day(d),
            entity_code=sim.entity_of[dc],
            location=np.full(len(hit), dc),
            sku=hit,
            event_type="hold",
            quarantined_delta=units,
        )
        out.extracts["wms_moves"].append(
            pd.DataFrame(
                {
                    "loc": dc,
                    "sku": hit,
                    "units": units,
                    "event_at": at,
                    "movement_type": "hold",
                    "stock_status": "unrestricted",
                    "reference_number": None,
                }
            )
        )
        resolve_day = d + sim.rng.integers(2, 7, len(hit))
        for day in np.unique(resolve_day):
            pick = resolve_day == day
            sim.pending["holds"][int(day)].append(
                pd.DataFrame({"loc": dc, "sku": hit[pick], "units": units[pick]})
            )
    # shrink, damage and count corrections at stores (ERP) and DCs (WMS)
    adjusted: dict[int, np.ndarray] = {}
    for loc in list(w.STORES) + list(w.DCS):
        available = sim.on_hand[loc] - sim.reserved[loc] - sim.quarantined[loc]
        draw = sim.rng.random(sim.n_sku)
        reason = np.select(
            [draw < 0.003, draw < 0.0045, draw < 0.006],
            ["shrink", "damage", "count_correction"],
            "",
        )
        sku = np.nonzero(reason != "")[0]
        if len(sku) == 0:
            continue
        reason = reason[sku]
        size = sim.rng.integers(1, 4, len(sku))
        sign = np.where((reason == "count_correction") & (sim.rng.random(len(sku)) < 0.4), 1, -1)
        units = np.where(sign < 0, -np.minimum(size, available[sku]), size)
        keep = units != 0
        adjusted[loc] = sku[keep]
        book_adjustments(sim, d, out, loc, sku[keep], reason[keep], units[keep])
    spike = sim.anomalies.shrink(sim, d, adjusted)  # issue 18's shrink spike, own draws
    if spike is not None:
        loc, sku, units = spike
        book_adjustments(sim, d, out, loc, sku, np.full(len(sku), "shrink"), units)


def book_adjustments(
    sim: Simulation,
    d: int,
    out: DayOutput,
    loc: int,
    sku: np.ndarray,
    reason: np.ndarray,
    units: np.ndarray,
) -> None:
    """Book stock adjustments at a location: in the ERP at a store, in the WMS at a DC."""
    sim.on_hand[loc, sku] += units
    is_dc = loc in w.DCS
    at = sim.utc(loc, d, np.full(len(sku), (20 * 3600 + 1800) if is_dc else (23 * 3600 + 2700)))
    sim.events(
        out,
        event_at=at,
        business_date=sim.config.day(d),
        entity_code=sim.entity_of[loc],
        location=np.full(len(sku), loc),
        sku=sku,
        event_type="adjustment",
        reason=reason,
        on_hand_delta=units,
    )
    frame = pd.DataFrame({"loc": loc, "sku": sku, "units": units, "event_at": at, "reason": reason})
    if is_dc:
        out.extracts["wms_moves"].append(
            frame.assign(movement_type=reason, stock_status="unrestricted", reference_number=None)
        )
    else:
        out.extracts["store_adjustments"].append(frame)
