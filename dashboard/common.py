"""What every page shares: the served copy (one version per render), the publication it shows,
the filters and currency switch, headline tiles from the semantic layer, tables with CSV
download.

A page render opens one connection on the version the served link names at that moment
(publishing.served.connect) and reads everything from it, so a page never mixes two versions
while a pipeline run publishes the next one. Query results are cached per version file (a
version is immutable), so a second render of the same filters reads nothing again."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

from dashboard.semantic import Query, SemanticLayer, where_in
from publishing import served, settings

CURRENCIES = ("reporting", "functional")
ALL_FILTERS = frozenset({"time", "entity", "channel", "location", "category"})
TILES_PER_ROW = 4
TABLE_ROWS = 1000  # rows a table shows; its CSV has every row


# ---- the served copy -------------------------------------------------------------------------


@st.cache_resource(show_spinner="Compiling the semantic layer...")
def semantic_layer() -> SemanticLayer:
    return SemanticLayer()


@st.cache_data(max_entries=2048, show_spinner=False)
def _frame(version_file: str, sql: str, params: tuple[Any, ...], _con: Any) -> pd.DataFrame:
    cursor = _con.execute(sql, list(params))
    dates = [d[0] for d in cursor.description if str(d[1]) == "DATE"]
    frame = cursor.df()
    for column in dates:  # pandas reads a DATE as a timestamp: show it as the date it is
        frame[column] = frame[column].dt.date
    return frame


@st.cache_data(max_entries=2048, show_spinner=False)
def _rows(version_file: str, sql: str, params: tuple[Any, ...], _con: Any) -> list[dict]:
    cursor = _con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@dataclass
class Publication:
    version: int
    version_name: str
    published_at: datetime
    first_business_date: date | None
    last_business_date: date | None
    incomplete_dates: list[date]
    files_by_status: dict[str, int]
    rows_loaded: int
    rows_quarantined: int
    checks_failed_count: int
    checks_warned_count: int


class Reader:
    """One render's view of the served copy: a connection on one version file."""

    def __init__(self, path: Path | None = None) -> None:
        self.con: duckdb.DuckDBPyConnection = served.connect(path)
        self.version_file = self.con.execute(
            "select path from duckdb_databases() where database_name = current_database()"
        ).fetchone()[0]
        row = served.current_publication(self.con)
        if row is None:
            raise RuntimeError(f"the served copy {self.version_file} describes no publication")
        self.publication = Publication(
            version=row["version"],
            version_name=row["version_name"],
            published_at=row["published_at"],
            first_business_date=row["first_business_date"],
            last_business_date=row["last_business_date"],
            incomplete_dates=list(row["incomplete_dates"] or []),
            files_by_status=json.loads(row["files_by_status"] or "{}"),
            rows_loaded=row["rows_loaded"] or 0,
            rows_quarantined=row["rows_quarantined"] or 0,
            checks_failed_count=row["checks_failed_count"] or 0,
            checks_warned_count=row["checks_warned_count"] or 0,
        )
        self.layer = semantic_layer()

    def frame(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        return _frame(self.version_file, sql, tuple(params), self.con).copy()

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict]:
        return _rows(self.version_file, sql, tuple(params), self.con)

    def metric_frame(self, query: Query) -> pd.DataFrame:
        self._note(query)
        return self.frame(self.layer.sql(query))

    def metric_rows(self, query: Query) -> list[dict]:
        self._note(query)
        return self.rows(self.layer.sql(query))

    @staticmethod
    def _note(query: Query) -> None:
        """The metrics a session read (its page's dbt exposure must name them)."""
        st.session_state.setdefault("metrics_read", set()).update(query.metrics)

    def close(self) -> None:
        self.con.close()


# ---- filters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    entities: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    currency: str = "reporting"
    applies: frozenset[str] = field(default=ALL_FILTERS)

    def metric(self, layer: SemanticLayer, name: str) -> str:
        """The metric in the chosen currency: its `_functional` twin when there is one."""
        if self.currency == "functional" and f"{name}_functional" in layer.metrics:
            return f"{name}_functional"
        return name

    def mf_where(self, use: Iterable[str] = ALL_FILTERS) -> tuple[str, ...]:
        """MetricFlow where clauses for the filters a query's metrics can take."""
        use = set(use) & self.applies
        out = []
        if "time" in use:
            out.append(
                "{{ TimeDimension('metric_time', 'day') }} between "
                f"'{self.start.isoformat()}' and '{self.end.isoformat()}'"
            )
        for key, values, reference in (
            ("entity", self.entities, "Entity('legal_entity')"),
            ("channel", self.channels, "Entity('channel')"),
            ("location", self.locations, "Entity('location')"),
            ("category", self.categories, "Dimension('product__category')"),
        ):
            if key in use and values:
                out.append(where_in(reference, values))
        return tuple(out)

    def sql_where(
        self,
        date_column: str | None = None,
        entity: str | None = None,
        channel: str | None = None,
        location: str | None = None,
        sku: str | None = None,
    ) -> tuple[str, list[Any]]:
        """A SQL predicate (and its parameters) applying the filters to a mart's columns."""
        parts, params = ["true"], []
        if date_column:
            parts.append(f"{date_column} between ? and ?")
            params += [self.start, self.end]
        for column, values in ((entity, self.entities), (channel, self.channels)):
            if column and values:
                parts.append(f"{column} in ({', '.join('?' for _ in values)})")
                params += list(values)
        if location and self.locations:
            parts.append(f"{location} in ({', '.join('?' for _ in self.locations)})")
            params += list(self.locations)
        if sku and self.categories:
            marks = ", ".join("?" for _ in self.categories)
            parts.append(
                f"{sku} in (select sku from marts.dim_product_current where category in ({marks}))"
            )
            params += list(self.categories)
        return " and ".join(parts), params


def _options(reader: Reader, sql: str) -> list[str]:
    return [r["v"] for r in reader.rows(sql) if r["v"] is not None]


def sidebar(reader: Reader, applies: Iterable[str] = ALL_FILTERS) -> Filters:
    """The publication banner and the filters (date range or 4-5-4 period, entity, channel,
    location, category, currency); filters a page cannot apply are not shown."""
    applies = frozenset(applies)
    publication = reader.publication
    bounds = reader.rows("select min(date_day) as lo, max(date_day) as hi from marts.dim_date")[0]
    first = publication.first_business_date or bounds["lo"]
    last = publication.last_business_date or bounds["hi"]
    with st.sidebar:
        st.markdown(f"**Publication {publication.version_name}**")
        st.caption(
            f"Data as of {last} (business dates {first} to {last}); published "
            f"{publication.published_at:%Y-%m-%d %H:%M} UTC"
        )
        start, end = first, last
        if "time" in applies:
            mode = st.radio("Dates", ["Date range", "4-5-4 period"], key="date_mode")
            if mode == "Date range":
                picked = st.date_input(
                    "Business dates", (first, last), min_value=first, max_value=last, key="dates"
                )
                if isinstance(picked, (tuple, list)) and len(picked) == 2:
                    start, end = picked
            else:
                periods = reader.rows(
                    "select retail_year, retail_period, min(date_day) as lo, max(date_day) as hi "
                    "from marts.dim_date where date_day between ? and ? group by all "
                    "order by lo",
                    [first, last],
                )
                labels = {
                    f"{p['retail_year']} P{p['retail_period']:02d} ({p['lo']} to {p['hi']})": p
                    for p in periods
                }
                choice = st.selectbox("Retail period", list(labels), key="period")
                if choice:
                    start, end = labels[choice]["lo"], labels[choice]["hi"]
        chosen: dict[str, tuple[str, ...]] = {}
        for key, label, sql in (
            ("entity", "Entity", "select entity_code as v from marts.dim_entity order by 1"),
            ("channel", "Channel", "select channel as v from marts.dim_channel order by 1"),
            ("location", "Location", "select location_id as v from marts.dim_location order by 1"),
            (
                "category",
                "Category",
                "select distinct category as v from marts.dim_product_current order by 1",
            ),
        ):
            chosen[key] = ()
            if key in applies:
                chosen[key] = tuple(
                    st.multiselect(label, _options(reader, sql), key=key, placeholder="All")
                )
        currency = st.radio("Currency", CURRENCIES, key="currency", horizontal=True)
    if publication.incomplete_dates:
        shown = [d for d in publication.incomplete_dates if start <= d <= end]
        if shown:
            listed = ", ".join(str(d) for d in shown[:12]) + (" ..." if len(shown) > 12 else "")
            st.warning(
                f"{len(shown)} business date(s) in range are incomplete (a delivery is missing, "
                f"empty or held): {listed}. Their figures change when the delivery arrives."
            )
    return Filters(
        start=start,
        end=end,
        entities=chosen["entity"],
        channels=chosen["channel"],
        locations=chosen["location"],
        categories=chosen["category"],
        currency=currency,
        applies=applies,
    )


# ---- showing figures -------------------------------------------------------------------------


def format_value(value: Any, kind: str) -> str:
    """money: 1,234.56; units: 1,234; pct: a share as 12.34 %; number: 1,234.56; none: n/a."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "n/a"
    if kind == "pct":
        return f"{Decimal(str(value)) * 100:,.2f} %"
    if kind == "units":
        return f"{Decimal(str(value)):,.0f}"
    return f"{Decimal(str(value)):,.2f}"


def tiles(
    reader: Reader,
    filters: Filters,
    metrics: Sequence[tuple[str, str]],
    use: Iterable[str] = ALL_FILTERS,
    where: Sequence[str] = (),
) -> None:
    """Headline figures for the filters (and any further MetricFlow `where`), one st.metric per
    (metric, kind), straight from the semantic layer. In functional currency the money figures
    come in one row per functional currency (amounts in different currencies are never added);
    the others in one row."""
    layer = reader.layer
    where = (*filters.mf_where(use), *where)
    plain = [(m, k) for m, k in metrics if filters.metric(layer, m) == m]
    money = [(filters.metric(layer, m), k) for m, k in metrics if filters.metric(layer, m) != m]
    if plain:
        _tile_row(reader, plain, (), where, reporting_currency(reader))
    if money:
        _tile_row(reader, money, ("legal_entity__functional_currency_code",), where)


def reporting_currency(reader: Reader) -> str | None:
    """The group's reporting currency (dim_entity), which money tiles in it name."""
    return reader.rows("select min(reporting_currency_code) as c from marts.dim_entity")[0]["c"]


def _tile_row(
    reader: Reader,
    metrics: Sequence[tuple[str, str]],
    group: tuple[str, ...],
    where: tuple,
    reporting: str | None = None,
) -> None:
    """One row of tiles per value of group (a functional currency, named on every tile), or
    one row whose money tiles name the reporting currency."""
    layer = reader.layer
    names = tuple(m for m, _ in metrics)
    rows = reader.metric_rows(Query(names, group, where)) or [dict.fromkeys(names)]
    for row in rows:
        for first in range(0, len(metrics), TILES_PER_ROW):
            shown = metrics[first : first + TILES_PER_ROW]
            for column, (name, kind) in zip(st.columns(TILES_PER_ROW), shown, strict=False):
                currency = row.get(group[0]) if group else reporting if kind == "money" else None
                label = layer.label(name) + (f" ({currency})" if currency else "")
                column.metric(label, format_value(row.get(name), kind))


def readable(column: str) -> str:
    """A table heading for a column: its last part, in words (metric_time__day: Day,
    location__location_name: Location name, net_sales_reporting: Net sales reporting)."""
    words = column.split("__")[-1].replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def table(frame: pd.DataFrame, name: str, caption: str | None = None) -> None:
    """A table (its first TABLE_ROWS rows, in the order given, headed in words: readable) and a
    CSV download of all its rows (the columns' own names), written when the button is pressed."""
    if caption:
        st.caption(caption)
    if len(frame) > TABLE_ROWS:
        st.caption(
            f"The first {TABLE_ROWS:,} of {len(frame):,} rows; the CSV holds them all, or narrow "
            "the filters."
        )
    words = [readable(c) for c in frame.columns]
    headings = [w if words.count(w) == 1 else c for w, c in zip(words, frame.columns, strict=True)]
    shown = frame.head(TABLE_ROWS).set_axis(headings, axis=1)
    st.dataframe(shown, hide_index=True, width="stretch")
    st.download_button(
        f"Download {name}.csv",
        lambda: frame.to_csv(index=False).encode(),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"download_{name}",
    )


def page(title: str, applies: Iterable[str] = ALL_FILTERS) -> tuple[Reader, Filters]:
    """A page's heading, its reader and filters."""
    st.title(title)
    path = settings.served_path()
    if not path.exists():
        st.error(f"No served copy at {path} (CONCORD_SERVED_WAREHOUSE): `make run` publishes one.")
        st.stop()
    reader = Reader(path)
    return reader, sidebar(reader, applies)
