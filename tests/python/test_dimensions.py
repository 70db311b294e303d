"""Conformed dimensions, the item crosswalk and the exception queue on two small generated worlds,
one clean and one with defects, each ingested and built once for the module (dbt build of the
dimensions, the exception queue and everything upstream, with their tests and unit tests).
Expectations come from the landing files and the defect manifest, never from the warehouse."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pytest

from ingestion.load import ingest
from simulation.__main__ import generate, parse_args
from simulation.fx import RateBook

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# 21 days: three weekly master snapshots (the category move shows in the second), a new barcode
# from day 14, weekends for the FX gap rule; more unknown item codes than the default rate so
# that both the POS and the marketplace get some. Seed 21: its relabelled SKU sells at the
# stores after the new barcode and every store sells every day (with seed 5 the SKU sold
# once, then not at all once short deliveries were back-ordered or closed).
WORLD = ["--seed", "21", "--scale-factor", "0.02", "--days", "21", "--start-date", "2026-03-02"]
DEFECTS = ["--defect-rate", "unknown_item_code=0.4"]
SELECTION = [
    "--select",
    "+path:models/marts/core",
    "+path:models/controls",
    "path:tests/dbt/master_data",
    "path:tests/dbt/controls",
    # tests of other marts against the dimensions belong to those marts' builds
    "--indirect-selection",
    "cautious",
]
SYSTEM_OF_EXTRACT = {"pos_sales": "pos", "marketplace_settlement": "marketplace"}
REPORTING_CURRENCY = "USD"


@dataclass(frozen=True)
class World:
    root: Path
    warehouse: Path
    build: subprocess.CompletedProcess

    def query(self, sql: str) -> pd.DataFrame:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql).df()


def start_dbt_build(root: Path, warehouse: Path) -> subprocess.Popen:
    """dbt build of the selection into warehouse, with its own target and log directories (so
    that builds can run side by side); the caller waits for it."""
    dbt = Path(sys.executable).parent / "dbt"
    return subprocess.Popen(
        [
            str(dbt),
            "build",
            *SELECTION,
            "--profiles-dir",
            "profiles",
            "--target-path",
            str(root / "target"),
            "--log-path",
            str(root / "logs"),
        ],
        cwd=PROJECT_ROOT,
        env=os.environ | {"CONCORD_WAREHOUSE": str(warehouse)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def start_build(root: Path, *extra: str) -> tuple[Path, subprocess.Popen]:
    generate(parse_args([*WORLD, "--out", str(root), *extra]))
    warehouse = root / "warehouse.duckdb"
    ingest(root / "landing", warehouse)
    return warehouse, start_dbt_build(root, warehouse)


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, World]:
    started = {}
    for name, extra in (("clean", ["--clean"]), ("defective", DEFECTS)):
        root = tmp_path_factory.mktemp(f"dimensions_{name}")
        started[name] = (root, start_build(root, *extra))  # builds run while the next generates
    built = {}
    for name, (root, (warehouse, process)) in started.items():
        output, _ = process.communicate(timeout=900)
        built[name] = World(
            root, warehouse, subprocess.CompletedProcess(process.args, process.returncode, output)
        )
    return built


def landing_frames(world: World, prefix: str) -> list[tuple[date, pd.DataFrame]]:
    """Every landing file of an extract (CSV or Parquet), with the business date it covers, the
    re-delivery of a date replacing the first delivery."""
    by_date: dict[date, Path] = {}
    for path in sorted(world.root.glob(f"landing/*/*/{prefix}_*")):
        stem = path.stem.removeprefix(f"{prefix}_")
        covered = datetime.strptime(stem.split("_")[0], "%Y%m%d").date()
        by_date[covered] = path  # sorted: a _2 re-delivery comes after the original
    frames = []
    for covered, path in sorted(by_date.items()):
        if path.suffix == ".parquet":
            frames.append((covered, pd.read_parquet(path)))
        else:
            frames.append((covered, pd.read_csv(path, dtype=str, keep_default_na=False)))
    return frames


def unknown_code_rows(world: World) -> pd.DataFrame:
    """The defect manifest's unknown item codes: one row per spoiled line, with the system, the
    code, the units, the gross value, its currency and the business date."""
    manifest = pd.read_csv(world.root / "truth" / "defects.csv", dtype=str)
    locations = landing_frames(world, "erp_locations")[-1][1].set_index("location_id")
    marketplace_zone = ZoneInfo(locations.loc["MP1", "time_zone"])
    rows = []
    for record in manifest[manifest["kind"] == "unknown_item_code"].itertuples():
        detail = json.loads(record.detail)
        line = detail["row"]
        if record.extract == "pos_sales":
            units = int(line["quantity"])
            # the line's gross: units x unit price (up to four decimals) rounded to cents
            value = float(
                (units * Decimal(line["unit_price"])).quantize(Decimal("0.01"), ROUND_HALF_UP)
            )
            business_date = date.fromisoformat(line["transaction_local_time"][:10])
        else:
            units = int(line["quantity"])
            value = float(line["item_price_amount"])
            posted = datetime.strptime(line["posted_at"], "%Y-%m-%dT%H:%M:%SZ")
            business_date = posted.replace(tzinfo=UTC).astimezone(marketplace_zone).date()
        rows.append(
            {
                "source_system": SYSTEM_OF_EXTRACT[record.extract],
                "source_item_code": detail["value"],
                "units": units,
                "value": value,
                "currency_code": line["currency_code"],
                "business_date": business_date,
            }
        )
    return pd.DataFrame(rows)


def mapped_codes(world: World) -> pd.DataFrame:
    """The ERP cross-reference as the latest landing snapshot states it."""
    mapping = landing_frames(world, "erp_item_cross_reference")[-1][1]
    mapping["valid_from_date"] = pd.to_datetime(mapping["valid_from_date"])
    mapping["valid_to_date"] = pd.to_datetime(mapping["valid_to_date"].replace("", None))
    return mapping


def resolved_codes(world: World) -> pd.DataFrame:
    frame = world.query("select * from intermediate.int_item_codes_resolved")
    frame["business_date"] = pd.to_datetime(frame["business_date"]).dt.date
    return frame


def test_both_worlds_build_with_every_test(worlds: dict[str, World]) -> None:
    for name, world in worlds.items():
        assert world.build.returncode == 0, f"{name}:\n{world.build.stdout[-6000:]}"
        assert "ERROR=0" in world.build.stdout, name


def test_clean_world_resolves_every_code_to_the_sku_the_world_mapped(
    worlds: dict[str, World],
) -> None:
    world = worlds["clean"]
    codes = resolved_codes(world)
    assert set(codes["source_system"]) == {"pos", "webshop", "marketplace", "wms"}
    assert not codes["is_unresolved"].any()
    joined = codes.merge(
        mapped_codes(world), on=["source_system", "source_item_code"], suffixes=("", "_world")
    )
    business_date = pd.to_datetime(joined["business_date"])
    valid = (business_date >= joined["valid_from_date"]) & (
        joined["valid_to_date"].isna() | (business_date <= joined["valid_to_date"])
    )
    joined = joined[valid]
    key = ["source_model", "source_item_code", "business_date", "location_id"]
    assert len(joined.drop_duplicates(key)) == len(codes)  # every code had a valid mapping
    assert (joined["sku"] == joined["sku_world"]).all()
    # the barcodes the world introduces mid-period are used, and resolve
    new_barcodes = mapped_codes(world)
    new_barcodes = new_barcodes[new_barcodes["valid_from_date"] > pd.Timestamp("2026-03-02")]
    assert len(new_barcodes) > 0
    assert set(new_barcodes["source_item_code"]) & set(codes["source_item_code"])
    exceptions = world.query("select * from marts.mart_exceptions")
    assert len(exceptions) == 0


def test_defective_world_flags_exactly_the_manifests_unknown_codes(
    worlds: dict[str, World],
) -> None:
    world = worlds["defective"]
    expected = unknown_code_rows(world)
    assert set(expected["source_system"]) == {"pos", "marketplace"}
    expected_codes = set(zip(expected["source_system"], expected["source_item_code"], strict=True))
    codes = resolved_codes(world)
    unresolved = codes[codes["is_unresolved"]]
    found = set(zip(unresolved["source_system"], unresolved["source_item_code"], strict=True))
    assert found == expected_codes
    assert (unresolved["sku"] == "UNRESOLVED").all()
    exceptions = world.query(
        "select * from marts.mart_exceptions where exception_type = 'unresolved_item_code'"
    )
    assert set(exceptions["natural_key"]) == {f"{s}|{c}" for s, c in expected_codes}
    # every other code still resolves to the SKU the world mapped
    resolved = codes[~codes["is_unresolved"]].merge(
        mapped_codes(world), on=["source_system", "source_item_code"], suffixes=("", "_world")
    )
    assert (resolved["sku"] == resolved["sku_world"]).all()


def test_unresolved_codes_keep_their_units_and_value(worlds: dict[str, World]) -> None:
    world = worlds["defective"]
    expected = unknown_code_rows(world)
    codes = resolved_codes(world)
    unresolved = codes[codes["is_unresolved"]]
    # in transaction currency, per code, date and currency: units exactly, value to the cent
    key = ["source_system", "source_item_code", "business_date", "currency_code"]
    want = expected.groupby(key, as_index=False)[["units", "value"]].sum()
    got = unresolved.groupby(key, as_index=False)[["affected_units", "affected_value"]].sum()
    both = want.merge(got, on=key, how="outer", indicator=True)
    assert (both["_merge"] == "both").all(), both
    assert (both["units"] == both["affected_units"]).all(), both
    assert ((both["value"] - both["affected_value"].astype(float)).abs() < 0.005).all(), both
    # in the exception queue: units, and the value in reporting currency at the ERP rate of
    # each business date (the simulation's own gap rule)
    rates = world.query("select * from staging.stg_erp__fx_rates")
    rates["rate_date"] = pd.to_datetime(rates["rate_date"]).dt.date
    book = RateBook(rates.assign(exchange_rate=rates["exchange_rate"].astype(float)))
    expected["value_reporting"] = [
        r.value * book.rate(r.business_date, r.currency_code, REPORTING_CURRENCY)
        for r in expected.itertuples()
    ]
    expected["natural_key"] = expected["source_system"] + "|" + expected["source_item_code"]
    per_code = expected.groupby("natural_key").agg(
        units=("units", "sum"), value_reporting=("value_reporting", "sum"), lines=("units", "size")
    )
    exceptions = world.query(
        "select * from marts.mart_exceptions where exception_type = 'unresolved_item_code'"
    ).set_index("natural_key")
    both = per_code.join(exceptions, how="outer")
    assert (both["units"] == both["affected_units"]).all(), both
    tolerance = 0.01 * both["lines"]
    difference = (both["value_reporting"] - both["affected_value_reporting"].astype(float)).abs()
    assert (difference <= tolerance).all(), both
    assert (both["sku"] == "UNRESOLVED").all()
    assert (both["severity"].notna() & both["owning_role"].notna()).all()
    for row in both.itertuples():
        assert f"{row.units} unit" in row.explanation
        assert f"{row.affected_value_reporting:.2f} USD" in row.explanation


def test_category_move_shows_as_two_versions(worlds: dict[str, World]) -> None:
    for world in worlds.values():
        snapshots = landing_frames(world, "erp_products")
        hierarchy = ["department", "category", "subcategory"]
        first = snapshots[0][1].set_index("sku")[hierarchy]
        last = snapshots[-1][1].set_index("sku")[hierarchy]
        moved = first.index[(first != last.loc[first.index]).any(axis=1)].tolist()
        assert len(moved) == 1
        sku = moved[0]
        move_date = next(
            d
            for d, f in snapshots
            if tuple(f.set_index("sku").loc[sku, hierarchy]) == tuple(last.loc[sku])
        )
        products = world.query("select * from marts.dim_product").set_index("product_version_id")
        versions = products[products["sku"] == sku].sort_values("version_number")
        assert len(versions) == 2
        old, new = versions.iloc[0], versions.iloc[1]
        assert tuple(old[hierarchy]) == tuple(first.loc[sku])
        assert tuple(new[hierarchy]) == tuple(last.loc[sku])
        assert pd.Timestamp(new["valid_from_date"]).date() == move_date
        assert pd.Timestamp(old["valid_to_date"]).date() == move_date - timedelta(days=1)
        assert not old["is_current"] and new["is_current"] and pd.isna(new["valid_to_date"])
        others = products[(products["sku"] != sku) & ~products["is_unresolved_member"]]
        assert (others.groupby("sku").size() == 1).all()
        assert set(others["sku"]) | {sku} == set(last.index)


def test_product_versions_never_overlap_and_one_is_current(worlds: dict[str, World]) -> None:
    for world in worlds.values():
        products = world.query("select * from marts.dim_product order by sku, valid_from_date")
        assert (products.groupby("sku")["is_current"].sum() == 1).all()
        far = pd.Timestamp("9999-12-31")
        products["valid_to"] = pd.to_datetime(products["valid_to_date"]).fillna(far)
        products["next_from"] = pd.to_datetime(products.groupby("sku")["valid_from_date"].shift(-1))
        following = products.dropna(subset=["next_from"])
        assert (following["valid_to"] + pd.Timedelta(days=1) == following["next_from"]).all()
        assert (products["sku"] == "UNRESOLVED").sum() == 1


def test_weekend_rates_are_fridays_and_no_rate_is_beyond_the_gap(
    worlds: dict[str, World],
) -> None:
    world = worlds["clean"]
    daily = world.query("select * from intermediate.int_fx_rates_daily")
    daily["rate_date"] = pd.to_datetime(daily["rate_date"])
    assert not daily["is_beyond_gap"].any()
    published = world.query("select * from staging.stg_erp__fx_rates")
    published["rate_date"] = pd.to_datetime(published["rate_date"])
    pairs = ["from_currency_code", "to_currency_code"]
    weekend = daily[daily["rate_date"].dt.day_of_week >= 5]
    weekend = weekend[weekend["from_currency_code"] != weekend["to_currency_code"]]
    assert len(weekend) > 0
    friday = weekend["rate_date"] - pd.to_timedelta(
        weekend["rate_date"].dt.day_of_week - 4, unit="D"
    )
    expected = weekend.assign(rate_date=friday).merge(published, on=["rate_date", *pairs])
    assert len(expected) == len(weekend)
    assert (expected["exchange_rate_x"] == expected["exchange_rate_y"]).all()
    assert set(weekend["gap_days"]) == {1, 2}
    identity = daily[daily["from_currency_code"] == daily["to_currency_code"]]
    assert (identity["exchange_rate"] == 1).all() and len(identity) > 0


def test_retail_calendar_is_454_from_the_sunday_nearest_february_first(
    worlds: dict[str, World], tmp_path: Path
) -> None:
    """dim_date's SQL as the build compiled it, over a calendar of 2015 to 2035 (the build's own
    calendar spans only the years around its data): twenty-one years of the rule."""
    compiled = worlds["clean"].root / "target" / "compiled" / "concord" / "models"
    sql = (compiled / "marts" / "core" / "dim_date.sql").read_text()
    warehouse = tmp_path / worlds["clean"].warehouse.name  # the same catalog name
    shutil.copy(worlds["clean"].warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "create or replace table intermediate.int_calendar_days as "
            "select cast(range as date) as date_day "
            "from range(date '2015-01-01', date '2036-01-01', interval 1 day)"
        )
        days = con.execute(sql).df()
    assert len(days) == (date(2036, 1, 1) - date(2015, 1, 1)).days
    complete = 0
    for year, rows in days.groupby("retail_year"):
        if len(rows) not in (364, 371):
            continue  # the partial retail years at the edges of the calendar
        complete += 1
        start = pd.Timestamp(rows["date_day"].min()).date()
        assert start.weekday() == 6 and abs((start - date(year, 2, 1)).days) <= 3, year
        weeks = rows.groupby("retail_period")["retail_week"].nunique().tolist()
        assert weeks == [4, 5, 4] * 3 + [4, 5, 4 + (len(rows) == 371)], (year, weeks)
    assert complete >= 19
    assert (days.groupby("retail_year").size() == 371).any()  # 53-week years exist


def test_a_gap_beyond_the_limit_is_an_exception_not_a_rate(
    worlds: dict[str, World], tmp_path: Path
) -> None:
    """The ERP publishes no rates Monday 2026-03-09 to Friday 03-13 (a copy of the clean world):
    Tuesday is 4 days after Friday's rate (the limit), Wednesday to Sunday are beyond it. Their
    rates are null (never 1.0), mart_exceptions lists each date and pair that facts need, and
    the FX gap test fails the build."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(worlds["clean"].warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "delete from raw.erp_fx_rates where rate_date between '2026-03-09' and '2026-03-13'"
        )
    process = start_dbt_build(tmp_path, warehouse)
    output, _ = process.communicate(timeout=900)
    assert process.returncode != 0
    assert "FAIL" in output and "assert_no_fx_rate_gap_on_business_dates" in output
    world = World(tmp_path, warehouse, subprocess.CompletedProcess(process.args, 1, output))
    daily = world.query(
        "select * from intermediate.int_fx_rates_daily where from_currency_code <> "
        "to_currency_code and rate_date between '2026-03-10' and '2026-03-16'"
    )
    daily["rate_date"] = pd.to_datetime(daily["rate_date"]).dt.date
    beyond = {date(2026, 3, day) for day in range(11, 16)}
    assert set(daily.loc[daily["is_beyond_gap"], "rate_date"]) == beyond
    assert daily.loc[daily["is_beyond_gap"], "exchange_rate"].isna().all()
    assert (daily.loc[daily["rate_date"] == date(2026, 3, 10), "gap_days"] == 4).all()
    assert daily.loc[~daily["is_beyond_gap"], "exchange_rate"].notna().all()
    gaps = world.query("select * from marts.mart_exceptions where exception_type = 'fx_rate_gap'")
    keys = {tuple(key.split("|")) for key in gaps["natural_key"]}
    assert {date.fromisoformat(day) for day, _, _ in keys} == beyond
    # the pairs the facts need: EUR and GBP into USD (reporting), the marketplace's EUR into
    # GBP (its entity's); a US dollar sale needs none (a cross-entity transfer might)
    pairs = {(source, target) for _, source, target in keys}
    assert {("EUR", "USD"), ("GBP", "USD"), ("EUR", "GBP")} <= pairs
    assert all(source != target for source, target in pairs)
    assert (gaps["severity"] == "critical").all()
    assert gaps["explanation"].str.contains("days old").all()
