"""Dagster code location of Concord: ingestion assets, dbt assets, checks, sensors, schedules."""
