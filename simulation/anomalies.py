"""Operational anomalies (issue 18): things that really happen in the business and that the
warehouse's anomaly detectors must find against history or peers, each recorded in the
manifest (truth/defects.csv) with where and when it is.

* return_rate_outlier: a store with a return-fraud pattern: from a date on, about a third of
  its sale lines come back within days (real returns: the truth includes them);
* systematic_underpricing: a store whose tills discount far more lines, and deeper, than the
  other stores (real discounts, in the truth);
* stock_imbalance: one SKU overstocked at a store while its sister store (same entity and
  DC) runs out: one evening the sister's whole stock of it is transferred to the store, which
  also gets three targets more from the DC, and the sister is no longer replenished with it;
* shrink_spike: one night a location books shrink on many SKUs at once;
* supplier_cost_creep: a supplier's purchase unit cost rises a few percent every week;
* volume_break: a day's POS file delivered complete (every store, a header, no bad row) but
  with nine tenths of its sale rows missing: the rows are lost as with a missing file.

Draws come from this module's own random stream, so the main stream and the defect placements
of a world are those of a world without anomalies up to the first anomaly's effect; a clean
world (--clean) or --no-anomalies injects none. Hooks: engine (plan), events/pos.py (returns,
discounts), events/planning.py (replenishment), events/wms.py (shrink), events/erp.py (PO cost),
delivery/pos.py (the half-empty file).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulation import world as w
from simulation.money import round_half_up

if TYPE_CHECKING:
    from simulation.deliver import Deliverer
    from simulation.engine import DayOutput, Simulation

STREAM = 1818  # the anomalies' random stream: np.random.default_rng([seed, STREAM])
FRAUD_RETURN_SHARE = 0.33  # share of the fraud store's sale lines returned within 1-3 days
UNDERPRICED_SHARE = 0.35  # extra share of the under-pricing store's lines discounted
UNDERPRICED_DEPTH = (0.15, 0.35)  # discount as a share of gross on those lines
OVERSTOCK_FACTOR = 3  # extra replenishment: three times the store's target stock
SHRINK_SKUS = 15  # SKUs shrunk on the spike's night, 2 to 5 units each
COST_STEP = 0.03  # supplier cost creep: +3% of the usual cost per started week
LOST_SHARE = 0.9  # share of the day's POS sale rows the short file lacks
# an anomaly stands out against history: a world shorter than this has none (the detectors'
# baselines need two to three weeks before the day they judge)
MIN_DAYS = 28
# sister stores: same entity, replenished from the same DC
STORE_PAIRS = (("S101", "S102"), ("S201", "S202"), ("S301", "S302"))
KINDS = (
    "return_rate_outlier",
    "systematic_underpricing",
    "stock_imbalance",
    "shrink_spike",
    "supplier_cost_creep",
    "volume_break",
)


NO_TIMES = np.zeros(0, dtype=np.int64)


def schedule_returns(
    sim: Simulation,
    rng: np.random.Generator,
    queue: str,
    chosen: pd.DataFrame,
    d: int,
    first_day: int,
    restock_share: float,
) -> None:
    """Schedule the whole return of chosen store sale lines of day d in the pending queue, one
    to three days later (never before first_day), restocked with restock_share (draws: rng)."""
    n = len(chosen)
    schedule = chosen.assign(
        return_units=chosen["units"].to_numpy(),
        restock=rng.random(n) < restock_share,
        return_day=np.maximum(first_day, d + rng.integers(1, 4, n)),
    )
    for day, group in schedule.groupby("return_day"):
        sim.pending[queue][int(day)].append(group)


def returns_due(
    sim: Simulation, rng: np.random.Generator, queue: str, d: int
) -> tuple[list, np.ndarray]:
    """The returns of a pending queue due on day d and their local times in store hours
    (draws: rng)."""
    due = sim.pending[queue].pop(d, [])
    if not due:
        return [], NO_TIMES
    frame = pd.concat(due, ignore_index=True)
    hours = w.LOCATIONS.loc[frame["loc"], ["open_hour", "close_hour"]].to_numpy()
    local = rng.integers((hours[:, 0] * 3600).astype(int), (hours[:, 1] * 3600).astype(int))
    return [frame], local


class Anomalies:
    """Where and when each anomaly happens in one world, and its manifest rows."""

    def __init__(self, sim: Simulation) -> None:
        config = sim.config
        self.active = config.anomalies and not config.clean and config.days >= MIN_DAYS
        self.rng = np.random.default_rng([config.seed, STREAM])
        # the manifest rows, listed after the defects' (DefectPlan.manifest_frame)
        self.records: list[dict] = sim.defects.anomaly_manifest
        if not self.active:
            return
        rng, days, loc_id = self.rng, config.days, w.LOCATIONS["location_id"]
        stores = [int(s) for s in w.STORES]
        self.fraud_store, self.underpricing_store = (int(s) for s in rng.choice(stores, 2, False))
        self.fraud_from = max(14, days // 2)
        self.underpricing_from = max(7, days // 3)
        pair = [w.LOCATION_INDEX[x] for x in STORE_PAIRS[int(rng.integers(len(STORE_PAIRS)))]]
        self.overstocked, self.starved = pair if rng.random() < 0.5 else pair[::-1]
        top = np.argsort(-sim.demand[self.starved], kind="stable")[:3]
        self.imbalanced_sku = int(rng.choice(top))
        self.imbalance_from = max(3, days // 7)
        dcs = [int(x) for x in w.DCS]
        self.shrink_location = int(rng.choice(stores + dcs))
        self.shrink_day = int(rng.integers(max(14, days // 2), days - 6))
        suppliers = [s for e in ("US01", "DE01") for s in w.ENTITY_SUPPLIERS[e]]
        self.creeping_supplier = str(rng.choice(suppliers))
        self.creep_from = max(5, days // 4)
        self.volume_break_day = int(rng.integers(max(14, days // 2), days - 6))
        # a POS file no file-level defect touches, kept from the ones passed on later
        plan = sim.defects
        while not plan.free("pos_sales", self.volume_break_day):
            self.volume_break_day += 1
        key = ("pos_sales", self.volume_break_day)
        plan.reserved[key] = key
        day = config.day
        self.record(
            "return_rate_outlier",
            "pos",
            location_id=loc_id[self.fraud_store],
            from_date=day(self.fraud_from),
            returned_share=FRAUD_RETURN_SHARE,
        )
        self.record(
            "systematic_underpricing",
            "pos",
            location_id=loc_id[self.underpricing_store],
            from_date=day(self.underpricing_from),
            extra_discounted_share=UNDERPRICED_SHARE,
        )
        self.record(
            "stock_imbalance",
            "erp",
            sku=sim.skus[self.imbalanced_sku],
            overstocked_location_id=loc_id[self.overstocked],
            out_of_stock_location_id=loc_id[self.starved],
            from_date=day(self.imbalance_from),
        )
        self.record(
            "supplier_cost_creep",
            "erp",
            supplier_id=self.creeping_supplier,
            from_date=day(self.creep_from),
            weekly_step=COST_STEP,
        )

    def record(self, kind: str, system: str, file: str = "", **detail: object) -> None:
        """A manifest row (truth/defects.csv, after the defects): the anomaly's kind, the
        system it shows in, and where and when it is."""
        self.records.append(
            {
                "kind": kind,
                "system": system,
                "extract": "",
                "file": file,
                "detail": json.dumps(detail, sort_keys=True, default=str),
            }
        )

    # -------------------------------------------------------------- hooks in the events
    def fraud_sales(self, sim: Simulation, d: int, lines: pd.DataFrame, returned: np.ndarray):
        """Schedule the fraud store's returns of lines not already due back."""
        if not self.active or d < self.fraud_from - 1 or d >= sim.config.days - 1:
            return
        mine = lines[(lines["loc"] == self.fraud_store).to_numpy() & ~returned]
        chosen = mine[self.rng.random(len(mine)) < FRAUD_RETURN_SHARE]
        if chosen.empty:
            return
        schedule_returns(sim, self.rng, "fraud_returns", chosen, d, self.fraud_from, 0.85)

    def fraud_returns_due(self, sim: Simulation, d: int) -> tuple[list, np.ndarray]:
        """The fraud returns due today and their local times (from this module's stream)."""
        return returns_due(sim, self.rng, "fraud_returns", d) if self.active else ([], NO_TIMES)

    def underprice(self, sim: Simulation, d: int, lines: pd.DataFrame) -> None:
        """The under-pricing store's tills discount many more lines, and deeper."""
        if not self.active or d < self.underpricing_from or lines.empty:
            return
        mine = (lines["loc"] == self.underpricing_store).to_numpy()
        extra = mine & (lines["discount"].to_numpy() == 0)
        extra &= self.rng.random(len(lines)) < UNDERPRICED_SHARE
        depth = self.rng.uniform(*UNDERPRICED_DEPTH, len(lines))
        lines.loc[extra, "discount"] = round_half_up(lines.loc[extra, "gross"] * depth[extra])

    def misdirect(self, sim: Simulation, d: int, out: DayOutput) -> None:
        """The sister store's stock of the SKU transferred to the overstocked store (the
        transfer's time drawn from this module's stream, not the main one)."""
        if not self.active or d != self.imbalance_from:
            return
        from simulation.events import erp

        units = int(sim.on_hand[self.starved, self.imbalanced_sku])
        if units <= 0:
            return
        main, sim.rng = sim.rng, self.rng
        try:
            erp.ship_transfers(
                sim,
                d,
                np.array([self.starved]),
                np.array([self.overstocked]),
                np.array([self.imbalanced_sku]),
                np.array([units]),
                out,
            )
        finally:
            sim.rng = main

    def replenishment(self, sim: Simulation, d: int, loc: int, want: np.ndarray) -> None:
        """The overstocked store gets three targets more once; its sister gets no more."""
        if not self.active or d < self.imbalance_from:
            return
        sku = self.imbalanced_sku
        if loc == self.starved:
            want[sku] = 0
        elif loc == self.overstocked and d == self.imbalance_from:
            target = max(2, int(np.ceil(sim.demand[loc, sku] * 1.4 * 12)))
            want[sku] += OVERSTOCK_FACTOR * target

    def shrink(
        self, sim: Simulation, d: int, adjusted: dict[int, np.ndarray]
    ) -> tuple[int, np.ndarray, np.ndarray] | None:
        """The spike night's shrink lines at one location: (location, skus, negative units),
        on SKUs the location adjusted no other way that day."""
        if not self.active or d != self.shrink_day:
            return None
        loc = self.shrink_location
        available = sim.on_hand[loc] - sim.reserved[loc] - sim.quarantined[loc]
        candidates = np.setdiff1d(np.nonzero(available >= 2)[0], adjusted.get(loc, []))
        sku = np.sort(self.rng.choice(candidates, min(SHRINK_SKUS, len(candidates)), False))
        units = -np.minimum(self.rng.integers(2, 6, len(sku)), available[sku])
        self.record(
            "shrink_spike",
            "wms" if loc in w.DCS else "erp",
            location_id=w.LOCATIONS["location_id"][loc],
            business_date=sim.config.day(d),
            lines=len(sku),
            units=int(-units.sum()),
        )
        return loc, sku, units

    def creep_costs(self, sim: Simulation, d: int, frame: pd.DataFrame) -> None:
        """The creeping supplier's purchase unit costs: +COST_STEP per started week."""
        if not self.active or d < self.creep_from:
            return
        mine = (frame["supplier"] == self.creeping_supplier).to_numpy()
        factor = 1 + COST_STEP * (1 + (d - self.creep_from) // 7)
        frame.loc[mine, "cost"] = np.round(frame.loc[mine, "cost"].to_numpy() * factor, 4)

    # -------------------------------------------------------------- hook in the delivery
    def half_empty(self, dlv: Deliverer, d: int, frame: pd.DataFrame) -> pd.DataFrame:
        """The volume break: the day's POS file without nine tenths of each store's sale rows
        (never a line a later return points at, never a store's last row)."""
        if not self.active or d != self.volume_break_day or frame.empty:
            return frame
        from simulation.delivery.faults import lost_impact

        returned = {
            (r, int(n))
            for queue in ("pos_returns", "fraud_returns", "defect_returns")
            for days in dlv.sim.pending[queue].values()
            for group in days
            for r, n in zip(group["receipt_number"], group["receipt_line_number"], strict=True)
        }
        droppable = (frame["transaction_type"] == "sale").to_numpy() & ~np.array(
            [
                (r, int(n)) in returned
                for r, n in zip(frame["receipt_number"], frame["receipt_line_number"], strict=True)
            ],
            dtype=bool,
        )
        drop = np.zeros(len(frame), dtype=bool)
        for _, rows in frame.groupby("pos_store_code", sort=True).groups.items():
            rows = np.asarray(rows)
            rows = rows[droppable[rows]]
            n = min(int(round(len(rows) * LOST_SHARE)), len(rows) - 1)
            if n > 0:
                drop[self.rng.choice(rows, n, replace=False)] = True
        lost = frame[drop]
        self.record(
            "volume_break",
            "pos",
            business_date=dlv.config.day(d),
            rows_delivered=int((~drop).sum()),
            rows_lost=int(drop.sum()),
            **lost_impact(dlv, "pos_sales", lost),
        )
        return frame[~drop].reset_index(drop=True)
