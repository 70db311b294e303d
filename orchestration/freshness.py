"""Freshness policies, shown in the UI on each asset (its Freshness status) and evaluated by the
daemon of `make serve`: the raw tables of every source system (what was delivered) and the KPI
marts (what readers get). They say whether the data is late, which no run of the pipeline can
answer for itself (docs/decisions.md, "Freshness").

The expected rhythm is the contract's: every source system delivers once a day, and each load
is followed by a build and a publication (the daily close at 06:00 UTC rebuilds regardless).
So a raw table or a KPI mart last updated more than 26 hours ago (a day and two hours' slack)
warns: a day's delivery or build is missing; more than 50 hours (two days) fails."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

KPI_GROUP = "kpi"
RAW_PREFIX = "raw"
WARN_AFTER = timedelta(hours=26)
FAIL_AFTER = timedelta(hours=50)
POLICY = dg.FreshnessPolicy.time_window(fail_window=FAIL_AFTER, warn_window=WARN_AFTER)


def is_watched(spec: dg.AssetSpec) -> bool:
    """The raw tables (ingestion's assets, keys raw/<extract>, not the load log, quarantine or
    replaced rows, which every ingestion writes) and the KPI marts."""
    key = spec.key.path
    if key[0] == RAW_PREFIX:
        return any(kind == "duckdb" for kind in spec.kinds) and key[-1] not in {
            "load_log",
            "quarantine",
            "replaced_rows",
        }
    return spec.group_name == KPI_GROUP


def with_freshness(spec: dg.AssetSpec) -> dg.AssetSpec:
    return dg.apply_freshness_policy(spec, POLICY) if is_watched(spec) else spec
