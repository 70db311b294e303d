"""A failed grouped check names what failed (orchestration/grouped_failures.py): a not-null
check its null columns, a relationships check its references' columns without a parent, a rules
check its false rules; also when dbt's failure ends its events. No world: a small dbt project
of three seeds built once, so each test's SQL is its generic test's as dbt compiles it now
(tests/dbt/generic), and dbt's events faked. The real build's path is tested in
test_service.py (a warning) and test_incremental.py (the test's own SQL, scoped)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.errors import DagsterExecutionInterruptedError

from orchestration import grouped_failures
from tests.python.conftest import build_small_project

# A small dbt project: table t (seed) and its grouped tests, compiled and run by dbt from
# tests/dbt/generic, so each test's SQL is the generic test's as it stands (t.a to p.id, t.c to
# q.code; the rules' text as written in the YAML, a quote in one)
PROJECT = """
name: named
version: "1.0"
profile: named
test-paths: [tests]
seeds:
  named:
    +column_types: {a: integer, b: integer, c: varchar, id: integer, code: varchar}
"""
PROFILE = """
named:
  target: dev
  outputs:
    dev: {{type: duckdb, path: "{warehouse}", threads: 1}}
"""
TESTS = """
seeds:
  - name: t
    data_tests:
      - not_null_columns: {name: not_null_t, arguments: {column_names: [a, b, c]}}
      - relationships_columns:
          name: relationships_t
          arguments:
            relationships:
              - {column: a, to: "ref('p')", field: id}
              - {column: c, to: "ref('q')", field: code}
      - expressions_are_true:
          name: expressions_are_true_t
          arguments: {expressions: ["a < 3", "c <> 'y'"]}
    columns:
      - name: a
        data_tests: [unique]
"""
# t: a null a makes the rule a < 3 null: it fails, as expression_is_true would
SEEDS = {
    "t.csv": "a,b,c\n1,,x\n,,y\n3,4,z\n",
    "p.csv": "id\n1\n",
    "q.csv": "code\nx\n",
}
GROUPED, REFERENCES, RULES, OTHER = (
    "not_null_t",
    "relationships_t",
    "expressions_are_true_t",
    "unique_t_a",
)
# each grouped test -> its check's description and metadata, on t
NAMED = {
    GROUPED: ("null: `b` (2 rows), `a` (1 row)", "null_columns", {"b": 2, "a": 1}),
    REFERENCES: ("without a parent: `c` (2 rows), `a` (1 row)", "orphan_columns", {"c": 2, "a": 1}),
    RULES: (
        "false or null: `a < 3` (2 rows), `c <> 'y'` (1 row)",
        "failed_expressions",
        {"a < 3": 2, "c <> 'y'": 1},
    ),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict, dict[str, str]]:
    """dbt build of the small project: its warehouse, run_results.json, manifest, and each
    test's unique id by name."""
    root = tmp_path_factory.mktemp("named")
    warehouse = root / "named.duckdb"
    seeds = {f"seeds/{name}": rows for name, rows in SEEDS.items()}
    target = build_small_project(
        root / "project", warehouse, PROJECT, PROFILE, {"seeds/schema.yml": TESTS, **seeds}
    )
    manifest = json.loads((target / "manifest.json").read_text())
    ids = {n["name"]: u for u, n in manifest["nodes"].items() if u.startswith("test.")}
    return warehouse, target / "run_results.json", manifest, ids


def result(unique_id: str, passed: bool) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=passed,
        asset_key="t",
        check_name=unique_id.split(".")[2],
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"unique_id": unique_id},
    )


def test_a_failed_grouped_check_comes_last_naming_what_failed_then_dbts_failure(
    project: tuple[Path, Path, dict, dict[str, str]],
) -> None:
    warehouse, run_results, manifest, ids = project

    def dbt_events() -> Iterator:
        for grouped in NAMED:
            yield result(ids[grouped], passed=False)
        yield result(ids[OTHER], passed=False)
        raise RuntimeError("dbt exited with status 1")

    seen = []
    with pytest.raises(RuntimeError, match="status 1"):
        for event in grouped_failures.name_what_failed(
            dbt_events(), manifest, run_results, warehouse
        ):
            seen.append(event)
    assert [e.check_name for e in seen] == [
        "unique_t_a",
        "not_null_t",
        "relationships_t",
        "expressions_are_true_t",
    ]
    assert seen[0].description is None
    for event, (description, key, counts) in zip(seen[1:], NAMED.values(), strict=True):
        assert not event.passed and event.description == description
        assert event.metadata[key].value == counts


def test_a_passed_grouped_check_and_an_unreadable_warehouse_keep_dbts_result(
    project: tuple[Path, Path, dict, dict[str, str]], tmp_path: Path
) -> None:
    warehouse, run_results, manifest, ids = project
    passed = list(
        grouped_failures.name_what_failed(
            iter([result(ids[GROUPED], passed=True)]), manifest, run_results, warehouse
        )
    )
    assert passed[0].passed and passed[0].description is None
    missing = tmp_path / "no" / "warehouse.duckdb"
    (failed,) = grouped_failures.name_what_failed(
        iter([result(ids[GROUPED], passed=False)]), manifest, run_results, missing
    )
    assert not failed.passed and failed.description is None


def test_an_interrupted_build_keeps_its_held_checks_as_dbt_reported_them(
    project: tuple[Path, Path, dict, dict[str, str]],
) -> None:
    warehouse, run_results, manifest, ids = project

    def interrupted() -> Iterator:
        yield result(ids[GROUPED], passed=False)
        raise DagsterExecutionInterruptedError

    seen = []
    with pytest.raises(DagsterExecutionInterruptedError):
        for event in grouped_failures.name_what_failed(
            interrupted(), manifest, run_results, warehouse
        ):
            seen.append(event)
    assert [(e.check_name, e.passed, e.description) for e in seen] == [("not_null_t", False, None)]


def test_a_locked_or_foreign_warehouse_keeps_dbts_result(
    project: tuple[Path, Path, dict, dict[str, str]],
) -> None:
    warehouse, run_results, manifest, ids = project
    spark = {**manifest, "metadata": {"adapter_type": "spark"}}
    (on_spark,) = grouped_failures.name_what_failed(
        iter([result(ids[GROUPED], passed=False)]), spark, run_results, warehouse
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
        (locked,) = grouped_failures.name_what_failed(
            iter([result(ids[GROUPED], passed=False)]), manifest, run_results, warehouse
        )
    finally:
        holder.kill()
        holder.wait()
    assert not locked.passed and locked.description is None
