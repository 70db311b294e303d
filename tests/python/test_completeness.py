"""Completeness is checked, not assumed (issue 11): mart_completeness and the exceptions
missing_delivery, held_redelivery and rejected_file, on small clean worlds (seed 21, scale factor
0.05, 25 days from Thursday 2026-01-01).

* The untouched world: every expected date of every extract is complete, and the queue holds no
  completeness exception.
* A tampered copy of its landing zone (one POS file deleted, one POS file cut to its header, one
  webshop file of no bytes, one store's rows taken out of a POS file): each date is incomplete
  with its status, and in the queue as missing_delivery valued at the trailing estimate, the
  average net sales of the same weekday over the previous complete weeks, recomputed here from
  the untouched world's mart_net_sales (which test_kpi_marts holds equal to the truth).
* Held, rejected, unknown and duplicate load_log rows (ingestion's new statuses) inserted into a
  copy of the untouched warehouse: their statuses and exceptions, with their numbers.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import copy_project, dbt

from ingestion.load import ingest
from simulation.__main__ import generate, parse_args

START = date(2026, 1, 1)
DAYS = 25
LAST = START + timedelta(days=DAYS - 1)
WORLD_ARGS = ["--seed", "21", "--scale-factor", "0.05", "--days", str(DAYS), "--clean"]

DELETED_POS = date(2026, 1, 15)  # a Thursday: trailing 2026-01-08, 2026-01-01
HEADER_ONLY_POS = date(2026, 1, 16)  # a Friday: trailing 2026-01-09, 2026-01-02
# the last day: an empty webshop file earlier leaves later events of its orders without their
# placed event, which fails fct_sales_lines' amount tests (reported to the lead)
EMPTY_WEBSHOP = date(2026, 1, 25)  # a Sunday: trailing 2026-01-18, 2026-01-11, 2026-01-04
STORE_DROPPED_POS = date(2026, 1, 20)  # a Tuesday: trailing 2026-01-13, 2026-01-06
DROPPED_STORE = "BE01"
# a Thursday whose file fails (wrong header): trailing 2026-01-08, 2026-01-01, not the missing
# 2026-01-15
FAILED_POS = date(2026, 1, 22)

COMPLETENESS_TYPES = ("missing_delivery", "held_redelivery", "rejected_file")


@dataclass(frozen=True)
class World:
    root: Path
    warehouse: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"


def query(warehouse: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        frame = con.execute(sql).df()
    for column in frame.columns:
        if column.endswith("_date"):
            frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def landing_file(landing: Path, system: str, prefix: str, day: date, extension: str) -> Path:
    return landing / system / day.isoformat() / f"{prefix}_{day:%Y%m%d}.{extension}"


def build(root: Path) -> World:
    warehouse = root / "warehouse.duckdb"
    ingest(root / "landing", warehouse)
    dbt("build", warehouse=warehouse)
    return World(root, warehouse)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("completeness_generated")
    generate(parse_args([*WORLD_ARGS, "--start-date", START.isoformat(), "--out", str(root)]))
    return root


@pytest.fixture(scope="module")
def untouched(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("completeness_untouched")
    shutil.copytree(generated / "landing", root / "landing")
    return build(root)


@pytest.fixture(scope="module")
def tampered(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("completeness_tampered")
    landing = root / "landing"
    shutil.copytree(generated / "landing", landing)
    landing_file(landing, "pos", "pos_sales", DELETED_POS, "csv").unlink()
    header_only = landing_file(landing, "pos", "pos_sales", HEADER_ONLY_POS, "csv")
    header_only.write_bytes(header_only.read_bytes().split(b"\n")[0] + b"\n")
    landing_file(landing, "webshop", "webshop_order_events", EMPTY_WEBSHOP, "jsonl").write_bytes(
        b""
    )
    dropped = landing_file(landing, "pos", "pos_sales", STORE_DROPPED_POS, "csv")
    lines = dropped.read_bytes().split(b"\n")
    kept = [lines[0]] + [line for line in lines[1:] if not line.startswith(b"BE01,")]
    assert len(kept) < len(lines) - 1, "the store sold nothing that day: pick another"
    dropped.write_bytes(b"\n".join(kept))
    failed = landing_file(landing, "pos", "pos_sales", FAILED_POS, "csv")
    failed.write_bytes(failed.read_bytes().replace(b",quantity,", b",qty,", 1))
    return build(root)


def trailing_dates(day: date, incomplete: tuple[date, ...] = ()) -> list[date]:
    """The same weekday of the previous four weeks that the world covers, less those dates
    that were incomplete."""
    days = [day - timedelta(days=7 * k) for k in range(1, 5)]
    return [d for d in days if d >= START and d not in incomplete]


def trailing_net_sales(
    world: World,
    channel: str,
    day: date,
    location: str | None = None,
    incomplete: tuple[date, ...] = (),
) -> Decimal:
    """The average daily net sales (reporting currency) of a channel, or one location of it,
    over the same weekday of the previous weeks (complete ones), rounded to cents half up."""
    where = f"and location_id = '{location}'" if location else ""
    days = trailing_dates(day, incomplete)
    totals = query(
        world.warehouse,
        f"""
        select business_date, sum(net_sales_reporting) as net_sales
        from marts.mart_net_sales
        where channel = '{channel}' {where}
            and business_date in ({", ".join(f"date '{d}'" for d in days)})
        group by business_date
        """,
    )
    by_day = {row.business_date: Decimal(str(row.net_sales)) for row in totals.itertuples()}
    return cents(sum((by_day.get(d, Decimal(0)) for d in days), Decimal(0)) / len(days))


def trailing_rows(world: World, extract: str, day: date, store: str | None = None) -> int:
    days = trailing_dates(day)
    if store:
        counts = query(
            world.warehouse,
            f"""
            select _business_date as business_date, count(*) as row_count
            from raw.{extract} where pos_store_code = '{store}' group by all
            """,
        )
    else:
        counts = query(
            world.warehouse,
            f"""
            select business_date, rows_loaded as row_count from raw.load_log
            where extract_name = '{extract}' and status in ('loaded', 'replaced')
            """,
        )
    by_day = dict(zip(counts["business_date"], counts["row_count"], strict=True))
    average = Decimal(sum(int(by_day[d]) for d in days)) / len(days)
    return int(average.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# ------------------------------------------------------------------------- untouched world


def test_untouched_world_every_expected_delivery_is_complete(untouched: World) -> None:
    completeness = query(untouched.warehouse, "select * from marts.mart_completeness")
    assert completeness["is_complete"].all()
    assert set(completeness["status"]) == {"complete", "empty"}
    # quiet days only where the contract allows them
    assert not completeness[completeness["status"] == "empty"]["expects_rows"].any()
    files = completeness[completeness["scope_code"].isna()]
    per_extract = files.groupby("extract_name")["business_date"].agg(["count", "min", "max"])
    weekdays = sum(1 for k in range(DAYS) if (START + timedelta(days=k)).weekday() < 5)
    assert per_extract.loc["pos_sales"].tolist() == [DAYS, START, LAST]
    assert per_extract.loc["webshop_order_events"].tolist() == [DAYS, START, LAST]
    assert per_extract.loc["erp_fx_rates", "count"] == weekdays
    # weekly snapshots: every seventh day from the first
    assert per_extract.loc["erp_products", "count"] == (DAYS - 1) // 7 + 1
    assert files["is_expected"].all()
    stores = completeness[completeness["extract_name"] == "pos_sales"]["scope_code"].dropna()
    assert stores.nunique() == 7 and len(stores) == 7 * DAYS
    sites = completeness[completeness["extract_name"] == "wms_movements"]["scope_code"].dropna()
    assert set(sites) == {"USJ", "DEH"}
    assert query(
        untouched.warehouse,
        "select distinct business_date from marts.mart_completeness where not is_complete",
    ).empty
    queue = query(untouched.warehouse, "select * from marts.mart_exceptions")
    assert queue[queue["exception_type"].isin(COMPLETENESS_TYPES)].empty


def test_untouched_world_trailing_estimate_is_the_same_weekday_average(untouched: World) -> None:
    day = date(2026, 1, 22)  # a Thursday with three earlier Thursdays
    row = query(
        untouched.warehouse,
        f"""
        select * from marts.mart_completeness
        where extract_name = 'pos_sales' and business_date = date '{day}' and scope_code is null
        """,
    ).iloc[0]
    assert row["trailing_dates_count"] == 3
    assert Decimal(str(row["trailing_net_sales_reporting"])) == trailing_net_sales(
        untouched, "store", day
    )
    assert pd.isna(row["estimated_missing_value_reporting"])


# -------------------------------------------------------------------------- tampered world


def test_tampered_deliveries_are_incomplete_with_their_status(tampered: World) -> None:
    completeness = query(tampered.warehouse, "select * from marts.mart_completeness")
    incomplete = completeness[~completeness["is_complete"]]
    assert set(incomplete["business_date"]) == {
        DELETED_POS,
        HEADER_ONLY_POS,
        EMPTY_WEBSHOP,
        STORE_DROPPED_POS,
        FAILED_POS,
    }
    files = incomplete[incomplete["scope_code"].isna()].set_index(["extract_name", "business_date"])
    assert files["status"].to_dict() == {
        ("pos_sales", DELETED_POS): "missing",
        ("pos_sales", HEADER_ONLY_POS): "empty",
        ("webshop_order_events", EMPTY_WEBSHOP): "empty",
        ("pos_sales", FAILED_POS): "failed",
    }
    assert files.loc[("pos_sales", FAILED_POS), "files_received"] == 1
    assert files.loc[("pos_sales", DELETED_POS), "files_received"] == 0
    assert files.loc[("pos_sales", HEADER_ONLY_POS), "rows_read"] == 0
    stores = incomplete[incomplete["scope_code"].notna()]
    # every store of a missing or empty file, and the one store absent from a delivered file
    assert len(stores[stores["business_date"] == DELETED_POS]) == 7
    assert set(stores[stores["business_date"] == HEADER_ONLY_POS]["status"]) == {"empty"}
    dropped = stores[stores["business_date"] == STORE_DROPPED_POS]
    assert dropped[["scope_code", "status", "rows_loaded"]].values.tolist() == [
        [DROPPED_STORE, "missing", 0]
    ]
    dropped_file = completeness[
        (completeness["business_date"] == STORE_DROPPED_POS)
        & (completeness["extract_name"] == "pos_sales")
        & completeness["scope_code"].isna()
    ].iloc[0]
    assert dropped_file["status"] == "complete" and dropped_file["is_complete"]


def test_tampered_deliveries_are_missing_delivery_exceptions_valued_at_the_trailing_average(
    tampered: World, untouched: World
) -> None:
    queue = query(
        tampered.warehouse,
        "select * from marts.mart_exceptions where exception_type in "
        "('missing_delivery', 'held_redelivery', 'rejected_file')",
    ).set_index("natural_key")
    store_location = query(
        untouched.warehouse,
        f"select location_id from marts.dim_location where pos_store_code = '{DROPPED_STORE}'",
    )["location_id"].iloc[0]
    expected = {
        f"pos_sales|{DELETED_POS}": trailing_net_sales(untouched, "store", DELETED_POS),
        f"pos_sales|{HEADER_ONLY_POS}": trailing_net_sales(untouched, "store", HEADER_ONLY_POS),
        f"webshop_order_events|{EMPTY_WEBSHOP}": trailing_net_sales(
            untouched, "webshop", EMPTY_WEBSHOP
        ),
        f"pos_sales|{STORE_DROPPED_POS}|{DROPPED_STORE}": trailing_net_sales(
            untouched, "store", STORE_DROPPED_POS, store_location
        ),
    }
    # the file that failed is a rejected file, not also a missing delivery; its estimate leaves
    # out the same weekday a week earlier, which was itself incomplete (the deleted file)
    failed_path = f"pos/{FAILED_POS}/pos_sales_{FAILED_POS:%Y%m%d}.csv"
    rejected = queue.loc[failed_path]
    assert rejected["exception_type"] == "rejected_file" and rejected["status"] == "open"
    assert rejected["severity"] == "medium" and rejected["owning_role"] == "integration"
    failed_value = trailing_net_sales(untouched, "store", FAILED_POS, incomplete=(DELETED_POS,))
    assert trailing_dates(FAILED_POS, (DELETED_POS,)) == [date(2026, 1, 8), date(2026, 1, 1)]
    assert Decimal(str(rejected["affected_value_reporting"])) == failed_value
    assert "header column" in rejected["explanation"]
    assert "previous 2 complete weeks" in rejected["explanation"]
    assert f"{failed_value} USD net sales" in rejected["explanation"]
    queue = queue.drop(index=failed_path)
    assert set(queue.index) == set(expected)
    assert (queue["exception_type"] == "missing_delivery").all()
    assert (queue["status"] == "open").all()
    assert (queue["severity"] == "high").all() and (queue["owning_role"] == "integration").all()
    for key, value in expected.items():
        assert value > 0
        assert Decimal(str(queue.loc[key, "affected_value_reporting"])) == value, key
        assert f"{value} USD net sales" in queue.loc[key, "explanation"], key
    assert queue.loc[f"pos_sales|{STORE_DROPPED_POS}|{DROPPED_STORE}", "location_id"] == (
        store_location
    )
    # the rows estimate in the mart, recomputed from the untouched world's loads
    completeness = query(
        tampered.warehouse,
        "select * from marts.mart_completeness where not is_complete",
    )
    deleted = completeness[
        (completeness["business_date"] == DELETED_POS) & completeness["scope_code"].isna()
    ].iloc[0]
    assert deleted["estimated_missing_rows"] == trailing_rows(untouched, "pos_sales", DELETED_POS)
    assert (
        Decimal(str(deleted["estimated_missing_value_reporting"]))
        == expected[f"pos_sales|{DELETED_POS}"]
    )
    store = completeness[
        (completeness["scope_code"] == DROPPED_STORE)
        & (completeness["business_date"] == STORE_DROPPED_POS)
    ].iloc[0]
    assert store["estimated_missing_rows"] == trailing_rows(
        untouched, "pos_sales", STORE_DROPPED_POS, DROPPED_STORE
    )


def test_completeness_findings_warn_and_never_fail_the_build(tampered: World) -> None:
    result = dbt(
        "test", "--select", "assert_expected_deliveries_complete", warehouse=tampered.warehouse
    )
    # 4 file rows, the 7 stores of the deleted, header-only and failed files, and 1 store
    assert result.returncode == 0
    assert "Got 26 results, configured to warn if != 0" in result.stdout


# ---------------------------------------------------- ingestion's held and rejected statuses


def live_load(warehouse: Path, extract: str, day: date) -> pd.Series:
    return query(
        warehouse,
        f"""
        select * from raw.load_log
        where extract_name = '{extract}' and business_date = date '{day}'
            and status in ('loaded', 'replaced')
        order by load_id desc limit 1
        """,
    ).iloc[0]


def file_net_sales(warehouse: Path, source_file: str) -> Decimal:
    value = query(
        warehouse,
        f"""
        select sum(case when is_return then -net_amount_reporting else net_amount_reporting end)
            as net_sales
        from marts.fct_sales_lines where source_file = '{source_file}'
        """,
    )["net_sales"].iloc[0]
    return Decimal(str(value))


@pytest.fixture(scope="module")
def with_ingestion_statuses(
    untouched: World, tmp_path_factory: pytest.TempPathFactory
) -> tuple[World, dict]:
    """A copy of the untouched warehouse with load_log rows of the statuses ingestion is
    gaining, then the controls rebuilt."""
    root = tmp_path_factory.mktemp("completeness_statuses")
    warehouse = root / "warehouse.duckdb"
    shutil.copy(untouched.warehouse, warehouse)
    held_day, partial_day, released_day = date(2026, 1, 11), date(2026, 1, 12), date(2026, 1, 13)
    live_held = live_load(warehouse, "pos_sales", held_day)
    live_partial = live_load(warehouse, "pos_sales", partial_day)
    live_released = live_load(warehouse, "webshop_order_events", released_day)
    live_webshop_9 = live_load(warehouse, "webshop_order_events", date(2026, 1, 9))
    next_id = int(query(warehouse, "select max(load_id) as m from raw.load_log")["m"].iloc[0])
    partial_rows = int(live_partial["rows_loaded"]) // 2
    rows = {
        "held": (
            "pos",
            "pos_sales",
            f"pos/{held_day + timedelta(days=1)}/pos_sales_{held_day:%Y%m%d}_2.csv",
            held_day,
            held_day + timedelta(days=1),
            0,
            0,
            0,
            "held",
            int(live_held["load_id"]),
            "no data rows: the live file stays",
        ),
        "partial": (
            "pos",
            "pos_sales",
            f"pos/{partial_day + timedelta(days=1)}/pos_sales_{partial_day:%Y%m%d}_2.csv",
            partial_day,
            partial_day + timedelta(days=1),
            partial_rows,
            partial_rows,
            0,
            "held",
            int(live_partial["load_id"]),
            "would lose half of the live file's rows",
        ),
        "released": (
            "webshop",
            "webshop_order_events",
            f"webshop/{released_day + timedelta(days=1)}/"
            f"webshop_order_events_{released_day:%Y%m%d}_2.jsonl",
            released_day,
            released_day + timedelta(days=1),
            0,
            0,
            0,
            "held",
            int(live_released["load_id"]),
            "no data rows",
        ),
        "symlink": (
            "pos",
            None,
            "pos/2026-01-14/pos_sales_20260114_3.csv",
            None,
            date(2026, 1, 14),
            0,
            0,
            0,
            "rejected",
            None,
            "a symbolic link, not a regular file",
        ),
        "far_date": (
            "pos",
            "pos_sales",
            "pos/2026-01-14/pos_sales_20200114.csv",
            date(2020, 1, 14),
            date(2026, 1, 14),
            0,
            0,
            0,
            "rejected",
            None,
            "business date 2020-01-14 is 2192 days before the delivery date",
        ),
        "other_date": (
            "webshop",
            "webshop_order_events",
            "webshop/2026-01-10/webshop_order_events_20260110_2.jsonl",
            date(2026, 1, 10),
            date(2026, 1, 10),
            0,
            0,
            0,
            "duplicate",
            int(live_webshop_9["load_id"]),
            "same content as webshop/2026-01-09/webshop_order_events_20260109.jsonl",
        ),
    }
    ids = {}
    with duckdb.connect(str(warehouse)) as con:
        for name, row in rows.items():
            next_id += 1
            ids[name] = next_id
            con.execute(
                """
                insert into raw.load_log (
                    load_id, source_system, extract_name, source_file, business_date,
                    delivery_date, rows_read, rows_loaded, rows_quarantined, status,
                    related_load_id, error_message, loaded_at
                ) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [next_id, *row, datetime(2026, 1, 20, 6, 0)],
            )
        # the owner released the webshop re-delivery: the next ingestion loaded it
        next_id += 1
        ids["release"] = next_id
        con.execute(
            """
            insert into raw.load_log (
                load_id, source_system, extract_name, source_file, business_date, delivery_date,
                rows_read, rows_loaded, rows_quarantined, status, related_load_id, loaded_at
            ) values (?, 'webshop', 'webshop_order_events', ?, ?, ?, 0, 0, 0, 'replaced', ?, ?)
            """,
            [
                next_id,
                rows["released"][2],
                released_day,
                released_day + timedelta(days=1),
                int(live_released["load_id"]),
                datetime(2026, 1, 21, 6, 0),
            ],
        )
    world = World(root, warehouse)
    dbt(
        "build",
        "--select",
        "int_redeliveries_held+",
        "int_deliveries_assessed+",
        warehouse=warehouse,
    )
    context = {
        "rows": rows,
        "ids": ids,
        "live_held": live_held,
        "live_partial": live_partial,
        "partial_rows": partial_rows,
        "released_day": released_day,
    }
    return world, context


def test_held_redeliveries_are_exceptions_with_the_rows_and_value_at_stake(
    with_ingestion_statuses: tuple[World, dict],
) -> None:
    world, context = with_ingestion_statuses
    rows = context["rows"]
    queue = query(
        world.warehouse,
        "select *, md5('held_redelivery|' || natural_key) as expected_id "
        "from marts.mart_exceptions where exception_type = 'held_redelivery'",
    ).set_index("natural_key")
    assert set(queue.index) == {rows[name][2] for name in ("held", "partial", "released")}
    assert (queue["exception_id"] == queue["expected_id"]).all()

    held = queue.loc[rows["held"][2]]
    live = context["live_held"]
    assert held["status"] == "open" and held["severity"] == "high"
    assert Decimal(str(held["affected_value_reporting"])) == cents(
        file_net_sales(world.warehouse, live["source_file"])
    )
    assert f"against {int(live['rows_loaded'])} rows of the live file" in held["explanation"]
    assert f"{int(live['rows_loaded'])} rows at stake" in held["explanation"]

    partial = queue.loc[rows["partial"][2]]
    live = context["live_partial"]
    at_stake = int(live["rows_loaded"]) - context["partial_rows"]
    assert f"{at_stake} rows at stake" in partial["explanation"]
    assert Decimal(str(partial["affected_value_reporting"])) == cents(
        file_net_sales(world.warehouse, live["source_file"]) * at_stake / int(live["rows_loaded"])
    )

    released = queue.loc[rows["released"][2]]
    assert released["status"] == "resolved"
    assert released["resolved_date"] == date(2026, 1, 21)

    completeness = query(
        world.warehouse,
        "select * from marts.mart_completeness where scope_code is null",
    ).set_index(["extract_name", "business_date"])
    held_row = completeness.loc[("pos_sales", rows["held"][3])]
    assert held_row["status"] == "held" and not held_row["is_complete"]
    assert held_row["estimated_missing_rows"] == int(context["live_held"]["rows_loaded"])
    assert completeness.loc[("pos_sales", rows["partial"][3]), "status"] == "held"
    released_row = completeness.loc[("webshop_order_events", context["released_day"])]
    # released: the replaced load is the live file now (it delivered no rows in this test)
    assert released_row["status"] == "empty" and not released_row["is_complete"]
    assert released_row["open_held_files"] == 0


def test_rejected_unknown_and_other_date_duplicates_are_rejected_file_exceptions(
    with_ingestion_statuses: tuple[World, dict],
) -> None:
    world, context = with_ingestion_statuses
    rows = context["rows"]
    queue = query(
        world.warehouse,
        "select * from marts.mart_exceptions where exception_type = 'rejected_file'",
    ).set_index("natural_key")
    expected = {rows[name][2] for name in ("symlink", "far_date", "other_date")}
    assert set(queue.index) == expected
    assert (queue["status"] == "open").all() and (queue["severity"] == "medium").all()
    # a live file of the date stays, or the file has no date of the landing zone: no value lost
    assert queue["affected_value_reporting"].isna().all()
    assert "a symbolic link" in queue.loc[rows["symlink"][2], "explanation"]
    assert "2192 days" in queue.loc[rows["far_date"][2], "explanation"]
    other = queue.loc[rows["other_date"][2], "explanation"]
    assert "(status duplicate): the same content as webshop/2026-01-09/" in other
    assert "of 2026-01-09" in other and "The live file webshop/2026-01-10/" in other
    # the implausible date is no date of the completeness relation
    dates = query(
        world.warehouse, "select min(business_date) as first_date from marts.mart_completeness"
    )
    assert dates["first_date"].iloc[0] == START


# ------------------------------------------- an owner's action answers one occurrence

HELD_AGAIN_DAY = date(2026, 1, 17)
HELD_AGAIN_PATH = (
    f"pos/{HELD_AGAIN_DAY + timedelta(days=1)}/pos_sales_{HELD_AGAIN_DAY:%Y%m%d}_2.csv"
)
# a re-delivery of an earlier date (its live file stays) whose file fails as a whole, twice,
# with different content
FAILED_AGAIN_DAY = date(2026, 1, 16)
FAILED_AGAIN_PATH = (
    f"pos/{HELD_AGAIN_DAY + timedelta(days=1)}/pos_sales_{FAILED_AGAIN_DAY:%Y%m%d}_2.csv"
)
WAIVED_ON = date(2026, 1, 19)  # after the first load (2026-01-18), before the second (-01-22)


def test_an_old_waiver_answers_no_path_held_or_failed_again_with_new_content(
    untouched: World, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """On a copy of the untouched warehouse, with a copy of the project whose seed
    exception_actions the test writes: a POS re-delivery held on 2026-01-18 and another that
    failed as a whole that day, both waived on 2026-01-19, are waived. Each path logged again
    with new content on 2026-01-22, as ingestion logs a path whose content changed (no log row
    is removed), held again and failed again: both are open in the queue, the hold also in
    completeness (each waiver answered its path's first content). Waivers dated on the day
    of the second loads waive both again."""
    root = tmp_path_factory.mktemp("completeness_held_again")
    project = copy_project(root / "project")
    warehouse = root / "warehouse.duckdb"
    shutil.copy(untouched.warehouse, warehouse)
    live = live_load(warehouse, "pos_sales", HELD_AGAIN_DAY)
    held_id = hashlib.md5(f"held_redelivery|{HELD_AGAIN_PATH}".encode()).hexdigest()
    rejected_id = hashlib.md5(f"rejected_file|{FAILED_AGAIN_PATH}".encode()).hexdigest()

    def log(status: str, path: str, content: str, loaded_at: datetime) -> None:
        with duckdb.connect(str(warehouse)) as con:
            next_id = con.execute("select max(load_id) + 1 from raw.load_log").fetchone()[0]
            con.execute(
                """
                insert into raw.load_log (
                    load_id, source_system, extract_name, source_file, business_date,
                    delivery_date, rows_read, rows_loaded, rows_quarantined, status,
                    related_load_id, error_message, content_hash, loaded_at
                ) values (?, 'pos', ?, ?, ?, ?, 0, 0, 0, ?, ?, ?, ?, ?)
                """,
                [
                    next_id,
                    "pos_sales",
                    path,
                    HELD_AGAIN_DAY if status == "held" else FAILED_AGAIN_DAY,
                    HELD_AGAIN_DAY + timedelta(days=1),
                    status,
                    int(live["load_id"]) if status == "held" else None,
                    "no data rows" if status == "held" else "wrong header",
                    content,
                    loaded_at,
                ],
            )

    def waive(exception_id: str, on: date) -> None:
        with (project / "seeds" / "exception_actions.csv").open("a") as handle:
            handle.write(f"{exception_id},waive,the live file is right,integration,{on}\n")

    def build() -> tuple[pd.DataFrame, pd.Series]:
        dbt(
            "build",
            "--select",
            "exception_actions",
            "int_exception_actions_latest",
            "int_redeliveries_held+",
            warehouse=warehouse,
            project=project,
        )
        queue = query(
            warehouse,
            "select * from marts.mart_exceptions "
            "where exception_type in ('held_redelivery', 'rejected_file')",
        ).set_index("exception_id")
        completeness = query(
            warehouse,
            f"""
            select * from marts.mart_completeness
            where extract_name = 'pos_sales' and business_date = date '{HELD_AGAIN_DAY}'
                and scope_code is null
            """,
        ).iloc[0]
        return queue.loc[[held_id, rejected_id]], completeness

    log("held", HELD_AGAIN_PATH, "first", datetime(2026, 1, 18, 6, 0))
    log("failed", FAILED_AGAIN_PATH, "first", datetime(2026, 1, 18, 6, 0))
    waive(held_id, WAIVED_ON)
    waive(rejected_id, WAIVED_ON)
    queue, completeness = build()
    assert list(queue["status"]) == ["waived", "waived"]
    assert list(queue["action_date"]) == [WAIVED_ON, WAIVED_ON]
    assert completeness["open_held_files"] == 0

    # the sender corrects both files: one still short, held again; the other fails again
    log("held", HELD_AGAIN_PATH, "second", datetime(2026, 1, 22, 6, 0))
    log("failed", FAILED_AGAIN_PATH, "second", datetime(2026, 1, 22, 6, 0))
    queue, completeness = build()
    assert list(queue["status"]) == ["open", "open"]
    assert list(queue["raised_date"]) == [date(2026, 1, 22), date(2026, 1, 22)]
    assert queue["action_date"].isna().all() and queue["action_reason"].isna().all()
    assert completeness["status"] == "held" and completeness["open_held_files"] == 1

    # waivers dated on the day of the second loads answer them
    waive(held_id, date(2026, 1, 22))
    waive(rejected_id, date(2026, 1, 22))
    queue, completeness = build()
    assert list(queue["status"]) == ["waived", "waived"]
    assert list(queue["action_date"]) == [date(2026, 1, 22), date(2026, 1, 22)]
    assert completeness["open_held_files"] == 0


# ------------------------------------------------------------------- a late file, replayed

LATE_POS = date(2026, 1, 10)
LATE_ARRIVAL = date(2026, 1, 13)


def test_a_late_file_is_missing_until_it_arrives_then_resolved(
    generated: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A POS file held back by the source: the first build flags its date missing (open, valued
    at the trailing estimate); once it arrives three days late, the next build marks the date
    complete and the exception resolved on the arrival date, not open."""
    root = tmp_path_factory.mktemp("completeness_late")
    landing = root / "landing"
    shutil.copytree(generated / "landing", landing)
    on_time = landing_file(landing, "pos", "pos_sales", LATE_POS, "csv")
    held_back = root / on_time.name
    on_time.rename(held_back)
    world = build(root)
    key = f"pos_sales|{LATE_POS}"

    def state() -> tuple[pd.Series, pd.Series]:
        exception = query(
            world.warehouse,
            f"select * from marts.mart_exceptions where natural_key = '{key}'",
        )
        row = query(
            world.warehouse,
            f"""
            select * from marts.mart_completeness
            where extract_name = 'pos_sales' and business_date = date '{LATE_POS}'
                and scope_code is null
            """,
        )
        assert len(exception) == 1 and len(row) == 1
        return exception.iloc[0], row.iloc[0]

    exception, row = state()
    assert row["status"] == "missing" and not row["is_complete"]
    assert exception["exception_type"] == "missing_delivery" and exception["status"] == "open"
    assert exception["first_seen_date"] == LATE_POS
    estimate = Decimal(str(exception["affected_value_reporting"]))
    assert estimate == cents(Decimal(str(row["trailing_net_sales_reporting"]))) and estimate > 0

    late = landing / "pos" / LATE_ARRIVAL.isoformat() / held_back.name
    held_back.rename(late)
    ingest(landing, world.warehouse)
    dbt("build", warehouse=world.warehouse)
    exception, row = state()
    assert row["status"] == "complete" and row["is_complete"]
    assert row["first_delivery_date"] == LATE_ARRIVAL
    assert exception["status"] == "resolved"
    assert exception["resolved_date"] == LATE_ARRIVAL
    assert exception["first_seen_date"] == LATE_POS
    assert exception["last_seen_date"] == LATE_ARRIVAL - timedelta(days=1)
    assert Decimal(str(exception["affected_value_reporting"])) == estimate
    assert "3 days late" in exception["explanation"]
