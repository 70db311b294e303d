"""Exceptions: the queue by owner, severity and SLA (overdue first), each with its explanation and
impact, waivers and acknowledgements, drill-down to the rows behind it (an anomaly's: the sales,
returns, movements or network positions of the dates it names)."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from dashboard.common import format_value, page, table, tiles
from dashboard.semantic import where_in

APPLIES = {"entity", "location"}  # the queue is the state as of the publication, not a range
OPEN = ("open", "acknowledged")
RETURN_RATES = ("return_rate_outlier", "sku_return_rate_outlier", "customer_return_rate_outlier")
WEEK = timedelta(days=6)  # a flagged week ends on its date: its sales start six days before


def key_match(prefix: str) -> str:
    """SQL matching an exception's entity, location and SKU where it names them (3 x 2 params)."""
    return (
        f"(? is null or {prefix}entity_code = ?) and (? is null or {prefix}location_id = ?) "
        f"and (? is null or {prefix}sku = ?)"
    )


COLUMNS = (
    "priority, exception_id, exception_type, severity, owning_role, status, entity_code, "
    "location_id, sku, source_system, affected_units, affected_value_reporting, "
    "first_seen_date, sla_due_date, explanation, action_reason, action_actor, action_date"
)

reader, filters = page("Exceptions", APPLIES)
as_of = reader.publication.last_business_date
options = reader.rows(
    "select list(distinct owning_role order by owning_role) as owners, "
    "list(distinct severity order by severity) as severities, "
    "list(distinct status order by status) as statuses from marts.mart_exceptions"
)[0]
with st.sidebar:
    owners = st.multiselect("Owner", options["owners"] or [], key="owner", placeholder="All")
    severities = st.multiselect(
        "Severity", options["severities"] or [], key="severity", placeholder="All"
    )
extra = []
if owners:
    extra.append(where_in("Dimension('exception__owning_role')", owners))
if severities:
    extra.append(where_in("Dimension('exception__severity')", severities))
tiles(
    reader,
    filters,
    [("open_exceptions", "units"), ("open_exception_impact", "money")],
    use=APPLIES,
    where=extra,
)

where, params = filters.sql_where(None, "entity_code", None, "location_id")
for column, values in (("owning_role", owners), ("severity", severities)):
    if values:
        where += f" and {column} in ({', '.join('?' for _ in values)})"
        params += list(values)
queue = reader.frame(
    f"select {COLUMNS}, status in ('open', 'acknowledged') and sla_due_date < ? as overdue "
    f"from marts.mart_exceptions where {where} "
    "order by status in ('open', 'acknowledged') desc, "
    "(status in ('open', 'acknowledged') and sla_due_date < ?) desc, priority",
    [as_of, *params, as_of],
)
open_queue = queue[queue.status.isin(OPEN)]
st.metric(f"Open and overdue on {as_of}", format_value(int(open_queue.overdue.sum()), "units"))

st.header("The queue")
if not open_queue.empty:
    st.bar_chart(
        open_queue.pivot_table(
            index="owning_role", columns="severity", values="exception_id", aggfunc="count"
        )
    )
table(open_queue, "open_exceptions", "Open and acknowledged, overdue first, then by priority.")

st.header("Waivers and acknowledgements")
decided = queue[queue.action_reason.notna()]
table(decided, "exception_decisions", "The owners' decisions (seed exception_actions).")

st.header("Closed")
table(queue[~queue.status.isin(OPEN) & queue.action_reason.isna()], "closed_exceptions")

st.header("Drill-down")
labels = {
    f"#{r.priority} {r.exception_type} {r.natural_key}": r.exception_id
    for r in reader.frame(
        f"select priority, exception_type, natural_key, exception_id from marts.mart_exceptions "
        f"where {where} order by priority",
        params,
    ).itertuples()
}
choice = st.selectbox("Exception", list(labels), key="drill", index=None)
if choice:
    row = reader.rows(
        "select * from marts.mart_exceptions where exception_id = ?", [labels[choice]]
    )[0]
    st.write(row["explanation"])
    kind = row["exception_type"]
    span = [row["first_seen_date"], row["last_seen_date"] or row["first_seen_date"]]
    keys = [row["entity_code"], row["location_id"], row["sku"]]
    match = key_match("")
    key_params = [keys[0], keys[0], keys[1], keys[1], keys[2], keys[2]]
    if kind.endswith("_break"):
        behind = reader.frame(
            "select * from marts.mart_reconciliations where reconciliation_name = ? "
            f"and comparison_date between ? and ? and {match} and status = 'break' "
            "order by comparison_date",
            [kind.removesuffix("_break"), *span, *key_params],
        )
    elif kind in ("pos_price_mismatch", "unresolved_item_code", "late_event"):
        behind = reader.frame(
            "select * from marts.fct_sales_lines where business_date between ? and ? "
            f"and {match} and (? is null or source_system = ?) order by business_date limit 500",
            [*span, *key_params, row["source_system"], row["source_system"]],
        )
    elif kind == "stock_out_risk":  # the network positions of the risk dates
        behind = reader.frame(
            "select * from marts.mart_days_of_supply where as_of_date between ? and ? "
            "and entity_code = ? and sku = ? order by as_of_date",
            [*span, keys[0], keys[2]],
        )
    elif kind in RETURN_RATES:  # the returns of the subject's sales in the flagged weeks
        subject = row["natural_key"].split("|")[0]
        behind = reader.frame(
            "select returns.* from marts.fct_sales_lines as returns "
            "inner join marts.fct_sales_lines as sales "
            "on returns.original_sales_line_id = sales.sales_line_id "
            "where sales.business_date between ? and ? and returns.entity_code = ? "
            "and sales.channel in (select channel from marts.dim_channel "
            "where channel_kind = 'retail') "
            "and case ? when 'return_rate_outlier' then sales.location_id "
            "when 'sku_return_rate_outlier' then sales.sku else sales.customer_hash end = ? "
            "order by returns.business_date limit 500",
            [row["first_seen_date"] - WEEK, span[1], keys[0], kind, subject],
        )
    elif kind in ("systematic_underpricing", "stock_imbalance", "shrink_spike"):
        behind = reader.frame(
            "select * from marts.fct_inventory_movements where business_date between ? and ? "
            f"and {match} order by business_date limit 500"
            if kind != "systematic_underpricing"
            # the detector's "below the list": a discount, or a unit price under the list price
            else "select sales.*, prices.list_price from marts.fct_sales_lines as sales "
            "left join marts.dim_product_price as prices on sales.entity_code = prices.entity_code "
            "and sales.sku = prices.sku and sales.business_date >= prices.valid_from_date "
            "and (prices.valid_to_date is null or sales.business_date <= prices.valid_to_date) "
            f"where sales.business_date between ? and ? and {key_match('sales.')} "
            "and not sales.is_return and sales.unit_price > 0 "
            "and (sales.discount_amount <> 0 or coalesce(prices.list_price > sales.unit_price, "
            "false)) order by sales.business_date limit 500",
            [row["first_seen_date"] - WEEK, span[1], *key_params],
        )
    else:
        behind = reader.frame(
            "select * from marts.mart_completeness where business_date between ? and ? "
            "and (? is null or source_system = ?) and (? is null or entity_code = ?) "
            "and (? is null or location_id = ?) order by business_date",
            [*span, row["source_system"], row["source_system"], *key_params[:4]],
        )
    table(behind, "exception_rows", f"The rows behind {kind} {row['natural_key']}.")
reader.close()
