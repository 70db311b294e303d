"""Benchmarks: commands that measure, print medians, and are quoted in docs/benchmarks.md."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def orchestrated_env(project: Path, scratch: Path) -> dict[str, str]:
    """The environment of a `python -m orchestration.run` over a scratch folder: its landing
    zone, warehouse and served copy there, and a Dagster home of its own (made here, with the
    project's dagster.yaml)."""
    home = scratch / "dagster_home"
    home.mkdir()
    shutil.copy(project / "orchestration" / "dagster.yaml", home)
    return os.environ | {
        "CONCORD_LANDING_DIR": str(scratch / "landing"),
        "CONCORD_WAREHOUSE": str(scratch / "warehouse.duckdb"),
        "CONCORD_SERVED_WAREHOUSE": str(scratch / "served.duckdb"),
        "DAGSTER_HOME": str(home),
        "PYTHONPATH": str(project),
    }
