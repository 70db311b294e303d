"""A real single-entity ERP retailer's minimal data (issue 13): one currency and no FX extract,
no supplier invoices, optional master attributes left empty, history from 2012. The world builds
with no setting edited, no warning and no error, and its marts equal the truth."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from conftest import MINIMAL_ERP_WORLD_ARGS, BuiltWorld
from test_kpi_marts import cogs_mismatches, inventory_mismatches, net_sales_mismatches, query

from ingestion.contract import load_contract
from ingestion.discover import discover
from orchestration import settings
from simulation.__main__ import parse_args


def test_the_build_has_no_warning_and_no_error(minimal_erp_world: BuiltWorld) -> None:
    results = json.loads(
        (minimal_erp_world.warehouse.parent / "target" / "run_results.json").read_text()
    )["results"]
    assert len(results) > 500
    # a saved query or an exposure (a dashboard page) has nothing to build: dbt reports a no-op
    flagged = [
        (r["unique_id"], r["status"])
        for r in results
        if r["status"] not in ("success", "pass")
        and not (
            r["unique_id"].startswith(("saved_query.", "exposure.")) and r["status"] == "no-op"
        )
    ]
    assert flagged == []


def test_net_sales_cogs_and_positions_equal_the_truth(minimal_erp_world: BuiltWorld) -> None:
    assert net_sales_mismatches(minimal_erp_world).empty
    assert cogs_mismatches(minimal_erp_world).empty
    assert inventory_mismatches(minimal_erp_world).empty


def test_the_world_sends_no_fx_and_no_supplier_invoices(minimal_erp_world: BuiltWorld) -> None:
    extracts = {f.extract for f in discover(minimal_erp_world.landing)}
    assert "erp_fx_rates" not in extracts
    assert "erp_supplier_invoices" not in extracts
    assert {"pos_sales", "erp_goods_receipts", "erp_products"} <= extracts
    currencies = query(
        minimal_erp_world,
        "select distinct currency_code from staging.stg_pos__sales_lines "
        "union select distinct functional_currency_code from marts.dim_entity",
    )
    assert currencies["currency_code"].tolist() == ["USD"]


def test_uninvoiced_receipts_are_information_not_breaks(minimal_erp_world: BuiltWorld) -> None:
    receipts = query(
        minimal_erp_world,
        "select count(distinct goods_receipt_number) as n "
        "from staging.stg_erp__goods_receipt_lines",
    )["n"].iloc[0]
    matched = query(
        minimal_erp_world,
        "select status, count(*) as n, min(explanation) as explanation "
        "from marts.mart_reconciliation_three_way_match group by status",
    )
    assert receipts > 0
    assert matched["status"].tolist() == ["info"]
    assert matched["n"].iloc[0] == receipts
    assert "not invoiced" in matched["explanation"].iloc[0]
    breaks = query(
        minimal_erp_world,
        "select count(*) as n from marts.mart_exceptions "
        "where exception_type in ('reconciliation_break', 'fx_gap', 'missing_delivery')",
    )
    assert breaks["n"].iloc[0] == 0


def test_fx_is_the_identity_on_every_business_date(minimal_erp_world: BuiltWorld) -> None:
    """No rate sent, no gap: every business date converts USD to USD at 1."""
    rates = query(
        minimal_erp_world,
        "select distinct from_currency_code, to_currency_code, exchange_rate, is_beyond_gap "
        "from intermediate.int_fx_rates_daily",
    )
    assert rates.to_dict("records") == [
        {
            "from_currency_code": "USD",
            "to_currency_code": "USD",
            "exchange_rate": 1,
            "is_beyond_gap": False,
        }
    ]
    uncovered = query(
        minimal_erp_world,
        "select count(*) as n from marts.mart_net_sales as sales "
        "left join intermediate.int_fx_rates_daily as rates "
        "on sales.business_date = rates.rate_date where rates.rate_date is null",
    )
    assert uncovered["n"].iloc[0] == 0


def test_the_calendar_covers_history_from_2012(minimal_erp_world: BuiltWorld) -> None:
    config = parse_args([*MINIMAL_ERP_WORLD_ARGS, "--out", "unused"])
    assert config.start_date.year == 2012
    covered = query(
        minimal_erp_world,
        "select min(date_day) as first_day, max(date_day) as last_day, "
        "count(*) filter (where date_day = date '2012-02-29') as leap_days from marts.dim_date",
    ).iloc[0]
    assert pd.Timestamp(covered["first_day"]).date() <= config.start_date
    assert pd.Timestamp(covered["last_day"]).date() >= config.end_date
    assert covered["leap_days"] == 1
    first_versions = query(
        minimal_erp_world,
        "select max(valid_from_date) as latest_first from marts.dim_product "
        "where version_number = 1",
    )
    assert pd.Timestamp(first_versions["latest_first"].iloc[0]).date() <= config.start_date


def test_empty_optional_master_attributes_take_the_contract_defaults(
    minimal_erp_world: BuiltWorld,
) -> None:
    """Each product's latest row as delivered, with the contract's defaults applied to its
    empty optional attributes, is what the current dim_product row says."""
    files = sorted(
        (f for f in discover(minimal_erp_world.landing) if f.extract == "erp_products"),
        key=lambda f: (f.business_date or date.min, f.sequence or 1),
    )
    delivered = (
        pd.concat([pd.read_parquet(f.path) for f in files], ignore_index=True)
        .drop_duplicates("sku", keep="last")
        .reset_index(drop=True)
    )
    columns = {c.name: c for c in load_contract()["erp_products"].columns}
    expected = delivered.copy()
    for name in ("department", "category", "subcategory", "brand", "case_pack_units"):
        column = columns[name]
        if column.default_from is not None:
            expected[name] = expected[name].fillna(expected[column.default_from])
        elif column.default is not None:
            default = int(column.default) if column.data_type == "integer" else column.default
            expected[name] = expected[name].fillna(default)
    empty = delivered[["brand", "category", "subcategory", "case_pack_units"]].isna().sum()
    assert (empty > 0).all(), "the sparse master leaves every optional attribute empty somewhere"
    current = query(
        minimal_erp_world,
        "select sku, department, category, subcategory, brand, case_pack_units "
        "from marts.dim_product where is_current and not is_unresolved_member",
    )
    both = expected.merge(current, on="sku", suffixes=("_expected", "_dim"))
    assert len(both) == len(delivered)
    for name in ("department", "category", "subcategory", "brand", "case_pack_units"):
        assert both[f"{name}_expected"].tolist() == both[f"{name}_dim"].tolist(), name
    suppliers = query(
        minimal_erp_world,
        "select count(*) filter (where payment_terms_days is null) as no_terms, "
        "count(*) filter (where country_code is null) as no_country from marts.dim_supplier",
    ).iloc[0]
    assert suppliers["no_terms"] > 0 and suppliers["no_country"] > 0


def test_partitions_start_at_the_earliest_loadable_business_date(
    minimal_erp_world: BuiltWorld, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CONCORD_LANDING_DIR", str(minimal_erp_world.landing))
    monkeypatch.delenv("CONCORD_PARTITIONS_START", raising=False)
    loadable = [f.business_date for f in discover(minimal_erp_world.landing) if f.is_known]
    assert settings.partitions_start() == min(loadable).isoformat()
    monkeypatch.setenv("CONCORD_LANDING_DIR", str(tmp_path))  # no file delivered yet
    assert settings.partitions_start() == settings.EMPTY_LANDING_PARTITIONS_START.isoformat()
    monkeypatch.setenv("CONCORD_LANDING_DIR", str(minimal_erp_world.landing))
    monkeypatch.setenv("CONCORD_PARTITIONS_START", "2009-07-01")
    assert settings.partitions_start() == "2009-07-01"
    monkeypatch.setenv("CONCORD_PARTITIONS_START", "July 2009")
    with pytest.raises(ValueError, match="CONCORD_PARTITIONS_START='July 2009' is not a date"):
        settings.partitions_start()
