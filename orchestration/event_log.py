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
in WAL mode (Dagster already switches its databases to WAL): each commit is atomic and survives
a crash of any process; a power cut can lose the last commits of the run history, never corrupt
it, and the warehouse, which does not live here, is not affected.

Everything else (files, schema, migrations, readers such as the webserver and the daemon) is
Dagster's own: a DAGSTER_HOME written by this storage opens with the default one and back.
Configured in orchestration/dagster.yaml; `base_dir` defaults to where Dagster's default event
log lives (`$DAGSTER_HOME/history/runs`), so a process opening this instance must have
DAGSTER_HOME set to its folder (as `make` and every Dagster command line do; a storage class is
not told which folder its dagster.yaml came from).
"""

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from dagster._config import Field, StringSource
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._serdes import ConfigurableClassData
from sqlalchemy.pool import QueuePool

# Dagster's own busy timeout for its SQLite files (seconds).
BUSY_TIMEOUT_SECONDS = 120
# Databases kept open: the index, the run being written, and a few a reader looks at.
OPEN_DATABASES = 16


def default_base_dir() -> str:
    """Where Dagster keeps the event log of the instance in DAGSTER_HOME by default."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise RuntimeError(
            "orchestration.event_log: set DAGSTER_HOME to the Dagster instance's folder (the "
            "one holding this dagster.yaml), or give the event log a base_dir in dagster.yaml"
        )
    return os.path.join(home, "history", "runs")


class ConcordSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage with one engine per database and `synchronous=NORMAL` commits."""

    def __init__(self, base_dir: str | None = None, inst_data: ConfigurableClassData | None = None):
        # before Dagster's __init__, which connects
        self._engines: OrderedDict[str, sa.Engine] = OrderedDict()
        super().__init__(base_dir or default_base_dir(), inst_data=inst_data)

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]
    ) -> "ConcordSqliteEventLogStorage":
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> sa.Engine:
        engine = self._engines.get(shard)
        if engine is None:
            # one connection kept, used by one thread at a time (under the storage's lock);
            # Dagster's schema set-up opens a second one for a moment
            engine = sa.create_engine(
                self.conn_string_for_shard(shard),
                poolclass=QueuePool,
                pool_size=1,
                max_overflow=4,
                connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            sa.event.listen(engine, "connect", _commit_without_fsync)
            self._engines[shard] = engine
            while len(self._engines) > OPEN_DATABASES:
                self._engines.popitem(last=False)[1].dispose()
        self._engines.move_to_end(shard)
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[sa.Connection]:
        """Dagster's _connect (one transaction per use, under the storage's lock), on a kept
        engine."""
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
        super().dispose()


def _commit_without_fsync(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
