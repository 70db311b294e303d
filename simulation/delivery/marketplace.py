"""The marketplace's daily settlement report: order items, order promotions and refunds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulation import world as w

if TYPE_CHECKING:
    from simulation.deliver import Deliverer
    from simulation.engine import DayOutput


def marketplace_settlement(dlv: Deliverer, d: int, out: DayOutput) -> None:
    orders, refunds = dlv.frames(out, "mkt_orders"), dlv.frames(out, "mkt_refunds")
    code = dlv.products["marketplace_item_code"].to_numpy()
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
    columns = dlv.writer.contract["marketplace_settlement"].column_names
    if not parts:
        dlv.write_file("marketplace_settlement", d, pd.DataFrame(columns=columns))
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
    frame.insert(0, "settlement_id", f"STL-{dlv.config.day(d):%Y%m%d}")
    frame["currency_code"] = w.MARKETPLACE_CURRENCY
    dlv.write_file("marketplace_settlement", d, frame[columns])
