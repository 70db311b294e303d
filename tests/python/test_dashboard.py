"""The control tower (dashboard/): every page rendered with Streamlit's AppTest on the defective
test world published as a served copy (no exception; headline figures equal to the marts'
own SQL for the same filters, in both currencies), the dbt exposures name what each page
reads, pages read either version completely while versions are published under them, and a
real headless Chromium (Debian's package, driven by playwright with its executable path, no
browser download) opens every page of the running app and saves screenshots under
data/screenshots/.

The browser test needs `chromium` on PATH (`make chromium` installs it; .ci/run does): without
it the test fails, it does not skip."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import PROJECT_ROOT, BuiltWorld
from streamlit.testing.v1 import AppTest

from dashboard.common import format_value
from publishing import served

PAGES_DIR = PROJECT_ROOT / "dashboard" / "views"
# page file -> (url path, heading)
PAGES = {
    "finance": ("finance", "Finance"),
    "merchandising": ("merchandising", "Merchandising"),
    "supply_chain": ("supply_chain", "Supply chain"),
    "integration": ("integration", "Integration health"),
    "exceptions": ("exceptions", "Exceptions"),
}
SCREENSHOTS = PROJECT_ROOT / "data" / "screenshots"


def publish(world: BuiltWorld, path: Path, keep: int = 5) -> served.PublishResult:
    target = world.root / "target"
    return served.publish(
        build=world.warehouse,
        run_results=served.load_json(target / "run_results.json"),
        manifest=served.load_json(target / "manifest.json"),
        served=path,
        keep=keep,
    )


@pytest.fixture(scope="module")
def served_copy(defective_world: BuiltWorld, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """The defective world's build published as a served copy, which the app reads through
    CONCORD_SERVED_WAREHOUSE; MetricFlow reads the world's semantic manifest."""
    path = tmp_path_factory.mktemp("dashboard") / "served.duckdb"
    publish(defective_world, path)
    saved = {
        k: os.environ.get(k) for k in ("CONCORD_SERVED_WAREHOUSE", "CONCORD_SEMANTIC_MANIFEST")
    }
    os.environ["CONCORD_SERVED_WAREHOUSE"] = str(path)
    os.environ["CONCORD_SEMANTIC_MANIFEST"] = str(
        defective_world.root / "target" / "semantic_manifest.json"
    )
    yield path
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> dict:
    cursor = con.execute(sql, params or [])
    return dict(zip([d[0] for d in cursor.description], cursor.fetchone(), strict=True))


def in_reporting(con: duckdb.DuckDBPyConnection, label: str) -> str:
    """A money tile's label in the reporting currency, which the tile names."""
    currency = con.execute("select min(reporting_currency_code) from marts.dim_entity").fetchone()
    return f"{label} ({currency[0]})"


def ratio(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    if numerator is None or not denominator:
        return None
    return Decimal(numerator) / Decimal(denominator)


class Scope:
    """The filters of a render, as a SQL predicate on a mart's own columns (written here, not
    taken from the app)."""

    def __init__(self, start=None, end=None, entities=(), channels=()) -> None:
        self.start, self.end, self.entities, self.channels = start, end, entities, channels

    def where(self, date_column: str | None, channel: bool = True) -> tuple[str, list]:
        parts, params = ["true"], []
        if date_column and self.start:
            parts.append(f"{date_column} between ? and ?")
            params += [self.start, self.end]
        if self.entities:
            parts.append(f"entity_code in ({', '.join('?' * len(self.entities))})")
            params += list(self.entities)
        if channel and self.channels:
            parts.append(f"channel in ({', '.join('?' * len(self.channels))})")
            params += list(self.channels)
        return " and ".join(parts), params


def finance_figures(con: duckdb.DuckDBPyConnection, scope: Scope) -> dict[str, str]:
    where, params = scope.where("business_date")
    sales = one(
        con,
        "select sum(net_sales_reporting) as n, sum(net_sales) as nf "
        f"from marts.mart_net_sales where {where}",
        params,
    )
    cogs = one(
        con,
        "select sum(cogs_reporting) as c, sum(gross_margin_reporting) as m, "
        f"sum(cogs) as cf from marts.mart_cogs where {where}",
        params,
    )
    where, params = scope.where("comparison_date", channel=False)
    recs = one(
        con,
        "select count(*) as n, count(*) filter (where status = 'break') as b, "
        "coalesce(sum(abs(difference_value_reporting)) filter (where status = 'break'), 0) as v "
        f"from marts.mart_reconciliations where {where}",
        params,
    )
    return {
        in_reporting(con, "Net sales"): format_value(sales["n"], "money"),
        in_reporting(con, "COGS"): format_value(cogs["c"], "money"),
        in_reporting(con, "Gross margin"): format_value(cogs["m"], "money"),
        "Gross margin %": format_value(ratio(cogs["m"], sales["n"]), "pct"),
        "Reconciliation comparisons": format_value(recs["n"], "units"),
        "Reconciliation breaks": format_value(recs["b"], "units"),
        in_reporting(con, "Value of reconciliation breaks"): format_value(recs["v"], "money"),
        "_net_sales_functional": format_value(sales["nf"], "money"),
        "_cogs_functional": format_value(cogs["cf"], "money"),
    }


def merchandising_figures(con: duckdb.DuckDBPyConnection, scope: Scope) -> dict[str, str]:
    where, params = scope.where("business_date")
    sales = one(
        con,
        "select sum(net_sales_reporting) as n, sum(units_sold) as s, sum(units_returned) as r "
        f"from marts.mart_net_sales where {where}",
        params,
    )
    margin = one(
        con, f"select sum(gross_margin_reporting) as m from marts.mart_cogs where {where}", params
    )
    where, params = scope.where("business_date", channel=False)
    received = one(
        con,
        "select sum(on_hand_units) as u from marts.fct_inventory_movements "
        f"where movement_type = 'receipt' and {where}",
        params,
    )
    return {
        in_reporting(con, "Net sales"): format_value(sales["n"], "money"),
        in_reporting(con, "Gross margin"): format_value(margin["m"], "money"),
        "Gross margin %": format_value(ratio(margin["m"], sales["n"]), "pct"),
        "Return rate": format_value(ratio(sales["r"], sales["s"]), "pct"),
        "Units received": format_value(received["u"], "units"),
    }


def supply_chain_figures(con: duckdb.DuckDBPyConnection, scope: Scope) -> dict[str, str]:
    where, params = scope.where(None, channel=False)
    last = one(
        con,
        "select max(as_of_date) as d from marts.mart_available_inventory "
        f"where as_of_date <= ? and {where}",
        [scope.end, *params],
    )["d"]
    stock = one(
        con,
        "select sum(on_hand_units) as h, sum(available_units) as a, sum(in_transit_units) as t, "
        "sum(on_order_units) as o, sum(inventory_value_reporting) as v, "
        "count(*) filter (where available_units < 0) as neg, "
        "count(*) filter (where available_units = 0) as zero "
        f"from marts.mart_available_inventory where as_of_date = ? and {where}",
        [last, *params],
    )
    network = one(
        con,
        "select sum(available_units) * 28 / nullif(sum(forecast_units_next_28_days), 0) as d, "
        "count(*) filter (where is_stock_out_risk) as r "
        f"from marts.mart_days_of_supply where as_of_date = ? and {where}",
        [last, *params],
    )
    where, params = scope.where("business_date", channel=False)
    receipts = one(
        con,
        "select sum(landed_amount_reporting) as l, sum(charges_amount_reporting) as c "
        f"from marts.fct_goods_receipt_lines where {where}",
        params,
    )
    return {
        "On hand units": format_value(stock["h"], "units"),
        "Available units": format_value(stock["a"], "units"),
        "In-transit units": format_value(stock["t"], "units"),
        "On-order units": format_value(stock["o"], "units"),
        in_reporting(con, "Inventory value"): format_value(stock["v"], "money"),
        "SKU-locations with negative available stock": str(stock["neg"]),
        "SKU-locations with zero available stock": str(stock["zero"]),
        "Network days of supply": format_value(network["d"], "number"),
        "SKUs at risk of a stock-out": format_value(network["r"], "units"),
        in_reporting(con, "Landed value received"): format_value(receipts["l"], "money"),
        in_reporting(con, "Freight and duty received"): format_value(receipts["c"], "money"),
    }


def integration_figures(con: duckdb.DuckDBPyConnection, scope: Scope) -> dict[str, str]:
    publication = served.current_publication(con)
    files = json.loads(publication["files_by_status"])
    where, params = scope.where("business_date", channel=False)
    deliveries = one(
        con,
        "select count(*) as e, count(*) filter (where is_complete) as c, "
        "count(*) filter (where status = 'missing') as m, "
        "count(*) filter (where status = 'held') as h "
        f"from marts.mart_completeness where is_expected and {where}",
        params,
    )
    return {
        "Files loaded": format_value(files.get("loaded", 0), "units"),
        "Files failed": format_value(files.get("failed", 0), "units"),
        "Files held": format_value(files.get("held", 0), "units"),
        "Rows quarantined": format_value(publication["rows_quarantined"], "units"),
        "Deliveries expected": format_value(deliveries["e"], "units"),
        "Deliveries complete": format_value(ratio(deliveries["c"], deliveries["e"]), "pct"),
        "Deliveries missing": format_value(deliveries["m"], "units"),
        "Deliveries held": format_value(deliveries["h"], "units"),
    }


def exceptions_figures(con: duckdb.DuckDBPyConnection, scope: Scope) -> dict[str, str]:
    as_of = served.current_publication(con)["last_business_date"]
    where, params = scope.where(None, channel=False)
    queue = one(
        con,
        "select count(*) as n, coalesce(sum(coalesce(affected_value_reporting, 0)), 0) as v, "
        "count(*) filter (where sla_due_date < ?) as late from marts.mart_exceptions "
        f"where status in ('open', 'acknowledged') and {where}",
        [as_of, *params],
    )
    return {
        "Open exceptions": format_value(queue["n"], "units"),
        in_reporting(con, "Impact of open exceptions"): format_value(queue["v"], "money"),
        f"Open and overdue on {as_of}": format_value(queue["late"], "units"),
    }


FIGURES = {
    "finance": finance_figures,
    "merchandising": merchandising_figures,
    "supply_chain": supply_chain_figures,
    "integration": integration_figures,
    "exceptions": exceptions_figures,
}


def render(page: str, **widgets: object) -> AppTest:
    app = AppTest.from_file(str(PAGES_DIR / f"{page}.py"), default_timeout=120)
    app.run()
    for key, value in widgets.items():
        app.sidebar.get(_kind(app, key))  # noqa: B018 - the widget must exist
        _widget(app, key).set_value(value)
    if widgets:
        app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _kind(app: AppTest, key: str) -> str:
    for kind in ("multiselect", "radio", "date_input", "selectbox"):
        if any(w.key == key for w in app.sidebar.get(kind)):
            return kind
    raise AssertionError(f"no sidebar widget with key {key!r}")


def _widget(app: AppTest, key: str):  # noqa: ANN202
    return next(w for w in app.sidebar.get(_kind(app, key)) if w.key == key)


def shown(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def check(app: AppTest, expected: dict[str, str]) -> None:
    figures = shown(app)
    wanted = {k: v for k, v in expected.items() if not k.startswith("_")}
    assert {k: figures.get(k) for k in wanted} == wanted


def dates(con: duckdb.DuckDBPyConnection) -> tuple:
    publication = served.current_publication(con)
    return publication["first_business_date"], publication["last_business_date"]


# The sidebar filters each page offers beyond the entity (inventory, receipts and completeness
# have no channel; the exception queue is the state as of the publication, not a range).
WITH_CHANNEL = {"finance", "merchandising"}
WITH_DATES = {"finance", "merchandising", "supply_chain", "integration"}


@pytest.mark.parametrize("page", list(PAGES))
def test_each_page_renders_its_headline_figures_equal_to_the_marts(
    served_copy: Path, page: str
) -> None:
    with served.connect(served_copy) as con:
        first, last = dates(con)
        entity = con.execute("select min(entity_code) from marts.dim_entity").fetchone()[0]
        everything = FIGURES[page](con, Scope(first, last))
        start, end = first + timedelta(days=7), first + timedelta(days=20)
        channels = ("store",) if page in WITH_CHANNEL else ()
        span = (start, end) if page in WITH_DATES else (first, last)
        narrowed = FIGURES[page](con, Scope(*span, (entity,), channels))
    app = render(page)
    assert [t.value for t in app.title] == [PAGES[page][1]]
    assert app.sidebar.markdown[0].value == "**Publication v000001**"
    check(app, everything)
    # the figures follow the filters: the first entity, stores only, two weeks
    widgets: dict[str, object] = {"entity": [entity]}
    if channels:
        widgets["channel"] = list(channels)
    if page in WITH_DATES:
        widgets["dates"] = (start, end)
    assert narrowed != everything
    check(render(page, **widgets), narrowed)


def test_the_app_starts_on_the_served_publication_with_a_link_to_every_page(
    served_copy: Path,
) -> None:
    app = AppTest.from_file(str(PROJECT_ROOT / "dashboard" / "app.py"), default_timeout=120).run()
    assert not app.exception, [e.value for e in app.exception]
    assert [t.value for t in app.title] == ["Concord control tower"]
    assert "Serving publication **v000001**" in app.markdown[0].value
    with served.connect(served_copy) as con:
        incomplete = served.current_publication(con)["incomplete_dates"]
    assert shown(app)["Incomplete business dates"] == format_value(len(incomplete), "units")
    links = {link.proto.page for link in app.get("page_link")}
    assert len(links) == len(PAGES)


def test_the_currency_switch_shows_each_entitys_functional_currency(served_copy: Path) -> None:
    with served.connect(served_copy) as con:
        first, last = dates(con)
        entities = con.execute(
            "select entity_code, functional_currency_code from marts.dim_entity order by 1"
        ).fetchall()
        expected = {}
        for entity, currency in entities:
            figures = finance_figures(con, Scope(first, last, (entity,)))
            expected[entity] = {
                f"Net sales (functional currency) ({currency})": figures["_net_sales_functional"],
                f"COGS (functional currency) ({currency})": figures["_cogs_functional"],
                "Gross margin %": figures["Gross margin %"],
            }
    assert len({currency for _, currency in entities}) > 1
    for entity, _ in entities:
        check(render("finance", entity=[entity], currency="functional"), expected[entity])
    # all entities: one row of money figures per functional currency, never a sum across them
    labels = shown(render("finance", currency="functional"))
    for _, currency in entities:
        assert f"Net sales (functional currency) ({currency})" in labels


def test_a_retail_period_filters_like_its_dates(served_copy: Path) -> None:
    app = render("finance", date_mode="4-5-4 period")
    period = _widget(app, "period")
    choice = period.options[-1]
    period.set_value(choice).run()
    assert not app.exception
    lo, hi = re.search(r"\((\S+) to (\S+)\)", choice).groups()
    with served.connect(served_copy) as con:
        first, last = dates(con)
        bounds = con.execute(
            "select min(date_day), max(date_day) from marts.dim_date "
            "where date_day between ? and ? and retail_period_start_date = "
            "(select retail_period_start_date from marts.dim_date where date_day = ?)",
            [first, last, hi],
        ).fetchone()
        assert [str(b) for b in bounds] == [lo, hi]
        check(app, finance_figures(con, Scope(*bounds)))


def test_the_drill_down_shows_the_rows_behind_an_exception(served_copy: Path) -> None:
    app = render("exceptions")
    drill = next(w for w in app.selectbox if w.key == "drill")
    # a reconciliation break (the anomaly volume_break is not one), a price mismatch, a
    # quarantined row, a missing delivery and anomalies (a stock-out risk's network positions,
    # the returns behind a SKU's or a customer's return rate, a shrink spike's movements, a
    # store's lines sold below the list); an option reads "#<n> <type> <natural key>"
    wanted = (
        lambda kind: kind.endswith("_break") and kind != "volume_break",
        lambda kind: kind == "pos_price_mismatch",
        lambda kind: kind == "quarantined_row",
        lambda kind: kind == "missing_delivery",
        lambda kind: kind == "stock_out_risk",
        lambda kind: kind == "sku_return_rate_outlier",
        lambda kind: kind == "customer_return_rate_outlier",
        lambda kind: kind == "shrink_spike",
        lambda kind: kind == "systematic_underpricing",
    )
    picked = [next(o for o in drill.options if wants(o.split()[1])) for wants in wanted]
    for label in picked:
        drill.set_value(label).run()
        assert not app.exception, [e.value for e in app.exception]
        behind = app.dataframe[-1].value
        assert len(behind) > 0, label
        drill = next(w for w in app.selectbox if w.key == "drill")


def test_the_exposures_name_every_page_and_the_marts_and_metrics_it_reads(
    served_copy: Path,
) -> None:
    exposures = {
        e["name"]: e
        for e in yaml.safe_load((PROJECT_ROOT / "models/exposures.yml").read_text())["exposures"]
    }
    common = (PROJECT_ROOT / "dashboard" / "common.py").read_text()
    assert set(exposures) == {f"control_tower_{page}" for page in PAGES}
    for page, (url, _) in PAGES.items():
        exposure = exposures[f"control_tower_{page}"]
        assert exposure["url"].endswith(f"/{url}")
        refs = {
            re.fullmatch(r"ref\('(\w+)'\)", d).group(1)
            for d in exposure["depends_on"]
            if d.startswith("ref(")
        }
        source = (PAGES_DIR / f"{page}.py").read_text() + common
        assert set(re.findall(r"marts\.(\w+)", source)) == refs, page
        metrics = {
            re.fullmatch(r"metric\('(\w+)'\)", d).group(1)
            for d in exposure["depends_on"]
            if d.startswith("metric(")
        }
        read = set()
        for currency in ("reporting", "functional"):
            app = render(page, currency=currency)
            read |= (
                app.session_state["metrics_read"] if "metrics_read" in app.session_state else set()
            )
        assert read == metrics, page


def test_pages_show_either_version_completely_while_versions_are_published(
    served_copy: Path,
    clean_world: BuiltWorld,
    defective_world: BuiltWorld,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A publisher switches the served link between the clean and the defective builds (as a
    pipeline run publishes) while the finance page renders again and again: no render fails, and
    each shows one version's figures, those of the build that version holds."""
    path = tmp_path / "served.duckdb"
    builds = [defective_world, clean_world, defective_world, clean_world]
    publish(builds[0], path, keep=2)
    monkeypatch.setenv("CONCORD_SERVED_WAREHOUSE", str(path))
    expected = {}
    for world in (clean_world, defective_world):
        run = json.loads((world.root / "target" / "run_results.json").read_text())
        with duckdb.connect(str(world.warehouse), read_only=True) as con:
            figures = finance_figures(con, Scope())
            net_sales = in_reporting(con, "Net sales")
        expected[run["metadata"]["invocation_id"]] = figures[net_sales]
    assert len(set(expected.values())) == 2, "the two builds must differ to tell versions apart"
    invocation_of: dict[str, str] = {}  # version name -> the build it holds

    def publisher() -> None:
        for world in builds[1:]:
            time.sleep(0.3)
            result = publish(world, path, keep=2)
            invocation_of[result.name] = result.publication["dbt_invocation_id"]

    invocation_of["v000001"] = json.loads(
        (builds[0].root / "target" / "run_results.json").read_text()
    )["metadata"]["invocation_id"]
    thread = threading.Thread(target=publisher)
    thread.start()
    seen: list[tuple[str, str]] = []
    try:
        while thread.is_alive() or len(seen) < 3:
            app = AppTest.from_file(str(PAGES_DIR / "finance.py"), default_timeout=120).run()
            assert not app.exception, [e.value for e in app.exception]
            version = app.sidebar.markdown[0].value.strip("*").removeprefix("Publication ")
            seen.append((version, shown(app)[net_sales]))
    finally:
        thread.join()
    for version, net_sales in seen:
        assert net_sales == expected[invocation_of[version]], (version, seen)
    assert len({v for v, _ in seen}) >= 2, seen


# ---- a real browser ---------------------------------------------------------------------------


# Charts and tables draw after the script ends (their code loads lazily): the page is drawn when
# nothing waits (no skeleton, no spinner), every chart and table has drawn and the page has not
# changed for 1.5 s.
DRAWN = """() => {
    const charts = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')];
    const tables = [...document.querySelectorAll('[data-testid="stDataFrame"]')];
    const waiting = '[data-testid="stSkeleton"], [data-testid="stSpinner"]';
    const drawn = !document.querySelector(waiting)
        && charts.every(c => c.querySelector('canvas, svg'))
        && tables.every(t => t.querySelector('canvas, table'));
    const size = document.querySelectorAll('*').length;
    if (!drawn || window.concordSize !== size) {
        window.concordSize = size;
        window.concordSince = Date.now();
        return false;
    }
    return Date.now() - window.concordSince > 1500;
}"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def running_app(served_copy: Path) -> Iterator[str]:
    """`streamlit run dashboard/app.py` on 127.0.0.1 (as `make dashboard` starts it, with the
    settings of .streamlit/config.toml) on a free port."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "streamlit"),
            "run",
            "dashboard/app.py",
            "--server.port",
            str(port),
        ],
        cwd=PROJECT_ROOT,
        env=os.environ | {"PYTHONPATH": str(PROJECT_ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the app did not start:\n{process.communicate()[0][-3000:]}")
        time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=30)


def test_a_headless_chromium_opens_every_page_and_finds_its_figures(
    running_app: str, served_copy: Path
) -> None:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is not installed: `make chromium` (CI's .ci/run does)"
    from playwright.sync_api import sync_playwright

    with served.connect(served_copy) as con:
        first, last = dates(con)
        figures = {page: FIGURES[page](con, Scope(first, last)) for page in PAGES}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            view = browser.new_page(viewport={"width": 1400, "height": 2000})
            view.goto(running_app)  # the start page
            view.get_by_role("heading", name="Concord control tower", level=1).wait_for()
            view.get_by_text("Serving publication v000001").wait_for()
            for page, (url, heading) in PAGES.items():
                view.goto(f"{running_app}/{url}")
                view.get_by_role("heading", name=heading, level=1).wait_for(timeout=60_000)
                assert view.get_by_text("Page not found").count() == 0, page
                headline = next(k for k in figures[page] if not k.startswith("_"))
                tile = view.locator('[data-testid="stMetric"]', has_text=headline).first
                tile.wait_for(timeout=60_000)
                view.wait_for_function(
                    "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                    timeout=60_000,
                )
                assert figures[page][headline] in tile.inner_text(), (page, tile.inner_text())
                assert (
                    "Publication v000001" in view.locator('[data-testid="stSidebar"]').inner_text()
                )
                assert view.locator('[data-testid="stException"]').count() == 0, page
                view.wait_for_function(DRAWN, timeout=60_000, polling=250)
                view.screenshot(path=str(SCREENSHOTS / f"{page}.png"), full_page=True)
        finally:
            browser.close()
    assert {f"{page}.png" for page in PAGES} <= {p.name for p in SCREENSHOTS.glob("*.png")}


def test_dagster_shows_each_page_downstream_of_the_publication_it_reads() -> None:
    import dagster as dg

    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    for page in PAGES:
        node = graph.get(dg.AssetKey(["dashboard", f"control_tower_{page}"]))
        parents = {key.to_user_string() for key in node.parent_keys}
        assert "publication" in parents
        assert {"marts/dim_entity", "marts/dim_date"} <= parents
    # never materialized by the pipeline's jobs
    selected = defs.resolve_job_def("transform_job").asset_layer.selected_asset_keys
    assert not [key for key in selected if key.path[0] == "dashboard"]
