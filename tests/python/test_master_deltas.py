"""Master data as change records (issue 13): a tiny world sends its product master,
item cross-reference and price list as one full snapshot and then change records with effective
dates (a back-dated price rise, barcodes announced ahead, a category move on the day). The marts
must equal the truth, the master history must equal the world's, and completeness must not
expect change files nor the weekly snapshots they replace. That snapshots and change records of
one history build identical SCD2 and dated models is shown by the dbt unit tests of
models/intermediate/master_data/_master_data__models.yml, which every build runs."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest
from conftest import DELTAS_WORLD_ARGS, BuiltWorld
from test_kpi_marts import cogs_mismatches, inventory_mismatches, net_sales_mismatches, truth
from test_simulation import check_world

from ingestion.contract import FILE_NAME_RE, load_contract
from simulation import world as w
from simulation.__main__ import parse_args
from simulation.defects import DefectPlan
from simulation.engine import Simulation

HISTORIZED = ("erp_products", "erp_item_cross_reference", "erp_price_list")
CHANGES = {e.changes_of: e.name for e in load_contract().values() if e.changes_of}


def query(world: BuiltWorld, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        frame = con.execute(sql).df()
    for column in frame.columns:
        if column.endswith("_date"):
            frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


@pytest.fixture(scope="module")
def world_master(deltas_world: BuiltWorld) -> Simulation:
    """The simulated world's own master data and its planned changes (not the landing files)."""
    config = parse_args([*DELTAS_WORLD_ARGS, "--out", str(deltas_world.root)])
    return Simulation(config, DefectPlan.build(config))


def rows(frame: pd.DataFrame) -> set[tuple]:
    """The rows of a frame as tuples, with every kind of null as None."""
    return {
        tuple(None if pd.isna(v) else v for v in row)
        for row in frame.itertuples(index=False, name=None)
    }


def landed(world: BuiltWorld, extract: str) -> list[tuple[date, pd.DataFrame]]:
    """(business date, rows) of every file of an extract in the landing zone, by date."""
    files = []
    for path in sorted((world.landing / "erp").rglob(f"{extract}_*")):
        match = FILE_NAME_RE.match(path.name)
        if match and match["prefix"] == extract:
            day = date.fromisoformat(
                f"{match['business_date'][:4]}-{match['business_date'][4:6]}-"
                f"{match['business_date'][6:]}"
            )
            reader = pd.read_parquet if path.suffix == ".parquet" else pd.read_csv
            files.append((day, reader(path)))
    return sorted(files, key=lambda f: f[0])


def test_one_snapshot_then_change_records_with_a_back_dated_one(
    deltas_world: BuiltWorld, world_master: Simulation
) -> None:
    start = world_master.config.start_date
    for extract in HISTORIZED:
        assert [d for d, _ in landed(deltas_world, extract)] == [start], extract
        assert landed(deltas_world, CHANGES[extract]), f"no change records of {extract}"
    ch = world_master.changes
    (recorded, prices), *_ = landed(deltas_world, "erp_price_list_changes")
    assert recorded > ch.price_change_date  # back-dated
    assert ch.price_change_date.isoformat() in set(prices["valid_from_date"])
    (announced, codes), *_ = landed(deltas_world, "erp_item_cross_reference_changes")
    assert announced < ch.new_barcode_date  # announced ahead
    assert set(codes["valid_from_date"]) == {ch.new_barcode_date.isoformat()}
    report = check_world(deltas_world.root)  # every file, change records too, as contracted
    for kind in ("unknown_file", "empty_file", "truncated_file", "wrong_header", "bad_value"):
        assert report[kind] == [], f"{kind}: {report[kind][:3]}"


def test_marts_equal_the_truth(deltas_world: BuiltWorld) -> None:
    assert len(truth(deltas_world, "net_sales")) > 200
    assert net_sales_mismatches(deltas_world).empty
    assert cogs_mismatches(deltas_world).empty
    assert inventory_mismatches(deltas_world).empty
    unresolved = query(
        deltas_world,
        "select count(*) as n from marts.fct_sales_lines where is_unresolved_item",
    )
    assert unresolved["n"].iloc[0] == 0


def test_product_history_is_the_worlds(deltas_world: BuiltWorld, world_master: Simulation) -> None:
    hierarchy = ["department", "category", "subcategory"]
    products = world_master.products.set_index("sku")[hierarchy]
    ch = world_master.changes
    moved = world_master.skus[ch.category_move_sku]
    calendar_start = query(
        deltas_world, "select min(valid_from_date) as start_date from marts.dim_product"
    )["start_date"].iloc[0]
    expected = products.assign(
        version_number=1, valid_from_date=calendar_start, valid_to_date=None
    ).reset_index()
    expected.loc[expected["sku"] == moved, "valid_to_date"] = ch.category_move_date - timedelta(1)
    second = dict(zip(hierarchy, ch.category_move_to, strict=True))
    expected = pd.concat(
        [
            expected,
            pd.DataFrame(
                [
                    {
                        "sku": moved,
                        **second,
                        "version_number": 2,
                        "valid_from_date": ch.category_move_date,
                        "valid_to_date": None,
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    dim = query(
        deltas_world,
        "select sku, version_number, department, category, subcategory, valid_from_date, "
        "valid_to_date, is_in_latest_snapshot from marts.dim_product "
        "where not is_unresolved_member",
    )
    assert dim["is_in_latest_snapshot"].all()
    columns = ["sku", "version_number", *hierarchy, "valid_from_date", "valid_to_date"]
    assert len(dim) == len(expected)
    assert rows(dim[columns]) == rows(expected[columns])


def test_price_list_and_crosswalk_are_the_worlds(
    deltas_world: BuiltWorld, world_master: Simulation
) -> None:
    opening = world_master.config.start_date - timedelta(days=365)
    prices = w.price_list(world_master.products, world_master.changes)
    prices = prices.assign(valid_from_date=prices["valid_from_date"].fillna(opening))
    want = {
        (r.entity_code, r.sku, r.valid_from_date, r.valid_to_date, round(r.unit_price, 4))
        for r in prices.astype(object).where(prices.notna(), None).itertuples()
    }
    dim = query(
        deltas_world,
        "select entity_code, sku, valid_from_date, valid_to_date, list_price "
        "from marts.dim_product_price",
    )
    got = {
        (
            r.entity_code,
            r.sku,
            r.valid_from_date,
            None if pd.isna(r.valid_to_date) else r.valid_to_date,
            float(r.list_price),
        )
        for r in dim.itertuples()
    }
    assert len(dim) == len(got) and got == want

    p = world_master.products
    ch = world_master.changes
    codes = {
        (system, code, sku, opening)
        for system, column in (
            ("pos", "barcode"),
            ("webshop", "variant_sku"),
            ("marketplace", "marketplace_item_code"),
            ("wms", "wms_item_code"),
        )
        for code, sku in zip(p[column], p["sku"], strict=True)
    }
    codes |= {
        ("pos", w.new_barcode(int(i)), p["sku"].iloc[int(i)], ch.new_barcode_date)
        for i in ch.new_barcode_skus
    }
    crosswalk = query(
        deltas_world,
        "select source_system, source_item_code, sku, valid_from_date, valid_to_date "
        "from intermediate.int_item_cross_references_dated",
    )
    assert crosswalk["valid_to_date"].isna().all()
    mapped = crosswalk[["source_system", "source_item_code", "sku", "valid_from_date"]]
    assert set(mapped.itertuples(index=False, name=None)) == codes
    assert len(crosswalk) == len(codes)


def test_back_dated_price_applies_from_its_effective_date(
    deltas_world: BuiltWorld, world_master: Simulation
) -> None:
    """The price rise the ERP recorded two days late takes effect on its effective date: the
    risen SKUs' list price starts then (not on the day it was recorded), and every sale in
    between was charged the new list price (no price mismatch)."""
    ch = world_master.changes
    (recorded, _), *_ = landed(deltas_world, "erp_price_list_changes")
    assert ch.price_change_date < recorded, "the world's price change is not back-dated"
    risen = "', '".join(world_master.skus[ch.price_change_skus])
    starts = query(
        deltas_world,
        "select distinct valid_from_date from marts.dim_product_price "
        f"where sku in ('{risen}') and valid_from_date > date '{world_master.config.start_date}'",
    )
    assert list(starts["valid_from_date"]) == [ch.price_change_date]
    off_list = query(
        deltas_world,
        "select count(*) as n from marts.fct_sales_lines as sales "
        "inner join marts.dim_product_price as prices on sales.entity_code = prices.entity_code "
        "and sales.sku = prices.sku and sales.business_date >= prices.valid_from_date "
        "and (prices.valid_to_date is null or sales.business_date <= prices.valid_to_date) "
        f"where sales.channel = 'store' and sales.sku in ('{risen}') "
        f"and sales.business_date >= date '{ch.price_change_date}' "
        f"and sales.business_date < date '{recorded}' and sales.unit_price <> prices.list_price",
    )
    assert off_list["n"].iloc[0] == 0
    mismatches = query(
        deltas_world,
        "select count(*) as n from marts.mart_exceptions "
        "where exception_type = 'pos_price_mismatch'",
    )
    assert mismatches["n"].iloc[0] == 0


def test_completeness_expects_no_change_file_nor_the_snapshots_they_replace(
    deltas_world: BuiltWorld, world_master: Simulation
) -> None:
    completeness = query(
        deltas_world,
        "select extract_name, cadence, business_date, is_expected, status, is_complete "
        "from marts.mart_completeness where scope_code is null",
    )
    assert completeness["is_complete"].all()
    start = world_master.config.start_date
    for extract in HISTORIZED:
        rows = completeness[completeness["extract_name"] == extract]
        assert list(rows["business_date"]) == [start] and rows["is_expected"].all(), extract
        changes = completeness[completeness["extract_name"] == CHANGES[extract]]
        delivered = [d for d, _ in landed(deltas_world, CHANGES[extract])]
        assert sorted(changes["business_date"]) == delivered
        assert (changes["cadence"] == "changes").all() and not changes["is_expected"].any()
    # the masters still sent as weekly snapshots stay expected every seventh day
    locations = completeness[completeness["extract_name"] == "erp_locations"]
    days = world_master.config.days
    assert locations["is_expected"].sum() == (days - 1) // 7 + 1
    queue = query(
        deltas_world,
        "select * from marts.mart_exceptions where exception_type = 'missing_delivery'",
    )
    assert queue.empty
