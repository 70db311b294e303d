"""Where things are, from the environment (docs/interfaces.md), against the project root."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WAREHOUSE_POOL = "concord_warehouse"  # one writer at a time per DuckDB file


def _resolve(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else PROJECT_ROOT / path


def landing_dir() -> Path:
    return _resolve(os.environ.get("CONCORD_LANDING_DIR", "data/landing"))


def warehouse_path() -> Path:
    return _resolve(os.environ.get("CONCORD_WAREHOUSE", "data/warehouse.duckdb"))


def partitions_start() -> str:
    """First business date Dagster offers as a partition (YYYY-MM-DD)."""
    return os.environ.get("CONCORD_PARTITIONS_START", "2025-01-01")
