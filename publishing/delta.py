"""Publishing by difference: a new version starts as a copy of the version served now, and only
what changed is written into it.

Each published relation has a content fingerprint: its column names and types, its row count
and the sum of a 64-bit hash of every whole row (ROW_HASH, summed exactly as a HUGEINT, so
duplicates and row order are accounted as a multiset). The fingerprints a version
was written with are recorded in its `publication` row. At the next publish each relation of the
build is fingerprinted (one scan of the build) and compared with that record:

* equal: the relation is kept as the previous version holds it (nothing written);
* same columns, different content: the rows are matched by their row hash; rows of the previous
  version whose hash the build no longer has are deleted and rows of the build whose hash the
  previous version lacks are inserted. If a hash found on both sides is held by two rows on
  either (duplicate rows, or a collision), or the rows deleted and inserted together exceed half
  of the rows, the relation is rewritten whole instead;
* new, with other columns, or with a column of a type the hash cannot tell apart (lists,
  structs, maps, floating point: UNHASHABLE_TYPES): written whole.

After the change the relation in the new version must hold the build's row count; a mismatch is
an error and nothing is published. Exactness rests on the row hash: a
changed relation is read as unchanged only if its count and 64-bit hash sum both stay equal,
and a changed row is kept stale only if it has the very hash of a removed row (docs/decisions.md,
"Publishing by difference").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

# A relation rewritten whole rather than patched when more than this share of its rows changed:
# patching would cost more than writing, and would leave the file mostly deleted rows.
REWRITE_SHARE = 0.5
ROW = "__concord_row"  # the alias the whole row is hashed under (no mart has such a column)
# A row's hash. DuckDB's hash of a row combines its last column's hash by XOR, so in a SUM over
# rows values swapped between two rows' last columns can cancel out (found in review: two rows
# exchanging their last values kept the sum). Hashing that hash again mixes it non-linearly, so
# the sum of a changed relation equals the old one only by a 64-bit accident.
ROW_HASH = f"hash(hash({ROW}))"
# Column types whose distinct values DuckDB's hash can confuse ([] and [NULL] and a NULL list,
# nested lists flattened, a struct of NULLs and a NULL struct, -0.0 and 0.0, every NaN): a
# relation with such a column is written whole at every publish, never kept or patched.
UNHASHABLE_TYPES = re.compile(r"\[|\b(STRUCT|MAP|UNION|FLOAT|DOUBLE|REAL)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Fingerprint:
    columns: tuple[tuple[str, str], ...]
    rows: int
    hash_sum: int

    def as_dict(self) -> dict[str, object]:
        # The sum as text: it can exceed what a JSON reader keeps exact in a number.
        return {
            "columns": [list(c) for c in self.columns],
            "rows": self.rows,
            "hash": str(self.hash_sum),
        }

    @classmethod
    def from_dict(cls, value: dict) -> Fingerprint:
        return cls(
            tuple((c, t) for c, t in value["columns"]), int(value["rows"]), int(value["hash"])
        )


def hashable(columns: tuple[tuple[str, str], ...]) -> bool:
    """Whether every column's type is one whose distinct values get distinct hashes."""
    return not any(UNHASHABLE_TYPES.search(data_type) for _, data_type in columns)


@dataclass(frozen=True)
class Change:
    """What publishing did to one relation: kept, patched (rows deleted and inserted) or
    written whole (with the reason)."""

    action: str  # "kept", "patched", "written"
    deleted: int = 0
    inserted: int = 0
    reason: str = ""

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"action": self.action}
        if self.action == "patched":
            out |= {"deleted": self.deleted, "inserted": self.inserted}
        if self.reason:
            out["reason"] = self.reason
        return out


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def qualified(catalog: str | None, schema: str, name: str) -> str:
    parts = ([catalog] if catalog else []) + [schema, name]
    return ".".join(quote(p) for p in parts)


def columns(
    con: duckdb.DuckDBPyConnection, catalog: str, schema: str, name: str
) -> tuple[tuple[str, str], ...]:
    return tuple(
        (column, data_type)
        for column, data_type in con.execute(
            "select column_name, data_type from information_schema.columns where "
            "table_catalog = ? and table_schema = ? and table_name = ? order by ordinal_position",
            [catalog, schema, name],
        ).fetchall()
    )


def fingerprint(
    con: duckdb.DuckDBPyConnection, catalog: str, schema: str, name: str
) -> Fingerprint:
    rows, hash_sum = con.execute(
        f"select count(*), coalesce(sum({ROW_HASH}::hugeint), 0) "
        f"from {qualified(catalog, schema, name)} {ROW}"
    ).fetchone()
    return Fingerprint(columns(con, catalog, schema, name), int(rows), int(hash_sum))


def stage_hashes(
    con: duckdb.DuckDBPyConnection, catalog: str, schema: str, name: str
) -> Fingerprint:
    """Hash every row of a table once, into the temporary table `_concord_new` (its rowid and
    row hash), and return the table's fingerprint from it."""
    con.execute(
        f"create or replace temporary table _concord_new as select rowid as rid, "
        f"{ROW_HASH} as h from {qualified(catalog, schema, name)} {ROW}"
    )
    rows, hash_sum = con.execute(
        "select count(*), coalesce(sum(h::hugeint), 0) from _concord_new"
    ).fetchone()
    return Fingerprint(columns(con, catalog, schema, name), int(rows), int(hash_sum))


def write_whole(con: duckdb.DuckDBPyConnection, source: str, target: str) -> None:
    """Replace `target` by a copy of `source`. The old table is dropped first so that its blocks
    are free for the new one when a version file is patched."""
    con.execute(f"drop table if exists {target}")
    con.execute(f"create table {target} as select * from {source}")


def patch(
    con: duckdb.DuckDBPyConnection, source: str, target: str, rows_before: int, rows_after: int
) -> Change:
    """Turn `target` (the previous version's rows) into the table `source` (the build's) by
    deleting and inserting the rows that differ, matched by their row hash; the source's hashes
    are in `_concord_new` (stage_hashes). Rewrites the target whole instead when a hash found on
    both sides is held by more than one row on either, or when most rows changed."""
    try:
        con.execute(
            f"create temporary table _concord_old as "
            f"select rowid as rid, {ROW_HASH} as h from {target} {ROW}"
        )
        con.execute(
            "create temporary table _concord_pairs as select o.rid as old_rid, n.rid as new_rid "
            "from _concord_old o full join _concord_new n using (h)"
        )
        matched, deleted, inserted = con.execute(
            "select count(*) filter (where old_rid is not null and new_rid is not null), "
            "count(*) filter (where new_rid is null), count(*) filter (where old_rid is null) "
            "from _concord_pairs"
        ).fetchone()
        # A hash held by o rows before and n rows after pairs o x n times: the matched pairs
        # equal the rows kept on both sides only if every such hash is held once on each side.
        if not matched == rows_before - deleted == rows_after - inserted:
            write_whole(con, source, target)
            return Change("written", reason="rows share a row hash")
        if deleted + inserted > REWRITE_SHARE * max(rows_before, rows_after, 1):
            write_whole(con, source, target)
            return Change("written", reason="most rows changed")
        con.execute(
            f"delete from {target} where rowid in "
            f"(select old_rid from _concord_pairs where new_rid is null)"
        )
        con.execute(
            f"insert into {target} select * from {source} where rowid in "
            f"(select new_rid from _concord_pairs where old_rid is null)"
        )
        return Change("patched", deleted=int(deleted), inserted=int(inserted))
    finally:
        for temp in ("_concord_old", "_concord_pairs"):
            con.execute(f"drop table if exists temp.{temp}")
