"""Reference implementation of the moving-average cost policy of docs/glossary.md.

Deliberately plain and sequential: one event at a time, in the order the policy prescribes,
so that it can be read against the glossary line by line. The warehouse computes the same
figures set-based in SQL; tests compare the two.

Policy (per entity and SKU), as a moving-average ERP keeps it: the stock's VALUE, in cents, is
the running total of what the events post, and the average is derived from it:
* inbound at a known cost (goods receipt at landed cost, cross-entity transfer in at the
  sender's cost converted, restocked customer return at its issue cost) posts its value in
  cents and re-averages: avg = (stock value + posted value) / (qty + units); when qty <= 0
  before it, avg restarts at value / units and the stock is worth its units x that average
  (the ledger books the difference as a price variance);
* every other event (an issue for sale, a stock adjustment, a transfer out to another entity, a
  work order's component) leaves avg unchanged and posts the change it makes to the stock's
  value, the stock being worth round(units on hand x avg, 2) after it: a cent-rounded share of
  the value, the event that empties the stock taking all that remains, so the postings never
  drift from the valued stock;
* a transfer within an entity does not touch the entity's position;
* a cross-entity transfer out leaves at its change of value and the receiver takes it in at the
  sender's average converted with the rate of the shipment's business date;
* an issue before any inbound is costed at round(units x the latest purchase-order unit cost of
  the entity, 2).
Events are applied in the policy's order, stated in full in docs/glossary.md ("Order and
rounding"): UTC timestamp order, inbound events first at equal timestamps, then location, event
type, source system, document, line number and event id. This ledger applies events in the
order its caller gives (simulation/events/valuing.py, which says where that order can differ).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

INBOUND_PRIORITY = 0
OTHER_PRIORITY = 1


def round_cents(amount: float) -> float:
    """Round to cents, half away from zero. The 1e-9 nudge absorbs binary representation error
    (2.675 is stored as 2.67499999...), so that decimal halves round up as a person expects;
    the warehouse's round_money macro applies the same rule."""
    scaled = math.floor(abs(amount) * 100 + 0.5 + 1e-9) / 100
    return math.copysign(scaled, amount) if scaled else 0.0


def cents(amount: float) -> int:
    """An amount rounded to cents (round_cents), as a whole number of cents."""
    return round(round_cents(amount) * 100)


@dataclass
class Position:
    units: int = 0
    average_cost: float | None = None  # full precision, functional currency
    value_cents: int = 0  # the running total of the postings: the stock's value

    def outbound(self, units: int, fallback: float | None) -> int:
        """Apply a signed movement that does not re-average; return its change of value in
        cents."""
        if self.average_cost is None:
            change = round(math.copysign(cents(abs(units) * fallback), units))
        else:
            after = cents((self.units + units) * self.average_cost)
            # the stock after it is worth its units at the average: the event moves the rest
            change = after - self.value_cents
        self.units += units
        self.value_cents += change
        return change


@dataclass
class ValuationLedger:
    positions: dict[tuple[str, str], Position] = field(default_factory=dict)
    issue_unit_costs: dict[int, float] = field(default_factory=dict)  # sale line id -> unit cost
    transfer_unit_costs: dict[str, float] = field(default_factory=dict)  # transfer line -> cost
    fallback_costs: dict[tuple[str, str], float] = field(default_factory=dict)
    last_event_at: dict[str, int] = field(default_factory=dict)

    def position(self, entity: str, sku: str) -> Position:
        key = (entity, sku)
        if key not in self.positions:
            self.positions[key] = Position()
        return self.positions[key]

    def _check_order(self, entity: str, event_at: int) -> None:
        if event_at < self.last_event_at.get(entity, event_at):
            raise ValueError(f"events of {entity} applied out of timestamp order at {event_at}")
        self.last_event_at[entity] = event_at

    def receive(self, entity: str, sku: str, units: int, value: float, event_at: int) -> None:
        """Inbound at a known total value (full precision), posted in cents."""
        self._check_order(entity, event_at)
        p = self.position(entity, sku)
        if p.units <= 0 or p.average_cost is None:
            p.average_cost = value / units
            p.units += units
            p.value_cents = cents(p.units * p.average_cost)
        else:
            p.value_cents += cents(value)
            p.units += units
            p.average_cost = p.value_cents / 100 / p.units

    def unit_cost(self, entity: str, sku: str) -> float:
        p = self.position(entity, sku)
        if p.average_cost is None:
            return self.fallback_costs[(entity, sku)]
        return p.average_cost

    def fallback(self, entity: str, sku: str) -> float | None:
        return self.fallback_costs.get((entity, sku))

    def issue(self, entity: str, sku: str, units: int, line_id: int, event_at: int) -> float:
        """Issue for sale; returns the line's cost: the value it takes out of the stock."""
        self._check_order(entity, event_at)
        self.issue_unit_costs[line_id] = self.unit_cost(entity, sku)
        return -self.position(entity, sku).outbound(-units, self.fallback(entity, sku)) / 100

    def restock_return(
        self, entity: str, sku: str, units: int, original_line_id: int, event_at: int
    ) -> float:
        """Customer return put back to stock at its issue cost; returns the cost credited."""
        cost = self.issue_unit_costs[original_line_id]
        self.receive(entity, sku, units, units * cost, event_at)
        return round_cents(units * cost)

    def adjust(self, entity: str, sku: str, units: int, event_at: int) -> float:
        """Signed stock adjustment at the moving average; returns the value it adds (signed)."""
        self._check_order(entity, event_at)
        return self.position(entity, sku).outbound(units, self.fallback(entity, sku)) / 100

    def outbound_value(self, entity: str, sku: str, units: int) -> float:
        """What issuing units now would take out of the stock, without issuing them."""
        p = self.position(entity, sku)
        probe = Position(p.units, p.average_cost, p.value_cents)
        return -probe.outbound(-units, self.fallback(entity, sku)) / 100

    def transfer_out(
        self, entity: str, sku: str, units: int, transfer_line: str, event_at: int
    ) -> float:
        """Cross-entity shipment at the sender's moving average; returns the value it takes
        out."""
        self._check_order(entity, event_at)
        self.transfer_unit_costs[transfer_line] = self.unit_cost(entity, sku)
        return -self.position(entity, sku).outbound(-units, self.fallback(entity, sku)) / 100

    def forget_issue_costs_before(self, line_id: int) -> None:
        """Keep memory flat: returns never cite lines older than the return window."""
        for old in [k for k in self.issue_unit_costs if k < line_id]:
            del self.issue_unit_costs[old]
