"""Concord's Dagster event log (orchestration/event_log.py): the instance configured by
orchestration/dagster.yaml uses it; a run's events are stored and read back, by it and by
Dagster's default storage on the same DAGSTER_HOME; its connections commit with
synchronous=NORMAL and stay open; the UI's watcher still sees every write; a database deleted
under it is opened again; an instance opened from another folder than DAGSTER_HOME is refused;
a ranged run is planned once per asset, its checks' rows completed, its schema look-ups
remembered."""

import contextlib
import inspect
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value

from orchestration import event_log
from orchestration.event_log import OPEN_DATABASES, ConcordSqliteEventLogStorage

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="numbers")])
def numbers() -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={"rows": 3}, check_results=[dg.AssetCheckResult(passed=True)]
    )


def instance_at(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(home))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "orchestration" / "dagster.yaml", home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def test_the_configured_instance_stores_runs_dagster_can_read(home: Path) -> None:
    instance = instance_at(home)
    assert isinstance(instance.event_log_storage, ConcordSqliteEventLogStorage)
    result = dg.materialize([numbers], instance=instance)
    assert result.success
    event = instance.get_latest_materialization_event(dg.AssetKey("numbers"))
    assert event.asset_materialization.metadata["rows"].value == 3

    # the same history opened with Dagster's default event log (no event_log_storage entry)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    default = instance_at(home)
    assert not isinstance(default.event_log_storage, ConcordSqliteEventLogStorage)
    read = default.get_latest_materialization_event(dg.AssetKey("numbers"))
    assert read.run_id == result.run_id
    evaluations = default.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(dg.AssetKey("numbers"), "positive"), limit=5
    )
    assert [e.status.value for e in evaluations] == ["SUCCEEDED"]
    # and a run the default storage writes is read back by Concord's
    again = dg.materialize([numbers], instance=default)
    shutil.copy(PROJECT_ROOT / "orchestration" / "dagster.yaml", home)
    concord = instance_at(home)
    assert isinstance(concord.event_log_storage, ConcordSqliteEventLogStorage)
    latest = concord.get_latest_materialization_event(dg.AssetKey("numbers"))
    assert latest.run_id == again.run_id


def test_connections_commit_with_synchronous_normal_and_stay_open(home: Path) -> None:
    instance = instance_at(home)
    storage = instance.event_log_storage
    dg.materialize([numbers], instance=instance)
    with storage.index_connection() as conn:
        synchronous = conn.exec_driver_sql("PRAGMA synchronous").scalar()
        journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
    assert synchronous == 1  # NORMAL (FULL is 2)
    assert journal == "wal"
    # the index database's connection stays open between uses: its write-ahead log is not
    # removed by a close after every event
    assert (home / "history" / "runs" / "index.db-wal").exists()
    for n in range(OPEN_DATABASES + 3):
        with storage.run_connection(f"run-{n}") as conn:
            conn.exec_driver_sql("select 1")
    assert len(storage._engines) == OPEN_DATABASES
    storage.dispose()
    assert storage._engines == {}
    # a closed storage left its databases whole
    with sqlite3.connect(home / "history" / "runs" / "index.db") as check:
        assert check.execute("pragma integrity_check").fetchone() == ("ok",)


def log_entry(run_id: str, message: str):
    from dagster._core.events.log import EventLogEntry

    return EventLogEntry(
        error_info=None,
        level=20,
        user_message=message,
        run_id=run_id,
        timestamp=time.time(),
        dagster_event=None,
    )


def test_a_watcher_in_another_instance_sees_each_write(home: Path) -> None:
    """The UI's live run logs watch the run's database file: a commit that writes only the
    write-ahead log must still reach them."""
    writer = instance_at(home).event_log_storage
    reader = instance_at(home).event_log_storage
    writer.store_event(log_entry("run-a", "first"))
    seen: list[str] = []
    reader.watch("run-a", None, lambda entry, _cursor: seen.append(entry.user_message))
    try:
        for message in ("second", "third"):
            writer.store_event(log_entry("run-a", message))
            deadline = time.time() + 10
            while message not in seen and time.time() < deadline:
                time.sleep(0.05)
            assert message in seen, seen
    finally:
        reader.dispose()
        writer.dispose()


def test_a_deleted_database_is_opened_again_not_written_in_the_dark(home: Path) -> None:
    storage = instance_at(home).event_log_storage
    storage.store_event(log_entry("run-b", "before"))
    database = Path(storage.path_for_shard("run-b"))
    for leftover in database.parent.glob("run-b.db*"):
        leftover.unlink()  # as `make clean` would, while the storage holds it open
    storage.store_event(log_entry("run-b", "after"))
    fresh = instance_at(home).event_log_storage
    assert [r.event_log_entry.user_message for r in fresh.get_records_for_run("run-b").records] == [
        "after"
    ]
    storage.dispose()
    fresh.dispose()


def test_an_instance_opened_from_another_folder_than_dagster_home_is_refused(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(elsewhere))
    with pytest.raises(Exception, match="set DAGSTER_HOME to the instance's folder"):
        instance_at(home)


DAYS = dg.DailyPartitionsDefinition(start_date="2026-01-01", end_offset=1)


@dg.multi_asset(
    specs=[dg.AssetSpec("daily_rows")],
    check_specs=[dg.AssetCheckSpec("whole_log", asset="daily_rows")],
    partitions_def=DAYS,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def daily_rows() -> Iterator:
    yield dg.MaterializeResult(asset_key="daily_rows", metadata={"rows": 3})
    yield dg.AssetCheckResult(asset_key="daily_rows", check_name="whole_log", passed=True)


def ranged_run(instance: dg.DagsterInstance, days: int) -> dg.ExecuteInProcessResult:
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    keys = DAYS.get_partition_keys()[:days]
    return dg.materialize(
        [daily_rows],
        instance=instance,
        tags={ASSET_PARTITION_RANGE_START_TAG: keys[0], ASSET_PARTITION_RANGE_END_TAG: keys[-1]},
    )


def run_events(instance: dg.DagsterInstance, run_id: str, event_type: str) -> list:
    return [
        r.dagster_event
        for r in instance.all_logs(run_id)
        if r.dagster_event and r.dagster_event.event_type_value == event_type
    ]


def check_rows(home: Path) -> list[tuple[str | None, str]]:
    with sqlite3.connect(home / "history" / "runs" / "index.db") as index:
        return index.execute(
            "select partition, execution_status from asset_check_executions order by id"
        ).fetchall()


@pytest.mark.parametrize("storage", ["concord", "dagster"])
def test_a_ranged_run_records_each_date_materialized_and_plans_in_proportion(
    home: Path, storage: str
) -> None:
    """A run over ten dates: each date is materialized (the UI's partition status), the asset is
    planned once with its range, and its unpartitioned check leaves one row its result completes.
    Dagster's own storage plans each date and leaves a "planned" check row per date for ever."""
    if storage == "dagster":
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    instance = instance_at(home)
    storage_of = instance.event_log_storage
    # a backfill (orchestration/run.py: more than PLAN_PER_DATE_UP_TO dates) plans compactly
    compact = storage_of.compact_planning(40) if storage == "concord" else contextlib.nullcontext()
    with compact:
        result = ranged_run(instance, 10)
    assert result.success
    key = dg.AssetKey("daily_rows")
    ten = set(DAYS.get_partition_keys()[:10])
    assert instance.get_materialized_partitions(key) == ten
    status = get_and_update_asset_status_cache_value(instance, key, DAYS)
    assert set(status.deserialize_materialized_partition_subsets(DAYS).get_partition_keys()) == ten
    planned = run_events(instance, result.run_id, "ASSET_MATERIALIZATION_PLANNED")
    if storage == "concord":
        assert len(planned) == 1
        assert set(planned[0].partitions_subset.get_partition_keys()) == ten
        assert check_rows(home) == [(None, "SUCCEEDED")]
        # any other run, a day's or the sensor's, plans each date as Dagster does
        assert not storage_of.plan_ranges_compactly
        short = ranged_run(instance, 3)
        assert len(run_events(instance, short.run_id, "ASSET_MATERIALIZATION_PLANNED")) == 3
    else:
        assert len(planned) == 10
        assert check_rows(home).count((None, "SUCCEEDED")) == 1
        assert sorted(r[0] for r in check_rows(home) if r[1] == "PLANNED") == sorted(ten)
    instance.dispose()


def test_schema_look_ups_are_remembered_not_repeated_per_event(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dagster looks up the index's tags table (with a new engine) and the asset table's columns
    on every asset event; found once, they are not looked up again, until the index database is
    replaced."""
    from dagster._core.storage.event_log import SqliteEventLogStorage
    from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage

    calls = {"table": 0, "column": 0}
    has_table = SqliteEventLogStorage.has_table
    has_column = SqlEventLogStorage._has_asset_key_col_on_connection

    def counted_table(self, name):  # noqa: ANN001, ANN202
        calls["table"] += 1
        return has_table(self, name)

    def counted_column(self, conn, name):  # noqa: ANN001, ANN202
        calls["column"] += 1
        return has_column(self, conn, name)

    monkeypatch.setattr(SqliteEventLogStorage, "has_table", counted_table)
    monkeypatch.setattr(SqlEventLogStorage, "_has_asset_key_col_on_connection", counted_column)
    instance = instance_at(home)
    assert ranged_run(instance, 20).success  # 20 materializations and a planned event
    assert 1 <= calls["table"] <= 2 and 1 <= calls["column"] <= 2, calls
    storage = instance.event_log_storage
    for leftover in (home / "history" / "runs").glob("index.db*"):
        leftover.unlink()  # a wipe under a running storage: the new index is looked up again
    before = dict(calls)
    assert ranged_run(instance, 2).success
    assert calls["table"] > before["table"] and calls["column"] > before["column"], calls
    storage.dispose()


def stored_materializations(home: Path) -> list[tuple]:
    """Every materialization row of the run databases and the index: its columns as stored."""
    rows = []
    for database in sorted((home / "history" / "runs").glob("*.db")):
        with sqlite3.connect(database) as db:
            rows += db.execute(
                "select run_id, event, dagster_event_type, timestamp, step_key, asset_key,"
                " partition from event_logs where dagster_event_type = 'ASSET_MATERIALIZATION'"
            ).fetchall()
    return rows


def test_a_ranged_runs_materializations_are_stored_as_dagster_would_store_them(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backfill's materializations of one asset are serialized by Dagster twice (the first,
    and the form split around its date and time), the others from that form: each row, every
    column, is what Dagster's own row of the event holds."""
    from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
    from dagster._serdes import deserialize_value

    serialized = Counter()
    to_row = SqlEventLogStorage._event_to_row

    def counted(self, event):  # noqa: ANN001, ANN202
        serialized[event.dagster_event_type] += 1
        return to_row(self, event)

    monkeypatch.setattr(SqlEventLogStorage, "_event_to_row", counted)
    instance = instance_at(home)
    with instance.event_log_storage.compact_planning(40):
        assert ranged_run(instance, 40).success
    storage = instance.event_log_storage
    instance.dispose()
    assert serialized[dg.DagsterEventType.ASSET_MATERIALIZATION] == 2
    rows = stored_materializations(home)
    assert len(rows) == 80  # the run's database and the index
    assert {row[6] for row in rows} == set(DAYS.get_partition_keys()[:40])
    monkeypatch.setattr(SqlEventLogStorage, "_event_to_row", to_row)
    columns = ("run_id", "event", "dagster_event_type", "timestamp", "step_key", "asset_key")
    for row in rows:
        dagsters = storage._event_to_row(deserialize_value(row[1]))  # noqa: SLF001
        dagsters["timestamp"] = str(dagsters["timestamp"])  # as SQLite stores it
        assert dict(zip((*columns, "partition"), row, strict=True)) == dagsters
    # the index's tags of each asset event: what Dagster's _store_asset_event_tags writes
    with sqlite3.connect(home / "history" / "runs" / "index.db") as index:
        tags = index.execute(
            "select event_id, asset_key, key, value, event_timestamp from asset_event_tags"
        ).fetchall()
        events = index.execute(
            "select id, event from event_logs where dagster_event_type = 'ASSET_MATERIALIZATION'"
        ).fetchall()
    expected = []
    for id_, text in events:
        event = deserialize_value(text)
        when = str(storage._event_insert_timestamp(event))  # noqa: SLF001
        for key, value in storage._tags_for_asset_event(event).items():  # noqa: SLF001
            expected.append((id_, event.dagster_event.asset_key.to_string(), key, value, when))
    assert len(expected) == 40
    assert sorted(tags) == sorted(expected)


def test_a_materializations_row_from_another_ones_form_is_the_row_dagster_makes(
    home: Path,
) -> None:
    """Materializations one after the other, alike but for their date and time or not: dates
    JSON must escape, a whole-number time, a value of another type that compares equal (1 and
    1.0), another message, another asset; each row is Dagster's own row of the event."""
    from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage

    storage = instance_at(home).event_log_storage
    serialized = []

    def dagsters_row(event):  # noqa: ANN001, ANN202
        serialized.append(event)
        return SqlEventLogStorage._event_to_row(storage, event)  # noqa: SLF001

    templates = event_log.RowTemplates(dagsters_row, storage._event_insert_timestamp)  # noqa: SLF001

    def entry(partition: str, value: object = 1, message: str = "", asset: str = "burst"):
        base = materialization_entry("run-t", partition)
        data = base.dagster_event.event_specific_data
        materialization = dg.AssetMaterialization(
            asset_key=asset, partition=partition, metadata={"rows": value}
        )
        return base._replace(
            user_message=message,
            dagster_event=base.dagster_event._replace(
                event_specific_data=data._replace(materialization=materialization)
            ),
        )

    events = [
        entry("2026-01-01"),
        entry("2026-01-02"),
        entry('a "quoted" \\ date'),
        entry("ünïcode ✓")._replace(timestamp=1767225600),
        entry("2026-01-05", value=1.0),
        entry("2026-01-06", value=1.0),
        entry("2026-01-07", value=True),
        entry("2026-01-08", message="another message"),
        entry("2026-01-09", asset="elsewhere"),
        entry("2026-01-10", message="another message"),
        entry("2026-01-11", value=float("nan")),
        entry("2026-01-12", value=float("nan")),
        entry("2026-01-13", value=0.0),
        entry("2026-01-14", value=-0.0),
    ]
    for event in events:
        assert templates.row(event) == storage._event_to_row(event), event  # noqa: SLF001
    # from a form: the 2nd to 4th (the 1st's), the 6th (the 5th's), the 10th (the 8th's), the
    # 12th (the 11th's: NaN is written NaN); each form made once (the 2nd, 6th, 10th and 12th
    # events' calls), the 8 others serialized alone (0.0 and -0.0 are equal, written apart)
    assert len(serialized) == 12
    assert event_log.equal_but(events[0], events[1], event_log.DATE_AND_TIME)
    assert not event_log.equal_but(events[1], events[4], event_log.DATE_AND_TIME)  # 1, 1.0
    assert not event_log.equal_but(events[4], events[6], event_log.DATE_AND_TIME)  # 1.0, True
    assert not event_log.equal_but(events[12], events[13], event_log.DATE_AND_TIME)  # 0.0, -0.0
    assert not event_log.equal_but({1: "a"}, {True: "a"})


def materialization_entry(run_id: str, partition: str):
    from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
    from dagster._core.events.log import EventLogEntry

    materialization = dg.AssetMaterialization(asset_key="burst", partition=partition)
    return EventLogEntry(
        error_info=None,
        level=20,
        user_message="",
        run_id=run_id,
        timestamp=time.time(),
        dagster_event=DagsterEvent(
            DagsterEventType.ASSET_MATERIALIZATION.value,
            "job",
            event_specific_data=StepMaterializationData(materialization),
        ),
    )


def test_a_bursts_materializations_are_written_together_before_anything_else(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A partition's materialization is kept back and written with the rest of its burst: before
    this storage reads or writes anything else (so this process never reads without them, and
    the run's next event follows them), at the latest when the storage is disposed."""
    monkeypatch.setattr(event_log, "PENDING_SECONDS", 600)  # not written by time here
    writer, reader = instance_at(home), instance_at(home)  # reader: as another process
    key = dg.AssetKey("burst")
    for day in ("2026-01-01", "2026-01-02", "2026-01-03"):
        writer.event_log_storage.store_event(materialization_entry("run-m", day))
    assert reader.get_materialized_partitions(key) == set()  # kept back
    assert writer.get_materialized_partitions(key) == {"2026-01-01", "2026-01-02", "2026-01-03"}
    writer.event_log_storage.store_event(materialization_entry("run-m", "2026-01-04"))
    writer.event_log_storage.store_event(log_entry("run-m", "the step's next event"))
    assert len(reader.get_materialized_partitions(key)) == 4
    records = reader.event_log_storage.get_records_for_run("run-m").records
    assert [r.event_log_entry.dagster_event_type for r in records] == [
        dg.DagsterEventType.ASSET_MATERIALIZATION
    ] * 4 + [None]
    assert [r.event_log_entry.dagster_event.partition for r in records[:4]] == [
        "2026-01-01",
        "2026-01-02",
        "2026-01-03",
        "2026-01-04",
    ]
    latest = reader.get_latest_materialization_event(key)
    assert latest.asset_materialization.partition == "2026-01-04"
    writer.event_log_storage.store_event(materialization_entry("run-m", "2026-01-05"))
    writer.dispose()
    assert len(reader.get_materialized_partitions(key)) == 5
    reader.dispose()


def test_a_burst_interrupted_while_written_is_kept_and_written_later_once(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An interrupt (Ctrl-C, a terminated run: not an Exception) while the burst is written: it
    reaches the caller, and the burst is written later, none of it lost and none twice."""
    monkeypatch.setattr(event_log, "PENDING_SECONDS", 600)  # not written by time here
    writer, reader = instance_at(home), instance_at(home)
    storage = writer.event_log_storage
    key = dg.AssetKey("burst")
    for day in ("2026-01-01", "2026-01-02", "2026-01-03"):
        storage.store_event(materialization_entry("run-i", day))
    real_index_transaction = storage.index_transaction

    def interrupted() -> Iterator:
        raise KeyboardInterrupt

    monkeypatch.setattr(storage, "index_transaction", interrupted)
    with pytest.raises(KeyboardInterrupt):
        writer.get_materialized_partitions(key)
    monkeypatch.setattr(storage, "index_transaction", real_index_transaction)
    assert writer.get_materialized_partitions(key) == {"2026-01-01", "2026-01-02", "2026-01-03"}
    assert reader.get_materialized_partitions(key) == {"2026-01-01", "2026-01-02", "2026-01-03"}
    records = reader.event_log_storage.get_records_for_run("run-i").records
    assert [r.event_log_entry.dagster_event.partition for r in records] == [
        "2026-01-01",
        "2026-01-02",
        "2026-01-03",
    ]
    writer.dispose()
    reader.dispose()


def test_an_event_that_cannot_be_stored_fails_once_and_blocks_nothing_after_it(
    home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """One check's evaluation cannot be stored, alone either (the index refuses it each time):
    as with Dagster's own store_event, its error is raised once (to the step logging the event
    that writes the burst) and logged, its row stays in the run's database, and the burst's
    other events, the step's and run's failures and every read are stored or served."""
    from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage

    logged = dbt_node_events("run-p", "orders", ["not_null", "unique"])
    monkeypatch.setattr(event_log, "PENDING_SECONDS", 600)
    monkeypatch.setattr(event_log, "PENDING_EVENTS", len(logged))
    writer, reader = instance_at(home), instance_at(home)
    storage = writer.event_log_storage
    real = SqlEventLogStorage.store_asset_check_event

    def refused(self, event, event_id):  # noqa: ANN001, ANN202
        data = event.dagster_event.event_specific_data
        if event.dagster_event_type.value == "ASSET_CHECK_EVALUATION" and (
            data.check_name == "not_null"
        ):
            raise RuntimeError("refused (injected)")
        return real(self, event, event_id)

    monkeypatch.setattr(SqlEventLogStorage, "store_asset_check_event", refused)
    for entry in logged[:-1]:
        storage.store_event(entry)
    with pytest.raises(RuntimeError, match="injected"):
        storage.store_event(logged[-1])  # the burst is full: written now
    storage.store_event(log_entry("run-p", "the step's failure"))
    storage.store_event(log_entry("run-p", "the run's failure"))
    assert writer.all_logs("run-p")[: len(logged)] == logged
    read = reader.all_logs("run-p")
    assert read[: len(logged)] == logged
    assert [e.user_message for e in read[len(logged) :]] == [
        "the step's failure",
        "the run's failure",
    ]
    refused_event = logged.index(
        next(e for e in logged if e.dagster_event_type.value == "ASSET_CHECK_EVALUATION")
    )
    mirrored = [
        e.dagster_event_type.value
        for n, e in enumerate(logged)
        if e.dagster_event_type.value != "STEP_OUTPUT" and n != refused_event
    ]
    assert [t for _, t in index_rows(home, "run-p")] == mirrored
    errors = [r for r in caplog.records if r.name == "orchestration.event_log"]
    assert len(errors) == 1 and "ASSET_CHECK_EVALUATION" in errors[0].getMessage()
    writer.dispose()
    reader.dispose()


def step_event(run_id: str, event_type: dg.DagsterEventType, data: object):
    from dagster._core.events import DagsterEvent
    from dagster._core.events.log import EventLogEntry

    return EventLogEntry(
        error_info=None,
        level=20,
        user_message="",
        run_id=run_id,
        timestamp=time.time(),
        step_key="dbt",
        dagster_event=DagsterEvent(
            event_type.value, "job", step_key="dbt", event_specific_data=data
        ),
    )


def dbt_node_events(run_id: str, model: str, tests: list[str]) -> list:
    """What a dbt build logs for a model and its data tests: the checks planned, the model's
    output and materialization, each test's evaluation."""
    from dagster._core.definitions.asset_checks.asset_check_evaluation import (
        AssetCheckEvaluation,
        AssetCheckEvaluationPlanned,
    )
    from dagster._core.events import StepMaterializationData
    from dagster._core.execution.plan.outputs import StepOutputData, StepOutputHandle

    key, kind = dg.AssetKey(model), dg.DagsterEventType
    return [
        *(
            step_event(
                run_id,
                kind.ASSET_CHECK_EVALUATION_PLANNED,
                AssetCheckEvaluationPlanned(asset_key=key, check_name=test),
            )
            for test in tests
        ),
        step_event(run_id, kind.STEP_OUTPUT, StepOutputData(StepOutputHandle("dbt", model))),
        step_event(
            run_id,
            kind.ASSET_MATERIALIZATION,
            StepMaterializationData(dg.AssetMaterialization(key, metadata={"rows": len(model)})),
        ),
        *(
            step_event(
                run_id,
                kind.ASSET_CHECK_EVALUATION,
                AssetCheckEvaluation(
                    asset_key=key, check_name=test, passed=test != "unique", metadata={}
                ),
            )
            for test in tests
        ),
    ]


def index_rows(home: Path, run_id: str) -> list[tuple[int, str]]:
    with sqlite3.connect(home / "history" / "runs" / "index.db") as index:
        return index.execute(
            "select id, dagster_event_type from event_logs where run_id = ? order by id", (run_id,)
        ).fetchall()


def test_a_dbt_steps_events_are_kept_back_and_written_in_order_as_dagster_reads_them(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dbt step's per-node events (checks planned, outputs, materializations, evaluations) are
    kept back: another process does not see them yet, this one's reads do; the step's next
    event follows them; read back, they are the events logged, in their order, and Dagster
    reports from them each asset's latest materialization and each check's latest execution."""
    monkeypatch.setattr(event_log, "PENDING_SECONDS", 600)  # not written by time here
    writer, reader = instance_at(home), instance_at(home)  # reader: as another process
    storage = writer.event_log_storage
    logged = dbt_node_events("run-d", "orders", ["not_null", "unique"]) + dbt_node_events(
        "run-d", "customers", ["not_null"]
    )
    for entry in logged[:5]:
        storage.store_event(entry)
    assert reader.all_logs("run-d") == []  # kept back
    assert writer.all_logs("run-d") == logged[:5]  # a read here sees all logged before it
    for entry in logged[5:]:
        storage.store_event(entry)
    assert len(reader.all_logs("run-d")) == 5
    storage.store_event(log_entry("run-d", "the step's next event"))
    read = reader.all_logs("run-d")
    assert read[:-1] == logged and read[-1].user_message == "the step's next event"
    # the index mirrors the asset and check events, in order, once each
    mirrored = [
        e.dagster_event_type.value
        for e in logged
        if e.dagster_event_type.value not in ("STEP_OUTPUT",)
    ]
    assert [t for _, t in index_rows(home, "run-d")] == mirrored
    records = reader.event_log_storage.get_records_for_run("run-d").records
    for model in ("orders", "customers"):
        latest = reader.get_latest_materialization_event(dg.AssetKey(model))
        (materialization,) = [
            r
            for r in records
            if r.event_log_entry.dagster_event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
            and r.event_log_entry.dagster_event.asset_key == dg.AssetKey(model)
        ]
        assert latest == materialization.event_log_entry
    checks = [
        dg.AssetCheckKey(dg.AssetKey("orders"), "not_null"),
        dg.AssetCheckKey(dg.AssetKey("orders"), "unique"),
        dg.AssetCheckKey(dg.AssetKey("customers"), "not_null"),
    ]
    executions = reader.event_log_storage.get_latest_asset_check_execution_by_key(checks)
    assert {key: executions[key].status.value for key in checks} == {
        checks[0]: "SUCCEEDED",
        checks[1]: "FAILED",
        checks[2]: "SUCCEEDED",
    }
    evaluations = {
        e.dagster_event.event_specific_data.asset_check_key: e
        for e in logged
        if e.dagster_event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    }
    for key in checks:
        assert executions[key].event == evaluations[key]
    with sqlite3.connect(home / "history" / "runs" / "index.db") as index:
        assert index.execute("select count(*) from asset_check_executions").fetchone() == (3,)
    writer.dispose()
    reader.dispose()


def test_events_kept_back_are_written_within_the_time_bound_without_another_event(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long model or test logs nothing for a while: what was kept back before it still
    reaches the UI (another process) within PENDING_SECONDS, not at the step's end."""
    monkeypatch.setattr(event_log, "PENDING_SECONDS", 1.0)
    writer, reader = instance_at(home), instance_at(home)
    logged = dbt_node_events("run-t", "orders", ["not_null"])
    started = time.monotonic()
    for entry in logged:
        writer.event_log_storage.store_event(entry)
    assert reader.all_logs("run-t") == [] or time.monotonic() - started >= 1.0
    deadline = started + event_log.PENDING_SECONDS + 3  # the bound, and the machine's load
    while len(reader.all_logs("run-t")) < len(logged) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert reader.all_logs("run-t") == logged
    key = dg.AssetCheckKey(dg.AssetKey("orders"), "not_null")
    execution = reader.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
    assert execution.status.value == "SUCCEEDED"
    writer.dispose()
    reader.dispose()


def test_a_burst_whose_index_is_locked_a_moment_is_written_again_whole_none_lost_or_doubled(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check's row cannot be written once (the index locked a moment) in the middle of a
    burst: the burst's index transaction is undone and the burst written again, so every event
    is in the run's database and the index once, and every check has its row."""
    from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage

    monkeypatch.setattr(event_log, "PENDING_SECONDS", 600)
    writer, reader = instance_at(home), instance_at(home)
    storage = writer.event_log_storage
    real = SqlEventLogStorage.store_asset_check_event
    failed = []

    def locked_once(self, event, event_id):  # noqa: ANN001, ANN202
        if event.dagster_event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION and not failed:
            failed.append(event_id)
            raise RuntimeError("database is locked (injected)")
        return real(self, event, event_id)

    monkeypatch.setattr(SqlEventLogStorage, "store_asset_check_event", locked_once)
    logged = dbt_node_events("run-x", "orders", ["not_null", "unique"])
    for entry in logged:
        storage.store_event(entry)
    storage.store_event(log_entry("run-x", "the step's next event"))
    assert failed  # the failure happened
    assert reader.all_logs("run-x")[:-1] == logged
    mirrored = index_types(logged)
    assert [t for _, t in index_rows(home, "run-x")] == mirrored
    with sqlite3.connect(home / "history" / "runs" / "index.db") as index:
        assert index.execute(
            "select check_name, execution_status from asset_check_executions order by check_name"
        ).fetchall() == [("not_null", "SUCCEEDED"), ("unique", "FAILED")]
    writer.dispose()
    reader.dispose()


def test_an_interrupt_while_the_kept_back_events_are_written_loses_none(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run is terminated (an interrupt, a BaseException) while a burst is being written: the
    burst's events stay kept back and are written at the next use, once each, in the run's
    database and the index (a dbt step's events and a partition's materialization alike)."""

    monkeypatch.setattr(event_log, "PENDING_SECONDS", 600)
    writer, reader = instance_at(home), instance_at(home)
    storage = writer.event_log_storage
    real = ConcordSqliteEventLogStorage._store_tags
    interrupted = []

    def interrupt_once(self, *args):  # noqa: ANN001, ANN002, ANN202
        if not interrupted:
            interrupted.append(True)
            raise KeyboardInterrupt
        return real(self, *args)

    monkeypatch.setattr(ConcordSqliteEventLogStorage, "_store_tags", interrupt_once)
    logged = [
        *dbt_node_events("run-i", "orders", ["not_null"]),
        materialization_entry("run-i", "2026-01-01"),
    ]
    for entry in logged:
        storage.store_event(entry)
    with pytest.raises(KeyboardInterrupt):
        storage.store_event(log_entry("run-i", "the step's failure"))
    storage.store_event(log_entry("run-i", "the run's failure"))
    read = reader.all_logs("run-i")
    assert read[: len(logged)] == logged
    assert [e.user_message for e in read[len(logged) :]] == ["the run's failure"]
    mirrored = index_types(logged)
    assert [t for _, t in index_rows(home, "run-i")] == mirrored
    assert reader.get_materialized_partitions(dg.AssetKey("burst")) == {"2026-01-01"}
    writer.dispose()
    reader.dispose()


def test_events_still_kept_back_after_a_failed_timed_write_are_written_within_the_bound(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The timer's write is interrupted (its events stay kept back): another timer writes them
    within the bound again, without another event."""
    import threading

    monkeypatch.setattr(event_log, "PENDING_SECONDS", 1.0)
    writer, reader = instance_at(home), instance_at(home)
    real = ConcordSqliteEventLogStorage._store_tags
    interrupted = []

    def interrupt_the_timer_once(self, *args):  # noqa: ANN001, ANN002, ANN202
        if threading.current_thread() is not threading.main_thread() and not interrupted:
            interrupted.append(time.monotonic())
            raise KeyboardInterrupt
        return real(self, *args)

    monkeypatch.setattr(ConcordSqliteEventLogStorage, "_store_tags", interrupt_the_timer_once)
    logged = dbt_node_events("run-r", "orders", ["not_null"])
    for entry in logged:
        writer.event_log_storage.store_event(entry)
    mirrored = index_types(logged)
    deadline = time.monotonic() + 2 * event_log.PENDING_SECONDS + 3
    while len(index_rows(home, "run-r")) < len(mirrored) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert interrupted  # the timer's first write was interrupted after the run's rows
    assert [t for _, t in index_rows(home, "run-r")] == mirrored
    assert reader.all_logs("run-r") == logged
    writer.dispose()
    reader.dispose()


def test_events_kept_back_are_written_when_the_process_exits_without_dispose(home: Path) -> None:
    """A process (a script, a run's) logs a step's events and exits without disposing of its
    instance: they are written at its exit, not lost."""
    script = (
        "import sys\n"
        f"sys.path[:0] = [{str(PROJECT_ROOT)!r}, {str(Path(__file__).parent)!r}]\n"
        "import dagster as dg\n"
        "from test_event_log import dbt_node_events\n"
        "storage = dg.DagsterInstance.get().event_log_storage\n"
        "for entry in dbt_node_events('run-e', 'orders', ['not_null']):\n"
        "    storage.store_event(entry)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    reader = instance_at(home)
    read = reader.all_logs("run-e")
    assert [e.dagster_event_type for e in read] == [
        e.dagster_event_type for e in dbt_node_events("run-e", "orders", ["not_null"])
    ]
    reader.dispose()


def locked(*_args):  # noqa: ANN202
    """A write that finds the database locked through SQLite's busy timeout."""
    import sqlalchemy as sa

    raise sa.exc.OperationalError("insert", {}, sqlite3.OperationalError("database is locked"))


def test_a_storage_failure_of_a_burst_fails_the_storages_next_event_and_is_logged(
    home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The index stays locked through a burst's write and its one retry, the burst written by a
    read (or the timer): the read is served, the storage's next event raises the error before
    it is stored (the step or run fails, as Dagster's own store_event would make it), once;
    each event of the failed write is logged with its run and type."""
    monkeypatch.setattr(event_log, "PENDING_SECONDS", 600)
    writer = instance_at(home)
    storage = writer.event_log_storage
    tries = []

    def locked_index() -> Iterator:
        tries.append(True)
        locked()

    logged = dbt_node_events("run-a", "orders", ["not_null"])
    for entry in logged:
        storage.store_event(entry)
    monkeypatch.setattr(storage, "index_transaction", locked_index)
    assert writer.all_logs("run-a") == logged  # the read: served, the burst written meanwhile
    monkeypatch.undo()
    assert len(tries) == 2  # the burst, retried once
    with pytest.raises(Exception, match="database is locked"):
        storage.store_event(log_entry("run-a", "the step's next event"))
    storage.store_event(log_entry("run-a", "the step's failure"))
    assert [e.user_message for e in writer.all_logs("run-a")[len(logged) :]] == [
        "the step's failure"  # the event that raised is not stored, as with Dagster's
    ]
    assert index_rows(home, "run-a") == []
    messages = [r.getMessage() for r in caplog.records if r.name == "orchestration.event_log"]
    assert len(messages) == len(logged)
    for message, entry in zip(messages, logged, strict=True):
        assert f"{entry.dagster_event_type.value} event of run run-a" in message
        assert "database is locked" in message
    writer.dispose()


@pytest.mark.parametrize("database", ["run_connection", "index_transaction"])
def test_an_interrupt_right_after_a_bursts_commit_writes_no_event_twice(
    home: Path, monkeypatch: pytest.MonkeyPatch, database: str
) -> None:
    """The run is terminated just after a burst's transaction committed, before its write
    returned: what is written again later is only what was not committed, no event twice."""
    monkeypatch.setattr(event_log, "PENDING_SECONDS", 600)
    writer, reader = instance_at(home), instance_at(home)
    storage = writer.event_log_storage
    real = getattr(storage, database)
    interrupted = []

    @contextlib.contextmanager
    def committed_then_interrupted(*args: str) -> Iterator:
        with real(*args) as conn:
            yield conn
        if not interrupted:
            interrupted.append(True)
            raise KeyboardInterrupt  # the transaction is committed

    monkeypatch.setattr(storage, database, committed_then_interrupted)
    logged = dbt_node_events("run-b", "orders", ["not_null"])
    for entry in logged:
        storage.store_event(entry)
    with pytest.raises(KeyboardInterrupt):
        storage.store_event(log_entry("run-b", "the step's failure"))
    storage.store_event(log_entry("run-b", "the run's failure"))
    read = reader.all_logs("run-b")
    assert read[: len(logged)] == logged
    assert [e.user_message for e in read[len(logged) :]] == ["the run's failure"]
    mirrored = index_types(logged)
    assert [t for _, t in index_rows(home, "run-b")] == mirrored
    with sqlite3.connect(home / "history" / "runs" / "index.db") as index:
        assert index.execute("select count(*) from asset_check_executions").fetchone() == (1,)
    writer.dispose()
    reader.dispose()


def first_lines_of_a_write() -> list[int]:
    """The lines of _write_pending from its first statement to its first write: where an
    interrupt (a signal's exception) can land before anything is written."""
    code = ConcordSqliteEventLogStorage._write_pending.__code__
    lines = sorted({line for _, _, line in code.co_lines() if line is not None})
    source = inspect.getsource(ConcordSqliteEventLogStorage._write_pending).splitlines()
    first_write = next(i for i, text in enumerate(source) if "_write_retried(" in text)
    last = code.co_firstlineno + first_write
    return [line for line in lines if code.co_firstlineno < line <= last]


@pytest.mark.parametrize("line", first_lines_of_a_write())
def test_an_interrupt_as_a_write_takes_the_kept_back_events_loses_none(
    home: Path, monkeypatch: pytest.MonkeyPatch, line: int
) -> None:
    """An interrupt on any line of a write before its first statement reaches a database (as the
    kept-back events are taken over) keeps them all back, written once later."""
    monkeypatch.setattr(event_log, "PENDING_SECONDS", 600)
    writer, reader = instance_at(home), instance_at(home)
    storage = writer.event_log_storage
    logged = dbt_node_events("run-t", "orders", ["not_null"])
    for entry in logged:
        storage.store_event(entry)
    code = ConcordSqliteEventLogStorage._write_pending.__code__
    fired: list[int] = []

    def tracer(frame, event, _arg):  # noqa: ANN001, ANN202
        if frame.f_code is not code:
            return None

        def on_line(frame, event, _arg):  # noqa: ANN001, ANN202
            if event == "line" and frame.f_lineno == line and not fired:
                fired.append(line)
                raise KeyboardInterrupt  # as a signal handler's exception landing there
            return on_line

        return on_line

    sys.settrace(tracer)
    try:
        with pytest.raises(KeyboardInterrupt):
            storage.store_event(log_entry("run-t", "the step's failure"))
    finally:
        sys.settrace(None)
    assert fired == [line]
    storage.store_event(log_entry("run-t", "the run's failure"))
    read = reader.all_logs("run-t")
    assert read[: len(logged)] == logged
    assert [e.user_message for e in read[len(logged) :]] == ["the run's failure"]
    writer.dispose()
    reader.dispose()


def index_types(logged: list) -> list[str]:
    """The types of the events of `logged` the index holds too (all but the step's outputs)."""
    return [
        e.dagster_event_type.value for e in logged if e.dagster_event_type.value != "STEP_OUTPUT"
    ]


def assert_a_scripts_events_written_once(home: Path, run_id: str) -> None:
    """The dbt node events a run_script body stored for run_id are in the index and the run's
    database, each once and in order."""
    logged = dbt_node_events(run_id, "orders", ["not_null"])
    assert [t for _, t in index_rows(home, run_id)] == index_types(logged)
    reader = instance_at(home)
    assert [e.dagster_event_type for e in reader.all_logs(run_id)] == [
        e.dagster_event_type for e in logged
    ]
    reader.dispose()


def run_script(body: str) -> None:
    """body run by a Python process with the project and this folder on its path, its
    DAGSTER_HOME this test's, events kept back until written by a use, a dispose or the exit."""
    script = (
        "import os, sys\n"
        f"sys.path[:0] = [{str(PROJECT_ROOT)!r}, {str(Path(__file__).parent)!r}]\n"
        "import dagster as dg\n"
        "from orchestration import event_log\n"
        "from test_event_log import dbt_node_events, log_entry\n"
        "event_log.PENDING_SECONDS = 600\n"
        "instance = dg.DagsterInstance.get()\n"
        "storage = instance.event_log_storage\n"
    )
    subprocess.run([sys.executable, "-c", script + body], check=True, timeout=120)


def test_events_kept_back_by_an_interrupted_dispose_are_written_at_the_exit(home: Path) -> None:
    """Ctrl-C while the instance is disposed, and the process exits at once: the events still
    kept back are written at its exit, not lost with a pending timer."""
    run_script(
        "for entry in dbt_node_events('run-c', 'orders', ['not_null']):\n"
        "    storage.store_event(entry)\n"
        "real = storage.index_transaction\n"
        "def interrupted():\n"
        "    storage.index_transaction = real\n"
        "    raise KeyboardInterrupt\n"
        "storage.index_transaction = interrupted\n"
        "try:\n"
        "    instance.dispose()\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n"
    )
    assert_a_scripts_events_written_once(home, "run-c")


def test_at_the_exit_a_storage_that_cannot_write_stops_no_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """At the process's exit, each storage's events kept back are written in its own right:
    one interrupted (or failing) does not leave another's unwritten; its own are logged."""
    monkeypatch.setattr(event_log, "PENDING_SECONDS", 600)
    first = ConcordSqliteEventLogStorage(base_dir=str(tmp_path / "first"))
    second = ConcordSqliteEventLogStorage(base_dir=str(tmp_path / "second"))
    for storage, run_id in ((first, "run-1"), (second, "run-2")):
        for entry in dbt_node_events(run_id, "orders", ["not_null"]):
            storage.store_event(entry)

    def interrupted() -> Iterator:
        raise KeyboardInterrupt

    monkeypatch.setattr(first, "index_transaction", interrupted)
    monkeypatch.setattr(event_log, "STORAGES", [first, second])  # in this order
    event_log.write_pending_at_exit()
    with sqlite3.connect(tmp_path / "second" / "index.db") as index:
        assert index.execute("select count(*) from event_logs").fetchone() == (3,)
    messages = [r.getMessage() for r in caplog.records if r.name == "orchestration.event_log"]
    assert any("event of run run-1" in m for m in messages), messages
    monkeypatch.undo()
    first.dispose()
    second.dispose()


def test_a_forked_child_does_not_write_the_events_its_parent_kept_back(home: Path) -> None:
    """A forked child (a multiprocessing worker) exits, or logs, while its parent keeps events
    back: the parent writes them, once; the child writes only its own."""
    run_script(
        "for entry in dbt_node_events('run-f', 'orders', ['not_null']):\n"
        "    storage.store_event(entry)\n"
        "child = os.fork()\n"
        "if child == 0:\n"
        "    sys.exit(0)\n"
        "os.waitpid(child, 0)\n"
    )
    assert_a_scripts_events_written_once(home, "run-f")


def test_a_child_forked_while_the_parent_writes_can_use_its_storage(home: Path) -> None:
    """A child forked while its parent's timer holds Dagster's database lock (writing a burst)
    reads and writes its storage: the lock, held by a thread the child does not have, and the
    parent's connections are not the child's."""
    run_script(
        "import signal, threading\n"
        "for entry in dbt_node_events('run-k', 'orders', ['not_null']):\n"
        "    storage.store_event(entry)\n"
        "held, release = threading.Event(), threading.Event()\n"
        "def timer_writing():\n"
        "    with storage._db_lock:\n"
        "        held.set()\n"
        "        release.wait()\n"
        "writer = threading.Thread(target=timer_writing)\n"
        "writer.start()\n"
        "held.wait()\n"
        "child = os.fork()\n"
        "if child == 0:\n"
        "    signal.alarm(20)\n"
        "    storage.get_records_for_run('run-k')\n"
        "    storage.store_event(log_entry('run-k', 'the child'))\n"
        "    os._exit(0)\n"
        "release.set()\n"
        "writer.join()\n"
        "_, status = os.waitpid(child, 0)\n"
        "assert status == 0, f'the child ended with status {status}'\n"
    )
    reader = instance_at(home)
    assert [e.user_message for e in reader.all_logs("run-k") if not e.is_dagster_event] == [
        "the child"
    ]
    reader.dispose()
