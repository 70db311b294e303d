"""Where things are, from the environment (docs/interfaces.md), against the project root."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from ingestion.discover import discover
from ingestion.lake import LAKE_ENV, lake_dir_for

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WAREHOUSE_POOL = "concord_warehouse"  # one writer at a time per DuckDB file
# The first partition while the landing zone holds no loadable file (definitions loaded before
# the first delivery): every date since, so that the first files have partitions, whatever
# their dates, without a reload of the code location.
EMPTY_LANDING_PARTITIONS_START = date(2000, 1, 1)


def _resolve(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else PROJECT_ROOT / path


def landing_dir() -> Path:
    return _resolve(os.environ.get("CONCORD_LANDING_DIR", "data/landing"))


def warehouse_path() -> Path:
    return _resolve(os.environ.get("CONCORD_WAREHOUSE", "data/warehouse.duckdb"))


def lake_dir() -> Path:
    """CONCORD_LAKE_DIR (against the project root), else lake/ beside the warehouse."""
    configured = os.environ.get(LAKE_ENV)
    return _resolve(configured) if configured else lake_dir_for(warehouse_path())


def partitions_start() -> str:
    """First business date Dagster offers as a partition (YYYY-MM-DD): CONCORD_PARTITIONS_START
    when set, else the earliest business date of a file ingestion would load from the landing
    zone (docs/decisions.md, "History of any length"), else EMPTY_LANDING_PARTITIONS_START."""
    configured = os.environ.get("CONCORD_PARTITIONS_START")
    if configured:
        try:
            return date.fromisoformat(configured).isoformat()
        except ValueError:
            raise ValueError(
                f"CONCORD_PARTITIONS_START={configured!r} is not a date (YYYY-MM-DD)"
            ) from None
    earliest = earliest_business_date(landing_dir())
    return (earliest or EMPTY_LANDING_PARTITIONS_START).isoformat()


def earliest_business_date(landing: Path) -> date | None:
    """The earliest business date of a known file that ingestion would not refuse, or None."""
    if not landing.is_dir():
        return None
    dates = [f.business_date for f in discover(landing) if f.is_known and f.business_date]
    return min(dates, default=None)
