"""Dagster's SQLite event log, without two costs per event that a dbt build multiplies.

A day's dbt build reports about 1,100 nodes; Dagster stores about three events for each (the
check or materialization planned, its output, its result), most of them twice (the run's own
database and the cross-run index). Dagster's SQLite storage creates a new SQLAlchemy engine for
every write, opens and closes a SQLite connection around it (the last connection to close a
database checkpoints and removes its write-ahead log: file creations and fsyncs each time) and
commits with SQLite's default `synchronous=FULL` (an fsync per commit). At SF1 that was most of
the dbt step's time outside dbt itself (docs/benchmarks.md, "Dagster's event log"). This storage
keeps one open connection per database file (the storage's lock already serializes every use,
so one is enough; the most recently used databases only) and commits with `synchronous=NORMAL`
in WAL mode (Dagster already switches its databases to WAL). What that changes, and how each
consequence is handled (docs/decisions.md, "Dagster's run history: one kept connection per
database, commits without an fsync each"):

* durability: a commit is atomic and survives the crash of any process; a power cut can lose
  the commits the operating system had not yet written, in each database separately, never
  corrupt one. A run's pool slot freed in a lost commit is freed again by the next
  `orchestration.run` (orchestration/recovery.py frees the slots of finished runs);
* a commit now writes only the write-ahead log, which Dagster's file watcher (the live run
  logs in the UI) does not watch: the database file's modification time is touched after each
  write to a run's database, which the watcher does see;
* a database deleted or replaced under an open connection (`make clean` while the UI runs, a
  wipe) would keep receiving writes in the deleted file: the file's identity is checked before
  each use, and a changed or missing file gets a new connection.

A run over a range of business dates (a backfill: 25 raw assets x 1,094 dates in a three-year
one) costs Dagster four things per asset and date that an operator does not read as such
(docs/decisions.md, "A backfill's run history in proportion"):

* one "materialization planned" event per asset and date before the run starts: for a long
  range (orchestration/run.py, compact_planning) stored as one event per asset carrying the
  range (Dagster's own switch,
  `supports_partition_subset_in_asset_materialization_planned_events`). What Dagster derives from
  the per-date events, the dates left failed by a failed run, ingestion records itself for the
  dates it did not finish (orchestration/ingest.py, `plan_unfinished_dates`);
* a "check planned" row per check and date in the check index, although every Concord check is
  unpartitioned and its one result never completes them (they stay "planned" for ever): a check's
  planned event is stored without the run's dates, one row its result completes;
* two schema look-ups per asset event (does the index have the tags table, the asset table's
  timestamp column): a new engine and a PRAGMA each time; a found table or column is remembered
  (Dagster never drops one; a replaced index database is looked up again);
* a materialization per asset and date after the step (what the UI's partition status reads,
  kept), each written as its own two transactions with SQLAlchemy statements built per event:
  partition materializations (a ranged run's burst) are kept back and written together
  (`PENDING_MATERIALIZATIONS` at most), in order, before any other event is stored and before any
  read or write of this storage, so that this process never reads without them and the run's
  next event (a check, the step's end) follows them. Another process sees them when they are
  written; a process killed in the burst loses the ones kept back, as it would lose those not
  yet recorded.

Everything else (files, schema, migrations, readers such as the webserver and the daemon) is
Dagster's own: a DAGSTER_HOME written by this storage opens with the default one and back.
Configured in orchestration/dagster.yaml; `base_dir` defaults to where Dagster's default event
log lives (`$DAGSTER_HOME/history/runs`), so a process opening the instance must have
DAGSTER_HOME set to its folder (as `make` and every Dagster command line do; a storage class is
not told which folder its dagster.yaml came from); an instance opened from another folder is
refused rather than written into the wrong history.
"""

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa
from dagster._config import Field, StringSource
from dagster._core.events import DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log import SqlEventLogStorageTable, SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from dagster_shared.record import replace
from sqlalchemy.pool import QueuePool

# Databases kept open: the index, the run being written, and a few a reader looks at.
OPEN_DATABASES = 16
# Partition materializations kept back to be written together (see above).
PENDING_MATERIALIZATIONS = 1000
# A run of at most this many dates is planned per date, as Dagster does (compact_planning)
PLAN_PER_DATE_UP_TO = 31
INDEX_SHARD = "index"


def default_home() -> str:
    """The Dagster instance's folder, from DAGSTER_HOME."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise RuntimeError(
            "orchestration.event_log: set DAGSTER_HOME to the Dagster instance's folder (the "
            "one holding this dagster.yaml), or give the event log a base_dir in dagster.yaml"
        )
    return home


class FileIdentity(NamedTuple):
    device: int
    inode: int


def identity_of(path: str) -> FileIdentity | None:
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return FileIdentity(found.st_dev, found.st_ino)


class KeptEngine(NamedTuple):
    engine: sa.Engine
    identity: FileIdentity | None


@dataclass
class Pending:
    """A materialization kept back: the event, its row, whether the run's database has it."""

    event: EventLogEntry
    row: dict[str, Any]
    in_run_database: bool = False


class ConcordSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage with one kept connection per database and `synchronous=NORMAL`."""

    def __init__(self, base_dir: str | None = None, inst_data: ConfigurableClassData | None = None):
        # before Dagster's __init__, which connects
        self._engines: OrderedDict[str, KeptEngine] = OrderedDict()
        # tables and asset-table columns found in the index database (see has_table)
        self._found_in_index: set[tuple[str, str]] = set()
        # partition materializations kept back, written by _write_pending (see above)
        self._pending: list[Pending] = []
        self._pending_lock = threading.RLock()
        # set by compact_planning: only a long range is planned as one event per asset
        self.plan_ranges_compactly = False
        self._home_from_environment = None if base_dir else default_home()
        super().__init__(
            base_dir or os.path.join(self._home_from_environment, "history", "runs"),
            inst_data=inst_data,
        )

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]
    ) -> "ConcordSqliteEventLogStorage":
        return cls(inst_data=inst_data, **config_value)

    def register_instance(self, instance: Any) -> None:
        """Refuse an instance opened from another folder than DAGSTER_HOME: its event log
        would be this process's DAGSTER_HOME's, another instance's history."""
        super().register_instance(instance)
        home = self._home_from_environment
        if home and os.path.realpath(instance.root_directory) != os.path.realpath(home):
            raise RuntimeError(
                f"orchestration.event_log: the Dagster instance in {instance.root_directory} "
                f"was opened while DAGSTER_HOME is {home}; set DAGSTER_HOME to the instance's "
                "folder (its event log is found through it)"
            )

    def _kept(self, shard: str) -> sa.Engine:
        """The shard's engine, new when none is kept or its file was deleted or replaced."""
        path = self.path_for_shard(shard)
        kept = self._engines.get(shard)
        if kept is not None and (kept.identity is None or identity_of(path) != kept.identity):
            self._engines.pop(shard)
            kept.engine.dispose()
            self._initialized_dbs.discard(shard)
            if shard == INDEX_SHARD:
                self._found_in_index.clear()
            kept = None
        if kept is None:
            # one connection kept, used by one thread at a time (under the storage's lock);
            # Dagster's schema set-up opens a second one for a moment
            engine = sa.create_engine(
                self.conn_string_for_shard(shard),
                poolclass=QueuePool,
                pool_size=1,
                max_overflow=4,
                connect_args={
                    "timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
                    "check_same_thread": False,
                },
            )
            sa.event.listen(engine, "connect", _commit_without_fsync)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            kept = KeptEngine(engine, identity_of(path))
            self._engines[shard] = kept
            while len(self._engines) > OPEN_DATABASES:
                self._engines.popitem(last=False)[1].engine.dispose()
        self._engines.move_to_end(shard)
        return kept.engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[sa.Connection]:
        """Dagster's _connect (one transaction per use, under the storage's lock), on a kept
        connection, after writing the materializations kept back; a write to a run's database
        touches the file for Dagster's watcher."""
        with self._pending_lock:
            self._write_pending()
        with self._db_lock:
            engine = self._kept(shard)
            with engine.connect() as conn:
                sqlite = conn.connection.dbapi_connection
                changes = sqlite.total_changes
                with conn.begin():
                    yield conn
                if shard != INDEX_SHARD and sqlite.total_changes != changes:
                    os.utime(self.path_for_shard(shard))

    @property
    def supports_partition_subset_in_asset_materialization_planned_events(self) -> bool:
        """A long ranged run plans each asset once, with its range, not once per date (see
        above); any other run (a day's, the sensor's, the UI's) as Dagster does, a planned event
        per date, so its dates show in progress and, if the run fails, failed."""
        return self.plan_ranges_compactly

    def store_event(self, event: EventLogEntry) -> None:
        """Dagster's, with a check's planned event stored without the run's dates and a
        partition's materialization kept back to be written with the others of its burst (see
        above)."""
        with self._pending_lock:
            if is_partition_materialization(event):
                # its row now: an event that cannot be stored fails the step that logged it
                self._pending.append(Pending(event, self._event_to_row(event)))
                if len(self._pending) >= PENDING_MATERIALIZATIONS:
                    self._write_pending()
                return
            self._write_pending()
        super().store_event(without_run_partitions(event))

    def _write_pending(self) -> None:
        """The materializations kept back, as Dagster's store_event writes each (the run's
        database, then the index with their tags and the asset's latest materialization), in one
        transaction per database. Called with _pending_lock held. If the burst's transactions
        fail, its events are written one by one instead; one that fails is kept back with those
        after it (to be written at the next use) and its error raised to whoever logged or read:
        nothing of the burst is lost, and none is written twice."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        try:
            self._write_burst(pending)
        except Exception:  # noqa: BLE001 (written one by one below, or kept and raised)
            for number, entry in enumerate(pending):
                try:
                    self._write_burst([entry])
                except BaseException:
                    self._pending = pending[number:] + self._pending
                    raise
        except BaseException:
            # an interrupt (Ctrl-C, the run terminated, the process exiting) while the burst is
            # written: kept back for the next write, not lost (its run rows are not written twice)
            self._pending = pending + self._pending
            raise

    def _write_run_rows(self, entries: list[Pending]) -> None:
        for run_id in dict.fromkeys(e.row["run_id"] for e in entries if not e.in_run_database):
            mine = [e for e in entries if e.row["run_id"] == run_id and not e.in_run_database]
            with self.run_connection(run_id) as conn:
                conn.execute(SqlEventLogStorageTable.insert(), [e.row for e in mine])
            for e in mine:
                e.in_run_database = True

    def _write_burst(self, entries: list[Pending]) -> None:
        self._write_run_rows(entries)
        events = [e.event for e in entries]
        rows = [e.row for e in entries]
        with self.index_transaction() as conn:
            ids = [
                conn.execute(SqlEventLogStorageTable.insert(), row).inserted_primary_key[0]
                for row in rows
            ]
            self._store_asset_event_tags(conn, events, ids)
            latest = {
                event.dagster_event.asset_key: (event, id_)
                for event, id_ in zip(events, ids, strict=True)
            }
            for event, id_ in latest.values():
                self._store_asset_event(conn, event, id_)

    def has_table(self, table_name: str) -> bool:
        """Dagster's look-up (a new engine and a PRAGMA on each asset event), remembered once
        the table is found."""
        if ("table", table_name) in self._found_in_index:
            return True
        found = super().has_table(table_name)
        if found:
            self._found_in_index.add(("table", table_name))
        return found

    def _has_asset_key_col_on_connection(self, conn: sa.Connection, column_name: str) -> bool:
        """Dagster's look-up (a PRAGMA on each asset event), remembered once the column is
        found."""
        if ("column", column_name) in self._found_in_index:
            return True
        found = super()._has_asset_key_col_on_connection(conn, column_name)
        if found:
            self._found_in_index.add(("column", column_name))
        return found

    @contextmanager
    def compact_planning(self, dates: int) -> Iterator[None]:
        """Plan a run of more than PLAN_PER_DATE_UP_TO dates as one event per asset (see
        above)."""
        self.plan_ranges_compactly = dates > PLAN_PER_DATE_UP_TO
        try:
            yield
        finally:
            self.plan_ranges_compactly = False

    def wipe(self) -> None:
        with self._pending_lock:
            self._pending = []
        with self._db_lock:
            self._dispose_engines()
        super().wipe()

    def dispose(self) -> None:
        with self._pending_lock:
            self._write_pending()
        with self._db_lock:
            self._dispose_engines()
        super().dispose()

    def _dispose_engines(self) -> None:
        self._found_in_index.clear()
        kept, self._engines = list(self._engines.values()), OrderedDict()
        for each in kept:
            each.engine.dispose()


def is_partition_materialization(event: EventLogEntry) -> bool:
    dagster_event = event.dagster_event
    return (
        dagster_event is not None
        and dagster_event.event_type == DagsterEventType.ASSET_MATERIALIZATION
        and dagster_event.partition is not None
    )


def without_run_partitions(event: EventLogEntry) -> EventLogEntry:
    """A check's planned event without the dates of its run. Dagster gives the planned event of
    every check of a partitioned run the run's dates, partitioned check or not (DagsterRun.
    get_resolved_partitions_subset_for_events returns the run's subset whatever the check's
    partitions), and its index then holds a "planned" row per check and date that the check's one
    unpartitioned result never completes. Concord has no partitioned check
    (tests/python/test_event_log.py holds the definitions to that)."""
    dagster_event = event.dagster_event
    if (
        dagster_event is None
        or dagster_event.event_type != DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED
        or dagster_event.event_specific_data.partitions_subset is None
    ):
        return event
    planned = replace(dagster_event.event_specific_data, partitions_subset=None)
    return event._replace(dagster_event=dagster_event._replace(event_specific_data=planned))


def _commit_without_fsync(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
