"""The served version in PostgreSQL, for BI tools that connect to a server.

Each version is loaded into its own schema (`v000012_marts`: every published relation of the
served DuckDB version, plus `publication`), with grants per dbt group and access level
(publishing.core.roles_for) on the roles `finance`, `merchandising`, `supply_chain`,
`integration` and `analyst`. The switch is one transaction of two schema renames: the schema BI
tools read, `marts`, is renamed back to its version's name and the new version's schema becomes
`marts`. Renaming a schema takes no lock on its tables, so a query running on the old version
finishes on it, and a query starting after the commit reads the new one: never a mixture.
Older version schemas beyond the retention (`CONCORD_SERVED_KEEP`) are dropped.

By difference where it is exact and simple: when the DuckDB version was written by difference
from the version PostgreSQL serves now, a relation that version kept unchanged is copied inside
the server (`create table ... as select` from the served schema) instead of being exported and
loaded again; every other relation is loaded from the DuckDB version.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import psycopg2
from psycopg2 import sql

from publishing import core, served, settings

SERVED_SCHEMA = "marts"
PUBLICATION_LOCK = "concord_publication"  # the advisory lock of loading and switching
_VERSION_SCHEMA = re.compile(r"^v(\d{6,})_marts$")
_SIMPLE_TYPES = {
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric(38, 0)",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20, 0)",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "VARCHAR": "text",
    "UUID": "uuid",
    "JSON": "jsonb",
    "INTERVAL": "interval",
}


@dataclass
class PgResult:
    schema_version: str
    relations: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    dropped: list[str] = field(default_factory=list)
    copied_in_server: list[str] = field(default_factory=list)  # unchanged since the served one


def pg_type(duckdb_type: str) -> str:
    """DuckDB column type -> PostgreSQL column type (lists become arrays)."""
    if duckdb_type.endswith("[]"):
        return pg_type(duckdb_type[:-2]) + "[]"
    decimal = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", duckdb_type)
    if decimal:
        return f"numeric({decimal.group(1)}, {decimal.group(2)})"
    return _SIMPLE_TYPES.get(duckdb_type, "text")


def version_schema(version_name: str) -> str:
    return f"{version_name}_marts"


def _export_expression(column: str, duckdb_type: str) -> str:
    """A column as PostgreSQL's COPY reads it: lists as array literals, the rest as they are."""
    quoted = '"' + column.replace('"', '""') + '"'
    if duckdb_type.endswith("[]"):
        element = "'\"' || replace(replace(cast(x as varchar), '\\', '\\\\'), '\"', '\\\"') || '\"'"
        return (
            f"'{{' || array_to_string(list_transform({quoted}, lambda x: {element}), ',') || '}}'"
        )
    return quoted


def _ensure_roles(cursor: Any) -> None:
    for role in core.ROLES:
        cursor.execute("select 1 from pg_roles where rolname = %s", [role])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))


def _grants(manifest: Mapping[str, Any] | None) -> dict[str, tuple[str, ...]]:
    """Relation name -> roles that may read it. `publication` is readable by every role."""
    grants = {r.name: core.roles_for(r) for r in core.publishable_relations(manifest or {})}
    grants["publication"] = core.ROLES
    return grants


def publish(
    dsn: str,
    served_path: Path | None = None,
    manifest: Mapping[str, Any] | None = None,
    keep: int | None = None,
) -> PgResult:
    """Load the version served now into its own schema, grant, switch, apply retention."""
    started = time.monotonic()
    served_path = served_path or settings.served_path()
    keep = keep if keep is not None else settings.keep_versions()
    if manifest is None:
        manifest = served.load_json(settings.manifest_path())
    grants = _grants(manifest)
    pg = psycopg2.connect(dsn)
    try:
        with served.connect(served_path) as duck:
            publication = served.current_publication(duck)
            if publication is None:
                raise RuntimeError(f"{served_path} holds no publication")
            target = version_schema(publication["version_name"])
            tables = duck.execute(
                "select table_schema, table_name from information_schema.tables "
                "where (table_schema = ? or (table_schema = 'main' and table_name = "
                "'publication')) order by all",
                [SERVED_SCHEMA],
            ).fetchall()
            relations, reusable = _load(pg, duck, target, tables, grants, publication)
            reused = sorted(n for s, n in tables if s == SERVED_SCHEMA and n in reusable)
        dropped = _switch_and_retain(pg, target, publication["version"], keep)
    finally:
        pg.close()
    return PgResult(
        schema_version=publication["version_name"],
        relations=relations,
        seconds=time.monotonic() - started,
        dropped=dropped,
        copied_in_server=reused,
    )


def _reusable(
    cursor: Any, duck: duckdb.DuckDBPyConnection, publication: dict[str, Any]
) -> set[str]:
    """The relations the served schema `marts` already holds with the new version's content:
    those the new DuckDB version kept from the version it was written from, when PostgreSQL
    serves that very version: the same number AND the same publication (its time), so a
    server fed by another versions folder (reset, or shared by two served copies) never lends
    its tables. Called under the publication lock, in the transaction that copies them."""
    based_on = publication.get("written_from")
    if based_on is None or not publication.get("relation_changes"):
        return set()
    cursor.execute("select 1 from pg_namespace where nspname = %s", [SERVED_SCHEMA])
    if cursor.fetchone() is None or _served_version(cursor) != based_on:
        return set()
    cursor.execute(
        sql.SQL("select published_at from {}.publication where version = %s").format(
            sql.Identifier(SERVED_SCHEMA)
        ),
        [based_on],
    )
    served_here = cursor.fetchall()
    ours = duck.execute(
        "select published_at from main.publication where version = ?", [based_on]
    ).fetchall()
    if len(served_here) != 1 or served_here != ours:
        return set()
    changes = json.loads(publication["relation_changes"])
    return {
        name.split(".", 1)[1]
        for name, change in changes.items()
        if name.startswith(f"{SERVED_SCHEMA}.") and change.get("action") == "kept"
    }


def _load(
    pg: Any,
    duck: duckdb.DuckDBPyConnection,
    target: str,
    tables: list[tuple[str, str]],
    grants: dict[str, tuple[str, ...]],
    publication: dict[str, Any],
) -> tuple[dict[str, int], set[str]]:
    """One transaction: the version's schema, its tables and rows, its grants. A crash before
    the commit leaves nothing; a schema left by an earlier attempt is replaced. Returns the row
    counts and the relations copied inside the server (_reusable)."""
    relations: dict[str, int] = {}
    schema = sql.Identifier(target)
    with pg, pg.cursor() as cursor, tempfile.TemporaryDirectory() as scratch:
        # The publication lock for the whole load: no other publisher switches `marts` between
        # the check of what it serves and the copy of its tables.
        cursor.execute(f"select pg_advisory_xact_lock(hashtext('{PUBLICATION_LOCK}'))")
        reusable = _reusable(cursor, duck, publication)
        _ensure_roles(cursor)
        cursor.execute(sql.SQL("drop schema if exists {} cascade").format(schema))
        cursor.execute(sql.SQL("create schema {}").format(schema))
        readers_of_schema: set[str] = set()
        for source_schema, name in tables:
            columns = duck.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [source_schema, name],
            ).fetchall()
            table = sql.SQL("{}.{}").format(schema, sql.Identifier(name))
            if source_schema == SERVED_SCHEMA and name in reusable:
                cursor.execute(
                    sql.SQL("create table {} as select * from {}.{}").format(
                        table, sql.Identifier(SERVED_SCHEMA), sql.Identifier(name)
                    )
                )
                relations[f"{SERVED_SCHEMA}.{name}"] = cursor.rowcount
                expected = duck.execute(f'select count(*) from "{source_schema}"."{name}"')
                if cursor.rowcount != expected.fetchone()[0]:
                    raise RuntimeError(
                        f"{SERVED_SCHEMA}.{name}: PostgreSQL's copy holds {cursor.rowcount} "
                        "rows, the served DuckDB version another count: nothing published"
                    )
                _grant(cursor, table, grants.get(name, ()), readers_of_schema)
                continue
            cursor.execute(
                sql.SQL("create table {} ({})").format(
                    table,
                    sql.SQL(", ").join(
                        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(pg_type(t)))
                        for c, t in columns
                    ),
                )
            )
            csv = Path(scratch) / f"{name}.csv"
            select = ", ".join(_export_expression(c, t) for c, t in columns)
            duck.execute(
                f'copy (select {select} from "{source_schema}"."{name}") '
                f"to '{csv}' (format csv, header)"
            )
            with open(csv) as handle:
                cursor.copy_expert(
                    sql.SQL("copy {} from stdin with (format csv, header true)")
                    .format(table)
                    .as_string(cursor),
                    handle,
                )
            relations[f"{SERVED_SCHEMA}.{name}"] = cursor.rowcount
            _grant(cursor, table, grants.get(name, ()), readers_of_schema)
        for role in sorted(readers_of_schema):
            cursor.execute(
                sql.SQL("grant usage on schema {} to {}").format(schema, sql.Identifier(role))
            )
    return relations, reusable


def _grant(cursor: Any, table: sql.Composable, roles: tuple[str, ...], readers: set[str]) -> None:
    readers |= set(roles)
    for role in roles:
        cursor.execute(sql.SQL("grant select on {} to {}").format(table, sql.Identifier(role)))


def _served_version(cursor: Any) -> int | None:
    cursor.execute(
        "select 1 from information_schema.tables "
        "where table_schema = %s and table_name = 'publication'",
        [SERVED_SCHEMA],
    )
    if cursor.fetchone() is None:
        return None
    cursor.execute(
        sql.SQL("select max(version) from {}.publication").format(sql.Identifier(SERVED_SCHEMA))
    )
    return cursor.fetchone()[0]


def _switch_and_retain(pg: Any, target: str, version: int, keep: int) -> list[str]:
    with pg, pg.cursor() as cursor:
        # One switch at a time; a second publisher waits here, not on readers.
        cursor.execute(f"select pg_advisory_xact_lock(hashtext('{PUBLICATION_LOCK}'))")
        cursor.execute("select 1 from pg_namespace where nspname = %s", [SERVED_SCHEMA])
        if cursor.fetchone() is not None:
            previous = _served_version(cursor)
            parked = (
                version_schema(core.version_name(previous))
                if previous is not None
                else f"marts_before_{version}"
            )
            cursor.execute(
                sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(parked))
            )
            cursor.execute(
                sql.SQL("alter schema {} rename to {}").format(
                    sql.Identifier(SERVED_SCHEMA), sql.Identifier(parked)
                )
            )
        cursor.execute(
            sql.SQL("alter schema {} rename to {}").format(
                sql.Identifier(target), sql.Identifier(SERVED_SCHEMA)
            )
        )
    dropped = []
    with pg, pg.cursor() as cursor:
        cursor.execute("select nspname from pg_namespace")
        kept = sorted(
            (int(m.group(1)), name)
            for (name,) in cursor.fetchall()
            if (m := _VERSION_SCHEMA.match(name))
        )
        # The served version counts as one of the kept.
        for _, name in kept[: max(0, len(kept) - (keep - 1))]:
            # A reader still on a retired version keeps its locks: do not wait for it, the
            # schema goes at a later publish.
            cursor.execute("savepoint retain")
            try:
                cursor.execute("set local lock_timeout = '2s'")
                cursor.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(name)))
                cursor.execute("release savepoint retain")
                dropped.append(name)
            except psycopg2.errors.LockNotAvailable:
                cursor.execute("rollback to savepoint retain")
    return dropped
