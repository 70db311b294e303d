"""Purchase-order lines after their first delivery: back-orders, buyer closes, over-deliveries.

A supplier short-delivers some lines (receive_purchase_orders in simulation/events/erp.py draws
which). The rest of such a line is then either delivered later against the same line (a
back-order receipt some days after) or closed by the buyer, which the ERP sends as a change
record: the line again in the purchase-order extract of the closing day, with ``line_status``
``closed`` and its ``closed_date``. A few lines delivered in full come with more units than
ordered (an over-delivery): the extra units go on hand, the line is complete, and its on order
is zero, never negative.

The book keeps every line's ordered and received units and its closing day, and answers the
truth's on order per location and SKU by the glossary's rule (ordered - received to date, until
received in full or closed), from the lines themselves. Its draws come from a stream of their
own, so the engine's and the defect plan's draws stay where they were.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

STREAM = 1_302_013  # the book's own random stream: np.random.default_rng([seed, STREAM])
BACKORDER_SHARE = 0.6  # short lines whose rest the supplier delivers later; the others close
BACKORDER_DAYS = (3, 10)  # a back-order arrives 3 to 9 days after the short delivery
CLOSE_DAYS = (1, 6)  # the buyer closes the rest 1 to 5 days after the short delivery
OVER_DELIVERY_SHARE = 0.01  # lines delivered in full that come with more than ordered
OPEN, CLOSED = "open", "closed"


class PurchaseLineBook:
    """Every purchase-order line's ordered and received units, and its closing."""

    def __init__(self, seed: int, n_loc: int, n_sku: int) -> None:
        self.rng = np.random.default_rng([seed, STREAM])
        self.n_loc, self.n_sku = n_loc, n_sku
        self.rows: dict[tuple[str, int], dict] = {}  # the line as ordered (extract row)
        self.loc: dict[tuple[str, int], int] = {}
        self.sku: dict[tuple[str, int], int] = {}
        self.ordered: dict[tuple[str, int], int] = {}
        self.received: dict[tuple[str, int], int] = defaultdict(int)
        self.closed: set[tuple[str, int]] = set()
        self.open: set[tuple[str, int]] = set()  # neither closed nor received in full
        self.closing: dict[int, list[tuple[str, int]]] = defaultdict(list)

    def order(self, lines: pd.DataFrame) -> None:
        """Record new lines (the engine's purchase-order frame)."""
        for row in lines.to_dict("records"):
            key = (row["po_number"], int(row["po_line_number"]))
            self.rows[key] = row
            self.loc[key] = int(row["loc"])
            self.sku[key] = int(row["sku_idx"])
            self.ordered[key] = int(row["ordered_units"])
            self.open.add(key)

    def over_deliver(self, lines: pd.DataFrame, received: np.ndarray) -> np.ndarray:
        """Units received for first deliveries: a few lines delivered in full get 5% more
        (at least one unit)."""
        ordered = lines["ordered_units"].to_numpy()
        over = (self.rng.random(len(lines)) < OVER_DELIVERY_SHARE) & (received == ordered)
        extra = np.maximum(1, np.ceil(ordered * 0.05)).astype(np.int64)
        return np.where(over, received + extra, received)

    def receive(
        self, d: int, lines: pd.DataFrame
    ) -> tuple[np.ndarray, list[tuple[int, pd.DataFrame]]]:
        """Book the day's receipts of lines (columns po_number, po_line_number, received_units).
        Returns the change of on order per line (zero or negative) and the back-orders to
        deliver: (day, lines with due_units), planning closes for the other short lines."""
        change = np.zeros(len(lines), dtype=np.int64)
        backorders: list[dict] = []
        for i, (po, line, units) in enumerate(
            zip(lines["po_number"], lines["po_line_number"], lines["received_units"], strict=True)
        ):
            key = (po, int(line))
            before = self.received[key]
            self.received[key] = before + int(units)
            ordered = self.ordered[key]
            if key not in self.closed:
                change[i] = -(min(self.received[key], ordered) - min(before, ordered))
            rest = ordered - self.received[key]
            if rest <= 0:
                self.open.discard(key)
            elif before == 0:  # a short first delivery: back-order or close
                if self.rng.random() < BACKORDER_SHARE:
                    day = d + int(self.rng.integers(*BACKORDER_DAYS))
                    backorders.append({**self.rows[key], "due_units": rest, "due_day": day})
                else:
                    self.closing[d + int(self.rng.integers(*CLOSE_DAYS))].append(key)
        planned = []
        if backorders:
            frame = pd.DataFrame(backorders).assign(backorder=True)
            for day, group in frame.groupby("due_day", sort=True):
                planned.append((int(day), group.drop(columns="due_day").reset_index(drop=True)))
        return change, planned

    def close(self, d: int, closed_date: object) -> tuple[pd.DataFrame, np.ndarray]:
        """The lines the buyer closes on day d: their change records (the line as ordered with
        line_status closed and closed_date) and the change of on order per record."""
        keys = [k for k in self.closing.pop(d, []) if k not in self.closed]
        records, change = [], np.zeros(len(keys), dtype=np.int64)
        for i, key in enumerate(keys):
            self.closed.add(key)
            self.open.discard(key)
            change[i] = -max(self.ordered[key] - self.received[key], 0)
            records.append({**self.rows[key], "line_status": CLOSED, "closed_date": closed_date})
        return pd.DataFrame(records), change

    def on_order(self) -> np.ndarray:
        """On order per [location, sku] now: for each line neither closed nor received in full,
        ordered - received."""
        result = np.zeros((self.n_loc, self.n_sku), dtype=np.int64)
        for key in self.open:
            rest = self.ordered[key] - self.received.get(key, 0)
            if rest > 0:
                result[self.loc[key], self.sku[key]] += rest
        return result
