"""Master data as a real ERP sends it: one full snapshot, then change records.

With ``--master-data deltas`` the product master, the item cross-reference and the price list
arrive as one full snapshot on the first day (the master as it stands that day, nothing
announced ahead) and afterwards only as change records (``<extract>_changes``), on the days the
ERP records a change, each with the date it takes effect:

* the category move: the SKU's full record, recorded on the day it takes effect;
* the price rise: the old price's range restated with its end and the new price's range,
  recorded two days after it took effect (a back-dated change, applied from its effective
  date);
* the new barcodes: their cross-reference ranges, recorded two days before they take effect
  (announced ahead).

The world's master history is the same as with weekly snapshots (``simulation/world.py``), so
the truth files do not change. Legal entities, locations and suppliers, which do not change in
the simulated world, keep their weekly snapshots.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pandas as pd

from simulation import world as w

if TYPE_CHECKING:
    from simulation.deliver import Deliverer

# the weekly snapshot extracts sent as change records in a deltas world
HISTORIZED_MASTERS = ("erp_products", "erp_item_cross_reference", "erp_price_list")
PRICE_CHANGE_RECORDED_AFTER_DAYS = 2  # the back-dated change
NEW_BARCODES_RECORDED_BEFORE_DAYS = 2  # the change announced ahead


class MasterDeltas:
    """Writes the initial snapshot and the change records of the historized masters."""

    def __init__(self, deliverer: Deliverer) -> None:
        self.deliverer = deliverer
        self.config = deliverer.config
        self.changes_by_day: dict[int, dict[str, list[pd.DataFrame]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self.plan()

    # ------------------------------------------------------------------ what changes when
    def day_of(self, on: date) -> int:
        """The simulated day of a date, kept within the period (a record needs a file day)."""
        return min(max((on - self.config.start_date).days, 1), self.config.days - 1)

    def plan(self) -> None:
        ch = self.deliverer.sim.changes
        products = self.products_on(ch.category_move_date)
        moved = products.iloc[[ch.category_move_sku]].assign(
            effective_from_date=ch.category_move_date, is_deleted=False
        )
        self.changes_by_day[self.day_of(ch.category_move_date)]["erp_products_changes"].append(
            moved
        )
        prices = w.price_list(self.deliverer.products, ch)
        changed = prices[prices["valid_from_date"].notna() | prices["valid_to_date"].notna()]
        changed = changed.assign(
            valid_from_date=changed["valid_from_date"].fillna(self.opening_date),
            is_deleted=False,
        )
        recorded = ch.price_change_date + timedelta(days=PRICE_CHANGE_RECORDED_AFTER_DAYS)
        self.changes_by_day[self.day_of(recorded)]["erp_price_list_changes"].append(changed)
        p = self.deliverer.products
        barcodes = pd.DataFrame(
            {
                "source_system": "pos",
                "source_item_code": [w.new_barcode(int(i)) for i in ch.new_barcode_skus],
                "sku": p["sku"].to_numpy()[ch.new_barcode_skus],
                "valid_from_date": ch.new_barcode_date,
                "valid_to_date": None,
                "is_deleted": False,
            }
        )
        announced = ch.new_barcode_date - timedelta(days=NEW_BARCODES_RECORDED_BEFORE_DAYS)
        self.changes_by_day[self.day_of(announced)]["erp_item_cross_reference_changes"].append(
            barcodes
        )

    @property
    def opening_date(self) -> date:
        """The start of the ranges the ERP held before the period (as the snapshots say)."""
        return self.config.start_date - timedelta(days=365)

    def products_on(self, on: date) -> pd.DataFrame:
        """The product master as it stands on a date."""
        products = self.deliverer.products.assign(base_unit_of_measure="EA", is_active=True).copy()
        ch = self.deliverer.sim.changes
        if on >= ch.category_move_date:
            products.loc[ch.category_move_sku, ["department", "category", "subcategory"]] = list(
                ch.category_move_to
            )
        return products

    # ------------------------------------------------------------------ files
    def snapshot_frame(
        self, extract_name: str, day: int, frame: pd.DataFrame | list[dict]
    ) -> pd.DataFrame | list[dict] | None:
        """What to write instead of a weekly snapshot: for a master sent as change records, the
        full snapshot of the first day (the master as it stands that day, nothing announced
        ahead) and nothing afterwards; any other file as it is."""
        if extract_name not in HISTORIZED_MASTERS:
            return frame
        if day != 0:
            return None
        p = self.deliverer.products
        if extract_name == "erp_products":
            return self.products_on(self.config.day(0))
        if extract_name == "erp_item_cross_reference":
            return pd.concat(
                [
                    pd.DataFrame(
                        {
                            "source_system": system,
                            "source_item_code": p[column],
                            "sku": p["sku"],
                            "valid_from_date": self.opening_date,
                            "valid_to_date": None,
                        }
                    )
                    for system, column in (
                        ("pos", "barcode"),
                        ("webshop", "variant_sku"),
                        ("marketplace", "marketplace_item_code"),
                        ("wms", "wms_item_code"),
                    )
                ],
                ignore_index=True,
            )
        prices = w.price_list(p, self.deliverer.sim.changes)
        # the prices holding on the first day, as the ERP held them: open-ended
        return prices[prices["valid_from_date"].isna()].assign(
            valid_from_date=self.opening_date, valid_to_date=None
        )

    def deliver(self, d: int) -> None:
        """The day's change files: one per extract with changes recorded that day."""
        for extract_name, frames in sorted(self.changes_by_day.get(d, {}).items()):
            self.deliverer.write_file(extract_name, d, pd.concat(frames, ignore_index=True))
