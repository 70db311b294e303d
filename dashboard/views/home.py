"""The control tower's start page: which publication is served, and the five role pages."""

from __future__ import annotations

import streamlit as st

from dashboard.common import Reader, format_value
from publishing import settings

ROLE_PAGES = (
    ("views/finance.py", "Finance", "net sales, COGS and margin; trial balance; reconciliations"),
    (
        "views/merchandising.py",
        "Merchandising",
        "categories and products, sell-through, returns, prices off the list, top movers",
    ),
    (
        "views/supply_chain.py",
        "Supply chain",
        "available stock by location and SKU, in transit, on order, days of supply; receipts",
    ),
    (
        "views/integration.py",
        "Integration health",
        "files, deliveries, quarantined rows, freshness and completeness",
    ),
    ("views/exceptions.py", "Exceptions", "the queue by owner, severity and SLA; drill-down"),
)

st.title("Concord control tower")
path = settings.served_path()
if not path.exists():
    st.error(f"No served copy at {path} (CONCORD_SERVED_WAREHOUSE): `make run` publishes one.")
    st.stop()
reader = Reader(path)
publication = reader.publication
st.markdown(
    f"Serving publication **{publication.version_name}**, published "
    f"{publication.published_at:%Y-%m-%d %H:%M} UTC: business dates "
    f"{publication.first_business_date} to {publication.last_business_date}."
)
columns = st.columns(4)
columns[0].metric(
    "Incomplete business dates", format_value(len(publication.incomplete_dates), "units")
)
columns[1].metric("Checks warned", format_value(publication.checks_warned_count, "units"))
columns[2].metric("Checks failed", format_value(publication.checks_failed_count, "units"))
columns[3].metric("Rows quarantined", format_value(publication.rows_quarantined, "units"))
st.header("Pages by role")
for script, title, what in ROLE_PAGES:
    st.page_link(script, label=f"{title}: {what}")
reader.close()
