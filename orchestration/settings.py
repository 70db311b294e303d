"""Where things are, from the environment (docs/interfaces.md), against the project root."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from ingestion.discover import LandingFile, discover
from ingestion.lake import LAKE_ENV, lake_dir_for

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WAREHOUSE_POOL = "concord_warehouse"  # one writer at a time per DuckDB file
# The first partition while the landing zone holds no loadable file (definitions loaded before
# the first delivery): every date since, so that the first files have partitions, whatever
# their dates, without a reload of the code location.
EMPTY_LANDING_PARTITIONS_START = date(2000, 1, 1)
# The listing of the landing zone an orchestration.run invocation took (listed_once), by dir.
_LISTED: dict[Path, list[LandingFile]] = {}


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
    dates = [f.business_date for f in landing_files(landing) if f.is_known and f.business_date]
    return min(dates, default=None)


def landing_files(landing: Path) -> list[LandingFile]:
    """The files of the landing zone: the listing taken by the enclosing listed_once for this
    dir, else a new one (ingestion.discover)."""
    listed = _LISTED.get(Path(landing).absolute())
    return listed if listed is not None else discover(landing)


@contextmanager
def listed_once(landing: Path) -> Iterator[list[LandingFile]]:
    """List the landing zone once (FileNotFoundError when it is missing) for the block: its
    readers in this process (partitions_start when the definitions load, the ingest steps and
    the stray-file log of runs executed in process: landing_files) answer from this listing,
    which the caller passes along to the others. One orchestration.run invocation, one listing
    (docs/decisions.md, "One listing of the landing zone per run")."""
    key = Path(landing).absolute()
    files = discover(landing)
    previous = _LISTED.get(key)
    _LISTED[key] = files
    try:
        yield files
    finally:
        if previous is None:
            del _LISTED[key]
        else:
            _LISTED[key] = previous
