"""The raw schema of the warehouse: DDL from the contract, and the ingestion state it holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb

from ingestion.contract import Extract
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
    # the file's modification time (ns) when it was read, with file_size_bytes its identity: an
    # unchanged identity is not read again (docs/decisions.md, "Unchanged landing files are not
    # read again"); null when not recorded (never read, unreadable, or modified while read)
    ("file_mtime_ns", "BIGINT"),
)
# Columns added to raw.load_log since warehouses were first built, with the remedy for an
# older warehouse (ingestion does not alter its own tables).
LOAD_LOG_ADDED = {
    "file_mtime_ns": "ALTER TABLE raw.load_log ADD COLUMN file_mtime_ns BIGINT "
    "(existing rows are then read and hashed as before)",
}

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


class WarehouseSchemaError(RuntimeError):
    """A raw table whose columns are not those this version of ingestion writes."""


def raw_columns(extract: Extract) -> list[tuple[str, str]]:
    """(name, DuckDB type) of a raw table: the contract columns, then the lineage columns."""
    return [(c.name, duckdb_type(c.data_type)) for c in extract.columns] + list(LINEAGE_DDL)


def _create(con: duckdb.DuckDBPyConnection, table: str, columns) -> None:
    body = ", ".join(f"{ident(name)} {data_type}" for name, data_type in columns)
    con.execute(f"create table if not exists {RAW_SCHEMA}.{ident(table)} ({body})")
    check_columns(con, table, columns)


def check_columns(con: duckdb.DuckDBPyConnection, table: str, columns) -> None:
    """Refuse (WarehouseSchemaError) a raw table whose columns are not ``columns``; a load log
    that only lacks the columns added since (LOAD_LOG_ADDED) is refused with their remedy."""
    actual = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [RAW_SCHEMA, table],
    ).fetchall()
    expected = [(name, data_type.replace(" ", "")) for name, data_type in columns]
    actual = [(name, data_type.replace(" ", "")) for name, data_type in actual]
    if table == "load_log" and actual and actual == expected[: len(actual)]:
        missing = [name for name, _ in expected[len(actual) :]]
        if missing and all(name in LOAD_LOG_ADDED for name in missing):
            remedy = "; ".join(LOAD_LOG_ADDED[name] for name in missing)
            (path,) = con.execute(
                "select path from duckdb_databases() where database_name = current_database()"
            ).fetchone()
            raise WarehouseSchemaError(
                f"{RAW_SCHEMA}.load_log lacks column(s) {', '.join(missing)} that this version "
                f"of ingestion records: run {remedy} on {path or 'the warehouse'}, or rebuild it"
            )
    if actual != expected:
        raise WarehouseSchemaError(
            f"{RAW_SCHEMA}.{table} has columns {actual}, the contract expects {expected}; "
            "migrate or rebuild the warehouse"
        )


def ensure_raw_schema(con: duckdb.DuckDBPyConnection, contract: dict[str, Extract]) -> None:
    """Create the raw schema, every raw table (typed from the contract, even for extracts with
    no files yet), raw.load_log, raw.quarantine and raw.replaced_rows; refuse tables whose
    columns have drifted."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    for extract in contract.values():
        _create(con, extract.name, raw_columns(extract))
    _create(con, "load_log", LOAD_LOG_DDL)
    _create(con, "quarantine", QUARANTINE_DDL)
    _create(con, "replaced_rows", REPLACED_ROWS_DDL)


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


@dataclass
class LoadState:
    """What raw.load_log says has been ingested already."""

    seen: set[tuple[str, str]]  # (source_file, content_hash) of every logged file
    live: dict[tuple[str, date], LiveFile]  # (extract, business date) -> live file
    next_load_id: int
    # (extract, content hash) -> a file with data rows that was loaded with that content
    loaded_content: dict[tuple[str, str], LiveFile] = field(default_factory=dict)
    # source_file -> content hash of a held file not released since
    held: dict[str, str] = field(default_factory=dict)
    # (source_file, size, mtime_ns) -> content hash the log recorded for a file read with that
    # identity (the latest such row); empty when every file is to be hashed again (verify)
    identities: dict[tuple[str, int, int], str] = field(default_factory=dict)

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection, verify_hashes: bool = False) -> LoadState:
        """The log's state; ``verify_hashes``: trust no recorded identity (every file is read
        and hashed again)."""
        check_columns(con, "load_log", LOAD_LOG_DDL)  # an older log: its remedy, not a SQL error
        seen = set(
            con.execute(f"select source_file, content_hash from {RAW_SCHEMA}.load_log").fetchall()
        )
        identities = {}
        if not verify_hashes:
            identities = {
                (source_file, size, mtime_ns): content_hash
                for source_file, size, mtime_ns, content_hash in con.execute(
                    f"""
                    select source_file, file_size_bytes, file_mtime_ns, content_hash
                    from {RAW_SCHEMA}.load_log
                    where file_mtime_ns is not null
                    order by load_id
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
        held = dict(
            con.execute(
                f"""
                select held.source_file, held.content_hash
                from {RAW_SCHEMA}.load_log as held
                where held.status = 'held'
                  and not exists (
                      select 1 from {RAW_SCHEMA}.load_log as later
                      where later.source_file = held.source_file
                        and later.content_hash = held.content_hash
                        and later.load_id > held.load_id)
                """
            ).fetchall()
        )
        (max_id,) = con.execute(
            f"select coalesce(max(load_id), 0) from {RAW_SCHEMA}.load_log"
        ).fetchone()
        return cls(seen, live, max_id + 1, loaded_content, held, identities)

    def take_load_id(self) -> int:
        load_id = self.next_load_id
        self.next_load_id += 1
        return load_id
