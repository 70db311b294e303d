"""The whole graph materialized through Dagster on a small generated world with defects:
ingestion, then dbt build with every test, exactly as `make run` does it."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration import run
from orchestration.definitions import build_definitions
from orchestration.resources import LandingZone, ServedCopy, Warehouse
from simulation import audit
from simulation.__main__ import generate, parse_args

WORLD = ["--seed", "11", "--scale-factor", "0.02", "--days", "21", "--start-date", "2026-03-02"]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("pipeline")
    generate(parse_args([*WORLD, "--out", str(root)]))
    paths = run.Paths(root / "landing", root / "warehouse.duckdb", root / "served.duckdb")
    defs = build_definitions(
        LandingZone(path=str(paths.landing)),
        Warehouse(path=str(paths.warehouse)),
        ServedCopy(path=str(paths.served)),
    )
    instance = dg.DagsterInstance.ephemeral()
    first = run.run_pipeline(defs, instance)
    raw_first = raw_fingerprint(paths.warehouse)
    second = run.run_pipeline(defs, instance)
    yield {
        "root": root,
        "first": first,
        "second": second,
        "raw_first": raw_first,
        "paths": paths,
        "warehouse": paths.warehouse,
        "served": paths.served,
    }


def raw_fingerprint(warehouse: Path) -> dict[str, tuple]:
    """Row count and an order-independent hash of every raw table (load times and the landing
    files' identities, a cache, excluded)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw' "
                "and table_name <> 'landing_file_identity'"
            ).fetchall()
        ]
        out = {}
        for t in sorted(tables):
            columns = [
                r[0]
                for r in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = 'raw' and table_name = ? and column_name not in "
                    "('_loaded_at', 'loaded_at')",
                    [t],
                ).fetchall()
            ]
            cols = ", ".join(f'"{c}"' for c in columns)
            out[t] = con.execute(f'select count(*), sum(hash({cols})) from raw."{t}"').fetchone()
    return out


def test_both_jobs_succeed_with_no_error_level_check_failing(pipeline: dict) -> None:
    for result in pipeline["first"] + pipeline["second"]:
        assert result.success, result.job_def.name
    assert [r.job_def.name for r in pipeline["first"]] == ["ingest_job", "transform_job"]
    errors = set()
    for result in pipeline["first"]:
        for event in result.all_events:
            if event.event_type_value == "ASSET_CHECK_EVALUATION":
                e = event.event_specific_data
                if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR:
                    errors.add(f"{e.asset_key.to_user_string()}:{e.check_name}")
    # the only errors: ingestion's checks on the files a person must look at (a held
    # re-delivery, an uncorrected failed one, a file refused for its date); no dbt test
    defects = injected(pipeline)
    expected = {f"raw/{x}:no_held_redeliveries" for x in defects["bad_redelivery_empty"]}
    expected |= {f"raw/{x}:files_loaded" for x in defects["bad_redelivery_garbage"]}
    if defects["bad_redelivery_garbage"]:
        expected.add("raw/load_log:no_failed_files")
    if defects["far_future_business_date"]:
        expected.add("raw/load_log:no_rejected_files")
    assert expected, "the world injected no file a person must look at"
    assert errors == expected


def injected(pipeline: dict) -> dict[str, set[str]]:
    """Extracts with a defect of each kind in the world's manifest."""
    found: dict[str, set[str]] = defaultdict(set)
    with (pipeline["root"] / "truth" / "defects.csv").open() as handle:
        for row in csv.DictReader(handle):
            found[row["kind"]].add(row["extract"])
    return found


def test_each_successful_build_publishes_a_version_that_says_what_it_is(pipeline: dict) -> None:
    assert run.published_version(pipeline["first"][1]) == "v000001"
    assert run.published_version(pipeline["second"][1]) == "v000002"
    text = run.summary(pipeline["served"])
    assert text.startswith("served copy: v000002") and "net sales (reporting currency)" in text
    with duckdb.connect(str(pipeline["served"]), read_only=True) as con:
        row = con.execute(
            "select checks_passed_count, checks_failed_count, checks_warned, open_exceptions "
            "from publication where version = 2"
        ).fetchall()[0]
        schemata = con.execute("select schema_name from information_schema.schemata").fetchall()
    schemas = {r[0] for r in schemata}
    assert row[0] > 100 and row[1] == 0 and row[3] > 0  # a defective world: open exceptions
    assert not {"raw", "staging", "intermediate", "seeds", "snapshots"} & schemas


def test_the_run_report_separates_what_needs_a_person_from_the_injected_defects(
    pipeline: dict,
) -> None:
    """On a simulated world every injected defect is caught and said so; the files it spoiled
    are listed as known defects, not as news; owners see their open exceptions and impact."""
    with (pipeline["root"] / "truth" / "defects.csv").open() as handle:
        kinds = [row["kind"] for row in csv.DictReader(handle)]
    absorbed = sum(kind in audit.ABSORBED_KINDS for kind in kinds)
    audited = len(kinds) - absorbed
    assert audited > 10, "the world injected too few defects to say anything"
    text, status = run.report(pipeline["first"], before=0, paths=pipeline["paths"])
    assert status == 0, text
    lines = text.splitlines()
    assert f"  {audited} of {audited} injected defects caught, 0 missed" in "\n".join(
        line.split(" (")[0] for line in lines
    )
    assert any(line.startswith(f"  {absorbed} more absorbed by design") for line in lines)
    with duckdb.connect(str(pipeline["served"]), read_only=True) as con:
        owners = con.execute(
            "select owning_role, count(*) from marts.mart_exceptions "
            "where status in ('open', 'acknowledged') group by 1"
        ).fetchall()
    needs = lines[
        lines.index("Needs a person:") + 1 : lines.index(
            "Known (the simulated world's injected defects):"
        )
    ]
    assert len(needs) == len(owners) and owners
    for owner, count in owners:
        assert any(line.startswith(f"  {owner}: {count} open exception(s), ") for line in needs)
    spoiled = [line for line in lines if line.startswith("    ") and ": " in line]
    with duckdb.connect(str(pipeline["warehouse"]), read_only=True) as con:
        attention = con.execute(
            "select count(*) from raw.load_log where status in ('failed', 'held', 'rejected', "
            "'unknown')"
        ).fetchone()[0]
    assert attention > 0 and len(spoiled) == attention
    # the second run found nothing new: no file needs anyone
    text, status = run.report(pipeline["second"], before=10**9, paths=pipeline["paths"])
    assert status == 0 and "file(s) of this run" not in text


def test_stray_files_fail_the_unknown_files_check(pipeline: dict) -> None:
    manifest = (pipeline["root"] / "truth" / "defects.csv").read_text()
    assert "unknown_file" in manifest
    assert "raw/load_log:no_unknown_files" in run.failed_checks(pipeline["first"][1])


def test_every_whole_file_failure_shows_as_a_failed_check(pipeline: dict) -> None:
    """A failed file shows on its extract's files_loaded check: a warning once a corrected
    re-delivery replaced it, an error while none did (a garbage re-delivery stays failed)."""
    defects = injected(pipeline)
    corrected = set().union(*(defects[k] for k in ("truncated_file", "wrong_header", "empty_file")))
    uncorrected = defects["bad_redelivery_garbage"]
    assert corrected and uncorrected, "the world injected no whole-file failure of a kind"
    failing = {}
    for event in pipeline["first"][0].all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            e = event.event_specific_data
            if e.check_name == "files_loaded" and not e.passed:
                failing[e.asset_key.path[-1]] = e.severity
    assert set(failing) == corrected | uncorrected
    for extract, severity in failing.items():
        expected = (
            dg.AssetCheckSeverity.ERROR if extract in uncorrected else dg.AssetCheckSeverity.WARN
        )
        assert severity == expected, extract


def test_running_the_pipeline_again_changes_no_raw_table(pipeline: dict) -> None:
    assert raw_fingerprint(pipeline["warehouse"]) == pipeline["raw_first"]


def test_every_file_conserves_its_rows(pipeline: dict) -> None:
    with duckdb.connect(str(pipeline["warehouse"]), read_only=True) as con:
        breaks = con.execute(
            "select count(*) from raw.load_log where status in ('loaded', 'replaced') "
            "and rows_read <> rows_loaded + rows_quarantined"
        ).fetchone()[0]
        files = con.execute("select count(*) from raw.load_log").fetchone()[0]
    assert files > 200 and breaks == 0


def personal_values(landing: Path) -> set[str]:
    values = set()
    for path in landing.glob("webshop/*/*.jsonl"):
        for line in path.read_text().splitlines():
            try:
                customer = json.loads(line).get("customer")
            except json.JSONDecodeError:  # a spoiled line of a defective file: quarantined
                continue
            if customer:
                values |= {customer["email"], customer["full_name"], customer["phone"]}
    return values


def test_personal_data_is_absent_from_every_model(pipeline: dict) -> None:
    pii = personal_values(pipeline["root"] / "landing")
    assert len(pii) > 30
    with duckdb.connect(str(pipeline["warehouse"]), read_only=True) as con:
        con.execute("create temp table pii as select unnest(?) as value", [sorted(pii)])
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_schema not in ('raw', 'temp', 'main') "
            "and data_type in ('VARCHAR', 'JSON')"
        ).fetchall()
        assert columns, "no model columns to inspect"
        leaks = []
        for schema, table, column in columns:
            found = con.execute(
                f'select count(*) from "{schema}"."{table}" t '
                f'where cast(t."{column}" as varchar) in (select value from pii) '
                f"or cast(t.\"{column}\" as varchar) like '%@example.com%'"
            ).fetchone()[0]
            if found:
                leaks.append(f"{schema}.{table}.{column}")
    assert leaks == []
