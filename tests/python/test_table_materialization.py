"""The project's table materialization on DuckDB (macros/table_duckdb.sql): one `create or
replace table` in the model's transaction, in a small dbt project of its own, built again after
each change as a day's build does."""

import subprocess
from pathlib import Path

import duckdb

from tests.python.conftest import PROJECT_ROOT, build_in

PROJECT = """
name: tables
version: "1.0"
profile: tables
models:
  tables:
    +materialized: table
"""
PROFILE = """
tables:
  target: dev
  outputs:
    dev: {{type: duckdb, path: "{warehouse}", threads: 1}}
"""
CONTRACT = """
models:
  - name: locations
    config:
      contract: {enforced: true}
    columns:
      - name: location_id
        data_type: integer
        constraints: [{type: not_null}]
      - name: name
        data_type: varchar
"""


class SmallProject:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.warehouse = root / "warehouse.duckdb"
        (root / "macros").mkdir(parents=True)
        (root / "models").mkdir()
        (root / "dbt_project.yml").write_text(PROJECT)
        (root / "profiles.yml").write_text(PROFILE.format(warehouse=self.warehouse))
        macro = PROJECT_ROOT / "macros" / "table_duckdb.sql"
        (root / "macros" / macro.name).write_text(macro.read_text())
        (root / "models" / "schema.yml").write_text(CONTRACT)

    def model(self, name: str, sql: str) -> None:
        (self.root / "models" / f"{name}.sql").write_text(sql)

    def build(self, *args: str) -> subprocess.CompletedProcess:
        return build_in(self.root, *args)

    def built(self, *args: str) -> None:
        done = self.build(*args)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql).fetchall()

    def relations(self) -> dict[str, str]:
        return dict(
            self.query(
                "select table_name, table_type from information_schema.tables "
                "where table_schema = 'main'"
            )
        )


def test_tables_are_replaced_in_one_statement_and_a_failed_rebuild_keeps_the_last(
    tmp_path: Path,
) -> None:
    """Three builds of two models, as three days' builds: `orders` first a view, then a table,
    then other rows; `locations` with an enforced contract, then a null where it says not null,
    then columns that are not the contract's."""
    small = SmallProject(tmp_path / "tables")
    small.model("orders", "{{ config(materialized='view') }} select 1 as order_id, 10 as cents")
    small.model("locations", "select 7 as location_id, 'Lyon' as name")
    small.built()
    assert small.relations() == {"orders": "VIEW", "locations": "BASE TABLE"}
    # the contract's declared columns and constraint
    assert small.query(
        "select column_name, data_type, is_nullable from information_schema.columns "
        "where table_name = 'locations' order by ordinal_position"
    ) == [("location_id", "INTEGER", "NO"), ("name", "VARCHAR", "YES")]

    # a view of the model's name becomes the table; a null against the contract fails inside
    # the transaction and leaves the last table as it was
    small.model("orders", "select 2 as order_id, 20 as cents")
    small.model("locations", "select cast(null as integer) as location_id, 'Nowhere' as name")
    failed = small.build()
    assert failed.returncode == 1
    assert "NOT NULL constraint failed" in failed.stdout, failed.stdout[-4000:]
    assert small.query("select * from orders") == [(2, 20)]
    assert small.query("select * from locations") == [(7, "Lyon")]

    # a rebuild replaces the rows, in one statement (what ran: target/run/), with no relation
    # left beside (dbt-duckdb's materialization built __dbt_tmp and __dbt_backup); a query whose
    # columns are not the contract's is stopped by dbt's check before any statement
    small.model("orders", "select 3 as order_id, 30 as cents union all select 4, 40")
    small.model("locations", "select 8 as location_id")
    failed = small.build()
    assert failed.returncode == 1
    assert "contract" in failed.stdout.lower(), failed.stdout[-4000:]
    assert sorted(small.query("select * from orders")) == [(3, 30), (4, 40)]
    ran = (small.root / "target" / "run" / "tables" / "models" / "orders.sql").read_text()
    assert "create or replace table" in ran
    assert "rename" not in ran
    assert small.query("select * from locations") == [(7, "Lyon")]
    assert small.relations() == {"orders": "BASE TABLE", "locations": "BASE TABLE"}
