"""The engine-neutral raw layer: DuckDB's raw tables mirrored as Parquet, for any engine to read.

Public API: ``sync_lake(con, lake_dir)``, ``lake_row_breaks(con, lake_dir)``, ``lake_tables()``,
``lake_type(duckdb_type)``, ``spark_type(lake_type)``, ``lake_dir_for(warehouse)``,
``LakeSync``, ``LakeMismatchError``.

Where: ``CONCORD_LAKE_DIR``, else the directory ``lake`` beside the warehouse file (so
``data/lake`` beside the default ``data/warehouse.duckdb``; docs/interfaces.md).

Layout under the lake directory:

* ``raw/<extract>/business_date=YYYY-MM-DD/part-<load_id>.parquet``: the rows of the live file
  of that extract and business date (ingestion/load.py: at most one file per extract and
  business date is live), exactly as they are in ``raw.<extract>``: the same columns in the same
  order, lineage columns included. A live file with no rows loaded has a part file of no rows
  (a delivery of nothing is not a missing delivery). So a partition directory holds exactly one
  part file, named after the live file's load id.
* ``raw/quarantine/extract=<extract>/business_date=YYYY-MM-DD/part-<load_id>.parquet``: the
  ``raw.quarantine`` rows of the live file of that extract and business date, for live files
  with quarantined rows only.
* ``raw/replaced_rows/extract=<extract>/business_date=YYYY-MM-DD/part-<load_id>.parquet``: the
  ``raw.replaced_rows`` of each replaced load (the load id of the file replaced): one part file
  per load that a later delivery replaced, several in a partition when a business date was
  replaced more than once. Those rows never change either, so the part files are immutable.
* ``raw/load_log/load_log.parquet``: the whole ``raw.load_log``, by load id, rewritten by every
  sync.
* ``.part_rows.json``: the row count of each part file as its footer last gave it, with the
  file's identity then (``PartRows``); not data, outside ``raw/``.

Types: the raw types, except JSON, written as VARCHAR (its text), and TIMESTAMP, written as
TIMESTAMP WITH TIME ZONE (Parquet ``isAdjustedToUTC``), its value read as UTC: every engine
reads it as its plain timestamp type (Spark's TIMESTAMP with the session time zone UTC), not as
a "no time zone" type (docs/decisions.md, "The raw lake"). Only DECIMAL(p,s), DATE, TIMESTAMP,
BIGINT, INTEGER, VARCHAR, BOOLEAN and DOUBLE are written; a raw column of another type stops
the sync with its name.

Sync, not a second write path: after ingestion's transactions commit, ``sync_lake`` reads which
file is live for each extract and business date from ``raw.load_log`` (one cheap query on the
log), lists the part files present and writes only the missing ones, then removes the stale
ones (the part file of a replaced load, a leftover temporary file). The rows of a load id never
change once committed, so a part file named after the live load id is up to date: a day's run
writes the partitions of its own loads and no other. A part file is written with DuckDB's COPY
under a temporary name (``.part-...tmp``, which engines and the ``part-*`` globs ignore) in its
partition directory, flushed to disk, then renamed into place (``os.replace``); a replaced
file's part file is removed only after its successor is in place, so a reader never finds a
partition empty, but one listing files in that instant may see both (an object store would need
more: docs/decisions.md, "The raw lake"). A crash at any point (between the DuckDB commit and the
lake write, or in the middle of a sync) leaves DuckDB correct and the lake missing some loads'
part files, or holding a stale or temporary file; the next sync, which compares the lake with
the log and not with what one run did, repairs it. Then the rows of every table are counted in
the lake (Parquet footers) and in raw: ``LakeSync.breaks`` names any table that differs. A
footer is read again only for a part file whose identity (inode, size, modification and change
times) is not the one its count was read with, so a day's sync reads the footers of its own new
part files, not the whole history's (docs/decisions.md, "The lake's row counts: a footer read
once"). An ingestion of some extracts (Dagster ingests system by system) syncs and counts only those
extracts, and the load log.

A lake belongs to one warehouse: load ids restart with a new warehouse, so a part file of a
rebuilt warehouse's load 7 could hold another file's rows. ``sync_lake`` compares the lake's copy
of the load log with the warehouse's and refuses (``LakeMismatchError``) a lake whose loads the
warehouse does not hold: empty the lake directory, or point CONCORD_LAKE_DIR at a new one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.contract import load_contract
from ingestion.validate import ident
from ingestion.warehouse import (
    LIVE_STATUSES,
    LOAD_LOG_DDL,
    QUARANTINE_DDL,
    RAW_SCHEMA,
    REPLACED_ROWS_DDL,
    raw_columns,
)

__all__ = [
    "DEFAULT_LAKE_NAME",
    "LAKE_ENV",
    "LakeMismatchError",
    "LakeSync",
    "LakeTable",
    "lake_dir_for",
    "lake_row_breaks",
    "lake_tables",
    "lake_type",
    "spark_type",
    "sync_lake",
]

LAKE_ENV = "CONCORD_LAKE_DIR"
DEFAULT_LAKE_NAME = "lake"  # beside the warehouse file: data/lake for data/warehouse.duckdb
RAW_DIR = "raw"
QUARANTINE = "quarantine"
REPLACED_ROWS = "replaced_rows"
LOAD_LOG = "load_log"
PART_RE = re.compile(r"part-(\d+)\.parquet")
TEMP_PREFIX = ".part-"
# The part files' row counts as last read from their footers (PartRows), at the lake's root
PART_ROWS = ".part_rows.json"
_PLAIN_TYPES = {"DATE", "BIGINT", "INTEGER", "VARCHAR", "BOOLEAN", "DOUBLE"}
_DECIMAL_RE = re.compile(r"DECIMAL\(\d+,\s*\d+\)")


class LakeMismatchError(RuntimeError):
    """The lake holds loads the warehouse does not: it was written from another warehouse."""


def lake_dir_for(warehouse: Path) -> Path:
    """The lake of a warehouse: CONCORD_LAKE_DIR when set, else ``lake`` beside the warehouse
    file (a lake belongs to one warehouse: see LakeMismatchError)."""
    configured = os.environ.get(LAKE_ENV)
    return Path(configured) if configured else Path(warehouse).parent / DEFAULT_LAKE_NAME


def lake_type(duckdb_type: str) -> str:
    """The type a raw column of this DuckDB type has in the lake (module docstring)."""
    data_type = duckdb_type.upper().replace(" ", "")
    if data_type == "JSON":
        return "VARCHAR"
    if data_type == "TIMESTAMP":
        return "TIMESTAMP WITH TIME ZONE"
    if data_type in _PLAIN_TYPES or _DECIMAL_RE.fullmatch(data_type):
        return data_type
    raise ValueError(f"raw type {duckdb_type} has no engine-neutral lake type")


def spark_type(lake_type_name: str) -> str:
    """The Spark SQL type a column of this lake type reads as (for a table over the lake with
    an explicit schema; Spark's session time zone UTC)."""
    if lake_type_name == "TIMESTAMP WITH TIME ZONE":
        return "timestamp"
    if lake_type_name == "VARCHAR":
        return "string"
    if lake_type_name == "INTEGER":
        return "int"
    return lake_type_name.lower()


@dataclass(frozen=True)
class LakeTable:
    """A raw table as the lake holds it: ``partitioned`` tables have one part file per live
    (extract, business date); the load log is one file."""

    name: str  # the raw table
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type in raw)
    kind: str  # "extract", "quarantine", "replaced" or "load_log"

    @property
    def lake_columns(self) -> list[tuple[str, str]]:
        return [(name, lake_type(data_type)) for name, data_type in self.columns]

    def select_list(self) -> str:
        """SQL: the raw columns, in order, cast to their lake types where those differ."""
        items = []
        for name, data_type in self.columns:
            try:
                target = lake_type(data_type)
            except ValueError as error:
                raise ValueError(f"raw.{self.name}.{name}: {error}") from None
            column = ident(name)
            if target == "TIMESTAMP WITH TIME ZONE":
                items.append(f"timezone('UTC', {column}) as {column}")
            elif target != data_type.upper().replace(" ", ""):
                items.append(f"cast({column} as {target}) as {column}")
            else:
                items.append(column)
        return ", ".join(items)


def lake_tables() -> list[LakeTable]:
    """Every table the lake holds: each extract of the contract, then quarantine, the replaced
    rows and the load log."""
    contract = load_contract()
    clash = {QUARANTINE, REPLACED_ROWS, LOAD_LOG} & set(contract)
    if clash:
        raise ValueError(f"extracts named {sorted(clash)} would collide with the lake's own tables")
    tables = [
        LakeTable(extract.name, tuple(raw_columns(extract)), "extract")
        for extract in sorted(contract.values(), key=lambda e: e.name)
    ]
    return [
        *tables,
        LakeTable(QUARANTINE, QUARANTINE_DDL, "quarantine"),
        LakeTable(REPLACED_ROWS, REPLACED_ROWS_DDL, "replaced"),
        LakeTable(LOAD_LOG, LOAD_LOG_DDL, "load_log"),
    ]


@dataclass
class LakeSync:
    """What one ``sync_lake`` did."""

    lake_dir: Path
    files_written: int = 0
    rows_written: int = 0
    files_removed: int = 0
    seconds: float = 0.0
    # table whose row count in the lake differs from raw's: (raw rows, lake rows)
    breaks: dict[str, tuple[int, int]] = field(default_factory=dict)

    def summary(self) -> str:
        counts = "rows per table equal raw's" if not self.breaks else "ROWS DIFFER FROM RAW"
        lines = [
            f"lake {self.lake_dir}: {self.files_written} part files written "
            f"({self.rows_written} rows), {self.files_removed} removed, {counts}, "
            f"{self.seconds:.2f} s"
        ]
        return "\n".join(
            [
                *lines,
                *(
                    f"  lake: {table} has {lake} rows in the lake, {raw} in raw.{table}"
                    for table, (raw, lake) in sorted(self.breaks.items())
                ),
            ]
        )


def _partition_dir(root: Path, table: LakeTable, extract: str, business_date: date) -> Path:
    day = f"business_date={business_date.isoformat()}"
    if table.kind in ("quarantine", "replaced"):
        return root / RAW_DIR / table.name / f"extract={extract}" / day
    return root / RAW_DIR / extract / day


def _live_loads(con: duckdb.DuckDBPyConnection) -> list[tuple[str, date, int, int]]:
    """(extract, business date, live load id, rows quarantined) from the load log: the live
    file of an extract and business date is its loaded/replaced file of the highest load id."""
    return con.execute(
        f"""
        select log.extract_name, log.business_date, log.load_id, log.rows_quarantined
        from {RAW_SCHEMA}.load_log as log
        join (
            select extract_name, business_date, max(load_id) as load_id
            from {RAW_SCHEMA}.load_log
            where status in {LIVE_STATUSES}
            group by extract_name, business_date
        ) as live on live.load_id = log.load_id
        order by log.extract_name, log.business_date
        """
    ).fetchall()


def _present(directory: Path) -> tuple[dict[Path, set[int]], list[Path]]:
    """Part files under a table's directory: {partition dir: load ids} and leftover temporary
    files. A partition directory with no part file is listed with no load id."""
    parts: dict[Path, set[int]] = {}
    temporary: list[Path] = []
    if not directory.is_dir():
        return parts, temporary
    for dirpath, _, filenames in os.walk(directory):
        here = Path(dirpath)
        if not here.name.startswith("business_date="):
            continue
        ids = parts.setdefault(here, set())
        for name in filenames:
            match = PART_RE.fullmatch(name)
            if match:
                ids.add(int(match.group(1)))
            elif name.startswith(TEMP_PREFIX):
                temporary.append(here / name)
    return parts, temporary


def _copy(con: duckdb.DuckDBPyConnection, select: str, params: list, target: Path) -> int:
    """Write a query's rows to ``target`` as Parquet: a temporary file in the same directory,
    flushed to disk, then renamed into place. Returns the rows written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.parent / f".{target.name}.tmp"
    try:
        try:
            (rows,) = con.execute(
                f"copy ({select}) to '{_sql_path(temporary)}' (format parquet)", params
            ).fetchone()
        except duckdb.IOException as error:
            raise OSError(f"cannot write {target}: {error}") from error
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return rows


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _check_same_warehouse(con: duckdb.DuckDBPyConnection, lake_log: Path) -> None:
    if not lake_log.is_file():
        return
    foreign = con.execute(
        f"""
        select lake.load_id, lake.source_file
        from read_parquet('{_sql_path(lake_log)}') as lake
        left join {RAW_SCHEMA}.load_log as log on log.load_id = lake.load_id
        where log.load_id is null
           or log.content_hash is distinct from lake.content_hash
           or log.source_file is distinct from lake.source_file
        order by lake.load_id
        limit 1
        """
    ).fetchone()
    if foreign:
        raise LakeMismatchError(
            f"the lake {lake_log.parent.parent.parent} was written from another warehouse: its "
            f"load {foreign[0]} ({foreign[1]}) is not that load in this warehouse's raw.load_log. "
            f"Empty the lake directory (the next ingestion rewrites it) or set {LAKE_ENV} to "
            "another one."
        )


def sync_lake(
    con: duckdb.DuckDBPyConnection, lake_dir: Path, extracts: set[str] | None = None
) -> LakeSync:
    """Bring the lake in line with the warehouse's raw tables (module docstring): write the part
    files of live loads that are missing, remove stale ones, rewrite the load log, then count
    the rows of every table in the lake against raw (``LakeSync.breaks``). ``extracts``: only
    these extracts' partitions and quarantine partitions are synced and counted (an ingestion
    of some extracts syncs those; None: every extract); the load log always. ``con`` must not
    be inside a transaction; the sync reads one snapshot of the warehouse."""
    started = time.perf_counter()
    root = Path(lake_dir)
    result = LakeSync(root)
    tables = lake_tables()
    by_kind = {t.kind: t for t in tables}
    scope = (
        set(extracts) if extracts is not None else {t.name for t in tables if t.kind == "extract"}
    )
    con.execute("begin transaction")  # one snapshot: the log and the rows agree
    try:
        _check_same_warehouse(con, root / RAW_DIR / LOAD_LOG / f"{LOAD_LOG}.parquet")
        live = _live_loads(con)
        for table in tables:
            if table.kind in ("quarantine", "replaced") or table.name in scope:
                _sync_table(con, root, table, [e for e in live if e[0] in scope], result, scope)
        log = by_kind["load_log"]
        _copy(
            con,
            f"select {log.select_list()} from {RAW_SCHEMA}.load_log order by load_id",
            [],
            root / RAW_DIR / LOAD_LOG / f"{LOAD_LOG}.parquet",
        )
        result.breaks = lake_row_breaks(con, root, scope)
    finally:
        con.execute("rollback")  # nothing written to DuckDB
    result.seconds = time.perf_counter() - started
    return result


def _table_dir(root: Path, table: LakeTable) -> Path:
    return root / RAW_DIR / table.name


def _sync_table(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    table: LakeTable,
    live: list[tuple[str, date, int, int]],
    result: LakeSync,
    scope: set[str],
) -> None:
    expected: dict[Path, set[int]] = {}
    if table.kind == "quarantine":
        for extract, day, load_id, quarantined in live:
            if quarantined:
                expected[_partition_dir(root, table, extract, day)] = {load_id}
        source = f"select {table.select_list()} from {RAW_SCHEMA}.quarantine where load_id = ?"
        order = " order by source_row_number"
    elif table.kind == "replaced":
        for extract, day, load_id in con.execute(
            f"""
            select distinct extract_name, business_date, load_id
            from {RAW_SCHEMA}.{REPLACED_ROWS}
            where extract_name in (select unnest(?))
            """,
            [sorted(scope)],
        ).fetchall():
            expected.setdefault(_partition_dir(root, table, extract, day), set()).add(load_id)
        source = f"select {table.select_list()} from {RAW_SCHEMA}.{REPLACED_ROWS} where load_id = ?"
        order = " order by source_row_number"
    else:
        for extract, day, load_id, _ in live:
            if extract == table.name:
                expected[_partition_dir(root, table, extract, day)] = {load_id}
        source = (
            f"select {table.select_list()} from {RAW_SCHEMA}.{ident(table.name)} where _load_id = ?"
        )
        order = " order by _source_row_number"
    present, temporary = {}, []
    for directory in _scanned_dirs(root, table, scope):
        parts, leftovers = _present(directory)
        present |= parts
        temporary += leftovers
    for partition, load_ids in expected.items():
        for load_id in sorted(load_ids - present.get(partition, set())):
            result.rows_written += _copy(
                con, source + order, [load_id], partition / f"part-{load_id}.parquet"
            )
            result.files_written += 1
    for partition, ids in present.items():
        keep = expected.get(partition, set())
        for load_id in sorted(ids - keep):
            (partition / f"part-{load_id}.parquet").unlink(missing_ok=True)
            result.files_removed += 1
        if not keep and not any(partition.iterdir()):
            partition.rmdir()
    for path in temporary:
        path.unlink(missing_ok=True)
        result.files_removed += 1
    if table.kind in ("quarantine", "replaced"):  # extract=... directories left empty
        for directory in _scanned_dirs(root, table, scope):
            if directory.is_dir() and not any(directory.iterdir()):
                shutil.rmtree(directory)


def _scanned_dirs(root: Path, table: LakeTable, scope: set[str]) -> list[Path]:
    """The directories a sync of ``scope`` lists: an extract's own, or the quarantine (replaced
    rows) directories of the extracts in scope."""
    if table.kind in ("quarantine", "replaced"):
        return [_table_dir(root, table) / f"extract={name}" for name in sorted(scope)]
    return [_table_dir(root, table)]


def part_rows(path: Path) -> int:
    """The rows of a part file, from its Parquet footer (the file's data is not read). pyarrow
    reads a footer in half the CPU of DuckDB's count(*) over read_parquet: at SF1, a day's
    sync counts 3,499 part files of the ERP's extracts alone. A part file that cannot be read
    or is not Parquet (truncated, say) raises OSError naming it: pyarrow's own errors do not,
    and its ArrowInvalid is a ValueError, which callers take for bad input, not for the lake."""
    try:
        return pq.read_metadata(path).num_rows
    except (pa.ArrowException, OSError) as error:
        raise uncountable(path, error) from error


def uncountable(path: Path, error: Exception) -> OSError:
    return OSError(f"cannot count the rows of the lake part file {path}: {error}")


class PartRows:
    """The row counts of the lake's part files, kept in PART_ROWS at the lake's root: {a
    directory counted (relative to the root): {its part file (relative to it): [inode, size,
    modification time, change time (ns), rows]}}. A footer is read again only for a part file
    whose identity differs from the one recorded with its count: a part file rewritten in place
    has another change time at least, one replaced another inode. A missing or unreadable record
    counts every footer again."""

    def __init__(self, root: Path) -> None:
        self.root = root
        try:
            known = json.loads((root / PART_ROWS).read_text())
        except (OSError, ValueError):
            known = {}
        self.known: dict = known if isinstance(known, dict) else {}
        self.changed = False

    def count(self, directory: Path, files: list[Path]) -> int:
        """The rows of ``files``: every part file under ``directory``, which the record of that
        directory then holds alone."""
        key = directory.relative_to(self.root).as_posix()
        before = self.known.get(key)
        before = before if isinstance(before, dict) else {}
        now = {}
        for path in files:
            name = path.relative_to(directory).as_posix()
            identity = _identity(path)
            entry = before.get(name)
            same = isinstance(entry, list) and len(entry) == 5 and entry[:4] == identity
            now[name] = entry if same else [*identity, part_rows(path)]
        if now != before:
            self.known[key] = now
            self.changed = True
        return sum(entry[4] for entry in now.values())

    def save(self) -> None:
        """Write the record (atomically) if a count changed."""
        if not self.changed:
            return
        path = self.root / PART_ROWS
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(self.known, sort_keys=True))
        os.replace(partial, path)
        self.changed = False


def _identity(path: Path) -> list[int]:
    try:
        found = path.stat()
    except OSError as error:
        raise uncountable(path, error) from error
    return [found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns]


def lake_row_breaks(
    con: duckdb.DuckDBPyConnection, lake_dir: Path, extracts: set[str] | None = None
) -> dict[str, tuple[int, int]]:
    """Tables whose row count in the lake (from the part files' footers, PartRows) differs from
    raw's: {table: (raw rows, lake rows)}. Empty when every row is in the lake. ``extracts``:
    count only these extracts and their quarantined rows (None: every extract); the load log
    always."""
    root = Path(lake_dir)
    tables = lake_tables()
    scope = (
        set(extracts) if extracts is not None else {t.name for t in tables if t.kind == "extract"}
    )
    counts = PartRows(root)
    breaks = {}
    for table in tables:
        if table.kind == "load_log":
            log = root / RAW_DIR / LOAD_LOG / f"{LOAD_LOG}.parquet"
            lake_rows = part_rows(log) if log.is_file() else 0  # rewritten by every sync
            where, params = "", []
        elif table.kind in ("quarantine", "replaced"):
            lake_rows = sum(
                counts.count(directory, sorted(directory.glob("business_date=*/part-*.parquet")))
                for directory in _scanned_dirs(root, table, scope)
            )
            where, params = " where extract_name in (select unnest(?))", [sorted(scope)]
        elif table.name in scope:
            directory = _table_dir(root, table)
            files = sorted(directory.glob("business_date=*/part-*.parquet"))
            lake_rows = counts.count(directory, files)
            where, params = "", []
        else:
            continue
        (raw_rows,) = con.execute(
            f"select count(*) from {RAW_SCHEMA}.{ident(table.name)}{where}", params
        ).fetchone()
        if lake_rows != raw_rows:
            breaks[table.name] = (raw_rows, lake_rows)
    if root.is_dir():
        counts.save()
    return breaks
