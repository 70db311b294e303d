"""The ERP's day: purchase orders placed and closed, goods received, stock transfers shipped
and received between locations (the ERP books both legs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulation import world as w
from simulation.money import round_half_up
from simulation.purchasing import OPEN
from simulation.valuation import INBOUND_PRIORITY

if TYPE_CHECKING:
    from simulation.engine import DayOutput, Simulation


def create_purchase_orders(
    sim: Simulation,
    d: int,
    loc: np.ndarray,
    sku: np.ndarray,
    units: np.ndarray,
    lead_days: np.ndarray,
    out: DayOutput,
) -> None:
    if len(sku) == 0:
        return
    entity = sim.entity_of[loc]
    ent_idx = sim.loc_entity_idx[loc]
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
            "cost": sim.costs[ent_idx, sku],
        }
    )
    sim.anomalies.creep_costs(sim, d, frame)
    frame = frame.sort_values(["supplier", "loc", "lead", "sku"], kind="stable")
    po_rows = []
    for (supplier_id, location, lead), group in frame.groupby(
        ["supplier", "loc", "lead"], sort=True
    ):
        po_number = f"PO{sim.next_id('po'):07d}"
        entity_code = sim.entity_of[location]
        for line_no, r in enumerate(group.itertuples(), start=1):
            po_rows.append(
                (
                    po_number,
                    line_no,
                    supplier_id,
                    entity_code,
                    w.LOCATIONS.location_id[location],
                    sim.skus[r.sku],
                    int(r.units),
                    float(r.cost),
                    w.ENTITY_CURRENCY[entity_code],
                    sim.config.day(d),
                    sim.config.day(d + int(lead)),
                    int(location),
                    int(r.sku),
                    int(lead),
                )
            )
            sim.ledger.fallback_costs[(entity_code, sim.skus[r.sku])] = float(r.cost)
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
    sim.purchasing.order(pos)
    np.add.at(
        sim.on_order,
        (pos["loc"].to_numpy(), pos["sku_idx"].to_numpy()),
        pos["ordered_units"].to_numpy(),
    )
    for lead, group in pos.groupby("lead"):
        sim.pending["receipts"][d + int(lead)].append(group)


def receive_purchase_orders(sim: Simulation, d: int, out: DayOutput) -> None:
    due = sim.pending["receipts"].pop(d, [])
    if not due:
        return
    lines = pd.concat(due, ignore_index=True)
    # first deliveries (back-orders of short ones deliver their rest: simulation/purchasing)
    first = np.ones(len(lines), bool)
    if "backorder" in lines:
        first = (~lines["backorder"].eq(True)).to_numpy()
    ordered = lines["ordered_units"].to_numpy()[first]
    full = sim.rng.random(len(ordered)) < 0.95
    received = lines["ordered_units"].to_numpy().astype(np.int64)
    if not first.all():
        received[~first] = lines["due_units"].to_numpy()[~first].astype(np.int64)
    received[first] = sim.purchasing.over_deliver(
        lines[first], np.where(full, ordered, np.maximum(1, (ordered * 0.9).astype(int)))
    )
    lines = lines.assign(received_units=received)
    on_order_change, backorders = sim.purchasing.receive(d, lines)
    for day, group in backorders:
        sim.pending["receipts"][day].append(group)
    hour_from = np.where(d == 0, 4.0, 5.0)
    rows = []
    for (_po_number, loc), group in lines.groupby(["po_number", "loc"], sort=True):
        receipt_number = f"GR{sim.next_id('gr'):07d}"
        t = sim.utc(loc, d, sim.local_times(1, hour_from, hour_from + 2.5))[0]
        goods = group["received_units"].to_numpy() * group["unit_cost"].to_numpy()
        entity = group["entity_code"].iloc[0]
        supplier = group["supplier_id"].iloc[0]
        freight = float(round_half_up(goods.sum() * w.FREIGHT_RATE))
        imported = w.SUPPLIER_COUNTRY[supplier] != w.ENTITY_COUNTRY[entity]
        if not sim.config.supplier_invoices:  # no charge invoice adds landed cost
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
    np.add.at(sim.on_hand, (loc, sku), units)
    np.add.at(sim.on_order, (lines["loc"].to_numpy(), lines["sku_idx"].to_numpy()), on_order_change)
    sim.events(
        out,
        event_at=receipts["received_at"].to_numpy(),
        priority=INBOUND_PRIORITY,
        business_date=sim.config.day(d),
        entity_code=receipts["entity_code"].to_numpy(),
        location=loc,
        sku=sku,
        event_type="receipt",
        on_hand_delta=units,
        value=receipts["landed_value"].to_numpy(),
        line_id=receipts["receipt_number"].to_numpy(),
    )
    receipts["business_date"] = sim.config.day(d)
    out.extracts["goods_receipts"].append(receipts)


def close_purchase_lines(sim: Simulation, d: int, out: DayOutput) -> None:
    """The buyer closes the rest of short-delivered lines: change records in the ERP."""
    records, change = sim.purchasing.close(d, sim.config.day(d))
    if len(records):
        out.extracts["erp_purchase_orders"].append(records)
        np.add.at(sim.on_order, (records["loc"].to_numpy(), records["sku_idx"].to_numpy()), change)


def ship_transfers(
    sim: Simulation,
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
        number = f"TO{sim.next_id('to'):07d}"
        ship_at = sim.utc(s, d, sim.local_times(1, 15, 17))[0]
        cross = sim.entity_of[s] != sim.entity_of[t]
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
    np.subtract.at(sim.on_hand, (lines["src"], lines["sku"]), lines["units"])
    np.add.at(sim.in_transit, (lines["dst"], lines["sku"]), lines["units"])
    key = lines["transfer_number"] + "-" + lines["transfer_line_number"].astype(str)
    sim.events(
        out,
        event_at=lines["ship_at"].to_numpy(),
        business_date=sim.config.day(d),
        entity_code=sim.entity_of[lines["src"]],
        location=lines["src"].to_numpy(),
        sku=lines["sku"].to_numpy(),
        event_type="transfer_out",
        on_hand_delta=-lines["units"].to_numpy(),
        in_transit_delta=lines["units"].to_numpy(),
        in_transit_location=lines["dst"].to_numpy(),
        transfer_line=key.to_numpy(),
        ship_date=sim.config.day(d),
    )
    lines["ship_date"] = sim.config.day(d)
    out.extracts["transfers_shipped"].append(lines.assign(event_at=lines["ship_at"]))
    for arrive_day, group in lines.groupby("arrive_day"):
        sim.pending["transfers"][int(arrive_day)].append(group)


def receive_transfers(sim: Simulation, d: int, out: DayOutput) -> None:
    due = sim.pending["transfers"].pop(d, [])
    if not due:
        return
    lines = pd.concat(due, ignore_index=True)
    arrive = np.zeros(len(lines), dtype=np.int64)
    for dst, idx in lines.groupby("dst").groups.items():
        arrive[lines.index.get_indexer(idx)] = sim.utc(dst, d, sim.local_times(1, 6, 7))[0]
    lines = lines.assign(event_at=arrive)
    np.add.at(sim.on_hand, (lines["dst"], lines["sku"]), lines["units"])
    np.subtract.at(sim.in_transit, (lines["dst"], lines["sku"]), lines["units"])
    key = lines["transfer_number"] + "-" + lines["transfer_line_number"].astype(str)
    sim.events(
        out,
        event_at=arrive,
        priority=INBOUND_PRIORITY,
        business_date=sim.config.day(d),
        entity_code=sim.entity_of[lines["dst"]],
        location=lines["dst"].to_numpy(),
        sku=lines["sku"].to_numpy(),
        event_type="transfer_in",
        on_hand_delta=lines["units"].to_numpy(),
        in_transit_delta=-lines["units"].to_numpy(),
        in_transit_location=lines["dst"].to_numpy(),
        transfer_line=key.to_numpy(),
        from_entity_code=sim.entity_of[lines["src"]],
        ship_date=lines["ship_date"].to_numpy(),
    )
    out.extracts["transfers_received"].append(lines)
