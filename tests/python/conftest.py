"""Shared generated worlds: each is simulated, ingested and built once per test session."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from ingestion.load import ingest
from simulation.__main__ import generate, parse_args

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Test worlds live outside the default landing zone, which needs a salt of its own
# (ingestion/pii.py); a test value, not a secret.
os.environ.setdefault("CONCORD_PII_SALT", "concord-test-salt-not-secret")
# Each test warehouse keeps its raw lake beside it (ingestion/lake.py): a lake belongs to one
# warehouse, so one set for the shell must not be shared by the tests' many warehouses.
os.environ.pop("CONCORD_LAKE_DIR", None)
# Long enough for replenishment, cross-entity transfers, returns and a price change to happen.
WORLD_ARGS = [
    "--seed",
    "21",
    "--scale-factor",
    "0.05",
    "--days",
    "45",
    "--start-date",
    "2026-01-01",
]

# A smaller clean world for tests that change a few landing files and rebuild: four weeks are
# enough for receipts, invoices with freight and duty, transfers and returns.
SMALL_WORLD_ARGS = [
    "--seed",
    "21",
    "--scale-factor",
    "0.05",
    "--days",
    "28",
    "--start-date",
    "2026-01-01",
    "--clean",
]

# A real single-entity ERP retailer's minimal data (issue 13): one currency with no FX extract,
# no supplier invoices, optional master attributes left empty. It starts in 2012 (history before
# any calendar constant; it spans 29 February) and must build with no setting edited, no warning
# and no error.
MINIMAL_ERP_WORLD_ARGS = [
    "--seed",
    "23",
    "--scale-factor",
    "0.02",
    "--days",
    "21",
    "--start-date",
    "2012-02-01",
    "--clean",
    "--single-currency",
    "--no-supplier-invoices",
    "--sparse-master",
]
# The same tiny retailer in 2026 with the master data as one snapshot then change records
# (simulation/master_deltas.py).
DELTAS_WORLD_ARGS = [
    *MINIMAL_ERP_WORLD_ARGS[:7],
    "2026-03-01",
    "--clean",
    "--master-data",
    "deltas",
]
# ... and with extracts that start mid-life: day-0 stock as opening balances with their cost.
OPENING_WORLD_ARGS = [*MINIMAL_ERP_WORLD_ARGS[:7], "2026-03-01", "--clean", "--opening-balances"]


@dataclass(frozen=True)
class BuiltWorld:
    root: Path
    warehouse: Path

    @property
    def truth(self) -> Path:
        return self.root / "truth"

    @property
    def landing(self) -> Path:
        return self.root / "landing"


# What a dbt build of the project reads: copied whole by the tests that edit a seed or a model
PROJECT_PARTS = ("dbt_project.yml", "profiles", "models", "macros", "seeds", "tests/dbt")


def copy_project(project: Path) -> Path:
    """A copy of the dbt project at `project` (a new folder), whose seeds and models a test may
    edit without touching the repository's."""
    for part in PROJECT_PARTS:
        source, target = PROJECT_ROOT / part, project / part
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return project


def dbt(
    *args: str, warehouse: Path, check: bool = True, project: Path | None = None
) -> subprocess.CompletedProcess:
    """Run dbt from the project root (or a copy of it) against a warehouse, with artifacts
    beside the warehouse (the project's own target/ keeps the manifest Dagster loaded); unless
    check is false, fail with dbt's output when dbt fails."""
    env = os.environ | {"CONCORD_WAREHOUSE": str(warehouse)}
    executable = Path(sys.executable).parent / "dbt"
    artifacts = [
        "--target-path",
        str(warehouse.parent / "target"),
        "--log-path",
        str(warehouse.parent / "logs"),
    ]
    result = subprocess.run(
        [str(executable), *args, "--profiles-dir", "profiles", "--project-dir", ".", *artifacts],
        cwd=project or PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if check and result.returncode != 0:
        pytest.fail(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr}")
    return result


def build_small_project(
    project: Path, warehouse: Path, config: str, profile: str, files: dict[str, str], *args: str
) -> Path:
    """A small dbt project in a fresh folder `project`, with this project's generic tests:
    dbt_project.yml (config), profiles.yml (profile, formatted with the warehouse's path) and
    `files` (path in the project -> text); then `dbt build *args`. Fails with dbt's output unless
    dbt ran its nodes (exit 0, or 1 when a test failed, as the small projects' rows make some do
    on purpose). Returns the project's target folder."""
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(PROJECT_ROOT / "tests" / "dbt" / "generic", project / "tests" / "generic")
    warehouse.unlink(missing_ok=True)
    (project / "dbt_project.yml").write_text(config)
    (project / "profiles.yml").write_text(profile.format(warehouse=warehouse))
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    built = build_in(project, *args)
    assert built.returncode in {0, 1}, built.stdout + built.stderr
    return project / "target"


def build_in(project: Path, *args: str) -> subprocess.CompletedProcess:
    """`dbt build *args` in a small project with its own profiles.yml (not this project's)."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "build", *args]
        + ["--profiles-dir", ".", "--project-dir", "."],
        cwd=project,
        env={k: v for k, v in os.environ.items() if k != "DBT_PROFILES_DIR"},
        capture_output=True,
        text=True,
        check=False,
    )


def build_world(root: Path, *extra: str, world_args: list[str] = WORLD_ARGS) -> BuiltWorld:
    generate(parse_args([*world_args, "--out", str(root), *extra]))
    warehouse = root / "warehouse.duckdb"
    ingest(root / "landing", warehouse, lake_dir=root / "lake")
    dbt("build", warehouse=warehouse)
    return BuiltWorld(root, warehouse)


@pytest.fixture(scope="session")
def minimal_erp_world(tmp_path_factory: pytest.TempPathFactory) -> BuiltWorld:
    """The minimal ERP world (its dbt artifacts, run_results.json included, in target/ beside
    the warehouse)."""
    return build_world(tmp_path_factory.mktemp("minimal_erp"), world_args=MINIMAL_ERP_WORLD_ARGS)


@pytest.fixture(scope="session")
def deltas_world(tmp_path_factory: pytest.TempPathFactory) -> BuiltWorld:
    return build_world(tmp_path_factory.mktemp("deltas"), world_args=DELTAS_WORLD_ARGS)


@pytest.fixture(scope="session")
def opening_world(tmp_path_factory: pytest.TempPathFactory) -> BuiltWorld:
    return build_world(tmp_path_factory.mktemp("opening"), world_args=OPENING_WORLD_ARGS)


@pytest.fixture(scope="session")
def clean_world(tmp_path_factory: pytest.TempPathFactory) -> BuiltWorld:
    return build_world(tmp_path_factory.mktemp("clean_world"), "--clean")


@pytest.fixture(scope="session")
def defective_world(tmp_path_factory: pytest.TempPathFactory) -> BuiltWorld:
    return build_world(tmp_path_factory.mktemp("defective_world"))


def redeliver(landing: Path, system: str, extract: str, day: date, rows: list[dict]) -> Path:
    """A second delivery of a day's CSV extract, as the contract has a source correct one
    (<extract>_<yyyymmdd>_2.csv in the day's folder, LF line ends; it replaces the first
    delivery): the first delivery's rows, if any, and `rows`."""
    folder = landing / system / day.isoformat()
    first = folder / f"{extract}_{day:%Y%m%d}.csv"
    with first.open(newline="") as handle:
        reader = csv.DictReader(handle)
        header, kept = list(reader.fieldnames or []), list(reader)
    path = folder / f"{extract}_{day:%Y%m%d}_2.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows([*kept, *rows])
    return path


# ---- two workers (pytest-xdist) ----------------------------------------------------------------
# A world is built once per worker that asks for it, so the tests that share a world run on the
# same worker: the modules of the session worlds clean/defective/opening together, the Dagster
# runs together (they share the project's target/ and a code location), every other module on
# its own (its module-scoped worlds stay in one worker, its tests in order). The scheduler below
# does the grouping: xdist's own `loadgroup` marks do not take with pytest 9 (xdist 3.8 renames
# `_nodeid`, which pytest 9 no longer reads).
SHARED_WORLD_MODULES = {
    "test_anomalies",
    "test_controls",
    "test_dashboard",
    "test_forecast_accuracy",
    "test_incremental",
    "test_ingestion",
    "test_kpi_marts",
    "test_lake",
    "test_layers",
    "test_opening_balances",
    "test_semantic_layer",
    "test_wholesale",
    "test_work_orders",
}
DAGSTER_MODULES = {
    "test_orchestration",
    "test_pipeline",
    "test_publish_pipeline",
    "test_run_failures",
    "test_service",
}


def worker_group(module: str) -> str:
    if module in SHARED_WORLD_MODULES:
        return "shared_worlds"
    if module in DAGSTER_MODULES:
        return "dagster"
    return module


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Whole groups (worker_group of the test's module) to one worker each, in collection order."""
    from xdist.scheduler import LoadScopeScheduling

    class WorldGroups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1].removesuffix(".py")
            return worker_group(module)

    return WorldGroups(config, log)
