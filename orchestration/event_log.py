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
  they are written in bursts, as a dbt step's events are (below);
* serializing each of those materializations for its row, Dagster's generic JSON packing, the
  largest part of that: an asset's materializations of one run differ only in their date and
  time, so each one equal to the asset's previous one but for those (compared field by field,
  type by type) gets its row from that one's serialized form, split where the date and the time
  go (`RowTemplates`), text for text what Dagster would have written.

A day's dbt step logs about 2,000 events (per model its output and materialization, per data
test its evaluation, and before the run each one's planned event), each stored by Dagster as
up to four statements built and executed one by one in two transactions: a quarter of the
Dagster process's time in a day's run. These events (`KEPT_BACK`: materializations, their
planned events, check evaluations and their planned events, step outputs) are kept back and
written together (docs/decisions.md, "A step's events written in bursts"): at most
`PENDING_EVENTS` of them and for at most `PENDING_SECONDS` (a timer writes them when the step
logs nothing else meanwhile, so a long build's results still show live in the UI), in order, in
one transaction per database: the run's rows in one statement, the index's rows in one
statement too (their ids consecutive: `inserted_ids`), the asset tags in one statement (from the
rows already made: `_store_tags`), each asset's latest event once per burst, and each check's
execution row by Dagster's own writes, given the burst's transaction. They are written before
any other event is stored (a step's start or end, a log message, the run's end) and before any
read or write of this storage, so this process never reads without them and its next event
follows them; at the latest when the storage is disposed or the process exits (each storage in
its own right; a forked child leaves its parent's to the parent). A write that fails is tried
once more if the database was locked (SQLITE_BUSY through the busy timeout), else
event by event (an event the index refuses does not hold back the others); an event whose write
fails then is not tried again (what it wrote stays, as with Dagster's own store_event), it is
logged with its run and type, and the first such error is raised by the storage's next
store_event before it stores its event (the step or run fails, as when Dagster's store_event
raises), flush or dispose, never by a read or the timer. An interrupt while they are written
(the run terminated, Ctrl-C, an exit) keeps back what was not written, written at the next use
or the exit; a write after an interrupt or an error skips what a committed transaction already
holds (looked up by the serialized event), so none is written twice. Another process sees them
when they are written; a process killed outright (SIGKILL, a crash) loses the ones kept back
(up to 1,000 events, or 1 s of them), as it would lose those not yet recorded.

Everything else (files, schema, migrations, readers such as the webserver and the daemon) is
Dagster's own: a DAGSTER_HOME written by this storage opens with the default one and back.
Configured in orchestration/dagster.yaml; `base_dir` defaults to where Dagster's default event
log lives (`$DAGSTER_HOME/history/runs`), so a process opening the instance must have
DAGSTER_HOME set to its folder (as `make` and every Dagster command line do; a storage class is
not told which folder its dagster.yaml came from); an instance opened from another folder is
refused rather than written into the wrong history.
"""

import atexit
import json
import logging
import os
import threading
import weakref
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, NamedTuple

import sqlalchemy as sa
from dagster._config import Field, StringSource
from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS, DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log import SqlEventLogStorageTable, SqliteEventLogStorage
from dagster._core.storage.event_log.schema import AssetEventTagsTable
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from dagster_shared.record import replace
from sqlalchemy.pool import QueuePool

LOGGER = logging.getLogger(__name__)
# Databases kept open: the index, the run being written, and a few a reader looks at.
OPEN_DATABASES = 16
# A step's per-node events kept back to be written together (see above): at most this many,
PENDING_EVENTS = 1000
# and for at most this long (so that a long build's results still show live in the UI)
PENDING_SECONDS = 1.0
# The events kept back: what a dbt build logs per model and per data test. Their storage writes
# the run's database and the index (rows, asset tags, the asset's latest event, the check's
# execution row), nothing else; an event of any other type (a step's or run's start or end, a
# log message) is stored after them, at once.
KEPT_BACK = frozenset(
    {
        DagsterEventType.ASSET_MATERIALIZATION,
        DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
        DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED,
        DagsterEventType.ASSET_CHECK_EVALUATION,
        DagsterEventType.STEP_OUTPUT,
    }
)
# A run of at most this many dates is planned per date, as Dagster does (compact_planning)
PLAN_PER_DATE_UP_TO = 31
INDEX_SHARD = "index"
# events Dagster's SQLite storage also stores in the index database
INDEXED = ASSET_EVENTS | ASSET_CHECK_EVENTS
ASSET_EVENT_TYPES = frozenset(event_type.value for event_type in ASSET_EVENTS)


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
    """An event kept back: the event, its row, and the databases ("run", the index) a write of it
    was begun in (it may be there: see _not_yet_in)."""

    event: EventLogEntry
    row: dict[str, Any]
    begun_in: set[str] = field(default_factory=set)


class ConcordSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage with one kept connection per database and `synchronous=NORMAL`."""

    def __init__(self, base_dir: str | None = None, inst_data: ConfigurableClassData | None = None):
        # before Dagster's __init__, which connects
        self._engines: OrderedDict[str, KeptEngine] = OrderedDict()
        # tables and asset-table columns found in the index database (see has_table)
        self._found_in_index: set[tuple[str, str]] = set()
        # a step's events kept back, written by _write_pending (see above)
        self._pending: list[Pending] = []
        self._pending_lock = threading.RLock()
        # the timer that writes them within PENDING_SECONDS, while one is pending
        self._timer: threading.Timer | None = None
        # the first error of a write of them, raised at the storage's next event or flush
        self._error: Exception | None = None
        # the index connection a burst writes in, per thread: Dagster's own writes of a check's
        # row, called in the burst, use it (see _connect)
        self._in_burst = threading.local()
        # the rows of a ranged run's materializations, per asset (see RowTemplates)
        self._templates = RowTemplates(self._event_to_row, self._event_insert_timestamp)
        # set by compact_planning: only a long range is planned as one event per asset
        self.plan_ranges_compactly = False
        self._home_from_environment = None if base_dir else default_home()
        STORAGES.add(self)
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
        connection, after writing the events kept back; a write to a run's database touches the
        file for Dagster's watcher. In a burst, the burst's own connection and transaction."""
        in_burst = getattr(self._in_burst, "connections", {}).get(shard)
        if in_burst is not None:
            yield in_burst
            return
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
        """Dagster's, with a check's planned event stored without the run's dates and a step's
        per-node events kept back to be written with the others of their burst (see above).
        The first error of a write of the events kept back since the last raise is raised before
        the event is stored (as by Dagster's store_event: this event is not stored, the step or
        run fails and stores its failure)."""
        event = without_run_partitions(event)
        with self._pending_lock:
            self._raise_error()
            if is_kept_back(event):
                # its row now: an event that cannot be serialized fails the step that logged it
                self._pending.append(Pending(event, self._templates.row(event)))
                if len(self._pending) >= PENDING_EVENTS:
                    self._write_pending()
                    self._raise_error()
                else:
                    self._write_pending_in_time_later()
                return
            self._write_pending()
            self._raise_error()
        super().store_event(event)

    def flush(self) -> None:
        """Write the events kept back now; raise the first error of a write of them since the
        last raise."""
        with self._pending_lock:
            self._write_pending()
        self._raise_error()

    def _raise_error(self) -> None:
        with self._pending_lock:
            error, self._error = self._error, None
        if error is not None:
            raise error

    def _write_pending_in_time_later(self) -> None:
        """A timer, unless one is pending: a burst is not kept longer than PENDING_SECONDS while
        the step logs nothing else (a long model, a long test). Called with _pending_lock
        held."""
        if self._timer is None:
            self._timer = threading.Timer(PENDING_SECONDS, self._write_pending_in_time)
            self._timer.daemon = True  # at the process's exit, write_pending_at_exit
            self._timer.start()

    def _write_pending_in_time(self) -> None:
        with self._pending_lock:
            if self._timer is not threading.current_thread():
                return  # cancelled by dispose
            self._timer = None
            try:
                self._write_pending()
            except BaseException as error:  # noqa: BLE001 (kept back: written by another timer)
                LOGGER.error(
                    "orchestration.event_log: the timer's write was interrupted: %r", error
                )
                self._write_pending_in_time_later()

    def _write_pending(self) -> None:
        """The events kept back, as Dagster's store_event writes each (the run's database, then
        the index: asset events with their tags and the asset's latest event, check events with
        the check's execution row), in one transaction per database, once more if a database
        was locked. Called with _pending_lock held. If the write fails otherwise, its events are
        written one by one (an event the index refuses does not hold back the others). An event
        that cannot be written is logged with its run and type, not tried again, and the first
        error is kept for the storage's next event or flush: never raised here, so a read, the
        timer or another step's event is not failed by it. An interrupt (the run terminated,
        Ctrl-C, an exit) keeps back what was not written and is raised; nothing is written
        twice (see _not_yet_in)."""
        pending: list[Pending] = []
        done = 0  # written, or logged as not stored
        try:
            # taken inside the try: an interrupt between these two lines leaves them in place
            pending = self._pending
            self._pending = []
            error = self._write_retried(pending) if pending else None
            if error is None or is_busy(error) or len(pending) == 1:
                done = len(pending)
                self._not_stored(pending, error)
                return
            for entry in pending:
                error = self._write_retried([entry])
                done += 1
                self._not_stored([entry], error)
        except BaseException:
            if self._pending is not pending:
                self._pending = pending[done:] + self._pending
            raise

    def _write_retried(self, entries: list[Pending]) -> Exception | None:
        """_write_burst, once more if a database was locked; its error if it failed."""
        try:
            self._write_burst(entries)
        except Exception as error:  # noqa: BLE001 (returned, see _write_pending)
            if not is_busy(error):
                return error
            try:
                self._write_burst(entries)
            except Exception as again:  # noqa: BLE001
                return again
        return None

    def _not_stored(self, entries: list[Pending], error: BaseException | None) -> None:
        """If error: log each entry as maybe missing (its write failed: the run's database, the
        index or both may lack it), keep the first error."""
        if error is None:
            return
        for entry in entries:
            LOGGER.error(
                "orchestration.event_log: a %s event of run %s may be missing from Dagster's "
                "history (its write failed, not tried again): %s",
                entry.event.dagster_event_type.value,
                entry.row["run_id"],
                error,
            )
        if entries and isinstance(error, Exception) and self._error is None:
            self._error = error

    def _not_yet_in(self, conn: sa.Connection, database: str, entries: list[Pending]) -> list:
        """The entries not in this database yet. One whose write was begun in it before may be
        there (its transaction committed, and an interrupt or an error came before the write
        returned): looked up by its serialized event, skipped if found. Marks the others begun.
        Only a retried write looks up anything."""
        begun = [e.row["event"] for e in entries if database in e.begun_in]
        found: Counter[str] = Counter()
        if begun:
            table = SqlEventLogStorageTable
            found.update(
                conn.execute(
                    sa.select(table.c.event).where(
                        table.c.run_id.in_(list(dict.fromkeys(e.row["run_id"] for e in entries))),
                        table.c.event.in_(begun),
                    )
                ).scalars()
            )
        missing = []
        for entry in entries:
            if database in entry.begun_in and found[entry.row["event"]] > 0:
                found[entry.row["event"]] -= 1
                continue
            entry.begun_in.add(database)
            missing.append(entry)
        return missing

    def _write_burst(self, entries: list[Pending]) -> None:
        for run_id in dict.fromkeys(e.row["run_id"] for e in entries):
            with self.run_connection(run_id) as conn:
                mine = [e for e in entries if e.row["run_id"] == run_id]
                missing = self._not_yet_in(conn, "run", mine)
                if missing:
                    conn.execute(SqlEventLogStorageTable.insert(), [e.row for e in missing])
        to_index = [e for e in entries if e.event.dagster_event_type in INDEXED]
        if not to_index:
            return
        with self.index_transaction() as conn:
            to_index = self._not_yet_in(conn, INDEX_SHARD, to_index)
            if not to_index:
                return
            indexed = [e.event for e in to_index]
            ids = inserted_ids(conn, [e.row for e in to_index])
            assets = [
                (e, i)
                for e, i in zip(to_index, ids, strict=True)
                if e.row["dagster_event_type"] in ASSET_EVENT_TYPES
            ]
            self._store_tags(conn, assets)
            # the asset's latest event of each type: the columns each type sets end as the
            # last event of the burst that sets them left them
            last = {
                (e.row["asset_key"], e.row["dagster_event_type"]): n
                for n, (e, _) in enumerate(assets)
            }
            for n in sorted(last.values()):
                entry, id_ = assets[n]
                self._store_asset_event(conn, entry.event, id_)
            # a check's execution row (planned, then completed), by Dagster's own writes in
            # this transaction (_connect gives them its connection)
            self._in_burst.connections = {INDEX_SHARD: conn}
            try:
                for event, id_ in zip(indexed, ids, strict=True):
                    if event.dagster_event_type in ASSET_CHECK_EVENTS:
                        self.store_asset_check_event(event, id_)
            finally:
                self._in_burst.connections = {}

    def _store_tags(self, conn: sa.Connection, assets: list[tuple[Pending, int]]) -> None:
        """Dagster's _store_asset_event_tags for a burst's asset events: the asset key and the
        time from their rows (what Dagster computes again per event), a materialization's tags
        read from it (Dagster's generic look-up costs more than the rest of the row)."""
        values = [
            {
                "event_id": id_,
                "asset_key": entry.row["asset_key"],
                "key": key,
                "value": value,
                "event_timestamp": entry.row["timestamp"],
            }
            for entry, id_ in assets
            for key, value in self._indexed_tags(entry.event).items()
        ]
        if values and self.has_table(AssetEventTagsTable.name):
            conn.execute(AssetEventTagsTable.insert(), values)

    def _indexed_tags(self, event: EventLogEntry) -> dict[str, str]:
        """Dagster's _tags_for_asset_event, a materialization's without its generic look-ups."""
        dagster_event = event.dagster_event
        if dagster_event.event_type_value != MATERIALIZATION:
            return dict(self._tags_for_asset_event(event))
        tags = dagster_event.event_specific_data.materialization.tags or {}
        indexed = self.get_asset_tags_to_index(set(tags))
        return {key: value for key, value in tags.items() if key in indexed}

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
        """Dagster's, after writing the events kept back (and raising the first error of a
        write of them); what an interrupt leaves kept back is written at the next use or the
        process's exit, not by the timer."""
        try:
            self.flush()
        finally:
            with self._pending_lock:
                if self._timer is not None:
                    self._timer.cancel()
                    self._timer = None
            try:
                with self._db_lock:
                    self._dispose_engines()
            finally:
                super().dispose()

    def _dispose_engines(self) -> None:
        self._found_in_index.clear()
        kept, self._engines = list(self._engines.values()), OrderedDict()
        for each in kept:
            each.engine.dispose()


# every storage of this process, whose events kept back are written at its exit
STORAGES: "weakref.WeakSet[ConcordSqliteEventLogStorage]" = weakref.WeakSet()


@atexit.register
def write_pending_at_exit() -> None:
    """The events kept back by storages not disposed (a script, a run's process that exits
    without closing its instance, a dispose interrupted): written, not lost with the process;
    each storage in its own right (one that fails, logged, stops no other)."""
    for storage in list(STORAGES):
        try:
            storage.flush()
        except BaseException as error:  # noqa: BLE001 (logged: the process is exiting)
            with storage._pending_lock:  # noqa: SLF001
                lost, storage._pending = storage._pending, []  # noqa: SLF001
            LOGGER.error("orchestration.event_log: at the process's exit: %r", error)
            storage._not_stored(lost, error)  # noqa: SLF001


def forget_pending_in_a_child() -> None:
    """A forked child (a multiprocessing worker) starts with none of its parent's events kept
    back (the parent writes them), no timer (not inherited), free locks (this storage's and
    Dagster's database lock, which the parent's timer may hold at the fork) and no connection of
    its parent's (dropped, not closed: they are the parent's; the child opens its own)."""
    for storage in list(STORAGES):
        storage._pending_lock = threading.RLock()  # noqa: SLF001
        storage._db_lock = threading.Lock()  # noqa: SLF001
        storage._pending, storage._timer, storage._error = [], None, None  # noqa: SLF001
        storage._engines = OrderedDict()  # noqa: SLF001
        storage._found_in_index = set()  # noqa: SLF001


os.register_at_fork(after_in_child=forget_pending_in_a_child)


def inserted_ids(conn: sa.Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the rows into the event table, return their ids in order. Its id is SQLite's rowid
    (an INTEGER PRIMARY KEY), which SQLite gives each inserted row as one more than the largest in
    the table, and this transaction holds the database's write lock from its first insert on: so
    the rows get consecutive ids, the last one SQLite's last_insert_rowid(). Checked on the first
    and the last row (the burst fails, and is written again event by event, if not). A plain
    insert of many rows: SQLAlchemy's insert ... returning of each id in order cost as much again
    as the insert itself."""
    table = SqlEventLogStorageTable
    conn.execute(table.insert(), rows)
    last = conn.exec_driver_sql("select last_insert_rowid()").scalar_one()
    ids = list(range(last - len(rows) + 1, last + 1))
    found = dict(
        conn.execute(
            sa.select(table.c.id, table.c.event).where(table.c.id.in_({ids[0], ids[-1]}))
        ).all()
    )
    if found.get(ids[0]) != rows[0]["event"] or found.get(ids[-1]) != rows[-1]["event"]:
        raise RuntimeError(
            f"orchestration.event_log: {len(rows)} events inserted together did not get the "
            f"consecutive ids {ids[0]} to {ids[-1]}"
        )
    return ids


def is_busy(error: Exception) -> bool:
    """SQLite's SQLITE_BUSY: another process held the database through the busy timeout."""
    return "database is locked" in str(error)


def is_kept_back(event: EventLogEntry) -> bool:
    """A step's per-node event of a run (see KEPT_BACK); a runless one is stored at once."""
    return bool(event.run_id) and event.dagster_event_type in KEPT_BACK


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


# Marks put in the place of a materialization's date and time to find where they go in its
# serialized form; no real event holds either (a serialized form holding one more than once is
# not used: see RowTemplates).
PARTITION_MARK = "\x00concord: the partition\x00"
TIMESTAMP_MARK = -1.2345678901234567e-300
# What may differ between two materializations with one serialized form: nothing but these
# (None: not compared; a dict: compared field by field except its own)
DATE_AND_TIME = {
    "timestamp": None,
    "dagster_event": {"event_specific_data": {"materialization": {"partition": None}}},
}
MATERIALIZATION = DagsterEventType.ASSET_MATERIALIZATION.value
# a value alone as Dagster's JSON writes it (dagster_shared.seven.json.dumps: sort_keys=True)
JSON = json.JSONEncoder(sort_keys=True)
PLAIN = frozenset({str, int, float, bool, type(None)})


@dataclass
class RowTemplate:
    """An asset's last materialization with a partition, and its row split around its date and
    time (empty until a second one equal to it but for those comes; None if it cannot be)."""

    reference: EventLogEntry
    pieces: tuple[str, str, str] | None = ()
    partition_first: bool = True
    fixed: dict[str, Any] = field(default_factory=dict)


class RowTemplates:
    """The rows of a ranged run's materializations: Dagster's serialized form of an event is a
    pure function of its class and fields, so an event equal to the asset's last one in every
    field but its partition and timestamp (equal type by type: Dagster's tuples compare equal
    across classes, 1 with 1.0) serializes as that one does, with its own partition and
    timestamp in their places; those are serialized alone, as Dagster's JSON does. Any other
    event (another type, no partition, a field that differs) is serialized by Dagster and
    becomes its asset's new reference."""

    def __init__(
        self,
        event_to_row: Callable[[EventLogEntry], dict[str, Any]],
        insert_timestamp: Callable[[EventLogEntry], Any],
    ):
        self._event_to_row = event_to_row
        self._insert_timestamp = insert_timestamp
        self._by_asset: dict[Any, RowTemplate] = {}

    def row(self, event: EventLogEntry) -> dict[str, Any]:
        dagster_event = event.dagster_event
        if dagster_event is None or dagster_event.event_type_value != MATERIALIZATION:
            return self._event_to_row(event)
        materialization = dagster_event.event_specific_data.materialization
        partition = materialization.partition
        if not partition:
            return self._event_to_row(event)
        key = materialization.asset_key
        kept = self._by_asset.get(key)
        if kept is None or not equal_but(kept.reference, event, DATE_AND_TIME):
            self._by_asset[key] = RowTemplate(event)
            return self._event_to_row(event)
        if kept.pieces == ():
            self._split(kept)
        if kept.pieces is None:
            return self._event_to_row(event)
        first, middle, last = kept.pieces
        date, time = JSON.encode(partition), JSON.encode(event.timestamp)
        between = (date, time) if kept.partition_first else (time, date)
        row = dict(kept.fixed)
        row["event"] = first + between[0] + middle + between[1] + last
        row["partition"] = partition
        row["timestamp"] = self._insert_timestamp(event)
        return row

    def _split(self, kept: RowTemplate) -> None:
        """The reference's row with the marks in the place of its date and time, split there."""
        row = self._event_to_row(marked(kept.reference, PARTITION_MARK, TIMESTAMP_MARK))
        text = row.pop("event")
        partition, timestamp = JSON.encode(PARTITION_MARK), JSON.encode(TIMESTAMP_MARK)
        if text.count(partition) != 1 or text.count(timestamp) != 1:
            kept.pieces = None
            return
        kept.partition_first = text.index(partition) < text.index(timestamp)
        earlier, later = (partition, timestamp) if kept.partition_first else (timestamp, partition)
        first, rest = text.split(earlier)
        middle, last = rest.split(later)
        kept.pieces = (first, middle, last)
        row.pop("partition")
        row.pop("timestamp")
        kept.fixed = row


def marked(event: EventLogEntry, partition: str, timestamp: float) -> EventLogEntry:
    """The event with this partition and timestamp (NamedTuples' _replace: no validation)."""
    dagster_event = event.dagster_event
    data = dagster_event.event_specific_data
    materialization = data.materialization._replace(partition=partition)
    return event._replace(
        timestamp=timestamp,
        dagster_event=dagster_event._replace(
            event_specific_data=data._replace(materialization=materialization)
        ),
    )


def equal_but(first: Any, second: Any, skipped: dict | None = None) -> bool:
    """Equal field by field and type by type, but for the fields `skipped` names; a value of a
    type not known to compare as it serializes is equal only to itself."""
    if first is second:
        return True
    kind = type(first)
    if kind is not type(second):
        return False
    if kind in PLAIN:
        return _equal_plain(first, second)
    fields = getattr(first, "_fields", None)
    if fields is not None:
        for name in fields:
            inner = skipped.get(name, False) if skipped else False
            if inner is not None and not _equal(
                getattr(first, name), getattr(second, name), inner or None
            ):
                return False
        return True
    if kind is dict:
        # keys of another type than str may be equal and written differently (1 and True)
        if first.keys() != second.keys() or not all(type(key) is str for key in first):
            return False
        return all(_equal(value, second[key]) for key, value in first.items())
    if kind is list or kind is tuple:
        return len(first) == len(second) and all(
            _equal(a, b) for a, b in zip(first, second, strict=True)
        )
    return isinstance(first, Enum) and first == second


def _equal(first: Any, second: Any, skipped: dict | None = None) -> bool:
    """equal_but, its commonest cases (the same object, equal plain values) without a call."""
    if first is second:
        return True
    kind = type(first)
    if kind in PLAIN and kind is type(second):
        return _equal_plain(first, second)
    return equal_but(first, second, skipped)


def _equal_plain(first: Any, second: Any) -> bool:
    """Two plain values of one type written alike: floats by the text JSON gives them (0.0 and
    -0.0 are equal, and written differently; NaN is written as NaN)."""
    if type(first) is float:
        return repr(first) == repr(second)
    return first == second


def _commit_without_fsync(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
