"""Generate the simulated world.

python -m simulation --seed N --scale-factor X --days D --start-date YYYY-MM-DD --out DIR [--clean]
    [--master-data snapshots|deltas] [--opening-balances] [--single-currency]
    [--no-supplier-invoices] [--sparse-master] [--no-anomalies] [--late-events]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
import warnings
from datetime import date
from pathlib import Path

import pandas as pd

from simulation import late_events
from simulation.config import DEFAULT_DEFECT_RATES, MASTER_DATA_MODES, WorldConfig
from simulation.defects import DefectPlan
from simulation.deliver import Deliverer
from simulation.engine import Simulation


def parse_args(argv: list[str] | None = None) -> WorldConfig:
    parser = argparse.ArgumentParser(prog="python -m simulation", description=__doc__)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--scale-factor",
        type=float,
        default=1.0,
        help="1.0 is about one million sales lines a year",
    )
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--start-date", type=date.fromisoformat, default=date(2026, 1, 1))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--clean", action="store_true", help="inject no defects")
    parser.add_argument(
        "--master-data",
        choices=MASTER_DATA_MODES,
        default="snapshots",
        help="weekly full snapshots, or one snapshot then change records with effective dates",
    )
    parser.add_argument(
        "--opening-balances",
        action="store_true",
        help="start mid-life: day-0 stock as an ERP opening-balance extract with costs",
    )
    parser.add_argument(
        "--single-currency",
        action="store_true",
        help="every entity, supplier and the marketplace in USD; no FX extract",
    )
    parser.add_argument(
        "--no-supplier-invoices",
        action="store_true",
        help="no supplier invoice extract; receipts valued at the purchase order's cost",
    )
    parser.add_argument(
        "--sparse-master",
        action="store_true",
        help="optional master attributes (brand, hierarchy, case pack, supplier terms) left "
        "empty on some rows",
    )
    parser.add_argument(
        "--no-anomalies",
        action="store_true",
        help="inject none of the operational anomalies (simulation/anomalies.py)",
    )
    parser.add_argument(
        "--late-events",
        action="store_true",
        help="deliver one POS file of the first month on the 10th of the next "
        "(simulation/late_events.py)",
    )
    parser.add_argument(
        "--defect-rate",
        action="append",
        default=[],
        metavar="KIND=RATE",
        help=f"override a defect rate; kinds: {', '.join(DEFAULT_DEFECT_RATES)}",
    )
    args = parser.parse_args(argv)
    rates = dict(DEFAULT_DEFECT_RATES)
    for item in args.defect_rate:
        kind, _, value = item.partition("=")
        if kind not in rates:
            parser.error(f"unknown defect kind {kind!r} in --defect-rate {item!r}")
        rates[kind] = float(value)
    config = WorldConfig(
        seed=args.seed,
        scale_factor=args.scale_factor,
        days=args.days,
        start_date=args.start_date,
        out=args.out,
        clean=args.clean,
        master_data=args.master_data,
        opening_balances=args.opening_balances,
        single_currency=args.single_currency,
        supplier_invoices=not args.no_supplier_invoices,
        sparse_master=args.sparse_master,
        anomalies=not args.no_anomalies,
        late_events=args.late_events,
        defect_rates=rates,
    )
    try:  # the flags' own requirements on the world, before minutes of simulation
        late_events.plan_redelivery(config, late_events.plan(config))
    except ValueError as error:
        parser.error(str(error))
    return config


def generate(config: WorldConfig) -> dict[str, int]:
    """Simulate the world and write DIR/landing and DIR/truth; returns a few counts."""
    for part in ("landing", "truth"):
        shutil.rmtree(config.out / part, ignore_errors=True)
    # pandas 3 infers Arrow-backed strings, whose per-call overhead dominates the many small
    # frames of a simulated day (measured: 26% of the run); object strings give identical files.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the option is deprecated for pandas 4; we pin pandas 3
        previous = pd.get_option("future.infer_string")
        pd.set_option("future.infer_string", False)
    try:
        plan = DefectPlan.build(config)
        sim = Simulation(config, plan)
        deliverer = Deliverer(sim, plan, config.out)
        for d in range(config.days):
            out = sim.step(d)
            deliverer.deliver_day(d, out)
        deliverer.close()
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pd.set_option("future.infer_string", previous)
    files = sum(1 for p in (config.out / "landing").rglob("*") if p.is_file())
    return {
        "files": files,
        "sales_lines": sim.next_line_id - 1,
        "defects": len(plan.manifest) + len(plan.loss_manifest),
    }


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    started = time.perf_counter()
    counts = generate(config)
    seconds = time.perf_counter() - started
    print(
        f"world written to {config.out}: {counts['files']} landing files, "
        f"{counts['sales_lines']} sale lines issued, {counts['defects']} defects "
        f"in {seconds:.1f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
