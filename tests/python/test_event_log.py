"""Concord's Dagster event log (orchestration/event_log.py): the instance configured by
orchestration/dagster.yaml uses it, a run's events are stored and read back, by it and by
Dagster's default storage on the same DAGSTER_HOME, and commits do not fsync."""

import shutil
import sqlite3
from pathlib import Path

import dagster as dg
import pytest

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


def test_commits_do_not_fsync_and_connections_are_kept(home: Path) -> None:
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
    # a closed storage left its databases whole
    assert sqlite3.connect(home / "history" / "runs" / "index.db").execute(
        "pragma integrity_check"
    ).fetchone() == ("ok",)
