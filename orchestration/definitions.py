"""The Concord code location: `defs`, its resources from the environment (docs/interfaces.md).
build_definitions() makes the same code location over other paths (tests, `orchestration.run`)."""

from __future__ import annotations

import warnings

from orchestration.startup import collector_paused

# The imports and the dbt assets they build are most of a process's start-up: without the
# cyclic garbage collector running through them (orchestration/startup.py).
with collector_paused():
    import dagster as dg

    from orchestration import resources
    from orchestration.automation import close_schedule, landing_sensor, transform_after_ingest
    from orchestration.dbt import DBT_RESOURCE, concord_dbt_assets
    from orchestration.exposures import exposure_specs
    from orchestration.freshness import with_freshness
    from orchestration.ingest import (
        INGEST_ASSETS,
        landing_specs,
        load_log,
        quarantine_spec,
        replaced_rows_spec,
    )
    from orchestration.jobs import ingest_job, transform_job
    from orchestration.publish import publishing_assets


def build_definitions(
    landing: resources.LandingZone | None = None,
    warehouse: resources.Warehouse | None = None,
    served_copy: resources.ServedCopy | None = None,
) -> dg.Definitions:
    """The code location; each resource not given comes from the environment as it is now.
    The raw tables and the KPI marts carry freshness policies (orchestration/freshness.py)."""
    defaults = resources.from_environment()
    # map_asset_specs is a preview API of the pinned Dagster 1.13; its warning would open every
    # `make run` and `make ui` with four lines that ask nothing of the user
    warnings.filterwarnings(
        "ignore", category=dg.PreviewWarning, message=r".*map_(resolved_)?asset_specs"
    )
    return dg.Definitions(
        assets=[
            *landing_specs(),
            *INGEST_ASSETS,
            load_log,
            quarantine_spec(),
            replaced_rows_spec(),
            concord_dbt_assets,
            *publishing_assets(),
            *exposure_specs(),
        ],
        jobs=[ingest_job, transform_job],
        sensors=[landing_sensor, transform_after_ingest],
        schedules=[close_schedule],
        resources={
            "dbt": DBT_RESOURCE,
            "landing": landing or defaults["landing"],
            "warehouse": warehouse or defaults["warehouse"],
            "served_copy": served_copy or defaults["served_copy"],
        },
    ).map_asset_specs(func=with_freshness)


with collector_paused():
    defs = build_definitions()
