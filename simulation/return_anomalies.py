"""Return-rate anomalies of a SKU and of a webshop customer (issue 18), each a kind of its own in
the manifest (truth/defects.csv) with where and when it is, on this module's own random stream
(so every other draw of a world, the other anomalies' included, stays where it was):

* sku_return_rate_outlier: a faulty batch: from a date on, a good seller's store sale lines come
  back (whole, damaged) within one to three days, about nine in ten of them;
* customer_return_rate_outlier: a serial returner: a customer of one country's webshop who
  orders most days from the world's first day (taking over one or two of the day's orders)
  and, from a date on, sends back most lines of every shipped order within two to six days,
  worn (never back in stock).

Neither return puts a unit back in stock, so the stock, and with it every draw of the main
stream (what sells, what is replenished), stays as in a world without them.

Both are real sales and returns, in the truth like any other. Off with --clean, --no-anomalies
or in a world under simulation.anomalies.MIN_DAYS days. Hooks: engine (plan), events/pos.py
(store sales and returns), events/webshop.py (orders, shipments, refunds), and the volume
break's file (delivery: lines due back are never dropped).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulation import world as w
from simulation.anomalies import MIN_DAYS, NO_TIMES, returns_due, schedule_returns

if TYPE_CHECKING:
    from simulation.engine import Simulation

STREAM = 1819  # this module's random stream: np.random.default_rng([seed, STREAM])
DEFECT_RETURN_SHARE = 0.9  # share of the faulty SKU's store sale lines returned
SERIAL_ORDERS_PER_DAY = 0.7  # chance the serial returner orders on a day (1 or 2 orders)
SERIAL_RETURN_SHARE = 0.75  # share of the serial returner's shipped lines sent back
KINDS = ("sku_return_rate_outlier", "customer_return_rate_outlier")
# the pending queues (Simulation.pending) of this module's returns, by day due
DEFECT_QUEUE = "defect_returns"
SERIAL_QUEUE = "serial_refunds"


class ReturnAnomalies:
    """Where and when the faulty SKU and the serial returner are, and their manifest rows."""

    def __init__(self, sim: Simulation) -> None:
        config = sim.config
        self.active = config.anomalies and not config.clean and config.days >= MIN_DAYS
        self.rng = np.random.default_rng([config.seed, STREAM])
        self.serial_orders: set[str] = set()  # the serial returner's orders
        self.serial_refunded: set[str] = set()  # ... and those this module refunds
        if not self.active:
            return
        rng, days = self.rng, config.days
        # a good seller, not a best seller: the stores' 6th to 12th (a best seller coming back
        # would lift every store's own return rate; a slow seller's would be a rounding error)
        ranked = np.argsort(-sim.demand[list(w.STORES)].sum(axis=0), kind="stable")
        self.faulty_sku = int(rng.choice(ranked[5:12]))
        self.defect_from = max(12, days // 2 - 2) + int(rng.integers(0, 3))
        high = 5000 + int(20000 * config.scale_factor)  # the webshop's customer numbers
        self.serial_customer = f"C{int(rng.integers(1, high)):07d}"
        self.serial_from = max(12, days // 2 - 2) + int(rng.integers(0, 3))
        self.serial_shop = int(rng.choice(sorted(w.WEBSHOP_DCS.values())))  # one country's
        records = sim.defects.anomaly_manifest
        for kind, detail in (
            (
                "sku_return_rate_outlier",
                {
                    "sku": sim.skus[self.faulty_sku],
                    "from_date": config.day(self.defect_from),
                    "returned_share": DEFECT_RETURN_SHARE,
                },
            ),
            (
                "customer_return_rate_outlier",
                {
                    "customer_id": self.serial_customer,
                    "from_date": config.day(self.serial_from),
                    "returned_share": SERIAL_RETURN_SHARE,
                },
            ),
        ):
            records.append(
                {
                    "kind": kind,
                    "system": "pos" if kind.startswith("sku") else "webshop",
                    "extract": "",
                    "file": "",
                    "detail": json.dumps(detail, sort_keys=True, default=str),
                }
            )

    # -------------------------------------------------------------- the faulty SKU (stores)
    def defect_sales(self, sim: Simulation, d: int, lines: pd.DataFrame, returned: np.ndarray):
        """Schedule returns of the faulty SKU's store sale lines not already due back (by the
        usual returns or the return-fraud store's)."""
        if not self.active or d < self.defect_from - 1 or d >= sim.config.days - 1:
            return
        taken = {
            int(x)
            for days in sim.pending["fraud_returns"].values()
            for group in days
            for x in group["line_id"]
        }
        mine = lines[
            (lines["sku"] == self.faulty_sku).to_numpy()
            & ~returned
            & ~lines["line_id"].isin(taken).to_numpy()
        ]
        chosen = mine[self.rng.random(len(mine)) < DEFECT_RETURN_SHARE]
        if chosen.empty:
            return
        schedule_returns(sim, self.rng, DEFECT_QUEUE, chosen, d, self.defect_from, 0.0)

    def defect_returns_due(self, sim: Simulation, d: int) -> tuple[list, np.ndarray]:
        """The faulty SKU's returns due today and their local times (this module's stream)."""
        return returns_due(sim, self.rng, DEFECT_QUEUE, d) if self.active else ([], NO_TIMES)

    # -------------------------------------------------------------- the serial returner
    def serial_orders_placed(self, sim: Simulation, d: int, orders: pd.DataFrame) -> None:
        """Most days the serial returner places one or two of the day's webshop orders."""
        if not self.active or self.rng.random() >= SERIAL_ORDERS_PER_DAY:
            return
        shop = orders.index[(orders["loc"] == self.serial_shop).to_numpy()]
        n = min(len(shop), int(self.rng.integers(1, 3)))
        if n == 0:
            return
        picks = shop[np.sort(self.rng.choice(len(shop), n, replace=False))]
        orders.loc[picks, "customer_id"] = self.serial_customer
        self.serial_orders.update(orders.loc[picks, "order_id"])

    def serial_shipped(
        self, sim: Simulation, d: int, lines: pd.DataFrame, refunded: pd.Series
    ) -> None:
        """From the start date, schedule refunds of most lines of the serial returner's shipped
        orders (whole lines; an order the usual refunds already take back is left to them)."""
        if not self.active or d < self.serial_from - 1 or d >= sim.config.days - 1:
            return
        order_ids = lines["order_id"]
        mine = lines[
            order_ids.isin(self.serial_orders).to_numpy()
            & ~order_ids.map(refunded).fillna(False).astype(bool).to_numpy()
        ]
        chosen = mine[self.rng.random(len(mine)) < SERIAL_RETURN_SHARE].copy()
        if chosen.empty:
            return
        by_order = {o: d + int(self.rng.integers(2, 7)) for o in sorted(set(chosen["order_id"]))}
        self.serial_refunded.update(by_order)
        chosen["return_units"] = chosen["units"].to_numpy()
        chosen["restock"] = False  # worn: never back in stock
        chosen["refund_day"] = np.maximum(
            self.serial_from, chosen["order_id"].map(by_order).to_numpy()
        )
        for day, group in chosen.groupby("refund_day"):
            sim.pending[SERIAL_QUEUE][int(day)].append(group)

    def serial_refunds_due(self, sim: Simulation, d: int) -> list[pd.DataFrame]:
        return sim.pending[SERIAL_QUEUE].pop(d, []) if self.active else []

    def refund_times(self, sim: Simulation, order_ids: pd.Index) -> np.ndarray:
        """Local refund times of a day's refunded orders (sorted ids): the usual orders' from
        the main stream (as many draws as before), the serial returner's from this one."""
        mine = np.asarray(order_ids.isin(self.serial_refunded), dtype=bool)
        local = np.zeros(len(order_ids), dtype=np.int64)
        local[~mine] = sim.rng.integers(9 * 3600, 17 * 3600, int((~mine).sum()))
        local[mine] = self.rng.integers(9 * 3600, 17 * 3600, int(mine.sum()))
        return local
