"""The Dagster code location: it loads, its graph reads landing -> raw -> staging, and the glue
functions behave."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ingestion.contract import load_contract, max_days_after_delivery
from orchestration import automation, ingest
from orchestration.dbt import DbtBuildConfig, dbt_build_args
from orchestration.definitions import defs


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


def test_landing_sensor_requests_the_dates_of_new_or_changed_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONCORD_LANDING_DIR", str(tmp_path))
    write(tmp_path / "pos/2026-01-05/pos_sales_20260105.csv", "a\n")
    write(tmp_path / "erp/2026-01-06/erp_transfers_20260106.csv", "a\n")
    write(tmp_path / "pos/2026-01-06/notes.txt", "stray\n")
    by_date, cursor = automation.pending_dates({})
    assert sorted(by_date) == ["2026-01-05", "2026-01-06"]
    assert automation.pending_dates(cursor)[0] == {}
    changed = tmp_path / "pos/2026-01-05/pos_sales_20260105.csv"
    changed.write_text("a\nb\n")
    os.utime(changed, ns=(1, 1))
    assert list(automation.pending_dates(cursor)[0]) == ["2026-01-05"]


def test_landing_sensor_builds_one_run_request_per_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONCORD_LANDING_DIR", str(tmp_path))
    write(tmp_path / "pos/2026-01-05/pos_sales_20260105.csv", "a\n")
    write(tmp_path / "pos/2026-01-07/pos_sales_20260105_2.csv", "a\nb\n")
    write(tmp_path / "wms/2026-01-07/wms_on_hand_20260107.csv", "a\n")
    context = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral())
    result = automation.landing_sensor(context)
    assert sorted(r.partition_key for r in result.run_requests) == ["2026-01-05", "2026-01-07"]
    again = automation.landing_sensor(dg.build_sensor_context(cursor=result.cursor))
    assert again.run_requests == []


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


def test_a_dbt_build_is_incremental_unless_the_run_asks_for_a_full_refresh() -> None:
    production = ["build", "--exclude-resource-type", "unit_test"]
    assert dbt_build_args(DbtBuildConfig()) == production
    assert dbt_build_args(DbtBuildConfig(full_refresh=True)) == [*production, "--full-refresh"]
    assert dbt_build_args(DbtBuildConfig(test_whole_history=True)) == [
        *production,
        "--vars",
        '{"test_whole_history": true}',
    ]


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
