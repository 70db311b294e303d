"""Supply chain: available inventory by location and SKU, negative and zero stock, in transit, on
order, days of supply; each entity's network days of supply against the supplier lead time and
the SKUs at risk of a stock-out; receipts and landed cost."""

from __future__ import annotations

import streamlit as st

from dashboard.common import page, table, tiles
from dashboard.semantic import Query

# Positions are semi-additive: the figure of a range is its last day's.
POSITION = [
    ("on_hand_units", "units"),
    ("available_units", "units"),
    ("in_transit_units", "units"),
    ("on_order_units", "units"),
    ("inventory_value", "money"),
    ("days_of_supply", "number"),
]
RECEIPTS = [
    ("units_received", "units"),
    ("landed_value_received", "money"),
    ("receipt_freight_and_duty", "money"),
    ("landed_cost_per_unit_received", "money"),
]
NETWORK = [("network_days_of_supply", "number"), ("stock_out_risk_skus", "units")]
APPLIES = {"time", "entity", "location", "category"}  # inventory and receipts have no channel
BY_ENTITY = {"time", "entity"}  # the network is an entity's: no location or category

reader, filters = page("Supply chain", APPLIES)
layer = reader.layer
tiles(reader, filters, POSITION)

st.header("Position by location")
value = filters.metric(layer, "inventory_value")
money_group = ("legal_entity__functional_currency_code",) if value.endswith("_functional") else ()
names = tuple(filters.metric(layer, m) for m, _ in POSITION)
by_location = reader.metric_frame(
    Query(names, ("location", "location__location_name", *money_group), filters.mf_where())
)
if not by_location.empty:
    st.bar_chart(
        by_location.set_index("location")[["available_units", "in_transit_units", "on_order_units"]]
    )
table(by_location, "position_by_location")

where, params = filters.sql_where(None, "i.entity_code", None, "i.location_id", "i.sku")
as_of = reader.rows(
    "select max(as_of_date) as d from marts.mart_available_inventory where as_of_date <= ?",
    [filters.end],
)[0]["d"]
st.header(f"Stock by location and SKU on {as_of}")
value_column = "inventory_value_reporting" if filters.currency == "reporting" else "inventory_value"
currency_column = "reporting_currency_code" if filters.currency == "reporting" else "currency_code"
stock = reader.frame(
    "select i.location_id, i.sku, p.product_name, p.category, i.on_hand_units, "
    "i.reserved_units, i.quarantined_units, i.in_transit_units, i.on_order_units, "
    f"i.available_units, i.{value_column} as inventory_value, i.{currency_column} as currency, "
    "case when i.available_units < 0 then 'negative' when i.available_units = 0 then 'zero' "
    "else 'positive' end as available_stock "
    "from marts.mart_available_inventory as i "
    "left join marts.dim_product_current as p on i.sku = p.sku "
    f"where i.as_of_date = ? and {where} order by i.available_units, i.location_id, i.sku",
    [as_of, *params],
)
negative, zero = st.columns(2)
negative.metric("SKU-locations with negative available stock", (stock.available_units < 0).sum())
zero.metric("SKU-locations with zero available stock", (stock.available_units == 0).sum())
table(stock, "stock_by_location_and_sku")

st.header(f"Network days of supply and stock-out risk on {as_of}")
tiles(reader, filters, NETWORK, use=BY_ENTITY)
where, params = filters.sql_where(None, "d.entity_code", None, None, None)
risk = reader.frame(
    "select d.entity_code, d.sku, p.product_name, d.on_hand_units, d.available_units, "
    "d.on_order_units, d.forecast_units_next_28_days, d.forecast_daily_units, "
    "d.days_of_supply, d.lead_time_days "
    "from marts.mart_days_of_supply as d "
    "left join marts.dim_product_current as p on d.sku = p.sku "
    f"where d.as_of_date = ? and d.is_stock_out_risk and {where} "
    "order by d.days_of_supply, d.entity_code, d.sku",
    [as_of, *params],
)
table(
    risk,
    "stock_out_risks",
    "Days of supply (available x 28 / the next 28 days' forecast, over all the entity's "
    "locations) under the supplier lead time even counting what is on order.",
)

st.header("Receipts and landed cost")
tiles(reader, filters, RECEIPTS)
received = tuple(filters.metric(layer, m) for m, _ in RECEIPTS)
daily = reader.metric_frame(Query(received, ("metric_time__day", *money_group), filters.mf_where()))
if not daily.empty:
    # in functional currency, one line per currency: amounts are never added across them
    st.line_chart(
        daily.pivot_table(
            index="metric_time__day",
            columns=list(money_group) or None,
            values=received[1],
            aggfunc="sum",
        )
    )
by_location = reader.metric_frame(
    Query(received, ("location", "location__location_name", *money_group), filters.mf_where())
)
table(by_location, "receipts_by_location", "Landed cost: goods plus freight and duty.")
landed = received[1:3]
suppliers = reader.metric_frame(
    Query(landed, ("supplier", "supplier__supplier_name", *money_group), filters.mf_where())
)
table(suppliers, "receipts_by_supplier")
reader.close()
