"""The three KPI marts against the simulation's truth: units exactly, money within 0.01 per row
in functional currency. On a clean world everywhere; on a defective world everywhere except the
rows the defect manifest explains (explained_by below says which rows and why)."""

from __future__ import annotations

import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import BuiltWorld

from ingestion.contract import FILE_NAME_RE
from simulation.audit import LOST_ROWS_KINDS

SALES_KEY = ["business_date", "entity_code", "location_id", "channel", "sku"]
INVENTORY_KEY = ["as_of_date", "location_id", "sku"]
INVENTORY_UNITS = [
    "on_hand_units",
    "reserved_units",
    "in_transit_units",
    "quarantined_units",
    "on_order_units",
]


def query(world: BuiltWorld, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        return con.execute(sql).df()


def truth(world: BuiltWorld, name: str) -> pd.DataFrame:
    frame = pd.read_csv(world.truth / f"{name}.csv", dtype={"sku": str})
    for column in ("business_date", "as_of_date"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


def mart(world: BuiltWorld, name: str) -> pd.DataFrame:
    frame = query(world, f"select * from marts.{name}")
    for column in ("business_date", "as_of_date"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


def net_sales_mismatches(world: BuiltWorld) -> pd.DataFrame:
    both = truth(world, "net_sales").merge(
        mart(world, "mart_net_sales"),
        on=SALES_KEY,
        how="outer",
        suffixes=("_truth", "_mart"),
        indicator=True,
    )
    bad = both["_merge"] != "both"
    for c in ("units_sold", "units_returned"):
        bad |= both[f"{c}_truth"] != both[f"{c}_mart"]
    for c in ("gross_sales", "discounts", "returns", "net_sales"):
        bad |= (both[f"{c}_truth"] - both[f"{c}_mart"].astype(float)).abs() > 0.005
    return both[bad]


def cogs_mismatches(world: BuiltWorld) -> pd.DataFrame:
    both = truth(world, "cogs").merge(
        mart(world, "mart_cogs"),
        on=SALES_KEY,
        how="outer",
        suffixes=("_truth", "_mart"),
        indicator=True,
    )
    bad = (both["_merge"] != "both") | (both["net_units_truth"] != both["net_units_mart"])
    bad |= (both["cogs_truth"] - both["cogs_mart"].astype(float)).abs() > 0.0100001
    return both[bad]


def inventory_mismatches(world: BuiltWorld) -> pd.DataFrame:
    held = mart(world, "mart_available_inventory")
    held = held[(held[INVENTORY_UNITS] != 0).any(axis=1)]
    both = truth(world, "inventory_eod").merge(
        held, on=INVENTORY_KEY, how="outer", suffixes=("_truth", "_mart"), indicator=True
    )
    bad = both["_merge"] != "both"
    for c in INVENTORY_UNITS:
        bad |= both[f"{c}_truth"].fillna(0) != both[f"{c}_mart"].fillna(0)
    return both[bad]


# ----------------------------------------------------------------------------- clean world
def test_clean_world_net_sales_equal_the_truth_row_for_row(clean_world: BuiltWorld) -> None:
    assert len(truth(clean_world, "net_sales")) > 2000
    assert net_sales_mismatches(clean_world).empty


def test_clean_world_cogs_equal_the_truth_row_for_row(clean_world: BuiltWorld) -> None:
    assert len(truth(clean_world, "cogs")) > 2000
    assert cogs_mismatches(clean_world).empty


def test_clean_world_inventory_equals_the_truth_every_day(clean_world: BuiltWorld) -> None:
    assert len(truth(clean_world, "inventory_eod")) > 10000
    assert inventory_mismatches(clean_world).empty


def test_clean_world_on_order_keeps_short_deliveries_open_until_back_ordered_or_closed(
    clean_world: BuiltWorld,
) -> None:
    """The world holds short deliveries whose rest a back-order receipt brings later, lines the
    buyer closes, and over-deliveries; from each line's order to its completion the mart's on
    order at its location and SKU equals the truth, and the rest of a short delivery is still
    on order on the day of the short receipt."""
    lines = query(
        clean_world,
        """
        with received as (
            select
                purchase_order_number,
                purchase_order_line_number,
                count(*) as receipts,
                min(business_date) as first_receipt_date,
                max(business_date) as last_receipt_date,
                sum(received_units) as received_units,
                sum(received_units) filter (where business_date = first_date) as first_units
            from (
                select
                    *,
                    min(business_date) over (
                        partition by purchase_order_number, purchase_order_line_number
                    ) as first_date
                from staging.stg_erp__goods_receipt_lines
            )
            group by purchase_order_number, purchase_order_line_number
        )
        select
            order_lines.ship_to_location_id as location_id,
            order_lines.sku,
            order_lines.ordered_units,
            order_lines.order_date,
            order_lines.line_status,
            order_lines.closed_date,
            received.receipts,
            received.first_receipt_date,
            received.last_receipt_date,
            received.received_units,
            received.first_units
        from staging.stg_erp__purchase_order_lines as order_lines
        inner join received using (purchase_order_number, purchase_order_line_number)
        """,
    )
    for column in ("order_date", "closed_date", "first_receipt_date", "last_receipt_date"):
        lines[column] = pd.to_datetime(lines[column]).dt.date
    short = lines["first_units"] < lines["ordered_units"]
    back_ordered = lines[short & (lines["receipts"] > 1)]
    closed = lines[short & (lines["line_status"] == "closed")]
    over = lines[lines["received_units"] > lines["ordered_units"]]
    assert len(back_ordered) > 0 and len(closed) > 0 and len(over) > 0
    assert (closed["received_units"] < closed["ordered_units"]).all()
    assert (back_ordered["received_units"] == back_ordered["ordered_units"]).all()

    stock = truth(clean_world, "inventory_eod").set_index(INVENTORY_KEY)["on_order_units"]
    held = mart(clean_world, "mart_available_inventory").set_index(INVENTORY_KEY)
    held = held["on_order_units"]
    for kind, frame, end in (
        ("back-ordered", back_ordered, "last_receipt_date"),
        ("closed", closed, "closed_date"),
        ("over-delivered", over, "last_receipt_date"),
    ):
        for line in frame.itertuples():
            days = pd.date_range(line.order_date, getattr(line, end)).date
            keys = [(day, line.location_id, line.sku) for day in days]
            expected = stock.reindex(keys, fill_value=0)
            assert (held.reindex(keys, fill_value=0) == expected).all(), (kind, line)
            if kind != "over-delivered":
                rest = line.ordered_units - line.first_units
                on_short_day = expected[(line.first_receipt_date, line.location_id, line.sku)]
                assert on_short_day >= rest, (kind, line, on_short_day)


def test_clean_world_keeps_unit_prices_and_costs_below_a_cent_and_rounds_each_line(
    clean_world: BuiltWorld,
) -> None:
    """List prices and purchase costs below a whole cent reach the marts at the source's four
    decimals, and each line's gross is units x unit price rounded half away from zero to cents
    (half cents included); the net sales and COGS above equal the truth with them."""
    lines = query(
        clean_world,
        """
        select channel, units, cast(unit_price as varchar) as unit_price, gross_amount
        from marts.fct_sales_lines
        where unit_price * 100 <> floor(unit_price * 100)
        """,
    )
    assert {"store", "webshop"} <= set(lines["channel"])
    exact = [Decimal(p) * int(u) for p, u in zip(lines["unit_price"], lines["units"], strict=True)]
    rounded = [e.quantize(Decimal("0.01"), ROUND_HALF_UP) for e in exact]
    assert any(e * 100 % 1 == Decimal("0.5") for e in exact), "no line at a half cent"
    assert [Decimal(str(g)).quantize(Decimal("0.01")) for g in lines["gross_amount"]] == rounded
    costs = query(
        clean_world,
        """
        select entity_code, count(*) as lines
        from staging.stg_erp__purchase_order_lines
        where unit_cost * 100 <> floor(unit_cost * 100)
        group by entity_code
        """,
    )
    assert set(costs["entity_code"]) == {"US01", "DE01", "GB01"}


def test_clean_world_has_no_unresolved_or_uncosted_rows(clean_world: BuiltWorld) -> None:
    counts = query(
        clean_world,
        """
        select
            (select count(*) from marts.fct_sales_lines where is_unresolved_item) as unresolved,
            (select coalesce(sum(units_without_cost), 0) from marts.mart_cogs) as uncosted
    """,
    )
    assert counts.iloc[0].tolist() == [0, 0]


# ----------------------------------------------------------------------------- defective world
def manifest(world: BuiltWorld) -> pd.DataFrame:
    frame = pd.read_csv(world.truth / "defects.csv", dtype=str, keep_default_na=False)
    frame["detail"] = frame["detail"].map(json.loads)
    return frame


def file_date(file: str) -> date:
    """The business date a landing file covers, from its name."""
    stamp = FILE_NAME_RE.match(Path(file).name)["business_date"]
    return date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8]))


class Explained:
    """Rows of the marts that an injected defect legitimately makes differ from the truth."""

    def __init__(self) -> None:
        self.sales: set[tuple] = set()  # (business_date, location_id, sku): that day's sales
        self.cost_from: dict[str, date] = {}  # sku -> from this date, costs drift (all entities)
        self.stock_from: dict[tuple, date] = {}  # (location_id, sku) -> on hand differs from
        self.stock_between: list[tuple] = []  # (location_id, sku, first, last) on hand differs
        self.reasons: list[str] = []

    def row_defect(self, day: date, location: str, skus: set[str], why: str) -> None:
        """A lost or unresolved sales row: that day's sales of the SKU at the location (and the
        unresolved member there), its stock from then on, and its cost everywhere from then on
        (the entity's units differ, so later averages do; transfers carry them across)."""
        for sku in skus | {"UNRESOLVED"}:
            self.sales.add((day, location, sku))
        for sku in skus:
            self.stock_from[(location, sku)] = min(day, self.stock_from.get((location, sku), day))
            self.cost_from[sku] = min(day, self.cost_from.get(sku, day))
        self.reasons.append(f"{why}: {location} {sorted(skus)} from {day}")

    def sales_row(self, row: pd.Series) -> bool:
        return (row["business_date"], row["location_id"], row["sku"]) in self.sales

    def cost_row(self, row: pd.Series) -> bool:
        start = self.cost_from.get(row["sku"])
        return self.sales_row(row) or (start is not None and row["business_date"] >= start)

    def stock_row(self, row: pd.Series) -> bool:
        key = (row["location_id"], row["sku"])
        if row["sku"] == "UNRESOLVED" or (
            key in self.stock_from and row["as_of_date"] >= self.stock_from[key]
        ):
            return True
        return any(
            loc == key[0] and sku == key[1] and first <= row["as_of_date"] <= last
            for loc, sku, first, last in self.stock_between
        )


def explained_by(world: BuiltWorld) -> Explained:
    """Which mart rows each kind of defect explains, from the manifest and the world's own
    master data (store codes and item codes as the ERP maps them)."""
    lookups = query(
        world,
        """
        select 'store' as kind, pos_store_code as code, location_id as value
        from marts.dim_location where pos_store_code is not null
        union all
        select distinct source_system, source_item_code, sku
        from intermediate.int_item_cross_references_dated
    """,
    )
    store = dict(lookups.loc[lookups["kind"] == "store", ["code", "value"]].values)
    item = {(k, c): v for k, c, v in lookups[["kind", "code", "value"]].values}
    orders = query(
        world, "select order_id, sku from marts.fct_sales_lines where channel = 'marketplace'"
    )
    truth_sales = truth(world, "net_sales")
    explained = Explained()
    for d in manifest(world).itertuples():
        detail = d.detail
        if d.kind in ("unparseable_value", "unknown_item_code"):
            row = detail["row"]
            day = file_date(d.file)
            code_column = "barcode" if d.extract == "pos_sales" else "marketplace_item_code"
            code = detail["original_value"] if detail["column"] == code_column else row[code_column]
            if d.extract == "pos_sales":
                location, skus = store[row["pos_store_code"]], {item[("pos", code)]}
            elif row["row_type"] == "promotion":
                location = "MP1"
                skus = set(orders.loc[orders["order_id"] == row["order_id"], "sku"])
            else:
                location, skus = "MP1", {item[("marketplace", code)]}
            explained.row_defect(day, location, skus, f"{d.defect_id} {d.kind}")
        elif d.kind in ("negative_quantity", "overlong_value"):  # a POS row quarantined
            row = detail["original_row"]
            explained.row_defect(
                file_date(d.file),
                store[row["pos_store_code"]],
                {item[("pos", row["barcode"])]},
                f"{d.defect_id} {d.kind}",
            )
        elif d.kind in LOST_ROWS_KINDS:
            # a whole day of a sales extract never arrives (or a file short of most of its rows,
            # a volume break): every sale of that day there
            day = date.fromisoformat(detail["business_date"])
            # the volume break thins the POS feed (simulation/anomalies.py)
            if d.extract == "pos_sales" or d.kind == "volume_break":
                locations = {s["location_id"] for s in detail["per_store"]}
            elif d.extract == "marketplace_settlement":
                locations = {"MP1"}
            else:
                pytest.fail(f"{d.defect_id}: a lost {d.extract} file is not explained yet")
            sold = truth_sales[truth_sales["business_date"] == day]
            for location in sorted(locations):
                skus = set(sold.loc[sold["location_id"] == location, "sku"])
                explained.row_defect(day, location, skus, f"{d.defect_id} {d.kind}")
        elif d.kind == "late_receipt":
            first = date.fromisoformat(detail["physical_date"])
            last = date.fromisoformat(detail["recorded_date"])
            explained.stock_between.append((detail["location_id"], detail["sku"], first, last))
            explained.cost_from[detail["sku"]] = min(
                first, explained.cost_from.get(detail["sku"], first)
            )
            explained.reasons.append(
                f"{d.defect_id} late_receipt: {detail['location_id']} "
                f"{detail['sku']} {first}..{last}"
            )
    return explained


@pytest.fixture(scope="module")
def explained(defective_world: BuiltWorld) -> Explained:
    return explained_by(defective_world)


def test_defective_world_net_sales_differ_only_where_the_manifest_explains(
    defective_world: BuiltWorld, explained: Explained
) -> None:
    bad = net_sales_mismatches(defective_world)
    unexplained = bad[~bad.apply(explained.sales_row, axis=1)]
    assert unexplained.empty, unexplained.to_string()
    assert not bad.empty, "the injected row defects should show in net sales"


def test_defective_world_cogs_differ_only_where_the_manifest_explains(
    defective_world: BuiltWorld, explained: Explained
) -> None:
    bad = cogs_mismatches(defective_world)
    unexplained = bad[~bad.apply(explained.cost_row, axis=1)]
    assert unexplained.empty, unexplained.to_string()
    rows = mart(defective_world, "mart_cogs")
    # a whole day's POS file lost (two such days) moves the costs of most SKUs of every entity
    # from then on; a quarter of the rows still compare exactly
    assert (~rows.apply(explained.cost_row, axis=1)).sum() > 0.25 * len(rows)


def test_defective_world_inventory_differs_only_where_the_manifest_explains(
    defective_world: BuiltWorld, explained: Explained
) -> None:
    bad = inventory_mismatches(defective_world)
    unexplained = bad[~bad.apply(explained.stock_row, axis=1)]
    assert unexplained.empty, unexplained.to_string()
    assert explained.reasons, "the defective world injected no row-level defect"


def test_unresolved_codes_keep_their_units_and_value(defective_world: BuiltWorld) -> None:
    m = manifest(defective_world)
    unknown = m[m["kind"] == "unknown_item_code"]
    lines = query(
        defective_world,
        "select source_item_code, units, gross_amount from "
        "marts.fct_sales_lines where is_unresolved_item",
    )
    assert len(unknown) > 0
    assert set(lines["source_item_code"]) == {d["value"] for d in unknown["detail"]}
    for d in unknown["detail"]:
        row = d["row"]
        units = int(row["quantity"])
        mine = lines[lines["source_item_code"] == d["value"]]
        assert units in set(mine["units"]), d
