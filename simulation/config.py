"""Run configuration of the simulated world."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

# Expected number of injected defects per simulated day (row- and event-level kinds) or per
# eligible daily file (file-level kinds). Every kind is injected at least once in a defective
# world so that each control can be tested; --clean injects none.
DEFAULT_DEFECT_RATES: dict[str, float] = {
    # file level (probability per daily file)
    "duplicate_file": 0.004,
    "late_file": 0.004,
    "truncated_file": 0.002,
    "wrong_header": 0.002,
    "empty_file": 0.001,
    "unknown_file": 0.0005,
    # row and event level (expected instances per day)
    "unparseable_value": 0.05,
    "unknown_item_code": 0.05,
    "duplicate_line": 0.1,
    "pos_price_mismatch": 0.1,
    "out_of_order_webshop_event": 0.2,
    "duplicate_supplier_invoice": 0.03,
    "gl_batch_late": 0.03,
    "gl_batch_missing": 0.02,
    "wms_count_difference": 0.1,
    "late_receipt": 0.03,
    # no silent loss (issue 11), drawn from their own random stream so that adding them moved
    # no defect above; file level (probability per eligible daily file)
    "bad_redelivery_empty": 0.002,
    "bad_redelivery_garbage": 0.002,
    "missing_daily_file": 0.004,
    "header_only_daily_file": 0.004,
    "far_future_business_date": 0.002,
    "duplicate_content_other_date": 0.004,
    # row level (expected instances per day)
    "negative_quantity": 0.03,
    "overlong_value": 0.03,
    "duplicate_freight_invoice": 0.03,
}
FILE_LEVEL_KINDS = (
    "duplicate_file",
    "late_file",
    "truncated_file",
    "wrong_header",
    "empty_file",
    "unknown_file",
)
LOSS_FILE_KINDS = (
    "bad_redelivery_empty",
    "bad_redelivery_garbage",
    "missing_daily_file",
    "header_only_daily_file",
    "far_future_business_date",
    "duplicate_content_other_date",
)
LOSS_ROW_KINDS = ("negative_quantity", "overlong_value", "duplicate_freight_invoice")
LOSS_KINDS = LOSS_FILE_KINDS + LOSS_ROW_KINDS
# how the ERP sends its product master, cross-reference and price list (simulation/master_deltas.py)
MASTER_DATA_MODES = ("snapshots", "deltas")


@dataclass(frozen=True)
class WorldConfig:
    seed: int = 42
    scale_factor: float = 1.0
    days: int = 365
    start_date: date = date(2026, 1, 1)
    out: Path = Path("data/world")
    clean: bool = False
    # "snapshots": weekly full snapshots of every master; "deltas": one full snapshot of the
    # product master, cross-reference and price list, then change records (master_deltas.py)
    master_data: str = "snapshots"
    # the world starts mid-life: day-0 stock arrives as an opening-balance extract with costs
    # instead of day-0 purchase orders received at dawn (simulation/opening.py)
    opening_balances: bool = False
    # what a minimal single-entity ERP sends (simulation/minimal_erp.py)
    single_currency: bool = False
    supplier_invoices: bool = True
    sparse_master: bool = False
    # operational anomalies for the detectors (simulation/anomalies.py); never in a clean world
    anomalies: bool = True
    # one POS file of the first month delivered on the 10th of the next (simulation/late_events.py)
    late_events: bool = False
    defect_rates: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_DEFECT_RATES))

    def __post_init__(self) -> None:
        if self.days < 7:
            raise ValueError(f"--days must be at least 7, got {self.days}")
        if self.scale_factor <= 0:
            raise ValueError(f"--scale-factor must be positive, got {self.scale_factor}")
        if self.master_data not in MASTER_DATA_MODES:
            raise ValueError(f"--master-data must be snapshots or deltas, got {self.master_data}")
        unknown = set(self.defect_rates) - set(DEFAULT_DEFECT_RATES)
        if unknown:
            raise ValueError(f"unknown defect kinds: {sorted(unknown)}")

    @property
    def end_date(self) -> date:
        return self.start_date + timedelta(days=self.days - 1)

    def day(self, index: int) -> date:
        return self.start_date + timedelta(days=index)

    @property
    def n_skus(self) -> int:
        return max(40, int(round(400 * self.scale_factor**0.5)))

    @property
    def sales_lines_per_day(self) -> float:
        """Scale factor 1 is about one million sales lines over a year."""
        return 2740.0 * self.scale_factor
