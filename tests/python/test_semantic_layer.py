"""The semantic layer (MetricFlow): every metric, asked for through MetricFlow as `mf query` asks
for it, equals a direct SQL aggregation of the mart it rests on, exactly (units) and to the
cent (money), on the shared clean world (the controls' metrics on the defective world, where
there are exceptions and breaks to count). Positions are semi-additive: a period's figure is
its last day's, not a sum over days. Ratios equal their numerator over their denominator, the
4-5-4 grouping agrees with dim_date, and no description in the repository cites a document that
is not in it.

MetricFlow runs in a process of its own (metricflow_runner.py) that starts the engine once and
answers a whole table of queries."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT_ROOT, BuiltWorld

RUNNER = Path(__file__).with_name("metricflow_runner.py")
CENT = Decimal("0.01")

# ---- the marts' own figures -------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """How the mart gives a metric: an expression summed over its rows (flow), or summed over
    the rows of the last date of each period (position), or the number of distinct dates."""

    table: str
    date_column: str
    expression: str
    kind: str = "flow"  # flow | position | days
    money: bool = False  # a decimal of cents (money, or the forecast's hundredths of units)


def flow(table: str, date_column: str, expression: str, money: bool = False) -> Figure:
    return Figure(table, date_column, expression, "flow", money)


def _sales(expression: str, money: bool = True) -> Figure:
    return flow("mart_net_sales", "business_date", expression, money)


def _position(expression: str, money: bool = False) -> Figure:
    return Figure("mart_available_inventory", "as_of_date", expression, "position", money)


def _forecast_weeks(expression: str) -> Figure:
    """Hundredths of units, compared like money."""
    return flow("mart_forecast_accuracy", "week_start_date", expression, money=True)


def _receipts(expression: str) -> Figure:
    return flow("fct_goods_receipt_lines", "business_date", expression, money=True)


OPEN_QUEUE = "status in ('open', 'acknowledged')"

FIGURES: dict[str, Figure] = {
    "gross_sales": _sales("gross_sales_reporting"),
    "discounts": _sales("discounts_reporting"),
    "returns": _sales("returns_reporting"),
    "net_sales": _sales("net_sales_reporting"),
    "gross_sales_functional": _sales("gross_sales"),
    "discounts_functional": _sales("discounts"),
    "returns_functional": _sales("returns"),
    "net_sales_functional": _sales("net_sales"),
    "units_sold": _sales("units_sold", money=False),
    "units_returned": _sales("units_returned", money=False),
    "net_units_sold": _sales("units_sold - units_returned", money=False),
    "cogs": flow("mart_cogs", "business_date", "cogs_reporting", money=True),
    "cogs_functional": flow("mart_cogs", "business_date", "cogs", money=True),
    "units_without_cost": flow("mart_cogs", "business_date", "units_without_cost"),
    # gross margin from mart_cogs' own column: the metric derives it as net sales - COGS
    "gross_margin": flow("mart_cogs", "business_date", "gross_margin_reporting", money=True),
    "gross_margin_functional": flow("mart_cogs", "business_date", "gross_margin", money=True),
    "on_hand_units": _position("on_hand_units"),
    "reserved_units": _position("reserved_units"),
    "quarantined_units": _position("quarantined_units"),
    "in_transit_units": _position("in_transit_units"),
    "on_order_units": _position("on_order_units"),
    "available_units": _position("available_units"),
    "inventory_value": _position("inventory_value_reporting", money=True),
    "inventory_value_functional": _position("inventory_value", money=True),
    "inventory_value_daily_total": flow(
        "mart_available_inventory", "as_of_date", "inventory_value_reporting", money=True
    ),
    "inventory_days": Figure("mart_available_inventory", "as_of_date", "as_of_date", "days"),
    "forecast_units_next_28_days": Figure(
        "mart_demand_forecast", "as_of_date", "forecast_units_next_28_days", "position", True
    ),
    "network_available_units": Figure(
        "mart_days_of_supply", "as_of_date", "available_units", "position"
    ),
    "network_forecast_units_next_28_days": Figure(
        "mart_days_of_supply", "as_of_date", "forecast_units_next_28_days", "position", True
    ),
    "stock_out_risk_skus": Figure(
        "mart_days_of_supply",
        "as_of_date",
        "case when is_stock_out_risk then 1 else 0 end",
        "position",
    ),
    "on_hand_net_change": flow("fct_inventory_movements", "business_date", "on_hand_units"),
    "units_received": flow(
        "fct_inventory_movements",
        "business_date",
        "case when movement_type = 'receipt' then on_hand_units else 0 end",
    ),
    "landed_value_received": _receipts("goods_amount_reporting + charges_amount_reporting"),
    "landed_value_received_functional": _receipts("goods_amount + charges_amount"),
    "receipt_freight_and_duty": _receipts("charges_amount_reporting"),
    "receipt_freight_and_duty_functional": _receipts("charges_amount"),
    "gl_debits": flow("fct_gl_postings", "business_date", "debit_amount_reporting", True),
    "gl_credits": flow("fct_gl_postings", "business_date", "credit_amount_reporting", True),
    "gl_debits_functional": flow("fct_gl_postings", "business_date", "debit_amount", True),
    "gl_credits_functional": flow("fct_gl_postings", "business_date", "credit_amount", True),
    "exceptions": flow("mart_exceptions", "first_seen_date", "1"),
    "open_exceptions": flow(
        "mart_exceptions", "first_seen_date", f"case when {OPEN_QUEUE} then 1 else 0 end"
    ),
    "open_exception_impact": flow(
        "mart_exceptions",
        "first_seen_date",
        f"case when {OPEN_QUEUE} then coalesce(affected_value_reporting, 0) else 0 end",
        money=True,
    ),
    "forecast_judged_units": _forecast_weeks("forecast_units"),
    "forecast_actual_units_sold": _forecast_weeks("units_sold"),
    "forecast_error_units": _forecast_weeks("error_units"),
    "forecast_absolute_error_units": _forecast_weeks("absolute_error_units"),
    "reconciliation_comparisons": flow("mart_reconciliations", "comparison_date", "1"),
    "reconciliation_breaks": flow(
        "mart_reconciliations", "comparison_date", "case when status = 'break' then 1 else 0 end"
    ),
    "reconciliation_break_value": flow(
        "mart_reconciliations",
        "comparison_date",
        "case when status = 'break' then abs(coalesce(difference_value_reporting, 0)) else 0 end",
        money=True,
    ),
}

# Ratio and derived metrics: recomputed from their inputs, which the table also asks for.
RATIOS = {
    "average_selling_price": lambda v: v["net_sales"] / v["net_units_sold"],
    "return_rate": lambda v: v["units_returned"] / v["units_sold"],
    "gross_margin_pct": lambda v: v["gross_margin"] / v["net_sales"],
    "landed_cost_per_unit_received": lambda v: v["landed_value_received"] / v["units_received"],
    "landed_cost_per_unit_received_functional": (
        lambda v: v["landed_value_received_functional"] / v["units_received"]
    ),
    "freight_and_duty_share": (
        lambda v: v["receipt_freight_and_duty"] / v["landed_value_received"]
    ),
    "average_inventory_value": lambda v: v["inventory_value_daily_total"] / v["inventory_days"],
    "inventory_turns": lambda v: v["cogs"] / v["average_inventory_value"],
    "days_of_supply": lambda v: v["available_units"] * 28 / v["forecast_units_next_28_days"],
    "network_days_of_supply": (
        lambda v: v["network_available_units"] * 28 / v["network_forecast_units_next_28_days"]
    ),
    "forecast_wape": lambda v: v["forecast_absolute_error_units"] / v["forecast_actual_units_sold"],
    "forecast_bias": lambda v: v["forecast_error_units"] / v["forecast_actual_units_sold"],
    "sell_through_pct": lambda v: (
        v["units_sold"] / (v["on_hand_units"] - v["on_hand_net_change"] + v["units_received"])
    ),
}

# What each group-by of MetricFlow is in the marts: the calendar of the fact's date, the
# fact's own keys, today's product hierarchy and the location master.
GROUPS = {
    "metric_time__day": "calendar.date_day",
    "metric_time__retail_week": "calendar.retail_week_start_date",
    "metric_time__retail_period": "calendar.retail_period_start_date",
    "metric_time__retail_quarter": "calendar.retail_quarter_start_date",
    "metric_time__retail_year": "calendar.retail_year_start_date",
    "legal_entity": "facts.entity_code",
    "channel": "facts.channel",
    "location": "facts.location_id",
    "supplier": "facts.supplier_id",
    "product__category": "products.category",
    "location__location_type": "locations.location_type",
    "exception__owning_role": "facts.owning_role",
    "reconciliation_comparison__reconciliation_name": "facts.reconciliation_name",
    "forecast_week__horizon_weeks": "facts.horizon_weeks",
    "forecast_week__forecast_category": "facts.category",
}
STORES_ONLY = (
    "{{ Dimension('location__location_type') }} = 'store'",
    "locations.location_type = 'store'",
)
DCS_ONLY = ("{{ Dimension('location__location_type') }} = 'dc'", "locations.location_type = 'dc'")


@dataclass(frozen=True)
class Query:
    metrics: tuple[str, ...]
    group_by: tuple[str, ...]
    where: tuple[str, str] | None = None  # (MetricFlow filter, the same on the marts)

    def request(self) -> dict:
        return {
            "metrics": list(self.metrics),
            "group_by": list(self.group_by),
            "where": [self.where[0]] if self.where else None,
        }


SALES = ("gross_sales", "discounts", "returns", "net_sales", "units_sold", "units_returned")
FUNCTIONAL = (
    "gross_sales_functional",
    "discounts_functional",
    "returns_functional",
    "net_sales_functional",
    "cogs_functional",
    "gross_margin_functional",
)
POSITIONS = (
    "on_hand_units",
    "reserved_units",
    "quarantined_units",
    "in_transit_units",
    "on_order_units",
    "available_units",
    "inventory_value",
)
RECEIPTS = (
    "units_received",
    "landed_value_received",
    "landed_value_received_functional",
    "receipt_freight_and_duty",
    "receipt_freight_and_duty_functional",
    "landed_cost_per_unit_received",
    "landed_cost_per_unit_received_functional",
    "freight_and_duty_share",
)
STOCK_KPIS = (
    "sell_through_pct",
    "units_sold",
    "on_hand_units",
    "on_hand_net_change",
    "units_received",
    "inventory_turns",
    "cogs",
    "average_inventory_value",
    "inventory_value_daily_total",
    "inventory_days",
)
FORECAST_ACCURACY = (
    "forecast_judged_units",
    "forecast_actual_units_sold",
    "forecast_error_units",
    "forecast_absolute_error_units",
    "forecast_wape",
    "forecast_bias",
)
GL = ("gl_debits", "gl_credits", "gl_debits_functional", "gl_credits_functional")

# The table of queries on the clean world: every metric but the controls' at least once, by
# day, retail week and retail period, by entity, channel, location and category, with filters.
CLEAN_QUERIES = [
    Query(
        (*SALES, "net_units_sold", "average_selling_price", "return_rate"),
        ("metric_time__day", "legal_entity", "channel"),
    ),
    Query(FUNCTIONAL + ("net_sales",), ("metric_time__retail_week", "legal_entity")),
    Query(
        ("cogs", "net_sales", "gross_margin", "gross_margin_pct", "units_without_cost"),
        ("metric_time__retail_period", "product__category"),
    ),
    Query(("net_sales", "units_sold", "units_returned", "return_rate"), ("location",), STORES_ONLY),
    Query((*POSITIONS, "inventory_value_functional"), ("metric_time__retail_period", "location")),
    Query(POSITIONS, ("metric_time__day", "product__category"), DCS_ONLY),
    Query(POSITIONS, ("legal_entity",)),
    Query(RECEIPTS, ("metric_time__retail_week", "location")),
    Query(
        (
            "landed_value_received",
            "landed_value_received_functional",
            "receipt_freight_and_duty",
            "freight_and_duty_share",
        ),
        ("metric_time__retail_period", "supplier"),
    ),
    Query(STOCK_KPIS, ("metric_time__retail_period", "legal_entity")),
    Query(STOCK_KPIS, ("metric_time__retail_week", "product__category")),
    Query(GL, ("metric_time__day", "legal_entity")),
    Query(
        ("days_of_supply", "available_units", "forecast_units_next_28_days"),
        ("metric_time__retail_week", "location"),
    ),
    Query(
        ("days_of_supply", "available_units", "forecast_units_next_28_days"),
        ("metric_time__retail_period", "product__category"),
    ),
]
NETWORK = (
    "network_days_of_supply",
    "network_available_units",
    "network_forecast_units_next_28_days",
    "stock_out_risk_skus",
)
CLEAN_QUERIES += [
    Query(NETWORK, ("metric_time__retail_week", "legal_entity")),
    Query(NETWORK, ("metric_time__retail_period", "product__category")),
    Query(FORECAST_ACCURACY, ("forecast_week__horizon_weeks",)),
    Query(FORECAST_ACCURACY, ("forecast_week__forecast_category", "forecast_week__horizon_weeks")),
    Query(FORECAST_ACCURACY, ("metric_time__retail_week", "location")),
]
CONTROL_QUERIES = [
    Query(
        ("exceptions", "open_exceptions", "open_exception_impact"),
        ("metric_time__retail_week", "exception__owning_role"),
    ),
    Query(
        ("reconciliation_comparisons", "reconciliation_breaks", "reconciliation_break_value"),
        ("reconciliation_comparison__reconciliation_name", "legal_entity"),
    ),
]
CALENDAR_GRAINS = (
    "metric_time__retail_week",
    "metric_time__retail_period",
    "metric_time__retail_quarter",
    "metric_time__retail_year",
)
CALENDAR_QUERIES = [Query(("net_sales", "units_sold"), (grain,)) for grain in CALENDAR_GRAINS]
CALENDAR_QUERIES.append(Query(("net_sales", "units_sold"), ("metric_time__day",)))


# ---- running MetricFlow -----------------------------------------------------------------------


def metricflow(world: BuiltWorld, queries: list[dict], tmp_path: Path) -> dict:
    """Answers of MetricFlow to the queries on the world's warehouse, with the semantic manifest
    its own build wrote."""
    request = tmp_path / "request.json"
    out = tmp_path / "answers.json"
    request.write_text(
        json.dumps(
            {
                "project_dir": str(PROJECT_ROOT),
                "semantic_manifest": str(
                    world.warehouse.parent / "target" / "semantic_manifest.json"
                ),
                "queries": queries,
            }
        )
    )
    python_path = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, str(RUNNER), str(request), str(out)],
        cwd=PROJECT_ROOT,
        env=os.environ | {"CONCORD_WAREHOUSE": str(world.warehouse), "PYTHONPATH": python_path},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.fail(f"MetricFlow failed:\n{result.stdout[-4000:]}\n{result.stderr[-6000:]}")
    return json.loads(out.read_text())


def value(cell: object) -> object:
    if isinstance(cell, dict):
        return Decimal(cell["decimal"])
    if isinstance(cell, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT00:00:00", cell):
        return cell[:10]
    return cell


def rows_by_group(answer: dict, groups: tuple[str, ...]) -> dict[tuple, dict[str, object]]:
    columns = answer["columns"]
    keyed = {}
    for row in answer["rows"]:
        record = {column: value(cell) for column, cell in zip(columns, row, strict=True)}
        key = tuple(record[group] for group in groups)
        assert key not in keyed, f"MetricFlow returned the group {key} twice"
        keyed[key] = record
    return keyed


# ---- the marts, directly ----------------------------------------------------------------------


def mart_figures(con: duckdb.DuckDBPyConnection, metric: str, query: Query) -> dict[tuple, object]:
    """The metric per group, aggregated directly from its mart."""
    figure = FIGURES[metric]
    groups = [GROUPS[group] for group in query.group_by]
    keys = ", ".join(f"{expression} as g{i}" for i, expression in enumerate(groups)) or "1 as g"
    where = f"where {query.where[1]}" if query.where else ""
    # today's product hierarchy and the location master, where the query uses them
    joins = ""
    if "products." in keys:
        joins += (
            " left join marts.dim_product as products"
            " on facts.sku = products.sku and products.is_current"
        )
    if "locations." in keys + where:
        joins += (
            " left join marts.dim_location as locations"
            " on facts.location_id = locations.location_id"
        )
    facts = f"""
        select {keys}, facts.{figure.date_column} as fact_date, {figure.expression} as amount
        from marts.{figure.table} as facts
        inner join marts.dim_date as calendar on facts.{figure.date_column} = calendar.date_day
        {joins}
        {where}
    """
    names = ", ".join(f"g{i}" for i in range(len(groups)))
    group_clause = f"group by {names}" if groups else ""
    select_keys = f"{names}, " if groups else ""
    if figure.kind == "flow":
        sql = f"select {select_keys}sum(amount) from ({facts}) {group_clause}"
    elif figure.kind == "days":
        sql = f"select {select_keys}count(distinct amount) from ({facts}) {group_clause}"
    else:
        # a position: the rows of the latest date of each time group (over all the other
        # groups), summed
        time_groups = [
            f"g{i}" for i, group in enumerate(query.group_by) if group.startswith("metric_time")
        ]
        partition = f"partition by {', '.join(time_groups)}" if time_groups else ""
        sql = f"""
            select {select_keys}sum(amount)
            from (
                select *, max(fact_date) over ({partition}) as close_date from ({facts})
            )
            where fact_date = close_date
            {group_clause}
        """
    figures = {}
    for row in con.execute(sql).fetchall():
        key = tuple(str(cell) if hasattr(cell, "isoformat") else cell for cell in row[:-1])
        figures[key] = row[-1]
    return figures


def assert_equal(metric: str, key: tuple, got: object, expected: object) -> None:
    figure = FIGURES[metric]
    where = f"{metric} at {key}"
    if expected is None:
        assert got is None, f"{where}: MetricFlow {got}, the mart has nothing"
    elif figure.money:
        assert got is not None, f"{where}: MetricFlow has nothing, the mart {expected}"
        assert Decimal(f"{float(got):.2f}") == Decimal(expected).quantize(CENT), (
            f"{where}: MetricFlow {got}, the mart {expected}"
        )
    else:
        assert got == expected, f"{where}: MetricFlow {got}, the mart {expected}"


def check_query(
    con: duckdb.DuckDBPyConnection, query: Query, answer: dict, ratio_inputs: bool = True
) -> int:
    """Every figure of the answer against the marts, and every ratio against its inputs (which
    the query must ask for too, unless ratio_inputs is false: then a ratio whose inputs are not
    in the answer is left to the queries that have them); returns the number of figures
    compared."""
    got = rows_by_group(answer, query.group_by)
    compared = 0
    for metric in query.metrics:
        if metric in FIGURES:
            expected = mart_figures(con, metric, query)
            for key in set(got) | set(expected):
                assert_equal(metric, key, got.get(key, {}).get(metric), expected.get(key))
                compared += 1
        else:
            recompute = RATIOS[metric]
            for key, record in got.items():
                inputs = {name: record[name] for name in query.metrics if name != metric}
                try:
                    expected_ratio = float(recompute(inputs))
                except (TypeError, ZeroDivisionError):
                    expected_ratio = None
                except KeyError:
                    if ratio_inputs:
                        raise
                    continue
                if expected_ratio is None:
                    assert record[metric] is None, f"{metric} at {key}: {record[metric]}"
                else:
                    assert record[metric] == pytest.approx(expected_ratio, rel=1e-12), (
                        f"{metric} at {key}: MetricFlow {record[metric]}, "
                        f"its inputs give {expected_ratio}"
                    )
                compared += 1
    return compared


# ---- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean_answers(clean_world: BuiltWorld, tmp_path_factory: pytest.TempPathFactory) -> dict:
    saved = [{"saved_query": name} for name in saved_query_definitions(clean_world)]
    queries = [query.request() for query in CLEAN_QUERIES + CALENDAR_QUERIES] + saved
    return metricflow(clean_world, queries, tmp_path_factory.mktemp("semantic_clean"))


def saved_query_definitions(world: BuiltWorld) -> dict[str, dict]:
    manifest = json.loads(
        (world.warehouse.parent / "target" / "semantic_manifest.json").read_text()
    )
    return {saved["name"]: saved for saved in manifest["saved_queries"]}


@pytest.fixture(scope="module")
def clean_marts(clean_world: BuiltWorld):
    with duckdb.connect(str(clean_world.warehouse), read_only=True) as con:
        yield con


# ---- tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(len(CLEAN_QUERIES)))
def test_metric_equals_its_mart(index: int, clean_answers: dict, clean_marts) -> None:
    query = CLEAN_QUERIES[index]
    answer = clean_answers["answers"][index]
    assert answer["rows"], f"MetricFlow answered nothing to {query}"
    assert check_query(clean_marts, query, answer) > 0


def test_every_metric_is_in_the_table(clean_world: BuiltWorld) -> None:
    manifest = json.loads(
        (clean_world.warehouse.parent / "target" / "semantic_manifest.json").read_text()
    )
    defined = {metric["name"] for metric in manifest["metrics"]}
    asked = {metric for query in CLEAN_QUERIES + CONTROL_QUERIES for metric in query.metrics}
    assert defined == asked
    assert defined <= set(FIGURES) | set(RATIOS)
    for metric in manifest["metrics"]:
        assert metric["description"] and "{{" not in metric["description"], metric["name"]


def test_controls_metrics_equal_their_marts(defective_world: BuiltWorld, tmp_path: Path) -> None:
    answers = metricflow(defective_world, [q.request() for q in CONTROL_QUERIES], tmp_path)
    with duckdb.connect(str(defective_world.warehouse), read_only=True) as con:
        for query, answer in zip(CONTROL_QUERIES, answers["answers"], strict=True):
            assert check_query(con, query, answer) > 0
        # the defective world has exceptions and breaks: the metrics count something
        exceptions = con.execute("select count(*) from marts.mart_exceptions").fetchone()[0]
    assert exceptions > 0
    counted = answers["answers"][0]
    column = counted["columns"].index("exceptions")
    assert sum(row[column] for row in counted["rows"]) == exceptions


def test_positions_at_a_period_end_are_its_last_day(clean_answers: dict, clean_marts) -> None:
    """on hand by retail period = the mart on the period's last date (dim_date), or on the
    latest date of the world in a period still running; never the sum over its days."""
    index = CLEAN_QUERIES.index(
        next(q for q in CLEAN_QUERIES if q.group_by == ("metric_time__retail_period", "location"))
    )
    answer = clean_answers["answers"][index]
    period, on_hand = (
        answer["columns"].index(c) for c in ("metric_time__retail_period", "on_hand_units")
    )
    totals: dict[str, int] = defaultdict(int)
    for record in answer["rows"]:
        totals[value(record[period])] += record[on_hand]
    latest = clean_marts.execute(
        "select max(as_of_date) from marts.mart_available_inventory"
    ).fetchone()[0]
    periods = clean_marts.execute(
        """
        select retail_period_start_date, max(date_day)
        from marts.dim_date
        where retail_period_start_date in (
            select distinct calendar.retail_period_start_date
            from marts.mart_available_inventory as inventory
            inner join marts.dim_date as calendar on inventory.as_of_date = calendar.date_day
        )
        group by retail_period_start_date
        """
    ).fetchall()
    assert len(periods) >= 2
    for start, end in periods:
        close = min(end, latest)
        on_close, over_days = clean_marts.execute(
            """
            select
                sum(case when as_of_date = ? then on_hand_units end),
                sum(on_hand_units)
            from marts.mart_available_inventory
            where as_of_date between ? and ?
            """,
            [close, start, close],
        ).fetchone()
        assert totals[str(start)] == on_close, f"on hand at the close of the period of {start}"
        assert on_close != over_days


def test_retail_calendar_grouping_agrees_with_dim_date(clean_answers: dict, clean_marts) -> None:
    """Net sales and units by day, folded into dim_date's weeks, periods, quarters and years,
    equal MetricFlow's own grouping by those custom granularities."""
    first = len(CLEAN_QUERIES)
    daily = clean_answers["answers"][first + len(CALENDAR_GRAINS)]
    calendar = {
        str(row[0]): row[1:]
        for row in clean_marts.execute(
            """
            select date_day, retail_week_start_date, retail_period_start_date,
                retail_quarter_start_date, retail_year_start_date
            from marts.dim_date
            """
        ).fetchall()
    }
    for position, grain in enumerate(CALENDAR_GRAINS):
        folded: dict[str, list] = defaultdict(lambda: [Decimal(0), 0])
        for row in daily["rows"]:
            bucket = str(calendar[value(row[0])][position])
            folded[bucket][0] += Decimal(f"{row[1]:.2f}")
            folded[bucket][1] += row[2]
        answer = clean_answers["answers"][first + position]
        got = {value(row[0]): [Decimal(f"{row[1]:.2f}"), row[2]] for row in answer["rows"]}
        assert got == dict(folded), grain


def test_saved_queries_answer_and_equal_the_marts(
    clean_world: BuiltWorld, clean_answers: dict, clean_marts
) -> None:
    definitions = saved_query_definitions(clean_world)
    assert set(definitions) == {
        "finance_daily_flash",
        "merchandising_period_review",
        "supply_chain_stock_position",
    }
    first = len(CLEAN_QUERIES) + len(CALENDAR_QUERIES)
    for offset, (name, definition) in enumerate(definitions.items()):
        answer = clean_answers["answers"][first + offset]
        metrics = tuple(definition["query_params"]["metrics"])
        groups = tuple(column for column in answer["columns"] if column not in metrics)
        assert answer["rows"], name
        assert check_query(clean_marts, Query(metrics, groups), answer, False) > 0, name


def test_demand_forecast_is_the_latest_publication(clean_marts) -> None:
    """mart_demand_forecast, recomputed from the planning extract as staged: on each date, per
    location and SKU, the units of the latest publication on or before it for its weeks
    starting within 28 days of it."""
    weeks = clean_marts.execute(
        """
        select forecast_created_date, week_start_date, location_id, sku, forecast_units
        from staging.stg_planning__forecasts
        """
    ).fetchall()
    dates = [
        row[0]
        for row in clean_marts.execute(
            "select distinct as_of_date from marts.mart_available_inventory"
        ).fetchall()
    ]
    publications: dict = defaultdict(lambda: defaultdict(Decimal))
    for created, week, location, sku, units in weeks:
        if 0 <= (week - created).days < 28:
            publications[created][(location, sku)] += units
    expected = {}
    for day in dates:
        published = [created for created in publications if created <= day]
        if published:
            for key, units in publications[max(published)].items():
                expected[(day, *key)] = units
    got = {
        (row[0], row[1], row[2]): row[3]
        for row in clean_marts.execute(
            """
            select as_of_date, location_id, sku, forecast_units_next_28_days
            from marts.mart_demand_forecast
            """
        ).fetchall()
    }
    assert expected and got == expected


# ---- documents ---------------------------------------------------------------------------------

DOCUMENT = re.compile(r'((?:[\w.-]+/)*[\w-]+\.md)\b(?:,? (?:section )?"([^"]+)")?')


def descriptions(manifest: dict) -> list[tuple[str, str]]:
    texts = []
    for kind in ("nodes", "sources", "metrics", "semantic_models", "saved_queries", "exposures"):
        for name, node in manifest.get(kind, {}).items():
            texts.append((name, node.get("description") or ""))
            for column, spec in (node.get("columns") or {}).items():
                texts.append((f"{name}.{column}", spec.get("description") or ""))
            for part in ("measures", "dimensions", "entities"):
                for element in node.get(part) or []:
                    texts.append((f"{name}.{element['name']}", element.get("description") or ""))
    for name, doc in manifest.get("docs", {}).items():
        texts.append((name, doc["block_contents"]))
    return texts


def test_no_description_cites_a_document_outside_the_repository(clean_world: BuiltWorld) -> None:
    """Every document a dbt description, doc block or project document cites is in the
    repository, and a cited section is a heading of it."""
    manifest = json.loads((clean_world.warehouse.parent / "target" / "manifest.json").read_text())
    texts = descriptions(manifest)
    for document in [*(PROJECT_ROOT / "docs").glob("*.md"), PROJECT_ROOT / "README.md"]:
        texts.append((str(document.relative_to(PROJECT_ROOT)), document.read_text()))
    tracked = {
        path.name
        for path in PROJECT_ROOT.rglob("*.md")
        if not {".venv", "target", "logs", "data", "dbt_packages"} & set(path.parts)
    }
    cited = 0
    for name, text in texts:
        for match in DOCUMENT.finditer(text):
            path, section = match.group(1), match.group(2)
            document = PROJECT_ROOT / path
            exists = document.is_file() if "/" in path else path in tracked
            assert exists, f"{name} cites {path}, which is not in the repository"
            cited += 1
            if section:
                wanted = " ".join(section.split()).lower()
                headings = [
                    " ".join(line.lstrip("#").split()).lower()
                    for line in document.read_text().splitlines()
                    if line.startswith("#")
                ]
                assert any(wanted in heading for heading in headings), (
                    f"{name} cites section {section!r} of {path}, which has no such heading"
                )
    assert cited > 0
