"""The ERP's purchasing extracts: purchase orders, goods receipts (some recorded late) and
supplier invoices for goods and for freight and duty (some keyed twice)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulation import world as w
from simulation.money import round_half_up

if TYPE_CHECKING:
    from simulation.deliver import Deliverer
    from simulation.engine import DayOutput


def purchase_orders(dlv: Deliverer, d: int, out: DayOutput) -> None:
    dlv.write_file(
        "erp_purchase_orders",
        d,
        dlv.frames(out, "erp_purchase_orders").reindex(
            columns=dlv.writer.contract["erp_purchase_orders"].column_names
        ),
    )


def goods_receipts(dlv: Deliverer, d: int, out: DayOutput) -> None:
    receipts = dlv.frames(out, "goods_receipts")
    columns = dlv.writer.contract["erp_goods_receipts"].column_names
    dc_rows = receipts.index[receipts["loc"].isin(w.DCS)] if len(receipts) else receipts.index
    n_late = dlv.plan.take("late_receipt", d, len(dc_rows))
    if not receipts.empty:
        # invoices follow receipts by days; the period's last day books every one still open
        invoice_day = (d + plan_invoice_delay(dlv, receipts)).clip(upper=dlv.config.days - 1)
        for day, group in receipts.groupby(invoice_day):
            dlv.later["invoices"][int(day)].append(group)
        receipts["late"] = False
        if n_late:
            picks = dlv.plan.rng.choice(len(dc_rows), size=n_late, replace=False)
            receipts.loc[dc_rows[np.sort(picks)], "late"] = True
        late = receipts[receipts["late"]]
        receipts = receipts[~receipts["late"]]
        for r in late.itertuples():
            record_day = d + 3
            recorded_at = int(r.received_at) + 3 * 86_400
            dlv.later["receipts"][record_day].append(
                pd.DataFrame([r._asdict()]).drop(columns="Index").assign(received_at=recorded_at)
            )
            dlv.plan.record(
                "late_receipt",
                "erp",
                "erp_goods_receipts",
                dlv.writer.relative(
                    dlv.writer.path_for(
                        dlv.writer.contract["erp_goods_receipts"],
                        dlv.config.day(record_day),
                        dlv.config.day(record_day),
                    )
                ),
                receipt_number=r.receipt_number,
                receipt_line_number=r.receipt_line_number,
                location_id=r.location_id,
                sku=r.sku,
                units=int(r.received_units),
                physical_date=dlv.config.day(d).isoformat(),
                recorded_date=dlv.config.day(record_day).isoformat(),
            )
    delayed = dlv.later["receipts"].pop(d, [])
    frame = pd.concat([receipts, *delayed], ignore_index=True) if delayed else receipts
    dlv.write_file("erp_goods_receipts", d, frame.reindex(columns=columns))


def plan_invoice_delay(dlv: Deliverer, receipts: pd.DataFrame) -> pd.Series:
    """Days from each receipt to its supplier invoice (two to six, drawn per receipt)."""
    per_receipt = receipts["receipt_number"].drop_duplicates()
    delay = pd.Series(dlv.sim.rng.integers(2, 7, len(per_receipt)), index=per_receipt.values)
    return receipts["receipt_number"].map(delay)


def supplier_invoices(dlv: Deliverer, d: int) -> None:
    due = dlv.later["invoices"].pop(d, [])
    today = dlv.config.day(d)
    rows = []
    n_receipts = sum(r["receipt_number"].nunique() for r in due)
    duplicates_left = dlv.plan.take("duplicate_supplier_invoice", d, n_receipts)
    charges = sum(
        int((r.groupby("receipt_number")[["freight", "duty"]].first() > 0).to_numpy().sum())
        for r in due
    )
    n_keyed_twice = dlv.plan.take("duplicate_freight_invoice", d, charges)
    keyed_twice = (
        set(dlv.plan.loss_rng.choice(charges, size=n_keyed_twice, replace=False).tolist())
        if n_keyed_twice
        else set()
    )
    charge_index = 0
    fresh: list[dict] = []
    for receipts in due:
        for receipt_number, g in receipts.groupby("receipt_number", sort=True):
            entity = g["entity_code"].iloc[0]
            currency = w.ENTITY_CURRENCY[entity]
            number = f"INV-{dlv.sim.next_id('inv'):06d}"
            variance = dlv.sim.rng.random(len(g)) < 0.05
            price = np.where(
                variance,
                np.round(g["unit_cost"] * dlv.sim.rng.uniform(0.97, 1.03, len(g)), 4),
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
                dup_day = min(d + int(dlv.sim.rng.integers(0, 3)), dlv.config.days - 1)
                dup_rows = [
                    (dup, *row[1:3], dlv.config.day(dup_day), *row[4:])
                    for row in rows
                    if row[0] == number
                ]
                dlv.later["invoice_rows"][dup_day].extend(dup_rows)
                dlv.plan.record(
                    "duplicate_supplier_invoice",
                    "erp",
                    "erp_supplier_invoices",
                    dlv.writer.relative(
                        dlv.writer.path_for(
                            dlv.writer.contract["erp_supplier_invoices"],
                            dlv.config.day(dup_day),
                            dlv.config.day(dup_day),
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
                    n = f"{payee}-{dlv.sim.next_id('chg'):06d}"
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
                        fresh.append(key_charge_twice(dlv, d, row))
                    charge_index += 1
    rows.extend(dlv.later["invoice_rows"].pop(d, []))
    frame = pd.DataFrame(rows, columns=dlv.writer.contract["erp_supplier_invoices"].column_names)
    dlv.write_file("erp_supplier_invoices", d, frame)
    record_charges_keyed_twice(dlv, d, frame, fresh)


def delivered_file(dlv: Deliverer, extract, d: int) -> str:
    """The file that carries a business date's rows as written: the late file, or the
    correction of a spoiled one."""
    file = dlv.writer.relative(dlv.writer.path_for(extract, dlv.config.day(d), dlv.config.day(d)))
    fault = dlv.plan.file_schedule.get((extract.name, d))
    for m in reversed(dlv.plan.manifest):
        if fault == "late_file" and m["kind"] == fault and m["extract"] == extract.name:
            if json.loads(m["detail"])["business_date"] == dlv.config.day(d).isoformat():
                return m["file"]
        if m["file"] == file and m["kind"] == fault:
            return json.loads(m["detail"]).get("corrected_by", file)
    return file


def key_charge_twice(dlv: Deliverer, d: int, row: tuple) -> dict:
    """A freight or duty invoice keyed into the ERP a second time, its number formatted
    without the hyphen: the same supplier, amount and receipt, on the day or up to two days
    later. The true landed cost counts it once."""
    twice = row[0].replace("-", "")
    day = min(d + int(dlv.plan.loss_rng.integers(0, 3)), dlv.config.days - 1)
    dlv.later["invoice_rows"][day].append((twice, *row[1:3], dlv.config.day(day), *row[4:]))
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


def record_charges_keyed_twice(
    dlv: Deliverer, d: int, frame: pd.DataFrame, fresh: list[dict]
) -> None:
    """Manifest rows (1-based data rows of the files) for the charges keyed twice today."""
    extract = dlv.writer.contract["erp_supplier_invoices"]
    file = delivered_file(dlv, extract, d)
    numbers = frame["invoice_number"].to_numpy()
    for charge in fresh:
        charge["original_file"] = file
        charge["original_row_number"] = int(np.nonzero(numbers == charge["duplicate_of"])[0][0]) + 1
        dlv.later["charges_keyed_twice"][charge.pop("day")].append(charge)
    for charge in dlv.later["charges_keyed_twice"].pop(d, []):
        dlv.plan.record_loss(
            "duplicate_freight_invoice",
            "erp",
            extract.name,
            file,
            row_number=int(np.nonzero(numbers == charge["invoice_number"])[0][0]) + 1,
            **charge,
        )
