"""A small kit line (issue 13): a few kit SKUs are assembled at DC1 from two or three component
SKUs each, on in every world. Each work order completion consumes the components at their moving
average and receives the kits at the sum of those costs plus the conversion cost (labour and
packaging) the work order states, if any (docs/decisions.md, "Kits: work order completions").

Everything here draws from the module's own random streams, so that no existing draw moves: the
kit definitions from [seed, RNG_STREAM], each day's work orders from [seed, RNG_STREAM, day].
A kit SKU is an ordinary SKU of the product master that is also bought; a component is never a
kit. Work orders complete at KIT_LOCAL_SECONDS local time, when no other DC event of the day is
booked, and only with the components available (on hand less reserved and quarantined).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulation import world as w
from simulation.valuation import INBOUND_PRIORITY, OTHER_PRIORITY

if TYPE_CHECKING:
    from simulation.deliver import Deliverer
    from simulation.engine import DayOutput, Simulation

RNG_STREAM = 1303
EXTRACT = "erp_work_order_completions"
KIT_LOCATION = "DC1"
N_KITS = 3
ORDER_PROBABILITY = 0.4  # per kit and day
KIT_LOCAL_SECONDS = 17 * 3600 + 2700  # 17:45 local
CONVERSION_SHARE = 0.5  # share of work orders that state a conversion cost
CONVERSION_PER_KIT = (0.50, 2.50)  # functional currency per kit, drawn per work order


@dataclass(frozen=True)
class Kit:
    sku: int
    components: tuple[tuple[int, int], ...]  # (component sku index, units per kit)


@dataclass(frozen=True)
class WorkOrder:
    kit: Kit
    kits: int
    conversion_cost: float | None


def kit_definitions(sim: Simulation) -> list[Kit]:
    """The kits and their bills of materials: N_KITS SKUs, 2 or 3 other SKUs each."""
    rng = np.random.default_rng([sim.config.seed, RNG_STREAM])
    chosen = rng.choice(sim.n_sku, size=N_KITS, replace=False)
    others = np.setdiff1d(np.arange(sim.n_sku), chosen)
    kits = []
    for sku in chosen:
        parts = rng.choice(others, size=int(rng.integers(2, 4)), replace=False)
        per_kit = rng.integers(1, 3, len(parts))
        kits.append(
            Kit(int(sku), tuple((int(p), int(u)) for p, u in zip(parts, per_kit, strict=True)))
        )
    return kits


def complete_work_orders(sim: Simulation, d: int, out: DayOutput) -> None:
    """The day's work order completions at the kit location."""
    if d == 0:
        return  # the opening day has its own stock
    rng = np.random.default_rng([sim.config.seed, RNG_STREAM, d])
    loc = int(w.LOCATION_INDEX[KIT_LOCATION])
    entity = sim.entity_of[loc]
    at = int(sim.utc(loc, d, np.array([KIT_LOCAL_SECONDS]))[0])
    rows = []
    for kit in sim.kits:
        if rng.random() >= ORDER_PROBABILITY:
            continue
        kits = int(rng.integers(1, 4))
        rate = rng.uniform(*CONVERSION_PER_KIT)
        stated = rng.random() < CONVERSION_SHARE
        parts = np.array([p for p, _ in kit.components])
        needed = np.array([u for _, u in kit.components]) * kits
        available = sim.on_hand[loc, parts] - sim.reserved[loc, parts] - sim.quarantined[loc, parts]
        if (available < needed).any():
            continue
        number = f"WO{sim.next_id('work_order'):07d}"
        conversion = round(kits * rate, 2) if stated else None
        sim.work_orders[number] = WorkOrder(kit, kits, conversion)
        sim.on_hand[loc, parts] -= needed
        sim.on_hand[loc, kit.sku] += kits
        sku = np.concatenate([[kit.sku], parts])
        delta = np.concatenate([[kits], -needed])
        sim.events(
            out,
            event_at=at,
            priority=np.where(delta > 0, INBOUND_PRIORITY, OTHER_PRIORITY),
            business_date=sim.config.day(d),
            entity_code=entity,
            location=np.full(len(sku), loc),
            sku=sku,
            event_type=np.where(delta > 0, "production_receipt", "production_issue"),
            on_hand_delta=delta,
            line_id=number,
        )
        for line, (s, units) in enumerate(zip(sku, delta, strict=True), start=1):
            rows.append(
                {
                    "work_order_number": number,
                    "line_number": line,
                    "location_id": KIT_LOCATION,
                    "completed_at": at,
                    "line_role": "output" if units > 0 else "component",
                    "sku": sim.skus[s],
                    "units": abs(int(units)),
                    "conversion_cost": conversion if units > 0 else None,
                }
            )
    if rows:
        out.extracts[EXTRACT].append(pd.DataFrame(rows))


def finished_value(sim: Simulation, number: str, consumed: float) -> float:
    """What the kits of a work order enter stock at: the value its component lines actually
    take out of the entity's stock (each rounded to cents as the ledger posts it; consumed), plus
    the stated conversion cost."""
    return consumed + (sim.work_orders[number].conversion_cost or 0.0)


def production_journal(valued: pd.DataFrame, sim: Simulation) -> list[tuple[str, float]]:
    """The ERP's inventory batch lines of the day's work orders (account role, signed amount):
    components to work in process, kits from it, the conversion cost absorbed."""
    consumed = valued.loc[valued["event_type"] == "production_issue", "amount"].sum()
    receipts = valued[valued["event_type"] == "production_receipt"]
    produced = receipts["amount"].sum()
    conversion = sum(sim.work_orders[n].conversion_cost or 0.0 for n in receipts["line_id"])
    return [
        ("work_in_process", consumed),
        ("inventory", -consumed),
        ("inventory", produced),
        ("work_in_process", -(produced - conversion)),
        ("production_absorption", -conversion),
    ]


def deliver_work_orders(deliverer: Deliverer, d: int, out: DayOutput) -> None:
    """One file per business date, header only on a day without completions."""
    columns = deliverer.writer.contract[EXTRACT].column_names
    frame = deliverer.frames(out, EXTRACT)
    deliverer.write_file(EXTRACT, d, frame.reindex(columns=columns))
