"""The served DuckDB copy: immutable version files behind one stable path.

Layout (CONCORD_SERVED_WAREHOUSE=data/served.duckdb):

    data/served.duckdb                      symbolic link -> served.versions/v000012.duckdb
    data/served.versions/v000011.duckdb     an earlier version (kept for rollback)
    data/served.versions/v000012.duckdb     the current version
    data/served.versions/pointer.log        one JSON line per switch (publish or rollback)

A version is written under a `.partial` name, checkpointed, closed and fsynced, renamed to its
final name, and only then switched in by replacing the link with os.replace (atomic on POSIX),
after which the directory is fsynced. A version is written by difference (publishing/delta.py):
its `.partial` file starts as a copy of the version served now, relations whose content
fingerprint is unchanged are kept, changed ones are patched row by row or rewritten; the first
version, a previous version without fingerprints, and `publish(full=True)` write every relation.
A crash at any moment leaves the link on a complete file; the next publish removes what a crash
left behind. A reader keeps the file it opened; a new connection opens the version the link
names at that moment.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from publishing import core, delta, settings

PAUSE_ENV = "CONCORD_PUBLISH_PAUSE_AT"  # crash tests only: "copy" or "swap" (see _stage)


class PublishBlocked(RuntimeError):
    """The build's blocking checks did not pass: nothing was published."""

    def __init__(self, gate: core.Gate) -> None:
        super().__init__(f"nothing published: {gate.explain()}")
        self.gate = gate


@dataclass
class PublishResult:
    version: int
    path: Path
    gate: core.Gate
    relations: dict[str, int] = field(default_factory=dict)
    bytes_written: int = 0
    seconds: float = 0.0
    deleted: list[int] = field(default_factory=list)
    publication: dict[str, Any] = field(default_factory=dict)
    written_as: str = "full"
    changes: dict[str, delta.Change] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return core.version_name(self.version)

    def summary(self) -> str:
        """`by difference from v000011: 3 kept, 30 patched (-1,316 +4,746 rows), 2 written`."""
        actions = [c.action for c in self.changes.values()]
        deleted = sum(c.deleted for c in self.changes.values())
        inserted = sum(c.inserted for c in self.changes.values())
        return (
            f"{self.written_as}: {actions.count('kept')} kept, {actions.count('patched')} "
            f"patched (-{deleted:,} +{inserted:,} rows), {actions.count('written')} written"
        )


@dataclass(frozen=True)
class Version:
    number: int
    path: Path
    current: bool
    bytes: int
    published_at: datetime | None
    business_dates: tuple[str | None, str | None]


# ---- reading ---------------------------------------------------------------------------------


def current_version(served: Path | None = None) -> int | None:
    served = served or settings.served_path()
    if not served.is_symlink():
        return None
    return core.parse_version(Path(os.readlink(served)).name)


def connect(served: Path | None = None) -> duckdb.DuckDBPyConnection:
    """Open the version served now, read-only. The link is resolved first, so a process that
    still holds an earlier version (DuckDB reuses an open database per path) gets the new one."""
    served = served or settings.served_path()
    for attempt in range(3):
        target = served.resolve()
        try:
            return duckdb.connect(str(target), read_only=True)
        except duckdb.IOException:
            # Retention removed the file between resolving the link and opening it (a
            # publish switched versions in between): resolve again.
            if attempt == 2 or target == served.resolve():
                raise
    raise AssertionError("unreachable")


def current_publication(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """The row of `publication` that describes the open version (the table keeps history)."""
    cursor = con.execute("select * from main.publication order by version desc limit 1")
    rows = cursor.fetchall()
    if not rows:
        return None
    return dict(zip([d[0] for d in cursor.description], rows[0], strict=True))


# ---- helpers ---------------------------------------------------------------------------------


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _exclusive(versions: Path) -> Iterator[None]:
    """One publisher or rollback at a time per served path (an advisory lock the kernel drops
    when the process dies, so a killed publisher never leaves it held)."""
    versions.mkdir(parents=True, exist_ok=True)
    with open(versions / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _stage(name: str, versions: Path) -> None:
    """Crash tests pause a publish at a named stage to kill it there: with
    CONCORD_PUBLISH_PAUSE_AT=copy (a partial version file exists) or =swap (the version file is
    complete, the link not yet switched), it leaves a marker file and sleeps."""
    if os.environ.get(PAUSE_ENV) == name:
        (versions / f".paused-{name}").write_text(str(os.getpid()))
        time.sleep(float(os.environ.get("CONCORD_PUBLISH_PAUSE_SECONDS", "60")))


def version_files(versions: Path) -> dict[int, Path]:
    out = {}
    if versions.is_dir():
        for path in versions.glob("v*.duckdb"):
            number = core.parse_version(path.name)
            if number is not None:
                out[number] = path
    return out


def _clean_leftovers(served: Path, versions: Path) -> None:
    """What a killed publish leaves: partial version files, their WAL, swap links, markers."""
    for path in [
        *versions.glob("*.partial"),
        *versions.glob("*.partial.wal"),
        *versions.glob("*.partial.tmp"),
        *versions.glob(".paused-*"),
        *served.parent.glob(f".{served.name}.*.swap"),
    ]:
        if path.is_dir():  # DuckDB's spill directory of a large patch (`<file>.tmp`)
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _switch(served: Path, target: Path, action: str) -> None:
    """Point the served link at a version file, atomically, and log it."""
    link = served.with_name(f".{served.name}.{os.getpid()}.swap")
    link.unlink(missing_ok=True)
    os.symlink(os.path.relpath(target, served.parent), link)
    os.replace(link, served)
    _fsync_dir(served.parent)
    entry = {"at": datetime.now(UTC).isoformat(), "action": action, "version": target.stem}
    with open(target.parent / "pointer.log", "a") as log:
        log.write(json.dumps(entry) + "\n")


def _retain(versions: Path, keep: int, current: int | None) -> list[int]:
    files = version_files(versions)
    doomed = core.to_delete(files, keep, current)
    for number in doomed:
        files[number].unlink(missing_ok=True)
    if doomed:
        _fsync_dir(versions)
    return doomed


def _exists(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_catalog = ? and table_schema = ? and table_name = ?",
            [catalog, schema, name],
        ).fetchone()[0]
    )


PUBLICATION_DDL = """
create table main.publication (
    version integer not null,
    version_name varchar not null,
    built_at timestamp,
    published_at timestamp not null,
    dbt_invocation_id varchar,
    load_ids bigint[],
    business_dates date[],
    first_business_date date,
    last_business_date date,
    files_by_status varchar,
    rows_loaded bigint,
    rows_quarantined bigint,
    checks_passed varchar[],
    checks_warned varchar[],
    checks_failed varchar[],
    checks_passed_count integer,
    checks_warned_count integer,
    checks_failed_count integer,
    open_exceptions integer,
    open_exceptions_by_severity varchar,
    incomplete_dates date[],
    relation_rows varchar,
    written_as varchar,
    written_from integer,
    relation_changes varchar,
    relation_fingerprints varchar
)
"""


def _build_facts(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """What the build includes, read from the attached build warehouse `build`."""
    facts: dict[str, Any] = {
        "load_ids": [],
        "business_dates": [],
        "files_by_status": {},
        "rows_loaded": 0,
        "rows_quarantined": 0,
        "open_exceptions_by_severity": {},
        "incomplete_dates": [],
    }
    if _exists(con, "build", "raw", "load_log"):
        included = "status in ('loaded', 'replaced')"
        facts["load_ids"] = con.execute(
            f"select coalesce(list(distinct load_id order by load_id), []) "
            f"from build.raw.load_log where {included}"
        ).fetchone()[0]
        facts["business_dates"] = con.execute(
            f"select coalesce(list(distinct business_date order by business_date), []) "
            f"from build.raw.load_log where {included} and business_date is not null"
        ).fetchone()[0]
        rows = con.execute(
            "select status, count(*), coalesce(sum(rows_loaded), 0), "
            "coalesce(sum(rows_quarantined), 0) from build.raw.load_log group by status"
        ).fetchall()
        facts["files_by_status"] = {status: n for status, n, _, _ in sorted(rows)}
        facts["rows_loaded"] = int(sum(r for _, _, r, _ in rows))
        facts["rows_quarantined"] = int(sum(q for _, _, _, q in rows))
    if _exists(con, "build", "marts", "mart_exceptions"):
        facts["open_exceptions_by_severity"] = dict(
            con.execute(
                "select coalesce(severity, 'unknown'), count(*) from build.marts.mart_exceptions "
                "where status in ('open', 'acknowledged') group by all order by 1"
            ).fetchall()
        )
    if _exists(con, "build", "marts", "mart_completeness"):
        facts["incomplete_dates"] = [
            r[0]
            for r in con.execute(
                "select distinct business_date from build.marts.mart_completeness "
                "where not is_complete order by 1"
            ).fetchall()
        ]
    return facts


# ---- publishing ------------------------------------------------------------------------------


def load_json(path: Path | None) -> dict[str, Any] | None:
    if path is None or not path.is_file():
        return None
    return json.loads(path.read_text())


def publish(
    build: Path | None = None,
    run_results: Mapping[str, Any] | None = None,
    manifest: Mapping[str, Any] | None = None,
    served: Path | None = None,
    keep: int | None = None,
    full: bool = False,
) -> PublishResult:
    """Audit the build's results, then publish the public relations of `build` as a new version
    of the served copy, by difference from the version served now unless `full`. Raises
    PublishBlocked (and changes nothing) when a blocking check failed or the build's results
    are missing."""
    started = time.monotonic()
    build = build or settings.build_warehouse_path()
    served = served or settings.served_path()
    keep = keep if keep is not None else settings.keep_versions()
    if run_results is None:
        run_results = load_json(settings.build_results_path(build))
    if manifest is None:
        manifest = load_json(settings.manifest_path())
    gate = core.gate(run_results)
    if gate.blocked:
        raise PublishBlocked(gate)
    relations = core.publishable_relations(manifest or {})
    if not relations:
        raise PublishBlocked(core.Gate(reasons=("the manifest names no relation in marts",)))
    if not build.is_file():
        raise FileNotFoundError(f"no build warehouse at {build}")

    versions = settings.versions_dir(served)
    with _exclusive(versions):
        _clean_leftovers(served, versions)
        current = current_version(served)
        number = core.next_version([*version_files(versions), current or 0])
        final = versions / f"{core.version_name(number)}.duckdb"
        partial = final.with_name(final.name + ".partial")
        try:
            written = _write_version(
                partial,
                build,
                served.resolve() if current else None,
                relations,
                gate,
                run_results,
                number,
                full,
            )
            _stage("swap", versions)
            partial.chmod(0o444)  # immutable: no reader opens a version for writing
            _fsync_file(partial)
            os.replace(partial, final)
            _fsync_dir(versions)
        except BaseException:
            partial.unlink(missing_ok=True)
            Path(f"{partial}.wal").unlink(missing_ok=True)
            raise
        _switch(served, final, "publish")
        deleted = _retain(versions, keep, number)
    return PublishResult(
        version=number,
        path=final,
        gate=gate,
        relations=written.rows,
        bytes_written=final.stat().st_size,
        seconds=time.monotonic() - started,
        deleted=deleted,
        publication=written.publication,
        written_as=written.written_as,
        changes=written.changes,
    )


@dataclass
class _Written:
    rows: dict[str, int]
    publication: dict[str, Any]
    written_as: str
    changes: dict[str, delta.Change]


def _start_from(path: Path, previous: Path | None, full: bool) -> dict[str, delta.Fingerprint]:
    """Begin the `.partial` file as a copy of the previous version and return the fingerprints
    that version recorded; an empty dict (and no file) means every relation is written: no
    previous version, `full`, or a previous version whose `publication` has another layout."""
    if previous is None or full:
        return {}
    shutil.copyfile(previous, path)
    path.chmod(0o644)
    try:
        with duckdb.connect(str(path)) as con:
            layout = con.execute("select * from main.publication limit 0").description
            recorded = con.execute(
                "select relation_fingerprints from main.publication order by version desc limit 1"
            ).fetchone()
    except duckdb.Error:  # a version of an older layout: no fingerprints to compare with
        layout, recorded = [], None
    if [d[0] for d in layout] != _publication_columns() or not recorded or not recorded[0]:
        path.unlink()
        Path(f"{path}.wal").unlink(missing_ok=True)
        return {}
    return {
        name: delta.Fingerprint.from_dict(value) for name, value in json.loads(recorded[0]).items()
    }


def _publication_columns() -> list[str]:
    with duckdb.connect() as con:
        con.execute(PUBLICATION_DDL)
        return [d[0] for d in con.execute("select * from main.publication limit 0").description]


def _publish_relation(
    con: duckdb.DuckDBPyConnection,
    relation: core.Relation,
    before: delta.Fingerprint | None,
    by_difference: bool,
) -> tuple[delta.Change, delta.Fingerprint]:
    """Bring one relation of the new version to the build's content; return what was done and
    the fingerprint of the relation as the new version holds it."""
    source = delta.qualified("build", relation.schema, relation.name)
    target = delta.qualified(None, relation.schema, relation.name)
    catalog = _catalog(con)
    if not by_difference:
        delta.write_whole(con, source, target)
        return delta.Change("written"), delta.fingerprint(
            con, catalog, relation.schema, relation.name
        )
    is_view = con.execute(
        "select table_type = 'VIEW' from information_schema.tables where table_catalog = "
        "'build' and table_schema = ? and table_name = ?",
        [relation.schema, relation.name],
    ).fetchone()[0]
    try:
        if is_view:
            # Evaluated once: the rows fingerprinted are the rows written.
            con.execute(
                f"create or replace temporary table _concord_view as select * from {source}"
            )
            source = "temp.main._concord_view"
            wanted = delta.stage_hashes(con, "temp", "main", "_concord_view")
        else:
            wanted = delta.stage_hashes(con, "build", relation.schema, relation.name)
        held = before is not None and _exists(con, catalog, relation.schema, relation.name)
        hashable = delta.hashable(wanted.columns)
        if held and hashable and before == wanted:
            return delta.Change("kept"), wanted
        if held and hashable and before.columns == wanted.columns:
            change = delta.patch(con, source, target, before.rows, wanted.rows)
        else:
            delta.write_whole(con, source, target)
            if not held:
                reason = "new relation"
            elif not hashable:
                reason = "a column type the row hash cannot compare"
            else:
                reason = "columns changed"
            change = delta.Change("written", reason=reason)
    finally:
        con.execute("drop table if exists temp._concord_new")
        con.execute("drop table if exists temp._concord_view")
    rows = con.execute(f"select count(*) from {target}").fetchone()[0]
    if rows != wanted.rows:
        raise RuntimeError(
            f"{relation.qualified}: the new version holds {rows} rows after it was "
            f"{change.action}, the build {wanted.rows}: nothing published"
        )
    return change, wanted


def _catalog(con: duckdb.DuckDBPyConnection) -> str:
    """The catalog of the version file being written (DuckDB names it after the file)."""
    return con.execute("select current_database()").fetchone()[0]


def _write_version(
    path: Path,
    build: Path,
    previous: Path | None,
    relations: list[core.Relation],
    gate: core.Gate,
    run_results: Mapping[str, Any],
    number: int,
    full: bool = False,
) -> _Written:
    before = _start_from(path, previous, full)
    by_difference = bool(before)
    rows: dict[str, int] = {}
    changes: dict[str, delta.Change] = {}
    fingerprints: dict[str, dict[str, object]] = {}
    con = duckdb.connect(str(path))
    try:
        con.execute(f"attach {_literal(build)} as build (read_only)")
        for schema in sorted({r.schema for r in relations}):
            con.execute(f"create schema if not exists {delta.quote(schema)}")
        for relation in relations:
            if not _exists(con, "build", relation.schema, relation.name):
                raise RuntimeError(
                    f"{relation.qualified} is in the manifest but not in the build warehouse "
                    f"{build}: was the manifest parsed for another project state?"
                )
            columns = [c for c, _ in delta.columns(con, "build", relation.schema, relation.name)]
            if personal := core.personal_columns(columns):
                raise RuntimeError(f"{relation.qualified} has personal data columns {personal}")
            change, fingerprint = _publish_relation(
                con, relation, before.get(relation.qualified), by_difference
            )
            changes[relation.qualified] = change
            fingerprints[relation.qualified] = fingerprint.as_dict()
            rows[relation.qualified] = fingerprint.rows
            _stage("copy", path.parent)
        if by_difference:
            _drop_unpublished(con, relations)
        facts = _build_facts(con)
        con.execute("detach build")
        if not by_difference:
            con.execute(PUBLICATION_DDL)
            if previous is not None:
                _copy_history(con, previous)
        written_from = _described(con) if by_difference else None
        written_as = (
            f"by difference from {core.version_name(written_from)}" if written_from else "full"
        )
        metadata = run_results.get("metadata") or {}
        built_at = metadata.get("generated_at")
        publication = {
            "version": number,
            "version_name": core.version_name(number),
            "built_at": datetime.fromisoformat(built_at.replace("Z", "+00:00")).replace(tzinfo=None)
            if built_at
            else None,
            "published_at": datetime.now(UTC).replace(tzinfo=None),
            "dbt_invocation_id": metadata.get("invocation_id"),
            "load_ids": facts["load_ids"],
            "business_dates": facts["business_dates"],
            "first_business_date": min(facts["business_dates"], default=None),
            "last_business_date": max(facts["business_dates"], default=None),
            "files_by_status": json.dumps(facts["files_by_status"], sort_keys=True),
            "rows_loaded": facts["rows_loaded"],
            "rows_quarantined": facts["rows_quarantined"],
            "checks_passed": list(gate.passed),
            "checks_warned": list(gate.warned),
            "checks_failed": list(gate.failed),
            "checks_passed_count": len(gate.passed),
            "checks_warned_count": len(gate.warned),
            "checks_failed_count": len(gate.failed),
            "open_exceptions": sum(facts["open_exceptions_by_severity"].values()),
            "open_exceptions_by_severity": json.dumps(
                facts["open_exceptions_by_severity"], sort_keys=True
            ),
            "incomplete_dates": facts["incomplete_dates"],
            "relation_rows": json.dumps(rows, sort_keys=True),
            "written_as": written_as,
            "written_from": written_from,
            "relation_changes": json.dumps(
                {name: change.as_dict() for name, change in changes.items()}, sort_keys=True
            ),
            "relation_fingerprints": json.dumps(fingerprints, sort_keys=True),
        }
        names = list(publication)
        con.execute(
            f"insert into main.publication ({', '.join(names)}) "
            f"values ({', '.join('?' for _ in names)})",
            [publication[n] for n in names],
        )
        con.execute("checkpoint")
    finally:
        con.close()
    return _Written(rows, publication, written_as, changes)


def _described(con: duckdb.DuckDBPyConnection) -> int:
    """The version the copied file described before this publication's row is added."""
    return con.execute("select max(version) from main.publication").fetchone()[0]


def _drop_unpublished(con: duckdb.DuckDBPyConnection, relations: list[core.Relation]) -> None:
    """A relation the previous version served that the manifest no longer publishes goes."""
    published = {(r.schema, r.name) for r in relations}
    catalog = _catalog(con)
    for schema, name, kind in con.execute(
        "select table_schema, table_name, table_type from information_schema.tables "
        "where table_catalog = ? and table_schema <> 'main'",
        [catalog],
    ).fetchall():
        if (schema, name) not in published:
            what = "view" if kind == "VIEW" else "table"
            con.execute(f"drop {what} {delta.qualified(None, schema, name)}")


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _copy_history(con: duckdb.DuckDBPyConnection, previous: Path) -> None:
    """Earlier publications' rows, from the version being replaced: `publication` keeps one row
    per publication up to this one. History in an older layout is dropped, not fatal."""
    try:
        con.execute(f"attach {_literal(previous.resolve())} as previous (read_only)")
    except duckdb.Error:
        return
    try:
        if _exists(con, "previous", "main", "publication"):
            con.execute("insert into main.publication by name select * from previous.publication")
    except duckdb.Error:
        pass
    finally:
        con.execute("detach previous")


# ---- listing and rollback --------------------------------------------------------------------


def list_versions(served: Path | None = None) -> list[Version]:
    served = served or settings.served_path()
    current = current_version(served)
    out = []
    for number, path in sorted(version_files(settings.versions_dir(served)).items()):
        published_at, dates = None, (None, None)
        try:
            with duckdb.connect(str(path), read_only=True) as con:
                row = con.execute(
                    "select published_at, first_business_date, last_business_date "
                    "from main.publication where version = ?",
                    [number],
                ).fetchone()
            if row:
                published_at = row[0]
                dates = (str(row[1]) if row[1] else None, str(row[2]) if row[2] else None)
        except duckdb.Error:
            pass
        out.append(
            Version(number, path, number == current, path.stat().st_size, published_at, dates)
        )
    return out


def rollback(version: int, served: Path | None = None) -> Path:
    """Point the served copy at an earlier kept version (after checking that it opens and
    describes itself). Later versions stay until retention removes them."""
    served = served or settings.served_path()
    versions = settings.versions_dir(served)
    with _exclusive(versions):
        path = version_files(versions).get(version)
        if path is None:
            kept = ", ".join(core.version_name(v) for v in sorted(version_files(versions)))
            raise FileNotFoundError(
                f"no version {core.version_name(version)} under {versions} (kept: {kept or 'none'})"
            )
        with duckdb.connect(str(path), read_only=True) as con:
            described = con.execute("select max(version) from main.publication").fetchone()[0]
        if described != version:
            raise RuntimeError(f"{path} describes version {described}, not {version}")
        _switch(served, path, "rollback")
    return path
