"""Merchandising: sales and margin by category and product, sell-through, return rate, POS prices
off the list, top movers."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.common import page, table, tiles
from dashboard.semantic import Query

HEADLINE = [
    ("net_sales", "money"),
    ("gross_margin", "money"),
    ("gross_margin_pct", "pct"),
    ("return_rate", "pct"),
]
# Sell-through compares sales with receipts, which have no channel.
SELL_THROUGH = [("units_received", "units"), ("sell_through_pct", "pct")]
NO_CHANNEL = {"time", "entity", "location", "category"}
TOP = 10


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """Column labels of a pivot as one string each ("Net sales EUR")."""
    if frame.columns.nlevels > 1:
        frame.columns = [" ".join(str(part) for part in c) for c in frame.columns]
    return frame


reader, filters = page("Merchandising")
layer = reader.layer
tiles(reader, filters, HEADLINE)
tiles(reader, filters, SELL_THROUGH, use=NO_CHANNEL)
if filters.channels:
    st.caption("Sell-through counts every channel's sales: receipts have no channel.")

net, margin = filters.metric(layer, "net_sales"), filters.metric(layer, "gross_margin")
sales = (net, margin, "gross_margin_pct", "units_sold", "net_units_sold", "return_rate")
money_group = ("legal_entity__functional_currency_code",) if net.endswith("_functional") else ()

st.header("By category")
categories = reader.metric_frame(
    Query(sales, ("product__category", *money_group), filters.mf_where())
)
through = reader.metric_frame(
    Query(("sell_through_pct",), ("product__category",), filters.mf_where(NO_CHANNEL))
)
if not categories.empty:
    st.bar_chart(
        # in functional currency, one bar per currency: amounts are never added across them
        categories.pivot_table(
            index="product__category",
            columns=list(money_group) or None,
            values=[net, margin],
            aggfunc="sum",
        ).pipe(_flat),
        stack=False,
    )
    categories = categories.merge(through, on="product__category", how="left")
table(categories.sort_values(net, ascending=False), "sales_by_category")

st.header("By product")
products = reader.metric_frame(
    Query(
        sales,
        ("product", "product__product_name", "product__category", *money_group),
        filters.mf_where(),
    )
)
st.subheader(f"Top {TOP} movers (net units sold)")
table(products.nlargest(TOP, "net_units_sold"), "top_movers")
table(products.sort_values(net, ascending=False), "sales_by_product")

st.header("POS prices off the list")
where, params = filters.sql_where("first_seen_date", "entity_code", None, "location_id", "sku")
off_list = reader.frame(
    "select first_seen_date as business_date, entity_code, location_id, sku, affected_units, "
    "affected_value_reporting, status, explanation from marts.mart_exceptions "
    f"where exception_type = 'pos_price_mismatch' and {where} order by first_seen_date, sku",
    params,
)
table(
    off_list,
    "pos_prices_off_list",
    "Store sales whose unit price differs from the entity's list price that day "
    "(the exception queue's pos_price_mismatch).",
)
reader.close()
