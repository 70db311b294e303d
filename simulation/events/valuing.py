"""The day's events priced by the sequential reference ledger (simulation/valuation.py), in
policy order: the truth's moving average cost."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation import kits
from simulation import world as w
from simulation.valuation import round_cents

if TYPE_CHECKING:
    from simulation.engine import DayOutput, Simulation


def value_events(sim: Simulation, d: int, out: DayOutput) -> None:
    """Price the day's events with the sequential reference ledger, in policy order."""
    events = out.event_frame()
    if events.empty:
        out.valued = events.assign(amount=[])  # type: ignore[attr-defined]
        return
    events["seq"] = np.arange(len(events))
    # the policy's order: time, inbound first, then location and event type (docs/glossary.md)
    events["location_id"] = w.LOCATIONS["location_id"].to_numpy()[events["location"].astype(int)]
    events = events.sort_values(
        ["event_at", "priority", "location_id", "event_type", "seq"], kind="stable"
    )
    amounts = np.zeros(len(events))
    ledger, skus = sim.ledger, sim.skus
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
            value = kits.finished_value(sim, ledger, entity, line)
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
        elif kind == "transfer_out" and sim.entity_of[to_loc] != entity:
            amounts[i] = ledger.transfer_out(entity, sku, -units, transfer, at)
        elif kind == "transfer_in" and sender != entity:
            unit = ledger.transfer_unit_costs.pop(transfer)
            rate = sim.rates.rate(shipped, w.ENTITY_CURRENCY[sender], w.ENTITY_CURRENCY[entity])
            value = units * unit * rate
            ledger.receive(entity, sku, units, value, at)
            amounts[i] = round_cents(value)
    events["amount"] = amounts
    out.valued = events.drop(columns=["seq", "location_id"])  # type: ignore[attr-defined]
