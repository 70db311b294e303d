"""Page render times of the control tower: `python -m benchmarks.dashboard --served PATH
[--manifest target/semantic_manifest.json] [--repeat 3]`.

Each page is rendered with Streamlit's AppTest (the page's script, server side: what a browser
waits for before it draws) in a fresh process, REPEAT times:

* first load: the first render in a new process (imports, MetricFlow's engine, compiling the
  page's queries, reading the served copy);
* cached: the same page and filters again (compiled SQL and results cached per version);
* new filters: one entity picked (the engine is warm; the queries compile and run anew).

Prints the medians per page as a Markdown table."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

PAGES = ("finance", "merchandising", "supply_chain", "integration", "exceptions")
VIEWS = Path(__file__).resolve().parents[1] / "dashboard" / "views"


def measure(page: str) -> dict[str, float]:
    """Run in a fresh process: the three render times of one page, in seconds."""
    from streamlit.testing.v1 import AppTest

    def render(**widgets: object) -> float:
        app = AppTest.from_file(str(VIEWS / f"{page}.py"), default_timeout=600)
        started = time.perf_counter()
        app.run()
        if widgets:
            for key, value in widgets.items():
                next(w for w in app.sidebar.multiselect if w.key == key).set_value(value)
            started = time.perf_counter()
            app.run()
        seconds = time.perf_counter() - started
        if app.exception:
            raise SystemExit(f"{page}: {app.exception[0].value}")
        return seconds

    first = render()
    cached = render()
    from publishing import served

    with served.connect() as con:
        entity = con.execute("select min(entity_code) from marts.dim_entity").fetchone()[0]
    return {"first": first, "cached": cached, "filtered": render(entity=[entity])}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dashboard")
    parser.add_argument("--served", required=True, help="the served copy (its link)")
    parser.add_argument("--manifest", default="target/semantic_manifest.json")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--page", help=argparse.SUPPRESS)  # the child's page
    args = parser.parse_args(argv)
    if args.page:
        print(json.dumps(measure(args.page)))
        return
    env = os.environ | {
        "CONCORD_SERVED_WAREHOUSE": str(Path(args.served).resolve()),
        "CONCORD_SEMANTIC_MANIFEST": str(Path(args.manifest).resolve()),
    }
    print("| page | first load | cached | new filters (one entity) |")
    print("|---|---|---|---|")
    for page in PAGES:
        runs = []
        for _ in range(args.repeat):
            done = subprocess.run(
                [sys.executable, "-m", "benchmarks.dashboard", *sys.argv[1:], "--page", page],
                env=env,
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise SystemExit(f"{page} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        cells = []
        for key in ("first", "cached", "filtered"):
            values = sorted(r[key] for r in runs)
            shown = ", ".join(f"{v:.2f}" for v in values)
            cells.append(f"{statistics.median(values):.2f} s ({shown})")
        print(f"| {page} | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
