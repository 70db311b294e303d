"""The truth writer: what only the simulation knows, written beside the landing zone in DIR/truth.

Per business date: net sales and COGS by location, channel and SKU, end-of-day inventory by
location and SKU, the reference ledger's average costs and the valued event log
(events.parquet); at the end, the manifest of the defects injected into the landing files
(defects.csv). Amounts come from the simulation's own records and the reference valuation
(simulation/valuation.py), never from the warehouse's logic.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from simulation import minimal_erp
from simulation import world as w
from simulation.average_costs import append_average_costs
from simulation.money import round_half_up

if TYPE_CHECKING:
    from simulation.defects import DefectPlan
    from simulation.engine import DayOutput, Simulation

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


class TruthWriter:
    def __init__(self, sim: Simulation, truth_dir: Path) -> None:
        self.sim = sim
        self.config = sim.config
        self.truth_dir = truth_dir
        self.truth_dir.mkdir(parents=True, exist_ok=True)
        self.truth_files: dict[str, Path] = {}
        self.event_writer: pq.ParquetWriter | None = None
        self.loc_ids = w.LOCATIONS["location_id"].to_numpy()
        self.skus = sim.skus

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

    def write_day(self, d: int, out: DayOutput) -> None:
        """Append the day's net sales, COGS, end-of-day inventory, average costs and events."""
        today = self.config.day(d)
        sales = out.sales_frame()
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

    def close(self, plan: DefectPlan) -> None:
        """Finish the event log and write the defect manifest."""
        if self.event_writer is not None:
            self.event_writer.close()
        manifest = plan.manifest_frame()
        manifest.to_csv(self.truth_dir / "defects.csv", index=False, lineterminator="\n")
