"""The day loop of the simulated retailer.

Each simulated day is one vectorized step over arrays indexed [location, sku]: receipts and
transfer arrivals in the morning, webshop cancellations, shipments and new orders, store and
marketplace sales, customer returns, replenishment, holds and adjustments, then the end-of-day
truth. Python loops run over days, locations and small sets (orders shipped together), never
over the sales lines of a day. Every physical movement is appended to the event log, which the
reference valuation (simulation/valuation.py) prices in timestamp order.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from simulation import found_stock, kits, minimal_erp, opening
from simulation import world as w
from simulation.config import WorldConfig
from simulation.footfall import every_store_sells, marketplace_sells
from simulation.purchasing import OPEN, PurchaseLineBook
from simulation.valuation import (
    INBOUND_PRIORITY,
    OTHER_PRIORITY,
    ValuationLedger,
    round_cents,
)
from simulation.wholesale import Wholesale

DAY = 86_400
RETURN_WINDOW_DAYS = 30
CHANNEL_STORE, CHANNEL_WEBSHOP, CHANNEL_MARKETPLACE = "store", "webshop", "marketplace"
EVENT_COLUMNS = [
    "event_at",
    "priority",
    "business_date",
    "entity_code",
    "location",
    "sku",
    "event_type",
    "reason",
    "on_hand_delta",
    "quarantined_delta",
    "in_transit_delta",
    "in_transit_location",
    "channel",
    "line_id",
    "value",
    "transfer_line",
    "from_entity_code",
    "ship_date",
    "return_units",
]


def round_half_up(values: np.ndarray | float, decimals: int = 2) -> np.ndarray:
    """Commercial rounding to cents (half away from zero), robust to binary representation."""
    factor = 10.0**decimals
    scaled = np.asarray(values, dtype=float) * factor
    return np.sign(scaled) * np.floor(np.abs(scaled) + 0.5 + 1e-9) / factor


def allocate_by_gross(
    order_ids: np.ndarray, gross: np.ndarray, order_amount: np.ndarray, line_numbers: np.ndarray
) -> np.ndarray:
    """Allocate an order-level amount to its lines by gross value, rounded to cents so that the
    lines sum to the order exactly: each share is rounded half up and the remainder goes to the
    line with the largest gross (lowest line number on ties). order_amount is per line (the
    order's amount repeated on each of its lines)."""
    frame = pd.DataFrame(
        {"order": order_ids, "gross": gross, "amount": order_amount, "line": line_numbers}
    )
    total = frame.groupby("order")["gross"].transform("sum")
    share = np.where(total > 0, frame["amount"] * frame["gross"] / total.where(total > 0, 1), 0)
    frame["share"] = round_half_up(share)
    remainder = round_half_up(frame["amount"] - frame.groupby("order")["share"].transform("sum"))
    order_of_lines = frame.sort_values(["order", "gross", "line"], ascending=[True, False, True])
    first = ~order_of_lines["order"].duplicated()
    target = order_of_lines.index[first.to_numpy()]
    frame.loc[target, "share"] = round_half_up(frame.loc[target, "share"] + remainder[target])
    return frame["share"].to_numpy()


@dataclass
class DayOutput:
    """Everything one simulated day produced."""

    events: list[pd.DataFrame] = field(default_factory=list)
    sales_lines: list[pd.DataFrame] = field(default_factory=list)
    extracts: dict[str, list] = field(default_factory=lambda: defaultdict(list))

    def event_frame(self) -> pd.DataFrame:
        frames = [f for f in self.events if len(f)]
        if not frames:
            return pd.DataFrame(columns=EVENT_COLUMNS)
        return pd.concat(frames, ignore_index=True)[EVENT_COLUMNS]


class Simulation:
    def __init__(self, config: WorldConfig, defects: object) -> None:
        self.config = config
        self.defects = defects
        self.rng = np.random.default_rng(config.seed)
        self.products = w.build_products(config, self.rng)
        self.changes = w.plan_master_changes(config, self.products, self.rng)
        self.fx = w.fx_rates(config, self.rng)
        self.rates = minimal_erp.rate_book(config, self.fx)
        self.offsets = w.utc_offsets(config)
        self.costs = w.unit_costs(self.products)
        self.skus = self.products["sku"].to_numpy()
        self.case_packs = self.products["case_pack_units"].to_numpy()
        n_loc, n_sku = len(w.LOCATIONS), len(self.products)
        self.n_loc, self.n_sku = n_loc, n_sku
        self.on_hand = np.zeros((n_loc, n_sku), dtype=np.int64)
        self.quarantined = np.zeros((n_loc, n_sku), dtype=np.int64)
        self.reserved = np.zeros((n_loc, n_sku), dtype=np.int64)
        self.in_transit = np.zeros((n_loc, n_sku), dtype=np.int64)
        self.on_order = np.zeros((n_loc, n_sku), dtype=np.int64)
        self.purchasing = PurchaseLineBook(config.seed, n_loc, n_sku)
        self.entity_of = w.LOCATIONS["entity_code"].to_numpy()
        self.entity_index = {e: i for i, e in enumerate(w.ENTITIES["entity_code"])}
        self.loc_entity_idx = np.array([self.entity_index[e] for e in self.entity_of])
        self.demand = self._demand_rates()
        self.ledger = ValuationLedger()
        self.pending: dict[str, dict[int, list]] = defaultdict(lambda: defaultdict(list))
        self.counters: dict[str, int] = defaultdict(int)
        self.next_line_id = 1
        self.line_id_by_day: dict[int, int] = {}
        self.web_open = pd.DataFrame()  # lines of webshop orders placed, not shipped or cancelled
        self.kits = kits.kit_definitions(self)  # the kit line (simulation/kits.py)
        self.work_orders: dict[str, kits.WorkOrder] = {}
        self.wholesale = Wholesale(self)  # trade customers of the DCs, on their own draws

    # ----------------------------------------------------------------- set-up helpers
    def _demand_rates(self) -> np.ndarray:
        """Expected sales lines per day per [location, sku] by channel share."""
        lines = self.config.sales_lines_per_day
        pop = self.products["popularity"].to_numpy()
        rates = np.zeros((self.n_loc, self.n_sku))
        store_share = 0.70 / len(w.STORES)
        for s in w.STORES:
            rates[s] = lines * store_share * pop
        rates[w.MARKETPLACE_LOCATION] = lines * 0.10 * pop
        for dc in w.WEBSHOP_DCS.values():
            rates[dc] = lines * 0.10 * pop  # webshop demand fulfilled by this DC
        return rates

    def next_id(self, kind: str) -> int:
        self.counters[kind] += 1
        return self.counters[kind]

    def utc(self, loc: np.ndarray | int, day: int, local_seconds: np.ndarray) -> np.ndarray:
        """UTC epoch seconds from seconds after local midnight at a location on a day."""
        midnight = int(pd.Timestamp(self.config.day(day)).timestamp())
        return midnight + np.asarray(local_seconds, dtype=np.int64) - self.offsets[loc, day]

    def local_times(self, n: int, start_hour: float, end_hour: float) -> np.ndarray:
        return np.sort(self.rng.integers(int(start_hour * 3600), int(end_hour * 3600), n))

    def price(self, day: int, entity_idx: np.ndarray, sku: np.ndarray) -> np.ndarray:
        prices = w.unit_prices(self.products, self.changes, self.config.day(day))
        return prices[entity_idx, sku]

    def events(self, out: DayOutput, **columns: object) -> None:
        n = len(np.atleast_1d(columns["sku"]))
        if n == 0:
            return
        base = {c: None for c in EVENT_COLUMNS}
        base.update(
            {
                "on_hand_delta": 0,
                "quarantined_delta": 0,
                "in_transit_delta": 0,
                "priority": OTHER_PRIORITY,
            }
        )
        base.update(columns)
        frame = pd.DataFrame(
            {
                k: np.broadcast_to(np.asarray(v, dtype=object), n) if np.ndim(v) == 0 else v
                for k, v in base.items()
            }
        )
        out.events.append(frame)

    # ----------------------------------------------------------------- the day
    def step(self, d: int) -> DayOutput:
        out = DayOutput()
        today = self.config.day(d)
        self.line_id_by_day[d] = self.next_line_id
        if d == 0 and self.config.opening_balances:
            opening.open_with_balances(self, d, out)  # the world starts mid-life
        elif d == 0:
            self.opening_stock(d, out)
        self.receive_purchase_orders(d, out)
        self.close_purchase_lines(d, out)
        self.receive_transfers(d, out)
        self.webshop_cancellations(d, out)
        self.resolve_holds(d, out)
        self.webshop_shipments(d, out)
        self.webshop_orders(d, out)
        self.store_sales(d, out)
        self.marketplace_sales(d, out)
        self.store_returns(d, out)
        self.webshop_refunds(d, out)
        self.marketplace_refunds(d, out)
        self.wholesale.step(d, out)
        self.replenish_locations(d, out)
        self.holds_and_adjustments(d, out)
        found_stock.book_found_stock(self, d, out)
        kits.complete_work_orders(self, d, out)
        self.order_for_dcs(d, out)
        self.value_events(d, out)
        old_day = d - RETURN_WINDOW_DAYS - 25
        if old_day in self.line_id_by_day:
            self.ledger.forget_issue_costs_before(self.line_id_by_day.pop(old_day))
        assert (self.on_hand >= 0).all(), f"negative physical stock on {today}"
        assert (self.on_hand - self.reserved - self.quarantined >= 0).all()
        return out

    # ----------------------------------------------------------------- purchasing
    def create_purchase_orders(
        self,
        d: int,
        loc: np.ndarray,
        sku: np.ndarray,
        units: np.ndarray,
        lead_days: np.ndarray,
        out: DayOutput,
    ) -> None:
        if len(sku) == 0:
            return
        entity = self.entity_of[loc]
        ent_idx = self.loc_entity_idx[loc]
        supplier = np.array(
            [
                w.ENTITY_SUPPLIERS[e][s % len(w.ENTITY_SUPPLIERS[e])]
                for e, s in zip(entity, sku, strict=True)
            ]
        )
        frame = pd.DataFrame(
            {
                "loc": loc,
                "sku": sku,
                "units": units,
                "lead": lead_days,
                "supplier": supplier,
                "entity": entity,
                "cost": self.costs[ent_idx, sku],
            }
        )
        frame = frame.sort_values(["supplier", "loc", "lead", "sku"], kind="stable")
        po_rows = []
        for (supplier_id, location, lead), group in frame.groupby(
            ["supplier", "loc", "lead"], sort=True
        ):
            po_number = f"PO{self.next_id('po'):07d}"
            entity_code = self.entity_of[location]
            for line_no, r in enumerate(group.itertuples(), start=1):
                po_rows.append(
                    (
                        po_number,
                        line_no,
                        supplier_id,
                        entity_code,
                        w.LOCATIONS.location_id[location],
                        self.skus[r.sku],
                        int(r.units),
                        float(r.cost),
                        w.ENTITY_CURRENCY[entity_code],
                        self.config.day(d),
                        self.config.day(d + int(lead)),
                        int(location),
                        int(r.sku),
                        int(lead),
                    )
                )
                self.ledger.fallback_costs[(entity_code, self.skus[r.sku])] = float(r.cost)
        pos = pd.DataFrame(
            po_rows,
            columns=[
                "po_number",
                "po_line_number",
                "supplier_id",
                "entity_code",
                "ship_to_location_id",
                "sku",
                "ordered_units",
                "unit_cost",
                "currency_code",
                "order_date",
                "expected_date",
                "loc",
                "sku_idx",
                "lead",
            ],
        )
        pos["line_status"] = OPEN
        out.extracts["erp_purchase_orders"].append(pos)
        self.purchasing.order(pos)
        np.add.at(
            self.on_order,
            (pos["loc"].to_numpy(), pos["sku_idx"].to_numpy()),
            pos["ordered_units"].to_numpy(),
        )
        for lead, group in pos.groupby("lead"):
            self.pending["receipts"][d + int(lead)].append(group)

    def opening_stock(self, d: int, out: DayOutput) -> None:
        """Day 0: every selling location and DC receives an opening delivery at dawn."""
        loc, sku, units = self.opening_targets()
        self.create_purchase_orders(d, loc, sku, units, np.zeros(len(sku), int), out)

    def opening_targets(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The stock each location starts with: (location, sku, units) of every pair."""
        loc_list, sku_list, units = [], [], []
        for loc in range(self.n_loc):
            days_cover = 40 if loc in w.DCS else 12
            target = np.ceil(self.demand[loc] * 1.4 * days_cover).astype(np.int64) + 1
            if loc in w.DCS:
                served = [
                    i
                    for i, src in enumerate(w.LOCATIONS["replenished_from"])
                    if src == w.LOCATIONS.location_id[loc]
                ]
                target += np.ceil(self.demand[served].sum(axis=0) * 1.4 * 20).astype(np.int64)
                target = np.ceil(target / self.case_packs).astype(np.int64) * self.case_packs
            loc_list.append(np.full(self.n_sku, loc))
            sku_list.append(np.arange(self.n_sku))
            units.append(target)
        return np.concatenate(loc_list), np.concatenate(sku_list), np.concatenate(units)

    def receive_purchase_orders(self, d: int, out: DayOutput) -> None:
        due = self.pending["receipts"].pop(d, [])
        if not due:
            return
        lines = pd.concat(due, ignore_index=True)
        # first deliveries (back-orders of short ones deliver their rest: simulation/purchasing)
        first = np.ones(len(lines), bool)
        if "backorder" in lines:
            first = (~lines["backorder"].eq(True)).to_numpy()
        ordered = lines["ordered_units"].to_numpy()[first]
        full = self.rng.random(len(ordered)) < 0.95
        received = lines["ordered_units"].to_numpy().astype(np.int64)
        if not first.all():
            received[~first] = lines["due_units"].to_numpy()[~first].astype(np.int64)
        received[first] = self.purchasing.over_deliver(
            lines[first], np.where(full, ordered, np.maximum(1, (ordered * 0.9).astype(int)))
        )
        lines = lines.assign(received_units=received)
        on_order_change, backorders = self.purchasing.receive(d, lines)
        for day, group in backorders:
            self.pending["receipts"][day].append(group)
        hour_from = np.where(d == 0, 4.0, 5.0)
        rows = []
        for (_po_number, loc), group in lines.groupby(["po_number", "loc"], sort=True):
            receipt_number = f"GR{self.next_id('gr'):07d}"
            t = self.utc(loc, d, self.local_times(1, hour_from, hour_from + 2.5))[0]
            goods = group["received_units"].to_numpy() * group["unit_cost"].to_numpy()
            entity = group["entity_code"].iloc[0]
            supplier = group["supplier_id"].iloc[0]
            freight = float(round_half_up(goods.sum() * w.FREIGHT_RATE))
            imported = w.SUPPLIER_COUNTRY[supplier] != w.ENTITY_COUNTRY[entity]
            if not self.config.supplier_invoices:  # no charge invoice adds landed cost
                freight, imported = 0.0, False
            duty = float(round_half_up(goods.sum() * w.DUTY_RATE)) if imported else 0.0
            landed = goods + (freight + duty) * goods / goods.sum()
            for line_no, (r, value) in enumerate(zip(group.itertuples(), landed, strict=True), 1):
                rows.append(
                    (
                        receipt_number,
                        line_no,
                        r.po_number,
                        r.po_line_number,
                        r.ship_to_location_id,
                        r.sku,
                        int(r.received_units),
                        int(t),
                        int(loc),
                        int(r.sku_idx),
                        entity,
                        supplier,
                        float(r.unit_cost),
                        float(value),
                        freight,
                        duty,
                    )
                )
        receipts = pd.DataFrame(
            rows,
            columns=[
                "receipt_number",
                "receipt_line_number",
                "po_number",
                "po_line_number",
                "location_id",
                "sku",
                "received_units",
                "received_at",
                "loc",
                "sku_idx",
                "entity_code",
                "supplier_id",
                "unit_cost",
                "landed_value",
                "freight",
                "duty",
            ],
        )
        loc, sku, units = (
            receipts["loc"].to_numpy(),
            receipts["sku_idx"].to_numpy(),
            receipts["received_units"].to_numpy(),
        )
        np.add.at(self.on_hand, (loc, sku), units)
        np.add.at(
            self.on_order, (lines["loc"].to_numpy(), lines["sku_idx"].to_numpy()), on_order_change
        )
        self.events(
            out,
            event_at=receipts["received_at"].to_numpy(),
            priority=INBOUND_PRIORITY,
            business_date=self.config.day(d),
            entity_code=receipts["entity_code"].to_numpy(),
            location=loc,
            sku=sku,
            event_type="receipt",
            on_hand_delta=units,
            value=receipts["landed_value"].to_numpy(),
            line_id=receipts["receipt_number"].to_numpy(),
        )
        receipts["business_date"] = self.config.day(d)
        out.extracts["goods_receipts"].append(receipts)

    def close_purchase_lines(self, d: int, out: DayOutput) -> None:
        """The buyer closes the rest of short-delivered lines: change records in the ERP."""
        records, change = self.purchasing.close(d, self.config.day(d))
        if len(records):
            out.extracts["erp_purchase_orders"].append(records)
            np.add.at(
                self.on_order, (records["loc"].to_numpy(), records["sku_idx"].to_numpy()), change
            )

    # ----------------------------------------------------------------- transfers
    def ship_transfers(
        self,
        d: int,
        src: np.ndarray,
        dst: np.ndarray,
        sku: np.ndarray,
        units: np.ndarray,
        out: DayOutput,
    ) -> None:
        if len(sku) == 0:
            return
        frame = pd.DataFrame({"src": src, "dst": dst, "sku": sku, "units": units})
        rows = []
        for (s, t), group in frame.groupby(["src", "dst"], sort=True):
            number = f"TO{self.next_id('to'):07d}"
            ship_at = self.utc(s, d, self.local_times(1, 15, 17))[0]
            cross = self.entity_of[s] != self.entity_of[t]
            arrive_day = d + (2 if cross else 1)
            for line_no, r in enumerate(group.itertuples(), 1):
                rows.append(
                    (
                        number,
                        line_no,
                        int(s),
                        int(t),
                        int(r.sku),
                        int(r.units),
                        int(ship_at),
                        arrive_day,
                    )
                )
        lines = pd.DataFrame(
            rows,
            columns=[
                "transfer_number",
                "transfer_line_number",
                "src",
                "dst",
                "sku",
                "units",
                "ship_at",
                "arrive_day",
            ],
        )
        np.subtract.at(self.on_hand, (lines["src"], lines["sku"]), lines["units"])
        np.add.at(self.in_transit, (lines["dst"], lines["sku"]), lines["units"])
        key = lines["transfer_number"] + "-" + lines["transfer_line_number"].astype(str)
        self.events(
            out,
            event_at=lines["ship_at"].to_numpy(),
            business_date=self.config.day(d),
            entity_code=self.entity_of[lines["src"]],
            location=lines["src"].to_numpy(),
            sku=lines["sku"].to_numpy(),
            event_type="transfer_out",
            on_hand_delta=-lines["units"].to_numpy(),
            in_transit_delta=lines["units"].to_numpy(),
            in_transit_location=lines["dst"].to_numpy(),
            transfer_line=key.to_numpy(),
            ship_date=self.config.day(d),
        )
        lines["ship_date"] = self.config.day(d)
        out.extracts["transfers_shipped"].append(lines.assign(event_at=lines["ship_at"]))
        for arrive_day, group in lines.groupby("arrive_day"):
            self.pending["transfers"][int(arrive_day)].append(group)

    def receive_transfers(self, d: int, out: DayOutput) -> None:
        due = self.pending["transfers"].pop(d, [])
        if not due:
            return
        lines = pd.concat(due, ignore_index=True)
        arrive = np.zeros(len(lines), dtype=np.int64)
        for dst, idx in lines.groupby("dst").groups.items():
            arrive[lines.index.get_indexer(idx)] = self.utc(dst, d, self.local_times(1, 6, 7))[0]
        lines = lines.assign(event_at=arrive)
        np.add.at(self.on_hand, (lines["dst"], lines["sku"]), lines["units"])
        np.subtract.at(self.in_transit, (lines["dst"], lines["sku"]), lines["units"])
        key = lines["transfer_number"] + "-" + lines["transfer_line_number"].astype(str)
        self.events(
            out,
            event_at=arrive,
            priority=INBOUND_PRIORITY,
            business_date=self.config.day(d),
            entity_code=self.entity_of[lines["dst"]],
            location=lines["dst"].to_numpy(),
            sku=lines["sku"].to_numpy(),
            event_type="transfer_in",
            on_hand_delta=lines["units"].to_numpy(),
            in_transit_delta=-lines["units"].to_numpy(),
            in_transit_location=lines["dst"].to_numpy(),
            transfer_line=key.to_numpy(),
            from_entity_code=self.entity_of[lines["src"]],
            ship_date=lines["ship_date"].to_numpy(),
        )
        out.extracts["transfers_received"].append(lines)

    def replenish_locations(self, d: int, out: DayOutput) -> None:
        src_all, dst_all, sku_all, units_all = [], [], [], []
        for dc_id in ("DC1", "DC2"):
            dc = w.LOCATION_INDEX[dc_id]
            served = [i for i, s in enumerate(w.LOCATIONS["replenished_from"]) if s == dc_id]
            available = self.on_hand[dc] - self.reserved[dc] - self.quarantined[dc]
            for loc in served:
                position = self.on_hand[loc] + self.in_transit[loc]
                reorder = np.maximum(1, np.ceil(self.demand[loc] * 1.4 * 5))
                target = np.maximum(2, np.ceil(self.demand[loc] * 1.4 * 12))
                want = np.where(position < reorder, target - position, 0).astype(np.int64)
                give = np.minimum(want, available)
                available -= give
                sku = np.nonzero(give > 0)[0]
                src_all.append(np.full(len(sku), dc))
                dst_all.append(np.full(len(sku), loc))
                sku_all.append(sku)
                units_all.append(give[sku])
        self.ship_transfers(
            d,
            np.concatenate(src_all),
            np.concatenate(dst_all),
            np.concatenate(sku_all),
            np.concatenate(units_all),
            out,
        )

    def order_for_dcs(self, d: int, out: DayOutput) -> None:
        loc_all, sku_all, units_all, lead_all = [], [], [], []
        for dc_id in ("DC1", "DC2"):
            dc = w.LOCATION_INDEX[dc_id]
            served = [i for i, s in enumerate(w.LOCATIONS["replenished_from"]) if s == dc_id]
            rate = (self.demand[served].sum(axis=0) + self.demand[dc]) * 1.4
            position = (
                self.on_hand[dc] - self.reserved[dc] - self.quarantined[dc] + self.on_order[dc]
            )
            reorder = np.ceil(rate * 16)
            target = np.ceil(rate * 36) + 1
            want = np.where(position < reorder, target - position, 0)
            units = (np.ceil(want / self.case_packs) * self.case_packs).astype(np.int64)
            sku = np.nonzero(units > 0)[0]
            loc_all.append(np.full(len(sku), dc))
            sku_all.append(sku)
            units_all.append(units[sku])
            lead_all.append(self.rng.integers(5, 10, len(sku)))
        self.create_purchase_orders(
            d,
            np.concatenate(loc_all),
            np.concatenate(sku_all),
            np.concatenate(units_all),
            np.concatenate(lead_all),
            out,
        )

    # ----------------------------------------------------------------- demand helpers
    def draw_lines(self, loc: np.ndarray, scale: float, d: int) -> pd.DataFrame:
        """Candidate sale lines for locations: Poisson lines per sku, 1+ units each."""
        weekday = self.config.day(d).weekday()
        factor = scale * (1.25 if weekday >= 5 else 0.9)
        lam = self.demand[loc] * factor
        counts = self.rng.poisson(lam)
        li, si = np.nonzero(counts)
        reps = counts[li, si]
        frame = pd.DataFrame({"loc": np.repeat(loc[li], reps), "sku": np.repeat(si, reps)})
        frame["units"] = 1 + self.rng.poisson(0.35, len(frame))
        return frame

    def keep_available(self, frame: pd.DataFrame, available: np.ndarray) -> pd.DataFrame:
        """Keep lines (in their current order) while the location still has the units."""
        if frame.empty:
            return frame
        cum = frame.groupby(["loc", "sku"])["units"].cumsum().to_numpy()
        ok = cum <= available[frame["loc"].to_numpy(), frame["sku"].to_numpy()]
        return frame[ok]

    def new_line_ids(self, n: int) -> np.ndarray:
        ids = np.arange(self.next_line_id, self.next_line_id + n, dtype=np.int64)
        self.next_line_id += n
        return ids

    def issue(self, d: int, frame: pd.DataFrame, channel: str, out: DayOutput) -> None:
        loc, sku, units = (
            frame["loc"].to_numpy(),
            frame["sku"].to_numpy(),
            frame["units"].to_numpy(),
        )
        np.subtract.at(self.on_hand, (loc, sku), units)
        self.events(
            out,
            event_at=frame["event_at"].to_numpy(),
            business_date=self.config.day(d),
            entity_code=self.entity_of[loc],
            location=loc,
            sku=sku,
            event_type="issue",
            on_hand_delta=-units,
            channel=channel,
            line_id=frame["line_id"].to_numpy(),
        )

    def take_back(self, d: int, frame: pd.DataFrame, channel: str, out: DayOutput) -> None:
        """Customer returns: restocked units go back on hand; damaged ones never re-enter stock."""
        restock = frame["restock"].to_numpy().astype(bool)
        loc, sku, units = (
            frame["loc"].to_numpy(),
            frame["sku"].to_numpy(),
            frame["units"].to_numpy(),
        )
        np.add.at(self.on_hand, (loc[restock], sku[restock]), units[restock])
        self.events(
            out,
            event_at=frame["event_at"].to_numpy(),
            priority=INBOUND_PRIORITY,
            business_date=self.config.day(d),
            entity_code=self.entity_of[loc],
            location=loc,
            sku=sku,
            event_type=np.where(restock, "return_restock", "return_damaged"),
            on_hand_delta=np.where(restock, units, 0),
            channel=channel,
            line_id=frame["original_line_id"].to_numpy(),
            return_units=units,
        )

    def sales_lines(
        self,
        d: int,
        frame: pd.DataFrame,
        channel: str,
        is_return: bool,
        currency: np.ndarray,
        out: DayOutput,
    ) -> None:
        """The truth's view of sales lines: amounts in transaction currency and functional."""
        loc = frame["loc"].to_numpy()
        entity = self.entity_of[loc]
        rate = (
            np.array(
                [
                    self.rates.rate(self.config.day(d), c, w.ENTITY_CURRENCY[e])
                    for c, e in zip(currency, entity, strict=True)
                ]
            )
            if len(frame)
            else np.zeros(0)
        )
        out.sales_lines.append(
            pd.DataFrame(
                {
                    "business_date": self.config.day(d),
                    "entity_code": entity,
                    "location_id": w.LOCATIONS.location_id.to_numpy()[loc],
                    "channel": channel,
                    "sku": self.skus[frame["sku"].to_numpy()],
                    "is_return": is_return,
                    "units": frame["units"].to_numpy(),
                    "gross": round_half_up(frame["gross"].to_numpy() * rate),
                    "discount": round_half_up(frame["discount"].to_numpy() * rate),
                    "tax": round_half_up(frame["tax"].to_numpy() * rate),
                    "fee": round_half_up(frame["fee"].to_numpy() * rate) if "fee" in frame else 0.0,
                    "currency_code": [w.ENTITY_CURRENCY[e] for e in entity],
                }
            )
        )

    # ----------------------------------------------------------------- stores (POS)
    def store_sales(self, d: int, out: DayOutput) -> None:
        lines = self.draw_lines(w.STORES, 1.0, d)
        if lines.empty:
            return
        hours = w.LOCATIONS.loc[lines["loc"], ["open_hour", "close_hour"]].to_numpy()
        local = self.rng.integers(
            (hours[:, 0] * 3600).astype(int), (hours[:, 1] * 3600).astype(int)
        )
        lines = lines.assign(local=local).sort_values(["loc", "local", "sku"], kind="stable")
        lines = self.keep_available(lines, self.on_hand).reset_index(drop=True)
        lines = every_store_sells(self, lines, d)  # no open store has a day without a sale
        # group consecutive lines of a store into receipts of one to a few lines
        new_receipt = (self.rng.random(len(lines)) < 0.5) | lines["loc"].ne(lines["loc"].shift())
        lines["receipt_seq"] = new_receipt.groupby(lines["loc"]).cumsum()
        lines["receipt_line_number"] = lines.groupby(["loc", "receipt_seq"]).cumcount() + 1
        lines["local"] = (
            lines.groupby(["loc", "receipt_seq"])["local"].transform("min")
            + lines["receipt_line_number"]
            - 1
        )
        entity_idx = self.loc_entity_idx[lines["loc"]]
        lines["unit_price"] = self.price(d, entity_idx, lines["sku"].to_numpy())
        lines["listed_price"] = np.nan
        self.defects.pos_prices(d, lines, self)
        lines["gross"] = round_half_up(lines["units"] * lines["unit_price"])
        discounted = self.rng.random(len(lines)) < 0.10
        lines["discount"] = np.where(
            discounted, round_half_up(lines["gross"] * self.rng.uniform(0.1, 0.3, len(lines))), 0.0
        )
        tax_rate = w.LOCATIONS["tax_rate"].to_numpy()[lines["loc"]]
        lines["tax"] = round_half_up((lines["gross"] - lines["discount"]) * tax_rate)
        lines["line_id"] = self.new_line_ids(len(lines))
        lines["event_at"] = self.utc(lines["loc"].to_numpy(), d, lines["local"].to_numpy())
        code = w.LOCATIONS["pos_store_code"].to_numpy()[lines["loc"]]
        lines["receipt_number"] = (
            pd.Series(code)
            + "-"
            + self.config.day(d).strftime("%Y%m%d")
            + "-S"
            + lines["receipt_seq"].astype(str).str.zfill(5)
        )
        self.issue(d, lines, CHANNEL_STORE, out)
        currency = np.array([w.ENTITY_CURRENCY[e] for e in self.entity_of[lines["loc"]]])
        self.sales_lines(d, lines, CHANNEL_STORE, False, currency, out)
        lines["transaction_type"] = "sale"
        out.extracts["pos"].append(lines)
        # schedule some returns within the return window
        returned = self.rng.random(len(lines)) < 0.05
        chosen = lines[returned]
        delay = np.minimum(RETURN_WINDOW_DAYS, 1 + self.rng.geometric(0.15, len(chosen)))
        units = self.rng.integers(1, chosen["units"].to_numpy() + 1)
        restock = self.rng.random(len(chosen)) < 0.85
        schedule = chosen.assign(return_units=units, restock=restock, return_day=d + delay)
        for day, group in schedule.groupby("return_day"):
            self.pending["pos_returns"][int(day)].append(group)

    def store_returns(self, d: int, out: DayOutput) -> None:
        due = self.pending["pos_returns"].pop(d, [])
        if not due:
            return
        orig = pd.concat(due, ignore_index=True)
        hours = w.LOCATIONS.loc[orig["loc"], ["open_hour", "close_hour"]].to_numpy()
        local = self.rng.integers(
            (hours[:, 0] * 3600).astype(int), (hours[:, 1] * 3600).astype(int)
        )
        frac = orig["return_units"] / orig["units"]
        ret = (
            pd.DataFrame(
                {
                    "loc": orig["loc"],
                    "sku": orig["sku"],
                    "units": orig["return_units"],
                    "unit_price": orig["unit_price"],
                    "gross": round_half_up(orig["return_units"] * orig["unit_price"]),
                    "discount": round_half_up(orig["discount"] * frac),
                    "tax": round_half_up(orig["tax"] * frac),
                    "local": local,
                    "original_receipt_number": orig["receipt_number"],
                    "original_receipt_line_number": orig["receipt_line_number"],
                    "original_line_id": orig["line_id"],
                    "restock": orig["restock"],
                }
            )
            .sort_values(["loc", "local", "sku"], kind="stable")
            .reset_index(drop=True)
        )
        ret["receipt_seq"] = ret.groupby("loc").cumcount() + 1
        ret["receipt_line_number"] = 1
        ret["event_at"] = self.utc(ret["loc"].to_numpy(), d, ret["local"].to_numpy())
        code = w.LOCATIONS["pos_store_code"].to_numpy()[ret["loc"]]
        ret["receipt_number"] = (
            pd.Series(code)
            + "-"
            + self.config.day(d).strftime("%Y%m%d")
            + "-R"
            + ret["receipt_seq"].astype(str).str.zfill(5)
        )
        self.take_back(d, ret, CHANNEL_STORE, out)
        currency = np.array([w.ENTITY_CURRENCY[e] for e in self.entity_of[ret["loc"]]])
        self.sales_lines(d, ret, CHANNEL_STORE, True, currency, out)
        ret["transaction_type"] = "return"
        out.extracts["pos"].append(ret)

    # ----------------------------------------------------------------- webshop
    def webshop_orders(self, d: int, out: DayOutput) -> None:
        dcs = np.array(list(w.WEBSHOP_DCS.values()))
        lines = self.draw_lines(dcs, 1.0, d)
        if lines.empty:
            return
        lines["local"] = self.rng.integers(5 * 3600, 17 * 3600, len(lines))
        # lines of one DC placed close together form an order of one to four lines
        lines = lines.sort_values(["loc", "local", "sku"], kind="stable").reset_index(drop=True)
        new_order = (self.rng.random(len(lines)) < 0.55) | lines["loc"].ne(lines["loc"].shift())
        lines["order_seq"] = new_order.cumsum()
        lines["local"] = lines.groupby("order_seq")["local"].transform("min")
        available = self.on_hand - self.reserved - self.quarantined
        lines = self.keep_available(lines, available).copy()
        lines["line_number"] = lines.groupby("order_seq").cumcount() + 1
        np.add.at(
            self.reserved,
            (lines["loc"].to_numpy(), lines["sku"].to_numpy()),
            lines["units"].to_numpy(),
        )
        entity_idx = self.loc_entity_idx[lines["loc"]]
        lines["unit_price"] = self.price(d, entity_idx, lines["sku"].to_numpy())
        lines["gross"] = round_half_up(lines["units"] * lines["unit_price"])
        discounted = self.rng.random(len(lines)) < 0.05
        lines["line_discount"] = np.where(discounted, round_half_up(lines["gross"] * 0.1), 0.0)
        orders = (
            lines.groupby("order_seq")
            .agg(loc=("loc", "first"), local=("local", "first"), gross=("gross", "sum"))
            .reset_index()
        )
        voucher = self.rng.random(len(orders)) < 0.2
        orders["order_discount"] = np.where(
            voucher, np.minimum(5.0, round_half_up(orders["gross"] * 0.1)), 0.0
        )
        orders["shipping"] = np.where(orders["gross"] >= 50, 0.0, 4.95)
        orders["order_id"] = [f"WO{self.next_id('wo'):08d}" for _ in range(len(orders))]
        orders["placed_at"] = self.utc(orders["loc"].to_numpy(), d, orders["local"].to_numpy())
        self.orders_in_repeated_hour(d, orders)
        lines = lines.merge(orders[["order_seq", "order_id", "order_discount"]], on="order_seq")
        lines["allocated_discount"] = allocate_by_gross(
            lines["order_id"].to_numpy(),
            lines["gross"].to_numpy(),
            lines["order_discount"].to_numpy(),
            lines["line_number"].to_numpy(),
        )
        lines["discount"] = lines["line_discount"] + lines["allocated_discount"]
        tax_rate = w.LOCATIONS["tax_rate"].to_numpy()[lines["loc"]]
        lines["tax"] = round_half_up((lines["gross"] - lines["discount"]) * tax_rate)
        customers = self.rng.integers(1, 5000 + int(20000 * self.config.scale_factor), len(orders))
        orders["customer_id"] = [f"C{c:07d}" for c in customers]
        fate = self.rng.random(len(orders))
        orders["cancelled"] = fate < 0.03
        orders["ship_day"] = d + np.where(fate < 0.5, 1, 2)
        self.pending["web_orders"][d].append((orders, lines))
        for o in orders[orders["cancelled"]].itertuples():
            self.pending["web_cancel"][d + 1].append(o.order_id)
        for ship_day, group in orders[~orders["cancelled"]].groupby("ship_day"):
            self.pending["web_ship"][int(ship_day)].append(group["order_id"].to_numpy())
        out.extracts["web_placed"].append((orders, lines))
        self.web_open = pd.concat([self.web_open, lines], ignore_index=True)

    def orders_in_repeated_hour(self, d: int, orders: pd.DataFrame) -> None:
        """On the night a DC's zone puts its clocks back, its first two orders of the day are
        placed in the repeated hour, one in each occurrence of half past (night owls shop).
        Only the placing time moves: the order keeps its local date, so reservations and the
        truth stay as they were; the events carry the exact UTC instants."""
        for dc in w.WEBSHOP_DCS.values():
            instants = w.repeated_hour(w.LOCATIONS.at[dc, "time_zone"], self.config.day(d))
            mine = orders.index[orders["loc"] == dc][:2]
            if instants is not None and len(mine) == 2:
                orders.loc[mine, "placed_at"] = list(instants)

    def take_open_orders(self, order_ids: np.ndarray) -> pd.DataFrame:
        """Remove and return the lines of open webshop orders."""
        chosen = self.web_open["order_id"].isin(order_ids).to_numpy()
        lines = self.web_open[chosen].reset_index(drop=True)
        self.web_open = self.web_open[~chosen].reset_index(drop=True)
        return lines

    def webshop_cancellations(self, d: int, out: DayOutput) -> None:
        ids = self.pending["web_cancel"].pop(d, [])
        if not ids:
            return
        lines = self.take_open_orders(np.array(ids))
        np.subtract.at(
            self.reserved,
            (lines["loc"].to_numpy(), lines["sku"].to_numpy()),
            lines["units"].to_numpy(),
        )
        orders = lines.groupby("order_id", sort=True)["loc"].first()
        at = self.utc(orders.to_numpy(), d, self.local_times(len(orders), 8, 9))
        for order_id, loc, t in zip(orders.index, orders.to_numpy(), at, strict=True):
            out.extracts["web_events"].append(
                {
                    "event_type": "cancelled",
                    "order_id": order_id,
                    "event_at": int(t),
                    "currency_code": w.ENTITY_CURRENCY[self.entity_of[loc]],
                }
            )

    def webshop_shipments(self, d: int, out: DayOutput) -> None:
        ids = self.pending["web_ship"].pop(d, [])
        if not ids:
            return
        lines = self.take_open_orders(np.concatenate(ids))
        orders = lines.groupby("order_id", sort=True)["loc"].first()
        ship_local = self.rng.integers(10 * 3600, 17 * 3600, len(orders))
        ship_at = pd.Series(self.utc(orders.to_numpy(), d, ship_local), index=orders.index)
        lines["event_at"] = lines["order_id"].map(ship_at).to_numpy()
        np.subtract.at(
            self.reserved,
            (lines["loc"].to_numpy(), lines["sku"].to_numpy()),
            lines["units"].to_numpy(),
        )
        lines["line_id"] = self.new_line_ids(len(lines))
        self.issue(d, lines, CHANNEL_WEBSHOP, out)
        currency = np.array([w.ENTITY_CURRENCY[e] for e in self.entity_of[lines["loc"]]])
        self.sales_lines(d, lines, CHANNEL_WEBSHOP, False, currency, out)
        out.extracts["web_shipped"].append(lines)
        # some shipped orders are refunded later, in part (always at least their first line)
        refund_order = pd.Series(self.rng.random(len(orders)) < 0.06, index=orders.index)
        refund_day = pd.Series(d + self.rng.integers(3, 21, len(orders)), index=orders.index)
        take = lines["order_id"].map(refund_order).to_numpy() & (
            (self.rng.random(len(lines)) < 0.7) | (lines["line_number"] == 1).to_numpy()
        )
        chosen = lines[take].copy()
        chosen["return_units"] = self.rng.integers(1, chosen["units"].to_numpy() + 1)
        chosen["restock"] = self.rng.random(len(chosen)) < 0.9
        chosen["refund_day"] = chosen["order_id"].map(refund_day).to_numpy()
        for day, group in chosen.groupby("refund_day"):
            self.pending["web_refund"][int(day)].append(group)

    def webshop_refunds(self, d: int, out: DayOutput) -> None:
        due = self.pending["web_refund"].pop(d, [])
        if not due:
            return
        orig = pd.concat(due, ignore_index=True)
        frac = orig["return_units"] / orig["units"]
        net_per_line = orig["gross"] - orig["discount"]
        ret = pd.DataFrame(
            {
                "order_id": orig["order_id"],
                "line_number": orig["line_number"],
                "loc": orig["loc"],
                "sku": orig["sku"],
                "units": orig["return_units"],
                "gross": round_half_up(orig["return_units"] * orig["unit_price"]),
                "refund_amount": round_half_up(net_per_line * frac),
                "tax": round_half_up(orig["tax"] * frac),
                "original_line_id": orig["line_id"],
                "restock": orig["restock"],
            }
        )
        ret["discount"] = round_half_up(ret["gross"] - ret["refund_amount"])
        orders = ret.groupby("order_id")["loc"].first()
        at = self.utc(orders.to_numpy(), d, self.rng.integers(9 * 3600, 17 * 3600, len(orders)))
        ret["event_at"] = ret["order_id"].map(pd.Series(at, index=orders.index)).to_numpy()
        self.take_back(d, ret, CHANNEL_WEBSHOP, out)
        currency = np.array([w.ENTITY_CURRENCY[e] for e in self.entity_of[ret["loc"]]])
        self.sales_lines(d, ret, CHANNEL_WEBSHOP, True, currency, out)
        out.extracts["web_refunded"].append(ret)

    # ----------------------------------------------------------------- marketplace
    def marketplace_sales(self, d: int, out: DayOutput) -> None:
        loc = np.array([w.MARKETPLACE_LOCATION])
        lines = marketplace_sells(self, self.draw_lines(loc, 1.0, d), d)
        if lines.empty:
            return
        lines["local"] = self.rng.integers(8 * 3600, 22 * 3600, len(lines))
        lines = lines.sort_values(["local", "sku"], kind="stable").reset_index(drop=True)
        new_order = self.rng.random(len(lines)) < 0.65
        new_order[0] = True
        lines["order_seq"] = np.cumsum(new_order)
        lines["local"] = lines.groupby("order_seq")["local"].transform("min")
        lines = self.keep_available(lines, self.on_hand - self.quarantined).copy()
        lines["line_number"] = lines.groupby("order_seq").cumcount() + 1
        de = self.entity_index["DE01"]  # the marketplace lists at the euro price list
        lines["unit_price"] = self.price(d, np.full(len(lines), de), lines["sku"].to_numpy())
        lines["gross"] = round_half_up(lines["units"] * lines["unit_price"])
        order_ids = {s: f"MO-{self.next_id('mo'):09d}" for s in lines["order_seq"].unique()}
        lines["order_id"] = lines["order_seq"].map(order_ids)
        order_gross = lines.groupby("order_id")["gross"].transform("sum")
        promo_orders = {o for o in order_ids.values() if self.rng.random() < 0.25}
        lines["promotion"] = np.where(
            lines["order_id"].isin(promo_orders), round_half_up(order_gross * 0.1), 0.0
        )
        lines["discount"] = allocate_by_gross(
            lines["order_id"].to_numpy(),
            lines["gross"].to_numpy(),
            lines["promotion"].to_numpy(),
            lines["line_number"].to_numpy(),
        )
        lines["tax"] = round_half_up((lines["gross"] - lines["discount"]) * 0.2)
        lines["fee"] = round_half_up(lines["gross"] * 0.15)
        lines["event_at"] = self.utc(lines["loc"].to_numpy(), d, lines["local"].to_numpy())
        lines["line_id"] = self.new_line_ids(len(lines))
        self.issue(d, lines, CHANNEL_MARKETPLACE, out)
        currency = np.full(len(lines), w.MARKETPLACE_CURRENCY)
        self.sales_lines(d, lines, CHANNEL_MARKETPLACE, False, currency, out)
        out.extracts["mkt_orders"].append(lines)
        returned = self.rng.random(len(lines)) < 0.05
        chosen = lines[returned].copy()
        chosen["return_units"] = self.rng.integers(1, chosen["units"].to_numpy() + 1)
        chosen["return_day"] = d + self.rng.integers(5, 26, len(chosen))
        for day, group in chosen.groupby("return_day"):
            self.pending["mkt_refund"][int(day)].append(group)

    def marketplace_refunds(self, d: int, out: DayOutput) -> None:
        due = self.pending["mkt_refund"].pop(d, [])
        if not due:
            return
        orig = pd.concat(due, ignore_index=True)
        frac = orig["return_units"] / orig["units"]
        ret = pd.DataFrame(
            {
                "order_id": orig["order_id"],
                "line_number": orig["line_number"],
                "loc": orig["loc"],
                "sku": orig["sku"],
                "units": orig["return_units"],
                "gross": round_half_up(orig["return_units"] * orig["unit_price"]),
                "discount": round_half_up(orig["discount"] * frac),
                "tax": round_half_up(orig["tax"] * frac),
                "original_line_id": orig["line_id"],
                "restock": True,
            }
        )
        ret["event_at"] = self.utc(ret["loc"].to_numpy(), d, self.local_times(len(ret), 8, 22))
        ret = ret.sort_values(["event_at", "order_id", "line_number"], kind="stable")
        self.take_back(d, ret, CHANNEL_MARKETPLACE, out)
        currency = np.full(len(ret), w.MARKETPLACE_CURRENCY)
        self.sales_lines(d, ret, CHANNEL_MARKETPLACE, True, currency, out)
        out.extracts["mkt_refunds"].append(ret)

    # ----------------------------------------------------------------- holds and adjustments
    def resolve_holds(self, d: int, out: DayOutput) -> None:
        due = self.pending["holds"].pop(d, [])
        if not due:
            return
        holds = pd.concat(due, ignore_index=True)
        scrap = self.rng.random(len(holds)) < 0.2
        loc, sku, units = (
            holds["loc"].to_numpy(),
            holds["sku"].to_numpy(),
            holds["units"].to_numpy(),
        )
        np.subtract.at(self.quarantined, (loc, sku), units)
        np.subtract.at(self.on_hand, (loc[scrap], sku[scrap]), units[scrap])
        at = self.utc(loc, d, np.full(len(holds), 9 * 3600 + 1800))
        self.events(
            out,
            event_at=at,
            business_date=self.config.day(d),
            entity_code=self.entity_of[loc],
            location=loc,
            sku=sku,
            event_type=np.where(scrap, "adjustment", "release"),
            reason=np.where(scrap, "damage", None),
            on_hand_delta=np.where(scrap, -units, 0),
            quarantined_delta=-units,
        )
        out.extracts["wms_moves"].append(
            pd.DataFrame(
                {
                    "loc": loc,
                    "sku": sku,
                    "units": np.where(scrap, units, units),
                    "event_at": at,
                    "movement_type": np.where(scrap, "damage", "release"),
                    "stock_status": "hold",
                    "reference_number": None,
                }
            )
        )

    def holds_and_adjustments(self, d: int, out: DayOutput) -> None:
        # quality holds at the DCs
        for dc in w.DCS:
            available = self.on_hand[dc] - self.reserved[dc] - self.quarantined[dc]
            hit = np.nonzero((self.rng.random(self.n_sku) < 0.004) & (available > 0))[0]
            units = np.minimum(self.case_packs[hit], available[hit])
            self.quarantined[dc, hit] += units
            at = self.utc(dc, d, np.full(len(hit), 19 * 3600))
            self.events(
                out,
                event_at=at,
                business_date=self.config.day(d),
                entity_code=self.entity_of[dc],
                location=np.full(len(hit), dc),
                sku=hit,
                event_type="hold",
                quarantined_delta=units,
            )
            out.extracts["wms_moves"].append(
                pd.DataFrame(
                    {
                        "loc": dc,
                        "sku": hit,
                        "units": units,
                        "event_at": at,
                        "movement_type": "hold",
                        "stock_status": "unrestricted",
                        "reference_number": None,
                    }
                )
            )
            resolve_day = d + self.rng.integers(2, 7, len(hit))
            for day in np.unique(resolve_day):
                pick = resolve_day == day
                self.pending["holds"][int(day)].append(
                    pd.DataFrame({"loc": dc, "sku": hit[pick], "units": units[pick]})
                )
        # shrink, damage and count corrections at stores (ERP) and DCs (WMS)
        for loc in list(w.STORES) + list(w.DCS):
            available = self.on_hand[loc] - self.reserved[loc] - self.quarantined[loc]
            draw = self.rng.random(self.n_sku)
            reason = np.select(
                [draw < 0.003, draw < 0.0045, draw < 0.006],
                ["shrink", "damage", "count_correction"],
                "",
            )
            sku = np.nonzero(reason != "")[0]
            if len(sku) == 0:
                continue
            reason = reason[sku]
            size = self.rng.integers(1, 4, len(sku))
            sign = np.where(
                (reason == "count_correction") & (self.rng.random(len(sku)) < 0.4), 1, -1
            )
            units = np.where(sign < 0, -np.minimum(size, available[sku]), size)
            keep = units != 0
            sku, reason, units = sku[keep], reason[keep], units[keep]
            self.on_hand[loc, sku] += units
            is_dc = loc in w.DCS
            at = self.utc(
                loc, d, np.full(len(sku), (20 * 3600 + 1800) if is_dc else (23 * 3600 + 2700))
            )
            self.events(
                out,
                event_at=at,
                business_date=self.config.day(d),
                entity_code=self.entity_of[loc],
                location=np.full(len(sku), loc),
                sku=sku,
                event_type="adjustment",
                reason=reason,
                on_hand_delta=units,
            )
            frame = pd.DataFrame(
                {"loc": loc, "sku": sku, "units": units, "event_at": at, "reason": reason}
            )
            if is_dc:
                out.extracts["wms_moves"].append(
                    frame.assign(
                        movement_type=reason, stock_status="unrestricted", reference_number=None
                    )
                )
            else:
                out.extracts["store_adjustments"].append(frame)

    # ----------------------------------------------------------------- valuation
    def value_events(self, d: int, out: DayOutput) -> None:
        """Price the day's events with the sequential reference ledger, in policy order."""
        events = out.event_frame()
        if events.empty:
            out.valued = events.assign(amount=[])  # type: ignore[attr-defined]
            return
        events["seq"] = np.arange(len(events))
        events = events.sort_values(["event_at", "priority", "seq"], kind="stable")
        amounts = np.zeros(len(events))
        ledger, skus = self.ledger, self.skus
        columns = [
            "event_type",
            "entity_code",
            "sku",
            "on_hand_delta",
            "event_at",
            "value",
            "line_id",
            "in_transit_location",
            "transfer_line",
            "from_entity_code",
            "ship_date",
        ]
        rows = zip(*(events[c].tolist() for c in columns), strict=True)
        for i, (
            kind,
            entity,
            sku_index,
            units,
            at,
            value,
            line,
            to_loc,
            transfer,
            sender,
            shipped,
        ) in enumerate(rows):
            sku = skus[sku_index]
            if kind in ("receipt", "opening_balance", "adjustment_at_cost"):
                ledger.receive(entity, sku, units, value, at)
                amounts[i] = round_cents(value)
            elif kind == "production_receipt":
                value = kits.finished_value(self, ledger, entity, line)
                ledger.receive(entity, sku, units, value, at)
                amounts[i] = round_cents(value)
            elif kind == "production_issue":
                amounts[i] = -ledger.adjust(entity, sku, units, at)
            elif kind == "issue":
                amounts[i] = ledger.issue(entity, sku, -units, line, at)
            elif kind == "return_restock":
                amounts[i] = ledger.restock_return(entity, sku, units, line, at)
            elif kind == "adjustment":
                amounts[i] = ledger.adjust(entity, sku, units, at)
            elif kind == "transfer_out" and self.entity_of[to_loc] != entity:
                amounts[i] = ledger.transfer_out(entity, sku, -units, transfer, at)
            elif kind == "transfer_in" and sender != entity:
                unit = ledger.transfer_unit_costs.pop(transfer)
                rate = self.rates.rate(
                    shipped, w.ENTITY_CURRENCY[sender], w.ENTITY_CURRENCY[entity]
                )
                value = units * unit * rate
                ledger.receive(entity, sku, units, value, at)
                amounts[i] = round_cents(value)
        events["amount"] = amounts
        out.valued = events.drop(columns=["seq"])  # type: ignore[attr-defined]


def business_day_dates(config: WorldConfig) -> list[date]:
    return [config.start_date + timedelta(days=i) for i in range(config.days)]
