"""What failed, on a failed grouped check. A grouped generic test (docs/decisions.md, "One
not-null test per model", "One test per model and kind") checks several columns, references or
rules of a model in one node, and its failing rows name which in their first column: a null
column (`null_column`), a reference's column without a parent (`orphan_column`), a rule that is
false or null (`failed_expression`). dbt and dagster-dbt report only how many rows failed, and
production builds do not store failures. So a check of such a test that did not pass is held
until dbt has finished and released the warehouse, then its own SQL (as dbt compiled and ran it,
scoped alike) is counted by that column, and the check says it: "null: `sku` (3 rows)"."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster._core.errors import DagsterExecutionInterruptedError


@dataclass(frozen=True)
class Named:
    """How a grouped test's failing rows name what failed, and how the check says it."""

    column: str  # the failing rows' column naming it (the test's SQL, tests/dbt/generic)
    said: str  # the check's description: "<said>: `x` (3 rows), ..."
    metadata: str  # the check's metadata key: {x: rows}


# Generic test name -> how its failing rows name what failed.
GROUPED_TESTS: dict[str, Named] = {
    "not_null_columns": Named("null_column", "null", "null_columns"),
    "relationships_columns": Named("orphan_column", "without a parent", "orphan_columns"),
    "expressions_are_true": Named("failed_expression", "false or null", "failed_expressions"),
}


def _unique_id(event: dg.AssetCheckResult) -> str | None:
    value = event.metadata.get("unique_id")
    return getattr(value, "value", value)


def grouped_test(manifest: Mapping[str, Any], unique_id: str | None) -> Named | None:
    """How the test's rows name what failed, when it is a grouped test."""
    node = manifest.get("nodes", {}).get(unique_id or "") or {}
    return GROUPED_TESTS.get((node.get("test_metadata") or {}).get("name"))


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


def failing_counts(warehouse: Path, test_sql: str, column: str) -> list[tuple[str, int]]:
    """(what failed, its failing rows) of a grouped test's failing rows counted by their
    naming column, most first. Empty when the warehouse cannot be read: the check then keeps
    dbt's count alone."""
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.execute(
                f"select {column}, count(*) as failing_rows "  # noqa: S608 (dbt's own SQL)
                f"from ({test_sql}) as failing group by {column} order by 2 desc, 1"
            ).fetchall()
    except duckdb.Error:
        return []


def said(named: Named, counts: list[tuple[str, int]]) -> str:
    """`null: `sku` (3 rows), `entity_code` (1 row)`."""
    return f"{named.said}: " + ", ".join(
        f"`{failed}` ({rows} row{'s' if rows != 1 else ''})" for failed, rows in counts
    )


def name_what_failed(
    events: Iterator, manifest: Mapping[str, Any], run_results: Path, warehouse: Path
) -> Iterator:
    """Pass dbt's events through; a grouped test's check that did not pass comes after the
    others, with what failed in its description and metadata. A failed build (dbt's exit
    status, raised at the end of its events) is raised after them."""
    held = []
    failure = None
    try:
        for event in events:
            if (
                isinstance(event, dg.AssetCheckResult)
                and not event.passed
                and grouped_test(manifest, _unique_id(event))
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
        yield named(event, grouped_test(manifest, _unique_id(event)), compiled, warehouse)
    if failure is not None:
        raise failure


def named(
    event: dg.AssetCheckResult, how: Named, compiled: Mapping[str, str], warehouse: Path
) -> Any:
    """The check with what failed said, or as dbt reported it when that cannot be read (its
    SQL unknown, the warehouse locked or not DuckDB's, any error of this naming)."""
    sql = compiled.get(_unique_id(event) or "")
    try:
        counts = failing_counts(warehouse, sql, how.column) if sql else []
    except Exception:  # noqa: BLE001 (naming is a courtesy: never lose or fail the check)
        counts = []
    if not counts:
        return event
    return event._replace(
        description=said(how, counts),
        metadata={**event.metadata, how.metadata: dg.MetadataValue.json(dict(counts))},
    )
