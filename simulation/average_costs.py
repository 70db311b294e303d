"""Truth file average_cost_eod.csv: the reference ledger's moving-average cost of every entity
and SKU it holds an average for, at the end of each simulated day, at full precision (the value
of stock is units x this average, so a test can value any location's stock exactly)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from simulation.valuation import ValuationLedger

FILE_NAME = "average_cost_eod.csv"
COLUMNS = ["as_of_date", "entity_code", "sku", "average_cost"]


def append_average_costs(
    truth_dir: Path, ledger: ValuationLedger, today: date, first: bool
) -> None:
    """Write the day's averages: a new file on the run's first day, appended after it."""
    rows = [
        (today, entity, sku, position.average_cost)
        for (entity, sku), position in sorted(ledger.positions.items())
        if position.average_cost is not None
    ]
    path = truth_dir / FILE_NAME
    pd.DataFrame(rows, columns=COLUMNS).to_csv(
        path, mode="w" if first else "a", header=first, index=False, lineterminator="\n"
    )
