"""Which columns are null, on a failed not-null check. A model's required columns are tested by
one not_null_columns test (tests/dbt/generic/not_null_columns.sql; docs/decisions.md, "One
not-null test per model"), whose failing rows name their column (`null_column`); dbt and
dagster-dbt report only how many rows failed. So a check of that test that did not pass is held
until dbt has finished and released the warehouse, then its own SQL (as dbt compiled and ran it,
scoped alike) is counted by column, and the check says it: "null: `sku` (3 rows)"."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster._core.errors import DagsterExecutionInterruptedError

GROUPED_TEST = "not_null_columns"


def _unique_id(event: dg.AssetCheckResult) -> str | None:
    value = event.metadata.get("unique_id")
    return getattr(value, "value", value)


def is_grouped_not_null(manifest: Mapping[str, Any], unique_id: str | None) -> bool:
    node = manifest.get("nodes", {}).get(unique_id or "") or {}
    return (node.get("test_metadata") or {}).get("name") == GROUPED_TEST


def compiled_tests(run_results: Path) -> dict[str, str]:
    """unique_id -> the SQL dbt ran, from a build's run_results.json (empty if unreadable)."""
    try:
        results = json.loads(run_results.read_text()).get("results") or []
    except (OSError, ValueError):
        return {}
    return {
        r["unique_id"]: r["compiled_code"]
        for r in results
        if r.get("unique_id") and r.get("compiled_code")
    }


def null_counts(warehouse: Path, test_sql: str) -> list[tuple[str, int]]:
    """(column, rows where it is null) of a not_null_columns test's failing rows, most first.
    Empty when the warehouse cannot be read: the check then keeps dbt's count alone."""
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.execute(
                "select null_column, count(*) as null_rows "  # noqa: S608 (dbt's own SQL)
                f"from ({test_sql}) as failing group by null_column order by 2 desc, 1"
            ).fetchall()
    except duckdb.Error:
        return []


def said(counts: list[tuple[str, int]]) -> str:
    """`null: `sku` (3 rows), `entity_code` (1 row)`."""
    return "null: " + ", ".join(
        f"`{column}` ({rows} row{'s' if rows != 1 else ''})" for column, rows in counts
    )


def name_null_columns(
    events: Iterator, manifest: Mapping[str, Any], run_results: Path, warehouse: Path
) -> Iterator:
    """Pass dbt's events through; a not_null_columns check that did not pass comes after the
    others, with its null columns in its description and metadata. A failed build (dbt's exit
    status, raised at the end of its events) is raised after them."""
    held = []
    failure = None
    try:
        for event in events:
            if (
                isinstance(event, dg.AssetCheckResult)
                and not event.passed
                and is_grouped_not_null(manifest, _unique_id(event))
            ):
                held.append(event)
                continue
            yield event
    except DagsterExecutionInterruptedError:
        yield from held  # as dbt reported them: no query on a warehouse dbt may still hold
        raise
    except Exception as error:  # noqa: BLE001 (re-raised below, after the held checks)
        failure = error
    on_duckdb = (manifest.get("metadata") or {}).get("adapter_type") == "duckdb"
    compiled = compiled_tests(run_results) if held and on_duckdb else {}
    for event in held:
        yield named(event, compiled, warehouse)
    if failure is not None:
        raise failure


def named(event: dg.AssetCheckResult, compiled: Mapping[str, str], warehouse: Path) -> Any:
    """The check with its null columns said, or as dbt reported it when they cannot be read
    (its SQL unknown, the warehouse locked or not DuckDB's, any error of this naming)."""
    sql = compiled.get(_unique_id(event) or "")
    try:
        counts = null_counts(warehouse, sql) if sql else []
    except Exception:  # noqa: BLE001 (naming is a courtesy: never lose or fail the check)
        counts = []
    if not counts:
        return event
    return event._replace(
        description=said(counts),
        metadata={**event.metadata, "null_columns": dg.MetadataValue.json(dict(counts))},
    )
