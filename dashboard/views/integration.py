"""Integration health: per source system and day, files loaded, failed, held, missing and
quarantined rows by rule; freshness and latency from business date to publication;
completeness."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboard.common import format_value, page, table

APPLIES = {"time", "entity", "location"}

reader, filters = page("Integration health", APPLIES)
publication = reader.publication

st.header(f"Files of publication {publication.version_name}")
statuses = publication.files_by_status
columns = st.columns(4)
columns[0].metric("Files loaded", format_value(statuses.get("loaded", 0), "units"))
columns[1].metric("Files failed", format_value(statuses.get("failed", 0), "units"))
columns[2].metric("Files held", format_value(statuses.get("held", 0), "units"))
columns[3].metric("Rows quarantined", format_value(publication.rows_quarantined, "units"))
st.caption(
    "Every file of the load log by status: "
    + ", ".join(f"{status} {count}" for status, count in sorted(statuses.items()))
)

where, params = filters.sql_where("business_date", "entity_code", None, "location_id")
expected = f"is_expected and {where}"
summary = reader.rows(
    "select count(*) as expected, count(*) filter (where is_complete) as complete, "
    "count(*) filter (where status = 'missing') as missing, "
    "count(*) filter (where status = 'held') as held "
    f"from marts.mart_completeness where {expected}",
    params,
)[0]
st.header("Completeness")
columns = st.columns(4)
share = summary["complete"] / summary["expected"] if summary["expected"] else None
columns[0].metric("Deliveries expected", format_value(summary["expected"], "units"))
columns[1].metric("Deliveries complete", format_value(share, "pct"))
columns[2].metric("Deliveries missing", format_value(summary["missing"], "units"))
columns[3].metric("Deliveries held", format_value(summary["held"], "units"))
heat = reader.frame(
    "select source_system, business_date, count(*) as expected, "
    "count(*) filter (where is_complete) as complete, "
    "count(*) filter (where is_complete) / count(*) as complete_share "
    f"from marts.mart_completeness where {expected} group by all order by 1, 2",
    params,
)
if not heat.empty:
    st.altair_chart(
        alt.Chart(heat)
        .mark_rect()
        .encode(
            x=alt.X("business_date:T", title="Business date"),
            y=alt.Y("source_system:N", title="Source system"),
            color=alt.Color(
                "complete_share:Q",
                title="Complete",
                scale=alt.Scale(domain=[0, 1], scheme="redyellowgreen"),
            ),
            tooltip=["source_system", "business_date:T", "expected", "complete"],
        ),
        width="stretch",
    )

st.header("Per source system and day")
daily = reader.frame(
    "select business_date, source_system, count(*) as deliveries_expected, "
    "sum(files_received) as files_received, "
    "count(*) filter (where status = 'missing') as missing, "
    "count(*) filter (where status = 'held') as held, "
    "count(*) filter (where status = 'empty') as empty, "
    "sum(open_held_files) as open_held_files, sum(rows_read) as rows_read, "
    "sum(rows_loaded) as rows_loaded, sum(rows_quarantined) as rows_quarantined, "
    "sum(estimated_missing_rows) as estimated_missing_rows, "
    "sum(estimated_missing_value_reporting) as estimated_missing_value_reporting "
    f"from marts.mart_completeness where {expected} group by all order by 1, 2",
    params,
)
table(daily, "integration_by_system_and_day")

st.header("Quarantined rows by rule")
where_q, params_q = filters.sql_where("first_seen_date", "entity_code", None, "location_id")
rules = reader.frame(
    "select source_system, regexp_extract(explanation, 'quarantined \\(([^)]*)\\)', 1) as rule, "
    "count(*) as rows_quarantined, sum(affected_units) as affected_units, "
    "sum(affected_value_reporting) as affected_value_reporting from marts.mart_exceptions "
    f"where exception_type = 'quarantined_row' and {where_q} group by all order by 1, 2",
    params_q,
)
table(rules, "quarantined_rows_by_rule", "Each quarantined row is an exception naming its rule.")

st.header("Freshness and latency")
fresh = reader.frame(
    "select source_system, max(business_date) filter (where files_received > 0) "
    "as last_business_date_received, "
    "max(business_date) filter (where is_complete) as last_complete_business_date, "
    "date_diff('day', max(business_date) filter (where files_received > 0), "
    "cast(? as date)) as days_from_business_date_to_publication "
    f"from marts.mart_completeness where {expected} group by 1 order by 1",
    [publication.published_at, *params],
)
table(
    fresh,
    "freshness",
    f"Publication {publication.version_name} was published "
    f"{publication.published_at:%Y-%m-%d %H:%M} UTC; latency counts the days from a system's "
    "last business date received to that date.",
)
reader.close()
