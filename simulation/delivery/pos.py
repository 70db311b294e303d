"""The stores' POS extract: sale and return lines of the day's receipts, with the barcode the
till scans."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulation import world as w

if TYPE_CHECKING:
    from simulation.deliver import Deliverer
    from simulation.engine import DayOutput


def pos_sales(dlv: Deliverer, d: int, out: DayOutput) -> None:
    lines = dlv.frames(out, "pos")
    columns = dlv.writer.contract["pos_sales"].column_names
    if lines.empty:
        dlv.write_file("pos_sales", d, pd.DataFrame(columns=columns))
        return
    day_start = int(pd.Timestamp(dlv.config.day(d)).timestamp())
    frame = (
        pd.DataFrame(
            {
                "pos_store_code": w.LOCATIONS["pos_store_code"].to_numpy()[lines["loc"]],
                "register_number": 1 + lines["receipt_seq"] % 4,
                "receipt_number": lines["receipt_number"],
                "receipt_line_number": lines["receipt_line_number"],
                "transaction_type": lines["transaction_type"],
                "transaction_local_time": day_start + lines["local"],
                "barcode": barcodes(dlv, lines["sku"].to_numpy(), d),
                "quantity": lines["units"],
                "unit_price": lines["unit_price"],
                "discount_amount": lines["discount"],
                "tax_amount": lines["tax"],
                "currency_code": [w.ENTITY_CURRENCY[e] for e in dlv.sim.entity_of[lines["loc"]]],
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
    frame = dlv.sim.anomalies.half_empty(dlv, d, frame)  # issue 18's volume break
    dlv.write_file("pos_sales", d, frame)


def barcodes(dlv: Deliverer, sku: np.ndarray, d: int) -> np.ndarray:
    """The barcode a till scans: a product's new barcode once it is in use."""
    codes = dlv.products["barcode"].to_numpy()[sku].copy()
    ch = dlv.sim.changes
    if dlv.config.day(d) >= ch.new_barcode_date:
        new = np.isin(sku, ch.new_barcode_skus)
        codes[new] = [w.new_barcode(int(i)) for i in sku[new]]
    return codes
