"""Finance: net sales, COGS, gross margin and margin % by entity and channel over time; the trial
balance and the consolidated view; the reconciliations with their tolerance bands and breaks."""

from __future__ import annotations

import streamlit as st

from dashboard.common import page, table, tiles
from dashboard.semantic import Query

HEADLINE = [
    ("net_sales", "money"),
    ("cogs", "money"),
    ("gross_margin", "money"),
    ("gross_margin_pct", "pct"),
]
RECONCILIATION = [
    ("reconciliation_comparisons", "units"),
    ("reconciliation_breaks", "units"),
    ("reconciliation_break_value", "money"),
]
# The reconciliations' semantic model has no channel entity.
NO_CHANNEL = {"time", "entity", "location", "category"}

reader, filters = page("Finance")
layer = reader.layer
tiles(reader, filters, HEADLINE)

st.header("Sales and margin over time")
names = tuple(filters.metric(layer, m) for m, _ in HEADLINE)
daily = reader.metric_frame(
    Query(names, ("metric_time__day", "legal_entity", "channel"), filters.mf_where())
)
net, margin = names[0], names[2]
if daily.empty:
    st.info("No sales in the filters.")
else:
    by_entity = daily.pivot_table(
        index="metric_time__day", columns="legal_entity", values=net, aggfunc="sum"
    )
    st.subheader(f"{layer.label(net)} by entity")
    st.line_chart(by_entity)
    by_channel = daily.pivot_table(
        index="legal_entity", columns="channel", values=margin, aggfunc="sum"
    )
    st.subheader(f"{layer.label(margin)} by entity and channel")
    st.bar_chart(by_channel)
    table(
        daily.sort_values(["metric_time__day", "legal_entity", "channel"]),
        "sales_and_margin_by_day",
        "Per business date, entity and channel; margin % is the semantic layer's ratio.",
    )

st.header("Trial balance")
currency = filters.currency == "reporting"
amounts = (
    "opening_balance_reporting as opening, debit_amount_reporting as debit, "
    "credit_amount_reporting as credit, closing_balance_reporting as closing, "
    "reporting_currency_code as currency"
    if currency
    else "opening_balance as opening, debit_amount as debit, credit_amount as credit, "
    "closing_balance as closing, currency_code as currency"
)
where, params = filters.sql_where(entity="entity_code")
trial = reader.frame(
    f"select period_start_date, period_end_date, entity_code, account_code, account_name, "
    f"account_type, {amounts} from marts.mart_gl_trial_balance "
    f"where period_start_date <= ? and period_end_date >= ? and {where} "
    f"order by period_start_date, entity_code, account_code",
    [filters.end, filters.start, *params],
)
table(trial, "trial_balance", "Per entity, account and accounting period overlapping the dates.")
st.subheader("Consolidated (reporting currency, after eliminations)")
consolidated = reader.frame(
    "select period_start_date, period_end_date, account_code, account_name, "
    "debit_amount_reporting, credit_amount_reporting, entity_closing_balance_reporting, "
    "elimination_reporting, consolidated_closing_balance_reporting, reporting_currency_code "
    "from marts.mart_gl_trial_balance_consolidated "
    "where period_start_date <= ? and period_end_date >= ? "
    "order by period_start_date, account_code",
    [filters.end, filters.start],
)
table(consolidated, "trial_balance_consolidated")

st.header("Reconciliations")
tiles(reader, filters, RECONCILIATION, use=NO_CHANNEL)
where, params = filters.sql_where("comparison_date", "entity_code", None, "location_id", "sku")
comparisons = reader.frame(
    "select reconciliation_name, status, count(*) as comparisons, "
    "sum(difference_value_reporting) as difference_reporting from marts.mart_reconciliations "
    f"where {where} group by all order by 1, 2",
    params,
)
if not comparisons.empty:
    st.bar_chart(
        comparisons.pivot_table(
            index="reconciliation_name", columns="status", values="comparisons", aggfunc="sum"
        )
    )
breaks = reader.frame(
    "select comparison_date, reconciliation_name, entity_code, location_id, sku, left_value, "
    "right_value, difference_value, value_unit, tolerance_value as tolerance_band, "
    "tolerance_abs, tolerance_bps, severity, status, difference_value_reporting, explanation "
    f"from marts.mart_reconciliations where status = 'break' and {where} "
    "order by abs(difference_value_reporting) desc nulls last, comparison_date",
    params,
)
table(
    breaks,
    "reconciliation_breaks",
    "Breaks: differences beyond the tolerance band (the larger of the absolute tolerance and "
    "the basis points of the compared value).",
)
reader.close()
