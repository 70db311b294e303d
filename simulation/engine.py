"""The day loop of the simulated retailer.

Each simulated day is one vectorized step over arrays indexed [location, sku]: receipts and
transfer arrivals in the morning, webshop cancellations, shipments and new orders, store and
marketplace sales, customer returns, replenishment, holds and adjustments, then the end-of-day
truth. Python loops run over days, locations and small sets (orders shipped together), never
over the sales lines of a day. Every physical movement is appended to the event log, which the
reference valuation (simulation/valuation.py) prices in timestamp order.

Simulation holds the world's state and the primitives every system uses (times, prices, stock
events, sale lines); what each source system does in a day is in simulation/events/<system>.py,
and Simulation.step runs those steps in the day's order.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simulation import found_stock, fx, kits, minimal_erp, opening
from simulation import world as w
from simulation.anomalies import Anomalies
from simulation.config import WorldConfig
from simulation.events import erp, marketplace, planning, pos, valuing, webshop, wms
from simulation.money import round_half_up
from simulation.purchasing import PurchaseLineBook
from simulation.return_anomalies import ReturnAnomalies
from simulation.stockout_risk import StockOutRisk
from simulation.valuation import INBOUND_PRIORITY, OTHER_PRIORITY, ValuationLedger
from simulation.wholesale import Wholesale

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

    def sales_frame(self) -> pd.DataFrame:
        """The day's sale and return lines as the truth sees them (Simulation.sales_lines)."""
        parts = [f for f in self.sales_lines if len(f)]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


class Simulation:
    def __init__(self, config: WorldConfig, defects: object) -> None:
        self.config = config
        self.defects = defects
        self.rng = np.random.default_rng(config.seed)
        self.products = w.build_products(config, self.rng)
        self.changes = w.plan_master_changes(config, self.products, self.rng)
        self.fx = fx.fx_rates(config, self.rng)
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
        self.anomalies = Anomalies(self)  # issue 18's anomalies, on their own draws
        self.return_anomalies = ReturnAnomalies(self)  # a faulty SKU, a serial returner
        self.stockout_risk = StockOutRisk(self)  # a missed promotion in the forecast

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
        """One day of every system, in the day's order (which is also the order of the main
        stream's draws: a step keeps its place here)."""
        out = DayOutput()
        today = self.config.day(d)
        self.line_id_by_day[d] = self.next_line_id
        if d == 0 and self.config.opening_balances:
            opening.open_with_balances(self, d, out)  # the world starts mid-life
        elif d == 0:
            planning.opening_stock(self, d, out)
        erp.receive_purchase_orders(self, d, out)
        erp.close_purchase_lines(self, d, out)
        erp.receive_transfers(self, d, out)
        webshop.webshop_cancellations(self, d, out)
        wms.resolve_holds(self, d, out)
        webshop.webshop_shipments(self, d, out)
        webshop.webshop_orders(self, d, out)
        pos.store_sales(self, d, out)
        marketplace.marketplace_sales(self, d, out)
        pos.store_returns(self, d, out)
        webshop.webshop_refunds(self, d, out)
        marketplace.marketplace_refunds(self, d, out)
        self.wholesale.step(d, out)
        planning.replenish_locations(self, d, out)
        wms.holds_and_adjustments(self, d, out)
        found_stock.book_found_stock(self, d, out)
        kits.complete_work_orders(self, d, out)
        planning.order_for_dcs(self, d, out)
        valuing.value_events(self, d, out)
        old_day = d - pos.RETURN_WINDOW_DAYS - 25
        if old_day in self.line_id_by_day:
            self.ledger.forget_issue_costs_before(self.line_id_by_day.pop(old_day))
        assert (self.on_hand >= 0).all(), f"negative physical stock on {today}"
        assert (self.on_hand - self.reserved - self.quarantined >= 0).all()
        return out

    # ----------------------------------------------------------------- sales primitives
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
