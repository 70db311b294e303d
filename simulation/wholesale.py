"""The wholesale (business-to-business) channel of the simulated retailer.

A handful of trade customers per distribution centre order cases a few times a week at prices
negotiated off the list; the DC ships what it has in whole cases the same day, and the ERP
records each shipment line (and, later, the credit notes for units sent back) in its sales-order
extract, erp_sales_orders, with its own item codes. Stock moves through the engine's own issue
and take-back, so the reference valuation, the inventory truth and the ERP's journals see the
channel like any other; the truth's net sales come from the same amounts the extract carries.

All draws come from this module's own generator (seeded from the world's seed), so the other
channels' draws and the defect plan do not move.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulation import world as w
from simulation.money import round_half_up

if TYPE_CHECKING:
    from simulation.engine import DayOutput, Simulation

CHANNEL_WHOLESALE = "wholesale"
EXTRACT = "erp_sales_orders"
RNG_STREAM = 0x5A1E  # the wholesale stream of the world's seed
CUSTOMERS_PER_DC = 3
ORDER_WEEKDAYS = 3  # each customer orders on this many weekdays a week
LINES_PER_ORDER = (2, 6)  # low inclusive, high exclusive
MAX_SHARE_OF_AVAILABLE = 0.25  # of the stock above the retail reserve, per order line
RETAIL_FIRST_DAYS = 14  # days of retail demand a DC keeps back from trade customers
RETURN_LINE_RATE = 0.04
RESTOCK_RATE = 0.8
VOLUME_ALLOWANCE = 0.02  # discount on a line of two cases or more
# sales tax or VAT on a sale to a trade customer: a US sale for resale is exempt
TAX_RATE = {"US01": 0.0, "DE01": 0.19, "GB01": 0.20}


class Wholesale:
    """The trade customers of each DC and the sales orders they place."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.rng = np.random.default_rng([sim.config.seed, RNG_STREAM])
        rows = []
        for dc in w.DCS:
            entity = w.LOCATIONS.at[dc, "entity_code"]
            for n in range(CUSTOMERS_PER_DC):
                rows.append(
                    {
                        "customer_account": f"B2B-{entity}-{100 + n}",
                        "loc": dc,
                        "entity": entity,
                        # the price negotiated off the list, per customer
                        "price_factor": float(np.round(self.rng.uniform(0.55, 0.7), 2)),
                        "weekdays": np.sort(self.rng.choice(5, ORDER_WEEKDAYS, replace=False)),
                    }
                )
        self.customers = pd.DataFrame(rows)
        self.orders = 0
        self.credit_notes = 0
        self.pending: dict[int, list[pd.DataFrame]] = {}

    def step(self, d: int, out: DayOutput) -> None:
        """The day's credit notes for units sent back, then the day's shipments."""
        self.credit(d, out)
        self.ship(d, out)

    def protected(self) -> np.ndarray:
        """Units per [location, sku] a DC keeps for its own retail network (the stores and the
        marketplace it replenishes and its webshop demand, for RETAIL_FIRST_DAYS): trade
        customers get only the stock above it, so wholesale never starves a store."""
        sim = self.sim
        keep = np.zeros((sim.n_loc, sim.n_sku))
        for dc in w.DCS:
            dc_id = w.LOCATIONS.at[dc, "location_id"]
            served = [i for i, s in enumerate(w.LOCATIONS["replenished_from"]) if s == dc_id]
            keep[dc] = np.ceil(
                (sim.demand[served].sum(axis=0) + sim.demand[dc]) * RETAIL_FIRST_DAYS
            )
        return keep.astype(np.int64)

    def ship(self, d: int, out: DayOutput) -> None:
        sim, rng = self.sim, self.rng
        weekday = sim.config.day(d).weekday()
        ordering = self.customers[[weekday in days for days in self.customers["weekdays"]]]
        if ordering.empty:
            return
        pop = sim.products["popularity"].to_numpy()
        frames = []
        for customer in ordering.itertuples():
            n = int(rng.integers(*LINES_PER_ORDER))
            sku = rng.choice(sim.n_sku, size=min(n, sim.n_sku), replace=False, p=pop / pop.sum())
            cases = rng.integers(1, 3, len(sku))
            self.orders += 1
            frames.append(
                pd.DataFrame(
                    {
                        "customer_account": customer.customer_account,
                        "loc": customer.loc,
                        "price_factor": customer.price_factor,
                        "order_number": f"SO{self.orders:07d}",
                        "order_line_number": np.arange(1, len(sku) + 1),
                        "sku": sku,
                        "cases": cases,
                        "local": int(rng.integers(10 * 3600, 16 * 3600)),
                    }
                )
            )
        lines = pd.concat(frames, ignore_index=True)
        lines = lines.sort_values(["loc", "local", "order_number"], kind="stable")
        lines = lines.reset_index(drop=True)
        # ship whole cases while the DC has them, never more than a share of what is available
        pack = sim.case_packs[lines["sku"].to_numpy()]
        wanted = lines["cases"].to_numpy() * pack
        loc, sku = lines["loc"].to_numpy(), lines["sku"].to_numpy()
        units = np.zeros(len(lines), dtype=np.int64)
        available = sim.on_hand - sim.reserved - sim.quarantined - self.protected()
        for i in range(len(lines)):
            free = max(0, int(available[loc[i], sku[i]]))
            cap = int(free * MAX_SHARE_OF_AVAILABLE) // pack[i] * pack[i]
            units[i] = min(wanted[i], cap)
            available[loc[i], sku[i]] -= units[i]
        lines = lines.assign(units=units)[units > 0].reset_index(drop=True)
        if lines.empty:
            return
        entity = sim.entity_of[lines["loc"].to_numpy()]
        list_price = sim.price(d, sim.loc_entity_idx[lines["loc"]], lines["sku"].to_numpy())
        lines["unit_price"] = round_half_up(list_price * lines["price_factor"].to_numpy())
        lines["gross"] = round_half_up(lines["units"] * lines["unit_price"])
        allowance = lines["units"].to_numpy() >= 2 * sim.case_packs[lines["sku"].to_numpy()]
        lines["discount"] = np.where(
            allowance, round_half_up(lines["gross"] * VOLUME_ALLOWANCE), 0.0
        )
        tax_rate = np.array([TAX_RATE[e] for e in entity])
        lines["tax"] = round_half_up((lines["gross"] - lines["discount"]) * tax_rate)
        lines["event_at"] = sim.utc(lines["loc"].to_numpy(), d, lines["local"].to_numpy())
        lines["line_id"] = sim.new_line_ids(len(lines))
        lines["currency_code"] = [w.ENTITY_CURRENCY[e] for e in entity]
        # one delivery note per order shipped
        lines["document_number"] = "DN" + lines["order_number"].str[2:]
        lines["document_line_number"] = lines.groupby("order_number").cumcount() + 1
        lines["line_type"] = "shipment"
        lines["order_id"] = lines["order_number"]  # the reference the DC's pick carries
        sim.issue(d, lines, CHANNEL_WHOLESALE, out)
        sim.sales_lines(d, lines, CHANNEL_WHOLESALE, False, lines["currency_code"].to_numpy(), out)
        out.extracts["wholesale_shipped"].append(lines)
        # some lines come back later, in part, on a credit note
        back = lines[rng.random(len(lines)) < RETURN_LINE_RATE].copy()
        back["return_units"] = rng.integers(1, back["units"].to_numpy() + 1)
        back["restock"] = rng.random(len(back)) < RESTOCK_RATE
        back["return_day"] = d + rng.integers(5, 16, len(back))
        for day, group in back.groupby("return_day"):
            self.pending.setdefault(int(day), []).append(group)

    def credit(self, d: int, out: DayOutput) -> None:
        due = self.pending.pop(d, [])
        if not due:
            return
        sim, rng = self.sim, self.rng
        orig = pd.concat(due, ignore_index=True).sort_values(
            ["loc", "order_number", "order_line_number"], kind="stable"
        )
        orig = orig.reset_index(drop=True)
        frac = orig["return_units"] / orig["units"]
        ret = pd.DataFrame(
            {
                "customer_account": orig["customer_account"],
                "loc": orig["loc"],
                "sku": orig["sku"],
                "order_number": orig["order_number"],
                "order_line_number": orig["order_line_number"],
                "units": orig["return_units"],
                "unit_price": orig["unit_price"],
                "gross": round_half_up(orig["return_units"] * orig["unit_price"]),
                "discount": round_half_up(orig["discount"] * frac),
                "tax": round_half_up(orig["tax"] * frac),
                "currency_code": orig["currency_code"],
                "original_line_id": orig["line_id"],
                "restock": orig["restock"],
            }
        )
        # one credit note per customer and day
        notes = {}
        for account in ret["customer_account"].unique():
            self.credit_notes += 1
            notes[account] = f"CN{self.credit_notes:07d}"
        ret["document_number"] = ret["customer_account"].map(notes)
        ret["document_line_number"] = ret.groupby("document_number").cumcount() + 1
        local = rng.integers(9 * 3600, 15 * 3600, len(notes))
        at = dict(zip(notes.values(), local, strict=True))
        ret["event_at"] = sim.utc(
            ret["loc"].to_numpy(), d, ret["document_number"].map(at).to_numpy()
        )
        ret["line_type"] = "return"
        sim.take_back(d, ret, CHANNEL_WHOLESALE, out)
        sim.sales_lines(d, ret, CHANNEL_WHOLESALE, True, ret["currency_code"].to_numpy(), out)
        out.extracts["wholesale_credited"].append(ret)


def extract_rows(deliverer: object, out: DayOutput) -> pd.DataFrame:
    """The day's erp_sales_orders file: shipment lines, then credit-note lines."""
    shipped = deliverer.frames(out, "wholesale_shipped")  # type: ignore[attr-defined]
    credited = deliverer.frames(out, "wholesale_credited")  # type: ignore[attr-defined]
    columns = deliverer.writer.contract[EXTRACT].column_names  # type: ignore[attr-defined]
    parts = [f for f in (shipped, credited) if not f.empty]
    if not parts:
        return pd.DataFrame(columns=columns)
    lines = pd.concat(parts, ignore_index=True)
    skus = deliverer.skus  # type: ignore[attr-defined]
    frame = pd.DataFrame(
        {
            "document_number": lines["document_number"],
            "document_line_number": lines["document_line_number"],
            "line_type": lines["line_type"],
            "order_number": lines["order_number"],
            "order_line_number": lines["order_line_number"],
            "customer_account": lines["customer_account"],
            "location_id": w.LOCATIONS["location_id"].to_numpy()[lines["loc"]],
            "sku": skus[lines["sku"].to_numpy()],
            "quantity": lines["units"],
            "unit_price": lines["unit_price"],
            "discount_amount": lines["discount"],
            "tax_amount": lines["tax"],
            "currency_code": lines["currency_code"],
            "transaction_at": lines["event_at"],
            "return_condition": np.where(
                lines["line_type"] == "return",
                np.where(lines.get("restock", False) == True, "restock", "damaged"),  # noqa: E712
                None,
            ),
        }
    )
    return frame.sort_values(
        ["transaction_at", "document_number", "document_line_number"], kind="stable"
    ).reset_index(drop=True)
