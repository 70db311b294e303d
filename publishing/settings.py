"""Where the served copy and the build's artefacts are, from the environment (README)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_KEEP = 5


def _resolve(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else PROJECT_ROOT / path


def build_warehouse_path() -> Path:
    """The private build warehouse that ingestion and dbt write."""
    return _resolve(os.environ.get("CONCORD_WAREHOUSE", "data/warehouse.duckdb"))


def served_path() -> Path:
    """The stable path readers open (a symbolic link to the current version's file)."""
    return _resolve(os.environ.get("CONCORD_SERVED_WAREHOUSE", "data/served.duckdb"))


def versions_dir(served: Path | None = None) -> Path:
    """The immutable version files, beside the served path: `served.duckdb` ->
    `served.versions/v000012.duckdb`."""
    served = served or served_path()
    return served.parent / f"{served.stem}.versions"


def keep_versions() -> int:
    """How many versions retention keeps (`CONCORD_SERVED_KEEP`, at least 1)."""
    value = os.environ.get("CONCORD_SERVED_KEEP", str(DEFAULT_KEEP))
    try:
        keep = int(value)
    except ValueError as error:
        raise ValueError(f"CONCORD_SERVED_KEEP must be a whole number, got {value!r}") from error
    if keep < 1:
        raise ValueError(f"CONCORD_SERVED_KEEP must be at least 1, got {keep}")
    return keep


def build_results_path(warehouse: Path | None = None) -> Path:
    """Where the orchestrated dbt build leaves its run_results.json for the gate: beside the
    build warehouse (`warehouse.duckdb` -> `warehouse.run_results.json`)."""
    warehouse = warehouse or build_warehouse_path()
    return warehouse.with_name(f"{warehouse.stem}.run_results.json")


def manifest_path() -> Path:
    return PROJECT_ROOT / "target" / "manifest.json"


def postgres_dsn() -> str | None:
    """`CONCORD_PG_DSN` (a libpq connection string); unset means no PostgreSQL publishing."""
    return os.environ.get("CONCORD_PG_DSN") or None
