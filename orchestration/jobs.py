"""Two jobs, so that partitioned ingestion and the unpartitioned dbt build run apart and never
write the warehouse at the same time: ingest (by business date), then transform."""

from __future__ import annotations

import dagster as dg

from orchestration.ingest import INGEST_ASSETS, LOAD_LOG_KEY

RAW_ASSETS = dg.AssetSelection.assets(*INGEST_ASSETS)

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=RAW_ASSETS,
    description="Load the landing files of the selected business dates into raw.",
)

transform_job = dg.define_asset_job(
    "transform_job",
    # every executable asset but ingestion's (landing files and raw.quarantine are external)
    selection=dg.AssetSelection.assets(LOAD_LOG_KEY)
    | (dg.AssetSelection.all() - dg.AssetSelection.key_prefixes(["raw"])),
    description="Log stray files, dbt build every model with its tests, then publish the public "
    "relations as a new version of the served copy (only when no blocking check failed).",
)
