"""Command line: ``python -m ingestion --landing DIR --warehouse FILE``, prints the report."""

from __future__ import annotations

import argparse
import os
from datetime import date
from pathlib import Path

from ingestion.load import ingest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingestion", description=__doc__)
    parser.add_argument(
        "--landing",
        type=Path,
        default=Path(os.environ.get("CONCORD_LANDING_DIR", "data/landing")),
        help="landing dir (default $CONCORD_LANDING_DIR or data/landing)",
    )
    parser.add_argument(
        "--warehouse",
        type=Path,
        default=Path(os.environ.get("CONCORD_WAREHOUSE", "data/warehouse.duckdb")),
        help="DuckDB file (default $CONCORD_WAREHOUSE or data/warehouse.duckdb)",
    )
    parser.add_argument(
        "--business-date",
        action="append",
        type=date.fromisoformat,
        dest="business_dates",
        metavar="YYYY-MM-DD",
        help="only files of this business date (repeatable)",
    )
    parser.add_argument(
        "--extract",
        action="append",
        dest="extracts",
        metavar="NAME",
        help="only files of this extract (repeatable)",
    )
    args = parser.parse_args(argv)
    report = ingest(
        args.landing,
        args.warehouse,
        business_dates=set(args.business_dates) if args.business_dates else None,
        extracts=set(args.extracts) if args.extracts else None,
    )
    print(report.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
