"""The ERP's reference data: the weekly master-data snapshots (legal entities, locations,
products, the item cross-reference, suppliers, the price list) and the daily FX rates."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import pandas as pd

from simulation import world as w
from simulation.fx import OPENING_RATE_DAYS

if TYPE_CHECKING:
    from simulation.deliver import Deliverer


def masters(dlv: Deliverer, d: int) -> None:
    today = dlv.config.day(d)
    horizon = today + timedelta(days=7)
    dlv.write_file("erp_legal_entities", d, w.ENTITIES)
    opened = min(date(2015, 3, 1), dlv.config.start_date - timedelta(days=365))
    locations = w.LOCATIONS.assign(opened_date=opened)
    dlv.write_file("erp_locations", d, locations)
    products = dlv.products.assign(base_unit_of_measure="EA", is_active=True).copy()
    ch = dlv.sim.changes
    if today >= ch.category_move_date:
        products.loc[ch.category_move_sku, ["department", "category", "subcategory"]] = list(
            ch.category_move_to
        )
    dlv.write_file("erp_products", d, products)
    dlv.write_file("erp_item_cross_reference", d, cross_reference(dlv, horizon))
    dlv.write_file("erp_suppliers", d, w.SUPPLIERS)
    prices = w.price_list(dlv.products, ch)
    prices = prices[prices["valid_from_date"].isna() | (prices["valid_from_date"] <= horizon)]
    start = dlv.config.start_date - timedelta(days=365)
    prices = prices.assign(valid_from_date=prices["valid_from_date"].fillna(start))
    dlv.write_file("erp_price_list", d, prices)


def cross_reference(dlv: Deliverer, horizon: date) -> pd.DataFrame:
    p = dlv.products
    start = dlv.config.start_date - timedelta(days=365)
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
    ch = dlv.sim.changes
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


def fx_rates(dlv: Deliverer, d: int) -> None:
    """The rates published on a weekday (none at weekends); the first day's file opens with the
    rates of the week before the period."""
    today = dlv.config.day(d)
    if today.weekday() < 5 or d == 0:
        first = today - timedelta(days=OPENING_RATE_DAYS) if d == 0 else today
        fx = dlv.sim.fx[(dlv.sim.fx["rate_date"] >= first) & (dlv.sim.fx["rate_date"] <= today)]
        dlv.write_file("erp_fx_rates", d, fx)
