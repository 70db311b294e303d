"""Tests that don't flicker (docs/decisions.md, "Tests that don't flicker"): a data test whose
last result did not pass (warn, fail or error) is run over the whole history by the next build,
scoped or not, until it passes. So a warning found on old rows stays a warning until the data
changes (the test then passes over every row and the check clears) or an owner acts; a build
that rewrote other rows cannot clear it by testing only those.

The memory is each test's last result (dbt's status), kept beside the build warehouse
(`warehouse.duckdb` -> `warehouse.test_results.json`) and updated after every orchestrated build
from its run_results.json; a test a build did not run keeps its last result. dbt reads the list
from CONCORD_TESTS_WHOLE_HISTORY (macros/incremental.sql, `tested_whole`), where "*" (the
daily close, `test_whole_history` in a run's config) means every test."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

ENV = "CONCORD_TESTS_WHOLE_HISTORY"
NOT_PASSING = {"warn", "fail", "error"}
# Past this length the list is sent as "*" (every test over the whole history): an environment
# value must stay under the kernel's 128 KiB per-string limit.
MAX_LISTED = 100_000


def memory_path(warehouse: Path) -> Path:
    return warehouse.with_name(f"{warehouse.stem}.test_results.json")


def last_results(memory: Path) -> dict[str, str]:
    """unique_id -> the test's last status; empty before the first build (or if unreadable:
    the build then tests as configured, and the memory starts again from its results)."""
    try:
        return json.loads(memory.read_text())
    except (OSError, ValueError):
        return {}


def not_passing(memory: Path) -> set[str]:
    """The tests whose last result was a warning, a failure or an error."""
    return {test for test, status in last_results(memory).items() if status in NOT_PASSING}


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
    partial = memory.with_name(memory.name + ".partial")
    partial.write_text(json.dumps(merged, indent=0, sort_keys=True))
    os.replace(partial, memory)


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
