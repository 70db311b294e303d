"""The wholesale channel and the channel seed, on the shared clean world (wholesale is on in
every simulated world): its figures per entity equal the truth, it needs no cross-reference,
it is priced as negotiated without price-mismatch exceptions, it posts to trade receivables and
reconciles with the ERP, and dim_channel is the channels seed."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
from conftest import PROJECT_ROOT, BuiltWorld, dbt

from ingestion.contract import load_contract

SALES_FIGURES = ["units_sold", "units_returned", "gross_sales", "discounts", "returns", "net_sales"]


def query(world: BuiltWorld, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        return con.execute(sql).df()


def truth(world: BuiltWorld, name: str) -> pd.DataFrame:
    return pd.read_csv(world.truth / f"{name}.csv", dtype={"sku": str})


def per_channel(frame: pd.DataFrame, figures: list[str]) -> pd.DataFrame:
    keys = ["channel", "entity_code", "currency_code"]
    totals = frame[[*keys, *figures]].astype({f: float for f in figures})
    return totals.groupby(keys).sum().round(2).sort_index()


def test_net_sales_and_cogs_per_channel_equal_the_truth(clean_world: BuiltWorld) -> None:
    true_sales = truth(clean_world, "net_sales")
    wholesale = true_sales[true_sales["channel"] == "wholesale"]
    # the simulated world sells and credits wholesale in both entities with a DC
    assert set(wholesale["entity_code"]) == {"US01", "DE01"}
    assert wholesale["units_returned"].sum() > 0 and wholesale["discounts"].sum() > 0
    mart_sales = query(
        clean_world,
        "select channel, entity_code, currency_code, "
        + ", ".join(SALES_FIGURES)
        + " from marts.mart_net_sales",
    )
    pd.testing.assert_frame_equal(
        per_channel(mart_sales, SALES_FIGURES), per_channel(true_sales, SALES_FIGURES)
    )
    cogs = ["net_units", "cogs"]
    mart_cogs = query(
        clean_world,
        "select channel, entity_code, currency_code, net_units, cogs from marts.mart_cogs",
    )
    pd.testing.assert_frame_equal(
        per_channel(mart_cogs, cogs), per_channel(truth(clean_world, "cogs"), cogs)
    )


def test_wholesale_needs_no_cross_reference(clean_world: BuiltWorld) -> None:
    counts = query(
        clean_world,
        """
        select
            (select count(*) from marts.fct_sales_lines where channel = 'wholesale') as lines,
            (select count(*) from marts.fct_sales_lines
             where channel = 'wholesale' and (is_unresolved_item or sku <> source_item_code))
                as not_the_code,
            (select count(*) from intermediate.int_item_cross_references_dated
             where source_system = 'erp') as erp_mappings,
            (select count(*) from marts.mart_exceptions
             where exception_type = 'unresolved_item_code' and source_system = 'erp')
                as unresolved_exceptions
    """,
    ).iloc[0]
    assert counts["lines"] > 100
    assert counts[["not_the_code", "erp_mappings", "unresolved_exceptions"]].tolist() == [0, 0, 0]


def test_wholesale_is_sold_at_negotiated_prices_without_price_exceptions(
    clean_world: BuiltWorld,
) -> None:
    lines = query(
        clean_world,
        """
        select sales.sales_line_id, sales.unit_price, prices.list_price
        from marts.fct_sales_lines as sales
        inner join marts.dim_product_price as prices
            on sales.entity_code = prices.entity_code and sales.sku = prices.sku
            and sales.business_date >= prices.valid_from_date
            and (prices.valid_to_date is null or sales.business_date <= prices.valid_to_date)
        where sales.channel = 'wholesale' and not sales.is_return
    """,
    )
    assert len(lines) > 100
    assert (lines["unit_price"] < lines["list_price"]).all()
    flagged = query(
        clean_world,
        "select natural_key from marts.mart_exceptions where exception_type = 'pos_price_mismatch'",
    )
    assert not set(flagged["natural_key"]) & set(lines["sales_line_id"])


def test_wholesale_posts_to_trade_receivables_and_reconciles(clean_world: BuiltWorld) -> None:
    posted = query(
        clean_world,
        """
        with charged as (
            select entity_code, sum(case when is_return then -1 else 1 end
                * (net_amount_functional + tax_amount_functional)) as charged
            from marts.fct_sales_lines where channel = 'wholesale' group by entity_code
        ),
        receivable as (
            select postings.entity_code, sum(postings.debit_amount - postings.credit_amount)
                as posted
            from marts.fct_gl_postings as postings
            inner join marts.dim_account as accounts
                on postings.account_code = accounts.account_code
            where postings.channel = 'wholesale' and accounts.account_role = 'accounts_receivable'
            group by postings.entity_code
        )
        select charged.entity_code, charged.charged, receivable.posted
        from charged left join receivable using (entity_code)
    """,
    )
    assert len(posted) == 2
    assert (posted["charged"] == posted["posted"]).all(), posted.to_string()
    statuses = query(
        clean_world,
        "select status, count(*) as n from marts.mart_reconciliation_channel_orders "
        "where channel = 'wholesale' group by status",
    )
    status = dict(zip(statuses["status"], statuses["n"], strict=True))
    assert status.get("pass", 0) > 10 and "break" not in status, status


def test_dim_channel_is_the_channel_seed(clean_world: BuiltWorld) -> None:
    seed = pd.read_csv(PROJECT_ROOT / "seeds" / "channels.csv", dtype=str, keep_default_na=False)
    chart = pd.read_csv(PROJECT_ROOT / "seeds" / "chart_of_accounts.csv", dtype=str)
    code = dict(zip(chart["account_role"], chart["account_code"], strict=True))
    dim = query(clean_world, "select * from marts.dim_channel").set_index("channel").sort_index()
    seed = seed.set_index("channel").sort_index()
    assert list(dim.index) == list(seed.index)
    for column in (
        "channel_name",
        "channel_kind",
        "source_system",
        "source_extract",
        "owning_team",
    ):
        assert dim[column].tolist() == seed[column].tolist(), column
    assert dim["clearing_account_code"].tolist() == [code[r] for r in seed["clearing_account_role"]]
    uses_erp = seed["item_code_scheme"] == "erp_item_code"
    assert dim["uses_erp_item_code"].tolist() == uses_erp.tolist()
    assert dim["checks_list_price"].tolist() == (seed["checks_list_price"] == "true").tolist()
    # every channel that sold is a channel of the seed, and every channel of the seed sold
    sold = query(clean_world, "select distinct channel from marts.fct_sales_lines")
    assert set(sold["channel"]) == set(seed.index)


def test_a_retailer_without_wholesale_misses_no_delivery(
    clean_world: BuiltWorld, tmp_path: Path
) -> None:
    """The contract marks erp_sales_orders optional: with no file ever delivered (the landing
    zone of a retailer without B2B), completeness expects none and raises no missing delivery;
    the same world with its files expects one every day."""
    assert load_contract()["erp_sales_orders"].optional
    sql = """
        select
            (select count(*) from intermediate.int_deliveries_assessed
             where extract_name = 'erp_sales_orders' and is_expected) as expected,
            (select count(*) from intermediate.int_exceptions__missing_deliveries
             where natural_key like 'erp_sales_orders|%') as missing
    """
    delivered = query(clean_world, sql).iloc[0]
    assert delivered["expected"] > 30 and delivered["missing"] == 0
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(clean_world.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from raw.load_log where extract_name = 'erp_sales_orders'")
        con.execute("delete from raw.erp_sales_orders")
    dbt(
        "run",
        "--select",
        "int_deliveries_assessed int_exceptions__missing_deliveries",
        warehouse=warehouse,
    )
    absent = query(BuiltWorld(tmp_path, warehouse), sql).iloc[0]
    assert absent.tolist() == [0, 0]
