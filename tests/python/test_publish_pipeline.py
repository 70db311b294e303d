"""Write-audit-publish through the whole pipeline (`python -m orchestration.run` as a separate
process, as `make run` starts it), on a small clean world delivered in three parts:

1. the first part is ingested, built and published with the command lines (v000001);
2. the second part arrives and a run publishes v000002 while a reader process queries the
   served copy every ~100 ms on a connection it holds open: no read fails, none mixes versions;
3. the third part arrives; runs are killed with SIGKILL during ingestion and at two points of
   the dbt build: each time the served copy is byte for byte v000002 and opens; the next run,
   without any manual step, publishes v000003, equal to the simulation's truth; a publisher
   killed while copying that build leaves v000003, and publishing again gives v000004.

A build whose check fails at error is then run through Dagster: nothing is published.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest
from dagster_dbt import get_asset_key_for_model

from publishing import served
from simulation.__main__ import generate, parse_args

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WORLD = ["--seed", "21", "--scale-factor", "0.05", "--days", "12", "--start-date", "2026-01-01"]
PARTS = ["2026-01-06", "2026-01-09", "2026-01-12"]  # last delivery date of each part
RUN_TIMEOUT = 900


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class World:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.source = root / "world"
        self.landing = root / "landing"
        self.warehouse = root / "warehouse.duckdb"
        self.served = root / "served.duckdb"
        self.dagster_home = root / "dagster_home"
        self.env = os.environ | {
            "PYTHONPATH": str(PROJECT_ROOT),
            "CONCORD_LANDING_DIR": str(self.landing),
            "CONCORD_WAREHOUSE": str(self.warehouse),
            "CONCORD_SERVED_WAREHOUSE": str(self.served),
            "DAGSTER_HOME": str(self.dagster_home),
        }
        self.env.pop("CONCORD_PG_DSN", None)
        self.dbt_seconds: float | None = None

    def deliver(self, first: str, last: str) -> None:
        """Copy the delivery folders dated first..last into the landing zone."""
        for folder in sorted((self.source / "landing").glob("*/*")):
            if first <= folder.name <= last:
                shutil.copytree(folder, self.landing / folder.parent.name / folder.name)

    def start_run(self) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "orchestration.run"],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )


def session_processes(session: int) -> dict[int, str]:
    """Every process of a session (pid -> command line): the run and the dbt it started."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) != session:
                continue
            out[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            continue
    return out


def dbt_running(session: int) -> bool:
    return any("dbt" in cmd and " build" in cmd for cmd in session_processes(session).values())


def kill_session(process: subprocess.Popen) -> None:
    """SIGKILL the run's process group and any process of its session outside it."""
    os.killpg(process.pid, signal.SIGKILL)
    for pid in session_processes(process.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=60)


def wait_for(process: subprocess.Popen, condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    while not condition():
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            pytest.fail(f"the run ended before {what}:\n{output[-3000:]}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def finish(process: subprocess.Popen) -> str:
    output, _ = process.communicate(timeout=RUN_TIMEOUT)
    assert process.returncode == 0, output[-5000:]
    return output


def served_state(world: World) -> tuple[int, str]:
    with served.connect(world.served) as con:
        version = served.current_publication(con)["version"]
        con.execute("select count(*) from marts.mart_net_sales").fetchall()
    return version, sha256(world.served)


def version_totals(world: World) -> dict[int, tuple[int, str]]:
    totals = {}
    for number, path in served.version_files(served.settings.versions_dir(world.served)).items():
        with duckdb.connect(str(path), read_only=True) as con:
            rows, total = con.execute(
                "select count(*), sum(net_sales) from marts.mart_net_sales"
            ).fetchall()[0]
        totals[number] = (rows, str(total))
    return totals


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The first part, ingested, built and published by hand (the command line a user would run
    without Dagster): v000001."""
    w = World(tmp_path_factory.mktemp("wap"))
    generate(parse_args([*WORLD, "--out", str(w.source), "--clean"]))
    w.dagster_home.mkdir()
    shutil.copy(PROJECT_ROOT / "orchestration" / "dagster.yaml", w.dagster_home)
    w.deliver("0000-00-00", PARTS[0])
    python = [sys.executable, "-m"]
    ingest = [*python, "ingestion", "--landing", str(w.landing), "--warehouse", str(w.warehouse)]
    subprocess.run(ingest, env=w.env, cwd=PROJECT_ROOT, check=True, capture_output=True)
    build = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "build",
            "--exclude-resource-type",
            "unit_test",
            *["--profiles-dir", "profiles", "--project-dir", "."],
            *["--target-path", str(w.root / "target"), "--log-path", str(w.root / "logs")],
        ],
        env=w.env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stdout[-3000:]
    publish = subprocess.run(
        [
            *python,
            "publishing",
            "publish",
            "--run-results",
            str(w.root / "target/run_results.json"),
        ],
        env=w.env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert "published v000001" in publish.stdout, publish.stdout + publish.stderr
    yield w


def test_a_reader_holding_the_served_copy_neither_fails_nor_blocks_a_run(world: World) -> None:
    world.deliver(PARTS[0] + "~", PARTS[1])  # "~" sorts after every date: the next day on
    out, stop = world.root / "reads.jsonl", world.root / "stop-reading"
    reader = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("served_reader.py")),
            world.served,
            out,
            stop,
        ],
        env=world.env,
        cwd=PROJECT_ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        while not out.exists() or len(out.read_text().splitlines()) < 5:
            assert reader.poll() is None and time.monotonic() < deadline, (
                "the reader is not reading"
            )
            time.sleep(0.05)
        run = world.start_run()
        wait_for(run, lambda: dbt_running(run.pid), "dbt started")
        dbt_started = time.monotonic()
        while dbt_running(run.pid):
            time.sleep(0.05)
        world.dbt_seconds = time.monotonic() - dbt_started
        output = finish(run)
        time.sleep(1.5)  # a few reads after the switch
    finally:
        stop.touch()
        reader.wait(timeout=30)
    assert "published: v000002" in output and "served copy: v000002" in output, output[-3000:]
    reads = [json.loads(line) for line in out.read_text().splitlines()]
    errors = [r for r in reads if "error" in r]
    assert errors == [], errors[:5]
    totals = version_totals(world)
    mixed = [r for r in reads if totals[r["version"]] != (r["rows"], r["net_sales"])]
    assert mixed == [], mixed[:5]
    held = {r["version"] for r in reads if r["kind"] == "held"}
    fresh = [r["version"] for r in reads if r["kind"] == "fresh"]
    assert held == {1}, "the held connection keeps the version it opened"
    assert fresh[0] == 1 and fresh[-1] == 2 and fresh == sorted(fresh)
    assert len(reads) > 100, f"only {len(reads)} reads during the run"
    assert max(r["seconds"] for r in reads) < 5, "a read waited on the pipeline"


def truth_by_date(world: World) -> pd.DataFrame:
    truth = pd.read_csv(world.source / "truth" / "net_sales.csv")
    return truth.groupby("business_date")[["units_sold", "net_sales"]].sum().round(2)


def served_by_date(world: World) -> pd.DataFrame:
    with served.connect(world.served) as con:
        frame = con.execute(
            "select strftime(business_date, '%Y-%m-%d') as business_date, "
            "sum(units_sold) as units_sold, sum(net_sales) as net_sales "
            "from marts.mart_net_sales group by 1 order by 1"
        ).df()
    frame["units_sold"] = frame["units_sold"].astype("int64")
    frame["net_sales"] = frame["net_sales"].astype(float).round(2)
    return frame.set_index("business_date")


def test_kill_9_during_ingestion_and_dbt_keeps_the_last_version_and_the_next_run_recovers(
    world: World,
) -> None:
    assert world.dbt_seconds, "the reader test measures the dbt build first"
    world.deliver(PARTS[1] + "~", PARTS[2])
    before = served_state(world)
    assert before[0] == 2
    wal = world.warehouse.with_name(world.warehouse.name + ".wal")

    def ingestion_writes(run: subprocess.Popen) -> None:
        """The build warehouse's write-ahead log appears or changes: ingestion is writing."""
        before = wal.stat().st_mtime_ns if wal.exists() else None
        wait_for(
            run,
            lambda: wal.exists() and wal.stat().st_mtime_ns != before,
            "ingestion wrote",
        )

    kill_points: list[tuple[str, Callable[[subprocess.Popen], None]]] = [
        ("ingestion", ingestion_writes),
        ("dbt, early", lambda run: dbt_after(run, 0.15 * world.dbt_seconds)),
        # near the middle of the build as the reader test timed it (a later delivery's build can
        # take a third less, so not nearer its end)
        ("dbt, late", lambda run: dbt_after(run, 0.45 * world.dbt_seconds)),
    ]
    for point, reach in kill_points:
        run = world.start_run()
        reach(run)
        kill_session(run)
        assert served_state(world) == before, f"killed during {point}: the served copy changed"
    output = finish(world.start_run())
    assert "published: v000003" in output, output[-3000:]
    with served.connect(world.served) as con:
        publication = served.current_publication(con)
    dates = [str(d) for d in publication["business_dates"]]
    assert dates[0] == "2026-01-01" and dates[-1] == PARTS[2]
    pd.testing.assert_frame_equal(
        served_by_date(world), truth_by_date(world), check_exact=False, atol=0.011
    )
    # The publisher killed while copying this real build, then run again by hand.
    before = served_state(world)
    publisher = subprocess.Popen(
        [sys.executable, "-m", "publishing", "publish"],
        cwd=PROJECT_ROOT,
        env=world.env | {served.PAUSE_ENV: "copy"},
        start_new_session=True,
    )
    marker = served.settings.versions_dir(world.served) / ".paused-copy"
    wait_for(publisher, marker.exists, "the publisher copied")
    kill_session(publisher)
    assert served_state(world) == before, "killed while publishing: the served copy changed"
    again = subprocess.run(
        [sys.executable, "-m", "publishing", "publish"],
        cwd=PROJECT_ROOT,
        env=world.env,
        capture_output=True,
        text=True,
    )
    assert "published v000004" in again.stdout, again.stdout + again.stderr
    pd.testing.assert_frame_equal(
        served_by_date(world), truth_by_date(world), check_exact=False, atol=0.011
    )


def dbt_after(run: subprocess.Popen, seconds: float) -> None:
    wait_for(run, lambda: dbt_running(run.pid), "dbt started")
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        assert dbt_running(run.pid), f"dbt ended within {seconds:.1f} s"
        time.sleep(0.05)


def test_a_check_failing_at_error_in_dagster_publishes_nothing(world: World) -> None:
    """Bad master data reaches raw (a location type the contract does not know); dbt rebuilds
    the location dimension (with its staging parent, a table) and its accepted-values test fails
    at error: the dbt step fails, Dagster does not run the publication, readers keep v000004."""
    from orchestration.dbt import DBT_RESOURCE, concord_dbt_assets
    from orchestration.publish import PUBLICATION_KEY, publication
    from orchestration.resources import ServedCopy, Warehouse

    before = served_state(world)
    broken = world.root / "broken.duckdb"
    shutil.copy(world.warehouse, broken)
    with duckdb.connect(str(broken)) as con:
        con.execute("update raw.erp_locations set location_type = 'bogus'")
    result = dg.materialize(
        [concord_dbt_assets, publication],
        # staging is a table: the dimension's staging parent is rebuilt from raw with it
        selection=[
            *(
                get_asset_key_for_model([concord_dbt_assets], model)
                for model in ("stg_erp__locations", "dim_location")
            ),
            PUBLICATION_KEY,
        ],
        resources={
            "dbt": DBT_RESOURCE,
            "warehouse": Warehouse(path=str(broken)),
            "served_copy": ServedCopy(path=str(world.served)),
        },
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    failed = [
        (e.event_specific_data.check_name, e.event_specific_data.severity)
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed
    ]
    assert failed == [
        # staging warns (its folder default), the dimension fails the build
        (
            "accepted_values_stg_erp__locations_location_type__store__dc__virtual",
            dg.AssetCheckSeverity.WARN,
        ),
        (
            "accepted_values_dim_location_location_type__store__dc__virtual",
            dg.AssetCheckSeverity.ERROR,
        ),
    ]
    publication_events = {
        e.event_type_value for e in result.all_events if e.step_key == "publication"
    }
    assert "ASSET_MATERIALIZATION" not in publication_events
    assert "STEP_START" not in publication_events, "the publication ran after a failed check"
    assert served_state(world) == before


def test_a_model_whose_columns_changed_is_named_with_its_remedy(world: World) -> None:
    """A new version of Concord that changes an incremental model's columns meets the table an
    older version built: the dbt step fails on that model, the run's summary names it with the
    remedy, and the full refresh it names rebuilds the table with the model's columns."""
    from orchestration import run
    from orchestration.dbt import DBT_RESOURCE, concord_dbt_assets
    from orchestration.resources import ServedCopy, Warehouse
    from publishing import settings as publishing_settings

    older = world.root / "older.duckdb"
    shutil.copy(world.warehouse, older)
    with duckdb.connect(str(older)) as con:
        con.execute("alter table staging.stg_webshop__order_lines add column retired integer")
    model = get_asset_key_for_model([concord_dbt_assets], "stg_webshop__order_lines")

    def build(full_refresh: bool) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            [concord_dbt_assets],
            selection=[model],
            resources={
                "dbt": DBT_RESOURCE,
                "warehouse": Warehouse(path=str(older)),
                "served_copy": ServedCopy(path=str(world.served)),
            },
            run_config=run.transform_config(full_refresh),
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
        )

    results = publishing_settings.build_results_path(older)
    assert not build(full_refresh=False).success
    (line,) = run.changed_shapes(results)
    assert "the columns of stg_webshop__order_lines changed" in line
    assert "make run FULL_REFRESH=1" in line
    assert build(full_refresh=True).success
    assert run.changed_shapes(results) == []
    with duckdb.connect(str(older), read_only=True) as con:
        columns = {
            row[0]
            for row in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'staging' and table_name = 'stg_webshop__order_lines'"
            ).fetchall()
        }
    assert "retired" not in columns and "order_id" in columns
