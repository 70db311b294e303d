"""Turns each simulated day into the files the source systems deliver and the truth files.

The Deliverer writes every landing file with its planned file- and row-level defects
(write_file) and runs the day's deliveries in order: what each system writes is in
simulation/delivery/<system>.py, the truth in simulation/truth.py.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from simulation import late_events, minimal_erp
from simulation import world as w
from simulation.defects import DefectPlan, inject_loss_row_defects, inject_row_defects
from simulation.delivery import (
    erp_ledger,
    erp_masters,
    erp_purchasing,
    erp_stock,
    faults,
    marketplace,
    planning,
    pos,
    webshop,
    wms,
)
from simulation.engine import DayOutput, Simulation
from simulation.extracts import LandingWriter, render_delimited, to_delimited_bytes
from simulation.kits import deliver_work_orders
from simulation.master_deltas import MasterDeltas
from simulation.opening import deliver_opening_balances
from simulation.truth import TruthWriter
from simulation.wholesale import EXTRACT as WHOLESALE_EXTRACT
from simulation.wholesale import extract_rows as wholesale_rows


class Deliverer:
    def __init__(self, sim: Simulation, plan: DefectPlan, out_dir: Path) -> None:
        self.sim = sim
        self.plan = plan
        self.config = sim.config
        self.writer = LandingWriter(out_dir / "landing")
        self.later: dict[str, dict[int, list]] = defaultdict(lambda: defaultdict(list))
        self.loc_ids = w.LOCATIONS["location_id"].to_numpy()
        self.products = sim.products
        self.skus = sim.skus
        self.truth = TruthWriter(sim, out_dir / "truth")
        self.master_deltas = MasterDeltas(self) if self.config.master_data == "deltas" else None
        self.late_file = late_events.plan(self.config)
        late_events.write_truth(self.late_file, self.config, out_dir / "truth")
        self.redelivery = late_events.plan_redelivery(self.config, self.late_file)
        self.truth_dir = out_dir / "truth"

    # ------------------------------------------------------------------ writing files
    def write_file(
        self,
        extract_name: str,
        day: int,
        frame: pd.DataFrame | list[dict],
        delivery_day: int | None = None,
    ) -> None:
        """Write one business date's file, applying the planned file- and row-level defects."""
        sent = minimal_erp.as_delivered(self.config, extract_name, frame)
        if sent is None:
            return
        frame = late_events.redeliver(self, extract_name, day, sent)
        if self.master_deltas is not None:  # a master sent as change records: no snapshot
            frame = self.master_deltas.snapshot_frame(extract_name, day, frame)
            if frame is None:
                return
        extract = self.writer.contract[extract_name]
        delivery_day = late_events.delivery_day(self.late_file, extract_name, day, delivery_day)
        business_date = self.config.day(day)
        delivery = self.config.day(day if delivery_day is None else delivery_day)
        path = self.writer.path_for(extract, business_date, delivery)
        relative = self.writer.relative(path)
        if extract.file_format in ("csv", "tsv"):
            text = render_delimited(extract, frame)
            text, records = inject_row_defects(
                self.plan,
                day,
                extract_name,
                text,
                unknown_code=self.unknown_code(extract_name, day),
            )
            for kind, detail in records:
                self.plan.record(kind, extract.system, extract_name, relative, **detail)
            mismatched = (
                np.nonzero(frame["listed_price"].notna().to_numpy())[0]
                if extract_name == "pos_sales" and "listed_price" in frame
                else np.array([], dtype=int)
            )
            text, spoiled = inject_loss_row_defects(
                self.plan, day, extract_name, text, records, mismatched
            )
            for kind, detail in spoiled:
                self.plan.record_loss(kind, extract.system, extract_name, relative, **detail)
            if extract_name == "pos_sales" and "listed_price" in frame:
                for i in mismatched:
                    row = frame.iloc[i]
                    self.plan.record(
                        "pos_price_mismatch",
                        "pos",
                        extract_name,
                        relative,
                        row_number=int(i) + 1,
                        pos_store_code=row["pos_store_code"],
                        receipt_number=row["receipt_number"],
                        receipt_line_number=int(row["receipt_line_number"]),
                        list_price=float(row["listed_price"]),
                        charged_price=float(row["unit_price"]),
                    )
            content = to_delimited_bytes(extract, text)
        else:
            content = self.writer.encode(extract_name, frame)
        fault = self.plan.file_schedule.get((extract_name, day))
        loss = self.plan.loss_schedule.get((extract_name, day))
        if loss is not None and faults.apply_loss_fault(
            self, loss, extract, day, path, content, frame
        ):
            return
        if fault is None or self.config.clean:
            self.writer.write_bytes(path, content)
            return
        faults.apply_file_fault(self, fault, extract, business_date, delivery, path, content)

    def unknown_code(self, extract_name: str, day: int) -> str:
        if extract_name == "pos_sales":
            return f"{990000000000 + day:013d}"
        return f"MKTX{day:06d}"

    # ------------------------------------------------------------------ one day
    def deliver_day(self, d: int, out: DayOutput) -> None:
        if d % 7 == 0:
            erp_masters.masters(self, d)
            self.write_file("planning_forecast", d, planning.forecast(self, d))
        if self.master_deltas is not None:
            self.master_deltas.deliver(d)
        erp_masters.fx_rates(self, d)
        deliver_opening_balances(self, d, out)
        erp_purchasing.purchase_orders(self, d, out)
        erp_purchasing.goods_receipts(self, d, out)
        erp_purchasing.supplier_invoices(self, d)
        erp_stock.transfers(self, d, out)
        erp_stock.store_adjustments(self, d, out)
        deliver_work_orders(self, d, out)
        erp_ledger.gl_journal_lines(self, d, out)
        pos.pos_sales(self, d, out)
        webshop.webshop_events(self, d, out)
        marketplace.marketplace_settlement(self, d, out)
        self.write_file(WHOLESALE_EXTRACT, d, wholesale_rows(self, out))
        wms.wms(self, d, out)
        self.truth.write_day(d, out)

    def frames(self, out: DayOutput, key: str) -> pd.DataFrame:
        parts = [f for f in out.extracts.get(key, []) if len(f)]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def close(self) -> None:
        self.truth.close(self.plan)
