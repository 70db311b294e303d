"""A reader of the served copy, run as its own process by test_publish_pipeline.py:
`python served_reader.py SERVED OUT STOP`.

Every ~100 ms it queries the served copy on one connection held open for its whole life; every
fifth round it also opens a new connection (publishing.served.connect, which resolves the link,
as a dashboard that reopens does). Each read is one query returning the version and the mart's
row count and total, written as a JSON line to OUT, or the error it met. It stops when the file
STOP exists."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb

from publishing import served

QUERY = (
    "select (select max(version) from main.publication), "
    "(select count(*) from marts.mart_net_sales), "
    "(select sum(net_sales) from marts.mart_net_sales)"
)


def main(path: Path, out: Path, stop: Path) -> None:
    held = duckdb.connect(str(path), read_only=True)
    round_number = 0
    with open(out, "a") as log:
        while not stop.exists():
            kinds = ["held", "fresh"] if round_number % 5 == 0 else ["held"]
            for kind in kinds:
                started = time.time()
                try:
                    if kind == "held":
                        row = held.execute(QUERY).fetchall()[0]
                    else:
                        with served.connect(path) as con:
                            row = con.execute(QUERY).fetchall()[0]
                    record = {"version": row[0], "rows": row[1], "net_sales": str(row[2])}
                except duckdb.Error as error:
                    record = {"error": f"{type(error).__name__}: {error}"}
                record |= {"at": started, "kind": kind, "seconds": time.time() - started}
                log.write(json.dumps(record) + "\n")
                log.flush()
            round_number += 1
            time.sleep(0.1)
    held.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
