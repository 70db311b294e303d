"""Ingestion assets: one multi-asset per source system, one asset per extract, built from the
extract contract (no extract is named here). Partitioned by business date; a run over a range
of dates loads every file of those dates, business dates in order. When ingestion stops on an
error, the business dates it finished are recorded as materialized one by one, so only the
dates it did not finish show as failed."""

import logging
from collections.abc import Iterator
from datetime import date, timedelta

import dagster as dg
import duckdb
from dagster._core.events import AssetMaterializationPlannedData, DagsterEvent

from ingestion.contract import Extract, load_contract, max_days_after_delivery
from ingestion.load import (
    IngestReport,
    held_exception_id,
    ingest,
    log_stray_files,
    unlogged_files,
)
from ingestion.warehouse import OPEN_HOLDS_SQL
from orchestration import groups, settings
from orchestration.progress import note
from orchestration.resources import LandingZone, Warehouse

# Business dates end at the latest the contract finds plausible: a file delivered today may
# carry a date up to max_days_after_delivery() ahead (end_offset 1 is today's partition).
DAILY = dg.DailyPartitionsDefinition(
    start_date=settings.partitions_start(), end_offset=1 + max_days_after_delivery()
)
LOAD_LOG_KEY = dg.AssetKey(["raw", "load_log"])
QUARANTINE_KEY = dg.AssetKey(["raw", "quarantine"])
REPLACED_ROWS_KEY = dg.AssetKey(["raw", "replaced_rows"])
LANDING_PREFIX = "landing"


def raw_key(extract: Extract) -> dg.AssetKey:
    return dg.AssetKey(["raw", extract.name])


def landing_key(extract: Extract) -> dg.AssetKey:
    return dg.AssetKey([LANDING_PREFIX, extract.system, extract.name])


def systems() -> dict[str, list[Extract]]:
    grouped: dict[str, list[Extract]] = {}
    for extract in load_contract().values():
        grouped.setdefault(extract.system, []).append(extract)
    return grouped


def dates_in(start: str, end: str) -> set[date]:
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    return {first + timedelta(days=i) for i in range((last - first).days + 1)}


def owners_of(extract: Extract) -> list[str]:
    """The source system's data owner (the contract) owns its landing files and raw tables."""
    return [extract.owner] if extract.owner else []


def landing_specs() -> list[dg.AssetSpec]:
    """The files each source system delivers: external assets upstream of raw."""
    return [
        dg.AssetSpec(
            landing_key(e),
            group_name=e.system,
            description=f"{e.description} Files: {e.file_prefix}_<YYYYMMDD>.{e.extension}",
            kinds={e.file_format},
            owners=owners_of(e),
        )
        for e in load_contract().values()
    ]


def conservation_breaks(
    con: duckdb.DuckDBPyConnection, extract: str, start: date, end: date
) -> list[tuple]:
    return con.execute(
        """
        select source_file, rows_read, rows_loaded, rows_quarantined
        from raw.load_log
        where extract_name = ? and business_date between ? and ?
          and status in ('loaded', 'replaced')
          and rows_read <> rows_loaded + rows_quarantined
        """,
        [extract, start, end],
    ).fetchall()


def failed_files(
    con: duckdb.DuckDBPyConnection, extract: str, start: date, end: date
) -> list[tuple]:
    """Every whole-file failure of an extract in a range: (file, message, corrected)."""
    return con.execute(
        """
        select
            failed.source_file,
            failed.error_message,
            exists (
                select 1 from raw.load_log as later
                where later.extract_name = failed.extract_name
                  and later.business_date = failed.business_date
                  and later.status in ('loaded', 'replaced')
                  and later.load_id > failed.load_id
            ) as is_corrected
        from raw.load_log as failed
        where failed.extract_name = ? and failed.business_date between ? and ?
          and failed.status = 'failed'
        order by failed.source_file
        """,
        [extract, start, end],
    ).fetchall()


def held_files(con: duckdb.DuckDBPyConnection, extract: str, start: date, end: date) -> list[tuple]:
    """Open held re-deliveries of an extract in a range (OPEN_HOLDS_SQL: no later load of the
    path, neither the released file nor another content): (file, message)."""
    return con.execute(
        f"""
        select held.source_file, held.error_message
        from ({OPEN_HOLDS_SQL}) as held
        where held.extract_name = ? and held.business_date between ? and ?
        order by held.source_file
        """,
        [extract, start, end],
    ).fetchall()


def extract_checks(
    con: duckdb.DuckDBPyConnection, extract: Extract, start: date, end: date
) -> Iterator[dg.AssetCheckResult]:
    """files_loaded fails for every whole-file failure: at ERROR while no later delivery
    replaced the file, at WARN once one did (the failure stays visible)."""
    failures = failed_files(con, extract.name, start, end)
    uncorrected = [f for f in failures if not f[2]]
    yield dg.AssetCheckResult(
        asset_key=raw_key(extract),
        check_name="files_loaded",
        passed=not failures,
        severity=dg.AssetCheckSeverity.ERROR if uncorrected else dg.AssetCheckSeverity.WARN,
        metadata={
            "failed_files": len(failures),
            "uncorrected_files": len(uncorrected),
            "errors": dg.MetadataValue.md(
                "\n".join(
                    f"* {message}" + (" (corrected by a later delivery)" if corrected else "")
                    for _, message, corrected in failures
                )
                or "none"
            ),
        },
    )
    held = held_files(con, extract.name, start, end)
    yield dg.AssetCheckResult(
        asset_key=raw_key(extract),
        check_name="no_held_redeliveries",
        passed=not held,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "held_files": len(held),
            "held": dg.MetadataValue.md(
                "\n".join(
                    f"* {message} (exception id {held_exception_id(file)})"
                    for file, message in held
                )
                or "none"
            ),
        },
    )
    breaks = conservation_breaks(con, extract.name, start, end)
    yield dg.AssetCheckResult(
        asset_key=raw_key(extract),
        check_name="rows_conserved",
        passed=not breaks,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"files_breaking": len(breaks), "examples": str(breaks[:5])},
    )


def brief(report: IngestReport) -> str:
    """One line of an ingestion: the files by what became of them, rows and time."""
    statuses = ("loaded", "replaced", "duplicate", "superseded", "held", "failed", "rejected")
    counts = [(s, getattr(report, f"files_{s}")) for s in statuses]
    counts.append(("unknown", report.files_unknown))
    files = ", ".join(f"{n} {s}" for s, n in counts if n)
    skipped = f", {report.files_skipped} already ingested" if report.files_skipped else ""
    if report.files_vanished:
        skipped += f", {report.files_vanished} vanished since the listing"
    return (
        f"{report.files_seen} files ({files or 'none new'}{skipped}), "
        f"{report.rows_loaded:,} rows loaded, {report.rows_quarantined:,} quarantined, "
        f"{report.seconds:.1f} s"
    )


def record_finished_dates(
    context: dg.AssetExecutionContext,
    landing: LandingZone,
    warehouse: Warehouse,
    extracts: list[Extract],
    dates: set[date],
) -> list[tuple[str, str]]:
    """After ingestion stopped on an error: a materialization of each extract and business date
    of the run whose every file is in the load log (ingestion commits whole business dates),
    so that Dagster marks failed only the partitions left undone (every date when the warehouse
    cannot say). Returns (extract, date) of those recorded."""
    every = {(e.name, d) for e in extracts for d in dates}
    undone = every
    if warehouse.file.exists():
        try:
            with duckdb.connect(str(warehouse.file)) as con:
                pending = unlogged_files(
                    landing.root,
                    con,
                    dates,
                    {e.name for e in extracts},
                    files=settings.landing_files(landing.root),
                )
            undone = {(f.extract, f.business_date) for f in pending} & every
        except duckdb.Error as error:  # the warehouse cannot say: every date stays failed
            context.log.warning(f"cannot tell which business dates finished: {error}")
    ordered = [(e, d) for e in extracts for d in sorted(dates)]
    done = [(e, d) for e, d in ordered if (e.name, d) not in undone]
    for extract, day in done:
        context.log_event(
            dg.AssetMaterialization(
                asset_key=raw_key(extract),
                partition=day.isoformat(),
                metadata={"recorded": "finished before the run stopped on an error"},
            )
        )
    plan_unfinished_dates(context, [(e, d) for e, d in ordered if (e.name, d) in undone])
    note(
        context,
        f"ingestion stopped: {len(undone)} extract-date(s) unfinished, "
        f"{len(done)} finished and recorded",
    )
    return [(extract.name, day.isoformat()) for extract, day in done]


def plan_unfinished_dates(
    context: dg.AssetExecutionContext, undone: list[tuple[Extract, date]]
) -> None:
    """A "planned" event for each extract and business date a failed run did not finish, when
    the event log planned the run's range as one event per asset (orchestration/event_log.py):
    Dagster marks failed the dates planned and not materialized by a failed run, so the failed
    dates show as failed, as they would with a planned event per date, and no others."""
    storage = context.instance.event_log_storage
    if not storage.supports_partition_subset_in_asset_materialization_planned_events:
        return  # Dagster planned every date of the range itself
    step = context.get_step_execution_context()
    for extract, day in undone:
        context.instance.report_dagster_event(
            DagsterEvent.build_asset_materialization_planned_event(
                step.job_name,
                step.step.key,
                AssetMaterializationPlannedData(raw_key(extract), partition=day.isoformat()),
            ),
            run_id=context.run.run_id,
            log_level=logging.DEBUG,
        )


def build_system_asset(system: str, extracts: list[Extract]) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(
            raw_key(e),
            deps=[landing_key(e)],
            group_name=system,
            description=f"Raw {e.name} as delivered, typed, with lineage. {e.description}",
            kinds={"duckdb"},
            owners=owners_of(e),
        )
        for e in extracts
    ]
    checks = [
        dg.AssetCheckSpec(name, asset=raw_key(e), description=text)
        for e in extracts
        for name, text in (
            ("files_loaded", "Every file loaded (a failure corrected by a later delivery warns)."),
            (
                "no_held_redeliveries",
                "No re-delivery is held: one with no data rows, or losing more rows than the "
                "contract allows, waits for its owner's release and keeps the live file.",
            ),
            ("rows_conserved", "Every file: rows read = rows loaded + rows quarantined."),
            ("lake_rows_equal_raw", "The Parquet lake holds as many rows as the raw table."),
        )
    ]

    @dg.multi_asset(
        name=f"ingest_{system}",
        specs=specs,
        check_specs=checks,
        partitions_def=DAILY,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=settings.WAREHOUSE_POOL,
    )
    def _ingest(
        context: dg.AssetExecutionContext, landing: LandingZone, warehouse: Warehouse
    ) -> Iterator:
        key_range = context.partition_key_range
        dates = dates_in(key_range.start, key_range.end)
        names = {e.name for e in extracts}
        try:
            report = ingest(
                landing.root,
                warehouse.file,
                dates,
                names,
                lake_dir=warehouse.lake_dir,
                files=settings.landing_files(landing.root),  # the run's listing when it has one
            )
        except Exception:
            record_finished_dates(context, landing, warehouse, extracts, dates)
            raise
        context.log.info(report.summary())
        note(context, f"ingest {system}: {brief(report)}")
        with duckdb.connect(str(warehouse.file)) as con:
            for e in extracts:
                rows = con.execute(
                    f'select count(*) from raw."{e.name}"'  # noqa: S608 (name from contract)
                ).fetchone()[0]
                yield dg.MaterializeResult(
                    asset_key=raw_key(e),
                    metadata={"rows_in_table": rows, "files_seen_this_run": report.files_seen},
                )
                # the whole load log, whatever the run's dates: a failure of an earlier date
                # stays failed until a delivery corrects it
                yield from extract_checks(con, e, date.min, date.max)
                raw_rows, lake_rows = report.lake.breaks.get(e.name, (rows, rows))
                yield dg.AssetCheckResult(
                    asset_key=raw_key(e),
                    check_name="lake_rows_equal_raw",
                    passed=raw_rows == lake_rows,
                    severity=dg.AssetCheckSeverity.ERROR,
                    metadata={
                        "lake": str(warehouse.lake_dir),
                        "raw_rows": raw_rows,
                        "lake_rows": lake_rows,
                    },
                )

    return _ingest


@dg.asset(
    key=LOAD_LOG_KEY,
    deps=[raw_key(e) for e in load_contract().values()],
    group_name="controls",
    owners=groups.integration_owners(),
    description="raw.load_log: one row per landing file seen, written by each ingestion asset "
    "as it loads. This step loads nothing: it adds the stray files that belong to no extract's "
    "partition (names that match no extract, files refused unread) and reports the log.",
    kinds={"duckdb"},
    pool=settings.WAREHOUSE_POOL,
    check_specs=[
        dg.AssetCheckSpec(
            "no_unknown_files",
            asset=LOAD_LOG_KEY,
            description="Every landing file matches an extract of the contract.",
        ),
        dg.AssetCheckSpec(
            "no_failed_files",
            asset=LOAD_LOG_KEY,
            description="No business date's newest delivery failed.",
        ),
        dg.AssetCheckSpec(
            "no_rejected_files",
            asset=LOAD_LOG_KEY,
            description="No symbolic link, special file or implausible business date in the "
            "landing zone (such files are never read).",
        ),
    ],
)
def load_log(
    context: dg.AssetExecutionContext, landing: LandingZone, warehouse: Warehouse
) -> Iterator:
    """Logs the stray files (no extract, or refused unread) and reports; loads no data. Files
    of an extract that arrived since the ingest run wait for their partition's ingestion (the
    landing sensor requests it)."""
    report = log_stray_files(
        landing.root,
        warehouse.file,
        lake_dir=warehouse.lake_dir,
        files=settings.landing_files(landing.root),  # the run's listing when it has one
    )
    if report.files_unknown or report.files_rejected:
        context.log.warning(report.summary())
    with duckdb.connect(str(warehouse.file)) as con:
        counts = dict(
            con.execute("select status, count(*) from raw.load_log group by status").fetchall()
        )
        unknown = [
            r[0]
            for r in con.execute(
                "select error_message from raw.load_log where status = 'unknown' order by 1"
            ).fetchall()
        ]
        failed = [
            r[0]
            for r in con.execute(
                """
            select error_message, status from raw.load_log
            where status in ('loaded', 'replaced', 'failed')
            qualify row_number() over (
                partition by extract_name, business_date
                order by delivery_date desc, sequence_number desc) = 1
            order by 1
            """
            ).fetchall()
            if r[1] == "failed"
        ]
        rejected = [
            r[0]
            for r in con.execute(
                "select error_message from raw.load_log where status = 'rejected' order by 1"
            ).fetchall()
        ]
        quarantined = con.execute("select count(*) from raw.quarantine").fetchone()[0]
    note(
        context,
        "load log: "
        + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        + f" files in all, {quarantined:,} rows quarantined",
    )
    yield dg.MaterializeResult(
        metadata={f"files_{k}": v for k, v in sorted(counts.items())}
        | {"rows_quarantined": quarantined}
    )
    yield dg.AssetCheckResult(
        check_name="no_unknown_files",
        passed=not unknown,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "unknown_files": dg.MetadataValue.md("\n".join(f"* {u}" for u in unknown) or "none")
        },
    )
    yield dg.AssetCheckResult(
        check_name="no_rejected_files",
        passed=not rejected,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "rejected_files": dg.MetadataValue.md("\n".join(f"* {r}" for r in rejected) or "none")
        },
    )
    yield dg.AssetCheckResult(
        check_name="no_failed_files",
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "failed_files": dg.MetadataValue.md("\n".join(f"* {u}" for u in failed) or "none")
        },
    )


INGEST_ASSETS = [build_system_asset(s, e) for s, e in sorted(systems().items())]


def quarantine_spec() -> dg.AssetSpec:
    """raw.quarantine: written by every ingestion asset, read by the exception queue."""
    return dg.AssetSpec(
        QUARANTINE_KEY,
        deps=[raw_key(e) for e in load_contract().values()],
        group_name="controls",
        owners=groups.integration_owners(),
        description="raw.quarantine: every row ingestion rejected, with its file, line, column, "
        "value and the rule it broke. Written by each ingestion asset as it loads.",
        kinds={"duckdb"},
    )


def replaced_rows_spec() -> dg.AssetSpec:
    """raw.replaced_rows: written by every ingestion asset that replaces a file, read by the
    period close (docs/decisions.md, "Period close: a closed month's file delivered again")."""
    return dg.AssetSpec(
        REPLACED_ROWS_KEY,
        deps=[raw_key(e) for e in load_contract().values()],
        group_name="controls",
        owners=groups.integration_owners(),
        description="raw.replaced_rows: the rows a file had when a later delivery of its "
        "extract and business date replaced it. Written by each ingestion asset as it loads.",
        kinds={"duckdb"},
    )
