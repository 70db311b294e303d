"""The Concord code location."""

from __future__ import annotations

import dagster as dg

from orchestration.automation import close_schedule, landing_sensor, transform_after_ingest
from orchestration.dbt import DBT_RESOURCE, concord_dbt_assets
from orchestration.exposures import exposure_specs
from orchestration.ingest import INGEST_ASSETS, landing_specs, load_log
from orchestration.jobs import ingest_job, transform_job
from orchestration.publish import publishing_assets

defs = dg.Definitions(
    assets=[
        *landing_specs(),
        *INGEST_ASSETS,
        load_log,
        concord_dbt_assets,
        *publishing_assets(),
        *exposure_specs(),
    ],
    jobs=[ingest_job, transform_job],
    sensors=[landing_sensor, transform_after_ingest],
    schedules=[close_schedule],
    resources={"dbt": DBT_RESOURCE},
)
