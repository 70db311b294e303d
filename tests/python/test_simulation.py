"""The simulated world: deterministic, true to the extract contract, honest about its defects,
and with a truth that agrees with the simulation's own event log."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ingestion.contract import FILE_NAME_RE, extract_for_prefix, load_contract
from simulation.__main__ import generate, parse_args
from simulation.audit import ANOMALY_KINDS
from simulation.config import LOSS_KINDS
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


def name_date(path: Path | str) -> date:
    """The business date a landing file's name carries."""
    stamp = FILE_NAME_RE.match(Path(path).name)["business_date"]
    return date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:]))


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
        if column.max_length:
            ok &= present.str.len() <= column.max_length
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
        if not raw and extract.file_format != "jsonl":  # no bytes is no rows in JSON lines
            report["empty_file"].append(name)
            continue
        if extract.file_format != "parquet" and raw and not raw.endswith(b"\n"):
            report["truncated_file"].append(name)
            continue
        frame = read_text_rows(path, extract.file_format)
        if extract.file_format == "jsonl" and frame.empty:
            frame = pd.DataFrame(columns=extract.column_names, dtype=object)
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
    # change records come only from a world sending master data as deltas (test_master_deltas);
    # an on_event extract (opening balances) only from a world that has one to send
    # (--opening-balances; tests/python/test_opening_balances.py)
    optional = {n for n, e in contract.items() if e.cadence in ("changes", "on_event")}
    assert optional and set(seen) == set(contract) - optional
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
    # a re-delivery of one line of garbage has no header the contract knows
    assert (
        set(report["wrong_header"]) == by_kind["wrong_header"] | by_kind["bad_redelivery_garbage"]
    )
    unparseable = m[m["kind"] == "unparseable_value"]
    expected = {
        (r.file, r.detail["row_number"], r.detail["column"], r.detail["value"])
        for r in unparseable.itertuples()
    }
    overlong = m[m["kind"] == "overlong_value"]
    expected |= {
        (r.file, r.detail["row_number"], r.detail["column"], r.detail["value_length"])
        for r in overlong.itertuples()
    }
    found = {
        (file, row, column, len(value) if len(value) > 64 else value)
        for file, row, column, value in report["bad_value"]
    }
    assert found == expected
    assert len(report["bad_value"]) == len(unparseable) + len(overlong)
    assert len(unparseable) > 0 and len(overlong) > 0


def test_every_defect_kind_is_injected_and_counted(defective: Path) -> None:
    from simulation.config import DEFAULT_DEFECT_RATES

    m = manifest(defective)
    counts = m["kind"].value_counts()
    assert set(counts.index) == set(DEFAULT_DEFECT_RATES) | set(ANOMALY_KINDS)
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
    late, far = set(), set()
    for path in landing_files(defective):
        match = FILE_NAME_RE.match(path.name)
        if match and not match["sequence"]:
            lag = (date.fromisoformat(path.parent.name) - name_date(path)).days
            if 0 < abs(lag) <= 30:
                late.add(rel(defective, path))
            elif lag:
                far.add(rel(defective, path))
    assert late == set(m.loc[m["kind"] == "late_file", "file"])
    assert far == set(m.loc[m["kind"] == "far_future_business_date", "file"]) and far
    moved = set()
    copies = set(m.loc[m["kind"].isin(COPY_KINDS), "file"])  # another day's events, by design
    for name, frame in file_frames(defective, "webshop_order_events"):
        if name in copies:
            continue
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


# ----------------------------------------------------------------------------- no silent loss
COPY_KINDS = ["far_future_business_date", "duplicate_content_other_date"]
LOSS_ARGS = [f"--defect-rate={kind}=0" for kind in LOSS_KINDS]


@pytest.fixture(scope="module")
def without_loss(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The defective world as it was before the no-silent-loss kinds existed."""
    return make_world(tmp_path_factory.mktemp("without_loss"), *LOSS_ARGS)


def data_rows(path: Path) -> int:
    """Data rows of a text file (lines, less the header of a delimited file)."""
    lines = path.read_bytes().count(b"\n")
    return lines if path.suffix == ".jsonl" else max(lines - 1, 0)


def deliveries(world: Path) -> dict[tuple[str, date], list[Path]]:
    """Every landing file of an extract, by extract prefix and the business date of its name."""
    found: dict[tuple[str, date], list[Path]] = {}
    for path in landing_files(world):
        match = FILE_NAME_RE.match(path.name)
        if match and extract_for_prefix(match["prefix"]) is not None:
            found.setdefault((match["prefix"], name_date(path)), []).append(path)
    return found


def by_kind(m: pd.DataFrame, kind: str) -> pd.DataFrame:
    rows = m[m["kind"] == kind]
    assert len(rows) > 0, f"the defective world has no {kind}"
    return rows


def test_no_silent_loss_kinds_move_no_other_defect_and_leave_the_truth(
    defective: Path, without_loss: Path
) -> None:
    m, before = manifest(defective), manifest(without_loss)
    assert set(m["kind"]) - set(before["kind"]) == set(LOSS_KINDS)
    kept = m[~m["kind"].isin(LOSS_KINDS)]
    # same defects, same places, same ids; the anomalies, numbered after every defect, in the
    # same places
    defects, anomalies = ~kept["kind"].isin(ANOMALY_KINDS), kept["kind"].isin(ANOMALY_KINDS)
    was_defect, was_anomaly = (
        ~before["kind"].isin(ANOMALY_KINDS),
        before["kind"].isin(ANOMALY_KINDS),
    )
    pd.testing.assert_frame_equal(
        kept[defects].reset_index(drop=True), before[was_defect].reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(
        kept[anomalies].drop(columns="defect_id").reset_index(drop=True),
        before[was_anomaly].drop(columns="defect_id").reset_index(drop=True),
    )
    for name in ("net_sales.csv", "cogs.csv", "inventory_eod.csv", "events.parquet"):
        assert (defective / "truth" / name).read_bytes() == (
            without_loss / "truth" / name
        ).read_bytes(), name
    # the landing zones differ only in the files the new kinds name
    new, old = (
        set(map(lambda p: rel(defective, p), landing_files(defective))),
        set(map(lambda p: rel(without_loss, p), landing_files(without_loss))),
    )
    loss = m[m["kind"].isin(LOSS_KINDS)]
    named = set(loss["file"]) | {d.get("original_file") for d in loss["detail"]} - {None}
    changed = {
        f
        for f in new & old
        if (defective / "landing" / f).read_bytes() != (without_loss / "landing" / f).read_bytes()
    }
    assert (new ^ old) | changed <= named
    assert old - new == set(m.loc[m["kind"] == "missing_daily_file", "file"])


def test_bad_redeliveries_are_exactly_the_manifest(defective: Path) -> None:
    m = manifest(defective)
    contract = load_contract()
    empty, garbage = set(), set()
    for (prefix, _), paths in deliveries(defective).items():
        extract = extract_for_prefix(prefix)
        header = ("\t" if extract.file_format == "tsv" else ",").join(extract.column_names)
        for path in paths:
            if not FILE_NAME_RE.match(path.name)["sequence"] or not path.stat().st_size:
                continue
            lines = path.read_text().splitlines()
            if lines == [header] and any(data_rows(p) > 0 for p in paths):
                empty.add(rel(defective, path))  # no rows where the first delivery had some
            elif len(lines) == 1 and lines[0] != header:
                garbage.add(rel(defective, path))
    for kind, seen in (("bad_redelivery_empty", empty), ("bad_redelivery_garbage", garbage)):
        rows = by_kind(m, kind)
        assert seen == set(rows["file"]), kind
        for r in rows.itertuples():
            d = r.detail
            original = defective / "landing" / d["original_file"]
            assert (
                name_date(original) == name_date(r.file) == date.fromisoformat(d["business_date"])
            )
            assert data_rows(original) == d["rows_of_original"] > 0
            assert d["delivered"] > d["original_delivered"] == original.parent.name
            assert (defective / "landing" / r.file).read_text() == d["content"]
            assert r.extract in contract


def test_missing_and_header_only_files_are_exactly_the_manifest(
    defective: Path, without_loss: Path
) -> None:
    m = manifest(defective)
    sent, would = deliveries(defective), deliveries(without_loss)
    missing = {key for key in would if key not in sent}
    expected = by_kind(m, "missing_daily_file")
    assert missing == {
        (extract_for_prefix(r.extract).file_prefix, date.fromisoformat(r.detail["business_date"]))
        for r in expected.itertuples()
    }
    hollow = set()
    for key, paths in sent.items():
        if key in would and all(data_rows(p) == 0 for p in paths):
            if any(data_rows(p) > 0 for p in would[key]):
                hollow.add(rel(defective, paths[0]))
                assert len(paths) == 1, "a header-only file is never corrected"
    assert hollow == set(by_kind(m, "header_only_daily_file")["file"])
    for r in m[m["kind"].isin(["missing_daily_file", "header_only_daily_file"])].itertuples():
        # the file as it would have been has the rows recorded
        assert data_rows(without_loss / "landing" / r.file) == r.detail["rows"] > 0


def impact_against_truth(world: Path, m: pd.DataFrame) -> int:
    """Check the units and sales a lost file would have carried against the truth; returns
    how many lost files were checked."""
    truth = pd.read_csv(world / "truth" / "net_sales.csv")
    checked = 0
    for r in m[m["kind"].isin(["missing_daily_file", "header_only_daily_file"])].itertuples():
        d = r.detail
        day = truth[truth["business_date"] == d["business_date"]]
        if r.extract == "pos_sales":
            for store in d["per_store"]:
                t = day[(day["location_id"] == store["location_id"]) & (day["channel"] == "store")]
                assert t["units_sold"].sum() == store["units_sold"] > 0
                assert t["units_returned"].sum() == store["units_returned"]
                assert (t["currency_code"] == store["currency_code"]).all()
                for c in ("gross_sales", "discounts", "returns", "net_sales"):
                    # the truth rounds per SKU, the detail per store
                    assert t[c].sum() == pytest.approx(store[c], abs=0.005 * len(t) + 1e-6), c
            stores = {s["location_id"] for s in d["per_store"]}
            assert stores == set(day.loc[day["channel"] == "store", "location_id"])
            checked += 1
        elif r.extract == "marketplace_settlement":
            t = day[day["channel"] == "marketplace"]
            assert set(t["location_id"]) == {d["location_id"]}
            # amounts are in the file's currency (EUR), the truth's in GBP: units must agree
            assert t["units_sold"].sum() == d["units_sold"] > 0
            assert t["units_returned"].sum() == d["units_returned"]
            assert d["net_sales"] == pytest.approx(
                d["gross_sales"] - d["discounts"] - d["returns"], abs=0.011
            )
            checked += 1
        else:
            assert d["events"] == d["rows"] > 0 and d["order_ids"]
    return checked


def test_lost_files_record_the_sales_the_truth_has(defective: Path) -> None:
    assert impact_against_truth(defective, manifest(defective)) >= 2


def test_far_future_and_copied_files_are_exact_copies(defective: Path) -> None:
    m = manifest(defective)
    for r in by_kind(m, "far_future_business_date").itertuples():
        d, copy = r.detail, defective / "landing" / r.file
        original = defective / "landing" / d["copy_of"]
        assert copy.read_bytes() == original.read_bytes()
        assert name_date(original).isoformat() == d["real_date"] == original.parent.name
        assert name_date(copy).isoformat() == d["name_date"]
        assert (name_date(copy) - date.fromisoformat(copy.parent.name)).days >= 365
    # a copy under another date: the bytes of one day's file delivered as a re-delivery of a
    # later date, after that date's own (different) file
    same_bytes: dict[tuple[str, str], set[Path]] = {}
    for (prefix, day), paths in deliveries(defective).items():
        if extract_for_prefix(prefix).cadence == "weekly_snapshot":
            continue  # a snapshot may well repeat the last one
        for path in paths:
            if data_rows(path) and abs((date.fromisoformat(path.parent.name) - day).days) < 30:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                same_bytes.setdefault((prefix, digest), set()).add(path)
    copies = set()
    for paths in same_bytes.values():
        first = min(name_date(p) for p in paths)
        copies |= {rel(defective, p) for p in paths if name_date(p) > first}
    rows = by_kind(m, "duplicate_content_other_date")
    assert copies == set(rows["file"])
    for r in rows.itertuples():
        d, copy = r.detail, defective / "landing" / r.file
        own, original = defective / "landing" / d["own_file"], defective / "landing" / d["copy_of"]
        assert copy.read_bytes() == original.read_bytes()
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == d["sha256"]
        assert own.exists() and own.read_bytes() != copy.read_bytes() and data_rows(own) > 0
        assert name_date(copy) == name_date(own) > name_date(original)
        assert FILE_NAME_RE.match(copy.name)["sequence"] == "2"
        assert copy.parent.name > own.parent.name  # the copy arrives after the real file


def test_negative_quantities_and_overlong_values_are_exactly_the_manifest(
    defective: Path,
) -> None:
    m = manifest(defective)
    negative, overlong = set(), set()
    for name, frame in file_frames(defective, "pos_sales"):
        negative |= {
            (name, int(i) + 1) for i in np.nonzero(frame["quantity"].str.startswith("-"))[0]
        }
        long = frame["receipt_number"].str.len() > 64
        overlong |= {(name, int(i) + 1) for i in np.nonzero(long.to_numpy())[0]}
    rows = {k: by_kind(m, k) for k in ("negative_quantity", "overlong_value")}
    assert negative == {
        (r.file, r.detail["row_number"]) for r in rows["negative_quantity"].itertuples()
    }
    assert overlong == {
        (r.file, r.detail["row_number"]) for r in rows["overlong_value"].itertuples()
    }
    for kind, spoiled in rows.items():
        for r in spoiled.itertuples():
            d = r.detail
            frame = pd.read_csv(defective / "landing" / r.file, dtype=str, keep_default_na=False)
            row = frame.iloc[d["row_number"] - 1].to_dict()
            value = row.pop(d["column"])
            original = dict(d["original_row"])
            assert original.pop(d["column"]) == d["original_value"]
            assert row == original  # only the one value is spoiled, on a sale line
            assert row["transaction_type"] == "sale"
            assert len(value) == d["value_length"] and value.startswith(d["value_prefix"])
            if kind == "negative_quantity":
                assert value == d["value"] == "-" + d["original_value"]
            else:
                assert value.startswith(d["original_value"]) and d["value_length"] >= 1000


def test_freight_invoices_keyed_twice_are_exactly_the_manifest(defective: Path) -> None:
    m = manifest(defective)
    copies = set(m.loc[m["kind"].isin(COPY_KINDS), "file"])
    lines = []
    for name, frame in file_frames(defective, "erp_supplier_invoices"):
        if FILE_NAME_RE.match(Path(name).name)["sequence"] or name in copies:
            continue  # a corrected, duplicate or copied file repeats its original's lines
        charges = frame[frame["line_type"].isin(["freight", "duty"])]
        lines.append(charges.assign(file=name, row_number=charges.index + 1))
    charges = pd.concat(lines, ignore_index=True)
    charges["key"] = charges["invoice_number"].str.replace("-", "")
    same = ["key", "supplier_id", "receipt_number", "line_amount", "currency_code"]
    twice = charges[charges.duplicated(same, keep=False)]
    assert (twice.groupby(same)["invoice_number"].nunique() == 2).all()
    found = {
        (r.invoice_number, r.file, r.row_number)
        for r in twice.itertuples()
        if "-" not in r.invoice_number
    }
    rows = by_kind(m, "duplicate_freight_invoice")
    assert found == {
        (r.detail["invoice_number"], r.file, r.detail["row_number"]) for r in rows.itertuples()
    }
    originals = {
        (r.invoice_number, r.file, r.row_number)
        for r in twice.itertuples()
        if "-" in r.invoice_number
    }
    assert originals == {
        (r.detail["duplicate_of"], r.detail["original_file"], r.detail["original_row_number"])
        for r in rows.itertuples()
    }
    for r in rows.itertuples():
        d = r.detail
        pair = twice[twice["key"] == d["invoice_number"]]
        assert set(pair["line_amount"].astype(float)) == {d["amount"]}
        assert set(pair["receipt_number"]) == {d["receipt_number"]}
        assert set(pair["supplier_id"]) == {d["supplier_id"]}
        assert set(pair["currency_code"]) == {d["currency_code"]}


def test_clean_world_has_no_lost_copied_or_spoiled_file(clean: Path) -> None:
    days = pd.date_range("2026-03-02", periods=28).date
    sent = deliveries(clean)
    for prefix in ("pos_sales", "marketplace_settlement", "webshop_order_events"):
        for day in days:
            paths = sent.get((prefix, day), [])
            assert len(paths) == 1 and data_rows(paths[0]) > 0, (prefix, day)
    for (_, day), paths in sent.items():
        assert len(paths) == 1 and not FILE_NAME_RE.match(paths[0].name)["sequence"]
        assert paths[0].parent.name == day.isoformat() or day < days[0]
    for _, frame in file_frames(clean, "pos_sales"):
        assert not frame["quantity"].str.startswith("-").any()
    invoices = pd.concat([f for _, f in file_frames(clean, "erp_supplier_invoices")])
    charges = invoices[invoices["line_type"] != "goods"]
    assert len(charges) and charges["invoice_number"].str.replace("-", "").is_unique


# ----------------------------------------------------------------------------- rate gaps
def test_rate_holidays_make_gaps_up_to_the_limit_and_no_further() -> None:
    from simulation import fx as rates
    from simulation.config import WorldConfig

    config = WorldConfig(start_date=date(2025, 1, 1), days=4 * 365)
    fx = rates.fx_rates(config, np.random.default_rng(1))
    usd_eur = fx[(fx["from_currency_code"] == "USD") & (fx["to_currency_code"] == "EUR")]
    published = set(usd_eur["rate_date"])
    # Easter 2026: no rates on Good Friday (3 April) and Easter Monday (6 April)
    assert date(2026, 4, 2) in published and date(2026, 4, 7) in published
    assert not {date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 1), date(2026, 12, 25)} & (
        published
    )
    book = rates.RateBook(fx)
    thursday = usd_eur.loc[usd_eur["rate_date"] == date(2026, 4, 2), "exchange_rate"].item()
    assert book.rate(date(2026, 4, 6), "USD", "EUR") == thursday
    gaps = []
    for i in range(config.days):
        day = config.day(i)
        gaps.append(min(k for k in range(10) if day - timedelta(days=k) in published))
    assert max(gaps) == rates.FX_MAX_GAP_DAYS == 4  # a gap at the limit happens, none beyond it
    assert gaps.count(4) >= 4  # every Easter Monday, and some Christmases
    dbt_project = (Path(__file__).resolve().parents[2] / "dbt_project.yml").read_text()
    assert re.search(rf"fx_max_gap_days: {rates.FX_MAX_GAP_DAYS}\b", dbt_project)


# ----------------------------------------------------------------------------- clocks going back
def test_webshop_orders_are_placed_in_the_repeated_hour_of_the_clock_change(
    tmp_path: Path,
) -> None:
    from zoneinfo import ZoneInfo

    from simulation import world as w

    world = tmp_path / "autumn"
    generate(
        parse_args(
            ["--seed", "3", "--scale-factor", "0.03", "--days", "14"]
            + ["--start-date", "2026-10-22", "--out", str(world), "--clean"]
        )
    )
    zone_of = dict(zip(w.LOCATIONS["location_id"], w.LOCATIONS["time_zone"], strict=True))
    seen = {}
    for name, frame in file_frames(world, "webshop_order_events"):
        placed = frame[frame["event_type"] == "placed"]
        for event_at, dc in zip(placed["event_at"], placed["fulfillment_location_id"], strict=True):
            at = pd.Timestamp(event_at).to_pydatetime()
            local = at.astimezone(ZoneInfo(zone_of[dc]))
            assert local.date() == name_date(name)  # every order placed on its file's local date
            first, second = w.repeated_hour(zone_of[dc], local.date()) or (None, None)
            if int(at.timestamp()) in (first, second):
                seen.setdefault((dc, local.date()), set()).add(
                    (local.hour, local.minute, local.fold)
                )
    # Berlin goes back on 25 October, New York on 1 November: both occurrences of half past
    assert seen == {
        ("DC2", date(2026, 10, 25)): {(2, 30, 0), (2, 30, 1)},
        ("DC1", date(2026, 11, 1)): {(1, 30, 0), (1, 30, 1)},
    }


# ----------------------------------------------------------------------------- valuation policy
def test_moving_average_reaverages_on_receipt_and_not_on_issue() -> None:
    ledger = ValuationLedger()
    ledger.receive("E", "A", 10, 100.0, 1)
    assert ledger.issue("E", "A", 4, line_id=1, event_at=2) == 40.0
    ledger.receive("E", "A", 6, 90.0, 3)  # (6 * 10 + 90) / 12
    assert ledger.unit_cost("E", "A") == pytest.approx(12.5)
    assert ledger.issue("E", "A", 3, line_id=2, event_at=4) == 37.5


def test_issues_take_cent_shares_of_the_stock_value_and_the_last_what_remains() -> None:
    ledger = ValuationLedger()
    ledger.receive("E", "A", 3, 10.0, 1)  # worth 10.00, an average of 3.333...
    costs = [ledger.issue("E", "A", 1, line_id=n, event_at=1 + n) for n in (1, 2, 3)]
    # the stock is worth 6.67, 3.33, then nothing: the issues took 10.00 in all
    assert costs == [3.33, 3.34, 3.33]
    assert ledger.position("E", "A").value_cents == 0


def test_a_receipt_re_averages_from_the_stock_value_in_cents() -> None:
    ledger = ValuationLedger()
    ledger.receive("E", "A", 3, 10.0, 1)
    ledger.issue("E", "A", 1, line_id=1, event_at=2)  # 3.33 out, 6.67 left for 2 units
    ledger.receive("E", "A", 1, 3.004, 3)  # posts 3.00
    assert ledger.unit_cost("E", "A") == (667 + 300) / 100 / 3
    assert ledger.position("E", "A").value_cents == 967


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
    with pytest.raises(SystemExit):
        parse_args(["--out", "x", "--master-data", "weekly"])


def test_the_contract_page_is_generated_from_the_contract() -> None:
    from ingestion.contract_docs import render

    page = Path(__file__).resolve().parents[2] / "docs" / "extract_contract.md"
    assert page.read_text() == render(), "run: python -m ingestion.contract_docs > " + str(page)
