"""A late file for a period finance has already closed (issue 18, period close; --late-events).

One POS sales file of a business date in the world's first calendar month is held back and
delivered on the 10th of the next month, the day finance would see it after closing the first
month on an earlier date. The sales happened on their business date: the operational truth
(net_sales.csv, cogs.csv, ...) is unchanged; truth/late_events.csv records the file, its business
date and its delivery date, so a test can close the month between them and check where the
warehouse posts the file's events. Which business date is drawn from a generator of its own, so
no other draw or defect placement moves. Off by default.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from simulation.config import WorldConfig

LATE_EXTRACT = "pos_sales"
# the late file arrives on this day of the month after its business date's month
DELIVERY_DAY_OF_MONTH = 10
RNG_STREAM = 18  # issue 18


@dataclass(frozen=True)
class LateFile:
    extract_name: str
    business_day: int
    delivery_day: int


def plan(config: WorldConfig) -> LateFile | None:
    """The late file of a world run with --late-events (None without the flag)."""
    if not config.late_events:
        return None
    start = config.start_date
    next_month = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    delivery = next_month.replace(day=DELIVERY_DAY_OF_MONTH)
    if delivery > config.end_date:
        raise ValueError(
            f"--late-events delivers a file of the first month on {delivery}: the world "
            f"({config.start_date} to {config.end_date}) must run at least to that day"
        )
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
