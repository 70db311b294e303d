"""Reference implementation of the moving-average cost policy of docs/glossary.md.

Deliberately plain and sequential: one event at a time, in the order the policy prescribes,
so that it can be read against the glossary line by line. The warehouse computes the same
figures set-based in SQL; tests compare the two.

Policy (per entity and SKU):
* inbound at a known cost (goods receipt at landed cost, cross-entity transfer in at the
  sender's cost converted, restocked customer return at its issue cost) re-averages:
  avg = (qty * avg + value) / (qty + units); when qty <= 0 before it, avg restarts at
  value / units;
* an issue for sale costs round(units * avg, 2) and leaves avg unchanged;
* a stock adjustment (shrink, damage, count correction) moves units at avg, avg unchanged;
* a transfer within an entity does not touch the entity's position;
* a cross-entity transfer out leaves at round(units * avg, 2) and the receiver takes it in at
  that unit cost converted with the rate of the shipment's business date;
* an issue before any inbound is costed at the latest purchase-order unit cost of the entity.
Events are applied in UTC timestamp order; at equal timestamps inbound events come first.
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


@dataclass
class Position:
    units: int = 0
    average_cost: float | None = None  # full precision, functional currency


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
        """Inbound at a known total value (full precision)."""
        self._check_order(entity, event_at)
        p = self.position(entity, sku)
        if p.units <= 0 or p.average_cost is None:
            p.average_cost = value / units
        else:
            p.average_cost = (p.units * p.average_cost + value) / (p.units + units)
        p.units += units

    def unit_cost(self, entity: str, sku: str) -> float:
        p = self.position(entity, sku)
        if p.average_cost is None:
            return self.fallback_costs[(entity, sku)]
        return p.average_cost

    def issue(self, entity: str, sku: str, units: int, line_id: int, event_at: int) -> float:
        """Issue for sale; returns the line's cost rounded to cents."""
        self._check_order(entity, event_at)
        cost = self.unit_cost(entity, sku)
        self.issue_unit_costs[line_id] = cost
        self.position(entity, sku).units -= units
        return round_cents(units * cost)

    def restock_return(
        self, entity: str, sku: str, units: int, original_line_id: int, event_at: int
    ) -> float:
        """Customer return put back to stock at its issue cost; returns the cost credited."""
        cost = self.issue_unit_costs[original_line_id]
        self.receive(entity, sku, units, units * cost, event_at)
        return round_cents(units * cost)

    def adjust(self, entity: str, sku: str, units: int, event_at: int) -> float:
        """Signed stock adjustment at the moving average; returns its value (signed)."""
        self._check_order(entity, event_at)
        cost = self.unit_cost(entity, sku)
        self.position(entity, sku).units += units
        return round_cents(units * cost)

    def transfer_out(
        self, entity: str, sku: str, units: int, transfer_line: str, event_at: int
    ) -> float:
        """Cross-entity shipment at the sender's moving average; returns its value."""
        self._check_order(entity, event_at)
        cost = self.unit_cost(entity, sku)
        self.transfer_unit_costs[transfer_line] = cost
        self.position(entity, sku).units -= units
        return round_cents(units * cost)

    def forget_issue_costs_before(self, line_id: int) -> None:
        """Keep memory flat: returns never cite lines older than the return window."""
        for old in [k for k in self.issue_unit_costs if k < line_id]:
            del self.issue_unit_costs[old]
