"""The day's events priced by the sequential reference ledger (simulation/valuation.py), in
policy order: the truth's moving average cost."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from simulation import kits
from simulation import world as w
from simulation.valuation import round_cents

if TYPE_CHECKING:
    from simulation.engine import DayOutput, Simulation
    from simulation.valuation import ValuationLedger


def value_events(sim: Simulation, d: int, out: DayOutput) -> None:
    """Price the day's events with the sequential reference ledger, in policy order."""
    events = out.event_frame()
    if events.empty:
        out.valued = events.assign(amount=[])  # type: ignore[attr-defined]
        return
    events["seq"] = np.arange(len(events))
    # the policy's order (docs/glossary.md, "Order and rounding"): time, inbound first, then
    # location and event type; the warehouse then orders by source system, document, line
    # number and event id, here the generation order (seq) stands in for them. It is that order
    # within one source's documents of a day (numbered as generated, lines in line order), not
    # across sources nor for webshop refunds: at a DC the webshop's issues and restocked returns
    # are generated before wholesale's ('erp' sorts first in the warehouse), and webshop refunds
    # are appended by shipping day, a serial returner's last (the warehouse: by order id). Two
    # such events of a SKU at the same second could split a cent differently here and in the
    # warehouse; the tests compare both exactly on their worlds, where that would show.
    events["location_id"] = w.LOCATIONS["location_id"].to_numpy()[events["location"].astype(int)]
    events = events.sort_values(
        ["event_at", "priority", "location_id", "event_type", "seq"], kind="stable"
    )
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
    rows = list(zip(*(events[c].tolist() for c in columns), strict=True))
    amounts = np.zeros(len(rows))
    at = events["event_at"].to_numpy()  # sorted: the policy's order starts with the time
    done = 0
    for second in np.unique(at[events["event_type"].to_numpy() == "production_receipt"]):
        first, end = np.searchsorted(at, second, "left"), np.searchsorted(at, second, "right")
        for i in range(done, first):
            amounts[i] = apply_event(sim, rows[i], None)
        # a second with work order completions: the kits enter stock (inbound first) at the
        # values their components actually take out later in that second, one after the other
        # in policy order (docs/decisions.md, "Kits: work order completions"); so apply the
        # second once to learn those values, then again from where it started
        saved = save_positions(ledger, [(rows[i][1], skus[rows[i][2]]) for i in range(first, end)])
        for i in range(first, end):
            amounts[i] = apply_event(sim, rows[i], None)
        consumed: dict[str, float] = {}
        for i in range(first, end):
            if rows[i][0] == "production_issue":
                consumed[rows[i][6]] = consumed.get(rows[i][6], 0.0) + amounts[i]
        restore_positions(ledger, saved)
        for i in range(first, end):
            amounts[i] = apply_event(sim, rows[i], consumed)
        done = end
    for i in range(done, len(rows)):
        amounts[i] = apply_event(sim, rows[i], None)
    events["amount"] = amounts
    out.valued = events.drop(columns=["seq", "location_id"])  # type: ignore[attr-defined]


def save_positions(ledger: ValuationLedger, keys: list[tuple[str, str]]) -> tuple:
    """What applying events to these positions changes: the positions and the costs of the
    transfers in flight (a transfer in takes its sender's cost out of the book)."""
    positions = {k: replace(ledger.positions[k]) for k in set(keys) if k in ledger.positions}
    return set(keys), positions, dict(ledger.transfer_unit_costs)


def restore_positions(ledger: ValuationLedger, saved: tuple) -> None:
    keys, positions, transfers = saved
    for key in keys:
        ledger.positions.pop(key, None)
    ledger.positions.update(positions)
    ledger.transfer_unit_costs = transfers


def apply_event(sim: Simulation, row: tuple, consumed: dict[str, float] | None) -> float:
    """Apply one event to the reference ledger; return its amount. consumed: the value each work
    order's components take out (None while it is not known: its kits then enter at zero)."""
    ledger = sim.ledger
    kind, entity, sku_index, units, at, value, line, to_loc, transfer, sender, shipped = row
    sku = sim.skus[sku_index]
    if kind in ("receipt", "opening_balance", "adjustment_at_cost"):
        ledger.receive(entity, sku, units, value, at)
        return round_cents(value)
    if kind == "production_receipt":
        value = 0.0 if consumed is None else kits.finished_value(sim, line, consumed[line])
        ledger.receive(entity, sku, units, value, at)
        return round_cents(value)
    if kind == "production_issue":
        return -ledger.adjust(entity, sku, units, at)
    if kind == "issue":
        return ledger.issue(entity, sku, -units, line, at)
    if kind == "return_restock":
        return ledger.restock_return(entity, sku, units, line, at)
    if kind == "adjustment":
        return ledger.adjust(entity, sku, units, at)
    if kind == "transfer_out" and sim.entity_of[to_loc] != entity:
        return ledger.transfer_out(entity, sku, -units, transfer, at)
    if kind == "transfer_in" and sender != entity:
        unit = ledger.transfer_unit_costs.pop(transfer)
        rate = sim.rates.rate(shipped, w.ENTITY_CURRENCY[sender], w.ENTITY_CURRENCY[entity])
        value = units * unit * rate
        ledger.receive(entity, sku, units, value, at)
        return round_cents(value)
    return 0.0
