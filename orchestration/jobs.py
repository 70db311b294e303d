"""Two jobs, so that partitioned ingestion and the unpartitioned dbt build run apart and never
write the warehouse at the same time: ingest (by business date), then transform."""

from __future__ import annotations

import dagster as dg

from orchestration.ingest import INGEST_ASSETS, LOAD_LOG_KEY

RAW_ASSETS = dg.AssetSelection.assets(*INGEST_ASSETS)

# One process per run, not one per step: every step that writes the warehouse is in one pool
# of one slot, so the steps run one after the other anyway, and the daemon's default
# (multiprocess) executor started a Python process per step that imported Dagster, dbt's
# manifest and the definitions again (docs/benchmarks.md, "A day through Dagster").
EXECUTOR = dg.in_process_executor

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=RAW_ASSETS,
    executor_def=EXECUTOR,
    description="Load the landing files of the selected business dates into raw.",
)

transform_job = dg.define_asset_job(
    "transform_job",
    executor_def=EXECUTOR,
    # every executable asset but ingestion's (landing files and raw.quarantine are external)
    selection=dg.AssetSelection.assets(LOAD_LOG_KEY)
    | (dg.AssetSelection.all() - dg.AssetSelection.key_prefixes(["raw"])),
    description="Log stray files, dbt build every model with its tests, then publish the public "
    "relations as a new version of the served copy (only when no blocking check failed).",
)
