"""Where the pipeline reads and writes, as Dagster resources: the paths show in the UI
(Deployment > Definitions > Resources) and tests pass their own instead of patching the
environment. Each defaults from its documented environment variable (docs/interfaces.md),
resolved against the project root, when the definitions load."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
from pydantic import Field

from ingestion.lake import DEFAULT_LAKE_NAME
from orchestration import settings
from publishing import settings as publishing_settings


class LandingZone(dg.ConfigurableResource):
    """The landing zone the source systems deliver to (CONCORD_LANDING_DIR):
    <path>/<system>/<delivery date>/<file>."""

    path: str = Field(description="Absolute path of the landing zone (CONCORD_LANDING_DIR).")

    @property
    def root(self) -> Path:
        return Path(self.path)


class Warehouse(dg.ConfigurableResource):
    """The private build warehouse that ingestion and dbt write (CONCORD_WAREHOUSE)."""

    path: str = Field(
        description="Absolute path of the DuckDB build warehouse (CONCORD_WAREHOUSE)."
    )
    lake: str = Field(
        default="",
        description="Absolute path of the Parquet lake ingestion mirrors the raw tables to "
        "(CONCORD_LAKE_DIR); empty: lake/ beside the warehouse file.",
    )

    @property
    def file(self) -> Path:
        return Path(self.path)

    @property
    def lake_dir(self) -> Path:
        return Path(self.lake) if self.lake else self.file.parent / DEFAULT_LAKE_NAME

    @contextlib.contextmanager
    def for_dbt(self) -> Iterator[None]:
        """Within the block, a dbt process started from this process writes this warehouse: the
        dbt profile reads its path from CONCORD_WAREHOUSE (profiles/profiles.yml), which
        dagster-dbt copies into the dbt process's environment when it starts it."""
        previous = os.environ.get("CONCORD_WAREHOUSE")
        os.environ["CONCORD_WAREHOUSE"] = self.path
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop("CONCORD_WAREHOUSE", None)
            else:
                os.environ["CONCORD_WAREHOUSE"] = previous


class ServedCopy(dg.ConfigurableResource):
    """The published copy readers open (CONCORD_SERVED_WAREHOUSE), its versions beside it, and
    how many versions retention keeps (CONCORD_SERVED_KEEP)."""

    path: str = Field(description="Absolute path readers open (CONCORD_SERVED_WAREHOUSE).")
    keep_versions: int = Field(
        default=publishing_settings.DEFAULT_KEEP,
        description="Versions retention keeps (CONCORD_SERVED_KEEP, at least 1).",
    )

    @property
    def file(self) -> Path:
        return Path(self.path)


def from_environment() -> dict[str, dg.ConfigurableResource]:
    """The resources as the environment sets them now (the defaults of docs/interfaces.md)."""
    return {
        "landing": LandingZone(path=str(settings.landing_dir())),
        "warehouse": Warehouse(path=str(settings.warehouse_path()), lake=str(settings.lake_dir())),
        "served_copy": ServedCopy(
            path=str(publishing_settings.served_path()),
            keep_versions=publishing_settings.keep_versions(),
        ),
    }
