"""python -m orchestration.run: the whole pipeline through Dagster, then a short summary.

Runs in this process: the ingest job over the business dates that have files not yet loaded
(one run for that range, ingest_range), then the transform job (stray files, dbt build with
every test, and publishing when no blocking check failed). The summary reads the served copy,
as every reader does, and names the version it shows.
Run history lands in DAGSTER_HOME when it is set, so `make ui` shows these runs.

When nothing is new (every landing file in the load log, the served copy the last build of it,
no dbt project file changed since: orchestration/up_to_date.py) it says so in one line and exits
0 without starting Dagster or dbt.

The landing zone is listed once per invocation (orchestration.settings.listed_once): the range
check, the check for anything new, the first partition when the definitions load, the printed
range, the ingest range, each ingest step and the stray-file log all read that listing
(docs/decisions.md, "One listing of the landing zone per run").

`--full-refresh` (`make run FULL_REFRESH=1`) rebuilds the models rebuilt by load from all
history; a build that fails because a model's columns changed with a new version of Concord (an
incremental model keeps its table between builds) ends by saying so.

Exit status: 0 when both jobs succeeded and every file this run logged loaded; 1 when a job
failed or a file of this run failed, was held, rejected or unknown (the output ends with which
and why); 2 when the run could not start (no landing dir, no salt for personal data outside the
default world, the dbt project not parsed, the warehouse locked by another process), said in
one line.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import duckdb

from ingestion.discover import LandingFile, verify_hashes_requested
from orchestration import settings, up_to_date
from orchestration.startup import collector_paused
from publishing import served
from publishing import settings as publishing_settings

# Dagster, dbt, pandas and the dbt-duckdb plugin (ingestion.pii) take seconds to import: they
# are imported where used, once a run has work to do (orchestration/up_to_date.py decides).
if TYPE_CHECKING:
    import dagster as dg


class CannotStart(Exception):
    """An expected condition that stops the run before it starts (said in one line)."""


class Paths(NamedTuple):
    """Where a code location's resources point: the landing zone, the build warehouse and the
    served copy."""

    landing: Path
    warehouse: Path
    served: Path


def paths_of(defs: dg.Definitions) -> Paths:
    resources = defs.resources
    return Paths(
        Path(resources["landing"].path),
        Path(resources["warehouse"].path),
        Path(resources["served_copy"].path),
    )


def require_landing(landing: Path) -> None:
    if not landing.is_dir():
        raise CannotStart(f"the landing dir {landing} does not exist (CONCORD_LANDING_DIR)")


def business_date_range(landing: Path, files: list[LandingFile] | None = None) -> tuple[str, str]:
    """First and last business date of the landing zone's loadable files (a file rejected for
    an implausible date never widens the range). ``files``: the landing zone as listed already
    (None: the invocation's listing, else a new one)."""
    require_landing(landing)
    files = settings.landing_files(landing) if files is None else files
    dates = sorted({f.business_date for f in files if f.is_known})
    if not dates:
        raise CannotStart(f"no landing files with a business date under {landing}")
    return dates[0].isoformat(), dates[-1].isoformat()


def instance() -> dg.DagsterInstance:
    import dagster as dg

    if os.environ.get("DAGSTER_HOME"):
        Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def ingest_range(paths: Paths, files: list[LandingFile] | None = None) -> tuple[str, str]:
    """The business dates a run ingests: from the first to the last date of a landing file the
    load log does not hold yet (or a held file an owner released); the last business date alone
    when there is none (the ingest run then loads nothing). Before the first ingestion, the
    whole landing zone. Dagster records each asset for each date of the range, and ingestion
    reads each file of it: a day's run touches a day (docs/benchmarks.md, "A day through
    Dagster"). ``files``: the landing zone as listed already (None: list it)."""
    files = settings.landing_files(paths.landing) if files is None else files
    start, end = business_date_range(paths.landing, files)
    if not paths.warehouse.exists():
        return start, end
    from ingestion.load import unlogged_files
    from ingestion.warehouse import WarehouseSchemaError

    try:
        with duckdb.connect(str(paths.warehouse), read_only=True) as con:
            if not table_exists(con, "raw", "load_log"):
                return start, end
            pending = sorted(
                {
                    f.business_date
                    for f in unlogged_files(paths.landing, con, files=files)
                    if f.business_date
                }
            )
    except (duckdb.Error, WarehouseSchemaError):  # cannot tell (locked, an older load log):
        # every date, as before the first ingestion; the ingestion says what is wrong
        return start, end
    if not pending:
        return end, end
    return pending[0].isoformat(), pending[-1].isoformat()


def transform_config(full_refresh: bool) -> dict:
    """The transform job's run config: quiet, and the dbt build's options."""
    if not full_refresh:
        return QUIET
    return {**QUIET, "ops": {"concord_dbt_assets": {"config": {"full_refresh": True}}}}


def run_pipeline(
    defs: dg.Definitions,
    dagster_instance: dg.DagsterInstance,
    full_refresh: bool = False,
    files: list[LandingFile] | None = None,
) -> list:
    """Ingest the business dates of the definitions' landing zone that have files not yet
    loaded (ingest_range), then transform (from all history with full_refresh). Returns the
    two run results. ``files``: that landing zone as listed already (None: list it)."""
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    from orchestration import affected, history, recovery

    start, end = ingest_range(paths_of(defs), files)
    recovery.release_abandoned_runs(dagster_instance)
    recovery.release_slots_of_finished_runs(dagster_instance)
    storage = dagster_instance.event_log_storage
    planning = getattr(storage, "compact_planning", None)  # Concord's event log (a backfill)
    days = (date.fromisoformat(end) - date.fromisoformat(start)).days + 1
    with planning(days) if planning else contextlib.nullcontext():
        ingest = defs.resolve_job_def("ingest_job").execute_in_process(
            instance=dagster_instance,
            run_config=QUIET,
            tags={
                ASSET_PARTITION_RANGE_START_TAG: start,
                ASSET_PARTITION_RANGE_END_TAG: end,
                **recovery.launcher_tags(),
            },
            raise_on_error=False,
        )
    history.record_origin(dagster_instance, ingest)
    if not ingest.success:
        return [ingest]
    job = defs.resolve_job_def("transform_job")
    # the models the loaded files affect (orchestration/affected.py); a full refresh, all
    plan = None if full_refresh else affected.plan_transform(job, paths_of(defs).warehouse)
    transform = job.execute_in_process(
        instance=dagster_instance,
        run_config=transform_config(full_refresh),
        asset_selection=plan.assets if plan else None,
        tags={**recovery.launcher_tags(), **(plan.tags if plan else {})},
        raise_on_error=False,
    )
    history.record_origin(dagster_instance, transform)
    return [ingest, transform]


def step_failures(result: dg.ExecuteInProcessResult) -> list[str]:
    """Each failed step with the first line of its error."""
    out = []
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error = event.event_specific_data.error
            cause = error
            while cause is not None and cause.cause is not None:
                cause = cause.cause
            message = (cause or error).message.strip()
            if (cause or error).cls_name == "Failure":  # Concord's own sentence, no class name
                message = message.split(": ", 1)[-1]
            message = message.splitlines()
            out.append(f"{event.step_key}: {message[0] if message else 'failed'}")
    return out


def last_load_id(warehouse: Path) -> int:
    """The highest load id in the warehouse's load log (0 before the first ingestion). Opens
    the warehouse for writing, as the run will: another process holding it stops the run here,
    in one line, instead of in a step's stack trace."""
    if not warehouse.exists():
        return 0
    try:
        with duckdb.connect(str(warehouse)) as con:
            if not table_exists(con, "raw", "load_log"):
                return 0
            return con.execute("select coalesce(max(load_id), 0) from raw.load_log").fetchone()[0]
    except duckdb.IOException as error:
        first_line = str(error).strip().splitlines()[0]
        raise CannotStart(
            f"the warehouse {warehouse} is in use by another process: {first_line}"
        ) from error


def files_needing_attention(warehouse: Path, after_load_id: int) -> list[tuple[str, str, str]]:
    """(status, source file, message) of the files this run logged that a person must look
    at."""
    from ingestion.load import ATTENTION_STATUSES

    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.execute(
                "select status, source_file, error_message from raw.load_log "
                "where load_id > ? and status in (select unnest(?)) order by load_id",
                [after_load_id, list(ATTENTION_STATUSES)],
            ).fetchall()
    except duckdb.Error as error:
        return [("unreadable", str(warehouse), f"the load log cannot be read: {error}")]


def failed_checks(result: dg.ExecuteInProcessResult) -> list[str]:
    """asset:check of every check of the run that did not pass, whatever its severity."""
    return [
        f"{e.asset_key.to_user_string()}:{e.check_name}"
        for e in check_evaluations(result)
        if not e.passed
    ]


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables"
            " where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def published_version(result: dg.ExecuteInProcessResult) -> str | None:
    """The version this run published (the `publication` asset's metadata), if it did."""
    from orchestration.publish import PUBLICATION_KEY

    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            if materialization.asset_key == PUBLICATION_KEY:
                return materialization.metadata["version"].value
    return None


def publish_status(results: list[dg.ExecuteInProcessResult]) -> str:
    """One line: what this run published, or why it published nothing."""
    import dagster as dg

    transform = next((r for r in results if r.job_def.name == "transform_job"), None)
    version = published_version(transform) if transform else None
    if version:
        return f"published: {version}"
    if transform is None:
        reason = "ingestion failed, the build did not run"
    else:
        blocking = [
            f"{e.asset_key.to_user_string()}:{e.check_name}"
            for e in check_evaluations(transform)
            if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
        ]
        reason = (
            "blocking checks failed: " + ", ".join(sorted(blocking))
            if blocking
            else "the build or the publish step failed"
        )
    return f"published: NOTHING ({reason}); readers keep the previous version"


def check_evaluations(result: dg.ExecuteInProcessResult) -> list:
    return [
        event.event_specific_data
        for event in result.all_events
        if event.event_type_value == "ASSET_CHECK_EVALUATION"
    ]


def summary(served_path: Path) -> str:
    """KPIs as readers see them: from the served copy, stating its version."""
    if not served_path.exists():
        return f"served copy: none yet at {served_path} (nothing has been published)"
    lines = []
    with served.connect(served_path) as con:
        publication = served.current_publication(con)
        lines.append(
            f"served copy: {publication['version_name']} at {served_path}, published "
            f"{publication['published_at']:%Y-%m-%d %H:%M:%S} UTC, business dates "
            f"{publication['first_business_date']} to {publication['last_business_date']}, "
            f"checks passed {publication['checks_passed_count']}, warned "
            f"{publication['checks_warned_count']}"
        )
        files = json.loads(publication["files_by_status"] or "{}")
        lines.append("files: " + ", ".join(f"{s} {n}" for s, n in sorted(files.items())))
        lines.append(
            f"rows: loaded {publication['rows_loaded']}, "
            f"quarantined {publication['rows_quarantined']}"
        )
        if publication["incomplete_dates"]:
            lines.append(
                "incomplete dates: " + ", ".join(str(d) for d in publication["incomplete_dates"])
            )
        if table_exists(con, "marts", "mart_net_sales"):
            lines.append(
                con.execute(
                    "select 'net sales (reporting currency): ' || "
                    "round(sum(net_sales_reporting), 2) from marts.mart_net_sales"
                ).fetchone()[0]
            )
        if table_exists(con, "marts", "mart_cogs"):
            lines.append(
                con.execute(
                    "select 'COGS: ' || round(sum(cogs_reporting), 2) || ', gross margin: ' || "
                    "round(sum(gross_margin_reporting), 2) from marts.mart_cogs"
                ).fetchone()[0]
            )
        if table_exists(con, "marts", "mart_available_inventory"):
            lines.append(
                con.execute(
                    "select 'available inventory (units, latest date): ' || sum(available_units) "
                    "from marts.mart_available_inventory where as_of_date = "
                    "(select max(as_of_date) from marts.mart_available_inventory)"
                ).fetchone()[0]
            )
        if table_exists(con, "marts", "mart_reconciliation_status"):
            reconciliations = con.execute(
                "select reconciliation_name, sum(break_count), sum(pass_count), min(severity), "
                "sum(info_count) from marts.mart_reconciliation_status group by 1 order by 1"
            ).fetchall()
            lines.append(
                "reconciliations: "
                + ", ".join(
                    f"{name} " + (f"BREAK x{breaks} ({severity})" if breaks else "pass")
                    if breaks or passes
                    else f"{name} info x{infos}"
                    if infos
                    else f"{name} pending"
                    for name, breaks, passes, severity, infos in reconciliations
                )
            )
    return "\n".join(lines)


def load_definitions() -> dg.Definitions:
    """The code location with its resources from the environment as it is now, or CannotStart
    when personal data has no salt or the dbt project has not been parsed."""
    from ingestion.pii import PiiSaltMissing, pii_salt

    try:
        pii_salt()
    except PiiSaltMissing as error:
        raise CannotStart(str(error)) from None
    from orchestration.manifest import DBT_PROJECT

    if not DBT_PROJECT.manifest_path.exists():
        raise CannotStart(
            f"the dbt project is not parsed ({DBT_PROJECT.manifest_path} is missing): "
            "run `make parse` first"
        )
    from orchestration.definitions import build_definitions

    return build_definitions()


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m orchestration.run", description=__doc__)
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the models rebuilt by load from all history (make run FULL_REFRESH=1)",
    )
    args = parser.parse_args([] if argv is None else argv)
    landing = settings.landing_dir()
    try:
        require_landing(landing)  # a missing landing zone is said first
    except CannotStart as error:
        print(f"concord: {error}", file=sys.stderr)
        return 2
    try:
        verify_hashes_requested()  # a bad value said once, before any check reads it
    except ValueError as error:
        print(f"concord: {error}", file=sys.stderr)
        return 2
    with settings.listed_once(landing) as files:
        # the start-up (imports, definitions): most of its CPU went to the cyclic garbage
        # collector, which had nothing to collect there (orchestration/startup.py)
        with collector_paused():
            try:
                start, end = business_date_range(landing, files)
                idle = not args.full_refresh and up_to_date.nothing_new(
                    landing,
                    settings.warehouse_path(),
                    publishing_settings.served_path(),
                    settings.PROJECT_ROOT,
                    files=files,
                )
                if idle:
                    print(idle)
                    return 0
                defs = load_definitions()
                paths = paths_of(defs)
                before = last_load_id(paths.warehouse)
            except CannotStart as error:
                print(f"concord: {error}", file=sys.stderr)
                return 2
        return run_listed(args.full_refresh, defs, paths, before, files, (start, end))


def run_listed(
    full_refresh: bool,
    defs: dg.Definitions,
    paths: Paths,
    before: int,
    files: list[LandingFile],
    dates: tuple[str, str],
) -> int:
    """The run itself, once main has listed the landing zone (``files``, business dates
    ``dates``) and loaded the definitions; returns the exit status. Definitions of another
    landing zone get that zone listed once, for the whole run, as main lists its own."""
    if paths.landing != settings.landing_dir():  # definitions of another landing zone
        with settings.listed_once(paths.landing) as listed:
            dates = business_date_range(paths.landing, listed)
            return _run_listed(full_refresh, defs, paths, before, listed, dates)
    return _run_listed(full_refresh, defs, paths, before, files, dates)


def _run_listed(
    full_refresh: bool,
    defs: dg.Definitions,
    paths: Paths,
    before: int,
    files: list[LandingFile],
    dates: tuple[str, str],
) -> int:
    start, end = dates
    print(f"concord: landing zone {paths.landing}, business dates {start} to {end}")
    from orchestration import progress

    log = progress.run_log_path(settings.PROJECT_ROOT / "logs")
    print(f"concord: the full log of dbt and Dagster goes to {log}")
    with progress.captured_output(log):
        with collector_paused():
            dagster_instance = instance()
        results = run_pipeline(defs, dagster_instance, full_refresh=full_refresh, files=files)
    text, status = report(results, before, paths)
    print(text)
    return status


def job_line(result: dg.ExecuteInProcessResult) -> str:
    """A job's outcome with its checks counted; the names of blocking (error) failures."""
    import dagster as dg

    evaluations = check_evaluations(result)
    failed = [e for e in evaluations if not e.passed]
    blocking = sorted(
        f"{e.asset_key.to_user_string()}:{e.check_name}"
        + (f" ({e.description})" if e.description else "")
        for e in failed
        if e.severity == dg.AssetCheckSeverity.ERROR
    )
    line = (
        f"{result.job_def.name}: {'succeeded' if result.success else 'FAILED'}; checks "
        f"{len(evaluations) - len(failed)} passed, {len(failed) - len(blocking)} warned, "
        f"{len(blocking)} failed at error"
    )
    return "\n".join([line, *(f"  failed check {name}" for name in blocking)])


def owners_section(served_path: Path) -> list[str]:
    """Open exceptions by owner, with the value at stake, from the served copy."""
    if not served_path.exists():
        return []
    with served.connect(served_path) as con:
        if not table_exists(con, "marts", "mart_exceptions"):
            return []
        owners = con.execute(
            "select owning_role, count(*), coalesce(sum(abs(affected_value_reporting)), 0) "
            "from marts.mart_exceptions where status in ('open', 'acknowledged') "
            "group by owning_role order by 1"
        ).fetchall()
    if not owners:
        return ["  no open exception"]
    return [
        f"  {owner}: {count} open exception(s), {impact:,.2f} at stake (reporting currency)"
        for owner, count, impact in owners
    ]


def simulated_defects(landing: Path, served_path: Path) -> tuple[list[str], set[str]]:
    """For a simulated world (truth/defects.csv beside its landing zone): what the served copy
    caught of the injected defects, and the files those defects spoiled."""
    from simulation import audit

    truth = landing.parent / "truth"
    if not (truth / "defects.csv").is_file() or not served_path.exists():
        return [], set()
    with served.connect(served_path) as con:
        result = audit.audit(truth, con)
    files = {d.file for d in audit.manifest(truth)}
    return result.lines(), files if not result.missed else set()


def report(results: list[dg.ExecuteInProcessResult], before: int, paths: Paths) -> tuple[str, int]:
    """What the run did, what needs a person, what is known; and the exit status: 0 when both
    jobs succeeded and no file of this run needs a person, else 1. In a simulated world whose
    every injected defect was caught, files spoiled by those defects are known, not news."""
    served_path = paths.served
    lines = []
    for result in results:
        lines.append(job_line(result))
        lines += [f"  failed step {failure}" for failure in step_failures(result)]
    lines += changed_shapes(publishing_settings.build_results_path(paths.warehouse))
    lines.append(publish_status(results))
    lines.append(summary(served_path))
    audit_lines, known_files = simulated_defects(paths.landing, served_path)
    attention = files_needing_attention(paths.warehouse, before)
    news = [f for f in attention if f[1] not in known_files]
    lines.append("Needs a person:")
    lines += owners_section(served_path)
    if news:
        lines.append(f"  {len(news)} file(s) of this run:")
        lines += [f"    {status}: {message}" for status, _, message in news]
    if audit_lines:
        lines.append("Known (the simulated world's injected defects):")
        lines += [f"  {line}" for line in audit_lines]
        if len(attention) > len(news):
            lines.append(
                f"  {len(attention) - len(news)} file(s) of this run are injected defects:"
            )
            lines += [
                f"    {status}: {message}"
                for status, file, message in attention
                if file in known_files
            ]
    lines.append("Open the Dagster UI with `make ui` (http://127.0.0.1:3000).")
    ok = all(r.success for r in results)
    return "\n".join(lines), 0 if ok and not news else 1


# dbt's error when an incremental model's columns differ from its table's (on_schema_change fail)
SHAPE_CHANGED = "schemas on this incremental model are out of sync"


def changed_shapes(run_results: Path) -> list[str]:
    """A line naming the models whose columns changed since their table was built, with the
    remedy; none when the last build's results say nothing of it."""
    try:
        results = json.loads(run_results.read_text()).get("results") or []
    except (OSError, ValueError):
        return []
    models = sorted(
        r["unique_id"].split(".")[-1]
        for r in results
        if r.get("status") == "error" and SHAPE_CHANGED in (r.get("message") or "")
    )
    if not models:
        return []
    return [
        f"  the columns of {', '.join(models)} changed with this version of Concord; their "
        "tables keep the old ones: rebuild once from all history with `make run FULL_REFRESH=1` "
        "(python -m orchestration.run --full-refresh)"
    ]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
