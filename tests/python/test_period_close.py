"""Period close (issue 18): a late event after the close leaves the closed period as it was.

A tiny world of its own (--late-events: one POS file of January delivered on 10 February,
simulation/late_events.py) is built three times into one warehouse, from a copy of the project
whose seed close_calendar finance edits (the tracked seed stays empty):
1. every file but the late one, January open (a full build);
2. January closed for every entity five days before the late file arrives, the late file loaded,
   an incremental build (with the data tests of the ledger, the KPI marts and the books
   reconciliations, which must tie);
3. a full refresh of the ledger and the KPI marts.
January's trial balance and KPI rows are identical in the three; the late file's events post on
its delivery date in February as adjustments naming January, the restatement log holds them at
their truth values, and the KPI marts equal the truth with the late date's store sales moved to
the delivery date.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import PROJECT_ROOT

from ingestion.load import ingest
from simulation import late_events
from simulation.__main__ import generate, parse_args
from simulation.config import WorldConfig

# Two calendar months: 15 January to 13 February 2026 (the late file arrives on 10 February).
CLOSE_WORLD_ARGS = [
    "--seed",
    "23",
    "--scale-factor",
    "0.02",
    "--days",
    "30",
    "--start-date",
    "2026-01-15",
    "--clean",
    "--late-events",
]
PROJECT_PARTS = ("dbt_project.yml", "profiles", "models", "macros", "seeds")
LEDGER_AND_KPIS = [
    "+mart_gl_trial_balance_consolidated",
    "+mart_gl_restatements",
    "+mart_net_sales",
    "+mart_cogs",
]
# The data tests of the close (the seed's, the ledger's, the KPI marts') and the books
# reconciliations, which must tie on a world with a closed period.
CHECKED = [
    "close_calendar",
    "int_late_posting_periods",
    "fct_gl_posting_events",
    "fct_gl_postings",
    "mart_gl_trial_balance",
    "mart_gl_restatements",
    "mart_net_sales",
    "mart_cogs",
    "mart_reconciliation_books",
]
JANUARY = date(2026, 1, 1)
FEBRUARY = date(2026, 2, 1)
# Which load brought a row differs between builds by construction.
LOAD_COLUMNS = ("load_id", "loaded_at")
SALES_ROLES = {"store_clearing", "revenue", "discounts", "returns", "sales_tax_payable"}
SALES_KEY = ["business_date", "entity_code", "location_id", "channel", "sku"]


@dataclass(frozen=True)
class Builds:
    late_date: date
    delivery_date: date
    late_file: str  # relative to the landing zone
    truth: Path
    open_january: dict[str, pd.DataFrame]
    after_close: dict[str, pd.DataFrame]
    full_refresh: dict[str, pd.DataFrame]


def run_dbt(project: Path, warehouse: Path, *args: str) -> None:
    env = os.environ | {"CONCORD_WAREHOUSE": str(warehouse)}
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            *args,
            "--profiles-dir",
            "profiles",
            "--project-dir",
            ".",
            "--target-path",
            str(warehouse.parent / "target"),
            "--log-path",
            str(warehouse.parent / "logs"),
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.fail(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr}")


def relations(warehouse: Path) -> dict[str, pd.DataFrame]:
    """Every relation the test compares, rows in a stable order, load columns left out."""
    names = {
        "trial_balance": "marts.mart_gl_trial_balance",
        "consolidated": "marts.mart_gl_trial_balance_consolidated",
        "postings": "marts.fct_gl_postings",
        "restatements": "marts.mart_gl_restatements",
        "net_sales": "marts.mart_net_sales",
        "cogs": "marts.mart_cogs",
    }
    frames = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for key, relation in names.items():
            columns = [c[0] for c in con.execute(f"select * from {relation} limit 0").description]
            kept = ", ".join(c for c in columns if c not in LOAD_COLUMNS)
            frames[key] = con.execute(f"select {kept} from {relation} order by all").df()
    return frames


def in_period(frame: pd.DataFrame, column: str, period: date) -> pd.DataFrame:
    dates = pd.to_datetime(frame[column]).dt.date
    end = (period + timedelta(days=32)).replace(day=1)
    return frame[(dates >= period) & (dates < end)].reset_index(drop=True)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    root = tmp_path_factory.mktemp("period_close")
    generate(parse_args([*CLOSE_WORLD_ARGS, "--out", str(root)]))
    with (root / "truth" / "late_events.csv").open(newline="") as handle:
        (late,) = list(csv.DictReader(handle))
    late_date = date.fromisoformat(late["business_date"])
    delivery_date = date.fromisoformat(late["delivery_date"])
    (late_path,) = (root / "landing").glob(f"*/{delivery_date}/*_{late_date:%Y%m%d}.csv")
    late_file = late_path.relative_to(root / "landing").as_posix()

    # the project as finance runs it, with a close calendar of its own
    project = root / "project"
    project.mkdir()
    for part in PROJECT_PARTS:
        source = PROJECT_ROOT / part
        if source.is_dir():
            shutil.copytree(source, project / part)
        else:
            shutil.copy2(source, project / part)
    shutil.copytree(PROJECT_ROOT / "tests" / "dbt", project / "tests" / "dbt")

    # 1. every file but the late one; January open
    landing = root / "delivered"
    shutil.copytree(
        root / "landing",
        landing,
        ignore=lambda d, names: [n for n in names if (Path(d) / n) == late_path],
    )
    warehouse = root / "warehouse.duckdb"
    ingest(landing, warehouse)
    run_dbt(project, warehouse, "seed")
    run_dbt(project, warehouse, "run", "--select", *LEDGER_AND_KPIS)
    open_january = relations(warehouse)

    # 2. finance closes January five days before the late file arrives; it arrives
    closed_on = delivery_date - timedelta(days=5)
    assert closed_on > date(2026, 1, 31)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        entities = [
            r[0] for r in con.execute("select entity_code from marts.dim_entity").fetchall()
        ]
    with (project / "seeds" / "close_calendar.csv").open("a", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for entity in entities:
            writer.writerow([entity, JANUARY.isoformat(), closed_on.isoformat()])
    target = landing / late_path.relative_to(root / "landing")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(late_path, target)
    ingest(landing, warehouse)
    run_dbt(project, warehouse, "seed", "--select", "close_calendar")
    # (and dim_product, which the KPI marts' tests refer to)
    run_dbt(
        project,
        warehouse,
        "run",
        "--select",
        *LEDGER_AND_KPIS,
        "+mart_reconciliation_books",
        "+dim_product",
    )
    run_dbt(project, warehouse, "test", "--select", *CHECKED)
    after_close = relations(warehouse)

    # 3. a full refresh from raw and the seed
    run_dbt(project, warehouse, "run", "--full-refresh", "--select", *LEDGER_AND_KPIS)
    full_refresh = relations(warehouse)
    return Builds(
        late_date, delivery_date, late_file, root / "truth", open_january, after_close, full_refresh
    )


def test_the_late_file_is_of_january_and_arrives_after_the_close(builds: Builds) -> None:
    assert builds.late_date.month == 1 and builds.delivery_date.month == 2
    late_lines = builds.after_close["net_sales"]
    assert late_lines["adjusts_period_start_date"].notna().any()
    assert builds.open_january["net_sales"]["adjusts_period_start_date"].isna().all()


@pytest.mark.parametrize("name", ["trial_balance", "consolidated", "net_sales", "cogs"])
def test_closed_period_identical_after_the_late_file_and_a_full_refresh(
    builds: Builds, name: str
) -> None:
    column = "period_start_date" if name in ("trial_balance", "consolidated") else "business_date"
    before = in_period(builds.open_january[name], column, JANUARY)
    assert len(before) > 0
    pd.testing.assert_frame_equal(before, in_period(builds.after_close[name], column, JANUARY))
    pd.testing.assert_frame_equal(before, in_period(builds.full_refresh[name], column, JANUARY))


@pytest.mark.parametrize("name", ["trial_balance", "postings", "restatements", "net_sales", "cogs"])
def test_full_refresh_reproduces_every_period(builds: Builds, name: str) -> None:
    pd.testing.assert_frame_equal(builds.after_close[name], builds.full_refresh[name])


def test_late_events_post_in_february_as_adjustments_naming_january(builds: Builds) -> None:
    postings = builds.after_close["postings"]
    adjustments = postings[postings["adjusts_period_start_date"].notna()]
    assert len(adjustments) > 0
    assert set(pd.to_datetime(adjustments["adjusts_period_start_date"]).dt.date) == {JANUARY}
    assert set(pd.to_datetime(adjustments["posting_date"]).dt.date) == {builds.delivery_date}
    assert set(pd.to_datetime(adjustments["business_date"]).dt.date) == {builds.late_date}
    assert adjustments["journal_id"].str.endswith(f"-adjustment-{builds.delivery_date}").all()
    # February's sales accounts moved by exactly the adjustments (its stock and cost accounts
    # also by the late issues' effect on the moving average of later events: touched_pairs)
    key = ["entity_code", "account_code"]
    movement = ["debit_amount", "credit_amount"]
    before = in_period(builds.open_january["trial_balance"], "period_start_date", FEBRUARY)
    after = in_period(builds.after_close["trial_balance"], "period_start_date", FEBRUARY)
    change = after.set_index(key)[movement].sub(before.set_index(key)[movement], fill_value=0)
    change = (change["debit_amount"] - change["credit_amount"]).astype(float)
    restated = builds.after_close["restatements"].groupby(key)["net_amount"].sum().astype(float)
    both = pd.concat([change.rename("change"), restated.rename("restated")], axis=1).fillna(0)
    roles = after.set_index(key)["account_role"]
    both = both[roles.reindex(both.index).isin(SALES_ROLES)]
    assert (both["restated"] != 0).sum() >= 5
    assert (both["change"] - both["restated"]).abs().max() < 0.005, both


def test_restatement_log_holds_the_late_file_at_its_truth_value(builds: Builds) -> None:
    log = builds.after_close["restatements"]
    assert set(log["source_files"]) == {builds.late_file}
    assert set(pd.to_datetime(log["posting_period_start_date"]).dt.date) == {FEBRUARY}
    by_role = log.pivot_table(
        index="entity_code", columns="account_role", values="net_amount", aggfunc="sum"
    ).astype(float)
    truth_sales = pd.read_csv(builds.truth / "net_sales.csv", dtype={"sku": str})
    day = builds.late_date.isoformat()
    sales = truth_sales[(truth_sales["business_date"] == day) & (truth_sales["channel"] == "store")]
    expected = sales.groupby("entity_code")[["gross_sales", "discounts", "returns"]].sum()
    assert len(expected) > 0
    assert set(by_role.index) == set(expected.index)
    for entity, row in expected.iterrows():
        # revenue is a credit (negative net); discounts and returns are debits
        assert by_role.loc[entity, "revenue"] == pytest.approx(-row["gross_sales"], abs=0.005)
        assert by_role.loc[entity].get("discounts", 0) == pytest.approx(row["discounts"], abs=0.005)
        assert by_role.loc[entity].get("returns", 0) == pytest.approx(row["returns"], abs=0.005)
    # the cost of the late lines (valued when they post, see touched_pairs): the ledger's
    # adjustment equals the COGS mart's adjustment rows
    cogs = builds.after_close["cogs"]
    adjusted = cogs[cogs["adjusts_period_start_date"].notna()]
    mart_cogs = adjusted.groupby("entity_code")["cogs"].sum().astype(float)
    assert (mart_cogs != 0).all()
    pd.testing.assert_series_equal(
        by_role["cogs"].rename("cogs"), mart_cogs.reindex(by_role.index), check_names=False
    )


def touched_pairs(builds: Builds) -> set[tuple[str, str]]:
    """The entity and SKU pairs the late file moves. Its lines are valued when they post (on the
    delivery date, as an ERP values a posting), while the simulation's truth values them when
    they happened: from the late date on, the moving average of these pairs differs from the
    truth by design, so their COGS is compared in units only."""
    events = pd.read_parquet(builds.truth / "events.parquet")
    late = events[
        (pd.to_datetime(events["business_date"]).dt.date == builds.late_date)
        & (events["channel"] == "store")
    ]
    return set(zip(late["entity_code"], late["sku"], strict=True))


def rebucketed(truth: pd.DataFrame, builds: Builds) -> pd.DataFrame:
    """The truth with the late file's rows (the late date's store sales) moved to the delivery
    date, naming the date they belong to: the close rule, computed here from the truth."""
    truth = truth.copy()
    truth["business_date"] = pd.to_datetime(truth["business_date"]).dt.date
    late = (truth["business_date"] == builds.late_date) & (truth["channel"] == "store")
    truth["adjusted_business_date"] = pd.Series([None] * len(truth), dtype=object)
    truth.loc[late, "adjusted_business_date"] = builds.late_date
    truth.loc[late, "business_date"] = builds.delivery_date
    return truth


@pytest.mark.parametrize(
    ("name", "exact", "money"),
    [
        ("net_sales", ["units_sold", "units_returned"], ["gross_sales", "discounts", "net_sales"]),
        ("cogs", ["net_units"], ["cogs"]),
    ],
)
def test_kpi_marts_equal_the_truth_rebucketed_by_the_close(
    builds: Builds, name: str, exact: list[str], money: list[str]
) -> None:
    truth = rebucketed(pd.read_csv(builds.truth / f"{name}.csv", dtype={"sku": str}), builds)
    mart = builds.after_close[name].copy()
    mart["business_date"] = pd.to_datetime(mart["business_date"]).dt.date
    mart["adjusted_business_date"] = [
        None if pd.isna(v) else pd.Timestamp(v).date() for v in mart["adjusted_business_date"]
    ]
    key = [*SALES_KEY, "adjusted_business_date"]
    for frame in (truth, mart):
        frame["adjusted_business_date"] = frame["adjusted_business_date"].astype(str)
    both = truth.merge(mart, on=key, how="outer", suffixes=("_truth", "_mart"), indicator=True)
    assert (both["adjusted_business_date"] == str(builds.late_date)).any()
    bad = both["_merge"] != "both"
    for column in exact:
        bad |= both[f"{column}_truth"] != both[f"{column}_mart"]
    checked = pd.Series(True, index=both.index)
    if name == "cogs":
        pairs = touched_pairs(builds)
        touched = pd.Series(
            [p in pairs for p in zip(both["entity_code"], both["sku"], strict=True)],
            index=both.index,
        )
        checked = ~(touched & (both["business_date"] >= builds.late_date))
        assert checked.sum() > len(both) / 2
    tolerance = 0.0100001 if name == "cogs" else 0.005
    for column in money:
        off = (both[f"{column}_truth"] - both[f"{column}_mart"].astype(float)).abs() > tolerance
        bad |= off & checked
    assert not bad.any(), both[bad].head(20)


def test_late_events_need_a_world_that_reaches_the_delivery() -> None:
    short = WorldConfig(start_date=date(2026, 1, 15), days=20, late_events=True)
    with pytest.raises(ValueError, match="2026-02-10"):
        late_events.plan(short)
    assert late_events.plan(WorldConfig(start_date=date(2026, 1, 15), days=30)) is None
