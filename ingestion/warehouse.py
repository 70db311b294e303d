"""The raw schema of the warehouse: DDL from the contract, and the ingestion state it holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

import duckdb
import pyarrow as pa

from ingestion.contract import Extract
from ingestion.discover import FileIdentity
from ingestion.validate import duckdb_type, ident

RAW_SCHEMA = "raw"

LINEAGE_DDL = (
    ("_source_system", "VARCHAR"),
    ("_source_file", "VARCHAR"),
    ("_source_row_number", "BIGINT"),
    ("_business_date", "DATE"),
    ("_load_id", "BIGINT"),
    ("_loaded_at", "TIMESTAMP"),
)

LOAD_LOG_DDL = (
    ("load_id", "BIGINT"),
    ("source_system", "VARCHAR"),
    ("extract_name", "VARCHAR"),
    ("source_file", "VARCHAR"),
    ("business_date", "DATE"),
    ("delivery_date", "DATE"),
    ("sequence_number", "INTEGER"),
    ("content_hash", "VARCHAR"),
    ("file_size_bytes", "BIGINT"),
    ("rows_read", "BIGINT"),
    ("rows_loaded", "BIGINT"),
    ("rows_quarantined", "BIGINT"),
    ("status", "VARCHAR"),
    ("related_load_id", "BIGINT"),
    ("error_message", "VARCHAR"),
    ("loaded_at", "TIMESTAMP"),
)
# A column unreleased builds added last to raw.load_log (the modification time a file was read
# with); ensure_raw_schema drops it: identities live in raw.landing_file_identity.
LOAD_LOG_DROPPED = (("file_mtime_ns", "BIGINT"),)

# The identity of each landing path as last read (docs/decisions.md, "Unchanged landing files
# are not read again"): one row per source_file, replaced whenever ingestion reads the file
# with a stable identity (ingestion.discover.FileIdentity) and its content hash. A file whose
# listed identity equals its row is not read again: the content hash stands. A cache of the
# landing zone, not history: the load log stays append-only, the lake does not mirror it.
IDENTITY_TABLE = "landing_file_identity"
IDENTITY_DDL = (
    ("source_file", "VARCHAR"),
    ("file_size_bytes", "BIGINT"),
    ("file_mtime_ns", "BIGINT"),
    ("file_ctime_ns", "BIGINT"),
    ("file_inode", "UBIGINT"),
    ("content_hash", "VARCHAR"),
    ("recorded_at", "TIMESTAMP"),
)

QUARANTINE_DDL = (
    ("load_id", "BIGINT"),
    ("source_system", "VARCHAR"),
    ("extract_name", "VARCHAR"),
    ("source_file", "VARCHAR"),
    ("source_row_number", "BIGINT"),
    ("raw_text", "VARCHAR"),
    ("column_name", "VARCHAR"),
    ("bad_value", "VARCHAR"),
    ("rule", "VARCHAR"),
    ("reason", "VARCHAR"),
)

# The rows a replaced load had in its raw table, kept when a later delivery replaces them
# (docs/decisions.md, "Period close: a closed month's file delivered again"): the replaced
# load's lineage and its contract columns as one JSON object (the raw table's values; the
# staging models read them back through the contract's types: macro replaced_rows).
REPLACED_ROWS_DDL = (
    ("load_id", "BIGINT"),
    ("source_system", "VARCHAR"),
    ("extract_name", "VARCHAR"),
    ("source_file", "VARCHAR"),
    ("source_row_number", "BIGINT"),
    ("business_date", "DATE"),
    ("loaded_at", "TIMESTAMP"),
    ("replaced_by_load_id", "BIGINT"),
    ("row_values", "VARCHAR"),
)

STATUSES = (
    "loaded",
    "replaced",
    "duplicate",
    "superseded",
    "held",
    "failed",
    "rejected",
    "unknown",
)
LIVE_STATUSES = ("loaded", "replaced")
# The open holds (one definition; the dbt model int_redeliveries_held states the same rule): a
# held file stays open while its row is its path's latest in the load log. Any later row of the
# path closes it: the released file's load (the same content read again) or the path's next
# content (the sender withdrew or corrected the held file: A loaded, B held, A again). So a path
# has at most one open hold, its latest (docs/decisions.md, "No silent loss").
OPEN_HOLDS_SQL = f"""
    select held.*
    from {RAW_SCHEMA}.load_log as held
    where held.status = 'held'
      and not exists (
          select 1 from {RAW_SCHEMA}.load_log as later
          where later.source_file = held.source_file
            and later.load_id > held.load_id)
"""


class WarehouseSchemaError(RuntimeError):
    """A raw table whose columns are not those this version of ingestion writes."""


def raw_columns(extract: Extract) -> list[tuple[str, str]]:
    """(name, DuckDB type) of a raw table: the contract columns, then the lineage columns."""
    return [(c.name, duckdb_type(c.data_type)) for c in extract.columns] + list(LINEAGE_DDL)


def _create(con: duckdb.DuckDBPyConnection, table: str, columns) -> None:
    body = ", ".join(f"{ident(name)} {data_type}" for name, data_type in columns)
    con.execute(f"create table if not exists {RAW_SCHEMA}.{ident(table)} ({body})")


def _tables_columns(
    con: duckdb.DuckDBPyConnection, tables: list[str]
) -> dict[str, list[tuple[str, str]]]:
    """(name, type) of the columns in order of each of these raw tables that exists, in one
    query of the catalog (a query per table cost about 6 ms each, 29 tables per ingestion)."""
    found: dict[str, list[tuple[str, str]]] = {}
    for table, name, data_type in con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name in (select unnest(?)) "
        "order by table_name, ordinal_position",
        [RAW_SCHEMA, tables],
    ).fetchall():
        found.setdefault(table, []).append((name, data_type.replace(" ", "")))
    return found


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    """(name, type) of a raw table's columns in order; empty when it does not exist."""
    return _tables_columns(con, [table]).get(table, [])


def _expected(columns) -> list[tuple[str, str]]:
    return [(name, data_type.replace(" ", "")) for name, data_type in columns]


def check_columns(con: duckdb.DuckDBPyConnection, table: str, columns) -> None:
    """Refuse (WarehouseSchemaError) a raw table whose columns are not ``columns``."""
    _refuse_drift(table, _columns(con, table), columns)


def _refuse_drift(table: str, actual: list[tuple[str, str]], columns) -> None:
    """WarehouseSchemaError when a raw table's columns (``actual``) are not ``columns``."""
    expected = _expected(columns)
    if actual != expected:
        raise WarehouseSchemaError(
            f"{RAW_SCHEMA}.{table} has columns {actual}, the contract expects {expected}; "
            "migrate or rebuild the warehouse"
        )


def _load_log_migratable(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether raw.load_log is an unreleased build's: this version's columns, then the dropped
    ones (LOAD_LOG_DROPPED)."""
    return _columns(con, "load_log") == _expected(LOAD_LOG_DDL + LOAD_LOG_DROPPED)


def ensure_raw_schema(con: duckdb.DuckDBPyConnection, contract: dict[str, Extract]) -> None:
    """Create the raw schema, every raw table (typed from the contract, even for extracts with
    no files yet), raw.load_log, raw.quarantine, raw.replaced_rows and raw.landing_file_identity
    (an older warehouse gains it); drop the column an unreleased build added to raw.load_log;
    refuse tables whose columns have drifted."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    _create_all(con, {extract.name: raw_columns(extract) for extract in contract.values()})
    if _load_log_migratable(con):
        for name, _ in LOAD_LOG_DROPPED:
            con.execute(f"alter table {RAW_SCHEMA}.load_log drop column if exists {ident(name)}")
    _create_all(
        con,
        {
            "load_log": LOAD_LOG_DDL,
            "quarantine": QUARANTINE_DDL,
            "replaced_rows": REPLACED_ROWS_DDL,
            IDENTITY_TABLE: IDENTITY_DDL,
        },
    )


def _create_all(con: duckdb.DuckDBPyConnection, tables: dict[str, list | tuple]) -> None:
    """Create the raw tables that do not exist, then refuse (WarehouseSchemaError) the first,
    in order, whose columns have drifted: the catalog read once for them all."""
    for table, columns in tables.items():
        _create(con, table, columns)
    actual = _tables_columns(con, list(tables))
    for table, columns in tables.items():
        _refuse_drift(table, actual.get(table, []), columns)


@dataclass
class LiveFile:
    """The file whose rows are currently in raw for one extract and business date."""

    load_id: int
    source_file: str
    content_hash: str
    sequence: int
    delivery_date: date
    business_date: date
    rows_loaded: int

    @property
    def rank(self) -> tuple[int, date]:
        return (self.sequence, self.delivery_date)


class OpenHold(NamedTuple):
    """A path's open hold (OPEN_HOLDS_SQL): the held content and the date it was logged (UTC),
    on or after which a release counts (ingestion.load.release_frees)."""

    content_hash: str
    held_on: date


@dataclass
class LoadState:
    """What raw.load_log says has been ingested already."""

    # source_file -> content hash of its latest log row (highest load_id, whatever the status):
    # the path's current content as ingestion last saw it; a file is skipped only when its
    # content is this one (a content the path had before and comes back to is a re-delivery)
    latest: dict[str, str]
    live: dict[tuple[str, date], LiveFile]  # (extract, business date) -> live file
    next_load_id: int
    # (extract, content hash) -> a file with data rows that was loaded with that content
    loaded_content: dict[tuple[str, str], LiveFile] = field(default_factory=dict)
    # source_file -> its open hold (OPEN_HOLDS_SQL: the path's latest row): content, date
    held: dict[str, OpenHold] = field(default_factory=dict)
    # source_file -> (identity, content hash) as raw.landing_file_identity recorded them; empty
    # when every file is to be hashed again (verify) or the table is not there yet
    identities: dict[str, tuple[FileIdentity, str]] = field(default_factory=dict)
    # identities read by this run and not yet written to raw.landing_file_identity
    unrecorded: dict[str, tuple[FileIdentity, str]] = field(default_factory=dict)

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection, verify_hashes: bool = False) -> LoadState:
        """The log's state; ``verify_hashes``: trust no recorded identity (every file is read
        and hashed again). Reads only: a warehouse ensure_raw_schema would migrate (no identity
        table, an unreleased build's load log) reads as one with no identities."""
        if not _load_log_migratable(con):
            check_columns(con, "load_log", LOAD_LOG_DDL)
        latest = dict(
            con.execute(
                f"select source_file, content_hash from {RAW_SCHEMA}.load_log order by load_id"
            ).fetchall()
        )  # in load_id order: a path's latest row wins
        identities = {}
        if not verify_hashes and _columns(con, IDENTITY_TABLE) == _expected(IDENTITY_DDL):
            identities = {
                source_file: (FileIdentity(size, mtime_ns, ctime_ns, inode), content_hash)
                for source_file, size, mtime_ns, ctime_ns, inode, content_hash in con.execute(
                    f"""
                    select source_file, file_size_bytes, file_mtime_ns, file_ctime_ns,
                           file_inode, content_hash
                    from {RAW_SCHEMA}.{IDENTITY_TABLE}
                    """
                ).fetchall()
            }
        loaded = con.execute(
            f"""
            select extract_name, business_date, load_id, source_file, content_hash,
                   sequence_number, delivery_date, rows_loaded, rows_read
            from {RAW_SCHEMA}.load_log
            where status in {LIVE_STATUSES}
            order by load_id
            """
        ).fetchall()
        live, loaded_content = {}, {}
        for extract, business_date, load_id, source_file, content_hash, *rest in loaded:
            sequence, delivery_date, rows_loaded, rows_read = rest
            live_file = LiveFile(
                load_id,
                source_file,
                content_hash,
                sequence,
                delivery_date,
                business_date,
                rows_loaded,
            )
            live[(extract, business_date)] = live_file  # the highest load id wins
            if rows_read:
                loaded_content.setdefault((extract, content_hash), live_file)
        held = {
            source_file: OpenHold(content_hash, held_on)
            for source_file, content_hash, held_on in con.execute(
                f"select source_file, content_hash, cast(loaded_at as date) from ({OPEN_HOLDS_SQL})"
            ).fetchall()
        }
        (max_id,) = con.execute(
            f"select coalesce(max(load_id), 0) from {RAW_SCHEMA}.load_log"
        ).fetchone()
        return cls(latest, live, max_id + 1, loaded_content, held, identities)

    def is_latest(self, source_file: str, content_hash: str) -> bool:
        """Whether this is the content last logged for the path (logged already: skip it)."""
        return self.latest.get(source_file) == content_hash

    def note_logged(self, source_file: str, content_hash: str) -> None:
        """A file this run logs: its content is the path's latest from now on (a hold of the
        path is closed: OPEN_HOLDS_SQL)."""
        self.latest[source_file] = content_hash
        self.held.pop(source_file, None)

    def note_identity(
        self, source_file: str, identity: FileIdentity | None, content_hash: str
    ) -> None:
        """Remember a file's identity as read (None: not stable) with its content hash, to be
        written by write_identities."""
        if identity is not None and self.identities.get(source_file) != (identity, content_hash):
            self.unrecorded[source_file] = (identity, content_hash)

    def write_identities(self, con: duckdb.DuckDBPyConnection, recorded_at: datetime) -> None:
        """Write the identities noted since the last call (in the caller's transaction)."""
        if not self.unrecorded:
            return
        paths = sorted(self.unrecorded)
        noted = [self.unrecorded[p] for p in paths]
        rows = pa.table(
            {
                "source_file": paths,
                "file_size_bytes": [identity.size for identity, _ in noted],
                "file_mtime_ns": [identity.mtime_ns for identity, _ in noted],
                "file_ctime_ns": [identity.ctime_ns for identity, _ in noted],
                "file_inode": pa.array([identity.inode for identity, _ in noted], pa.uint64()),
                "content_hash": [content_hash for _, content_hash in noted],
                "recorded_at": [recorded_at] * len(paths),
            }
        )
        table = f"{RAW_SCHEMA}.{IDENTITY_TABLE}"
        con.register("_identities", rows)
        try:
            con.execute(
                f"delete from {table} where source_file in (select source_file from _identities)"
            )
            con.execute(f"insert into {table} select * from _identities")
        finally:
            con.unregister("_identities")
        self.identities.update(self.unrecorded)
        self.unrecorded.clear()

    def take_load_id(self) -> int:
        load_id = self.next_load_id
        self.next_load_id += 1
        return load_id
