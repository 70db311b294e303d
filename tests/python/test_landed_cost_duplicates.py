"""Each charge counts once (issue 11, item 7; docs/glossary.md, landed cost): a freight or duty
invoice keyed a second time under a differently formatted number stays out of landed cost while
its duplicate-invoice exception is open, and counts once its owner confirms it as genuine (seed
exception_actions, confirm_genuine). On a small clean world (seed 21, scale factor 0.05, 28
days), each step an incremental build of one warehouse, as a day's load would run it:

1. the duplicate arrives in a redelivery of a later day's supplier invoices: COGS and inventory
   equal the simulation's truth exactly (inventory value: the build before the duplicate
   arrived), and the duplicate is in the exception queue with its amount;
2. its owner confirms it (a copy of the project, whose seed is edited): the charge counts, and
   the marts equal those of a world where the same charge came under a number of its own;
3. the confirmation is taken back: the charge is held again, the marts as in step 1.
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
from conftest import SMALL_WORLD_ARGS, BuiltWorld, copy_project, dbt, redeliver
from test_kpi_marts import cogs_mismatches, inventory_mismatches

from ingestion.load import ingest
from simulation.__main__ import generate, parse_args

COGS_KEY = ["business_date", "entity_code", "location_id", "channel", "sku"]
INVENTORY_KEY = ["as_of_date", "location_id", "sku"]


def query(warehouse: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).df()


def charge_lines(landing: Path) -> list[dict[str, str]]:
    """Every freight and duty line the world's ERP delivered, as written."""
    lines = []
    for path in sorted((landing / "erp").glob("*/erp_supplier_invoices_*.csv")):
        with path.open(newline="") as handle:
            lines += [row for row in csv.DictReader(handle) if row["line_type"] != "goods"]
    return lines


def deliver_charge(landing: Path, line: dict[str, str], number: str, day: date) -> Path:
    """`line` again under invoice `number`, dated `day`, in a redelivery of `day`'s invoices."""
    again = line | {"invoice_number": number, "invoice_date": day.isoformat()}
    return redeliver(landing, "erp", "erp_supplier_invoices", day, [again])


@dataclass(frozen=True)
class Scenario:
    world: BuiltWorld
    original: dict[str, str]
    duplicate_number: str
    before_cogs: pd.DataFrame
    before_inventory: pd.DataFrame


def cogs(warehouse: Path) -> pd.DataFrame:
    return query(warehouse, "select * from marts.mart_cogs order by all").set_index(COGS_KEY)


def inventory(warehouse: Path) -> pd.DataFrame:
    return query(warehouse, "select * from marts.mart_available_inventory order by all").set_index(
        INVENTORY_KEY
    )


def generate_world(root: Path) -> BuiltWorld:
    generate(parse_args([*SMALL_WORLD_ARGS, "--out", str(root)]))
    return BuiltWorld(root, root / "warehouse.duckdb")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """The clean small world built, then the largest charge of the world delivered again a day
    later under its number without dashes (F100-000004 -> F100000004), loaded and built."""
    world = generate_world(tmp_path_factory.mktemp("landed_duplicates"))
    ingest(world.landing, world.warehouse)
    dbt("build", warehouse=world.warehouse)
    before_cogs, before_inventory = cogs(world.warehouse), inventory(world.warehouse)

    original = max(charge_lines(world.landing), key=lambda line: float(line["line_amount"]))
    duplicate_number = original["invoice_number"].replace("-", "")
    assert duplicate_number != original["invoice_number"]
    day = date.fromisoformat(original["invoice_date"]) + timedelta(days=1)
    deliver_charge(world.landing, original, duplicate_number, day)
    ingest(world.landing, world.warehouse)
    dbt("build", warehouse=world.warehouse)
    return Scenario(world, original, duplicate_number, before_cogs, before_inventory)


def test_a_duplicate_charge_stays_out_of_landed_cost_and_is_queued(scenario: Scenario) -> None:
    world = scenario.world
    # the duplicate reached the warehouse, and the receipt's charges count the original once
    loaded = query(
        world.warehouse,
        f"""
        select supplier_invoice_number, line_amount
        from staging.stg_erp__supplier_invoice_lines
        where goods_receipt_number = '{scenario.original["receipt_number"]}'
            and line_type = '{scenario.original["line_type"]}'
        order by 1
        """,
    )
    assert sorted(loaded["supplier_invoice_number"]) == sorted(
        [scenario.original["invoice_number"], scenario.duplicate_number]
    )
    # the marts equal the truth, which knows one charge
    assert len(cogs_mismatches(world)) == 0
    assert len(inventory_mismatches(world)) == 0
    # and equal the build before the duplicate arrived, to the cent (inventory value included)
    pd.testing.assert_frame_equal(cogs(world.warehouse), scenario.before_cogs)
    pd.testing.assert_frame_equal(inventory(world.warehouse), scenario.before_inventory)

    queued = query(
        world.warehouse,
        f"""
        select exceptions.*, rates.exchange_rate
        from marts.mart_exceptions as exceptions
        left join intermediate.int_fx_rates_daily as rates
            on rates.rate_date = exceptions.first_seen_date
            and rates.from_currency_code = '{scenario.original["currency_code"]}'
            and rates.to_currency_code = 'USD'
        """,
    )
    # the only exception: the warehouse's inventory still ties to the ERP's GL
    assert list(queued["exception_type"]) == ["duplicate_supplier_invoice"]
    exception = queued.iloc[0]
    assert exception["natural_key"] == (
        f"{scenario.original['supplier_id']}|{scenario.duplicate_number}"
    )
    assert exception["status"] == "open"
    expected_impact = round(
        float(scenario.original["line_amount"]) * float(exception["exchange_rate"]), 2
    )
    assert expected_impact > 0
    assert float(exception["affected_value_reporting"]) == pytest.approx(expected_impact, abs=1e-9)


@dataclass(frozen=True)
class Sandbox:
    """A copy of the project (its seeds may be edited) over a warehouse of its own."""

    project: Path
    warehouse: Path

    def build(self) -> None:
        executable = Path(sys.executable).parent / "dbt"
        result = subprocess.run(
            [str(executable), "build", "--profiles-dir", "profiles", "--project-dir", "."],
            cwd=self.project,
            env=os.environ | {"CONCORD_WAREHOUSE": str(self.warehouse)},
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout[-6000:]


@pytest.fixture(scope="module")
def sandbox(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    root = tmp_path_factory.mktemp("landed_duplicates_sandbox")
    project = copy_project(root / "project")
    warehouse = root / "warehouse.duckdb"
    shutil.copy(scenario.world.warehouse, warehouse)
    return Sandbox(project, warehouse)


@pytest.fixture(scope="module")
def confirmed(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The owner confirms the duplicate as genuine (a row of seed exception_actions in the
    sandbox's project), and the next build, incremental, runs; a copy of its warehouse."""
    exception_id = query(
        sandbox.warehouse,
        "select exception_id from marts.mart_exceptions "
        "where exception_type = 'duplicate_supplier_invoice'",
    )["exception_id"].item()
    with (sandbox.project / "seeds" / "exception_actions.csv").open("a") as handle:
        handle.write(
            f"{exception_id},confirm_genuine,Carrier billed a second shipment,finance,2026-02-02\n"
        )
    sandbox.build()
    kept = tmp_path_factory.mktemp("landed_duplicates_confirmed") / "warehouse.duckdb"
    shutil.copy(sandbox.warehouse, kept)
    return kept


@pytest.fixture(scope="module")
def reference(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What confirmed must equal: the same world, built in one go, where the second charge came
    under a number of its own (no duplicate suspected)."""
    world = generate_world(tmp_path_factory.mktemp("landed_duplicates_reference"))
    day = date.fromisoformat(scenario.original["invoice_date"]) + timedelta(days=1)
    own_number = scenario.original["invoice_number"].replace("-0", "-9", 1)
    assert own_number != scenario.original["invoice_number"]
    deliver_charge(world.landing, scenario.original, own_number, day)
    ingest(world.landing, world.warehouse)
    dbt("build", warehouse=world.warehouse)
    suspected = query(
        world.warehouse,
        "select count(*) as n from marts.mart_exceptions "
        "where exception_type = 'duplicate_supplier_invoice'",
    )["n"].item()
    assert suspected == 0
    return world.warehouse


def test_a_confirmed_duplicate_charge_counts(
    scenario: Scenario, confirmed: Path, reference: Path
) -> None:
    receipt = scenario.original["receipt_number"]
    landed_sql = f"""
        select movement_id, allocated_charge_value
        from intermediate.int_receipt_lines_landed
        where goods_receipt_number = '{receipt}'
        order by movement_id
    """
    held = query(scenario.world.warehouse, landed_sql).set_index("movement_id")
    counted = query(confirmed, landed_sql).set_index("movement_id")
    rate = query(
        confirmed,
        f"""
        select rates.exchange_rate
        from staging.stg_erp__goods_receipt_lines as receipts
        inner join marts.dim_location as locations using (location_id)
        inner join marts.dim_entity as entities using (entity_code)
        inner join intermediate.int_fx_rates_daily as rates
            on rates.rate_date = receipts.business_date
            and rates.from_currency_code = '{scenario.original["currency_code"]}'
            and rates.to_currency_code = entities.functional_currency_code
        where receipts.goods_receipt_number = '{receipt}'
        limit 1
        """,
    )["exchange_rate"].item()
    allocated = float(scenario.original["line_amount"]) * float(rate)
    # the receipt's lines now carry the charge twice: once more, allocated by goods value
    added = counted["allocated_charge_value"] - held["allocated_charge_value"]
    assert added.sum() == pytest.approx(allocated, abs=1e-6)
    assert (added >= 0).all() and (added > 0).any()

    # the marts equal those of the world where the second charge had its own number, exactly
    pd.testing.assert_frame_equal(cogs(confirmed), cogs(reference))
    pd.testing.assert_frame_equal(inventory(confirmed), inventory(reference))

    # COGS rose, on rows of the receipt's SKUs only (a row of restocked returns takes some back),
    # by no more than the charge (the rest is still in stock)
    after, before = cogs(confirmed), cogs(scenario.world.warehouse)
    assert after.index.equals(before.index)
    delta = after["cogs"].astype(float) - before["cogs"].astype(float)
    changed = delta[delta.abs() > 0]
    skus = set(
        query(
            confirmed,
            f"select sku from staging.stg_erp__goods_receipt_lines "
            f"where goods_receipt_number = '{receipt}'",
        )["sku"]
    )
    assert len(changed) > 0
    assert set(changed.index.get_level_values("sku")) <= skus
    assert (changed > 0).sum() > (changed < 0).sum()
    assert 0 < changed.sum() <= allocated + 0.01 * len(changed)

    # the exception stays in the queue, confirmed (out of the open queue), with its impact and
    # the owner's decision
    exception = query(
        confirmed,
        "select * from marts.mart_exceptions where exception_type = 'duplicate_supplier_invoice'",
    ).iloc[0]
    assert exception["status"] == "confirmed"
    assert exception["action_reason"] == "Carrier billed a second shipment"
    assert float(exception["affected_value_reporting"]) > 0


def test_a_confirmation_taken_back_holds_the_charge_again(
    scenario: Scenario, sandbox: Sandbox, confirmed: Path
) -> None:
    """The confirmation row is removed from the seed: the next build, incremental, holds the
    charge again, and the marts are those before the confirmation, to the cent."""
    seed = sandbox.project / "seeds" / "exception_actions.csv"
    lines = seed.read_text().splitlines()
    seed.write_text("\n".join(line for line in lines if "confirm_genuine" not in line) + "\n")
    sandbox.build()
    assert not cogs(sandbox.warehouse).equals(cogs(confirmed))
    pd.testing.assert_frame_equal(cogs(sandbox.warehouse), cogs(scenario.world.warehouse))
    pd.testing.assert_frame_equal(inventory(sandbox.warehouse), inventory(scenario.world.warehouse))
    assert len(cogs_mismatches(BuiltWorld(scenario.world.root, sandbox.warehouse))) == 0
