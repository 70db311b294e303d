"""python -m benchmarks.lake --landing DIR [--repeat N]: the cost of the raw lake's sync.

Ingests every business date but the last into a fresh warehouse (no lake), then times, REPEAT
times each (medians): the first sync into an empty lake (every partition written), one more
business date ingested with its sync (the sync's own seconds and the part files it wrote), and a
sync with nothing new. Prints the lake's size.

python -m benchmarks.lake --row-check STATE [--repeat N]: the lake's row check alone
(`lake_row_breaks`) over a kept state (`python -m benchmarks service --keep-full STATE`: its
warehouse.duckdb, read only, and a copy of its lake/), for every extract and for the ERP's,
each "cold" (no record of counts: every part file's footer read) and "warm" (the record of the
call before: no footer read again), REPEAT times each (medians of wall and CPU).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from ingestion.discover import discover
from ingestion.lake import PART_ROWS, lake_row_breaks, lake_tables, sync_lake
from ingestion.load import ingest


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lake", description=__doc__)
    parser.add_argument("--landing")
    parser.add_argument("--row-check", metavar="STATE", help="a kept state's folder")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scratch", default=None, help="folder for the scratch warehouses")
    args = parser.parse_args(argv)
    if args.row_check:
        row_check(Path(args.row_check), args.repeat, args.scratch)
        return
    if not args.landing:
        parser.error("give --landing DIR (or --row-check STATE)")
    landing = Path(args.landing)
    dates = sorted({f.business_date for f in discover(landing) if f.is_known and not f.is_rejected})
    scratch = Path(tempfile.mkdtemp(prefix="concord-lake-bench-", dir=args.scratch))
    try:
        full, day, nothing, files = [], [], [], 0
        for i in range(args.repeat):
            warehouse, lake = scratch / f"w{i}.duckdb", scratch / f"lake{i}"
            ingest(landing, warehouse, business_dates=set(dates[:-1]))
            with duckdb.connect(str(warehouse)) as con:
                started = time.perf_counter()
                first = sync_lake(con, lake)
                full.append(time.perf_counter() - started)
                assert not first.breaks, first.summary()
            report = ingest(landing, warehouse, business_dates={dates[-1]}, lake_dir=lake)
            assert report.lake is not None and not report.lake.breaks, report.summary()
            day.append(report.lake.seconds)
            files = report.lake.files_written
            with duckdb.connect(str(warehouse)) as con:
                again = sync_lake(con, lake)
                assert again.files_written == again.files_removed == 0
                nothing.append(again.seconds)
            size = _size(lake)
            shutil.rmtree(lake)
            warehouse.unlink()
        print(
            f"first sync of {len(dates) - 1} business dates ({first.files_written} part files, "
            f"{first.rows_written} rows): median {statistics.median(full):.2f} s over "
            f"{len(full)} runs"
        )
        print(
            f"one more business date ({dates[-1]}, {files} part files): sync median "
            f"{statistics.median(day):.2f} s"
        )
        print(f"a sync with nothing new: median {statistics.median(nothing):.2f} s")
        print(f"lake size {size / 2**20:.1f} MiB")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def row_check(state: Path, repeat: int, scratch_dir: str | None) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="concord-lake-bench-", dir=scratch_dir))
    try:
        lake = scratch / "lake"
        shutil.copytree(state / "lake", lake)
        (lake / PART_ROWS).unlink(missing_ok=True)
        parts = sum(1 for _ in lake.glob("raw/**/part-*.parquet"))
        extracts = [t.name for t in lake_tables() if t.kind == "extract"]
        erp = {name for name in extracts if name.startswith("erp_")}
        with duckdb.connect(str(state / "warehouse.duckdb"), read_only=True) as con:
            for label, scope in (
                (f"every extract ({len(extracts)})", None),
                (f"the ERP's {len(erp)}", erp),
            ):
                for kind in ("cold", "warm"):
                    wall, cpu = [], []
                    for _ in range(repeat):
                        if kind == "cold":
                            (lake / PART_ROWS).unlink(missing_ok=True)
                        else:
                            lake_row_breaks(con, lake, scope)
                        used = resource.getrusage(resource.RUSAGE_SELF)
                        started = time.perf_counter()
                        breaks = lake_row_breaks(con, lake, scope)
                        wall.append(time.perf_counter() - started)
                        after = resource.getrusage(resource.RUSAGE_SELF)
                        cpu.append(
                            sum(
                                getattr(after, f) - getattr(used, f)
                                for f in ("ru_utime", "ru_stime")
                            )
                        )
                        assert not breaks, breaks
                    print(
                        f"row check, {label}, {kind}: median {statistics.median(wall):.2f} s wall, "
                        f"{statistics.median(cpu):.2f} s CPU over {repeat}"
                    )
        print(f"{parts} part files")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
