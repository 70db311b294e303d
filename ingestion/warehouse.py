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


def raw_columns(extract: Extract) -> list[tuple[str, str]]:
    """(name, DuckDB type) of a raw table: the contract columns, then the lineage columns."""
    return [(c.name, duckdb_type(c.data_type)) for c in extract.columns] + list(LINEAGE_DDL)


def _create(con: duckdb.DuckDBPyConnection, table: str, columns) -> None:
    body = ", ".join(f"{ident(name)} {data_type}" for name, data_type in columns)
    con.execute(f"create table if not exists {RAW_SCHEMA}.{ident(table)} ({body})")
    actual = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [RAW_SCHEMA, table],
    ).fetchall()
    expected = [(name, data_type.replace(" ", "")) for name, data_type in columns]
    actual = [(name, data_type.replace(" ", "")) for name, data_type in actual]
    if actual != expected:
        raise RuntimeError(
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

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection) -> LoadState:
        seen = set(
            con.execute(f"select source_file, content_hash from {RAW_SCHEMA}.load_log").fetchall()
        )
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
        return cls(seen, live, max_id + 1, loaded_content, held)

    def take_load_id(self) -> int:
        load_id = self.next_load_id
        self.next_load_id += 1
        return load_id
