"""Defect injection: which defects happen where, and the manifest that lists each one.

Every injected defect is one row of truth/defects.csv with a JSON detail naming the file, row
and values involved, so that tests can tell which warehouse rows a defect explains.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simulation.config import (
    FILE_LEVEL_KINDS,
    LOSS_FILE_KINDS,
    LOSS_KINDS,
    LOSS_ROW_KINDS,
    WorldConfig,
)

DAILY_DELIMITED_EXTRACTS = (
    "erp_purchase_orders",
    "erp_goods_receipts",
    "erp_supplier_invoices",
    "erp_transfers",
    "erp_stock_adjustments",
    "erp_gl_journal_lines",
    "pos_sales",
    "webshop_order_events",
    "marketplace_settlement",
    "wms_movements",
    "wms_on_hand",
)
HEADERLESS = ("webshop_order_events",)
ROW_DEFECT_EXTRACTS = ("pos_sales", "marketplace_settlement")
UNPARSEABLE = {  # column -> a value its type cannot parse
    "pos_sales": {
        "quantity": "1O",
        "unit_price": "12,50",
        "transaction_local_time": "2026-02-30 25:61:00",
    },
    "marketplace_settlement": {
        "quantity": "two",
        "item_price_amount": "N/A",
        "posted_at": "yesterday",
    },
}
ITEM_CODE_COLUMN = {"pos_sales": "barcode", "marketplace_settlement": "marketplace_item_code"}
# The daily files of sales events: what a missing, header-only or copied file can strike.
SALES_EXTRACTS = ("pos_sales", "webshop_order_events", "marketplace_settlement")
LOSS_FILE_EXTRACTS = {
    "bad_redelivery_empty": tuple(e for e in DAILY_DELIMITED_EXTRACTS if e not in HEADERLESS),
    "bad_redelivery_garbage": DAILY_DELIMITED_EXTRACTS,
    "missing_daily_file": SALES_EXTRACTS,
    "header_only_daily_file": SALES_EXTRACTS,
    "far_future_business_date": DAILY_DELIMITED_EXTRACTS,
    "duplicate_content_other_date": SALES_EXTRACTS,
}
GARBAGE_LINE = b"<html><body><h1>502 Bad Gateway</h1>upstream timed out</body></html>\n"
OVERLONG_COLUMN = "receipt_number"  # pos_sales; the contract caps it at max_length characters
OVERLONG_LENGTH = 5000
FAR_FUTURE_YEAR = 2099


@dataclass
class DefectPlan:
    config: WorldConfig
    rng: np.random.Generator
    schedule: dict[str, list[int]] = field(default_factory=dict)
    file_schedule: dict[tuple[str, int], str] = field(default_factory=dict)
    manifest: list[dict] = field(default_factory=list)
    owed: dict[str, int] = field(default_factory=dict)
    # The no-silent-loss kinds: their own random stream, schedule and manifest rows (listed
    # after the others), so that the defects above land where they did before these existed.
    loss_rng: np.random.Generator | None = None
    loss_schedule: dict[tuple[str, int], str] = field(default_factory=dict)
    reserved: dict[tuple[str, int], tuple[str, int]] = field(default_factory=dict)
    copy_offset: dict[tuple[str, int], int] = field(default_factory=dict)
    loss_manifest: list[dict] = field(default_factory=list)
    # the operational anomalies' rows (simulation/anomalies.py), listed last
    anomaly_manifest: list[dict] = field(default_factory=list)

    @classmethod
    def build(cls, config: WorldConfig) -> DefectPlan:
        plan = cls(config=config, rng=np.random.default_rng(config.seed + 7919))
        plan.loss_rng = np.random.default_rng(config.seed + 104729)
        if config.clean:
            return plan
        days = config.days
        last = max(2, days - 6)  # leave room for late deliveries and re-deliveries in-period
        for kind, rate in config.defect_rates.items():
            if kind in FILE_LEVEL_KINDS or kind in LOSS_KINDS or rate <= 0:
                continue
            n = max(1, int(plan.rng.poisson(rate * days)))
            plan.schedule[kind] = sorted(plan.rng.integers(1, last, n).tolist())
        candidates = [(e, d) for d in range(1, last) for e in DAILY_DELIMITED_EXTRACTS]
        order = plan.rng.permutation(len(candidates))
        cursor = 0
        for kind in FILE_LEVEL_KINDS:
            rate = config.defect_rates.get(kind, 0.0)
            if rate <= 0:
                continue
            n = max(1, int(plan.rng.binomial(len(candidates), rate)))
            for _ in range(n):
                # JSON lines have no header to get wrong, and no bytes is a valid delivery of
                # no rows: those two defects only strike delimited files
                while candidates[order[cursor]] in plan.file_schedule or (
                    kind in ("empty_file", "wrong_header")
                    and candidates[order[cursor]][0] in HEADERLESS
                ):
                    cursor += 1
                plan.file_schedule[candidates[order[cursor]]] = kind
                cursor += 1
        plan.build_loss(last)
        return plan

    def build_loss(self, last: int) -> None:
        rng, rates = self.loss_rng, self.config.defect_rates
        for kind in LOSS_ROW_KINDS:
            if rates.get(kind, 0.0) > 0:
                n = max(1, int(rng.poisson(rates[kind] * self.config.days)))
                self.schedule[kind] = sorted(rng.integers(1, last, n).tolist())
        for kind in LOSS_FILE_KINDS:
            rate = rates.get(kind, 0.0)
            if rate <= 0:
                continue
            candidates = [(e, d) for d in range(1, last) for e in LOSS_FILE_EXTRACTS[kind]]
            n = max(1, int(rng.binomial(len(candidates), rate)))
            for i in rng.permutation(len(candidates)).tolist():
                if n == 0:
                    break
                extract, day = candidates[i]
                if self.place(kind, extract, day):
                    n -= 1

    def free(self, extract: str, day: int) -> bool:
        key = (extract, day)
        return (
            key not in self.file_schedule
            and key not in self.loss_schedule
            and key not in self.reserved
            and key not in self.reserved.values()
        )

    def place(self, kind: str, extract: str, day: int) -> bool:
        """Schedule a no-silent-loss file defect on a file if it and, for a copy under another
        date, that date's own file are free of other file-level defects."""
        if not self.free(extract, day):
            return False
        if kind == "duplicate_content_other_date":
            offset = int(self.loss_rng.integers(1, 4))
            # the copy arrives the day after the copied-over date's own file, within the period
            if day + offset + 1 >= self.config.days or not self.free(extract, day + offset):
                return False
            self.copy_offset[(extract, day)] = offset
            self.reserved[(extract, day)] = (extract, day + offset)
        self.loss_schedule[(extract, day)] = kind
        return True

    def defer(self, kind: str, extract: str, day: int) -> None:
        """A file that cannot take its planned defect (no rows, or rows other defects point at)
        passes it on to the next free file of the same extract."""
        del self.loss_schedule[(extract, day)]
        self.reserved.pop((extract, day), None)
        self.copy_offset.pop((extract, day), None)
        last = max(2, self.config.days - 6)
        for later in range(day + 1, last):
            if self.place(kind, extract, later):
                return

    def referenced(self, file: str) -> bool:
        """Whether a manifest row already names this file."""
        return any(m["file"] == file for m in self.manifest) or any(
            m["file"] == file for m in self.loss_manifest
        )

    def count(self, kind: str, day: int) -> int:
        return self.schedule.get(kind, []).count(day)

    def take(self, kind: str, day: int, available: int) -> int:
        """How many defects of a kind to inject now, given how many places are available; a
        defect that finds no place on its day is carried to the next opportunity. Call once per
        day and kind."""
        due = self.count(kind, day) + self.owed.get(kind, 0)
        if day >= self.config.days - 5:
            available = 0  # too late in the period for a late or corrected delivery to arrive
        n = min(due, max(available, 0))
        self.owed[kind] = due - n
        return n

    def record(self, kind: str, system: str, extract: str, file: str, **detail: object) -> None:
        self.manifest.append(
            {
                "kind": kind,
                "system": system,
                "extract": extract,
                "file": file,
                "detail": json.dumps(detail, sort_keys=True, default=str),
            }
        )

    def record_loss(
        self, kind: str, system: str, extract: str, file: str, **detail: object
    ) -> None:
        self.loss_manifest.append(
            {
                "kind": kind,
                "system": system,
                "extract": extract,
                "file": file,
                "detail": json.dumps(detail, sort_keys=True, default=str),
            }
        )

    def manifest_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(
            self.manifest + self.loss_manifest + self.anomaly_manifest,
            columns=["kind", "system", "extract", "file", "detail"],
        )
        frame.insert(0, "defect_id", [f"DF{i + 1:05d}" for i in range(len(frame))])
        return frame

    # -------------------------------------------------------------- hooks in the simulation
    def pos_prices(self, day: int, lines: pd.DataFrame, sim: object) -> None:
        """A POS that charges other than the valid list price (real revenue, flagged later)."""
        pending = self.take("pos_price_mismatch", day, len(lines))
        if pending == 0:
            return
        picks = self.rng.choice(len(lines), size=pending, replace=False)
        idx = lines.index[picks]
        lines.loc[idx, "listed_price"] = lines.loc[idx, "unit_price"]
        lines.loc[idx, "unit_price"] = np.round(lines.loc[idx, "unit_price"] * 1.1, 2)

    def row_defects_for(self, kind: str, day: int, extract: str, available: int) -> int:
        """Row-level defects of a day land in pos_sales on even days, the marketplace on odd."""
        target = ROW_DEFECT_EXTRACTS[day % 2]
        return self.take(kind, day, available) if extract == target else 0


def pick_rows(rng: np.random.Generator, n_rows: int, k: int) -> list[int]:
    if n_rows == 0 or k == 0:
        return []
    return sorted(rng.choice(n_rows, size=min(k, n_rows), replace=False).tolist())


def inject_row_defects(
    plan: DefectPlan, day: int, extract: str, text: pd.DataFrame, unknown_code: str
) -> tuple[pd.DataFrame, list[tuple[str, dict]]]:
    """Spoil rows of a rendered (all-text) daily file; returns the frame and (kind, detail)
    records whose row numbers are 1-based data rows of the written file."""
    records: list[tuple[str, dict]] = []
    if extract not in ROW_DEFECT_EXTRACTS:
        return text, records
    text = text.copy()
    spoiled: set[int] = set()
    for i in pick_rows(
        plan.rng, len(text), plan.row_defects_for("unparseable_value", day, extract, len(text) // 3)
    ):
        column = list(UNPARSEABLE[extract])[i % len(UNPARSEABLE[extract])]
        good = text.iat[i, text.columns.get_loc(column)]
        text.iat[i, text.columns.get_loc(column)] = UNPARSEABLE[extract][column]
        spoiled.add(i)
        records.append(
            (
                "unparseable_value",
                {
                    "row_number": i + 1,
                    "column": column,
                    "value": UNPARSEABLE[extract][column],
                    "original_value": good,
                    "row": text.iloc[i].to_dict(),
                },
            )
        )
    code_column = ITEM_CODE_COLUMN[extract]
    has_code = text.index[(text[code_column] != "")].tolist()
    k = plan.row_defects_for("unknown_item_code", day, extract, len(has_code) // 3)
    free = [text.index.get_loc(i) for i in has_code if text.index.get_loc(i) not in spoiled]
    for j in pick_rows(plan.rng, len(free), k):
        i = free[j]
        good = text.iat[i, text.columns.get_loc(code_column)]
        text.iat[i, text.columns.get_loc(code_column)] = unknown_code
        spoiled.add(i)
        records.append(
            (
                "unknown_item_code",
                {
                    "row_number": i + 1,
                    "column": code_column,
                    "value": unknown_code,
                    "original_value": good,
                    "row": text.iloc[i].to_dict(),
                },
            )
        )
    k = plan.row_defects_for("duplicate_line", day, extract, len(text) // 3)
    clean_rows = [i for i in range(len(text)) if i not in spoiled]
    for j in pick_rows(plan.rng, len(clean_rows), k):
        i = clean_rows[j]
        text = pd.concat([text, text.iloc[[i]]], ignore_index=True)
        records.append(("duplicate_line", {"row_number": len(text), "duplicate_of_row": i + 1}))
    return text, records


def inject_loss_row_defects(
    plan: DefectPlan,
    day: int,
    extract: str,
    text: pd.DataFrame,
    records: list[tuple[str, dict]],
    blocked_rows: np.ndarray,
) -> tuple[pd.DataFrame, list[tuple[str, dict]]]:
    """Spoil sale lines of a rendered POS file with a negative quantity or an overlong receipt
    number, on rows no other defect touches (blocked_rows: 0-based rows of other defects), and
    never in a file with a whole-file defect (its rows would be delivered under another name);
    a defect that finds no place is carried to the next day."""
    found: list[tuple[str, dict]] = []
    if extract != "pos_sales" or plan.config.clean or text.empty:
        return text, found
    text = text.copy()
    mask = (text["transaction_type"] == "sale").to_numpy().copy()
    blocked = [
        d[key] - 1 for _, d in records for key in ("row_number", "duplicate_of_row") if key in d
    ]
    mask[np.asarray(blocked + blocked_rows.tolist(), dtype=int)] = False
    if (extract, day) in plan.file_schedule:
        mask[:] = False
    for kind in ("negative_quantity", "overlong_value"):
        free = np.nonzero(mask)[0]
        k = plan.take(kind, day, len(free) // 3)
        if k == 0:
            continue
        assert plan.loss_rng is not None
        picks = np.sort(plan.loss_rng.choice(free, size=k, replace=False))
        mask[picks] = False
        column = "quantity" if kind == "negative_quantity" else OVERLONG_COLUMN
        at = text.columns.get_loc(column)
        good = text.iloc[picks, at]
        if kind == "negative_quantity":
            text.iloc[picks, at] = "-" + good
        else:  # the receipt number, padded to thousands of characters
            text.iloc[picks, at] = good.str.pad(OVERLONG_LENGTH, side="right", fillchar="9")
        for i, original in zip(picks.tolist(), good.tolist(), strict=True):
            value = text.iat[i, at]
            row = text.iloc[i].to_dict()
            row[column] = original
            found.append(
                (
                    kind,
                    {
                        "row_number": i + 1,
                        "column": column,
                        "value": value if kind == "negative_quantity" else None,
                        "value_length": len(value),
                        "value_prefix": value[:40],
                        "original_value": original,
                        "original_row": row,
                    },
                )
            )
    return text, found


class FileFaults:
    """File-level defects: what to write where, given the correct content of a daily file."""

    @staticmethod
    def truncate(content: bytes) -> bytes:
        lines = content.split(b"\n")
        keep = max(2, len(lines) // 2)
        cut = b"\n".join(lines[:keep])
        return cut[: max(len(cut) - 7, 1)]

    @staticmethod
    def wrong_header(content: bytes, extract_columns: list[str]) -> tuple[bytes, str, str]:
        header, _, rest = content.partition(b"\n")
        names = header.decode().split("\t" if b"\t" in header else ",")
        victim = len(names) // 2
        wrong = {"quantity": "qty", "units": "qty"}.get(names[victim], names[victim][:4] + "_x")
        original = names[victim]
        names[victim] = wrong
        separator = "\t" if b"\t" in header else ","
        return (separator.join(names).encode() + b"\n" + rest, original, wrong)


def late_day_offsets(rng: np.random.Generator) -> int:
    return int(rng.integers(2, 5))
