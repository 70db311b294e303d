"""A Dagster process's start-up (docs/decisions.md, "A run's start-up"): loading the code location
runs without the cyclic garbage collector and freezes what it loaded, parses the dbt manifest
once, and leaves the collector running for the run; the extract contract is parsed by libyaml."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ingestion import contract
from orchestration import run
from orchestration.startup import collector_paused

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Loads the code location as the daemon's code server and every run it launches do, counting the
# reads of the dbt manifest (target/manifest.json, 4 MB) by either of pathlib's readers.
LOAD_AND_REPORT = """
import gc, json, pathlib
reads = []
def counted(read):
    def read_counted(path, *args, **kwargs):
        if path.name == "manifest.json":
            reads.append(str(path))
        return read(path, *args, **kwargs)
    return read_counted
pathlib.Path.read_text = counted(pathlib.Path.read_text)
pathlib.Path.read_bytes = counted(pathlib.Path.read_bytes)
import orchestration.definitions
print(json.dumps({
    "enabled": gc.isenabled(),
    "frozen": gc.get_freeze_count(),
    "tracked": len(gc.get_objects()),
    "manifest_reads": len(reads),
}))
"""


def test_loading_the_code_location_freezes_it_and_parses_the_manifest_once() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LOAD_AND_REPORT],
        cwd=PROJECT_ROOT,
        env=os.environ | {"PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["enabled"], "the collector must run again once the code location is loaded"
    # what the start-up loaded is out of later collections: far more than is left to collect
    assert state["frozen"] > 10 * state["tracked"], state
    assert state["manifest_reads"] == 1, state


def test_the_collector_pauses_in_the_block_and_the_outermost_block_decides() -> None:
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    with collector_paused():
        assert not gc.isenabled()
        loaded = [[] for _ in range(1000)]
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled(), "an inner block must not resume the collector"
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen + len(loaded)

    gc.disable()
    try:
        frozen = gc.get_freeze_count()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled(), "a collector the caller had turned off stays off"
        assert gc.get_freeze_count() == frozen
    finally:
        gc.enable()


def test_a_run_that_cannot_start_leaves_the_collector_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run stopped inside the paused start-up (no salt: the definitions refuse to load)
    ends with the collector running again, and what the block held frozen."""
    landing = tmp_path / "landing" / "pos" / "2026-01-06"
    landing.mkdir(parents=True)
    (landing / "pos_sales_20260105.csv").write_text("x\n")
    monkeypatch.setenv("CONCORD_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("CONCORD_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.delenv("CONCORD_PII_SALT", raising=False)
    paused = []
    real = run.collector_paused

    def watched():  # noqa: ANN202
        paused.append(True)
        return real()

    monkeypatch.setattr(run, "collector_paused", watched)
    frozen = gc.get_freeze_count()
    assert run.main() == 2
    assert paused, "the run stopped before its paused start-up: this test proves nothing"
    assert gc.isenabled()
    assert gc.get_freeze_count() > frozen


def test_an_error_inside_the_block_resumes_the_collector() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("stopped")
    assert gc.isenabled()


def test_the_extract_contract_is_parsed_by_libyaml_as_by_the_python_parser() -> None:
    assert yaml.__with_libyaml__, "PyYAML without libyaml (the pinned wheels have it)"
    assert contract.SAFE_LOADER is yaml.CSafeLoader
    sources = sorted(contract.STAGING_DIR.glob("*/_*__sources.yml"))
    assert sources
    for path in sources:
        text = path.read_text()
        assert yaml.load(text, Loader=contract.SAFE_LOADER) == yaml.safe_load(text), path
