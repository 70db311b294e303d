"""A late file for a period finance has already closed (issue 18, period close; --late-events).

One POS sales file of a business date in the world's first calendar month is held back and
delivered on the 10th of the next month, the day finance would see it after closing the first
month on an earlier date. The sales happened on their business date: the operational truth
(net_sales.csv, cogs.csv, ...) is unchanged; truth/late_events.csv records the file, its business
date and its delivery date, so a test can close the month between them and check where the
warehouse posts the file's events. Which business date is drawn from a generator of its own, so
no other draw or defect placement moves. Off by default.

With the same flag, a POS file of the first month's last day (another day when that is the late
file's) is first delivered on time with two mistakes, and delivered again, corrected, on the 11th
of the next month (the ``_2`` file of that business date), after the close: the first delivery
repeats one receipt under another receipt number and rings one sale line up one unit too many.
The corrected file is the operational truth; the first delivery is what the closed month was
closed with. truth/redelivered_lines.csv lists every line of both deliveries (with the location,
entity and SKU the simulation sold), so a test computes what the closed month keeps and what the
restatement must be (corrected minus first) without the warehouse's SQL. The last day of the
month is chosen so that no return of the closed month cites a line of the re-delivered file.
The receipt and the line are drawn from a generator of their own.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulation.config import WorldConfig
from simulation.extracts import render_delimited, to_delimited_bytes

if TYPE_CHECKING:
    from simulation.deliver import Deliverer

LATE_EXTRACT = "pos_sales"
# the late file arrives on this day of the month after its business date's month
DELIVERY_DAY_OF_MONTH = 10
RNG_STREAM = 18  # issue 18
# the corrected re-delivery of a first-month file arrives on this day of the next month
REDELIVERY_DAY_OF_MONTH = 11
REDELIVERY_STREAM = 2  # its own generator: np.random.default_rng([seed, RNG_STREAM, 2])
DUPLICATE_SUFFIX = "-R"  # the receipt number the first delivery repeats a receipt under


@dataclass(frozen=True)
class LateFile:
    extract_name: str
    business_day: int
    delivery_day: int


def delivered_next_month(config: WorldConfig, day: int, what: str) -> tuple[date, date]:
    """The first day of the month after the world's first, and its `day`: when --late-events
    delivers `what` of the first month. The world must run at least to that day."""
    start = config.start_date
    next_month = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    delivery = next_month.replace(day=day)
    if delivery > config.end_date:
        raise ValueError(
            f"--late-events delivers {what} of the first month on {delivery}: the world "
            f"({config.start_date} to {config.end_date}) must run at least to that day"
        )
    return next_month, delivery


def plan(config: WorldConfig) -> LateFile | None:
    """The late file of a world run with --late-events (None without the flag)."""
    if not config.late_events:
        return None
    start = config.start_date
    next_month, delivery = delivered_next_month(config, DELIVERY_DAY_OF_MONTH, "a file")
    first_month_days = (next_month - start).days
    rng = np.random.default_rng([config.seed, RNG_STREAM])
    business_day = int(rng.integers(0, first_month_days))
    return LateFile(LATE_EXTRACT, business_day, (delivery - start).days)


def delivery_day(
    late: LateFile | None, extract_name: str, day: int, delivery: int | None
) -> int | None:
    """The delivery day of a file: the late file's, else as planned."""
    if late is not None and (extract_name, day) == (late.extract_name, late.business_day):
        return late.delivery_day
    return delivery


def write_truth(late: LateFile | None, config: WorldConfig, truth_dir: Path) -> None:
    """truth/late_events.csv: the late file's extract, business date and delivery date."""
    if late is None:
        return
    with (truth_dir / "late_events.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["extract_name", "business_date", "delivery_date"])
        writer.writerow(
            [
                late.extract_name,
                config.day(late.business_day).isoformat(),
                config.day(late.delivery_day).isoformat(),
            ]
        )


@dataclass(frozen=True)
class Redelivery:
    extract_name: str
    business_day: int
    redelivery_day: int


def plan_redelivery(config: WorldConfig, late: LateFile | None) -> Redelivery | None:
    """The re-delivered file of a world run with --late-events (None without the flag)."""
    if late is None:
        return None
    start = config.start_date
    next_month, redelivery = delivered_next_month(config, REDELIVERY_DAY_OF_MONTH, "a file again")
    last_day = (next_month - start).days - 1
    day = last_day if last_day != late.business_day else last_day - 1
    return Redelivery(LATE_EXTRACT, day, (redelivery - start).days)


def redeliver(dlv: Deliverer, extract_name: str, day: int, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame to deliver on time: for the re-delivered file, the first delivery with its two
    mistakes, having written the corrected file (``frame``) in the re-delivery's folder and the
    truth of both; any other file as it is."""
    plan = dlv.redelivery
    if plan is None or (extract_name, day) != (plan.extract_name, plan.business_day):
        return frame
    rng = np.random.default_rng([dlv.config.seed, RNG_STREAM, REDELIVERY_STREAM])
    sales = frame.index[frame["transaction_type"] == "sale"].to_numpy()
    receipts = np.unique(frame.loc[sales, "receipt_number"].to_numpy())
    if len(receipts) < 2:
        raise ValueError(f"--late-events: the POS file of day {day} has too few receipts")
    repeated = receipts[rng.integers(0, len(receipts))]
    others = sales[frame.loc[sales, "receipt_number"].to_numpy() != repeated]
    bumped = others[rng.integers(0, len(others))]
    first = frame.copy()
    first.loc[bumped, "quantity"] = first.loc[bumped, "quantity"] + 1
    copy = frame[frame["receipt_number"] == repeated].copy()
    copy["receipt_number"] = copy["receipt_number"] + DUPLICATE_SUFFIX
    first = pd.concat([first, copy], ignore_index=True)

    extract = dlv.writer.contract[extract_name]
    business_date = dlv.config.day(day)
    path = dlv.writer.path_for(
        extract, business_date, dlv.config.day(plan.redelivery_day), sequence=2
    )
    dlv.writer.write_bytes(path, to_delimited_bytes(extract, render_delimited(extract, frame)))
    _write_lines_truth(dlv, day, first, frame)
    return first


def _write_lines_truth(
    dlv: Deliverer, day: int, first: pd.DataFrame, corrected: pd.DataFrame
) -> None:
    """truth/redelivered_lines.csv: every line of both deliveries, as the simulation sold it."""
    from simulation import world as w
    from simulation.delivery.pos import barcodes

    sku_of = dict(zip(barcodes(dlv, np.arange(len(dlv.skus)), day), dlv.skus, strict=True))
    locations = w.LOCATIONS.set_index("pos_store_code")
    frames = []
    for delivery, lines in (("first", first), ("corrected", corrected)):
        stores = lines["pos_store_code"].to_numpy()
        frames.append(
            pd.DataFrame(
                {
                    "delivery": delivery,
                    "business_date": dlv.config.day(day).isoformat(),
                    "redelivery_date": dlv.config.day(dlv.redelivery.redelivery_day).isoformat(),
                    "entity_code": locations.loc[stores, "entity_code"].to_numpy(),
                    "location_id": locations.loc[stores, "location_id"].to_numpy(),
                    "sku": [sku_of[b] for b in lines["barcode"]],
                    "receipt_number": lines["receipt_number"].to_numpy(),
                    "receipt_line_number": lines["receipt_line_number"].to_numpy(),
                    "transaction_type": lines["transaction_type"].to_numpy(),
                    "quantity": lines["quantity"].to_numpy(),
                    "unit_price": lines["unit_price"].to_numpy(),
                    "discount_amount": lines["discount_amount"].to_numpy(),
                    "tax_amount": lines["tax_amount"].to_numpy(),
                }
            )
        )
    pd.concat(frames, ignore_index=True).to_csv(
        dlv.truth_dir / "redelivered_lines.csv", index=False, lineterminator="\n"
    )
