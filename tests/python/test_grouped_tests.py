"""A grouped generic test (docs/decisions.md, "One test per model and kind") fails exactly when
one of the per-column tests it replaces fails, and its failing rows name what broke: both kinds
declared side by side on a small dbt project of seeds (the project's generic tests, dbt's
own), built with stored failures, a row breaking each assertion, then rows breaking none. And
a failed reference skips the models downstream as its own test did, on a project of two models:
dbt skips a model only when every parent of the failed test is upstream of it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import duckdb

from orchestration import check_descriptions, grouped_failures
from tests.python.conftest import build_small_project

PROJECT = """
name: grouped
version: "1.0"
profile: grouped
test-paths: [tests]
seeds:
  grouped:
    +column_types: {a: integer, b: varchar, c: integer}
"""
PROFILE = """
grouped:
  target: dev
  outputs:
    dev: {{type: duckdb, path: "{warehouse}", threads: 1}}
"""
# child's a refers to parent_a.id and parent_c.id (a column of two references: its failing rows
# name the parent too), b to parent_b.code, c (only where a > 1) to parent_a.id;
# a is below 3, b is not 'z' (nor a backslash's or ${...}'s strings, which a failing row names
# as written on Spark too), c is positive where a is given (null when c is: a failure)

RELATIONSHIPS = """
seeds:
  - name: child
    data_tests:
      - relationships_columns:
          name: relationships_child
          arguments:
            relationships:
              - {column: a, to: "ref('parent_a')", field: id}
              - {column: b, to: "ref('parent_b')", field: code}
              - {column: a, to: "ref('parent_c')", field: id}
      - relationships_columns:
          name: relationships_child_c
          arguments:
            relationships:
              - {column: c, to: "ref('parent_a')", field: id}
          config:
            where: a > 1
      - expressions_are_true:
          name: expressions_are_true_child
          arguments:
            expressions:
              - a is null or a < 3
              - expression: b is null or b not in ('z',  'a\\b', '${z}')
                description: No z.
              - c > 0 or a is null
      - expression_is_true:
          name: single_expression_a
          arguments: {expression: a is null or a < 3}
      - expression_is_true:
          name: single_expression_b
          arguments:
            expression: b is null or b not in ('z',  'a\\b', '${z}')
      - expression_is_true:
          name: single_expression_c
          arguments: {expression: c > 0 or a is null}
    columns:
      - name: a
        data_tests:
          - relationships: {arguments: {to: "ref('parent_a')", field: id}}
          - relationships: {arguments: {to: "ref('parent_c')", field: id}}
      - name: b
        data_tests:
          - relationships: {arguments: {to: "ref('parent_b')", field: code}}
      - name: c
        data_tests:
          - relationships:
              arguments: {to: "ref('parent_a')", field: id}
              config: {where: a > 1}
"""
PARENTS = {
    "parent_a.csv": "id\n1\n2\n2\n",
    "parent_b.csv": "code\nx\ny\n",
    "parent_c.csv": "id\n1\n2\n",
}
# a row breaking each reference and rule (a = 3, b = 'z' twice, c = 9 where a > 1), nulls not
# tested, c = 9 where a = 1 outside the test's where
# grouped test -> the column of its failing rows naming what broke
GROUPED = {
    "relationships_child": "orphan_column",
    "relationships_child_c": "orphan_column",
    "expressions_are_true_child": "failed_expression",
}
BROKEN = "a,b,c\n1,x,9\n2,z,1\n3,z,\n,,\n2,y,9\n"
CLEAN = "a,b,c\n1,x,9\n2,y,1\n2,,2\n,,\n"


def build(tmp_path: Path, child: str) -> tuple[dict[str, int], dict[str, list]]:
    """dbt build --store-failures of the small project: each test's failure count, and the
    grouped tests' stored failing rows' first column."""
    seeds = {f"seeds/{name}": rows for name, rows in {**PARENTS, "child.csv": child}.items()}
    warehouse = tmp_path / "grouped.duckdb"
    target = build_small_project(
        tmp_path / "project",
        warehouse,
        PROJECT,
        PROFILE,
        {"seeds/schema.yml": RELATIONSHIPS, **seeds},
        "--store-failures",
    )
    results = json.loads((target / "run_results.json").read_text())["results"]
    failures = {
        r["unique_id"].split(".")[2]: r["failures"]
        for r in results
        if r["unique_id"].startswith("test.")
    }
    assert all(r["status"] in ("success", "pass", "fail") for r in results), results
    stored = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for name, column in GROUPED.items():
            stored[name] = sorted(
                con.execute(f"select {column} from main_dbt_test__audit.{name}").fetchall()  # noqa: S608
            )
    # what a failed check says (orchestration/grouped_failures.py): the test's own SQL counted
    # by its naming column, the same as its stored rows
    compiled = grouped_failures.compiled_tests(target / "run_results.json")
    for test, sql in compiled.items():
        name = test.split(".")[2]
        if name in GROUPED:
            counted = grouped_failures.failing_counts(warehouse, sql, GROUPED[name])
            assert sorted(counted) == sorted(Counter(r[0] for r in stored[name]).items()), name
    return failures, stored


def singles(failures: dict[str, int], column: str, parent: str) -> int:
    """The failures of the column's own relationships test to that parent."""
    (count,) = [
        n
        for name, n in failures.items()
        if name.startswith(f"relationships_child_{column}_") and name.endswith(f"_{parent}_")
    ]
    return count


def test_grouped_relationships_fail_exactly_as_each_columns_relationships(
    tmp_path: Path,
) -> None:
    failures, stored = build(tmp_path, BROKEN)
    references = {("a", "parent_a"), ("b", "parent_b"), ("a", "parent_c")}
    assert {r: singles(failures, *r) for r in references} == {
        ("a", "parent_a"): 1,
        ("b", "parent_b"): 2,
        ("a", "parent_c"): 1,
    }
    assert singles(failures, "c", "parent_a") == 1
    assert failures["relationships_child"] == sum(singles(failures, *r) for r in references)
    assert failures["relationships_child_c"] == singles(failures, "c", "parent_a")
    # a column of one reference is named alone, one of two with its parent
    assert stored["relationships_child"] == [
        ("a -> parent_a",),
        ("a -> parent_c",),
        ("b",),
        ("b",),
    ]
    assert stored["relationships_child_c"] == [("c",)]
    failures, stored = build(tmp_path, CLEAN)
    assert failures and set(failures.values()) == {0}, failures
    assert set(map(len, stored.values())) == {0}


def test_grouped_expressions_fail_exactly_as_each_expression_is_true(tmp_path: Path) -> None:
    failures, stored = build(tmp_path, BROKEN)
    singles = [failures[f"single_expression_{c}"] for c in "abc"]
    assert singles == [1, 2, 1]  # c's rule is null on the row without c: it fails
    assert failures["expressions_are_true_child"] == sum(singles)
    # each rule named as written (white space as single spaces), as the check's sentence says it
    named = "b is null or b not in ('z', 'a\\b', '${z}')"
    assert stored["expressions_are_true_child"] == [
        ("a is null or a < 3",),
        (named,),
        (named,),
        ("c > 0 or a is null",),
    ]
    sentence = check_descriptions.SENTENCES["expressions_are_true"]
    assert sentence({"expressions": ["b is null or b not in ('z',  'a\\b', '${z}')"]}) == (
        f"`{named}` holds on every row."
    )


# What a failure skips (docs/decisions.md, "One test per model and kind"): model m reads c and
# joins p1 (p1 is upstream of m), d reads m; m.a refers to p1.id, m.b to p2.code (p2 is not
# upstream of m, nor of d)
SKIPS = {
    "models/m.sql": "select c.* from {{ ref('c') }} as c left join {{ ref('p1') }} as p1"
    " on c.a = p1.id",
    "models/d.sql": "select * from {{ ref('m') }}",
    "seeds/c.csv": "a,b\n1,x\n9,x\n",  # a = 9 has no parent in p1
    "seeds/p1.csv": "id\n1\n",
    "seeds/p2.csv": "code\nx\n",
}
AS_THE_RULE_SAYS = """
models:
  - name: m
    data_tests:
      - relationships_columns:
          name: relationships_m
          arguments:
            relationships: [{column: a, to: "ref('p1')", field: id}]
      - relationships_columns:
          name: relationships_m_to_p2
          arguments:
            relationships: [{column: b, to: "ref('p2')", field: code}]
"""
# the first grouping: both references in one test, whose parents (m, p1, p2) are not all
# upstream of d
ONE_GROUP = """
models:
  - name: m
    data_tests:
      - relationships_columns:
          name: relationships_m
          arguments:
            relationships:
              - {column: a, to: "ref('p1')", field: id}
              - {column: b, to: "ref('p2')", field: code}
"""


def statuses(tmp_path: Path, tests: str) -> dict[str, str]:
    """dbt build of the small project of SKIPS with these tests: each node's status."""
    files = {**SKIPS, "models/schema.yml": tests}
    target = build_small_project(
        tmp_path / "skips", tmp_path / "skips.duckdb", PROJECT, PROFILE, files
    )
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[2]: r["status"] for r in results}


def test_a_failed_reference_skips_the_models_downstream_as_its_own_test_did(
    tmp_path: Path,
) -> None:
    # dbt's relationships on m.a alone (parents m and p1) would skip d: so does m's test
    ruled = statuses(tmp_path, AS_THE_RULE_SAYS)
    assert (ruled["relationships_m"], ruled["relationships_m_to_p2"]) == ("fail", "pass")
    assert ruled["d"] == "skipped"
    # grouped with the reference to p2, which d does not read, the failure skips nothing
    grouped = statuses(tmp_path, ONE_GROUP)
    assert (grouped["relationships_m"], grouped["d"]) == ("fail", "success")
