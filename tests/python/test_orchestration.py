"""The Dagster code location: it loads, its graph reads landing -> raw -> staging, and the glue
functions behave."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import duckdb
import pytest
from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from ingestion.contract import load_contract, max_days_after_delivery
from ingestion.warehouse import ensure_raw_schema
from orchestration import (
    automation,
    check_descriptions,
    graph_snapshot,
    groups,
    ingest,
    settings,
)
from orchestration.dbt import (
    DBT_PROJECT,
    DbtBuildConfig,
    concord_dbt_assets,
    dbt_build_args,
    raise_if_project_changed,
    stop,
)
from orchestration.definitions import defs
from orchestration.resources import LandingZone, Warehouse


def test_definitions_load_with_every_extract_as_landing_and_raw_asset() -> None:
    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    for extract in load_contract().values():
        assert f"landing/{extract.system}/{extract.name}" in keys
        assert f"raw/{extract.name}" in keys
    assert "raw/load_log" in keys
    assert {"ingest_job", "transform_job"} <= {j.name for j in defs.resolve_all_job_defs()}


def test_every_staging_model_reads_its_raw_ingest_asset() -> None:
    graph = defs.resolve_asset_graph()
    staged = [k for k in graph.get_all_asset_keys() if k.path[-1].startswith("stg_")]
    assert staged, "no staging model in the graph"
    for key in staged:
        parents = {p.to_user_string() for p in graph.get(key).parent_keys}
        upstream = parents | {
            g.to_user_string() for p in graph.get(key).parent_keys for g in graph.get(p).parent_keys
        }
        assert any(p.startswith("raw/") for p in upstream), f"{key} has no raw ancestor"


def test_raw_assets_are_partitioned_daily_and_share_the_writer_pool() -> None:
    for assets_def in ingest.INGEST_ASSETS:
        assert assets_def.partitions_def == ingest.DAILY
        assert assets_def.op.pool == "concord_warehouse"


def test_dates_in_covers_the_range_inclusively() -> None:
    assert ingest.dates_in("2026-01-30", "2026-02-02") == {
        date(2026, 1, 30),
        date(2026, 1, 31),
        date(2026, 2, 1),
        date(2026, 2, 2),
    }


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_landing_sensor_requests_the_dates_of_new_or_changed_files(tmp_path: Path) -> None:
    write(tmp_path / "pos/2026-01-05/pos_sales_20260105.csv", "a\n")
    write(tmp_path / "erp/2026-01-06/erp_transfers_20260106.csv", "a\n")
    write(tmp_path / "pos/2026-01-06/notes.txt", "stray\n")
    by_date, cursor = automation.pending_dates(tmp_path, {})
    assert sorted(by_date) == ["2026-01-05", "2026-01-06"]
    assert automation.pending_dates(tmp_path, cursor)[0] == {}
    changed = tmp_path / "pos/2026-01-05/pos_sales_20260105.csv"
    changed.write_text("a\nb\n")
    os.utime(changed, ns=(1, 1))
    assert list(automation.pending_dates(tmp_path, cursor)[0]) == ["2026-01-05"]
    by_date, cursor = automation.pending_dates(tmp_path, cursor)
    # new content copied in with the same size and the old mtime (cp -p): its ctime moved
    incoming = tmp_path / "incoming"
    incoming.write_text("c\nd\n")
    os.utime(incoming, ns=(1, 1))
    time.sleep(0.01)  # the ctime's clock is coarse
    shutil.copy2(incoming, changed)
    assert list(automation.pending_dates(tmp_path, cursor)[0]) == ["2026-01-05"]
    # a cursor of the previous version (mtime and size) asks for nothing that did not change
    _, cursor = automation.pending_dates(tmp_path, {})
    older = {f: ":".join(stamp.split(":")[:2]) for f, stamp in cursor.items()}
    assert automation.pending_dates(tmp_path, older)[0] == {}


def test_landing_sensor_builds_one_run_request_per_date(tmp_path: Path) -> None:
    write(tmp_path / "pos/2026-01-05/pos_sales_20260105.csv", "a\n")
    write(tmp_path / "pos/2026-01-07/pos_sales_20260105_2.csv", "a\nb\n")
    write(tmp_path / "wms/2026-01-07/wms_on_hand_20260107.csv", "a\n")
    landing = {
        "landing": LandingZone(path=str(tmp_path)),
        "warehouse": Warehouse(path=str(tmp_path / "none.duckdb")),
    }
    context = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), resources=landing)
    result = automation.landing_sensor(context)
    assert sorted(r.partition_key for r in result.run_requests) == ["2026-01-05", "2026-01-07"]
    again = automation.landing_sensor(
        dg.build_sensor_context(cursor=result.cursor, resources=landing)
    )
    assert again.run_requests == []


def test_a_file_changed_again_in_place_asks_for_a_new_run(tmp_path: Path) -> None:
    """Dagster skips a run request whose key it has seen: a re-delivery under the same name must
    not repeat the key of the run that loaded the first version."""
    path = tmp_path / "pos/2026-01-05/pos_sales_20260105.csv"
    write(path, "a\n")
    resources = {
        "landing": LandingZone(path=str(tmp_path)),
        "warehouse": Warehouse(path=str(tmp_path / "none.duckdb")),
    }
    first = automation.landing_sensor(dg.build_sensor_context(resources=resources))
    path.write_text("a\nb\n")
    second = automation.landing_sensor(
        dg.build_sensor_context(cursor=first.cursor, resources=resources)
    )
    (run_1,), (run_2,) = first.run_requests, second.run_requests
    assert run_1.partition_key == run_2.partition_key == "2026-01-05"
    assert run_1.run_key != run_2.run_key


def test_the_landing_sensor_says_a_bad_verify_setting_instead_of_crashing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "pos/2026-01-05/pos_sales_20260105.csv", "a\n")
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        ensure_raw_schema(con, load_contract())
    resources = {
        "landing": LandingZone(path=str(tmp_path)),
        "warehouse": Warehouse(path=str(warehouse)),
    }
    monkeypatch.setenv("CONCORD_VERIFY_HASHES", "yes")
    context = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), resources=resources)
    result = automation.landing_sensor(context)
    assert isinstance(result, dg.SkipReason)
    assert result.skip_message.startswith("CONCORD_VERIFY_HASHES='yes': set it to 1")
    monkeypatch.delenv("CONCORD_VERIFY_HASHES")
    result = automation.landing_sensor(
        dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), resources=resources)
    )
    assert [r.partition_key for r in result.run_requests] == ["2026-01-05"]


def test_the_graph_reads_from_landing_files_to_each_kpi_mart_with_owners() -> None:
    graph = defs.resolve_asset_graph()
    for mart, landing in (
        ("mart_net_sales", "landing/pos/pos_sales"),
        ("mart_cogs", "landing/erp/erp_goods_receipts"),
        ("mart_available_inventory", "landing/wms/wms_movements"),
    ):
        key = dg.AssetKey(["marts", mart])
        ancestors, stack = set(), [key]
        while stack:
            for parent in graph.get(stack.pop()).parent_keys:
                if parent not in ancestors:
                    ancestors.add(parent)
                    stack.append(parent)
        names = {a.to_user_string() for a in ancestors}
        assert landing in names and f"raw/{landing.split('/')[-1]}" in names, mart
        assert graph.get(key).owners, f"{mart} has no owner"


def test_reconciliation_tolerances_and_journal_balance_show_as_asset_checks() -> None:
    """Every reconciliation model carries its tolerance test at both severities, and the
    journal balance test sits on the ledger, as Dagster asset checks."""
    checks = {
        (key.asset_key.to_user_string(), key.name)
        for key in defs.resolve_asset_graph().asset_check_keys
    }
    reconciliations = [
        "sales_gl",
        "inventory_gl",
        "on_hand_wms",
        "channel_orders",
        "three_way_match",
        "books",
    ]
    for name in reconciliations:
        model = f"mart_reconciliation_{name}"
        for severity in ("error", "warn"):
            assert (
                f"marts/{model}",
                f"reconciliation_within_tolerance_{model}_{severity}",
            ) in checks
    assert ("marts/fct_gl_postings", "assert_gl_journals_balance") in checks


def test_a_dbt_build_is_incremental_unless_the_run_asks_for_a_full_refresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DBT_LOG_LEVEL_FILE", raising=False)
    production = ["build", "--exclude-resource-type", "unit_test"]
    file_log = ["--log-level-file", "none"]
    assert dbt_build_args(DbtBuildConfig()) == [*production, *file_log]
    assert dbt_build_args(DbtBuildConfig(full_refresh=True)) == [
        *production,
        "--full-refresh",
        *file_log,
    ]
    # every row tested: through the environment (dbt's --vars would re-parse the project)
    assert dbt_build_args(DbtBuildConfig(test_whole_history=True)) == [*production, *file_log]
    # dbt's own variable decides the file log's level when it is set
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")
    assert dbt_build_args(DbtBuildConfig()) == production


def test_expected_conditions_stop_the_run_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No landing dir, no salt outside the default world, a warehouse another process holds:
    exit 2 and one line on stderr, before any job starts."""
    from orchestration import run

    landing = tmp_path / "landing"
    monkeypatch.setenv("CONCORD_LANDING_DIR", str(tmp_path / "missing"))
    monkeypatch.setenv("CONCORD_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    assert run.main() == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"concord: the landing dir {tmp_path / 'missing'} does not exist (CONCORD_LANDING_DIR)"
    ]

    write(landing / "pos" / "2026-01-06" / "pos_sales_20260105.csv", "x\n")
    monkeypatch.setenv("CONCORD_LANDING_DIR", str(landing))
    monkeypatch.setenv("CONCORD_VERIFY_HASHES", "yes")
    assert run.main() == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("concord: CONCORD_VERIFY_HASHES='yes': set it to 1")
    monkeypatch.delenv("CONCORD_VERIFY_HASHES")
    monkeypatch.delenv("CONCORD_PII_SALT")
    assert run.main() == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("concord: CONCORD_PII_SALT is not set")

    monkeypatch.setenv("CONCORD_PII_SALT", "a-test-salt")
    duckdb.connect(str(tmp_path / "warehouse.duckdb")).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; "
            f"c = duckdb.connect({str(tmp_path / 'warehouse.duckdb')!r}); "
            "print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert run.main() == 2
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert line.startswith(f"concord: the warehouse {tmp_path / 'warehouse.duckdb'} is in use")
    finally:
        holder.kill()


def test_partitions_end_at_the_latest_plausible_business_date() -> None:
    """A file delivered today may carry a business date max_days_after_delivery() ahead; no
    partition lies beyond that, whatever file names the landing zone holds."""
    last = date.fromisoformat(ingest.DAILY.get_last_partition_key())
    today = datetime.now(UTC).date()
    assert last == today + timedelta(days=max_days_after_delivery())


def test_partitions_start_at_the_first_configured_date() -> None:
    """The first partition is the configured start (CONCORD_PARTITIONS_START, else the earliest
    loadable business date of the landing zone), so a backfill of all partitions covers every
    business date that can hold data and no empty years before it."""
    assert ingest.DAILY.get_first_partition_key() == settings.partitions_start()


def test_one_listing_of_the_landing_zone_serves_the_whole_invocation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside settings.listed_once (orchestration.run's invocation) the first partition and the
    date range answer from the one listing; outside, each lists the landing zone as it is."""
    import ingestion.discover
    from orchestration import run

    landing = tmp_path / "landing"
    write(landing / "pos/2026-01-06/pos_sales_20260105.csv", "a\n")
    write(landing / "pos/2026-01-08/pos_sales_20260107.csv", "a\n")
    monkeypatch.setenv("CONCORD_LANDING_DIR", str(landing))
    monkeypatch.delenv("CONCORD_PARTITIONS_START", raising=False)
    listings: list[Path] = []
    real_walk = ingestion.discover._walk
    monkeypatch.setattr(
        ingestion.discover, "_walk", lambda path: listings.append(path) or real_walk(path)
    )
    with settings.listed_once(landing) as files:
        write(landing / "pos/2026-01-04/pos_sales_20260103.csv", "a\n")  # after the listing
        assert settings.partitions_start() == "2026-01-05"
        assert run.business_date_range(landing) == ("2026-01-05", "2026-01-07")
        assert run.business_date_range(landing, files) == ("2026-01-05", "2026-01-07")
        assert len(listings) == 1
    assert settings.partitions_start() == "2026-01-03"
    assert run.business_date_range(landing) == ("2026-01-03", "2026-01-07")
    assert len(listings) == 3


def ingest_then_log_strays(
    landing: Path, resources: dict, start: date, end: date, after_listing: Callable[[], None]
) -> None:
    """The ingest job over the range, then the stray-file log, as orchestration.run runs them:
    in one process, inside its one listing (after_listing runs once the zone is listed)."""
    with settings.listed_once(landing):
        after_listing()
        for assets, tags in (
            (
                ingest.INGEST_ASSETS,
                {
                    ASSET_PARTITION_RANGE_START_TAG: start.isoformat(),
                    ASSET_PARTITION_RANGE_END_TAG: end.isoformat(),
                },
            ),
            ([ingest.load_log], {}),
        ):
            result = dg.materialize(
                assets, resources=resources, instance=dg.DagsterInstance.ephemeral(), tags=tags
            )
            assert result.success


def test_an_orchestrated_ingestion_reads_the_one_listing_of_its_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside orchestration.run's listing (settings.listed_once) the ingest steps and the
    stray-file log read that listing: one listing of the landing zone per run, not one per step.
    A file changed after the listing is judged as listed: a file read is logged and recorded
    with what was read; a logged file whose identity was recorded waits, like a file added after
    the listing, for the next run's listing, which finds it."""
    from test_ingestion import delimited, land, pos_sale

    import ingestion.discover
    from ingestion import load as load_module

    first = date.fromisoformat(ingest.DAILY.get_first_partition_key())
    day1, day2 = first, first + timedelta(days=1)
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    resources = {
        "landing": LandingZone(path=str(landing)),
        "warehouse": Warehouse(path=str(warehouse)),
    }
    # reads as if ten seconds from now: files the test just wrote keep their identity
    monkeypatch.setattr(load_module, "_clock_ns", lambda: time.time_ns() + 10 * 10**9)
    listings: list[Path] = []
    real_walk = ingestion.discover._walk
    monkeypatch.setattr(
        ingestion.discover, "_walk", lambda path: listings.append(path) or real_walk(path)
    )

    def orchestrated_run(start: date, end: date, after_listing=lambda: None) -> None:  # noqa: ANN001
        """The ingest job over the range, then the stray-file log, as orchestration.run runs
        them: in one process, inside its one listing."""
        listings.clear()
        ingest_then_log_strays(landing, resources, start, end, after_listing)
        assert listings == [landing]

    def logged() -> list[tuple]:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.execute(
                "select source_file, status, content_hash from raw.load_log order by load_id"
            ).fetchall()

    def sha(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    loaded = land(landing, "pos_sales", delimited("pos_sales", [pos_sale(1)]), day1)
    stray = landing / "pos" / loaded.parent.name / "notes.txt"
    write(stray, "stray\n")
    orchestrated_run(day1, day1)
    name = {p: p.relative_to(landing).as_posix() for p in (loaded, stray)}
    assert logged() == [
        (name[loaded], "loaded", sha(loaded)),
        (name[stray], "unknown", sha(stray)),
    ]

    new = land(landing, "pos_sales", delimited("pos_sales", [pos_sale(1)]), day2)
    added: list[Path] = []

    def change_after_the_listing() -> None:
        loaded.write_bytes(delimited("pos_sales", [pos_sale(1), pos_sale(2)]))  # a correction
        new.write_bytes(delimited("pos_sales", [pos_sale(1), pos_sale(3)]))  # not read yet
        redelivered = delimited("pos_sales", [pos_sale(4), pos_sale(5)])
        added.append(land(landing, "pos_sales", redelivered, day2, sequence=2))
        added.append(landing / "pos" / new.parent.name / "readme.txt")
        write(added[-1], "another stray\n")

    before = logged()
    orchestrated_run(day1, day2, change_after_the_listing)
    name |= {p: p.relative_to(landing).as_posix() for p in (new, *added)}
    # the new file as read (its content when read, not when listed); the corrected file and the
    # files added after the listing are not in this run's listing
    assert logged() == [*before, (name[new], "loaded", sha(new))]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        recorded = {
            row[0]: row[1:]
            for row in con.execute(
                "select source_file, content_hash, file_size_bytes, file_mtime_ns, "
                "file_ctime_ns, file_inode from raw.landing_file_identity"
            ).fetchall()
        }
    # recorded as read: the file's identity now (os.stat), not the listing's
    status = os.stat(new)
    assert recorded[name[new]] == (
        sha(new),
        status.st_size,
        status.st_mtime_ns,
        status.st_ctime_ns,
        status.st_ino,
    )

    before = logged()
    orchestrated_run(day1, day2)
    assert sorted(logged()[len(before) :]) == sorted(
        [
            (name[loaded], "replaced", sha(loaded)),
            (name[added[0]], "replaced", sha(added[0])),
            (name[added[1]], "unknown", sha(added[1])),
        ]
    )
    before = logged()
    orchestrated_run(day1, day2)
    assert logged() == before


def test_definitions_of_another_landing_zone_get_one_listing_of_it_for_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the definitions point at another landing zone than main listed, run_listed lists
    that zone once, and the run's steps (settings.landing_files) read that listing."""
    import ingestion.discover
    from orchestration import progress, run

    main_landing, other = tmp_path / "landing", tmp_path / "other"
    write(main_landing / "pos/2026-01-06/pos_sales_20260105.csv", "a\n")
    write(other / "pos/2026-01-08/pos_sales_20260107.csv", "a\n")
    monkeypatch.setenv("CONCORD_LANDING_DIR", str(main_landing))
    listings: list[Path] = []
    real_walk = ingestion.discover._walk
    monkeypatch.setattr(
        ingestion.discover, "_walk", lambda path: listings.append(path) or real_walk(path)
    )
    seen: list[tuple] = []

    def pipeline(defs, dagster_instance, *, full_refresh, files):  # noqa: ANN001, ANN202
        steps = [settings.landing_files(other) for _ in range(3)]  # ingest steps, stray log
        seen.append((files, steps))
        return []

    monkeypatch.setattr(run, "run_pipeline", pipeline)
    monkeypatch.setattr(run, "instance", lambda: None)
    monkeypatch.setattr(run, "report", lambda results, before, paths: ("", 0))
    monkeypatch.setattr(progress, "run_log_path", lambda log_dir: tmp_path / "run.log")
    paths = run.Paths(other, tmp_path / "w.duckdb", tmp_path / "served.duckdb")
    with settings.listed_once(main_landing) as files:
        listings.clear()
        assert run.run_listed(False, None, paths, 0, files, ("x", "y")) == 0
    ((passed, steps),) = seen
    assert [f.source_file for f in passed] == ["pos/2026-01-08/pos_sales_20260107.csv"]
    assert all(step is passed for step in steps)
    assert listings == [other]


def test_a_file_gone_since_the_listing_waits_for_the_next_listing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file removed or renamed after orchestration.run's listing is no problem for a person:
    the ingest steps and the stray-file log skip it, counted as vanished, and log nothing for
    it; the next run's listing finds it where it is now (a move) or not at all (a removal)."""
    from test_ingestion import delimited, land, pos_sale

    from ingestion import load as load_module

    day1 = date.fromisoformat(ingest.DAILY.get_first_partition_key())
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    resources = {
        "landing": LandingZone(path=str(landing)),
        "warehouse": Warehouse(path=str(warehouse)),
    }
    monkeypatch.setattr(load_module, "_clock_ns", lambda: time.time_ns() + 10 * 10**9)
    reports: list[load_module.IngestReport] = []
    for function in ("ingest", "log_stray_files"):
        real = getattr(load_module, function)
        monkeypatch.setattr(
            ingest,
            function,
            lambda *a, _real=real, **k: reports.append(_real(*a, **k)) or reports[-1],
        )

    def orchestrated_run(after_listing=lambda: None) -> None:  # noqa: ANN001
        reports.clear()
        ingest_then_log_strays(landing, resources, day1, day1, after_listing)

    def logged() -> list[tuple]:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.execute(
                "select source_file, status from raw.load_log order by load_id"
            ).fetchall()

    moved = land(landing, "pos_sales", delimited("pos_sales", [pos_sale(1)]), day1)
    stray = moved.parent / "pos_sale_typo.csv"
    write(stray, "stray\n")
    to = moved.parent / "pos_sales_renamed.tmp"

    def move_and_delete() -> None:
        moved.rename(to)  # an operator moves the delivery away after the listing
        stray.unlink()  # and removes the stray file

    orchestrated_run(move_and_delete)
    assert logged() == []
    assert sum(r.files_vanished for r in reports) == 2
    assert any("vanished since the listing 1" in r.summary() for r in reports)
    orchestrated_run()  # the next listing finds the moved file where it is now
    assert logged() == [(to.relative_to(landing).as_posix(), "unknown")]


def test_the_asset_graph_matches_its_snapshot() -> None:
    """Keys, groups, owners, kinds and check names as committed. On an intended change, run the
    refresh command and review the snapshot's diff with the change."""
    expected = json.loads(graph_snapshot.SNAPSHOT_PATH.read_text())
    changes = graph_snapshot.differences(expected, graph_snapshot.snapshot(defs))
    assert not changes, (
        f"the asset graph differs from {graph_snapshot.SNAPSHOT_PATH.name} in "
        f"{len(changes)} place(s):\n  "
        + "\n  ".join(changes[:40])
        + f"\nIf intended, refresh it: {graph_snapshot.REFRESH_COMMAND}"
    )


def test_every_asset_has_an_owner_a_description_and_a_documented_group() -> None:
    graph = defs.resolve_asset_graph()
    problems = []
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if not node.owners:
            problems.append(f"{key.to_user_string()}: no owner")
        if not (node.description or "").strip():
            problems.append(f"{key.to_user_string()}: no description")
        if node.group_name not in groups.GROUPS:
            problems.append(f"{key.to_user_string()}: group {node.group_name!r} not documented")
    assert problems == []
    # source systems own their landing, raw and staging assets, as the contract names them
    for extract in load_contract().values():
        for key in (ingest.landing_key(extract), ingest.raw_key(extract)):
            assert list(graph.get(key).owners) == [extract.owner], key
            assert graph.get(key).group_name == extract.system, key
    staged = [k for k in graph.get_all_asset_keys() if k.path[-1].startswith("stg_")]
    owners = groups.system_owners()
    for key in staged:
        system = key.path[-1].removeprefix("stg_").split("__")[0]
        assert graph.get(key).group_name == system, key
        assert sorted(graph.get(key).owners) == owners[system], key


def test_every_check_has_a_description_and_every_dbt_test_is_a_check() -> None:
    """Singular tests that read several relations attach to one (meta dagster.ref), so no dbt
    test arrives as an observation instead of a check."""
    specs = [s for a in defs.resolve_asset_graph().assets_defs for s in a.check_specs]
    assert [s.key for s in specs if not (s.description or "").strip()] == []
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text())
    tests = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "test"}
    assert tests - {s.name for s in specs} == set()


def test_required_columns_are_one_not_null_test_per_model() -> None:
    """docs/style.md: a model's required columns are one not_null_columns test, named
    not_null_<model>, whose check lists them; a column keeps a not_null of its own only with
    another configuration (severity, where) than its model's grouped test."""
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text())
    grouped: dict[tuple, str] = {}
    grouped_columns: set[tuple[str, str]] = set()
    singles_columns: list[tuple[str, str]] = []
    single = []
    for node in manifest["nodes"].values():
        test = (node.get("test_metadata") or {}).get("name")
        model = (node.get("attached_node") or "").split(".")[-1]
        config = (str(node["config"].get("severity")).lower(), node["config"].get("where"), model)
        if test == "not_null_columns":
            assert node["name"].startswith(f"not_null_{model}"), node["name"]
            assert config not in grouped, f"{node['name']} repeats {grouped.get(config)}"
            grouped[config] = node["name"]
            columns = node["test_metadata"]["kwargs"]["column_names"]
            assert set(columns) <= set(node_columns(manifest, node["attached_node"])), node["name"]
            grouped_columns |= {(model, column) for column in columns}
        elif test == "not_null":
            single.append((config, node["name"]))
            singles_columns.append((model, node["test_metadata"]["kwargs"]["column_name"]))
    assert len(grouped) > 100
    assert [c for c in singles_columns if c in grouped_columns] == [], "tested twice"
    configs = [config for config, _ in single]
    assert [n for c, n in single if c in grouped or configs.count(c) > 1] == []


def test_references_are_one_relationships_test_per_model_and_configuration() -> None:
    """docs/style.md: a model's references to models upstream of it are one relationships_columns
    test per configuration, named relationships_<model> (a second configuration adds a suffix);
    its references to a parent not upstream of it are one test per parent and configuration,
    named relationships_<model>_to_<parent> (or relationships_<model> when it is the model's
    only parent); the columns are the model's; a column keeps a relationships test of its own
    only for its own description."""
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text())
    upstream = ancestors(manifest)
    grouped: dict[tuple, str] = {}
    tested: list[tuple[str, str, str]] = []
    for node in manifest["nodes"].values():
        test = (node.get("test_metadata") or {}).get("name")
        model = (node.get("attached_node") or "").split(".")[-1]
        kwargs = (node.get("test_metadata") or {}).get("kwargs") or {}
        config = (str(node["config"].get("severity")).lower(), node["config"].get("where"), model)
        if test == "relationships_columns":
            assert node["name"].startswith(f"relationships_{model}"), node["name"]
            apart = sorted(
                {referenced(manifest, r["to"]) for r in kwargs["relationships"]}
                - upstream(node["attached_node"])
            )
            key = (*config, *apart)
            assert key not in grouped, f"{node['name']} repeats {grouped.get(key)}"
            grouped[key] = node["name"]
            columns = [r["column"] for r in kwargs["relationships"]]
            assert set(columns) <= set(node_columns(manifest, node["attached_node"])), node["name"]
            tested += [(model, r["column"], r["to"]) for r in kwargs["relationships"]]
        elif test == "relationships":
            assert node["description"], f"{node['name']}: a column's own relationships test"
            tested.append((model, kwargs["column_name"], kwargs["to"]))
    assert len(grouped) > 40
    assert len(tested) == len(set(tested)), "a reference tested twice"


def test_a_grouped_relationships_test_blocks_what_each_reference_would() -> None:
    """docs/decisions.md, "One test per model and kind": dbt build skips a model after a failed
    test only when every parent of the test is upstream of the model. So a relationships_columns
    test's parents besides its model are all upstream of its model (it then blocks exactly the
    models downstream of its model, as each reference's own test would), or are one parent
    (all its references to it: the same parents as each reference's own test). And every
    reference's `to` is a parent (dbt records the ref()s inside the list)."""
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text())
    upstream = ancestors(manifest)
    checked = 0
    for node in manifest["nodes"].values():
        if (node.get("test_metadata") or {}).get("name") != "relationships_columns":
            continue
        model = node["attached_node"]
        parents = set(node["depends_on"]["nodes"])
        references = node["test_metadata"]["kwargs"]["relationships"]
        assert {referenced(manifest, r["to"]) for r in references} <= parents, node["name"]
        others = parents - {model}
        assert others <= upstream(model) or len(others) == 1, (
            node["name"],
            sorted(others - upstream(model)),
        )
        checked += 1
    assert checked > 40


def ancestors(manifest: dict) -> Callable[[str], set[str]]:
    """A node -> the models, seeds, snapshots and sources upstream of it (tests aside)."""
    memo: dict[str, set[str]] = {}

    def upstream(unique_id: str) -> set[str]:
        if unique_id not in memo:
            memo[unique_id] = set()
            for parent in manifest["parent_map"].get(unique_id, []):
                if not parent.startswith("test."):
                    memo[unique_id] |= {parent} | upstream(parent)
        return memo[unique_id]

    return upstream


def referenced(manifest: dict, to: str) -> str:
    """The unique id of a relationships `to`: ref('name') or source('source', 'table')."""
    names = [part.strip(" '\"") for part in to[to.index("(") + 1 : to.rindex(")")].split(",")]
    if to.startswith("source("):
        (found,) = [
            unique_id
            for unique_id, source in manifest["sources"].items()
            if [source["source_name"], source["name"]] == names
        ]
        return found
    (found,) = [
        unique_id
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed", "snapshot") and node["name"] == names[-1]
    ]
    return found


def test_rules_are_one_expressions_test_per_model_and_configuration() -> None:
    """docs/style.md: a model's rules (boolean expressions) are one expressions_are_true test
    per configuration, named expressions_are_true_<model>; no expression_is_true is left."""
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text())
    grouped: dict[tuple, str] = {}
    for node in manifest["nodes"].values():
        test = (node.get("test_metadata") or {}).get("name")
        model = (node.get("attached_node") or "").split(".")[-1]
        config = (str(node["config"].get("severity")).lower(), node["config"].get("where"), model)
        assert test != "expression_is_true", node["name"]
        if test == "expressions_are_true":
            assert node["name"].startswith(f"expressions_are_true_{model}"), node["name"]
            assert config not in grouped, f"{node['name']} repeats {grouped.get(config)}"
            grouped[config] = node["name"]
    assert len(grouped) > 30


def test_a_grouped_expressions_check_says_each_rule() -> None:
    sentence = check_descriptions.SENTENCES["expressions_are_true"]
    rules = ["a >= 0", {"expression": "b is not null", "description": "Every row has its b."}]
    assert sentence({"expressions": rules}) == "`a >= 0` holds on every row. Every row has its b."


def test_a_grouped_relationships_check_names_its_references() -> None:
    sentence = check_descriptions.SENTENCES["relationships_columns"]
    arguments = {
        "relationships": [
            {"column": "sku", "to": "ref('dim_product')", "field": "sku"},
            {"column": "day", "to": "ref('dim_date')", "field": "date_day"},
        ]
    }
    assert sentence(arguments) == (
        "every `sku` exists as `sku` in dim_product; every `day` exists as `date_day` in dim_date."
    )


def node_columns(manifest: dict, unique_id: str) -> list[str]:
    """The documented columns of a model or seed."""
    return list(manifest["nodes"][unique_id]["columns"])


def test_a_grouped_not_null_check_names_its_columns() -> None:
    sentence = check_descriptions.SENTENCES["not_null_columns"]
    assert sentence({"column_names": ["sku"]}) == "`sku` is never null."
    assert sentence({"column_names": ["a", "b", "c"]}) == "`a`, `b` and `c` are never null."


def test_an_unmapped_dbt_folder_is_an_error_not_a_new_group() -> None:
    assert groups.group_for_folder("marts/kpi") == "kpi"
    assert groups.group_for_folder("controls/exceptions") == "controls"
    with pytest.raises(groups.UnmappedFolder, match="marts/unplanned.*FOLDER_GROUPS"):
        groups.group_for_folder("marts/unplanned")
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text())
    for node in [*manifest["nodes"].values(), *manifest["sources"].values()]:
        if node["resource_type"] in ("model", "seed", "snapshot", "source"):
            assert groups.group_for_folder(groups.folder_of(node["original_file_path"]))


def test_the_stray_file_log_is_no_parent_of_the_models_rebuilt_by_load() -> None:
    """Models rebuilt by load read raw.load_log only for their load window: not lineage. The
    completeness controls, which read its rows, keep it as a parent."""
    graph = defs.resolve_asset_graph()
    children = {k.to_user_string() for k in graph.get(ingest.LOAD_LOG_KEY).child_keys}
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text())
    incremental = {
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["config"].get("materialized") == "incremental"
    }
    assert incremental, "no model rebuilt by load"
    assert {c.split("/")[-1] for c in children} & incremental == set()
    assert "intermediate/int_deliveries_assessed" in children


def test_the_stray_file_log_loads_no_data(tmp_path: Path) -> None:
    """raw/load_log logs the files that belong to no partition (unknown, refused) and loads
    nothing: a loadable file that arrived since ingestion waits for its partition's run."""
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    write(landing / "pos/2026-01-05/pos_sales_20260105.csv", "x\n")
    write(landing / "pos/2026-01-05/notes.txt", "stray\n")
    result = dg.materialize(
        [ingest.load_log],
        resources={
            "landing": LandingZone(path=str(landing)),
            "warehouse": Warehouse(path=str(warehouse)),
        },
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert result.success
    with duckdb.connect(str(warehouse), read_only=True) as con:
        logged = con.execute("select source_file, status from raw.load_log").fetchall()
    assert logged == [("pos/2026-01-05/notes.txt", "unknown")]
    unknown = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.event_specific_data.check_name == "no_unknown_files"
    ]
    assert [e.passed for e in unknown] == [False]


def instance_of(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dg.DagsterInstance:
    """Dagster's in-memory instance (a planned event per asset and date), or one configured by
    orchestration/dagster.yaml (Concord's event log: one planned event per asset with the run's
    dates)."""
    if kind == "ephemeral":
        return dg.DagsterInstance.ephemeral()
    # "concord" or "concord-backfill"
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(settings.PROJECT_ROOT / "orchestration" / "dagster.yaml", home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return dg.DagsterInstance.from_config(str(home))


@pytest.mark.parametrize("kind", ["ephemeral", "concord", "concord-backfill"])
def test_a_failed_ranged_ingestion_marks_only_the_dates_it_did_not_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """Ingestion stops on an error after finishing some business dates (it commits whole
    dates): those dates are materialized, only the others are failed partitions, whether the
    run planned each date (Dagster's storage) or its range at once (Concord's)."""
    first = date.fromisoformat(ingest.DAILY.get_first_partition_key())
    days = [first + timedelta(days=i) for i in range(3)]
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    for day in days:  # a file that fails its header check: logged as failed, no error raised
        write(landing / "pos" / day.isoformat() / f"pos_sales_{day:%Y%m%d}.csv", "x\n")
    real_ingest = ingest.ingest

    def stops_after_two_dates(landing_dir, warehouse_path, dates, names, **options):  # noqa: ANN001, ANN003, ANN202
        real_ingest(landing_dir, warehouse_path, set(sorted(dates)[:2]), names, **options)
        raise RuntimeError("disk full (injected fault)")

    monkeypatch.setattr(ingest, "ingest", stops_after_two_dates)
    pos = next(a for a in ingest.INGEST_ASSETS if a.op.name == "ingest_pos")
    instance = instance_of(kind, tmp_path, monkeypatch)
    # a backfill's planning (orchestration/run.py): one planned event per asset with the range
    compact = kind == "concord-backfill"
    with instance.event_log_storage.compact_planning(40) if compact else contextlib.nullcontext():
        result = dg.materialize(
            [pos],
            resources={
                "landing": LandingZone(path=str(landing)),
                "warehouse": Warehouse(path=str(warehouse)),
            },
            instance=instance,
            tags={
                ASSET_PARTITION_RANGE_START_TAG: days[0].isoformat(),
                ASSET_PARTITION_RANGE_END_TAG: days[-1].isoformat(),
            },
            raise_on_error=False,
        )
    assert not result.success
    key = dg.AssetKey(["raw", "pos_sales"])
    assert instance.get_materialized_partitions(key) == {d.isoformat() for d in days[:2]}
    failed = instance.event_log_storage.get_latest_asset_partition_materialization_attempts_without_materializations(  # noqa: E501
        key
    )
    assert set(failed) == {days[2].isoformat()}
    # what the UI's partition bar reads: Dagster's asset status cache
    status = get_and_update_asset_status_cache_value(instance, key, ingest.DAILY)
    failed_keys = status.deserialize_failed_partition_subsets(ingest.DAILY).get_partition_keys()
    assert set(failed_keys) == {days[2].isoformat()}
    materialized = status.deserialize_materialized_partition_subsets(ingest.DAILY)
    assert set(materialized.get_partition_keys()) == {d.isoformat() for d in days[:2]}


def test_no_check_is_partitioned() -> None:
    """Concord's event log stores a check's planned event without its run's dates
    (orchestration/event_log.py, without_run_partitions): true only while every check judges
    its asset as a whole."""
    graph = defs.resolve_asset_graph()
    partitioned = [
        node.key.to_user_string() for node in graph.asset_check_nodes if node.partitions_def
    ]
    assert graph.asset_check_nodes
    assert partitioned == []


def test_a_node_the_loaded_definitions_lack_fails_the_dbt_step_in_one_line() -> None:
    known = next(iter(json.loads(DBT_PROJECT.manifest_path.read_text())["nodes"]))
    assert raise_if_project_changed(KeyError(known), concord_dbt_assets) is None
    with pytest.raises(dg.Failure, match="the dbt project changed while this run was in flight"):
        raise_if_project_changed(KeyError("test.concord.added_after_load"), concord_dbt_assets)


def test_a_dbt_build_the_step_gives_up_on_is_stopped() -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    stop(SimpleNamespace(process=process, termination_timeout_seconds=5))
    assert process.poll() is not None
