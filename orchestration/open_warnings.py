"""Tests that don't flicker (docs/decisions.md, "Tests that don't flicker"): a data test whose
last result did not pass (warn, fail or error) is run over the whole history by the next build,
scoped or not, until it passes. So a warning found on old rows stays a warning until the data
changes (the test then passes over every row and the check clears) or an owner acts; a build
that rewrote other rows cannot clear it by testing only those.

The memory is each test's last result (dbt's status), kept beside the build warehouse
(`warehouse.duckdb` -> `warehouse.test_results.json`) and updated after every orchestrated build
from its run_results.json; a test a build did not run keeps its last result. dbt reads the list
from CONCORD_TESTS_WHOLE_HISTORY (macros/incremental.sql, `tested_whole`), where "*" (the
daily close, `test_whole_history` in a run's config) means every test. A remembered test the
manifest no longer has (grouped into its model's test) hands its warning on to the tests now
covering it (`carry_over`)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

ENV = "CONCORD_TESTS_WHOLE_HISTORY"
NOT_PASSING = {"warn", "fail", "error"}
# Past this length the list is sent as "*" (every test over the whole history): an environment
# value must stay under the kernel's 128 KiB per-string limit.
MAX_LISTED = 100_000


def memory_path(warehouse: Path) -> Path:
    return warehouse.with_name(f"{warehouse.stem}.test_results.json")


def read_results(memory: Path) -> dict[str, str] | None:
    """unique_id -> the test's last status; None before the first build or if unreadable."""
    try:
        results = json.loads(memory.read_text())
    except (OSError, ValueError):
        return None
    return results if isinstance(results, dict) else None


def last_results(memory: Path) -> dict[str, str]:
    """read_results, empty when there are none (the build then tests as configured, and the
    memory starts again from its results)."""
    return read_results(memory) or {}


def not_passing(memory: Path) -> set[str]:
    """The tests whose last result was a warning, a failure or an error."""
    return failing(last_results(memory))


def failing(results: Mapping[str, str]) -> set[str]:
    """Of remembered results, the tests whose last one did not pass."""
    return {test for test, status in results.items() if status in NOT_PASSING}


def remember(memory: Path, run_results: Path) -> None:
    """Merge a build's test results into the memory (atomically). A test that did not run
    (skipped after an upstream failure) keeps its last result: only a pass clears a warning."""
    if not run_results.is_file():
        return
    results = json.loads(run_results.read_text()).get("results", [])
    merged = last_results(memory) | {
        r["unique_id"]: r["status"]
        for r in results
        if r["unique_id"].startswith("test.") and r["status"] != "skipped"
    }
    _write(memory, merged)


def _write(memory: Path, results: Mapping[str, str]) -> None:
    partial = memory.with_name(memory.name + ".partial")
    partial.write_text(json.dumps(results, indent=0, sort_keys=True))
    os.replace(partial, memory)


# A test kind of one column or rule -> the grouped kind that replaced it (docs/decisions.md, "One
# not-null test per model", "One test per model and kind").
REPLACED_BY = {
    "not_null": "not_null_columns",
    "relationships": "relationships_columns",
    "expression_is_true": "expressions_are_true",
}
# A grouped kind -> the start of its tests' names in the YAML: `<prefix>_<model>`, a second test
# of the model with a suffix (`_warn`, `_to_<parent>`, a column).
GROUPED_NAME = {
    "not_null_columns": "not_null",
    "relationships_columns": "relationships",
    "expressions_are_true": "expressions_are_true",
}


def test_name(unique_id: str) -> str:
    """The name in dbt's id of a test, `test.<package>.<name>.<hash>`: its name in the YAML,
    else for a generic test its full generated name `<kind>_<model>_<arguments>` however long
    (dbt shortens a name of 64 characters or more to 30 and an md5 only in the test's alias and
    file name, not in its id). The hash is of the name and arguments: an edited argument changes
    it, not the name. Empty for an id without a hash (a singular test's)."""
    parts = unique_id.split(".", 2)
    return parts[2].rsplit(".", 1)[0] if len(parts) == 3 and "." in parts[2] else ""


def _models(manifest: Mapping[str, Any]) -> dict[str, tuple[str, set[str]]]:
    """unique_id -> (name, its columns known to the manifest) of each node a test is on."""
    return {
        unique_id: (node.get("name") or unique_id.split(".")[2], set(node.get("columns") or {}))
        for unique_id, node in manifest.get("nodes", {}).items()
        if node.get("resource_type") in {"model", "seed", "snapshot"}
    }


def model_of(unique_id: str, prefix: str, manifest: Mapping[str, Any]) -> str | None:
    """The node an old test whose name starts with `prefix` (a kind's, `REPLACED_BY`, or a
    grouped kind's, `GROUPED_NAME`) was on: the manifest's own record when it still has the
    test (disabled), else read from its name: the model whose name it is, `<prefix>_<model>`
    (a grouped test), else `<prefix>_<model>_<column or arguments>`: of the models whose name
    follows `<prefix>_` and is followed by `_`, the longest one followed by one of its columns,
    else the longest (`dim_product_price` before `dim_product`; a test of dim_product's
    `price_band` is dim_product's when dim_product_price has no column `band`). One node, or
    None."""
    for node in (manifest.get("disabled") or {}).get(unique_id) or []:
        if node.get("attached_node"):
            return node["attached_node"]
    name = test_name(unique_id)
    found: list[tuple[bool, int, str]] = []
    for model, (model_name, columns) in _models(manifest).items():
        if name == f"{prefix}_{model_name}":
            return model
        start = f"{prefix}_{model_name}_"
        if name.startswith(start):
            rest = name[len(start) :]
            on_column = any(rest == c or rest.startswith(f"{c}_") for c in columns)
            found.append((on_column, len(model_name), model))
    return max(found)[2] if found else None


def covering(manifest: Mapping[str, Any]) -> dict[tuple[str, str], set[str]]:
    """(grouped kind, the node it is on) -> its tests: the tests covering what an old test of
    that node and of the kind it replaced tested."""
    found: dict[tuple[str, str], set[str]] = {}
    for test, node in manifest.get("nodes", {}).items():
        kind = (node.get("test_metadata") or {}).get("name")
        if kind in REPLACED_BY.values() and node.get("attached_node"):
            found.setdefault((kind, node["attached_node"]), set()).add(test)
    return found


def _hand(kept: dict[str, str], test: str, status: str) -> None:
    """Give a test a result from a test it replaces, unless it has one that did not pass."""
    if kept.get(test) not in NOT_PASSING and (status in NOT_PASSING or test not in kept):
        kept[test] = status


def carry_over(memory: Path, manifest: Mapping[str, Any]) -> None:
    """Bring the memory to the manifest's tests, before a build reads it. A remembered test the
    manifest no longer has is
    * an edited test (its arguments changed, so its id's hash, not its name: `test_name`) when
      the manifest has one test of its name: its result moves to that id (`_hand`: a result
      of the id's own stays unless this one did not pass and it did; a build that ran while
      the project changed has remembered the new id's pass on the rows it rewrote); one that
      did not pass goes to the new id's model's other tests of its grouped kind too (`covering`:
      the edit may have split the group, a reference given `severity: warn` moving to
      `relationships_<model>_warn`, and which one warned is not known);
    * else a column's test since grouped into its model's (`REPLACED_BY`), or a grouped test
      renamed (`GROUPED_NAME`: all its references moved to `relationships_<model>_warn`), the
      model by `model_of`: a result that did not pass goes to the model's grouped tests of its
      kind, unless theirs did not pass either, so the warning it had on older rows is tested
      over every row by the next build (not scoped away until the daily close);
    and then forgotten, as is every remembered test that matches nothing (else it would stay
    not passing, and be sent to dbt, forever). Nothing changes when every remembered test is in
    the manifest, or the manifest has no test (not read)."""
    results = last_results(memory)
    tests = {u for u in manifest.get("nodes", {}) if u.startswith("test.")}
    gone = sorted(u for u in results if u not in tests)
    if not gone or not tests:
        return
    kept = {u: status for u, status in results.items() if u in tests}
    named: dict[str, list[str]] = {}
    for test in sorted(tests):
        named.setdefault(test_name(test), []).append(test)
    by_model = covering(manifest)
    group = {test: grouped for grouped in by_model.values() for test in grouped}
    named_as = REPLACED_BY | {prefix: kind for kind, prefix in GROUPED_NAME.items()}
    for unique_id in gone:
        name = test_name(unique_id)
        edited = named.get(name, []) if name else []
        if len(edited) == 1:
            split = group.get(edited[0], set()) if results[unique_id] in NOT_PASSING else set()
            for test in {edited[0], *split}:
                _hand(kept, test, results[unique_id])
            continue
        if results[unique_id] not in NOT_PASSING:
            continue
        for prefix, grouped in named_as.items():
            model = model_of(unique_id, prefix, manifest) if name.startswith(f"{prefix}_") else None
            for test in by_model.get((grouped, model or ""), ()):
                _hand(kept, test, results[unique_id])
    _write(memory, kept)


EVERY_TEST = "*"


@contextlib.contextmanager
def tested_whole(tests: set[str]) -> Iterator[None]:
    """Within the block, a dbt process started from this process tests these (unique ids, or
    EVERY_TEST) over every row."""
    listed = ",".join(sorted(tests))
    previous = os.environ.get(ENV)
    os.environ[ENV] = EVERY_TEST if EVERY_TEST in tests or len(listed) > MAX_LISTED else listed
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = previous


WHY = (
    "whole history: the last result of this test did not pass, so it is tested over every row "
    "until it passes (a build's scoped pass cannot clear a warning on older rows)"
)
