"""The simulated world: deterministic, true to the extract contract, honest about its defects,
and with a truth that agrees with the simulation's own event log."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ingestion.contract import FILE_NAME_RE, extract_for_prefix, load_contract
from simulation.__main__ import generate, parse_args
from simulation.valuation import ValuationLedger

UNITS = ["on_hand_units", "reserved_units", "in_transit_units", "quarantined_units"]

ARGS = ["--seed", "7", "--scale-factor", "0.03", "--days", "28", "--start-date", "2026-03-02"]


def make_world(root: Path, *extra: str) -> Path:
    out = root
    generate(parse_args([*ARGS, "--out", str(out), *extra]))
    return out


@pytest.fixture(scope="module")
def defective(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_world(tmp_path_factory.mktemp("defective"))


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_world(tmp_path_factory.mktemp("clean"), "--clean")


def manifest(world: Path) -> pd.DataFrame:
    frame = pd.read_csv(world / "truth" / "defects.csv", dtype=str, keep_default_na=False)
    frame["detail"] = frame["detail"].map(json.loads)
    return frame


def landing_files(world: Path) -> list[Path]:
    return sorted(p for p in (world / "landing").rglob("*") if p.is_file())


def rel(world: Path, path: Path) -> str:
    return path.relative_to(world / "landing").as_posix()


# ----------------------------------------------------------------------------- contract check
def read_text_rows(path: Path, fmt: str) -> pd.DataFrame:
    """Every value as text, as delivered ('' for empty)."""
    if fmt == "parquet":
        frame = pd.read_parquet(path)
        return frame.astype(object).where(frame.notna(), "").astype(str)
    if fmt == "jsonl":
        records = [json.loads(line) for line in path.read_text().splitlines()]
        keys = list(records[0]) if records else []

        def text(v: object) -> str:
            if v is None:
                return ""
            if isinstance(v, (dict, list)):
                return json.dumps(v)
            return str(v).lower() if isinstance(v, bool) else str(v)

        return pd.DataFrame({k: [text(r.get(k)) for r in records] for k in keys}, dtype=object)
    separator = "\t" if fmt == "tsv" else ","
    return pd.read_csv(path, sep=separator, dtype=str, keep_default_na=False)


def violations(extract, frame: pd.DataFrame) -> list[tuple[int, str, str]]:
    """(1-based row, column, value) of every value that breaks the contract."""
    found = []
    for column in extract.columns:
        values = frame[column.name]
        empty = values == ""
        bad = empty if not column.nullable else pd.Series(False, index=values.index)
        present = values[~empty]
        t = column.data_type
        if t in ("integer", "bigint"):
            ok = present.str.fullmatch(r"-?\d+")
        elif t.startswith("decimal"):
            ok = present.str.fullmatch(r"-?\d+(\.\d+)?")
        elif t == "date":
            ok = pd.to_datetime(present, format="%Y-%m-%d", errors="coerce").notna()
        elif t == "timestamp":
            fmt = (
                "%Y-%m-%dT%H:%M:%SZ"
                if column.value_format == "utc_timestamp"
                else "%Y-%m-%d %H:%M:%S"
            )
            if extract.file_format == "parquet":
                fmt = "%Y-%m-%d %H:%M:%S"
            ok = pd.to_datetime(present, format=fmt, errors="coerce").notna()
        elif t == "boolean":
            ok = present.isin(["true", "false", "True", "False"])
        else:
            ok = pd.Series(True, index=present.index)
        if column.accepted_values:
            ok &= present.isin(column.accepted_values)
        bad = bad | (~ok).reindex(values.index, fill_value=False)
        found += [(i + 1, column.name, values.iat[i]) for i in np.nonzero(bad.to_numpy())[0]]
    return found


def check_world(world: Path) -> dict[str, list]:
    """Walk the landing zone the way a reader of the contract would; report every anomaly."""
    contract = load_contract()
    report: dict[str, list] = {
        k: []
        for k in (
            "unknown_file",
            "empty_file",
            "truncated_file",
            "wrong_header",
            "bad_value",
            "files",
        )
    }
    for path in landing_files(world):
        name = rel(world, path)
        match = FILE_NAME_RE.match(path.name)
        extract = extract_for_prefix(match["prefix"]) if match else None
        if extract is None or match["extension"] != extract.extension:
            report["unknown_file"].append(name)
            continue
        raw = path.read_bytes()
        if not raw:
            report["empty_file"].append(name)
            continue
        if extract.file_format != "parquet" and not raw.endswith(b"\n"):
            report["truncated_file"].append(name)
            continue
        frame = read_text_rows(path, extract.file_format)
        if extract.file_format in ("csv", "tsv") and list(frame.columns) != extract.column_names:
            report["wrong_header"].append(name)
            continue
        assert contract[extract.name] is extract
        report["files"].append((name, extract, frame))
        report["bad_value"] += [(name, *v) for v in violations(extract, frame)]
    return report


# ----------------------------------------------------------------------------- tests
def test_same_arguments_give_byte_identical_files(defective: Path, tmp_path: Path) -> None:
    again = make_world(tmp_path / "again")

    def digest(world: Path) -> dict[str, str]:
        files = sorted(p for p in world.rglob("*") if p.is_file())
        return {
            p.relative_to(world).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in files
        }

    first, second = digest(defective), digest(again)
    assert len(first) > 200
    assert first == second


def test_every_extract_is_delivered_in_its_format(clean: Path) -> None:
    seen = {}
    for path in landing_files(clean):
        match = FILE_NAME_RE.match(path.name)
        seen.setdefault(extract_for_prefix(match["prefix"]).name, path.suffix)
    contract = load_contract()
    assert set(seen) == set(contract)
    assert {n for n, s in seen.items() if s == ".parquet"} == {"erp_products", "planning_forecast"}


def test_clean_world_matches_the_contract_everywhere(clean: Path) -> None:
    report = check_world(clean)
    assert report["files"], "no file was checked"
    for kind in ("unknown_file", "empty_file", "truncated_file", "wrong_header", "bad_value"):
        assert report[kind] == [], f"clean world has {kind}: {report[kind][:3]}"
    assert (manifest(clean)).empty


def test_defective_world_breaks_the_contract_only_where_the_manifest_says(defective: Path) -> None:
    report = check_world(defective)
    m = manifest(defective)
    by_kind = {k: set(g["file"]) for k, g in m.groupby("kind")}
    assert set(report["unknown_file"]) == by_kind["unknown_file"]
    assert set(report["empty_file"]) == by_kind["empty_file"]
    assert set(report["truncated_file"]) == by_kind["truncated_file"]
    assert set(report["wrong_header"]) == by_kind["wrong_header"]
    unparseable = m[m["kind"] == "unparseable_value"]
    expected = {
        (r.file, r.detail["row_number"], r.detail["column"], r.detail["value"])
        for r in unparseable.itertuples()
    }
    assert set(report["bad_value"]) == expected
    assert len(report["bad_value"]) == len(unparseable) > 0


def test_every_defect_kind_is_injected_and_counted(defective: Path) -> None:
    from simulation.config import DEFAULT_DEFECT_RATES

    m = manifest(defective)
    counts = m["kind"].value_counts()
    assert set(counts.index) == set(DEFAULT_DEFECT_RATES)
    assert m["defect_id"].is_unique


def file_frames(world: Path, extract: str) -> list[tuple[str, pd.DataFrame]]:
    report = check_world(world)
    return [(name, frame) for name, e, frame in report["files"] if e.name == extract]


def test_duplicate_files_and_lines_are_exactly_the_manifest(defective: Path) -> None:
    m = manifest(defective)
    hashes: dict[tuple, list[str]] = {}
    for path in landing_files(defective):
        match = FILE_NAME_RE.match(path.name)
        if match and path.stat().st_size:
            key = (
                match["prefix"],
                match["business_date"],
                hashlib.sha256(path.read_bytes()).hexdigest(),
            )
            hashes.setdefault(key, []).append(rel(defective, path))
    copies = {sorted(v)[-1] for v in hashes.values() if len(v) > 1}
    assert copies == set(m.loc[m["kind"] == "duplicate_file", "file"])
    found = set()
    for extract in ("pos_sales", "marketplace_settlement"):
        for name, frame in file_frames(defective, extract):
            dup = frame.duplicated(keep="first").to_numpy()
            found |= {(name, int(i) + 1) for i in np.nonzero(dup)[0]}
    expected = {
        (r.file, r.detail["row_number"]) for r in m[m["kind"] == "duplicate_line"].itertuples()
    }
    assert found == expected and found


def test_late_files_and_late_events_are_exactly_the_manifest(defective: Path) -> None:
    m = manifest(defective)
    late = set()
    for path in landing_files(defective):
        match = FILE_NAME_RE.match(path.name)
        if match and not match["sequence"]:
            business = date.fromisoformat(
                f"{match['business_date'][:4]}-"
                f"{match['business_date'][4:6]}-{match['business_date'][6:]}"
            )
            if date.fromisoformat(path.parent.name) != business:
                late.add(rel(defective, path))
    assert late == set(m.loc[m["kind"] == "late_file", "file"])
    moved = set()
    for name, frame in file_frames(defective, "webshop_order_events"):
        file_day = re.search(r"_(\d{8})", name).group(1)
        event_day = frame["event_at"].str[:10].str.replace("-", "")
        moved |= set(frame.loc[event_day < file_day, "event_id"])
    assert moved == {
        d["event_id"] for d in m.loc[m["kind"] == "out_of_order_webshop_event", "detail"]
    }


def test_unknown_codes_and_price_mismatches_are_exactly_the_manifest(defective: Path) -> None:
    m = manifest(defective)
    xref = pd.concat([f for _, f in file_frames(defective, "erp_item_cross_reference")])
    known = set(xref["source_item_code"])
    unknown = set()
    for extract, column in (
        ("pos_sales", "barcode"),
        ("marketplace_settlement", "marketplace_item_code"),
    ):
        for name, frame in file_frames(defective, extract):
            codes = frame[column]
            rows = np.nonzero(((codes != "") & ~codes.isin(known)).to_numpy())[0]
            unknown |= {(name, int(i) + 1) for i in rows}
    assert unknown == {
        (r.file, r.detail["row_number"]) for r in m[m["kind"] == "unknown_item_code"].itertuples()
    }
    prices = pd.concat([f for _, f in file_frames(defective, "erp_price_list")]).drop_duplicates()
    barcode_sku = xref.loc[
        xref["source_system"] == "pos", ["source_item_code", "sku"]
    ].drop_duplicates()
    mismatched = set()
    for name, frame in file_frames(defective, "pos_sales"):
        sales = frame[(frame["transaction_type"] == "sale") & frame["barcode"].isin(known)]
        sales = sales.reset_index().merge(
            barcode_sku, left_on="barcode", right_on="source_item_code"
        )
        day = sales["transaction_local_time"].str[:10]
        store_entity = {
            "NY01": "US01",
            "CH01": "US01",
            "LA01": "US01",
            "BE01": "DE01",
            "MU01": "DE01",
            "LO01": "GB01",
            "MA01": "GB01",
        }
        sales["entity_code"] = sales["pos_store_code"].map(store_entity)
        sales["day"] = day
        merged = sales.merge(prices, on=["entity_code", "sku"], suffixes=("", "_list"))
        valid = (merged["valid_from_date"] <= merged["day"]) & (
            (merged["valid_to_date"] == "") | (merged["valid_to_date"] >= merged["day"])
        )
        merged = merged[valid]
        assert merged["index"].is_unique, "exactly one valid list price per sale line"
        charged = pd.to_numeric(merged["unit_price"], errors="coerce")  # spoiled rows are NaN
        off = merged[charged.notna() & (charged != merged["unit_price_list"].astype(float))]
        mismatched |= {(name, int(i) + 1) for i in off["index"]}
    assert mismatched == {
        (r.file, r.detail["row_number"]) for r in m[m["kind"] == "pos_price_mismatch"].itertuples()
    }


def test_truth_inventory_agrees_with_the_event_log(defective: Path) -> None:
    events = pd.read_parquet(defective / "truth" / "events.parquet")
    truth = pd.read_csv(defective / "truth" / "inventory_eod.csv")
    days = sorted(truth["as_of_date"].unique())
    on_hand = events.groupby(["location_id", "sku", "business_date"])[
        ["on_hand_delta", "quarantined_delta"]
    ].sum()
    transit = events.groupby(["in_transit_location_id", "sku", "business_date"])[
        "in_transit_delta"
    ].sum()
    transit.index.names = ["location_id", "sku", "business_date"]
    daily = on_hand.join(transit, how="outer").fillna(0)
    daily = daily.reset_index()
    daily["business_date"] = daily["business_date"].astype(str)
    grid = pd.MultiIndex.from_product(
        [daily["location_id"].unique(), daily["sku"].unique(), days],
        names=["location_id", "sku", "business_date"],
    )
    running = (
        daily.set_index(["location_id", "sku", "business_date"])
        .reindex(grid, fill_value=0)
        .groupby(level=[0, 1])
        .cumsum()
        .reset_index()
    )
    merged = running.merge(
        truth,
        left_on=["location_id", "sku", "business_date"],
        right_on=["location_id", "sku", "as_of_date"],
        how="outer",
    )
    counts = ["on_hand_delta", "quarantined_delta", "in_transit_delta", *UNITS]
    merged[counts] = merged[counts].fillna(0)
    assert len(merged) > 1000
    assert (merged["on_hand_delta"] == merged["on_hand_units"]).all()
    assert (merged["quarantined_delta"] == merged["quarantined_units"]).all()
    assert (merged["in_transit_delta"] == merged["in_transit_units"]).all()
    assert (truth["on_hand_units"] >= truth["quarantined_units"] + truth["reserved_units"]).all()


def test_truth_sales_and_cogs_agree_with_the_event_log(defective: Path) -> None:
    events = pd.read_parquet(defective / "truth" / "events.parquet")
    sales = pd.read_csv(defective / "truth" / "net_sales.csv")
    cogs = pd.read_csv(defective / "truth" / "cogs.csv")
    issued = events[events["event_type"] == "issue"]
    assert -issued["on_hand_delta"].sum() == sales["units_sold"].sum()
    returned = events[events["event_type"].str.startswith("return_")]
    assert returned["return_units"].sum() == sales["units_returned"].sum()
    assert (
        sales["net_sales"].round(2)
        == (sales["gross_sales"] - sales["discounts"] - sales["returns"]).round(2)
    ).all()
    key = ["business_date", "entity_code", "location_id", "channel", "sku"]
    both = sales.merge(cogs, on=key, how="outer", indicator=True)
    assert (both["_merge"] == "both").all()
    assert (both["net_units"] == both["units_sold"] - both["units_returned"]).all()
    expected = (
        issued["amount"].sum()
        - events.loc[events["event_type"] == "return_restock", "amount"].sum()
    )
    assert cogs["cogs"].sum() == pytest.approx(expected, abs=0.01 * len(cogs))


# ----------------------------------------------------------------------------- valuation policy
def test_moving_average_reaverages_on_receipt_and_not_on_issue() -> None:
    ledger = ValuationLedger()
    ledger.receive("E", "A", 10, 100.0, 1)
    assert ledger.issue("E", "A", 4, line_id=1, event_at=2) == 40.0
    ledger.receive("E", "A", 6, 90.0, 3)  # (6 * 10 + 90) / 12
    assert ledger.unit_cost("E", "A") == pytest.approx(12.5)
    assert ledger.issue("E", "A", 3, line_id=2, event_at=4) == 37.5


def test_moving_average_restarts_at_zero_or_negative_stock() -> None:
    ledger = ValuationLedger()
    ledger.receive("E", "A", 2, 20.0, 1)
    ledger.issue("E", "A", 3, line_id=1, event_at=2)  # stock -1
    ledger.receive("E", "A", 5, 75.0, 3)
    assert ledger.unit_cost("E", "A") == pytest.approx(15.0)
    assert ledger.position("E", "A").units == 4


def test_restocked_return_comes_back_at_its_issue_cost() -> None:
    ledger = ValuationLedger()
    ledger.receive("E", "A", 10, 100.0, 1)
    ledger.issue("E", "A", 2, line_id=9, event_at=2)
    ledger.receive("E", "A", 8, 160.0, 3)  # avg (8*10 + 160) / 16 = 15
    assert ledger.restock_return("E", "A", 1, original_line_id=9, event_at=4) == 10.0
    assert ledger.unit_cost("E", "A") == pytest.approx((16 * 15 + 10) / 17)


def test_issue_before_any_receipt_uses_the_purchase_order_cost() -> None:
    ledger = ValuationLedger(fallback_costs={("E", "A"): 7.25})
    assert ledger.issue("E", "A", 2, line_id=1, event_at=1) == 14.5


def test_events_out_of_timestamp_order_are_refused() -> None:
    ledger = ValuationLedger()
    ledger.receive("E", "A", 1, 1.0, 10)
    with pytest.raises(ValueError, match="out of timestamp order"):
        ledger.issue("E", "A", 1, line_id=1, event_at=5)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--out", "x", "--defect-rate", "nonsense=1"])
    with pytest.raises(ValueError, match="--days"):
        parse_args(["--out", "x", "--days", "3"])


def test_the_contract_page_is_generated_from_the_contract() -> None:
    from ingestion.contract_docs import render

    page = Path(__file__).resolve().parents[2] / "docs" / "extract_contract.md"
    assert page.read_text() == render(), "run: python -m ingestion.contract_docs > " + str(page)
