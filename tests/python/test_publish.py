"""Write-audit-publish on a small build warehouse: the gate, versions, retention, rollback, the
publication record, and kill -9 during publishing (the publisher as a separate process).

The whole pipeline under readers and kill -9 is in test_publish_pipeline.py."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from publishing import core, served

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def results(*entries: tuple[str, str], which: str = "build") -> dict:
    return {
        "args": {"which": which},
        "metadata": {"generated_at": "2026-02-01T06:00:00.000000Z", "invocation_id": "abc"},
        "results": [{"unique_id": uid, "status": status} for uid, status in entries],
    }


PASSING = results(
    ("model.concord.mart_net_sales", "success"),
    ("model.concord.mart_exceptions", "success"),
    ("test.concord.not_null_mart_net_sales_sku.1a2b", "pass"),
    ("unit_test.concord.mart_net_sales.netting", "pass"),
)

MANIFEST = {
    "nodes": {
        "model.concord.mart_net_sales": {
            "resource_type": "model",
            "schema": "marts",
            "name": "mart_net_sales",
            "group": "finance",
            "access": "public",
            "config": {"materialized": "table", "enabled": True},
        },
        "model.concord.mart_exceptions": {
            "resource_type": "model",
            "schema": "marts",
            "name": "mart_exceptions",
            "group": "finance",
            "access": "public",
            "config": {"materialized": "view", "enabled": True},
        },
        "model.concord.stg_pos__sales_lines": {
            "resource_type": "model",
            "schema": "staging",
            "name": "stg_pos__sales_lines",
            "access": "protected",
            "config": {"materialized": "table"},
        },
        "seed.concord.posting_rules": {
            "resource_type": "seed",
            "schema": "seeds",
            "name": "posting_rules",
            "config": {},
        },
    }
}


def make_build(path: Path, net_sales: float) -> Path:
    """A build warehouse in the real layout, small: raw.load_log, a staging table that must not
    be published, a KPI mart, the exception queue (a view, as dbt builds it)."""
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw; create schema staging; create schema marts")
        con.execute(
            "create table raw.load_log as select * from (values "
            "(1, 'loaded', date '2026-01-01', 10, 0), (2, 'loaded', date '2026-01-02', 8, 1), "
            "(3, 'failed', date '2026-01-02', 0, 0)) "
            "t(load_id, status, business_date, rows_loaded, rows_quarantined)"
        )
        con.execute("create table staging.stg_pos__sales_lines as select 'secret' as email")
        con.execute(
            "create table marts.mart_net_sales as select * from (values "
            f"(date '2026-01-01', 'SKU1', {net_sales}::decimal(18,2)), "
            "(date '2026-01-02', 'SKU2', 1.00::decimal(18,2))) t(business_date, sku, net_sales)"
        )
        con.execute(
            "create view marts.mart_exceptions as select * from (values "
            "('high', 'open'), ('high', 'acknowledged'), ('low', 'open'), ('low', 'resolved')) "
            "t(severity, status)"
        )
    return path


@pytest.fixture
def place(tmp_path: Path) -> dict:
    return {
        "build": make_build(tmp_path / "warehouse.duckdb", 100.0),
        "served": tmp_path / "served" / "served.duckdb",
    }


def publish(place: dict, run_results: dict = PASSING, keep: int = 5) -> served.PublishResult:
    return served.publish(
        build=place["build"],
        run_results=run_results,
        manifest=MANIFEST,
        served=place["served"],
        keep=keep,
    )


def served_sum(path: Path) -> tuple[int, float]:
    with served.connect(path) as con:
        version = served.current_publication(con)["version"]
        total = con.execute("select sum(net_sales) from marts.mart_net_sales").fetchone()[0]
    return version, float(total)


# ---- the pure core -----------------------------------------------------------------------------


def test_gate_blocks_on_errors_and_missing_results_and_passes_warnings() -> None:
    ok = core.gate(PASSING)
    assert not ok.blocked and ok.passed == ("not_null_mart_net_sales_sku",) and ok.warned == ()
    warned = core.gate(results(("test.concord.assert_x.1", "warn"), ("model.concord.m", "success")))
    assert not warned.blocked and warned.warned == ("assert_x",)
    failed = core.gate(results(("test.concord.unique_x.1", "fail"), ("model.concord.m", "success")))
    assert failed.blocked and failed.failed == ("unique_x (fail)",)
    assert core.gate(results(("model.concord.m", "error"))).blocked
    assert core.gate(results(("model.concord.m", "skipped"))).blocked
    assert core.gate(results(("test.concord.t.1", "error"))).blocked
    assert core.gate(None).blocked
    assert core.gate(results(("test.concord.t.1", "pass"), which="test")).blocked
    assert core.gate(results()).blocked


def test_retention_keeps_the_newest_and_always_the_served_version() -> None:
    assert core.to_delete([1, 2, 3, 4, 5, 6], keep=3, current=6) == [1, 2, 3]
    assert core.to_delete([1, 2, 3, 4, 5, 6], keep=3, current=2) == [1, 3, 4]
    assert core.to_delete([1, 2], keep=5, current=2) == []
    assert core.next_version([3, 7, 5]) == 8 and core.next_version([]) == 1
    assert core.parse_version("v000012.duckdb") == 12 and core.parse_version("x.duckdb") is None
    assert core.version_name(12) == "v000012"


def test_only_marts_are_published_and_grants_follow_group_and_access() -> None:
    relations = core.publishable_relations(MANIFEST)
    assert [r.qualified for r in relations] == ["marts.mart_exceptions", "marts.mart_net_sales"]
    assert core.roles_for(relations[0]) == core.ROLES
    private = core.Relation("marts", "m", "supply_chain", "protected")
    assert core.roles_for(private) == ("supply_chain",)
    assert core.roles_for(core.Relation("marts", "m", None, "protected")) == ()
    assert core.personal_columns(["sku", "Email", "customer_hash"]) == ["Email"]


def test_every_mart_of_the_project_is_published_and_nothing_else() -> None:
    manifest = json.loads((PROJECT_ROOT / "target" / "manifest.json").read_text())
    names = {r.name for r in core.publishable_relations(manifest)}
    assert {"mart_net_sales", "mart_cogs", "mart_available_inventory", "mart_exceptions"} <= names
    assert all(not n.startswith(("stg_", "int_")) for n in names)
    assert "posting_rules" not in names


# ---- publishing, retention, rollback -----------------------------------------------------------


def test_publish_writes_a_version_that_describes_itself(place: dict) -> None:
    result = publish(place)
    assert result.version == 1 and result.relations == {
        "marts.mart_exceptions": 4,
        "marts.mart_net_sales": 2,
    }
    assert place["served"].is_symlink() and result.bytes_written > 0
    with served.connect(place["served"]) as con:
        tables = {
            f"{s}.{t}"
            for s, t in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        row = served.current_publication(con)
    assert tables == {"main.publication", "marts.mart_exceptions", "marts.mart_net_sales"}
    assert row["version_name"] == "v000001" and row["load_ids"] == [1, 2]
    assert [str(d) for d in row["business_dates"]] == ["2026-01-01", "2026-01-02"]
    assert row["checks_passed"] == ["not_null_mart_net_sales_sku"] and row["checks_failed"] == []
    assert json.loads(row["open_exceptions_by_severity"]) == {"high": 2, "low": 1}
    assert row["open_exceptions"] == 3 and row["incomplete_dates"] == []
    assert json.loads(row["files_by_status"]) == {"failed": 1, "loaded": 2}
    assert str(row["built_at"]) == "2026-02-01 06:00:00" and row["published_at"] is not None


def test_incomplete_dates_come_from_the_completeness_mart_when_it_exists(place: dict) -> None:
    with duckdb.connect(str(place["build"])) as con:
        con.execute(
            "create table marts.mart_completeness as select * from (values "
            "(date '2026-01-01', 'pos', 'pos_sales', true), "
            "(date '2026-01-02', 'pos', 'pos_sales', false), "
            "(date '2026-01-02', 'wms', 'wms_moves', false)) "
            "t(business_date, source_system, extract_name, is_complete)"
        )
    publish(place)
    with served.connect(place["served"]) as con:
        dates = served.current_publication(con)["incomplete_dates"]
    assert [str(d) for d in dates] == ["2026-01-02"]


def test_a_failed_check_at_error_publishes_nothing(place: dict) -> None:
    publish(place)
    before = sha256(place["served"])
    make_build(place["build"], 999.0)
    failing = results(("model.concord.mart_net_sales", "success"), ("test.concord.u.1", "fail"))
    with pytest.raises(served.PublishBlocked, match="u \\(fail\\)"):
        publish(place, failing)
    assert sha256(place["served"]) == before
    assert served_sum(place["served"]) == (1, 101.0)
    assert sorted(served.version_files(place["served"].parent / "served.versions")) == [1]


def test_warnings_publish_and_are_recorded(place: dict) -> None:
    warning = results(("model.concord.mart_net_sales", "success"), ("test.concord.w.1", "warn"))
    publish(place, warning)
    with served.connect(place["served"]) as con:
        row = served.current_publication(con)
    assert row["checks_warned"] == ["w"] and row["checks_warned_count"] == 1


def test_publication_keeps_one_row_per_publication(place: dict) -> None:
    for _ in range(3):
        publish(place)
    with served.connect(place["served"]) as con:
        rows = con.execute("select version from publication order by 1").fetchall()
    versions = [r[0] for r in rows]
    assert versions == [1, 2, 3]


def test_retention_keeps_exactly_n_and_rollback_restores_the_previous(place: dict) -> None:
    for i in range(6):
        make_build(place["build"], 100.0 + i)
        publish(place, keep=3)
    versions = place["served"].parent / "served.versions"
    assert sorted(served.version_files(versions)) == [4, 5, 6]
    assert served_sum(place["served"]) == (6, 106.0)
    served.rollback(5, served=place["served"])
    assert served_sum(place["served"]) == (5, 105.0)
    assert [v.number for v in served.list_versions(place["served"]) if v.current] == [5]
    # The next publish numbers on from the newest kept version, and retention keeps the served.
    make_build(place["build"], 200.0)
    assert publish(place, keep=3).version == 7
    assert sorted(served.version_files(versions)) == [5, 6, 7]
    with pytest.raises(FileNotFoundError, match="v000001"):
        served.rollback(1, served=place["served"])


def test_command_line_publish_versions_rollback(place: dict, tmp_path: Path) -> None:
    (tmp_path / "run_results.json").write_text(json.dumps(PASSING))
    (tmp_path / "manifest.json").write_text(json.dumps(MANIFEST))
    env = os.environ | {
        "PYTHONPATH": str(PROJECT_ROOT),
        "CONCORD_SERVED_WAREHOUSE": str(place["served"]),
        "CONCORD_SERVED_KEEP": "2",
    }
    publish_cmd = [
        sys.executable,
        "-m",
        "publishing",
        "publish",
        "--warehouse",
        str(place["build"]),
        "--run-results",
        str(tmp_path / "run_results.json"),
        "--manifest",
        str(tmp_path / "manifest.json"),
    ]

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(args, env=env, capture_output=True, text=True, cwd=PROJECT_ROOT)

    assert "published v000001" in cli(*publish_cmd).stdout
    assert "published v000002" in cli(*publish_cmd).stdout
    listing = cli(sys.executable, "-m", "publishing", "versions").stdout
    assert "* v000002" in listing and "  v000001" in listing
    assert "serving v000001" in cli(sys.executable, "-m", "publishing", "rollback", "1").stdout
    assert served_sum(place["served"])[0] == 1
    (tmp_path / "run_results.json").write_text(
        json.dumps(results(("test.concord.unique_x.1", "fail")))
    )
    blocked = cli(*publish_cmd)
    assert blocked.returncode == 2 and "unique_x (fail)" in blocked.stderr
    assert served_sum(place["served"])[0] == 1


# ---- kill -9 while publishing ------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["copy", "swap"])
def test_kill_during_publishing_leaves_the_previous_version(
    place: dict, tmp_path: Path, stage: str
) -> None:
    publish(place)
    before = sha256(place["served"])
    make_build(place["build"], 555.0)
    (tmp_path / "run_results.json").write_text(json.dumps(PASSING))
    (tmp_path / "manifest.json").write_text(json.dumps(MANIFEST))
    env = os.environ | {
        "PYTHONPATH": str(PROJECT_ROOT),
        "CONCORD_SERVED_WAREHOUSE": str(place["served"]),
        served.PAUSE_ENV: stage,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "publishing",
            "publish",
            "--warehouse",
            str(place["build"]),
            "--run-results",
            str(tmp_path / "run_results.json"),
            "--manifest",
            str(tmp_path / "manifest.json"),
        ],
        env=env,
        cwd=PROJECT_ROOT,
        start_new_session=True,
    )
    versions = place["served"].parent / "served.versions"
    marker = versions / f".paused-{stage}"
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert process.poll() is None, "the publisher ended before reaching the stage"
        assert time.monotonic() < deadline, f"the publisher never reached {stage}"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert list(versions.glob("*.partial")), "the kill left no partial version"
    assert sha256(place["served"]) == before
    assert served_sum(place["served"]) == (1, 101.0)
    # The next publish recovers without manual steps: it removes the leftovers and publishes.
    result = publish(place)
    assert result.version == 2 and served_sum(place["served"]) == (2, 556.0)
    assert not list(versions.glob("*.partial")) and not marker.exists()


# ---- recovery of a killed in-process run ---------------------------------------------------------


def test_a_killed_runs_pool_slot_is_freed_and_a_live_runs_kept(tmp_path: Path) -> None:
    import dagster as dg
    from dagster._core.storage.dagster_run import DagsterRun

    from orchestration import recovery

    instance = dg.DagsterInstance.local_temp(str(tmp_path))
    storage = instance.event_log_storage
    storage.set_concurrency_slots("concord_warehouse", 1)
    dead_tags = recovery.launcher_tags() | {recovery.PROCESS_TAG: "999999999:1"}
    for run_id, tags in (("dead", dead_tags), ("alive", recovery.launcher_tags())):
        instance.add_run(
            DagsterRun(
                job_name="ingest_job", run_id=run_id, status=dg.DagsterRunStatus.STARTED, tags=tags
            )
        )
    storage.claim_concurrency_slot("concord_warehouse", "dead", "ingest_erp")
    assert storage.get_concurrency_info("concord_warehouse").active_slot_count == 1
    assert recovery.release_abandoned_runs(instance) == ["dead"]
    assert instance.get_run_by_id("dead").status == dg.DagsterRunStatus.FAILURE
    assert instance.get_run_by_id("alive").status == dg.DagsterRunStatus.STARTED
    assert storage.get_concurrency_info("concord_warehouse").active_slot_count == 0


def test_a_slot_still_held_by_a_finished_run_is_freed_and_a_running_ones_kept(
    tmp_path: Path,
) -> None:
    """A release lost after the run finished (orchestration/event_log.py) frees on next start."""
    import dagster as dg
    from dagster._core.storage.dagster_run import DagsterRun

    from orchestration import recovery

    instance = dg.DagsterInstance.local_temp(str(tmp_path))
    storage = instance.event_log_storage
    storage.set_concurrency_slots("concord_warehouse", 2)
    for run_id, status in (
        ("finished", dg.DagsterRunStatus.SUCCESS),
        ("running", dg.DagsterRunStatus.STARTED),
    ):
        instance.add_run(DagsterRun(job_name="transform_job", run_id=run_id, status=status))
        storage.claim_concurrency_slot("concord_warehouse", run_id, "concord_dbt_assets")
    assert storage.get_concurrency_info("concord_warehouse").active_run_ids == {
        "finished",
        "running",
    }
    assert recovery.release_slots_of_finished_runs(instance) == ["finished"]
    assert storage.get_concurrency_info("concord_warehouse").active_run_ids == {"running"}


def test_a_full_disk_while_publishing_leaves_the_previous_version(
    place: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    publish(place)
    before = sha256(place["served"])

    def disk_full(name: str, versions: Path) -> None:
        if name == "copy":
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(served, "_stage", disk_full)
    make_build(place["build"], 777.0)
    with pytest.raises(OSError, match="No space left"):
        publish(place)
    versions = place["served"].parent / "served.versions"
    assert sha256(place["served"]) == before and served_sum(place["served"]) == (1, 101.0)
    assert not list(versions.glob("*.partial*")), "the failed version was not removed"
    monkeypatch.undo()
    assert publish(place).version == 2 and served_sum(place["served"]) == (2, 778.0)


# ---- publishing by difference ------------------------------------------------------------------


def changes(result: served.PublishResult) -> dict[str, str]:
    return {name: change.action for name, change in result.changes.items()}


def test_a_changed_value_of_one_mart_is_published_and_the_rest_kept(place: dict) -> None:
    with duckdb.connect(str(place["build"])) as con:  # rows enough that one change is patched
        con.execute(
            "insert into marts.mart_net_sales select date '2026-01-03', 'SKU' || i, 0 "
            "from range(3, 11) r(i)"
        )
    first = publish(place)
    assert first.written_as == "full" and set(changes(first).values()) == {"written"}
    with duckdb.connect(str(place["build"])) as con:
        con.execute("update marts.mart_net_sales set net_sales = 100.01 where sku = 'SKU1'")
    second = publish(place)
    assert second.written_as == "by difference from v000001"
    assert changes(second) == {"marts.mart_exceptions": "kept", "marts.mart_net_sales": "patched"}
    patched = second.changes["marts.mart_net_sales"]
    assert (patched.deleted, patched.inserted) == (1, 1)
    with duckdb.connect(str(place["build"]), read_only=True) as build:
        expected = sorted(build.execute("select * from marts.mart_net_sales").fetchall())
    with served.connect(place["served"]) as con:
        assert sorted(con.execute("select * from marts.mart_net_sales").fetchall()) == expected
        row = served.current_publication(con)
        recorded = json.loads(row["relation_changes"])
        history = con.execute("select version, written_as from publication order by 1").fetchall()
    assert served_sum(place["served"]) == (2, 101.01)
    assert recorded["marts.mart_net_sales"] == {"action": "patched", "deleted": 1, "inserted": 1}
    assert history == [(1, "full"), (2, "by difference from v000001")]
    # A view of the build (the exception queue) is patched from one evaluation of it.
    with duckdb.connect(str(place["build"])) as con:
        con.execute(
            "create or replace view marts.mart_exceptions as select * from (values "
            "('high', 'open'), ('high', 'acknowledged'), ('low', 'open'), ('low', 'resolved'), "
            "('medium', 'open')) t(severity, status)"
        )
    third = publish(place)
    assert changes(third) == {"marts.mart_exceptions": "patched", "marts.mart_net_sales": "kept"}
    assert (third.changes["marts.mart_exceptions"].inserted, third.relations) == (
        1,
        {"marts.mart_exceptions": 5, "marts.mart_net_sales": 10},
    )
    with served.connect(place["served"]) as con:
        severities = con.execute("select severity from marts.mart_exceptions").fetchall()
        assert sorted(r[0] for r in severities) == ["high", "high", "low", "low", "medium"]
    # The previous versions are untouched (immutable): rollback shows the value v000001 served.
    served.rollback(1, served=place["served"])
    assert served_sum(place["served"]) == (1, 101.0)


def test_nothing_changed_keeps_every_relation_and_the_content(place: dict) -> None:
    publish(place)
    again = publish(place)
    assert set(changes(again).values()) == {"kept"} and again.relations == {
        "marts.mart_exceptions": 4,
        "marts.mart_net_sales": 2,
    }
    with served.connect(place["served"]) as con:
        assert con.execute("select count(*) from publication").fetchone()[0] == 2
        fingerprints = json.loads(served.current_publication(con)["relation_fingerprints"])
    assert fingerprints["marts.mart_net_sales"]["rows"] == 2


def test_new_dropped_and_reshaped_relations_and_duplicates_are_written_whole(
    place: dict,
) -> None:
    publish(place)
    with duckdb.connect(str(place["build"])) as con:
        con.execute("alter table marts.mart_net_sales add column units integer default 3")
        con.execute(
            "create table marts.mart_cogs as select * from (values ('SKU1', 2.5), ('SKU1', 2.5)) "
            "t(sku, cogs)"
        )
    manifest = json.loads(json.dumps(MANIFEST))
    cogs = manifest["nodes"]["model.concord.mart_net_sales"] | {"name": "mart_cogs"}
    manifest["nodes"]["model.concord.mart_cogs"] = cogs
    del manifest["nodes"]["model.concord.mart_exceptions"]
    result = served.publish(place["build"], PASSING, manifest, place["served"], keep=5)
    assert {name: (c.action, c.reason) for name, c in result.changes.items()} == {
        "marts.mart_cogs": ("written", "new relation"),
        "marts.mart_net_sales": ("written", "columns changed"),
    }
    with served.connect(place["served"]) as con:
        listed = con.execute("select table_name from information_schema.tables").fetchall()
        tables = {r[0] for r in listed}
        assert con.execute("select sum(units) from marts.mart_net_sales").fetchone()[0] == 6
    assert tables == {"publication", "mart_net_sales", "mart_cogs"}
    # Two equal rows share a row hash: a change there is written whole, never patched.
    with duckdb.connect(str(place["build"])) as con:
        con.execute("insert into marts.mart_cogs values ('SKU2', 1.0)")
    result = served.publish(place["build"], PASSING, manifest, place["served"], keep=5)
    assert (result.changes["marts.mart_cogs"].action, result.changes["marts.mart_cogs"].reason) == (
        "written",
        "rows share a row hash",
    )
    with served.connect(place["served"]) as con:
        rows = con.execute("select sku, cogs from marts.mart_cogs order by all").fetchall()
    assert [(s, float(c)) for s, c in rows] == [("SKU1", 2.5), ("SKU1", 2.5), ("SKU2", 1.0)]


def test_full_publication_on_request_and_from_a_version_without_fingerprints(
    place: dict,
) -> None:
    publish(place)
    assert (
        served.publish(
            place["build"], PASSING, MANIFEST, place["served"], keep=5, full=True
        ).written_as
        == "full"
    )
    # A version of the layout before fingerprints: the next one is written whole.
    rewrite_served_version(place, "update publication set relation_fingerprints = null")
    result = publish(place)
    assert result.written_as == "full" and served_sum(place["served"]) == (3, 101.0)
    # A version of the layout before these columns: the next one is written whole too.
    rewrite_served_version(place, "alter table publication drop column written_from")
    result = publish(place)
    assert result.written_as == "full" and served_sum(place["served"]) == (4, 101.0)
    with served.connect(place["served"]) as con:
        assert con.execute("select count(*) from publication").fetchone()[0] == 4
    assert publish(place).written_as == "by difference from v000004"


def test_values_swapped_between_rows_and_float_columns_are_never_kept(place: dict) -> None:
    # DuckDB's hash of a row folds in its last column by XOR: with a plain sum of row hashes,
    # these two rows swapping their last values kept the fingerprint (found in review).
    manifest = json.loads(json.dumps(MANIFEST))
    for name in ("mart_swapped", "mart_ratios"):
        node = manifest["nodes"]["model.concord.mart_net_sales"] | {"name": name}
        manifest["nodes"][f"model.concord.{name}"] = node
    with duckdb.connect(str(place["build"])) as con:
        con.execute(
            "create table marts.mart_swapped as select * from (values "
            "(1, 409021::bigint), (2, 501526::bigint)) t(x, y)"
        )
        con.execute("create table marts.mart_ratios as select 0.5::double as ratio")
    served.publish(place["build"], PASSING, manifest, place["served"], keep=5)
    with duckdb.connect(str(place["build"])) as con:
        con.execute("update marts.mart_swapped set y = 910547 - y")
    result = served.publish(place["build"], PASSING, manifest, place["served"], keep=5)
    assert result.changes["marts.mart_swapped"].action != "kept"
    assert (
        result.changes["marts.mart_ratios"].action,
        result.changes["marts.mart_ratios"].reason,
    ) == (
        "written",
        "a column type the row hash cannot compare",
    )
    with served.connect(place["served"]) as con:
        rows = con.execute("select x, y from marts.mart_swapped order by x").fetchall()
    assert rows == [(1, 501526), (2, 409021)]


def rewrite_served_version(place: dict, statement: str) -> None:
    """Change the served (read-only) version file in place, as an older release left it."""
    path = place["served"].resolve()
    path.chmod(0o644)
    with duckdb.connect(str(path)) as con:
        con.execute(statement)
    path.chmod(0o444)
