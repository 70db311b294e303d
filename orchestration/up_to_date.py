"""Is there anything to do? Decided before Dagster or dbt is imported, so that a run with nothing
new answers in seconds (docs/benchmarks.md, "Nothing new").

Nothing is new when, at once:
* the build's results (warehouse.run_results.json) are newer than every file of the dbt project
  (models, macros, seeds, dbt_project.yml): no model changed and no owner recorded an
  action in a seed since the last build;
* the served copy's current version is that build (same dbt invocation) and counted the same
  load log (files by status): every ingestion since was built and published;
* every landing file, loadable or stray, has the content (SHA-256) the load log last recorded
  for its path, as ingestion itself decides what it has seen (ingestion.load.pending_files: a
  file whose size, mtime, ctime and inode equal those recorded for its path is not read
  again, docs/decisions.md, "Unchanged landing files are not read again"; a path back to an
  earlier content is new, "A reverted content is a re-delivery").
Any doubt (a missing file, a warehouse another process is writing) means: run."""

from __future__ import annotations

import json
import time
from pathlib import Path

import duckdb

from ingestion.discover import LandingFile
from publishing import served
from publishing import settings as publishing_settings

PROJECT_INPUTS = ("models", "macros", "seeds", "dbt_project.yml")


def newest_input(project_root: Path) -> float:
    """The latest modification time of a file the dbt build reads from the project."""
    newest = 0.0
    for name in PROJECT_INPUTS:
        path = project_root / name
        paths = [path] if path.is_file() else (p for p in path.rglob("*") if p.is_file())
        for p in paths:
            newest = max(newest, p.stat().st_mtime)
    return newest


def nothing_new(
    landing: Path,
    warehouse: Path,
    served_path: Path,
    project_root: Path,
    files: list[LandingFile] | None = None,
) -> str | None:
    """One line saying there is nothing to do, or None when a run has work (or cannot tell).
    ``files``: the landing zone as the caller listed it (None: list it)."""
    started = time.perf_counter()
    results = publishing_settings.build_results_path(warehouse)
    if not (warehouse.is_file() and results.is_file() and served_path.exists()):
        return None
    if newest_input(project_root) > results.stat().st_mtime:
        return None
    invocation = json.loads(results.read_text()).get("metadata", {}).get("invocation_id")
    try:
        with served.connect(served_path) as con:
            publication = served.current_publication(con)
    except duckdb.Error:
        return None
    if not publication or publication["dbt_invocation_id"] != invocation:
        return None
    from ingestion.load import pending_files  # pandas: only once the cheap tests passed
    from ingestion.warehouse import WarehouseSchemaError

    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            logged = dict(
                con.execute("select status, count(*) from raw.load_log group by 1").fetchall()
            )
            if logged != json.loads(publication["files_by_status"] or "{}"):
                return None
            if pending_files(landing, con, files=files):
                return None
    except (duckdb.Error, WarehouseSchemaError):  # locked, no load log or an older one: the
        # run says what it is
        return None
    return (
        f"concord: nothing new: every landing file is in the load log "
        f"({sum(logged.values()):,} entries) and the served copy "
        f"{publication['version_name']} is their build (business dates "
        f"{publication['first_business_date']} to {publication['last_business_date']}); "
        f"nothing to do ({time.perf_counter() - started:.1f} s)"
    )
