"""Turns each simulated day into the files the source systems deliver and the truth files."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from simulation import minimal_erp
from simulation import world as w
from simulation.average_costs import append_average_costs
from simulation.defects import (
    FAR_FUTURE_YEAR,
    GARBAGE_LINE,
    DefectPlan,
    FileFaults,
    inject_loss_row_defects,
    inject_row_defects,
    late_day_offsets,
)
from simulation.engine import DayOutput, Simulation
from simulation.extracts import LandingWriter, render_delimited, to_delimited_bytes
from simulation.kits import deliver_work_orders, production_journal
from simulation.master_deltas import MasterDeltas
from simulation.money import round_half_up
from simulation.opening import deliver_opening_balances
from simulation.wholesale import EXTRACT as WHOLESALE_EXTRACT
from simulation.wholesale import extract_rows as wholesale_rows

FIRST_NAMES = ["Ava", "Ben", "Chloe", "David", "Emma", "Felix", "Grace", "Hugo", "Isla", "Jonas"]
LAST_NAMES = ["Smith", "Muller", "Jones", "Schmidt", "Brown", "Fischer", "Taylor", "Weber"]

# General ledger accounts by role, from the chart of accounts seed (one definition of the chart).
CHART_OF_ACCOUNTS = Path(__file__).resolve().parent.parent / "seeds" / "chart_of_accounts.csv"
ACCOUNT = dict(
    pd.read_csv(CHART_OF_ACCOUNTS, dtype=str)[["account_role", "account_code"]].itertuples(
        index=False
    )
)
# The clearing account role of each sales channel, from the channels seed (one definition).
CHANNELS = CHART_OF_ACCOUNTS.parent / "channels.csv"
CLEARING = dict(
    pd.read_csv(CHANNELS, dtype=str)[["channel", "clearing_account_role"]].itertuples(index=False)
)
NET_SALES_COLUMNS = [
    "business_date",
    "entity_code",
    "location_id",
    "channel",
    "sku",
    "units_sold",
    "units_returned",
    "gross_sales",
    "discounts",
    "returns",
    "net_sales",
    "currency_code",
]
COGS_COLUMNS = [
    "business_date",
    "entity_code",
    "location_id",
    "channel",
    "sku",
    "net_units",
    "cogs",
    "currency_code",
]
INVENTORY_COLUMNS = [
    "as_of_date",
    "entity_code",
    "location_id",
    "sku",
    "on_hand_units",
    "reserved_units",
    "in_transit_units",
    "quarantined_units",
]

# truth/events.parquet: the simulation's own event log, one row per physical movement.
EVENT_SCHEMA = pa.schema(
    [
        ("event_at", pa.timestamp("s")),
        ("business_date", pa.date32()),
        ("entity_code", pa.string()),
        ("location_id", pa.string()),
        ("sku", pa.string()),
        ("event_type", pa.string()),
        ("reason", pa.string()),
        ("channel", pa.string()),
        ("on_hand_delta", pa.int64()),
        ("quarantined_delta", pa.int64()),
        ("in_transit_delta", pa.int64()),
        ("in_transit_location_id", pa.string()),
        ("return_units", pa.int64()),
        ("amount", pa.float64()),
    ]
)


class Deliverer:
    def __init__(self, sim: Simulation, plan: DefectPlan, out_dir: Path) -> None:
        self.sim = sim
        self.plan = plan
        self.config = sim.config
        self.writer = LandingWriter(out_dir / "landing")
        self.truth_dir = out_dir / "truth"
        self.truth_dir.mkdir(parents=True, exist_ok=True)
        self.later: dict[str, dict[int, list]] = defaultdict(lambda: defaultdict(list))
        self.truth_files: dict[str, Path] = {}
        self.event_writer: pq.ParquetWriter | None = None
        self.loc_ids = w.LOCATIONS["location_id"].to_numpy()
        self.products = sim.products
        self.skus = sim.skus
        self.master_deltas = MasterDeltas(self) if self.config.master_data == "deltas" else None

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
        frame = sent
        if self.master_deltas is not None:  # a master sent as change records: no snapshot
            frame = self.master_deltas.snapshot_frame(extract_name, day, frame)
            if frame is None:
                return
        extract = self.writer.contract[extract_name]
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
        if loss is not None and self.apply_loss_fault(loss, extract, day, path, content, frame):
            return
        if fault is None or self.config.clean:
            self.writer.write_bytes(path, content)
            return
        self.apply_file_fault(fault, extract, business_date, delivery, path, content)

    def apply_loss_fault(
        self,
        fault: str,
        extract,
        day: int,
        path: Path,
        content: bytes,
        frame: pd.DataFrame | list[dict],
    ) -> bool:
        """Apply a no-silent-loss file defect; False (and the defect passed on to the extract's
        next free file) when this file cannot take it: it has no data rows, or another defect
        names it (a copy or a loss would then hide or repeat that defect)."""
        relative = self.writer.relative(path)
        rows = len(frame)
        if rows == 0 or self.plan.referenced(relative):
            self.plan.defer(fault, extract.name, day)
            return False
        rng = self.plan.loss_rng
        business_date = self.config.day(day)
        delivery = date.fromisoformat(path.parent.name)
        base = {"business_date": business_date.isoformat(), "rows": rows}
        if fault in ("bad_redelivery_empty", "bad_redelivery_garbage"):
            self.writer.write_bytes(path, content)
            later = delivery + timedelta(days=int(rng.integers(1, 4)))
            header = content.partition(b"\n")[0] + b"\n"
            bad = header if fault == "bad_redelivery_empty" else GARBAGE_LINE
            redelivered = self.writer.write_bytes(
                self.writer.path_for(extract, business_date, later, sequence=2), bad
            )
            self.plan.record_loss(
                fault,
                extract.system,
                extract.name,
                redelivered,
                original_file=relative,
                business_date=business_date.isoformat(),
                original_delivered=delivery.isoformat(),
                delivered=later.isoformat(),
                rows_of_original=rows,
                content=bad.decode(),
            )
        elif fault in ("missing_daily_file", "header_only_daily_file"):
            if fault == "header_only_daily_file":
                header = b"" if extract.file_format == "jsonl" else content.partition(b"\n")[0]
                self.writer.write_bytes(path, header + b"\n" if header else b"")
            self.plan.record_loss(
                fault,
                extract.system,
                extract.name,
                relative,
                delivered=delivery.isoformat() if fault == "header_only_daily_file" else None,
                **base,
                **self.lost_impact(extract.name, frame),
            )
        elif fault == "far_future_business_date":
            self.writer.write_bytes(path, content)
            named = business_date + timedelta(days=400)
            if named <= self.config.end_date + timedelta(days=30) or rng.random() < 0.5:
                named = date(FAR_FUTURE_YEAR, business_date.month, min(business_date.day, 28))
            copy = self.writer.write_bytes(self.writer.path_for(extract, named, delivery), content)
            self.plan.record_loss(
                fault,
                extract.system,
                extract.name,
                copy,
                name_date=named.isoformat(),
                real_date=business_date.isoformat(),
                copy_of=relative,
                delivered=delivery.isoformat(),
                rows=rows,
            )
        elif fault == "duplicate_content_other_date":
            self.writer.write_bytes(path, content)
            other = day + self.plan.copy_offset[(extract.name, day)]
            other_date = self.config.day(other)
            copy = self.writer.write_bytes(
                self.writer.path_for(extract, other_date, self.config.day(other + 1), sequence=2),
                content,
            )
            own = self.writer.relative(self.writer.path_for(extract, other_date, other_date))
            self.plan.record_loss(
                fault,
                extract.system,
                extract.name,
                copy,
                copy_of=relative,
                content_date=business_date.isoformat(),
                name_date=other_date.isoformat(),
                delivered=self.config.day(other + 1).isoformat(),
                own_file=own,
                sha256=hashlib.sha256(content).hexdigest(),
                rows=rows,
            )
        else:
            raise ValueError(f"unknown no-silent-loss defect {fault!r}")
        return True

    def lost_impact(self, extract_name: str, frame: pd.DataFrame | list[dict]) -> dict:
        """What a file that never (usefully) arrived would have carried: units and sales per
        store for the POS, per file for the marketplace, events and orders for the webshop.
        Money is in the file's currency: gross less discounts, less returns (gross less their
        discounts), as the truth's net sales."""
        if extract_name == "webshop_order_events":
            events = pd.DataFrame(frame)
            placed = [e for e in frame if e["event_type"] == "placed"]
            return {
                "events": len(frame),
                "events_by_type": events["event_type"].value_counts().sort_index().to_dict(),
                "order_ids": sorted(events["order_id"].unique().tolist()),
                "units_ordered": int(sum(x["quantity"] for e in placed for x in e["lines"])),
            }
        assert isinstance(frame, pd.DataFrame)
        if extract_name == "pos_sales":
            lines = pd.DataFrame(
                {
                    "pos_store_code": frame["pos_store_code"],
                    "currency_code": frame["currency_code"],
                    "sold": frame["transaction_type"] == "sale",
                    "units": frame["quantity"].astype(int),
                    "gross": round_half_up(frame["quantity"] * frame["unit_price"]),
                    "discount": frame["discount_amount"].astype(float),
                }
            )
            key = ["pos_store_code", "currency_code"]
        else:
            items = frame[frame["row_type"] == "item"]
            promotions = frame[frame["row_type"] == "promotion"]
            lines = pd.concat(
                [
                    pd.DataFrame(
                        {
                            "sold": items["transaction_type"] == "order",
                            "units": items["quantity"].astype(int),
                            "gross": items["item_price_amount"].astype(float),
                            "discount": items["promotion_amount"].astype(float),
                        }
                    ),
                    pd.DataFrame(
                        {
                            "sold": promotions["transaction_type"] == "order",
                            "units": 0,
                            "gross": 0.0,
                            "discount": promotions["promotion_amount"].astype(float),
                        }
                    ),
                ],
                ignore_index=True,
            ).assign(currency_code=frame["currency_code"].iloc[0])
            key = ["currency_code"]
        sold = lines["sold"]
        lines = lines.assign(
            units_sold=np.where(sold, lines["units"], 0),
            units_returned=np.where(sold, 0, lines["units"]),
            gross_sales=np.where(sold, lines["gross"], 0.0),
            discounts=np.where(sold, lines["discount"], 0.0),
            returns=np.where(sold, 0.0, lines["gross"] - lines["discount"]),
        )
        totals = lines.groupby(key, as_index=False)[
            ["units_sold", "units_returned", "gross_sales", "discounts", "returns"]
        ].sum()
        totals["net_sales"] = totals["gross_sales"] - totals["discounts"] - totals["returns"]
        for c in ("gross_sales", "discounts", "returns", "net_sales"):
            totals[c] = round_half_up(totals[c])
        if extract_name == "pos_sales":
            code_to_location = dict(
                zip(w.LOCATIONS["pos_store_code"], w.LOCATIONS["location_id"], strict=True)
            )
            totals.insert(1, "location_id", totals["pos_store_code"].map(code_to_location))
            return {"per_store": totals.to_dict("records")}
        return {"location_id": self.loc_ids[w.MARKETPLACE_LOCATION], **totals.iloc[0].to_dict()}

    def apply_file_fault(
        self, fault: str, extract, business_date: date, delivery: date, path: Path, content: bytes
    ) -> None:
        relative = self.writer.relative(path)
        next_day = delivery + timedelta(days=1)
        redelivery = self.writer.path_for(extract, business_date, next_day, sequence=2)
        if fault == "duplicate_file":
            self.writer.write_bytes(path, content)
            copy = self.writer.write_bytes(redelivery, content)
            self.plan.record(fault, extract.system, extract.name, copy, duplicate_of=relative)
        elif fault == "late_file":
            late = delivery + timedelta(days=late_day_offsets(self.plan.rng))
            moved = self.writer.write_bytes(
                self.writer.path_for(extract, business_date, late), content
            )
            self.plan.record(
                fault,
                extract.system,
                extract.name,
                moved,
                business_date=business_date.isoformat(),
                delivered=late.isoformat(),
            )
        elif fault in ("truncated_file", "wrong_header", "empty_file"):
            detail: dict = {}
            if fault == "truncated_file":
                bad = FileFaults.truncate(content)
                detail = {"bytes_written": len(bad), "bytes_expected": len(content)}
            elif fault == "wrong_header":
                bad, original, wrong = FileFaults.wrong_header(content, extract.column_names)
                detail = {"column": original, "header_value": wrong}
            else:
                bad = b""
            self.writer.write_bytes(path, bad)
            fixed = self.writer.write_bytes(redelivery, content)
            self.plan.record(
                fault, extract.system, extract.name, relative, corrected_by=fixed, **detail
            )
        elif fault == "unknown_file":
            self.writer.write_bytes(path, content)
            stray = path.parent / f"{extract.system}_export_{business_date:%Y%m%d}.xlsx"
            stray_rel = self.writer.write_bytes(stray, b"PK\x03\x04 not an extract\n")
            self.plan.record(fault, extract.system, "", stray_rel, near=relative)

    def unknown_code(self, extract_name: str, day: int) -> str:
        if extract_name == "pos_sales":
            return f"{990000000000 + day:013d}"
        return f"MKTX{day:06d}"

    # ------------------------------------------------------------------ one day
    def deliver_day(self, d: int, out: DayOutput) -> None:
        today = self.config.day(d)
        if d % 7 == 0:
            self.masters(d)
        if self.master_deltas is not None:
            self.master_deltas.deliver(d)
        if today.weekday() < 5 or d == 0:
            # the first day's file opens with the rates of the week before the period
            first = today - timedelta(days=w.OPENING_RATE_DAYS) if d == 0 else today
            fx = self.sim.fx[
                (self.sim.fx["rate_date"] >= first) & (self.sim.fx["rate_date"] <= today)
            ]
            self.write_file("erp_fx_rates", d, fx)
        deliver_opening_balances(self, d, out)
        self.purchase_orders(d, out)
        self.goods_receipts(d, out)
        self.supplier_invoices(d)
        self.transfers(d, out)
        self.store_adjustments(d, out)
        deliver_work_orders(self, d, out)
        self.gl_journal_lines(d, out)
        self.pos_sales(d, out)
        self.webshop_events(d, out)
        self.marketplace_settlement(d, out)
        self.write_file(WHOLESALE_EXTRACT, d, wholesale_rows(self, out))
        self.wms(d, out)
        self.truth(d, out)

    def frames(self, out: DayOutput, key: str) -> pd.DataFrame:
        parts = [f for f in out.extracts.get(key, []) if len(f)]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    # ------------------------------------------------------------------ ERP
    def masters(self, d: int) -> None:
        today = self.config.day(d)
        horizon = today + timedelta(days=7)
        self.write_file("erp_legal_entities", d, w.ENTITIES)
        opened = min(date(2015, 3, 1), self.config.start_date - timedelta(days=365))
        locations = w.LOCATIONS.assign(opened_date=opened)
        self.write_file("erp_locations", d, locations)
        products = self.products.assign(base_unit_of_measure="EA", is_active=True).copy()
        ch = self.sim.changes
        if today >= ch.category_move_date:
            products.loc[ch.category_move_sku, ["department", "category", "subcategory"]] = list(
                ch.category_move_to
            )
        self.write_file("erp_products", d, products)
        self.write_file("erp_item_cross_reference", d, self.cross_reference(horizon))
        self.write_file("erp_suppliers", d, w.SUPPLIERS)
        prices = w.price_list(self.products, ch)
        prices = prices[prices["valid_from_date"].isna() | (prices["valid_from_date"] <= horizon)]
        start = self.config.start_date - timedelta(days=365)
        prices = prices.assign(valid_from_date=prices["valid_from_date"].fillna(start))
        self.write_file("erp_price_list", d, prices)
        self.write_file("planning_forecast", d, self.forecast(d))

    def cross_reference(self, horizon: date) -> pd.DataFrame:
        p = self.products
        start = self.config.start_date - timedelta(days=365)
        frames = []
        for system, column in (
            ("pos", "barcode"),
            ("webshop", "variant_sku"),
            ("marketplace", "marketplace_item_code"),
            ("wms", "wms_item_code"),
        ):
            frames.append(
                pd.DataFrame(
                    {
                        "source_system": system,
                        "source_item_code": p[column],
                        "sku": p["sku"],
                        "valid_from_date": start,
                        "valid_to_date": None,
                    }
                )
            )
        ch = self.sim.changes
        if ch.new_barcode_date <= horizon:
            frames.append(
                pd.DataFrame(
                    {
                        "source_system": "pos",
                        "source_item_code": [w.new_barcode(i) for i in ch.new_barcode_skus],
                        "sku": p["sku"].to_numpy()[ch.new_barcode_skus],
                        "valid_from_date": ch.new_barcode_date,
                        "valid_to_date": None,
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def forecast(self, d: int) -> pd.DataFrame:
        today = self.config.day(d)
        selling = list(w.STORES) + [w.MARKETPLACE_LOCATION] + list(w.WEBSHOP_DCS.values())
        frames = []
        for week in range(4):
            noise = self.sim.rng.uniform(0.85, 1.15, (len(selling), self.sim.n_sku))
            units = round_half_up(self.sim.demand[selling] * 1.35 * 7 * noise)
            frames.append(
                pd.DataFrame(
                    {
                        "forecast_created_date": today,
                        "week_start_date": today + timedelta(days=7 * week),
                        "location_id": np.repeat(self.loc_ids[selling], self.sim.n_sku),
                        "sku": np.tile(self.skus, len(selling)),
                        "forecast_units": units.ravel(),
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def purchase_orders(self, d: int, out: DayOutput) -> None:
        self.write_file(
            "erp_purchase_orders",
            d,
            self.frames(out, "erp_purchase_orders").reindex(
                columns=self.writer.contract["erp_purchase_orders"].column_names
            ),
        )

    def goods_receipts(self, d: int, out: DayOutput) -> None:
        receipts = self.frames(out, "goods_receipts")
        columns = self.writer.contract["erp_goods_receipts"].column_names
        dc_rows = receipts.index[receipts["loc"].isin(w.DCS)] if len(receipts) else receipts.index
        n_late = self.plan.take("late_receipt", d, len(dc_rows))
        if not receipts.empty:
            # invoices follow receipts by days; the period's last day books every one still open
            invoice_day = (d + self.plan_invoice_delay(receipts)).clip(upper=self.config.days - 1)
            for day, group in receipts.groupby(invoice_day):
                self.later["invoices"][int(day)].append(group)
            receipts["late"] = False
            if n_late:
                picks = self.plan.rng.choice(len(dc_rows), size=n_late, replace=False)
                receipts.loc[dc_rows[np.sort(picks)], "late"] = True
            late = receipts[receipts["late"]]
            receipts = receipts[~receipts["late"]]
            for r in late.itertuples():
                record_day = d + 3
                recorded_at = int(r.received_at) + 3 * 86_400
                self.later["receipts"][record_day].append(
                    pd.DataFrame([r._asdict()])
                    .drop(columns="Index")
                    .assign(received_at=recorded_at)
                )
                self.plan.record(
                    "late_receipt",
                    "erp",
                    "erp_goods_receipts",
                    self.writer.relative(
                        self.writer.path_for(
                            self.writer.contract["erp_goods_receipts"],
                            self.config.day(record_day),
                            self.config.day(record_day),
                        )
                    ),
                    receipt_number=r.receipt_number,
                    receipt_line_number=r.receipt_line_number,
                    location_id=r.location_id,
                    sku=r.sku,
                    units=int(r.received_units),
                    physical_date=self.config.day(d).isoformat(),
                    recorded_date=self.config.day(record_day).isoformat(),
                )
        delayed = self.later["receipts"].pop(d, [])
        frame = pd.concat([receipts, *delayed], ignore_index=True) if delayed else receipts
        self.write_file("erp_goods_receipts", d, frame.reindex(columns=columns))

    def plan_invoice_delay(self, receipts: pd.DataFrame) -> pd.Series:
        per_receipt = receipts["receipt_number"].drop_duplicates()
        delay = pd.Series(self.plan_rng_integers(2, 7, len(per_receipt)), index=per_receipt.values)
        return receipts["receipt_number"].map(delay)

    def plan_rng_integers(self, low: int, high: int, n: int) -> np.ndarray:
        return self.sim.rng.integers(low, high, n)

    def supplier_invoices(self, d: int) -> None:
        due = self.later["invoices"].pop(d, [])
        today = self.config.day(d)
        rows = []
        n_receipts = sum(r["receipt_number"].nunique() for r in due)
        duplicates_left = self.plan.take("duplicate_supplier_invoice", d, n_receipts)
        charges = sum(
            int((r.groupby("receipt_number")[["freight", "duty"]].first() > 0).to_numpy().sum())
            for r in due
        )
        n_keyed_twice = self.plan.take("duplicate_freight_invoice", d, charges)
        keyed_twice = (
            set(self.plan.loss_rng.choice(charges, size=n_keyed_twice, replace=False).tolist())
            if n_keyed_twice
            else set()
        )
        charge_index = 0
        fresh: list[dict] = []
        for receipts in due:
            for receipt_number, g in receipts.groupby("receipt_number", sort=True):
                entity = g["entity_code"].iloc[0]
                currency = w.ENTITY_CURRENCY[entity]
                number = f"INV-{self.sim.next_id('inv'):06d}"
                variance = self.sim.rng.random(len(g)) < 0.05
                price = np.where(
                    variance,
                    np.round(g["unit_cost"] * self.sim.rng.uniform(0.97, 1.03, len(g)), 4),
                    g["unit_cost"],
                )
                for line, (r, p) in enumerate(zip(g.itertuples(), price, strict=True), 1):
                    rows.append(
                        (
                            number,
                            line,
                            r.supplier_id,
                            today,
                            "goods",
                            r.po_number,
                            r.po_line_number,
                            receipt_number,
                            r.sku,
                            r.received_units,
                            p,
                            float(round_half_up(r.received_units * p)),
                            currency,
                        )
                    )
                if duplicates_left > 0:
                    duplicates_left -= 1
                    dup = number.replace("INV-", "INV")
                    dup_day = min(d + int(self.sim.rng.integers(0, 3)), self.config.days - 1)
                    dup_rows = [
                        (dup, *row[1:3], self.config.day(dup_day), *row[4:])
                        for row in rows
                        if row[0] == number
                    ]
                    self.later["invoice_rows"][dup_day].extend(dup_rows)
                    self.plan.record(
                        "duplicate_supplier_invoice",
                        "erp",
                        "erp_supplier_invoices",
                        self.writer.relative(
                            self.writer.path_for(
                                self.writer.contract["erp_supplier_invoices"],
                                self.config.day(dup_day),
                                self.config.day(dup_day),
                            )
                        ),
                        invoice_number=dup,
                        duplicate_of=number,
                        supplier_id=g["supplier_id"].iloc[0],
                        amount=round(sum(r[11] for r in dup_rows), 2),
                        invoice_day=d,
                    )
                freight, duty = float(g["freight"].iloc[0]), float(g["duty"].iloc[0])
                for kind, amount, payee in (
                    ("freight", freight, w.ENTITY_FREIGHT[entity]),
                    ("duty", duty, w.ENTITY_CUSTOMS[entity]),
                ):
                    if amount > 0:
                        n = f"{payee}-{self.sim.next_id('chg'):06d}"
                        row = (
                            n,
                            1,
                            payee,
                            today,
                            kind,
                            None,
                            None,
                            receipt_number,
                            None,
                            None,
                            None,
                            amount,
                            currency,
                        )
                        rows.append(row)
                        if charge_index in keyed_twice:
                            fresh.append(self.key_charge_twice(d, row))
                        charge_index += 1
        rows.extend(self.later["invoice_rows"].pop(d, []))
        frame = pd.DataFrame(
            rows, columns=self.writer.contract["erp_supplier_invoices"].column_names
        )
        self.write_file("erp_supplier_invoices", d, frame)
        self.record_charges_keyed_twice(d, frame, fresh)

    def delivered_file(self, extract, d: int) -> str:
        """The file that carries a business date's rows as written: the late file, or the
        correction of a spoiled one."""
        file = self.writer.relative(
            self.writer.path_for(extract, self.config.day(d), self.config.day(d))
        )
        fault = self.plan.file_schedule.get((extract.name, d))
        for m in reversed(self.plan.manifest):
            if fault == "late_file" and m["kind"] == fault and m["extract"] == extract.name:
                if json.loads(m["detail"])["business_date"] == self.config.day(d).isoformat():
                    return m["file"]
            if m["file"] == file and m["kind"] == fault:
                return json.loads(m["detail"]).get("corrected_by", file)
        return file

    def key_charge_twice(self, d: int, row: tuple) -> dict:
        """A freight or duty invoice keyed into the ERP a second time, its number formatted
        without the hyphen: the same supplier, amount and receipt, on the day or up to two days
        later. The true landed cost counts it once."""
        twice = row[0].replace("-", "")
        day = min(d + int(self.plan.loss_rng.integers(0, 3)), self.config.days - 1)
        self.later["invoice_rows"][day].append((twice, *row[1:3], self.config.day(day), *row[4:]))
        return {
            "day": day,
            "invoice_number": twice,
            "duplicate_of": row[0],
            "supplier_id": row[2],
            "line_type": row[4],
            "receipt_number": row[7],
            "amount": row[11],
            "currency_code": row[12],
        }

    def record_charges_keyed_twice(self, d: int, frame: pd.DataFrame, fresh: list[dict]) -> None:
        """Manifest rows (1-based data rows of the files) for the charges keyed twice today."""
        extract = self.writer.contract["erp_supplier_invoices"]
        file = self.delivered_file(extract, d)
        numbers = frame["invoice_number"].to_numpy()
        for charge in fresh:
            charge["original_file"] = file
            charge["original_row_number"] = (
                int(np.nonzero(numbers == charge["duplicate_of"])[0][0]) + 1
            )
            self.later["charges_keyed_twice"][charge.pop("day")].append(charge)
        for charge in self.later["charges_keyed_twice"].pop(d, []):
            self.plan.record_loss(
                "duplicate_freight_invoice",
                "erp",
                extract.name,
                file,
                row_number=int(np.nonzero(numbers == charge["invoice_number"])[0][0]) + 1,
                **charge,
            )

    def transfers(self, d: int, out: DayOutput) -> None:
        shipped = self.frames(out, "transfers_shipped")
        received = self.frames(out, "transfers_received")
        parts = []
        for frame, event in ((shipped, "shipped"), (received, "received")):
            if frame.empty:
                continue
            parts.append(
                pd.DataFrame(
                    {
                        "transfer_number": frame["transfer_number"],
                        "transfer_line_number": frame["transfer_line_number"],
                        "event_type": event,
                        "from_location_id": self.loc_ids[frame["src"]],
                        "to_location_id": self.loc_ids[frame["dst"]],
                        "sku": self.skus[frame["sku"]],
                        "units": frame["units"],
                        "event_at": frame["event_at"],
                    }
                )
            )
        columns = self.writer.contract["erp_transfers"].column_names
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
        self.write_file(
            "erp_transfers",
            d,
            frame.sort_values(["event_at", "transfer_number", "transfer_line_number"]),
        )

    def store_adjustments(self, d: int, out: DayOutput) -> None:
        adj = self.frames(out, "store_adjustments")
        columns = self.writer.contract["erp_stock_adjustments"].column_names
        if adj.empty:
            frame = pd.DataFrame(columns=columns)
        else:
            frame = pd.DataFrame(
                {
                    "adjustment_number": [
                        f"ADJ{self.sim.next_id('adj'):08d}" for _ in range(len(adj))
                    ],
                    "location_id": self.loc_ids[adj["loc"]],
                    "sku": self.skus[adj["sku"]],
                    "reason_code": adj["reason"],
                    "units": adj["units"],
                    "adjusted_at": adj["event_at"],
                    "unit_cost": adj["unit_cost"] if "unit_cost" in adj else np.nan,
                }
            )
        self.write_file("erp_stock_adjustments", d, frame)

    # ------------------------------------------------------------------ ERP general ledger
    def gl_journal_lines(self, d: int, out: DayOutput) -> None:
        """The ERP posts each business date's sales and inventory batches the next day."""
        if d > 0:
            self.post_batches(d - 1)
        rows = self.later["gl_rows"].pop(d, [])
        columns = self.writer.contract["erp_gl_journal_lines"].column_names
        self.write_file("erp_gl_journal_lines", d, pd.DataFrame(rows, columns=columns))
        self.later["gl_source"][d] = [
            self.sales_amounts(out),
            out.valued,
            self.frames(out, "goods_receipts"),
        ]

    def sales_amounts(self, out: DayOutput) -> pd.DataFrame:
        parts = [f for f in out.sales_lines if len(f)]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def post_batches(self, source_day: int) -> None:
        sales, valued, receipts = self.later["gl_source"].pop(source_day)
        source = self.config.day(source_day)
        batches = {}
        for entity in w.ENTITIES["entity_code"]:
            batches[(entity, "sales")] = self.sales_journal(entity, sales)
            batches[(entity, "inventory")] = self.inventory_journal(entity, valued, receipts)
        spoiled: dict[tuple[str, str], str] = {}
        for kind in ("gl_batch_late", "gl_batch_missing"):
            free = sorted(k for k, v in batches.items() if v and k not in spoiled)
            n = self.plan.take(kind, source_day, len(free))
            for i in sorted(self.plan.rng.choice(len(free), size=n, replace=False).tolist()):
                spoiled[free[i]] = kind
        for (entity, batch), lines in sorted(batches.items()):
            if not lines:
                continue
            journal = f"JE-{entity}-{source:%Y%m%d}-{batch.upper()}"
            detail = {
                "journal_number": journal,
                "entity_code": entity,
                "batch_type": batch,
                "source_business_date": source.isoformat(),
                "debit_total": round(sum(x[1] for x in lines), 2),
            }
            post_day = source_day + 1
            if spoiled.get((entity, batch)) == "gl_batch_missing":
                self.plan.record("gl_batch_missing", "erp", "erp_gl_journal_lines", "", **detail)
                continue
            if spoiled.get((entity, batch)) == "gl_batch_late":
                post_day += late_day_offsets(self.plan.rng)
                file = self.writer.path_for(
                    self.writer.contract["erp_gl_journal_lines"],
                    self.config.day(post_day),
                    self.config.day(post_day),
                )
                self.plan.record(
                    "gl_batch_late",
                    "erp",
                    "erp_gl_journal_lines",
                    self.writer.relative(file),
                    posting_date=self.config.day(post_day).isoformat(),
                    **detail,
                )
            currency = w.ENTITY_CURRENCY[entity]
            self.later["gl_rows"][post_day].extend(
                (
                    journal,
                    n,
                    entity,
                    self.config.day(post_day),
                    source,
                    batch,
                    ACCOUNT[account],
                    debit,
                    credit,
                    currency,
                )
                for n, (account, debit, credit) in enumerate(lines, 1)
            )

    @staticmethod
    def _line(account: str, amount: float) -> tuple[str, float, float]:
        """A journal line for a signed amount: positive debits the account, negative credits."""
        amount = float(round_half_up(amount))
        return (account, amount, 0.0) if amount >= 0 else (account, 0.0, -amount)

    def sales_journal(self, entity: str, sales: pd.DataFrame) -> list:
        if sales.empty:
            return []
        mine = sales[sales["entity_code"] == entity]
        lines = []
        for channel, g in mine.groupby("channel", sort=True):
            sold, ret = g[~g["is_return"]], g[g["is_return"]]
            gross, disc = sold["gross"].sum(), sold["discount"].sum()
            returns = (ret["gross"] - ret["discount"]).sum()
            tax = sold["tax"].sum() - ret["tax"].sum()
            fees = g["fee"].sum()
            charged = gross - disc - returns + tax
            lines += [
                self._line(CLEARING[channel], charged),
                self._line("revenue", -gross),
                self._line("discounts", disc),
                self._line("returns", returns),
                self._line("sales_tax_payable", -tax),
            ]
            if fees:
                lines += [
                    self._line("marketplace_fees", fees),
                    self._line("marketplace_receivable", -fees),
                ]
        return [x for x in lines if x[1] or x[2]]

    def inventory_journal(self, entity: str, valued: pd.DataFrame, receipts: pd.DataFrame) -> list:
        if valued is None or valued.empty:
            return []
        v = valued[valued["entity_code"] == entity]
        issue = v.loc[v["event_type"] == "issue", "amount"].sum()
        back = v.loc[v["event_type"] == "return_restock", "amount"].sum()
        received = v.loc[v["event_type"] == "receipt", "amount"].sum()
        opened = v.loc[v["event_type"] == "opening_balance", "amount"].sum()
        adjust = v.loc[v["event_type"].isin(["adjustment", "adjustment_at_cost"]), "amount"].sum()
        sent = v.loc[(v["event_type"] == "transfer_out") & (v["amount"] != 0), "amount"].sum()
        came = v.loc[(v["event_type"] == "transfer_in") & (v["amount"] != 0), "amount"].sum()
        goods = 0.0
        if not receipts.empty:
            r = receipts[receipts["entity_code"] == entity]
            goods = float(round_half_up(r["received_units"] * r["unit_cost"]).sum())
        lines = [
            self._line("inventory", opened),
            self._line("opening_balance_equity", -opened),
            self._line("cogs", issue - back),
            self._line("inventory", -(issue - back)),
            self._line("inventory", received),
            self._line("grni", -goods),
            self._line("landed_cost_accrual", -(round(received, 2) - goods)),
            self._line("shrinkage", -adjust),
            self._line("inventory", adjust),
            self._line("intercompany_receivable", sent),
            self._line("inventory", -sent),
            self._line("inventory", came),
            self._line("intercompany_payable", -came),
            *(self._line(account, amount) for account, amount in production_journal(v, self.sim)),
        ]
        return [x for x in lines if x[1] or x[2]]

    # ------------------------------------------------------------------ POS
    def pos_sales(self, d: int, out: DayOutput) -> None:
        lines = self.frames(out, "pos")
        columns = self.writer.contract["pos_sales"].column_names
        if lines.empty:
            self.write_file("pos_sales", d, pd.DataFrame(columns=columns))
            return
        day_start = int(pd.Timestamp(self.config.day(d)).timestamp())
        frame = (
            pd.DataFrame(
                {
                    "pos_store_code": w.LOCATIONS["pos_store_code"].to_numpy()[lines["loc"]],
                    "register_number": 1 + lines["receipt_seq"] % 4,
                    "receipt_number": lines["receipt_number"],
                    "receipt_line_number": lines["receipt_line_number"],
                    "transaction_type": lines["transaction_type"],
                    "transaction_local_time": day_start + lines["local"],
                    "barcode": self.barcodes(lines["sku"].to_numpy(), d),
                    "quantity": lines["units"],
                    "unit_price": lines["unit_price"],
                    "discount_amount": lines["discount"],
                    "tax_amount": lines["tax"],
                    "currency_code": [
                        w.ENTITY_CURRENCY[e] for e in self.sim.entity_of[lines["loc"]]
                    ],
                    "original_receipt_number": lines.get("original_receipt_number"),
                    "original_receipt_line_number": lines.get("original_receipt_line_number"),
                    "return_condition": np.where(
                        lines["transaction_type"] == "return",
                        np.where(
                            lines.get("restock", False) == True,  # noqa: E712
                            "restock",
                            "damaged",
                        ),
                        None,
                    ),
                    "listed_price": lines.get("listed_price"),
                }
            )
            .sort_values(
                [
                    "pos_store_code",
                    "transaction_local_time",
                    "receipt_number",
                    "receipt_line_number",
                ],
                kind="stable",
            )
            .reset_index(drop=True)
        )
        self.write_file("pos_sales", d, frame)

    def barcodes(self, sku: np.ndarray, d: int) -> np.ndarray:
        """The barcode a till scans: a product's new barcode once it is in use."""
        codes = self.products["barcode"].to_numpy()[sku].copy()
        ch = self.sim.changes
        if self.config.day(d) >= ch.new_barcode_date:
            new = np.isin(sku, ch.new_barcode_skus)
            codes[new] = [w.new_barcode(int(i)) for i in sku[new]]
        return codes

    # ------------------------------------------------------------------ webshop
    def webshop_events(self, d: int, out: DayOutput) -> None:
        events: list[dict] = list(out.extracts.get("web_events", []))
        variant = self.products["variant_sku"].to_numpy()
        for orders, lines in out.extracts.get("web_placed", []):
            order_lines: dict[str, list[dict]] = defaultdict(list)
            line_records = pd.DataFrame(
                {
                    "order_id": lines["order_id"],
                    "line_number": lines["line_number"],
                    "variant_sku": variant[lines["sku"]],
                    "quantity": lines["units"],
                    "unit_price": lines["unit_price"],
                    "line_discount_amount": lines["line_discount"],
                    "tax_amount": lines["tax"],
                }
            ).to_dict("records")
            for record in line_records:
                order_lines[record.pop("order_id")].append(record)
            number = orders["customer_id"].str[1:].astype(int)
            first = np.array(FIRST_NAMES)[number % len(FIRST_NAMES)]
            last = np.array(LAST_NAMES)[number % len(LAST_NAMES)]
            frame = pd.DataFrame(
                {
                    "order_id": orders["order_id"],
                    "event_at": orders["placed_at"].astype(int),
                    "currency_code": [
                        w.ENTITY_CURRENCY[e] for e in self.sim.entity_of[orders["loc"]]
                    ],
                    "customer_id": orders["customer_id"],
                    "email": (
                        pd.Series(first)
                        + "."
                        + pd.Series(last)
                        + "."
                        + orders["customer_id"].str[1:].to_numpy()
                        + "@example.com"
                    )
                    .str.lower()
                    .to_numpy(),
                    "full_name": pd.Series(first) + " " + pd.Series(last),
                    "phone": "+1555" + orders["customer_id"].str[1:].str.zfill(7),
                    "fulfillment_location_id": self.loc_ids[orders["loc"]],
                    "order_discount_amount": orders["order_discount"].astype(float),
                    "shipping_amount": orders["shipping"].astype(float),
                    "paid_at": orders["placed_at"].astype(int) + 60 + orders["order_seq"] % 1700,
                }
            )
            for o in frame.to_dict("records"):
                events.append(
                    {
                        "event_type": "placed",
                        "event_at": o["event_at"],
                        "order_id": o["order_id"],
                        "currency_code": o["currency_code"],
                        "customer": {
                            "customer_id": o["customer_id"],
                            "email": o["email"],
                            "full_name": o["full_name"],
                            "phone": o["phone"],
                        },
                        "fulfillment_location_id": o["fulfillment_location_id"],
                        "order_discount_amount": o["order_discount_amount"],
                        "shipping_amount": o["shipping_amount"],
                        "lines": order_lines[o["order_id"]],
                    }
                )
                events.append(
                    {
                        "event_type": "paid",
                        "order_id": o["order_id"],
                        "event_at": o["paid_at"],
                        "currency_code": o["currency_code"],
                    }
                )
        # webshop and wholesale orders are picked at the DC
        picked = [self.frames(out, key) for key in ("web_shipped", "wholesale_shipped")]
        picked = [f for f in picked if not f.empty]
        shipped = pd.concat(picked, ignore_index=True) if picked else pd.DataFrame()
        if not shipped.empty:
            first_line = shipped.drop_duplicates("order_id")
            for o in pd.DataFrame(
                {
                    "order_id": first_line["order_id"],
                    "event_at": first_line["event_at"].astype(int),
                    "currency_code": [
                        w.ENTITY_CURRENCY[e] for e in self.sim.entity_of[first_line["loc"]]
                    ],
                    "ship_from_location_id": self.loc_ids[first_line["loc"]],
                }
            ).to_dict("records"):
                events.append({"event_type": "shipped", **o})
        refunded = self.frames(out, "web_refunded")
        if not refunded.empty:
            refund_lines: dict[str, list[dict]] = defaultdict(list)
            for record in pd.DataFrame(
                {
                    "order_id": refunded["order_id"],
                    "line_number": refunded["line_number"],
                    "quantity": refunded["units"],
                    "refund_amount": refunded["refund_amount"],
                    "refund_tax_amount": refunded["tax"],
                    "restock": refunded["restock"].astype(bool),
                }
            ).to_dict("records"):
                refund_lines[record.pop("order_id")].append(record)
            first_line = refunded.drop_duplicates("order_id")
            for o in pd.DataFrame(
                {
                    "order_id": first_line["order_id"],
                    "event_at": first_line["event_at"].astype(int),
                    "currency_code": [
                        w.ENTITY_CURRENCY[e] for e in self.sim.entity_of[first_line["loc"]]
                    ],
                }
            ).to_dict("records"):
                events.append(
                    {"event_type": "refunded", **o, "refund_lines": refund_lines[o["order_id"]]}
                )
        events.sort(key=lambda e: (e["event_at"], e["order_id"], e["event_type"]))
        for e in events:
            e["event_id"] = f"EV{self.sim.next_id('event'):09d}"
        events = self.delay_webshop_events(d, events)
        self.write_file("webshop_order_events", d, events)

    def delay_webshop_events(self, d: int, events: list[dict]) -> list[dict]:
        """Out-of-order delivery: some paid/shipped events reach a later day's file."""
        movable = [i for i, e in enumerate(events) if e["event_type"] in ("paid", "shipped")]
        n = self.plan.take("out_of_order_webshop_event", d, len(movable))
        for j in sorted(
            self.plan.rng.choice(len(movable), size=n, replace=False).tolist(), reverse=True
        ):
            event = events.pop(movable[j])
            later = d + 1
            self.later["web_events"][later].append(event)
            file = self.writer.path_for(
                self.writer.contract["webshop_order_events"],
                self.config.day(later),
                self.config.day(later),
            )
            self.plan.record(
                "out_of_order_webshop_event",
                "webshop",
                "webshop_order_events",
                self.writer.relative(file),
                event_id=event["event_id"],
                order_id=event["order_id"],
                event_type=event["event_type"],
                event_date=self.config.day(d).isoformat(),
            )
        # late events are appended at the top of the next file, before the day's own events
        return self.later["web_events"].pop(d, []) + events

    # ------------------------------------------------------------------ marketplace
    def marketplace_settlement(self, d: int, out: DayOutput) -> None:
        orders, refunds = self.frames(out, "mkt_orders"), self.frames(out, "mkt_refunds")
        code = self.products["marketplace_item_code"].to_numpy()
        parts = []
        if not orders.empty:
            parts.append(
                pd.DataFrame(
                    {
                        "posted_at": orders["event_at"],
                        "transaction_type": "order",
                        "row_type": "item",
                        "order_id": orders["order_id"],
                        "order_line_number": orders["line_number"],
                        "marketplace_item_code": code[orders["sku"]],
                        "quantity": orders["units"],
                        "item_price_amount": orders["gross"],
                        "promotion_amount": 0.0,
                        "tax_amount": orders["tax"],
                        "fee_amount": orders["fee"],
                    }
                )
            )
            promo = (
                orders[orders["promotion"] > 0]
                .groupby("order_id")
                .agg(posted_at=("event_at", "first"), promotion_amount=("promotion", "first"))
            )
            parts.append(
                pd.DataFrame(
                    {
                        "posted_at": promo["posted_at"],
                        "transaction_type": "order",
                        "row_type": "promotion",
                        "order_id": promo.index,
                        "order_line_number": None,
                        "marketplace_item_code": None,
                        "quantity": None,
                        "item_price_amount": 0.0,
                        "promotion_amount": promo["promotion_amount"],
                        "tax_amount": 0.0,
                        "fee_amount": 0.0,
                    }
                )
            )
        if not refunds.empty:
            parts.append(
                pd.DataFrame(
                    {
                        "posted_at": refunds["event_at"],
                        "transaction_type": "refund",
                        "row_type": "item",
                        "order_id": refunds["order_id"],
                        "order_line_number": refunds["line_number"],
                        "marketplace_item_code": code[refunds["sku"]],
                        "quantity": refunds["units"],
                        "item_price_amount": refunds["gross"],
                        "promotion_amount": refunds["discount"],
                        "tax_amount": refunds["tax"],
                        "fee_amount": 0.0,
                    }
                )
            )
        columns = self.writer.contract["marketplace_settlement"].column_names
        if not parts:
            self.write_file("marketplace_settlement", d, pd.DataFrame(columns=columns))
            return
        frame = (
            pd.concat(parts, ignore_index=True)
            .sort_values(
                ["posted_at", "order_id", "transaction_type", "row_type", "order_line_number"],
                kind="stable",
                na_position="last",
            )
            .reset_index(drop=True)
        )
        frame.insert(0, "settlement_row_number", np.arange(1, len(frame) + 1))
        frame.insert(0, "settlement_id", f"STL-{self.config.day(d):%Y%m%d}")
        frame["currency_code"] = w.MARKETPLACE_CURRENCY
        self.write_file("marketplace_settlement", d, frame[columns])

    # ------------------------------------------------------------------ WMS
    def uom(self, sku: np.ndarray, units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Whole cases are reported in CS for items the WMS manages in cases."""
        pack = self.products["case_pack_units"].to_numpy()[sku]
        cases = (
            self.products["reported_in_cases"].to_numpy()[sku] & (pack > 1) & (units % pack == 0)
        )
        return np.where(cases, "CS", "EA"), np.where(cases, units // pack, units)

    def wms(self, d: int, out: DayOutput) -> None:
        sim = self.sim
        parts = []
        receipts = self.frames(out, "goods_receipts")
        if not receipts.empty:
            r = receipts[receipts["loc"].isin(w.DCS)]
            parts.append(
                pd.DataFrame(
                    {
                        "loc": r["loc"],
                        "sku": r["sku_idx"],
                        "units": r["received_units"],
                        "event_at": r["received_at"],
                        "movement_type": "receipt",
                        "stock_status": "unrestricted",
                        "reference_number": r["receipt_number"],
                    }
                )
            )
        shipped = self.frames(out, "web_shipped")
        if not shipped.empty:
            parts.append(
                pd.DataFrame(
                    {
                        "loc": shipped["loc"],
                        "sku": shipped["sku"],
                        "units": shipped["units"],
                        "event_at": shipped["event_at"],
                        "movement_type": "pick",
                        "stock_status": "unrestricted",
                        "reference_number": shipped["order_id"],
                    }
                )
            )
        transfers = self.frames(out, "transfers_shipped")
        if not transfers.empty:
            t = transfers[transfers["src"].isin(w.DCS)]
            parts.append(
                pd.DataFrame(
                    {
                        "loc": t["src"],
                        "sku": t["sku"],
                        "units": t["units"],
                        "event_at": t["event_at"],
                        "movement_type": "transfer_out",
                        "stock_status": "unrestricted",
                        "reference_number": t["transfer_number"],
                    }
                )
            )
        parts += [f for f in out.extracts.get("wms_moves", []) if len(f)]
        columns = self.writer.contract["wms_movements"].column_names
        if parts:
            moves = (
                pd.concat(parts, ignore_index=True)
                .sort_values(["loc", "event_at", "movement_type", "sku"], kind="stable")
                .reset_index(drop=True)
            )
            signed = moves["movement_type"] == "count_correction"
            uom, qty = self.uom(moves["sku"].to_numpy(), np.abs(moves["units"].to_numpy()))
            qty = np.where(signed & (moves["units"] < 0), -qty, qty)
            moves = pd.DataFrame(
                {
                    "wms_site_code": w.LOCATIONS["wms_site_code"].to_numpy()[moves["loc"]],
                    "movement_number": [f"M{sim.next_id('move'):09d}" for _ in range(len(moves))],
                    "movement_type": moves["movement_type"],
                    "stock_status": moves["stock_status"],
                    "wms_item_code": self.products["wms_item_code"].to_numpy()[moves["sku"]],
                    "unit_of_measure": uom,
                    "quantity": qty,
                    "reference_number": moves["reference_number"],
                    "moved_at": moves["event_at"],
                }
            )
        else:
            moves = pd.DataFrame(columns=columns)
        self.write_file("wms_movements", d, moves)
        self.write_file("wms_on_hand", d, self.wms_snapshot(d))

    def wms_snapshot(self, d: int) -> pd.DataFrame:
        sim = self.sim
        rows = []
        for dc in w.DCS:
            for status, qty in (
                ("unrestricted", sim.on_hand[dc] - sim.quarantined[dc]),
                ("hold", sim.quarantined[dc]),
            ):
                sku = np.nonzero(qty > 0)[0]
                q = qty[sku].copy()
                rows.append(pd.DataFrame({"dc": dc, "sku": sku, "status": status, "units": q}))
        snap = pd.concat(rows, ignore_index=True)
        n = self.plan.take("wms_count_difference", d, len(snap))
        for i in sorted(self.plan.rng.choice(len(snap), size=n, replace=False).tolist()):
            delta = int(self.plan.rng.choice([-3, -2, -1, 1, 2, 3]))
            true_units = int(snap.at[i, "units"])
            snap.at[i, "units"] = max(0, true_units + delta)
            file = self.writer.path_for(
                self.writer.contract["wms_on_hand"], self.config.day(d), self.config.day(d)
            )
            self.plan.record(
                "wms_count_difference",
                "wms",
                "wms_on_hand",
                self.writer.relative(file),
                location_id=self.loc_ids[snap.at[i, "dc"]],
                sku=self.skus[snap.at[i, "sku"]],
                stock_status=snap.at[i, "status"],
                true_units=true_units,
                counted_units=int(snap.at[i, "units"]),
                snapshot_date=self.config.day(d).isoformat(),
            )
        pack = self.products["case_pack_units"].to_numpy()[snap["sku"]]
        in_cases = self.products["reported_in_cases"].to_numpy()[snap["sku"]] & (pack > 1)
        cases = np.where(in_cases, snap["units"] // pack, 0)
        eaches = snap["units"] - cases * pack
        site = w.LOCATIONS["wms_site_code"].to_numpy()[snap["dc"]]
        item = self.products["wms_item_code"].to_numpy()[snap["sku"]]
        frame = pd.concat(
            [
                pd.DataFrame(
                    {
                        "wms_site_code": site,
                        "wms_item_code": item,
                        "stock_status": snap["status"],
                        "unit_of_measure": "CS",
                        "quantity": cases,
                    }
                ),
                pd.DataFrame(
                    {
                        "wms_site_code": site,
                        "wms_item_code": item,
                        "stock_status": snap["status"],
                        "unit_of_measure": "EA",
                        "quantity": eaches,
                    }
                ),
            ],
            ignore_index=True,
        )
        frame = (
            frame[frame["quantity"] > 0]
            .sort_values(["wms_site_code", "wms_item_code", "stock_status", "unit_of_measure"])
            .reset_index(drop=True)
        )
        frame.insert(0, "snapshot_date", self.config.day(d))
        return frame

    # ------------------------------------------------------------------ truth
    def append_truth(self, name: str, frame: pd.DataFrame) -> None:
        path = self.truth_dir / f"{name}.csv"
        frame = minimal_erp.in_reporting_currency(self.config, frame)  # type: ignore[assignment]
        first = name not in self.truth_files
        self.truth_files[name] = path
        frame.to_csv(
            path,
            mode="w" if first else "a",
            header=first,
            index=False,
            float_format="%.2f",
            lineterminator="\n",
        )

    def truth(self, d: int, out: DayOutput) -> None:
        today = self.config.day(d)
        sales = self.sales_amounts(out)
        if not sales.empty:
            sold = ~sales["is_return"]
            sales = sales.assign(
                units_sold=np.where(sold, sales["units"], 0),
                units_returned=np.where(sold, 0, sales["units"]),
                gross_sales=np.where(sold, sales["gross"], 0.0),
                discounts=np.where(sold, sales["discount"], 0.0),
                returns=np.where(sold, 0.0, sales["gross"] - sales["discount"]),
            )
            keys = [
                "business_date",
                "entity_code",
                "location_id",
                "channel",
                "sku",
                "currency_code",
            ]
            agg = sales.groupby(keys, as_index=False)[
                ["units_sold", "units_returned", "gross_sales", "discounts", "returns"]
            ].sum()
            agg["net_sales"] = agg["gross_sales"] - agg["discounts"] - agg["returns"]
            for c in ("gross_sales", "discounts", "returns", "net_sales"):
                agg[c] = round_half_up(agg[c])
        else:
            agg = pd.DataFrame(columns=NET_SALES_COLUMNS)
        self.append_truth("net_sales", agg[NET_SALES_COLUMNS])
        self.append_truth("cogs", self.cogs_truth(out))
        self.append_truth("inventory_eod", self.inventory_truth(today))
        append_average_costs(self.truth_dir, self.sim.ledger, today, first=d == 0)
        self.append_events(out)

    def cogs_truth(self, out: DayOutput) -> pd.DataFrame:
        v = out.valued
        v = v[v["event_type"].isin(["issue", "return_restock", "return_damaged"])]
        if v.empty:
            return pd.DataFrame(columns=COGS_COLUMNS)
        issue = v["event_type"] == "issue"
        units = np.where(issue, -v["on_hand_delta"].astype(int), 0)
        returned_units = self.returned_units(v)
        frame = pd.DataFrame(
            {
                "business_date": v["business_date"],
                "entity_code": v["entity_code"],
                "location_id": self.loc_ids[v["location"].astype(int)],
                "channel": v["channel"],
                "sku": self.skus[v["sku"].astype(int)],
                "net_units": units - returned_units,
                "cogs": np.where(issue, v["amount"], -v["amount"]),
                "currency_code": [w.ENTITY_CURRENCY[e] for e in v["entity_code"]],
            }
        )
        agg = frame.groupby(
            ["business_date", "entity_code", "location_id", "channel", "sku", "currency_code"],
            as_index=False,
        )[["net_units", "cogs"]].sum()
        agg["cogs"] = round_half_up(agg["cogs"])
        return agg[COGS_COLUMNS]

    def returned_units(self, v: pd.DataFrame) -> np.ndarray:
        """Units of each return event (damaged returns carry no on-hand delta)."""
        units = np.zeros(len(v), dtype=np.int64)
        restock = (v["event_type"] == "return_restock").to_numpy()
        units[restock] = v["on_hand_delta"].to_numpy()[restock].astype(int)
        damaged = (v["event_type"] == "return_damaged").to_numpy()
        units[damaged] = v["return_units"].to_numpy()[damaged].astype(int)
        return units

    def inventory_truth(self, today: date) -> pd.DataFrame:
        s = self.sim
        on_order = s.purchasing.on_order()  # the glossary's rule, line by line
        any_stock = (
            (s.on_hand != 0)
            | (s.reserved != 0)
            | (s.in_transit != 0)
            | (s.quarantined != 0)
            | (on_order != 0)
        )
        loc, sku = np.nonzero(any_stock)
        return pd.DataFrame(
            {
                "as_of_date": today,
                "entity_code": s.entity_of[loc],
                "location_id": self.loc_ids[loc],
                "sku": self.skus[sku],
                "on_hand_units": s.on_hand[loc, sku],
                "reserved_units": s.reserved[loc, sku],
                "in_transit_units": s.in_transit[loc, sku],
                "quarantined_units": s.quarantined[loc, sku],
                "on_order_units": on_order[loc, sku],
            }
        )

    def append_events(self, out: DayOutput) -> None:
        v = out.valued
        if v.empty:
            return
        frame = pd.DataFrame(
            {
                "event_at": pd.to_datetime(v["event_at"].astype("int64"), unit="s"),
                "business_date": pd.to_datetime(v["business_date"]).dt.date,
                "entity_code": v["entity_code"].astype(str),
                "location_id": self.loc_ids[v["location"].astype(int)],
                "sku": self.skus[v["sku"].astype(int)],
                "event_type": v["event_type"].astype(str),
                "reason": v["reason"].astype(object).where(v["reason"].notna(), None),
                "channel": v["channel"].astype(object).where(v["channel"].notna(), None),
                "on_hand_delta": v["on_hand_delta"].astype("int64"),
                "quarantined_delta": v["quarantined_delta"].astype("int64"),
                "in_transit_delta": v["in_transit_delta"].astype("int64"),
                "in_transit_location_id": [
                    self.loc_ids[int(x)] if x is not None and x == x else None
                    for x in v["in_transit_location"]
                ],
                "return_units": v["return_units"].fillna(0).astype("int64"),
                "amount": v["amount"].astype(float),
            }
        )
        table = pa.Table.from_pandas(frame, schema=EVENT_SCHEMA, preserve_index=False)
        if self.event_writer is None:
            self.event_writer = pq.ParquetWriter(
                self.truth_dir / "events.parquet", EVENT_SCHEMA, compression="zstd"
            )
        self.event_writer.write_table(table)

    def close(self) -> None:
        if self.event_writer is not None:
            self.event_writer.close()
        manifest = self.plan.manifest_frame()
        manifest.to_csv(self.truth_dir / "defects.csv", index=False, lineterminator="\n")
