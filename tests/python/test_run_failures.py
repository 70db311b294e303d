"""A step that fails inside `python -m orchestration.run` is named with its own error.

Issue 13, defect 4: on a real ERP's data an ingestion step failed and the run ended in a DuckDB
`ConnectionException` from a later read, hiding the cause. The run must end with the failed
step and the first line of its real error, exit 1, and publish nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import ingestion.discover
from orchestration import ingest, run

CAUSE = "pos_sales_20260105.csv row 2 column quantity: cannot convert 'x' (injected fault)"


def test_a_failed_ingest_step_is_reported_with_its_own_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    landing = tmp_path / "landing"
    day = landing / "pos" / "2026-01-05"
    day.mkdir(parents=True)
    (day / "pos_sales_20260105.csv").write_text("x\n")
    monkeypatch.setenv("CONCORD_LANDING_DIR", str(landing))
    monkeypatch.setenv("CONCORD_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("CONCORD_SERVED_WAREHOUSE", str(tmp_path / "served.duckdb"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)

    listings: list[Path] = []
    real_walk = ingestion.discover._walk

    def counted_walk(landing_dir: Path) -> list:
        listings.append(landing_dir)
        return real_walk(landing_dir)

    monkeypatch.setattr(ingestion.discover, "_walk", counted_walk)
    listed_before_the_job: list[int] = []

    def failing_ingest(*args: object, **kwargs: object) -> None:
        listed_before_the_job.append(len(listings))
        raise RuntimeError(CAUSE)

    # The fault is injected where the step calls ingestion, so the step fails as it would on
    # a file ingestion cannot handle; everything after it runs for real.
    monkeypatch.setattr(ingest, "ingest", failing_ingest)

    assert run.main() == 1
    # the range check, the printed range and the ingest range: one listing of the landing zone
    # before the first ingest step starts
    assert listed_before_the_job[:1] == [1]
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert "ingest_job: FAILED" in output
    failures = [line.strip() for line in output.splitlines() if "failed step" in line]
    assert failures, output
    assert all(line.endswith(CAUSE) for line in failures), failures
    assert "published: NOTHING (ingestion failed, the build did not run)" in output
    assert "ConnectionException" not in output
    assert "Traceback" not in output
