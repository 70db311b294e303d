"""Command line: ``python -m ingestion --landing DIR --warehouse FILE [--lake DIR]
[--verify-hashes]``, prints the report. After loading, the raw tables are mirrored as Parquet in
the lake (ingestion/lake.py). A landing file whose identity (size, mtime, ctime, inode) equals
the one recorded for its path when it was last read is not read again; ``--verify-hashes`` (or
CONCORD_VERIFY_HASHES=1) reads and hashes every file again.

Exit status: 0 when every file of this run loaded (or was a known duplicate or superseded), 1
when a file failed, was held, rejected or unknown (the report ends with what and why) or the
lake's rows differ from raw's, 2 when the run could not start (no landing dir, the warehouse
locked by another process or its raw tables of another version) or the lake could not be
written (what was loaded stays loaded; the next run writes the lake).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

import duckdb

from ingestion.lake import LAKE_ENV, LakeMismatchError, lake_dir_for
from ingestion.load import VERIFY_ENV, ingest
from ingestion.warehouse import WarehouseSchemaError


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
        "--lake",
        type=Path,
        help=f"Parquet lake of the raw tables (default ${LAKE_ENV}, else lake/ beside the "
        "warehouse file)",
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
    parser.add_argument(
        "--verify-hashes",
        action="store_true",
        default=None,
        help="read and hash every landing file again, even one whose identity (size, mtime, "
        f"ctime, inode) equals the one recorded when it was read (default ${VERIFY_ENV}=1)",
    )
    args = parser.parse_args(argv)
    args.lake = args.lake or lake_dir_for(args.warehouse)
    try:
        report = ingest(
            args.landing,
            args.warehouse,
            business_dates=set(args.business_dates) if args.business_dates else None,
            extracts=set(args.extracts) if args.extracts else None,
            lake_dir=args.lake,
            verify_hashes=args.verify_hashes,
        )
    except (FileNotFoundError, ValueError, LakeMismatchError, WarehouseSchemaError) as error:
        print(f"ingestion: {error}", file=sys.stderr)
        return 2
    except duckdb.IOException as error:
        print(f"ingestion: cannot open the warehouse {args.warehouse}: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"ingestion: loaded, but cannot write the lake {args.lake}: {error}", file=sys.stderr)
        return 2
    print(report.summary())
    attention = report.needs_attention
    if attention:
        print(
            f"{len(attention)} file(s) need attention (failed, held, rejected or unknown); "
            "see the lines above and raw.load_log"
        )
        return 1
    if report.lake is not None and report.lake.breaks:
        print("the lake's rows differ from raw's (see the lake lines above)")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
