"""Load landing-zone files into the raw schema: every row loaded or quarantined, with lineage.

Public API: ``discover(landing_dir)``, ``ingest(landing_dir, warehouse, business_dates=None,
extracts=None)`` and ``IngestReport``. ``ingest`` and ``log_stray_files`` list the landing zone
themselves unless given its listing (``files``: orchestration.run lists it once per run).

What ``ingest`` writes (DuckDB schema ``raw``):

* ``raw.<extract>`` for every extract of the contract (created, typed, even with no files):
  the contract columns plus ``_source_system``, ``_source_file`` (relative to the landing dir),
  ``_source_row_number`` (1-based data row, header excluded; the line number for JSON lines; the
  row for Parquet), ``_business_date`` (the date in the file name), ``_load_id``, ``_loaded_at``
  (UTC). A CSV or TSV file of no bytes fails (it lacks its header); JSON lines of no bytes are a
  delivery of no rows.
* ``raw.quarantine``: every rejected row, once, with the rule it broke (see
  ``ingestion.validate`` for the rules and their order). A row with several problems gets one
  quarantine row, for the first failing check: structure first, then the columns in contract
  order.
* ``raw.replaced_rows``: every row a replaced file had in its raw table, once, moved there in
  the transaction that replaces it (a file replaced by a later file of the same run never
  reaches the raw table: its loaded rows are kept from the stage, with the same values and
  lineage, so one run and several give the same rows): the replaced load's id and lineage,
  ``replaced_by_load_id`` (the load that replaced it) and ``row_values``, the contract columns
  as one JSON object of the raw table's values. A closed period keeps what it was closed with
  from them (docs/decisions.md, "Period close: a closed month's file delivered again").
* ``raw.landing_file_identity``: one row per landing path read with a stable identity: its
  size, mtime, ctime, inode and content hash when last read (replaced at each such read).
* ``raw.load_log``: one row per file seen (per content of a path, each time the path's content
  changes: a path back to a content it had before gets a new row), with a status:

  ``loaded``     rows loaded (and bad rows quarantined).
  ``replaced``   a later delivery of the same extract and business date with different content:
                 loaded, and the rows (and quarantine rows) of the file that was live for that
                 extract and business date were deleted from the raw table (and quarantine);
                 ``related_load_id`` names that file. Its loaded rows are kept in
                 ``raw.replaced_rows`` (below).
  ``duplicate``  same content hash as the live file of the same extract and business date:
                 nothing loaded; ``related_load_id`` names the live file.
                 Also a file with data rows whose content equals a file of the same extract
                 already loaded under another business date (an event extract's copy under
                 another name): nothing loaded, ``related_load_id`` names that file. Content
                 this business date had before (A, B, A again) is no such copy: it is judged
                 as a re-delivery.
  ``superseded`` an older delivery (lower sequence, or same sequence and an earlier delivery
                 folder) arriving after a newer one is live: nothing loaded.
  ``held``       a re-delivery that would replace the live file but has no data rows, or would
                 lose more than the extract's ``redelivery_max_row_loss`` share of the live
                 file's loaded rows: nothing loaded, the live file stays (``related_load_id``),
                 row counts say what the file would have given. An owner releases it with
                 action ``release`` for exception ``held_exception_id(source_file)`` in the
                 exception actions seed, dated on or after the day of the hold (an earlier
                 release answered an earlier hold of the path: ``release_frees``); the next
                 run then loads it (a new log row). A hold
                 is open while it is its path's latest log row: the release's load or the
                 path's next content closes it (``warehouse.OPEN_HOLDS_SQL``).
  ``failed``     the file as a whole cannot be loaded (unreadable, empty, not UTF-8, truncated,
                 CR LF line ends, a UTF-8 byte order mark, wrong header, corrupt or mistyped
                 Parquet): nothing loaded. A file the operating system refuses to read (no
                 permission) is logged with a hash of the error, so it is logged once and read
                 again, as new content, once it can be read.
  ``rejected``   never opened or refused by its name: a symbolic link or other non-regular
                 entry, or a business date outside the window the contract allows around the
                 delivery date: nothing loaded.
  ``unknown``    the path matches no extract of the contract: nothing loaded.

  Row counts: for ``loaded`` and ``replaced`` files rows_read = rows_loaded + rows_quarantined.
  For held files the counts are what the file would have given. For every other status
  rows_loaded = rows_quarantined = 0 and rows_read is the number of data lines seen for a failed
  text file (header excluded, a truncated last line counted), the row
  count in the footer of a Parquet file whose schema is wrong, and 0 otherwise (corrupt Parquet;
  duplicate, superseded and unknown files are recognised without being parsed). rows_loaded of a
  file counts the rows it contributed when loaded, even if a later delivery replaced them.

Replacement policy: at most one file per extract and business date is live (its rows are in the
raw table); it is the one with the highest load_id among ``loaded``/``replaced`` rows of the log.
A later delivery (higher sequence, or the same sequence in a later delivery folder, or the same
path with new content) with different content replaces it. A path whose content goes back to
one it had before (A, then B, then A again: the sender reverted its correction) is a
re-delivery like any other change (docs/decisions.md, "A reverted content is a re-delivery").

Idempotency: a file whose content hash is the one last logged for its path (the path's log row
of the highest load_id, whatever its status) is skipped without a new log row, so ingesting the
same landing zone again changes nothing. A file whose identity as
listed (``ingestion.discover.FileIdentity``: size, mtime, ctime and inode) equals the one
``raw.landing_file_identity`` recorded for its path when it was last read is not read again:
the recorded content hash stands (docs/decisions.md, "Unchanged landing files are not read
again"); any difference reads and hashes it. ``verify_hashes`` (or
CONCORD_VERIFY_HASHES=1) reads and hashes every file again. Files are processed extract by
extract, business dates in order, each group of whole business dates in one transaction (raw
rows, quarantine rows, deletions of replaced rows and the log rows together), so a crash never
leaves part of a file. Unexpected errors roll the group back and propagate: the files stay
unlogged and are retried by the next run.

Lake: given a ``lake_dir``, ``ingest`` and ``log_stray_files`` then mirror the raw tables as
Parquet there (``ingestion.lake.sync_lake``, after every transaction committed; its outcome in
``IngestReport.lake``).

Filters: ``extracts`` limits ingestion to those extracts (unknown files are then not logged);
``business_dates`` limits it to files whose name carries one of those dates (unknown files with
no readable business date are then not logged).
"""

from __future__ import annotations

import csv
import hashlib
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from ingestion.checks import check_parquet_bytes, check_text_file
from ingestion.contract import PROJECT_ROOT, Extract, load_contract
from ingestion.discover import (
    VERIFY_ENV,
    FileIdentity,
    LandingFile,
    discover,
    verify_hashes_requested,
)
from ingestion.lake import LakeSync, sync_lake
from ingestion.validate import (
    CONTENT_TABLE,
    STAGE_TABLE,
    ident,
    parquet_type_problem,
    stage_parquet_sql,
    stage_table_ddl,
    stage_text_sql,
)
from ingestion.warehouse import (
    LOAD_LOG_DDL,
    RAW_SCHEMA,
    LiveFile,
    LoadState,
    OpenHold,
    ensure_raw_schema,
)

__all__ = [
    "FileResult",
    "IngestReport",
    "LandingFile",
    "discover",
    "held_exception_id",
    "ingest",
    "VERIFY_ENV",
    "verify_hashes_requested",
]

# File bytes validated per transaction (whole business dates are never split): bounds memory
# (peak resident memory at scale factor 1 is about 10x this) at little cost in speed.
CHUNK_BYTES = 64 * 1024 * 1024
META_TABLE = "_ingest_meta"
# What raw.quarantine keeps of a rejected row's text and bad value (characters).
MAX_QUARANTINE_TEXT = 4000
MAX_BAD_VALUE = 200
# The owners' decisions on exceptions (finance edits it); action "release" frees a held file.
EXCEPTION_ACTIONS = PROJECT_ROOT / "seeds" / "exception_actions.csv"
ATTENTION_STATUSES = ("failed", "held", "rejected", "unknown")
# A file modified or changed (mtime or ctime) this close to (or after) the moment before it was
# opened keeps no identity (it is hashed again next time): a rewrite in the same tick of a
# coarse file system clock could otherwise keep its identity (git's "racily clean" entries).
# Assumes the file system's clock is within this of the local one.
RACY_WINDOW_NS = 2_000_000_000
_clock_ns = time.time_ns  # the local clock the racy window is measured on (tests move it)


@dataclass
class FileResult:
    """What one run did with one file (one raw.load_log row)."""

    load_id: int
    source_file: str
    extract: str | None
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    error_message: str | None = None
    related_load_id: int | None = None


@dataclass
class IngestReport:
    """Outcome of one ``ingest`` run. Counts are of files and rows this run logged; files
    whose content is the one last logged for their path are only counted in
    ``files_skipped``. ``files_vanished``: files of the caller's listing gone (removed or
    renamed) before they were read, logged by no one: the next listing decides."""

    files_seen: int = 0
    files_skipped: int = 0
    files_vanished: int = 0
    files_loaded: int = 0
    files_replaced: int = 0
    files_duplicate: int = 0
    files_superseded: int = 0
    files_held: int = 0
    files_failed: int = 0
    files_rejected: int = 0
    files_unknown: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    seconds: float = 0.0
    files: list[FileResult] = field(default_factory=list)
    lake: LakeSync | None = None  # the lake sync after the run, when there is a lake

    @property
    def problems(self) -> list[str]:
        """Messages of the files that loaded nothing (failed, unknown, duplicate, superseded)."""
        return [f.error_message for f in self.files if f.error_message]

    @property
    def needs_attention(self) -> list[FileResult]:
        """Files of this run that a person must look at: failed, held, rejected, unknown."""
        return [f for f in self.files if f.status in ATTENTION_STATUSES]

    def add(self, result: FileResult) -> None:
        self.files.append(result)
        counter = f"files_{result.status}"
        setattr(self, counter, getattr(self, counter) + 1)
        self.rows_loaded += result.rows_loaded
        self.rows_quarantined += result.rows_quarantined

    def _vanished_count(self) -> str:
        return f", vanished since the listing {self.files_vanished}" if self.files_vanished else ""

    def summary(self) -> str:
        lines = [
            f"files seen {self.files_seen}: loaded {self.files_loaded}, replaced "
            f"{self.files_replaced}, duplicate {self.files_duplicate}, superseded "
            f"{self.files_superseded}, held {self.files_held}, failed {self.files_failed}, "
            f"rejected {self.files_rejected}, unknown {self.files_unknown}, "
            f"already ingested {self.files_skipped}" + self._vanished_count(),
            f"rows loaded {self.rows_loaded}, rows quarantined {self.rows_quarantined}",
            f"seconds {self.seconds:.2f}",
        ]
        if self.lake is not None:
            lines.append(self.lake.summary())
        lines += [
            f"  {f.status}: {f.error_message}"
            for f in self.files
            if f.status in (*ATTENTION_STATUSES, "duplicate", "superseded")
        ]
        return "\n".join(lines)


@dataclass
class _Entry:
    """A file being logged in the current transaction."""

    file: LandingFile
    load_id: int
    content_hash: str
    size: int
    status: str = "loaded"
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    error_message: str | None = None
    related_load_id: int | None = None
    data: bytes | None = None  # text formats: the validated UTF-8 content, to be staged
    parquet_table: str | None = None  # Parquet, read into this temp table
    released: bool = False  # a held file an owner released: replaces without a hold check

    @property
    def staged(self) -> bool:
        return self.status in ("loaded", "replaced")

    def result(self) -> FileResult:
        return FileResult(
            self.load_id,
            self.file.source_file,
            self.file.extract,
            self.status,
            self.rows_read,
            self.rows_loaded,
            self.rows_quarantined,
            self.error_message,
            self.related_load_id,
        )


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _verifying(verify_hashes: bool | None) -> bool:
    """A caller's ``verify_hashes``, the environment's when None."""
    return verify_hashes_requested() if verify_hashes is None else verify_hashes


def _selected(f: LandingFile, business_dates: set[date] | None, extracts: set[str] | None) -> bool:
    if extracts is not None and f.extract not in extracts:
        return False
    return business_dates is None or f.business_date in business_dates


def held_exception_id(source_file: str) -> str:
    """The id of a held file's exception in the queue (the dbt exception models build ids as
    md5 of '<type>|<natural key>'; a held file's natural key is its source_file)."""
    return hashlib.md5(f"held_redelivery|{source_file}".encode()).hexdigest()


def released_exception_ids(actions: Path | None) -> dict[str, date]:
    """Exception ids an owner released (action ``release``) in the exception actions seed, each
    with its latest release's action_date (a row without a valid date, which the seed's tests
    refuse, releases nothing). Which hold a release frees: release_frees."""
    if actions is None or not Path(actions).is_file():
        return {}
    released: dict[str, date] = {}
    with open(actions, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            exception_id = (row.get("exception_id") or "").strip()
            if (row.get("action") or "").strip() != "release" or not exception_id:
                continue
            try:
                action_date = date.fromisoformat((row.get("action_date") or "").strip())
            except ValueError:
                continue
            released[exception_id] = max(action_date, released.get(exception_id, action_date))
    return released


def release_frees(released_on: date | None, hold: OpenHold) -> bool:
    """Whether a release dated ``released_on`` (None: none) frees this open hold: only one dated
    on or after the day the hold was logged. The exception id is the path's, so an earlier
    release answered an earlier hold of the path; a content nobody looked at is judged anew
    (docs/decisions.md, "An owner's action answers one occurrence"; the dbt macro
    action_answers states the same rule for waivers and the exception queue)."""
    return released_on is not None and released_on >= hold.held_on


def ingest(
    landing_dir: Path,
    warehouse: Path,
    business_dates: set[date] | None = None,
    extracts: set[str] | None = None,
    *,
    connection: duckdb.DuckDBPyConnection | None = None,
    actions: Path | None = EXCEPTION_ACTIONS,
    lake_dir: Path | None = None,
    verify_hashes: bool | None = None,
    files: list[LandingFile] | None = None,
) -> IngestReport:
    """Load every selected landing file into ``raw`` (see the module docstring).

    ``connection``: an open connection to the warehouse to use instead of opening ``warehouse``
    (the caller then owns it; it must not be inside a transaction). ``actions``: the exception
    actions seed whose ``release`` actions free held files (default: the project's seed).
    ``lake_dir``: the Parquet lake to sync after the run (None: no lake). ``verify_hashes``:
    read and hash every file again, trusting no recorded identity (None: CONCORD_VERIFY_HASHES).
    ``files``: the landing zone as the caller listed it (ingestion.discover; None: list it now).
    A file changed since that listing is judged by its identity as listed: one whose identity
    was recorded is skipped until the next listing sees it changed; one that is read is hashed
    and recorded as read, never with the listing's identity (docs/decisions.md, "One listing
    of the landing zone per run").
    """
    started = time.perf_counter()
    landing_dir = Path(landing_dir)
    verify = _verifying(verify_hashes)
    contract = load_contract()
    if extracts is not None:
        unknown = sorted(set(extracts) - set(contract))
        if unknown:
            raise ValueError(f"unknown extracts {unknown}; the contract has {sorted(contract)}")
    listed = files is not None
    files = [f for f in _listing(landing_dir, files) if _selected(f, business_dates, extracts)]
    report = IngestReport(files_seen=len(files))
    con = connection
    if con is None:
        Path(warehouse).parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(warehouse))
        con.execute("set enable_progress_bar = false")
    try:
        ensure_raw_schema(con, contract)
        state = LoadState.read(con, verify)
        released = released_exception_ids(actions)
        by_extract: dict[str, list[LandingFile]] = {}
        for f in files:
            if f.is_known:
                by_extract.setdefault(f.extract, []).append(f)
        for name in sorted(by_extract):
            for chunk in _chunks(by_extract[name]):
                _ingest_chunk(con, contract[name], chunk, state, report, released, listed)
        _log_unread(con, [f for f in files if not f.is_known], state, report, listed)
        if lake_dir is not None:
            report.lake = sync_lake(con, lake_dir, extracts)
    finally:
        if connection is None:
            con.close()
    report.seconds = time.perf_counter() - started
    return report


def _chunks(files: list[LandingFile]) -> list[list[LandingFile]]:
    """Group an extract's files into transactions of whole business dates, by size."""
    groups: dict[date, list[LandingFile]] = {}
    for f in files:  # discover order: delivery date, then name
        groups.setdefault(f.business_date, []).append(f)
    chunks, current, size = [], [], 0
    for business_date in sorted(groups):
        group = groups[business_date]
        group_size = sum(f.size or 0 for f in group)
        if current and size + group_size > CHUNK_BYTES:
            chunks.append(current)
            current, size = [], 0
        current.extend(group)
        size += group_size
    if current:
        chunks.append(current)
    return chunks


def _read_bytes(path: Path) -> tuple[bytes, FileIdentity | None]:
    """A landing file's bytes, refusing to follow a symbolic link put in its place, and the
    identity to record with its content hash: taken from the open file (fstat) before reading,
    so a change while reading leaves a later one; None when its mtime or ctime is less than
    RACY_WINDOW_NS before the moment before it was opened (or after), or its size changed."""
    now = _clock_ns()
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(descriptor, "rb") as handle:
        identity = FileIdentity.of(os.fstat(handle.fileno()))
        data = handle.read()
    changed = max(identity.mtime_ns, identity.ctime_ns)
    stable = len(data) == identity.size and changed < now - RACY_WINDOW_NS
    return data, identity if stable else None


def _known_hash(f: LandingFile, state: LoadState) -> str | None:
    """The content hash recorded for this file's identity as listed, or None when the file must
    be read and hashed (no identity recorded for its path, another one, or one recorded with a
    content that is not the path's latest logged: a warehouse of an earlier version recorded
    the identity of a reverted file it skipped)."""
    recorded = state.identities.get(f.source_file)
    if f.identity is None or recorded is None or recorded[0] != f.identity:
        return None
    if not state.is_latest(f.source_file, recorded[1]):
        return None
    return recorded[1]


def _unreadable(f: LandingFile, error: OSError) -> tuple[str, str]:
    """Content hash and message of a file that cannot be opened or read (no permission)."""
    reason = error.strerror or str(error)
    return (
        hashlib.sha256(f"cannot be read:{reason}".encode()).hexdigest(),
        f"{f.source_file}: cannot be read ({reason}); nothing loaded",
    )


def _released_hold(
    f: LandingFile, content_hash: str, state: LoadState, released: dict[str, date]
) -> bool:
    """Whether this path and content is its path's open hold and an owner released it since
    (release_frees)."""
    hold = state.held.get(f.source_file)
    return (
        hold is not None
        and hold.content_hash == content_hash
        and release_frees(released.get(held_exception_id(f.source_file)), hold)
    )


def _read(
    f: LandingFile, state: LoadState, released: dict[str, date]
) -> tuple[bytes, str, bool] | None:
    """The file's bytes, sha256 and whether it is a held file now released; None when its
    content is the one last logged for its path (and not released from a hold since): a path
    back to a content it had before is read and judged again. A file whose identity was
    recorded with the path's latest content is not read unless released; a file read with a
    stable identity has it noted (state.note_identity), logged or not, so the next run need
    not read it."""
    known = _known_hash(f, state)  # only ever the path's latest logged content
    if known is not None and not _released_hold(f, known, state, released):
        return None
    data, identity = _read_bytes(f.path)
    content_hash = hashlib.sha256(data).hexdigest()
    state.note_identity(f.source_file, identity, content_hash)
    if state.is_latest(f.source_file, content_hash):
        if _released_hold(f, content_hash, state, released):
            del state.held[f.source_file]
            return data, content_hash, True
        return None
    state.note_logged(f.source_file, content_hash)
    return data, content_hash, False


def _check(con: duckdb.DuckDBPyConnection, extract: Extract, entry: _Entry, data: bytes) -> None:
    """Whole-file checks; on failure set the entry failed, else keep what staging needs."""
    source_file = entry.file.source_file
    if extract.file_format != "parquet":
        check = check_text_file(source_file, data, extract)
        entry.data = data
        if check.problem:
            entry.status, entry.error_message, entry.rows_read = (
                "failed",
                check.problem,
                check.data_lines,
            )
        return
    problem = check_parquet_bytes(source_file, data)
    if problem:
        entry.status, entry.error_message = "failed", problem
        return
    table = f"_ingest_parquet_{entry.load_id}"
    try:
        con.execute(
            f"create or replace temp table {table} as "
            "select * from read_parquet(?, file_row_number = true)",
            [str(entry.file.path)],
        )
    except duckdb.Error as error:
        first_line = str(error).strip().splitlines()[0]
        entry.status, entry.error_message = (
            "failed",
            f"{source_file}: corrupt Parquet: {first_line}",
        )
        return
    entry.parquet_table = table
    schema = dict(
        con.execute(f"select column_name, column_type from (describe {table})").fetchall()
    )
    schema.pop("file_row_number", None)
    problems = []
    missing = [c for c in extract.column_names if c not in schema]
    extra = [c for c in schema if c not in extract.column_names]
    if missing:
        problems.append("missing column(s) " + ", ".join(repr(c) for c in missing))
    if extra:
        problems.append("unexpected column(s) " + ", ".join(repr(c) for c in extra))
    for column in extract.columns:
        if column.name in schema:
            type_problem = parquet_type_problem(column, schema[column.name])
            if type_problem:
                problems.append(type_problem)
    if problems:
        (rows,) = con.execute(f"select count(*) from {table}").fetchone()
        entry.status, entry.rows_read = "failed", rows
        entry.error_message = f"{source_file}: " + "; ".join(problems)


def _decide(extract: Extract, entry: _Entry, state: LoadState) -> None:
    """Loaded, replaced, duplicate, superseded or held, from the live file of its business date
    and the row counts staging found (rows_read, rows_loaded)."""
    f = entry.file
    key = (extract.name, f.business_date)
    live = state.live.get(key)
    rank = (f.sequence, f.delivery_date)
    if live is not None and live.content_hash == entry.content_hash:
        _not_loaded(entry, "duplicate", live)
        entry.error_message = (
            f"{f.source_file}: same content as {live.source_file} "
            f"(load_id {live.load_id}), already loaded"
        )
        return
    twin = state.loaded_content.get((extract.name, entry.content_hash))
    if (
        twin is not None
        # the rule is for another business date: a path's own earlier content or another file
        # of this date with a content it had before (A, B, A: a revert) is judged below
        and twin.business_date != f.business_date
        and extract.cadence != "weekly_snapshot"
        and entry.rows_read
    ):
        _not_loaded(entry, "duplicate", twin)
        entry.error_message = (
            f"{f.source_file}: same content as {twin.source_file} (load_id {twin.load_id}, "
            f"business date {twin.business_date}), delivered again under business date "
            f"{f.business_date}; not loaded twice"
        )
        return
    if live is not None and rank < live.rank:
        _not_loaded(entry, "superseded", live)
        entry.error_message = (
            f"{f.source_file}: older delivery (sequence {f.sequence}, delivered "
            f"{f.delivery_date}) than the loaded {live.source_file} "
            f"(sequence {live.sequence}, delivered {live.delivery_date})"
        )
        return
    if live is not None and not entry.released:
        reason = _hold_reason(extract, entry, live)
        if reason:
            entry.status, entry.related_load_id = "held", live.load_id
            entry.error_message = (
                f"{f.source_file}: held, not loaded: {reason}; {live.source_file} "
                f"(load_id {live.load_id}) stays live. Release it with action 'release' for "
                f"exception {held_exception_id(f.source_file)} in the exception actions seed."
            )
            return
    if live is not None:
        entry.status, entry.related_load_id = "replaced", live.load_id
    if entry.released:
        entry.error_message = (
            f"{f.source_file}: released from hold by its owner "
            f"(exception {held_exception_id(f.source_file)})"
        )
    live_file = LiveFile(
        entry.load_id,
        f.source_file,
        entry.content_hash,
        f.sequence,
        f.delivery_date,
        f.business_date,
        entry.rows_loaded,
    )
    state.live[key] = live_file
    if entry.rows_read:
        state.loaded_content.setdefault((extract.name, entry.content_hash), live_file)


def _not_loaded(entry: _Entry, status: str, related: LiveFile) -> None:
    """A file recognised without loading it: no rows counted (the log's convention)."""
    entry.status, entry.related_load_id = status, related.load_id
    entry.rows_read = entry.rows_loaded = entry.rows_quarantined = 0


def _hold_reason(extract: Extract, entry: _Entry, live: LiveFile) -> str | None:
    """Why a re-delivery must not replace the live file yet (None when it may)."""
    if entry.rows_read == 0:
        return f"it has no data rows, and would erase the {live.rows_loaded} rows of the live file"
    lost = live.rows_loaded - entry.rows_loaded
    if live.rows_loaded and lost / live.rows_loaded > extract.redelivery_max_row_loss:
        return (
            f"it would load {entry.rows_loaded} rows ({entry.rows_quarantined} of its "
            f"{entry.rows_read} rows quarantined) in place of the live file's "
            f"{live.rows_loaded}, losing {lost / live.rows_loaded:.0%}, more than the "
            f"{extract.redelivery_max_row_loss:.0%} the contract allows for {extract.name}"
        )
    return None


def _ingest_chunk(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    files: list[LandingFile],
    state: LoadState,
    report: IngestReport,
    released: dict[str, date],
    listed: bool = False,
) -> None:
    entries: list[_Entry] = []
    for f in files:
        try:
            read = _read(f, state, released)
        except OSError as error:
            if listed and _vanished(f, error):
                report.files_vanished += 1
                continue
            content_hash, message = _unreadable(f, error)
            if state.is_latest(f.source_file, content_hash):
                report.files_skipped += 1
                continue
            state.note_logged(f.source_file, content_hash)
            entry = _Entry(f, state.take_load_id(), content_hash, 0, "failed")
            entry.error_message = message
            entries.append(entry)
            continue
        if read is None:
            report.files_skipped += 1
            continue
        data, content_hash, is_release = read
        entry = _Entry(f, state.take_load_id(), content_hash, len(data), released=is_release)
        _check(con, extract, entry, data)
        if entry.status == "failed":
            entry.data = None
        entries.append(entry)
    if not entries:
        _write_identities(con, state)
        return
    readable = [e for e in entries if e.status != "failed"]
    if readable:
        _stage(con, extract, readable)  # row counts first: holds depend on them
    for entry in readable:  # in delivery order: each decision sees the ones before it
        _decide(extract, entry, state)
    staged = [e for e in entries if e.staged]
    live_ids = {live.load_id for live in state.live.values()}
    keep = {e.load_id for e in staged if e.load_id in live_ids}
    staged_ids = {e.load_id for e in staged}
    replaced_by = {e.related_load_id: e.load_id for e in staged if e.status == "replaced"}
    to_delete = sorted(set(replaced_by) - staged_ids)
    # a file replaced within this chunk never reaches the raw table: its rows are kept from
    # the stage, as a later run would have kept them from the raw table
    replaced_here = {old: new for old, new in replaced_by.items() if old in staged_ids}
    loaded_at = _utc_now()
    con.execute("begin transaction")
    try:
        table = f"{RAW_SCHEMA}.{ident(extract.name)}"
        if replaced_here:
            _keep_staged_replaced_rows(con, extract, staged, replaced_here, loaded_at)
        if to_delete:
            _keep_replaced_rows(con, extract, {old: replaced_by[old] for old in to_delete})
            con.execute(f"delete from {table} where _load_id in (select unnest(?))", [to_delete])
            con.execute(
                f"delete from {RAW_SCHEMA}.quarantine where load_id in (select unnest(?))",
                [to_delete],
            )
        if keep:
            _insert_rows(con, extract, staged, keep, loaded_at)
        _insert_log(con, entries, loaded_at)
        state.write_identities(con, loaded_at)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        _drop_temp(con, entries)
    for entry in entries:
        report.add(entry.result())


def _keep_replaced_rows(
    con: duckdb.DuckDBPyConnection, extract: Extract, replaced_by: dict[int, int]
) -> None:
    """Copy the raw rows of the replaced loads (keys of ``replaced_by``) into raw.replaced_rows,
    each with the load that replaced it (its value)."""
    _insert_replaced_rows(
        con,
        extract,
        replaced_by,
        f"""
        select r.*, r._load_id as old_load_id
        from {RAW_SCHEMA}.{ident(extract.name)} r
        """,
        [],
    )


def _keep_staged_replaced_rows(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    staged: list[_Entry],
    replaced_by: dict[int, int],
    loaded_at: datetime,
) -> None:
    """Copy the staged rows (those that pass validation, as the raw table would have held them)
    of the loads replaced by a later file of the same chunk into raw.replaced_rows, with the
    lineage a load of this run gives its rows: the same rows, whatever the batching."""
    files = [e for e in staged if e.load_id in replaced_by]
    files_table = f"{META_TABLE}_files"
    con.register(
        files_table,
        pd.DataFrame(
            {
                "file_key": pd.Series([e.load_id for e in files], dtype="int64"),
                "source_file": [e.file.source_file for e in files],
                "business_date": [e.file.business_date for e in files],
            }
        ),
    )
    columns = ", ".join(f"s.{ident(c.name)}" for c in extract.columns)
    try:
        _insert_replaced_rows(
            con,
            extract,
            replaced_by,
            f"""
            select {columns}, ? as _source_system, f.source_file as _source_file,
                   s.row_number as _source_row_number, f.business_date as _business_date,
                   s.file_key as _load_id, ? as _loaded_at, s.file_key as old_load_id
            from {STAGE_TABLE} s join {files_table} f using (file_key)
            where s.problem is null
            """,
            [extract.system, loaded_at],
        )
    finally:
        con.unregister(files_table)


def _insert_replaced_rows(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    replaced_by: dict[int, int],
    rows_sql: str,
    params: list[object],
) -> None:
    """Insert into raw.replaced_rows the rows of ``rows_sql`` (the raw table's columns and
    old_load_id) of the loads replaced, each with the load that replaced it: one definition of
    the row's shape for rows taken from the raw table and from the stage."""
    pairs = pd.DataFrame(
        {"old_load_id": list(replaced_by), "new_load_id": list(replaced_by.values())},
        dtype="int64",
    )
    values = ", ".join(f"{ident(c.name)} := r.{ident(c.name)}" for c in extract.columns)
    con.register(META_TABLE, pairs)
    try:
        con.execute(
            f"""
            insert into {RAW_SCHEMA}.replaced_rows
            select r._load_id, r._source_system, ?, r._source_file, r._source_row_number,
                   r._business_date, r._loaded_at, m.new_load_id,
                   cast(to_json(struct_pack({values})) as varchar)
            from ({rows_sql}) r
            join {META_TABLE} m on m.old_load_id = r.old_load_id
            order by r._load_id, r._source_row_number
            """,
            [extract.name, *params],
        )
    finally:
        con.unregister(META_TABLE)


def _stage(con: duckdb.DuckDBPyConnection, extract: Extract, staged: list[_Entry]) -> None:
    """Validate the files' rows into the stage table and set their row counts."""
    con.execute(stage_table_ddl(extract))
    if extract.file_format == "parquet":
        for entry in staged:
            con.execute(stage_parquet_sql(extract, entry.parquet_table, entry.load_id))
    else:
        con.register(CONTENT_TABLE, _content_table(staged))
        try:
            con.execute(stage_text_sql(extract))
        finally:
            con.unregister(CONTENT_TABLE)
        for entry in staged:
            entry.data = None
    counts = dict(
        (key, (read, bad))
        for key, read, bad in con.execute(
            f"select file_key, count(*), count(problem) from {STAGE_TABLE} group by file_key"
        ).fetchall()
    )
    for entry in staged:
        read, bad = counts.get(entry.load_id, (0, 0))
        entry.rows_read, entry.rows_quarantined, entry.rows_loaded = read, bad, read - bad


def _content_table(staged: list[_Entry]) -> pa.Table:
    """The files' bytes as an Arrow table (file_key, content) that DuckDB scans without a copy:
    the UTF-8 bytes are laid end to end as one large_string column (validated before)."""
    sizes = np.fromiter((len(e.data) for e in staged), dtype=np.int64, count=len(staged))
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    content = pa.LargeStringArray.from_buffers(
        len(staged), pa.py_buffer(offsets), pa.py_buffer(b"".join(e.data for e in staged))
    )
    file_keys = pa.array([e.load_id for e in staged], type=pa.int64())
    return pa.table({"file_key": file_keys, "content": content})


def _insert_rows(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    staged: list[_Entry],
    keep: set[int],
    loaded_at: datetime,
) -> None:
    meta = pd.DataFrame(
        {
            "file_key": [e.load_id for e in staged if e.load_id in keep],
            "source_file": [e.file.source_file for e in staged if e.load_id in keep],
            "business_date": [e.file.business_date for e in staged if e.load_id in keep],
        }
    )
    con.register(META_TABLE, meta)
    try:
        columns = ", ".join(f"s.{ident(c.name)}" for c in extract.columns)
        row_word = "line" if extract.file_format == "jsonl" else "row"
        con.execute(
            f"""
            insert into {RAW_SCHEMA}.{ident(extract.name)}
            select {columns}, ?, m.source_file, s.row_number, m.business_date, s.file_key, ?
            from {STAGE_TABLE} s join {META_TABLE} m using (file_key)
            where s.problem is null
            """,
            [extract.system, loaded_at],
        )
        con.execute(
            f"""
            insert into {RAW_SCHEMA}.quarantine
            select s.file_key, ?, ?, m.source_file, s.row_number,
                   {_capped(_overlong_value_cut("s"), MAX_QUARANTINE_TEXT)},
                   s.problem.column_name, {_capped("s.problem.bad_value", MAX_BAD_VALUE)},
                   s.problem.rule,
                   m.source_file || ' {row_word} ' || s.row_number || ' ' || s.problem.detail
            from {STAGE_TABLE} s join {META_TABLE} m using (file_key)
            where s.problem is not null
            """,
            [extract.system, extract.name],
        )
    finally:
        con.unregister(META_TABLE)


def _overlong_value_cut(stage: str) -> str:
    """SQL: a row's text with the value that broke ``max_length`` cut in place, so that the
    row keeps its other fields readable (the exception queue values a quarantined sale from
    them); a value the text does not hold verbatim (escaped in JSON) is left to the overall cap."""
    value = f"{stage}.problem.bad_value"
    return (
        f"case when {stage}.problem.rule = 'max_length' and length({value}) > {MAX_BAD_VALUE} "
        f"then replace({stage}.raw_text, {value}, {_capped(value, MAX_BAD_VALUE)}) "
        f"else {stage}.raw_text end"
    )


def _capped(expr: str, limit: int) -> str:
    """SQL: a text cut to ``limit`` characters, saying how long it was when cut."""
    return (
        f"case when length({expr}) > {limit} then left({expr}, {limit}) || '... (cut: ' || "
        f"length({expr}) || ' characters in all)' else {expr} end"
    )


def _insert_log(con: duckdb.DuckDBPyConnection, entries: list[_Entry], loaded_at: datetime) -> None:
    rows = pd.DataFrame(
        {
            "load_id": [e.load_id for e in entries],
            "source_system": [e.file.system for e in entries],
            "extract_name": [e.file.extract for e in entries],
            "source_file": [e.file.source_file for e in entries],
            "business_date": [e.file.business_date for e in entries],
            "delivery_date": [e.file.delivery_date for e in entries],
            "sequence_number": [e.file.sequence for e in entries],
            "content_hash": [e.content_hash for e in entries],
            "file_size_bytes": [e.size for e in entries],
            "rows_read": [e.rows_read for e in entries],
            "rows_loaded": [e.rows_loaded for e in entries],
            "rows_quarantined": [e.rows_quarantined for e in entries],
            "status": [e.status for e in entries],
            "related_load_id": [e.related_load_id for e in entries],
            "error_message": [e.error_message for e in entries],
            "loaded_at": [loaded_at] * len(entries),
        },
        dtype=object,
    )
    con.register(META_TABLE, rows)
    try:
        select = ", ".join(
            f"cast({ident(name)} as {data_type})" for name, data_type in LOAD_LOG_DDL
        )
        con.execute(
            f"insert into {RAW_SCHEMA}.load_log select {select} from {META_TABLE} order by load_id"
        )
    finally:
        con.unregister(META_TABLE)


def _write_identities(con: duckdb.DuckDBPyConnection, state: LoadState) -> None:
    """Write the identities noted by reads that logged nothing, in a transaction of their own."""
    if not state.unrecorded:
        return
    con.execute("begin transaction")
    try:
        state.write_identities(con, _utc_now())
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def _drop_temp(con: duckdb.DuckDBPyConnection, entries: list[_Entry]) -> None:
    con.execute(f"drop table if exists {STAGE_TABLE}")
    for entry in entries:
        if entry.parquet_table:
            con.execute(f"drop table if exists {entry.parquet_table}")


def _vanished(f: LandingFile, error: OSError | None = None) -> bool:
    """Whether a listed file is gone since the listing (removed or renamed): not found, and no
    directory entry left at its path (a dangling link is there, and is judged as ever)."""
    if error is not None and not isinstance(error, FileNotFoundError):
        return False
    return not os.path.lexists(f.path)


def _unread_content_hash(
    f: LandingFile, state: LoadState, listed: bool = False
) -> tuple[str, int] | None:
    """Content hash and size to record of a file that is not loaded: a link or special file is
    never opened (its hash is of what it points to), a regular file is hashed (an unreadable
    one by its error; a stable identity noted), unless its identity was recorded. ``listed``
    (the caller's listing): None for a file gone since it (_vanished)."""
    if listed and _vanished(f):
        return None
    if f.is_rejected and (f.path.is_symlink() or not f.path.is_file()):
        target = os.readlink(f.path) if f.path.is_symlink() else "special file"
        return hashlib.sha256(f"not opened:{target}".encode()).hexdigest(), 0
    known = _known_hash(f, state)
    if known is not None and f.size is not None:
        return known, f.size
    try:
        data, identity = _read_bytes(f.path)
    except OSError as error:
        if listed and _vanished(f, error):
            return None
        return _unreadable(f, error)[0], 0
    content_hash = hashlib.sha256(data).hexdigest()
    state.note_identity(f.source_file, identity, content_hash)
    return content_hash, len(data)


def _log_unread(
    con: duckdb.DuckDBPyConnection,
    files: list[LandingFile],
    state: LoadState,
    report: IngestReport,
    listed: bool = False,
) -> None:
    """Log the files that are never loaded: rejected (not regular, or a business date out of
    the window) and unknown (no extract). ``listed``: ``files`` is the caller's listing, and a
    file gone since it is counted vanished, not logged."""
    entries = []
    for f in files:
        unread = _unread_content_hash(f, state, listed)
        if unread is None:
            report.files_vanished += 1
            continue
        content_hash, size = unread
        if state.is_latest(f.source_file, content_hash):
            report.files_skipped += 1
            continue
        state.note_logged(f.source_file, content_hash)
        entry = _Entry(
            f,
            state.take_load_id(),
            content_hash,
            size,
            status="rejected" if f.is_rejected else "unknown",
            error_message=f.rejected_reason or f.unknown_reason,
        )
        entries.append(entry)
    if not entries:
        _write_identities(con, state)
        return
    con.execute("begin transaction")
    try:
        loaded_at = _utc_now()
        _insert_log(con, entries, loaded_at)
        state.write_identities(con, loaded_at)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    for entry in entries:
        report.add(entry.result())


def log_stray_files(
    landing_dir: Path,
    warehouse: Path,
    *,
    connection: duckdb.DuckDBPyConnection | None = None,
    lake_dir: Path | None = None,
    verify_hashes: bool | None = None,
    files: list[LandingFile] | None = None,
) -> IngestReport:
    """Log the landing files ingestion never loads, and load nothing: names that match no
    extract (unknown) and files refused unread (rejected). A file whose content is the one last
    logged for its path is skipped, as ingest() does. Ingesting by extract or business date
    never logs these: they belong to no extract's partition. ``lake_dir``: the lake to sync
    after; ``verify_hashes`` and ``files`` (the landing zone as listed) as for ingest()."""
    started = time.perf_counter()
    verify = _verifying(verify_hashes)
    listed = files is not None
    files = [f for f in _listing(landing_dir, files) if not f.is_known]
    report = IngestReport(files_seen=len(files))
    con = connection
    if con is None:
        Path(warehouse).parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(warehouse))
    try:
        ensure_raw_schema(con, load_contract())
        _log_unread(con, files, LoadState.read(con, verify), report, listed)
        if lake_dir is not None:  # only the load log changed
            report.lake = sync_lake(con, lake_dir, set())
    finally:
        if connection is None:
            con.close()
    report.seconds = time.perf_counter() - started
    return report


def _listing(landing_dir: Path, files: list[LandingFile] | None) -> list[LandingFile]:
    """The landing zone's files: the listing a caller took already, else a new one. A caller's
    listing of another directory is refused (ValueError naming its first file outside)."""
    if files is None:
        return discover(Path(landing_dir))
    root = Path(landing_dir).absolute()
    for f in files:
        if not f.path.absolute().is_relative_to(root):
            raise ValueError(
                f"{f.path}: listed, but not under the landing zone {landing_dir} ingestion "
                "was given; pass the listing of that directory (ingestion.discover)"
            )
    return files


def unlogged_files(
    landing_dir: Path,
    con: duckdb.DuckDBPyConnection,
    business_dates: set[date] | None = None,
    extracts: set[str] | None = None,
    actions: Path | None = EXCEPTION_ACTIONS,
    *,
    files: list[LandingFile] | None = None,
    verify_hashes: bool | None = None,
) -> list[LandingFile]:
    """The selected loadable files whose content is not the one last logged for their path, and
    the held files an owner released since (as _read decides): what an ingestion interrupted by an
    error has not done yet (the next run ingests them). ``files``: the landing zone as the
    caller listed it (None: list it); ``verify_hashes`` as for ingest()."""
    verify = _verifying(verify_hashes)
    state = LoadState.read(con, verify)
    released = released_exception_ids(actions)
    pending = []
    for f in _listing(landing_dir, files):
        if not f.is_known or not _selected(f, business_dates, extracts):
            continue
        content_hash = _known_hash(f, state)
        if content_hash is None:
            try:
                content_hash = hashlib.sha256(_read_bytes(f.path)[0]).hexdigest()
            except OSError as error:
                content_hash = _unreadable(f, error)[0]
        if not state.is_latest(f.source_file, content_hash) or _released_hold(
            f, content_hash, state, released
        ):
            pending.append(f)
    return pending


def pending_files(
    landing_dir: Path,
    con: duckdb.DuckDBPyConnection,
    *,
    files: list[LandingFile] | None = None,
    verify_hashes: bool | None = None,
) -> list[LandingFile]:
    """Every landing file whose content is not the one last logged for its path: the loadable ones
    (unlogged_files) and the stray ones log_stray_files would log. Empty: a run would log
    nothing new. ``files``: the landing zone as the caller listed it (None: list it once)."""
    verify = _verifying(verify_hashes)
    files = _listing(landing_dir, files)
    state = LoadState.read(con, verify)
    stray = [
        f
        for f in files
        if not f.is_known and not state.is_latest(f.source_file, _unread_content_hash(f, state)[0])
    ]
    return unlogged_files(landing_dir, con, files=files, verify_hashes=verify) + stray
