"""A failed not_null_columns check names its null columns (orchestration/null_columns.py), also
when dbt's failure ends its events: no world, a warehouse of one table and dbt's events faked.
The real build's path is tested in test_service.py (a warning) and test_incremental.py (the
test's own SQL, scoped)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.errors import DagsterExecutionInterruptedError

from orchestration import null_columns

GROUPED = "test.concord.not_null_t.abc"
OTHER = "test.concord.unique_t_a.def"
# as tests/dbt/generic/not_null_columns.sql compiles for columns a, b and c of main.t
COMPILED = " union all ".join(
    f"select '{c}' as null_column from main.t where {c} is null" for c in "abc"
)
MANIFEST = {
    "metadata": {"adapter_type": "duckdb"},
    "nodes": {
        GROUPED: {"test_metadata": {"name": "not_null_columns"}},
        OTHER: {"test_metadata": {"name": "unique"}},
    },
}


def result(unique_id: str, passed: bool) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=passed,
        asset_key="t",
        check_name=unique_id.split(".")[2],
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"unique_id": unique_id},
    )


@pytest.fixture
def build(tmp_path: Path) -> tuple[Path, Path]:
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "create table t as select * "
            "from (values (1, null, 'x'), (null, null, 'y'), (3, 4, 'z')) as v (a, b, c)"
        )
    run_results = tmp_path / "run_results.json"
    run_results.write_text(
        json.dumps({"results": [{"unique_id": GROUPED, "compiled_code": COMPILED}]})
    )
    return warehouse, run_results


def test_a_failed_grouped_check_comes_last_naming_its_columns_then_dbts_failure(
    build: tuple[Path, Path],
) -> None:
    warehouse, run_results = build

    def dbt_events() -> Iterator:
        yield result(GROUPED, passed=False)
        yield result(OTHER, passed=False)
        raise RuntimeError("dbt exited with status 1")

    seen = []
    with pytest.raises(RuntimeError, match="status 1"):
        for event in null_columns.name_null_columns(dbt_events(), MANIFEST, run_results, warehouse):
            seen.append(event)
    assert [e.check_name for e in seen] == ["unique_t_a", "not_null_t"]
    named = seen[-1]
    assert named.description == "null: `b` (2 rows), `a` (1 row)"
    assert named.metadata["null_columns"].value == {"b": 2, "a": 1}
    assert seen[0].description is None


def test_a_passed_grouped_check_and_an_unreadable_warehouse_keep_dbts_result(
    build: tuple[Path, Path], tmp_path: Path
) -> None:
    warehouse, run_results = build
    passed = list(
        null_columns.name_null_columns(
            iter([result(GROUPED, passed=True)]), MANIFEST, run_results, warehouse
        )
    )
    assert passed[0].passed and passed[0].description is None
    missing = tmp_path / "no" / "warehouse.duckdb"
    (failed,) = null_columns.name_null_columns(
        iter([result(GROUPED, passed=False)]), MANIFEST, run_results, missing
    )
    assert not failed.passed and failed.description is None


def test_an_interrupted_build_keeps_its_held_checks_as_dbt_reported_them(
    build: tuple[Path, Path],
) -> None:
    warehouse, run_results = build

    def interrupted() -> Iterator:
        yield result(GROUPED, passed=False)
        raise DagsterExecutionInterruptedError

    seen = []
    with pytest.raises(DagsterExecutionInterruptedError):
        for event in null_columns.name_null_columns(
            interrupted(), MANIFEST, run_results, warehouse
        ):
            seen.append(event)
    assert [(e.check_name, e.passed, e.description) for e in seen] == [("not_null_t", False, None)]


def test_a_locked_or_foreign_warehouse_keeps_dbts_result(build: tuple[Path, Path]) -> None:
    warehouse, run_results = build
    spark = {**MANIFEST, "metadata": {"adapter_type": "spark"}}
    (on_spark,) = null_columns.name_null_columns(
        iter([result(GROUPED, passed=False)]), spark, run_results, warehouse
    )
    assert on_spark.description is None
    # a writer elsewhere holds the file (as dbt would): another process's lock
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            " time.sleep(60)",
            str(warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        (locked,) = null_columns.name_null_columns(
            iter([result(GROUPED, passed=False)]), MANIFEST, run_results, warehouse
        )
    finally:
        holder.kill()
        holder.wait()
    assert not locked.passed and locked.description is None
