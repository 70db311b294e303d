"""The webshop's order events (placed, paid, shipped, cancelled, refunded) as JSON lines, some
paid and shipped events reaching the next day's file."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulation import world as w

if TYPE_CHECKING:
    from simulation.deliver import Deliverer
    from simulation.engine import DayOutput

FIRST_NAMES = ["Ava", "Ben", "Chloe", "David", "Emma", "Felix", "Grace", "Hugo", "Isla", "Jonas"]
LAST_NAMES = ["Smith", "Muller", "Jones", "Schmidt", "Brown", "Fischer", "Taylor", "Weber"]


def customer_email(customer_ids: pd.Series) -> np.ndarray:
    """The e-mail address the webshop holds for each customer number (C0001234)."""
    number = customer_ids.str[1:].astype(int).to_numpy()
    first = np.array(FIRST_NAMES)[number % len(FIRST_NAMES)]
    last = np.array(LAST_NAMES)[number % len(LAST_NAMES)]
    return (
        (
            pd.Series(first)
            + "."
            + pd.Series(last)
            + "."
            + customer_ids.str[1:].to_numpy()
            + "@example.com"
        )
        .str.lower()
        .to_numpy()
    )


def webshop_events(dlv: Deliverer, d: int, out: DayOutput) -> None:
    events: list[dict] = list(out.extracts.get("web_events", []))
    variant = dlv.products["variant_sku"].to_numpy()
    for orders, lines in out.extracts.get("web_placed", []):
        order_lines: dict[str, list[dict]] = defaultdict(list)
        line_records = pd.DataFrame(
            {
                "order_id": lines["order_id"],
                "line_number": lines["line_number"],
                "variant_sku": variant[lines["sku"]],
                "quantity": lines["units"],
                "unit_price": lines["unit_price"],
                "line_discount_amount": lines["line_discount"],
                "tax_amount": lines["tax"],
            }
        ).to_dict("records")
        for record in line_records:
            order_lines[record.pop("order_id")].append(record)
        number = orders["customer_id"].str[1:].astype(int)
        first = np.array(FIRST_NAMES)[number % len(FIRST_NAMES)]
        last = np.array(LAST_NAMES)[number % len(LAST_NAMES)]
        frame = pd.DataFrame(
            {
                "order_id": orders["order_id"],
                "event_at": orders["placed_at"].astype(int),
                "currency_code": [w.ENTITY_CURRENCY[e] for e in dlv.sim.entity_of[orders["loc"]]],
                "customer_id": orders["customer_id"],
                "email": customer_email(orders["customer_id"]),
                "full_name": pd.Series(first) + " " + pd.Series(last),
                "phone": "+1555" + orders["customer_id"].str[1:].str.zfill(7),
                "fulfillment_location_id": dlv.loc_ids[orders["loc"]],
                "order_discount_amount": orders["order_discount"].astype(float),
                "shipping_amount": orders["shipping"].astype(float),
                "paid_at": orders["placed_at"].astype(int) + 60 + orders["order_seq"] % 1700,
            }
        )
        for o in frame.to_dict("records"):
            events.append(
                {
                    "event_type": "placed",
                    "event_at": o["event_at"],
                    "order_id": o["order_id"],
                    "currency_code": o["currency_code"],
                    "customer": {
                        "customer_id": o["customer_id"],
                        "email": o["email"],
                        "full_name": o["full_name"],
                        "phone": o["phone"],
                    },
                    "fulfillment_location_id": o["fulfillment_location_id"],
                    "order_discount_amount": o["order_discount_amount"],
                    "shipping_amount": o["shipping_amount"],
                    "lines": order_lines[o["order_id"]],
                }
            )
            events.append(
                {
                    "event_type": "paid",
                    "order_id": o["order_id"],
                    "event_at": o["paid_at"],
                    "currency_code": o["currency_code"],
                }
            )
    # webshop and wholesale orders are picked at the DC
    picked = [dlv.frames(out, key) for key in ("web_shipped", "wholesale_shipped")]
    picked = [f for f in picked if not f.empty]
    shipped = pd.concat(picked, ignore_index=True) if picked else pd.DataFrame()
    if not shipped.empty:
        first_line = shipped.drop_duplicates("order_id")
        for o in pd.DataFrame(
            {
                "order_id": first_line["order_id"],
                "event_at": first_line["event_at"].astype(int),
                "currency_code": [
                    w.ENTITY_CURRENCY[e] for e in dlv.sim.entity_of[first_line["loc"]]
                ],
                "ship_from_location_id": dlv.loc_ids[first_line["loc"]],
            }
        ).to_dict("records"):
            events.append({"event_type": "shipped", **o})
    refunded = dlv.frames(out, "web_refunded")
    if not refunded.empty:
        refund_lines: dict[str, list[dict]] = defaultdict(list)
        for record in pd.DataFrame(
            {
                "order_id": refunded["order_id"],
                "line_number": refunded["line_number"],
                "quantity": refunded["units"],
                "refund_amount": refunded["refund_amount"],
                "refund_tax_amount": refunded["tax"],
                "restock": refunded["restock"].astype(bool),
            }
        ).to_dict("records"):
            refund_lines[record.pop("order_id")].append(record)
        first_line = refunded.drop_duplicates("order_id")
        for o in pd.DataFrame(
            {
                "order_id": first_line["order_id"],
                "event_at": first_line["event_at"].astype(int),
                "currency_code": [
                    w.ENTITY_CURRENCY[e] for e in dlv.sim.entity_of[first_line["loc"]]
                ],
            }
        ).to_dict("records"):
            events.append(
                {"event_type": "refunded", **o, "refund_lines": refund_lines[o["order_id"]]}
            )
    events.sort(key=lambda e: (e["event_at"], e["order_id"], e["event_type"]))
    for e in events:
        e["event_id"] = f"EV{dlv.sim.next_id('event'):09d}"
    events = delay_webshop_events(dlv, d, events)
    dlv.write_file("webshop_order_events", d, events)


def delay_webshop_events(dlv: Deliverer, d: int, events: list[dict]) -> list[dict]:
    """Out-of-order delivery: some paid/shipped events reach a later day's file."""
    movable = [i for i, e in enumerate(events) if e["event_type"] in ("paid", "shipped")]
    n = dlv.plan.take("out_of_order_webshop_event", d, len(movable))
    for j in sorted(
        dlv.plan.rng.choice(len(movable), size=n, replace=False).tolist(), reverse=True
    ):
        event = events.pop(movable[j])
        later = d + 1
        dlv.later["web_events"][later].append(event)
        file = dlv.writer.path_for(
            dlv.writer.contract["webshop_order_events"],
            dlv.config.day(later),
            dlv.config.day(later),
        )
        dlv.plan.record(
            "out_of_order_webshop_event",
            "webshop",
            "webshop_order_events",
            dlv.writer.relative(file),
            event_id=event["event_id"],
            order_id=event["order_id"],
            event_type=event["event_type"],
            event_date=dlv.config.day(d).isoformat(),
        )
    # late events are appended at the top of the next file, before the day's own events
    return dlv.later["web_events"].pop(d, []) + events
